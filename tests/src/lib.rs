//! The harness of Gatehouse's black-box tests: a real app on port 0 over a fresh database,
//! SQLite (a temporary file) or PostgreSQL (a fresh database on the server named by
//! `GATEHOUSE_TEST_PG_URL`), and helpers to make users, keys and GraphQL calls.
//!
//! Every test that touches the database runs on both backends through [`backend_tests!`]; the
//! PostgreSQL variants live in modules named `postgres`, which the test script runs against a
//! throwaway server (`scripts/test.sh`).

pub mod clips;
pub mod usage;
pub mod web;

use std::time::Duration;

use gatehouse::config::{Config, Overrides};
use gatehouse::{RunningApp, spawn_with_clock};
use gatehouse_core::audit::Actor;
use gatehouse_core::auth::app_keys::{self, NewAppKey};
use gatehouse_core::auth::{KeyScopes, Role, users};
use gatehouse_core::clock::Clock;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The environment variable naming a PostgreSQL server the tests may create databases on, as a
/// URL to its maintenance database (e.g. `postgres://postgres@127.0.0.1:5433/postgres`).
pub const PG_URL_ENV: &str = "GATEHOUSE_TEST_PG_URL";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

/// A database that exists for one test and is removed after it.
#[derive(Debug)]
pub struct TestDb {
    /// The URL the app connects with.
    pub url: String,
    /// Keeps the SQLite file's directory alive.
    pub dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// Creates a fresh, empty database.
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("gatehouse.db").display());
                Self {
                    url,
                    dir: Some(dir),
                    pg: None,
                }
            }
            Backend::Postgres => {
                let admin = std::env::var(PG_URL_ENV).unwrap_or_else(|_| {
                    panic!(
                        "{PG_URL_ENV} is not set: the PostgreSQL variants of the tests need a \
                         server; run scripts/test.sh, which starts one"
                    )
                });
                let name = format!("gh_test_{}", uuid::Uuid::new_v4().simple());
                let conn = sea_orm::Database::connect(&admin)
                    .await
                    .expect("connect to the test PostgreSQL server");
                use sea_orm::ConnectionTrait;
                conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create the test database");
                conn.close().await.ok();
                let mut url = url::Url::parse(&admin).expect("valid PostgreSQL URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    dir: None,
                    pg: Some((admin, name)),
                }
            }
        }
    }

    /// Makes the database disappear under a running app: the SQLite file is deleted, the
    /// PostgreSQL database dropped (connections terminated).
    pub async fn destroy_now(&mut self) {
        if let Some(dir) = &self.dir {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(dir.path().join(format!("gatehouse.db{suffix}")));
            }
        }
        if let Some((admin, name)) = self.pg.take() {
            drop_pg(&admin, &name).await;
        }
    }
}

async fn drop_pg(admin: &str, name: &str) {
    use sea_orm::ConnectionTrait;
    if let Ok(conn) = sea_orm::Database::connect(admin).await {
        let _ = conn
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        conn.close().await.ok();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(drop_pg(&admin, &name));
                }
            })
            .join();
        }
    }
}

/// A running Gatehouse over its own database.
#[derive(Debug)]
pub struct TestApp {
    /// The app.
    pub app: RunningApp,
    /// Its database.
    pub db: TestDb,
    /// A client without cookies.
    pub client: reqwest::Client,
    /// The backend.
    pub backend: Backend,
}

/// A user made for a test, with the password to sign in.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Id.
    pub id: uuid::Uuid,
    /// Email.
    pub email: String,
    /// Password.
    pub password: String,
}

impl TestApp {
    /// Starts the app on port 0 with the default configuration.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, "").await
    }

    /// Starts the app with extra TOML configuration.
    pub async fn start_with(backend: Backend, toml: &str) -> Self {
        Self::start_with_clock(backend, toml, Clock::system()).await
    }

    /// Starts the app with extra TOML configuration on `clock`: with a manual clock the test
    /// moves Gatehouse's time (`app.services.clock.advance(...)`) instead of waiting for it.
    pub async fn start_with_clock(backend: Backend, toml: &str, clock: Clock) -> Self {
        let db = TestDb::create(backend).await;
        let overrides = Overrides {
            listen: Some("127.0.0.1:0".parse().expect("address")),
            database_url: Some(db.url.clone()),
            log_format: None,
        };
        let config = Config::from_toml(toml, &overrides).expect("test configuration is valid");
        let app = spawn_with_clock(config, clock)
            .await
            .expect("the app starts");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            app,
            db,
            client,
            backend,
        }
    }

    /// An absolute URL on the app.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.url())
    }

    /// Creates a user with a role.
    pub async fn create_user(&self, role: Role) -> TestUser {
        let email = format!("{}-{}@example.com", role, uuid::Uuid::new_v4().simple());
        let password = "correct horse battery staple".to_owned();
        let user = users::create_user(&self.app.services.db, &Actor::Cli, &email, role, &password)
            .await
            .expect("user created");
        TestUser {
            id: user.id,
            email: user.email,
            password,
        }
    }

    /// Creates an app key with scopes; returns the key.
    pub async fn create_key(&self, scopes: KeyScopes) -> (uuid::Uuid, String) {
        self.create_key_with(NewAppKey {
            name: "test key".into(),
            scopes,
            ..NewAppKey::default()
        })
        .await
    }

    /// Creates an app key from a full description.
    pub async fn create_key_with(&self, new: NewAppKey) -> (uuid::Uuid, String) {
        let (info, key) = app_keys::create(&self.app.services.db, &Actor::Cli, new)
            .await
            .expect("key created");
        (info.id, key)
    }

    /// POSTs a GraphQL operation with an optional app key; returns status and body.
    pub async fn graphql(
        &self,
        key: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Signs a user in through the login form; returns a client holding the session cookie and
    /// the session's CSRF token.
    pub async fn sign_in(&self, user: &TestUser) -> (reqwest::Client, String) {
        let client = browser_client();
        let csrf = sign_in_at(&client, &self.app.url(), &user.email, &user.password).await;
        (client, csrf)
    }

    /// POSTs a GraphQL operation with a key and `extensions`; returns status and body.
    pub async fn graphql_ext(
        &self,
        key: &str,
        query: &str,
        variables: Value,
        extensions: Value,
    ) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(key)
            .json(&json!({ "query": query, "variables": variables, "extensions": extensions }))
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Signs a user in and returns a session that sends GraphQL with the cookie and the CSRF
    /// header.
    pub async fn session(&self, user: &TestUser) -> Session {
        let (client, csrf) = self.sign_in(user).await;
        Session {
            client,
            csrf,
            url: self.url("/graphql"),
        }
    }

    /// Stops the app gracefully.
    pub async fn stop(self) {
        self.app.stop().await.expect("graceful stop");
    }
}

/// A signed-in user's session.
#[derive(Debug, Clone)]
pub struct Session {
    client: reqwest::Client,
    csrf: String,
    url: String,
}

impl Session {
    /// POSTs a GraphQL operation; returns the raw response body (for leak checks).
    pub async fn graphql_text(&self, query: &str, variables: Value) -> String {
        self.client
            .post(&self.url)
            .header("x-csrf-token", &self.csrf)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent")
            .text()
            .await
            .expect("response body")
    }

    /// POSTs a GraphQL operation; returns the parsed body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        let text = self.graphql_text(query, variables).await;
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON body: {text}"))
    }
}

/// A client that keeps cookies and does not follow redirects, as a test of the web UI wants:
/// each redirect is an answer to look at.
pub fn browser_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Signs in through the login form of the Gatehouse at `base_url` (an app in this process or
/// a `gatehouse serve` process) with a client that keeps cookies; returns the CSRF token of the
/// session, as the signed-in layout carries it.
pub async fn sign_in_at(
    client: &reqwest::Client,
    base_url: &str,
    email: &str,
    password: &str,
) -> String {
    let page = client
        .get(format!("{base_url}/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("login html");
    let csrf = hidden_field(&page, "csrf").expect("csrf field on the login form");
    let response = client
        .post(format!("{base_url}/login"))
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .expect("login posted");
    assert!(
        response.status().is_redirection(),
        "sign-in succeeds: {}",
        response.status()
    );
    let home = client
        .get(format!("{base_url}/"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("home html");
    hidden_field(&home, "csrf").expect("csrf on the signed-in layout")
}

/// The value of a hidden form field in an HTML page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The `extensions.code` of the first error of a GraphQL response body.
pub fn first_error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// Generates one `#[tokio::test]` per backend for each listed `async fn name(backend: Backend)`,
/// in modules `sqlite` and `postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await;
                }
            )*
        }
    };
}

/// Gatehouse in front of an in-process simulator, with a read-write upstream token per project.
#[derive(Debug)]
pub struct SimApp {
    /// The app.
    pub app: TestApp,
    /// The simulator.
    pub sim: synchro_sim::SimHandle,
    /// The simulator's project ids.
    pub projects: Vec<String>,
}

impl SimApp {
    /// Starts a simulator with `sim_config` and the app with `extra_toml` (sections other than
    /// `[upstream]`) and `upstream_toml` (keys of `[upstream]`), pointed at it.
    pub async fn start(
        backend: Backend,
        sim_config: synchro_sim::SimConfig,
        extra_toml: &str,
        upstream_toml: &str,
    ) -> Self {
        Self::start_with_clock(
            backend,
            sim_config,
            extra_toml,
            upstream_toml,
            Clock::system(),
        )
        .await
    }

    /// [`SimApp::start`] with the app on `clock`.
    pub async fn start_with_clock(
        backend: Backend,
        sim_config: synchro_sim::SimConfig,
        extra_toml: &str,
        upstream_toml: &str,
        clock: Clock,
    ) -> Self {
        let sim = synchro_sim::spawn(sim_config, "127.0.0.1:0".parse().expect("address"))
            .await
            .expect("simulator starts");
        let mut tokens = String::from("[upstream.tokens]\n");
        let mut projects = Vec::new();
        for project in sim.projects() {
            let token = sim
                .create_token(project.id, synchro_sim::Scope::ReadWrite)
                .await;
            tokens.push_str(&format!("\"{}\" = \"{token}\"\n", project.id));
            projects.push(project.id.to_string());
        }
        let toml = format!(
            "{extra_toml}\n[upstream]\nbase_url = \"{}\"\n{upstream_toml}\n{tokens}",
            sim.base_url()
        );
        let app = TestApp::start_with_clock(backend, &toml, clock).await;
        Self { app, sim, projects }
    }

    /// Upstream calls the simulator has answered since the last reset.
    pub async fn upstream_calls(&self) -> u64 {
        self.sim.stats().await.total
    }

    /// Stops both.
    pub async fn stop(self) {
        self.app.stop().await;
        self.sim.shutdown().await;
    }
}
