//! The `gatehouse` binary itself: its admin commands, its logs, its shutdown.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use gatehouse_tests::{browser_client, sign_in_at};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");

fn run(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gatehouse runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    child.wait_with_output().expect("gatehouse finishes")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Starts `gatehouse serve` on port 0 with debug logs to `server.log`; returns it and its URL.
async fn serve(dir: &Path, args: &[&str]) -> (Child, String) {
    serve_with_env(dir, args, &[]).await
}

/// [`serve`] with extra environment variables.
async fn serve_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let log = std::fs::File::create(dir.join("server.log")).expect("log file");
    let mut child = tokio::process::Command::new(BIN)
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let url = tokio::time::timeout(Duration::from_secs(60), async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(url) = line.strip_prefix("Gatehouse listening on ") {
                return url.to_owned();
            }
        }
        String::new()
    })
    .await
    .expect("serve listens within a minute");
    assert!(!url.is_empty(), "serve exited: {}", read_log(dir));
    (child, url)
}

fn read_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
}

fn terminate(child: &Child) {
    let pid = child.id().expect("running").to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[test]
fn export_schema_prints_the_committed_sdl() {
    let dir = tempfile::tempdir().expect("dir");
    let output = run(dir.path(), &["export-schema"], "");
    assert!(output.status.success());
    let committed = include_str!("../schema.graphql");
    assert_eq!(String::from_utf8_lossy(&output.stdout), committed);
}

#[test]
fn migrations_apply_and_revert_cleanly() {
    let dir = tempfile::tempdir().expect("dir");
    let url = "sqlite://m.db";
    let up = run(dir.path(), &["migrate", "--database-url", url], "");
    assert!(up.status.success(), "{}", text(&up));
    let down = run(
        dir.path(),
        &["migrate", "--database-url", url, "--down", "100"],
        "",
    );
    assert!(down.status.success(), "{}", text(&down));
    let again = run(dir.path(), &["migrate", "--database-url", url], "");
    assert!(again.status.success(), "{}", text(&again));
}

#[test]
fn the_first_admin_is_bootstrapped_once_and_admin_commands_manage_keys() {
    let dir = tempfile::tempdir().expect("dir");
    let db = ["--database-url", "sqlite://a.db"];
    let first = run(
        dir.path(),
        &[
            &[
                "bootstrap-admin",
                "--email",
                "root@example.com",
                "--password-stdin",
            ][..],
            &db,
        ]
        .concat(),
        "a very long admin password\n",
    );
    assert!(first.status.success(), "{}", text(&first));
    let second = run(
        dir.path(),
        &[
            &["bootstrap-admin", "--email", "other@example.com"][..],
            &db,
        ]
        .concat(),
        "",
    );
    assert!(!second.status.success(), "a second bootstrap is refused");
    assert!(text(&second).contains("users already exist"));

    let created = run(
        dir.path(),
        &[
            &[
                "key",
                "create",
                "--name",
                "erp-sync",
                "--project",
                "*",
                "--read",
                "activity,event",
                "--write",
                "activity",
            ][..],
            &db,
        ]
        .concat(),
        "",
    );
    assert!(created.status.success(), "{}", text(&created));
    let out = text(&created);
    let key = out
        .lines()
        .find_map(|l| l.strip_prefix("key: "))
        .expect("the key is printed once")
        .to_owned();
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("created app key erp-sync ("))
        .and_then(|l| l.strip_suffix(')'))
        .expect("id printed")
        .to_owned();
    let listed = run(dir.path(), &[&["key", "list"][..], &db].concat(), "");
    let listing = text(&listed);
    assert!(
        listing.contains("erp-sync") && listing.contains("active"),
        "{listing}"
    );
    assert!(!listing.contains(&key), "the key is never listed");

    let revoked = run(dir.path(), &[&["key", "revoke", &id][..], &db].concat(), "");
    assert!(revoked.status.success(), "{}", text(&revoked));
    let listed = run(dir.path(), &[&["key", "list"][..], &db].concat(), "");
    assert!(text(&listed).contains("revoked"));

    let bad = run(
        dir.path(),
        &[
            &[
                "key",
                "create",
                "--name",
                "x",
                "--project",
                "*",
                "--read",
                "spaceship",
            ][..],
            &db,
        ]
        .concat(),
        "",
    );
    assert!(!bad.status.success());
    assert!(text(&bad).contains("spaceship"), "{}", text(&bad));
}

#[test]
fn a_bad_config_key_stops_start_up_with_its_name() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("bad.toml"), "[graphql]\nmax_deph = 3\n").expect("write");
    let output = run(dir.path(), &["--config", "bad.toml", "serve"], "");
    assert!(!output.status.success());
    assert!(text(&output).contains("max_deph"), "{}", text(&output));
}

#[test]
fn a_database_password_in_config_appears_in_no_log_output() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("pg.toml"),
        "database_url = \"postgres://gatehouse:Sup3r-S3cret-Pw@127.0.0.1:1/gatehouse\"\n",
    )
    .expect("write");
    let output = Command::new(BIN)
        .args(["--config", "pg.toml", "serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("RUST_LOG", "trace")
        .output()
        .expect("runs");
    assert!(!output.status.success(), "nothing listens on port 1");
    let all = text(&output);
    assert!(
        all.contains("127.0.0.1:1"),
        "the failure names the server: {all}"
    );
    assert!(
        !all.contains("Sup3r-S3cret-Pw"),
        "the password leaked: {all}"
    );
}

#[tokio::test]
async fn passwords_and_keys_used_against_a_running_server_appear_in_no_log_line() {
    let dir = tempfile::tempdir().expect("dir");
    let db = ["--database-url", "sqlite://g.db"];
    let password = "Pa55word-that-must-not-leak";
    let made = run(
        dir.path(),
        &[
            &[
                "user",
                "create",
                "--email",
                "ada@example.com",
                "--role",
                "admin",
                "--password-stdin",
            ][..],
            &db,
        ]
        .concat(),
        &format!("{password}\n"),
    );
    assert!(made.status.success(), "{}", text(&made));
    let made = run(
        dir.path(),
        &[
            &[
                "key",
                "create",
                "--name",
                "k",
                "--project",
                "*",
                "--read",
                "activity",
            ][..],
            &db,
        ]
        .concat(),
        "",
    );
    let key = text(&made)
        .lines()
        .find_map(|l| l.strip_prefix("key: "))
        .expect("key")
        .to_owned();

    let (child, url) = serve(dir.path(), &db).await;
    let client = browser_client();
    let body: Value = client
        .post(format!("{url}/graphql"))
        .bearer_auth(&key)
        .json(&json!({"query": "{ me { kind } }"}))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(body["data"]["me"]["kind"], "APP_KEY");
    let csrf = sign_in_at(&client, &url, "ada@example.com", password).await;

    terminate(&child);
    let mut child = child;
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("stops within 30 s")
        .expect("exit status");
    assert!(status.success(), "SIGTERM is a clean exit");
    let log = read_log(dir.path());
    assert!(log.contains("http.request"), "requests were logged: {log}");
    assert!(log.contains("stopped"), "shutdown was logged: {log}");
    assert!(!log.contains(password), "a password leaked into the log");
    assert!(!log.contains(&key), "an app key leaked into the log");
    assert!(!log.contains(&csrf), "a CSRF token leaked into the log");
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish() {
    let dir = tempfile::tempdir().expect("dir");
    let (child, url) = serve(dir.path(), &["--database-url", "sqlite://s.db"]).await;
    // A large upload body trickling in keeps a request in flight while SIGTERM arrives.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
    let client = reqwest::Client::new();
    let request = tokio::spawn(
        client
            .post(format!("{url}/graphql"))
            .header("content-type", "application/json")
            .body(body)
            .send(),
    );
    tx.send(Ok(b"{\"query\": \"{ me { kind } }\"".to_vec()))
        .await
        .expect("sent part");
    tokio::time::sleep(Duration::from_millis(300)).await;
    terminate(&child);
    tokio::time::sleep(Duration::from_millis(300)).await;
    tx.send(Ok(b"}".to_vec())).await.expect("sent rest");
    drop(tx);
    let response = request
        .await
        .expect("joined")
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    let mut child = child;
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("stops")
        .expect("status");
    assert!(status.success());
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    async_stream::stream! {
        while let Some(item) = rx.recv().await {
            yield item;
        }
    }
}

async fn call(
    client: &reqwest::Client,
    url: &str,
    csrf: &str,
    query: &str,
    variables: Value,
) -> Value {
    client
        .post(format!("{url}/graphql"))
        .header("x-csrf-token", csrf)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn tokens_and_dataclip_passwords_recorded_against_a_running_server_appear_in_no_log_line() {
    let dir = tempfile::tempdir().expect("dir");
    let db = ["--database-url", "sqlite://v.db"];
    let vault_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let token = "SP-tok-logcheck-5e1f0a77-never-logged";
    let password = "dc-pass-logcheck-91c2-never-logged";
    let user_password = "a long enough password";
    for (email, role) in [
        ("contact@example.com", "contact"),
        ("reviewer@example.com", "reviewer"),
    ] {
        let made = run(
            dir.path(),
            &[
                &[
                    "user",
                    "create",
                    "--email",
                    email,
                    "--role",
                    role,
                    "--password-stdin",
                ][..],
                &db,
            ]
            .concat(),
            &format!("{user_password}\n"),
        );
        assert!(made.status.success(), "{}", text(&made));
    }
    let (child, url) = serve_with_env(dir.path(), &db, &[("GATEHOUSE_VAULT_KEY", vault_key)]).await;
    let contact = browser_client();
    let reviewer = browser_client();
    let contact_csrf = sign_in_at(&contact, &url, "contact@example.com", user_password).await;
    let reviewer_csrf = sign_in_at(&reviewer, &url, "reviewer@example.com", user_password).await;

    let input = json!({
        "projectUrls": ["https://acme.e7.site/projects/1"],
        "requester": { "name": "Jane Doe", "email": "jane@acme.com", "organisation": "Acme" },
        "projectContact": { "name": "Joe Bloggs", "role": "Commercial Manager", "email": "joe@acme.com" },
        "commercialPermission": { "confirmed": true, "confirmedBy": "Mary Major", "confirmedAt": "2026-03-02T09:30:00Z" },
        "apiDocumentation": { "reviewed": true, "url": "https://acme.e7.site/api" },
        "integration": { "name": "Site progress", "purpose": "Lets site supervisors record the progress of their activities from a phone, every day." },
        "platforms": ["iOS app"],
        "workflows": [{
            "name": "Site progress updates",
            "description": "A supervisor opens an activity on site, records percent complete and the app updates the activity.",
            "direction": "TWO_WAY",
            "entities": [{ "entity": "ACTIVITY", "operations": ["READ", "UPDATE"] }],
            "trigger": { "onDemandPerDay": 200 },
            "recordsPerRun": 5
        }]
    });
    let body = call(
        &contact,
        &url,
        &contact_csrf,
        "mutation($i: AccessRequestInput!) { createAccessRequest(input: $i) { id } }",
        json!({ "i": input }),
    )
    .await;
    let id = body["data"]["createAccessRequest"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    call(
        &contact,
        &url,
        &contact_csrf,
        "mutation($id: ID!) { submitAccessRequest(id: $id) { status } }",
        json!({ "id": id }),
    )
    .await;
    call(
        &reviewer,
        &url,
        &reviewer_csrf,
        "mutation($id: ID!) { reviewAccessRequest(id: $id, decision: APPROVE) { status } }",
        json!({ "id": id }),
    )
    .await;
    let body = call(
        &contact,
        &url,
        &contact_csrf,
        "mutation($id: ID!) { markAccessRequestFiled(id: $id) { status } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        body["data"]["markAccessRequestFiled"]["status"], "SUBMITTED_TO_BENTLEY",
        "{body}"
    );
    let record = "mutation($id: ID!, $p: String!, $t: String!) { recordIssuedToken(requestId: $id, projectId: $p, token: $t, scope: READ_WRITE, issuedOn: \"2026-03-10\") { lastFour } }";
    // A refused attempt first (wrong project): its error must not log the token either.
    let body = call(
        &reviewer,
        &url,
        &reviewer_csrf,
        record,
        json!({ "id": id, "p": "2", "t": token }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    let body = call(
        &reviewer,
        &url,
        &reviewer_csrf,
        record,
        json!({ "id": id, "p": "1", "t": token }),
    )
    .await;
    assert_eq!(
        body["data"]["recordIssuedToken"]["lastFour"], "gged",
        "{body}"
    );
    let body = call(&contact, &url, &contact_csrf,
        "mutation($id: ID!, $pw: String!) { recordDataclipCredentials(requestId: $id, projectId: \"1\", username: \"jane.dc\", password: $pw) { lastFour } }",
        json!({ "id": id, "pw": password })).await;
    assert!(body["errors"].is_null(), "{body}");

    terminate(&child);
    let mut child = child;
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("stops within 30 s")
        .expect("exit status");
    assert!(status.success());
    let log = read_log(dir.path());
    assert!(
        log.contains("RecordIssuedToken") || log.contains("http.request"),
        "requests were logged: {log}"
    );
    assert!(!log.contains(token), "a token leaked into the log");
    assert!(
        !log.contains(password),
        "a dataclip password leaked into the log"
    );
    assert!(
        !log.contains(vault_key),
        "the vault key leaked into the log"
    );
}
