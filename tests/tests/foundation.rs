//! The foundation, black-box: GraphQL over HTTP, limits, readiness, sign-in, app keys, role
//! guards and the audit log, on SQLite and PostgreSQL.

use chrono::Utc;
use gatehouse_compliance::Entity;
use gatehouse_core::auth::app_keys::NewAppKey;
use gatehouse_core::auth::{Access, KeyScopes, Role};
use gatehouse_core::clock::Clock;
use gatehouse_tests::{Backend, TestApp, backend_tests, first_error_code, hidden_field};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn read_activities() -> KeyScopes {
    KeyScopes::new(vec!["*".into()], [(Entity::Activity, Access::Read)])
}

async fn queries_work_over_post_and_get(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, key) = app.create_key(read_activities()).await;

    let (status, body) = app
        .graphql(Some(&key), "{ me { kind appKey { name } } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["me"]["kind"], "APP_KEY");
    assert_eq!(body["data"]["me"]["appKey"]["name"], "test key");

    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            ("query", "query Who { me { kind } }"),
            ("operationName", "Who"),
        ])
        .bearer_auth(&key)
        .header("accept", "application/graphql-response+json")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/graphql-response+json")
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"]["me"]["kind"], "APP_KEY");

    let (status, body) = app.graphql(None, "{ me { kind } }", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"]["me"],
        Value::Null,
        "anonymous callers are nobody"
    );
    app.stop().await;
}

async fn a_mutation_over_get_is_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { revokeAppKey(id: \"x\") { id } }")])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
    let body: Value = response.json().await.expect("json");
    assert_eq!(first_error_code(&body), Some("METHOD_NOT_ALLOWED"));
    app.stop().await;
}

async fn malformed_requests_get_a_clear_4xx_with_a_code(backend: Backend) {
    let app = TestApp::start(backend).await;
    let post_raw = |body: String, content_type: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let response = post_raw("{\"query\": ".into(), "application/json")
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(first_error_code(&body), Some("BAD_REQUEST"), "{body}");

    let (status, body) = app.graphql(None, "{ me { kind ", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        first_error_code(&body),
        Some("GRAPHQL_PARSE_FAILED"),
        "{body}"
    );

    let (status, body) = app.graphql(None, "{ me { noSuchField } }", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        first_error_code(&body),
        Some("GRAPHQL_VALIDATION_FAILED"),
        "{body}"
    );

    let (status, body) = app
        .graphql(None, "{ me { appKey { scopes { projects } } } }", json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a query within the depth limit runs: {body}"
    );
    let mut deep = String::from("{ a");
    for _ in 0..15 {
        deep.push_str(" { a");
    }
    deep.push_str(&" }".repeat(16));
    let (status, body) = app.graphql(None, &deep, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(first_error_code(&body), Some("QUERY_TOO_DEEP"), "{body}");

    // The server answers before reading the whole body and closes the connection: send it on a
    // client of its own so that no pooled connection is shared with the requests after it.
    let huge = format!(
        "{{\"query\": \"{{ me {{ kind }} }}\", \"pad\": \"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let response = reqwest::Client::new()
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.expect("json");
    assert_eq!(first_error_code(&body), Some("PAYLOAD_TOO_LARGE"));

    let long_query = format!("{{ me {{ kind }} }} # {}", "x".repeat(40 * 1024));
    let (status, body) = app.graphql(None, &long_query, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(first_error_code(&body), Some("QUERY_TOO_LARGE"));

    let response = post_raw("query".into(), "text/plain").await.expect("sent");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "text/csv")
        .json(&json!({"query": "{ me { kind } }"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
    app.stop().await;
}

async fn readiness_turns_503_when_the_database_is_gone(backend: Backend) {
    let mut app = TestApp::start(backend).await;
    let response = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);

    app.db.destroy_now().await;
    let response = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let response = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK, "the process is still up");
    app.stop().await;
}

async fn sign_in_works_and_a_wrong_password_does_not(backend: Backend) {
    let app = TestApp::start(backend).await;
    let user = app.create_user(Role::Contact).await;
    let (client, csrf) = app.sign_in(&user).await;
    let response = client
        .post(app.url("/graphql"))
        .json(&json!({"query": "{ me { kind email role } }"}))
        .send()
        .await
        .expect("sent");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"]["me"]["email"], user.email.as_str());
    assert_eq!(body["data"]["me"]["role"], "CONTACT");

    // A mutation with the session cookie but without the CSRF header is refused.
    let response = client
        .post(app.url("/graphql"))
        .json(&json!({"query": "mutation { revokeAppKey(id: \"00000000-0000-0000-0000-000000000000\") { id } }"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.expect("json");
    assert_eq!(first_error_code(&body), Some("CSRF_FAILED"));
    assert!(!csrf.is_empty());

    let stranger = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let page = stranger
        .get(app.url("/login"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let token = hidden_field(&page, "csrf").expect("csrf");
    let response = stranger
        .post(app.url("/login"))
        .form(&[
            ("email", user.email.as_str()),
            ("password", "wrong password!!"),
            ("csrf", &token),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = response.text().await.expect("html");
    assert!(html.contains("Wrong email or password"));
    assert!(html.contains(&user.email), "the email typed is kept");

    // Without the CSRF token the form is refused.
    let response = stranger
        .post(app.url("/login"))
        .form(&[
            ("email", user.email.as_str()),
            ("password", user.password.as_str()),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

async fn sign_in_attempts_are_throttled(backend: Backend) {
    let app = TestApp::start_with(backend, "[auth]\nlogin_attempts_per_minute = 3\n").await;
    let user = app.create_user(Role::Contact).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let token = hidden_field(&page, "csrf").expect("csrf");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let response = client
            .post(app.url("/login"))
            .form(&[
                ("email", user.email.as_str()),
                ("password", "wrong password!!"),
                ("csrf", &token),
            ])
            .send()
            .await
            .expect("sent");
        statuses.push(response.status());
    }
    assert_eq!(
        statuses,
        vec![
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    app.stop().await;
}

async fn an_app_key_works_until_revoked_or_expired(backend: Backend) {
    let clock = Clock::manual(Utc::now());
    let app = TestApp::start_with_clock(backend, "", clock.clone()).await;
    let admin = app.create_user(Role::Admin).await;
    let (admin_client, csrf) = app.sign_in(&admin).await;

    let created = admin_client
        .post(app.url("/graphql"))
        .header("x-csrf-token", &csrf)
        .json(&json!({
            "query": "mutation($input: CreateAppKeyInput!) { createAppKey(input: $input) { key appKey { id prefix name } } }",
            "variables": { "input": { "name": "site diary", "projects": ["*"],
                "entities": [{ "entity": "ACTIVITY", "access": "READ" }] } }
        }))
        .send()
        .await
        .expect("sent");
    let body: Value = created.json().await.expect("json");
    let key = body["data"]["createAppKey"]["key"]
        .as_str()
        .expect("key shown once")
        .to_owned();
    let id = body["data"]["createAppKey"]["appKey"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(
        key.starts_with(
            body["data"]["createAppKey"]["appKey"]["prefix"]
                .as_str()
                .expect("prefix")
        )
    );

    let (status, body) = app.graphql(Some(&key), "{ me { kind } }", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let listed = admin_client
        .post(app.url("/graphql"))
        .json(&json!({"query": "{ appKeys { id prefix lastUsedAt } }"}))
        .send()
        .await
        .expect("sent");
    let text = listed.text().await.expect("body");
    assert!(!text.contains(&key), "the key is never shown again");

    let revoked = admin_client
        .post(app.url("/graphql"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"query": "mutation($id: ID!) { revokeAppKey(id: $id) { revokedAt } }", "variables": {"id": id}}))
        .send()
        .await
        .expect("sent");
    let body: Value = revoked.json().await.expect("json");
    assert!(
        body["data"]["revokeAppKey"]["revokedAt"].is_string(),
        "{body}"
    );

    let (status, body) = app.graphql(Some(&key), "{ me { kind } }", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(first_error_code(&body), Some("UNAUTHENTICATED"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("revoked")
    );

    let (_, expiring) = app
        .create_key_with(NewAppKey {
            name: "short-lived".into(),
            scopes: read_activities(),
            expires_at: Some(clock.now() + chrono::Duration::minutes(30)),
            ..NewAppKey::default()
        })
        .await;
    let (status, _) = app
        .graphql(Some(&expiring), "{ me { kind } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(clock.advance(std::time::Duration::from_secs(29 * 60)));
    let (status, _) = app
        .graphql(Some(&expiring), "{ me { kind } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "a minute before it expires");
    assert!(clock.advance(std::time::Duration::from_secs(60)));
    let (status, body) = app
        .graphql(Some(&expiring), "{ me { kind } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("expired")
    );

    let (status, body) = app
        .graphql(Some("ghk_nonsense_key_value"), "{ me { kind } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(first_error_code(&body), Some("UNAUTHENTICATED"));
    app.stop().await;
}

async fn a_contact_cannot_call_a_reviewer_field(backend: Backend) {
    let app = TestApp::start(backend).await;
    let contact = app.create_user(Role::Contact).await;
    let reviewer = app.create_user(Role::Reviewer).await;
    let query = json!({"query": "{ auditLog(limit: 5) { action } }"});

    let (client, _) = app.sign_in(&contact).await;
    let body: Value = client
        .post(app.url("/graphql"))
        .json(&query)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(body["data"], Value::Null);

    let (client, _) = app.sign_in(&reviewer).await;
    let body: Value = client
        .post(app.url("/graphql"))
        .json(&query)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(body["errors"].is_null(), "{body}");
    assert!(
        body["data"]["auditLog"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );

    let (_, key) = app.create_key(read_activities()).await;
    let (_, body) = app
        .graphql(Some(&key), "{ users { email } }", json!({}))
        .await;
    assert_eq!(
        first_error_code(&body),
        Some("FORBIDDEN"),
        "app keys are not admins"
    );
    let (_, body) = app.graphql(None, "{ users { email } }", json!({})).await;
    assert_eq!(first_error_code(&body), Some("UNAUTHENTICATED"));
    app.stop().await;
}

async fn the_audit_log_records_each_change(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.create_user(Role::Admin).await;
    let (client, csrf) = app.sign_in(&admin).await;
    let call = |query: Value| {
        client
            .post(app.url("/graphql"))
            .header("x-csrf-token", &csrf)
            .json(&query)
            .send()
    };
    let body: Value = call(json!({
        "query": "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
        "variables": {"i": {"email": "new.contact@example.com", "role": "CONTACT", "password": "a long enough password"}}
    }))
    .await
    .expect("sent")
    .json()
    .await
    .expect("json");
    let user_id = body["data"]["createUser"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let body: Value = call(json!({
        "query": "mutation { createAppKey(input: {name: \"k\", projects: [\"*\"], entities: [{entity: EVENT, access: READ}]}) { appKey { id } } }"
    }))
    .await
    .expect("sent")
    .json()
    .await
    .expect("json");
    let key_id = body["data"]["createAppKey"]["appKey"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    call(json!({"query": "mutation($id: ID!) { revokeAppKey(id: $id) { id } }", "variables": {"id": key_id}}))
        .await
        .expect("sent");

    let history = |record_type: &str, id: &str| {
        call(json!({
            "query": "query($t: String, $id: String) { auditLog(recordType: $t, recordId: $id) { action actor summary } }",
            "variables": {"t": record_type, "id": id}
        }))
    };
    let body: Value = history("user", &user_id)
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let entries = body["data"]["auditLog"].as_array().expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["action"], "user.create");
    assert_eq!(entries[0]["actor"], format!("user:{}", admin.id));
    assert!(
        !entries[0]["summary"].to_string().contains("password"),
        "no secret in the summary"
    );

    let body: Value = history("app_key", &key_id)
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let actions: Vec<&str> = body["data"]["auditLog"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["app_key.create", "app_key.revoke"]);

    // The log refuses to be rewritten, whatever the code above it does.
    use sea_orm::ConnectionTrait;
    let rewrite = app
        .app
        .services
        .db
        .execute_unprepared("UPDATE audit_log SET actor = 'someone else'")
        .await;
    assert!(rewrite.is_err(), "audit_log must be append-only");
    let delete = app
        .app
        .services
        .db
        .execute_unprepared("DELETE FROM audit_log")
        .await;
    assert!(delete.is_err(), "audit_log must be append-only");
    app.stop().await;
}

async fn metrics_count_requests_by_route_and_operation(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, key) = app.create_key(read_activities()).await;
    app.graphql(Some(&key), "query WhoAmI { me { kind } }", json!({}))
        .await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains("http_requests_total{route=\"/graphql\",method=\"POST\",status=\"200\"}"),
        "{text}"
    );
    assert!(
        text.contains(
            "graphql_operations_total{operation=\"WhoAmI\",type=\"query\",outcome=\"ok\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    app.stop().await;
}

/// Transactions that read before they write (creating a user checks the email is free) all
/// commit when many run at once: on SQLite a deferred transaction could not upgrade its read
/// snapshot after another connection wrote, and would fail at once with "database is locked".
async fn concurrent_read_then_write_transactions_all_commit(backend: Backend) {
    let app = TestApp::start(backend).await;
    let db = app.app.services.db.clone();
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                gatehouse_core::auth::users::create_user(
                    &db,
                    &gatehouse_core::audit::Actor::Cli,
                    &format!("concurrent-{i}@example.com"),
                    Role::Contact,
                    "correct horse battery staple",
                )
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut failures = Vec::new();
    for task in tasks {
        if let Err(error) = task.await.expect("task ran") {
            failures.push(error);
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
    app.stop().await;
}

/// Starts the app over an existing database, as a restart would.
async fn start_on(db: &gatehouse_tests::TestDb) -> gatehouse::RunningApp {
    let overrides = gatehouse::config::Overrides {
        listen: Some("127.0.0.1:0".parse().expect("address")),
        database_url: Some(db.url.clone()),
        log_format: None,
    };
    let config = gatehouse::Config::from_toml("", &overrides).expect("valid configuration");
    gatehouse::spawn(config).await.expect("the app starts")
}

/// What `{ me { kind } }` answers with `key`: the kind, or the error code.
async fn who(app: &gatehouse::RunningApp, key: &str) -> String {
    let body: Value = reqwest::Client::new()
        .post(format!("{}/graphql", app.url()))
        .bearer_auth(key)
        .json(&json!({ "query": "{ me { kind } }" }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    body["data"]["me"]["kind"]
        .as_str()
        .or_else(|| first_error_code(&body))
        .unwrap_or_default()
        .to_owned()
}

/// `gatehouse demo` restarted on its database with the same `GATEHOUSE_DEMO_KEY` reuses that
/// key (it used to fail on the key's unique hash, leaving the key revoked); a different pinned
/// key, or none, revokes it and makes the new one.
async fn a_demo_restarted_with_its_pinned_key_keeps_that_key_working(backend: Backend) {
    let db = gatehouse_tests::TestDb::create(backend).await;
    let mut sim = synchro_sim::spawn(
        synchro_sim::SimConfig::default(),
        "127.0.0.1:0".parse().expect("address"),
    )
    .await
    .expect("simulator starts");
    let pinned = "ghk_demo_pinned-for-restarts_0123456789";
    for _run in 0..2 {
        let app = start_on(&db).await;
        let demo = gatehouse::demo::seed(&app.services.db, sim, Some(pinned.to_owned()))
            .await
            .expect("the demo sets up on a database an earlier demo used");
        assert_eq!(demo.app_key, pinned);
        sim = demo.sim;
        app.stop().await.expect("stops");
    }
    let app = start_on(&db).await;
    assert_eq!(
        who(&app, pinned).await,
        "APP_KEY",
        "the pinned key still works"
    );
    let demo_keys = |keys: Vec<gatehouse_core::auth::app_keys::AppKeyInfo>| {
        keys.into_iter()
            .filter(|k| k.name == "demo")
            .collect::<Vec<_>>()
    };
    let keys = demo_keys(
        gatehouse_core::auth::app_keys::list(&app.services.db)
            .await
            .expect("keys"),
    );
    assert_eq!(keys.len(), 1, "one demo key, reused: {keys:?}");
    assert!(keys[0].revoked_at.is_none());
    app.stop().await.expect("stops");

    // A restart with another pinned key, then with none.
    let other = "ghk_demo_another-pinned-value_987654321";
    let app = start_on(&db).await;
    let demo = gatehouse::demo::seed(&app.services.db, sim, Some(other.to_owned()))
        .await
        .expect("set up");
    let sim = demo.sim;
    assert_eq!(who(&app, other).await, "APP_KEY");
    assert_eq!(
        who(&app, pinned).await,
        "UNAUTHENTICATED",
        "the old key is revoked"
    );
    app.stop().await.expect("stops");
    let app = start_on(&db).await;
    let demo = gatehouse::demo::seed(&app.services.db, sim, None)
        .await
        .expect("set up");
    assert_ne!(demo.app_key, other);
    assert_eq!(who(&app, &demo.app_key).await, "APP_KEY");
    assert_eq!(who(&app, other).await, "UNAUTHENTICATED");
    let keys = demo_keys(
        gatehouse_core::auth::app_keys::list(&app.services.db)
            .await
            .expect("keys"),
    );
    assert_eq!(
        keys.iter().filter(|k| k.revoked_at.is_none()).count(),
        1,
        "{keys:?}"
    );
    app.stop().await.expect("stops");
    demo.sim.shutdown().await;
}

backend_tests!(
    a_demo_restarted_with_its_pinned_key_keeps_that_key_working,
    concurrent_read_then_write_transactions_all_commit,
    queries_work_over_post_and_get,
    a_mutation_over_get_is_refused,
    malformed_requests_get_a_clear_4xx_with_a_code,
    readiness_turns_503_when_the_database_is_gone,
    sign_in_works_and_a_wrong_password_does_not,
    sign_in_attempts_are_throttled,
    an_app_key_works_until_revoked_or_expired,
    a_contact_cannot_call_a_reviewer_field,
    the_audit_log_records_each_change,
    metrics_count_requests_by_route_and_operation,
);
