//! The pages people read, rendered by the running app and compared with reviewed snapshots
//! (`tests/tests/snapshots/views__*.snap`): a change to a view, or to what a handler hands it,
//! shows up as a diff to accept with `cargo insta review`. What differs from run to run (ids,
//! tokens, instants, the generated e-mail addresses of test users) is replaced before
//! comparing, so every snapshot is the same on every machine.

use gatehouse_core::auth::Role;
use gatehouse_tests::web::{WebClient, create_request, ready_request_fields, with_csrf};
use gatehouse_tests::{Backend, TestApp};
use reqwest::StatusCode;

/// Compares `html` with the snapshot `name`, with what changes between runs replaced.
fn assert_page(name: &str, html: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(true);
    for (pattern, replacement) in [
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[uuid]",
        ),
        (
            r#"name="csrf" value="[^"]*""#,
            r#"name="csrf" value="[csrf]""#,
        ),
        (r#"content="[A-Za-z0-9_-]{20,}""#, r#"content="[token]""#),
        (
            r"(contact|reviewer|admin)-[0-9a-f]{32}@example\.com",
            "$1@example.com",
        ),
        (
            r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?( ?UTC|Z)?",
            "[instant]",
        ),
        (r"\b20\d{2}-\d{2}-\d{2}\b", "[date]"),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings.bind(|| insta::assert_snapshot!(name, html));
}

async fn page(client: &WebClient, path: &str) -> String {
    let answer = client.get(path).await;
    assert_eq!(answer.status, StatusCode::OK, "GET {path}: {}", answer.body);
    answer.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_pages_render_as_reviewed() {
    let app = TestApp::start(Backend::Sqlite).await;
    let anonymous = WebClient::anonymous(&app);
    assert_page("sign_in", &page(&anonymous, "/login").await);
    assert_page("check_empty", &page(&anonymous, "/check").await);
    let csrf = anonymous.csrf("/check").await;
    let checked = anonymous
        .post(
            "/check",
            &with_csrf(&ready_request_fields(), &csrf, "assess"),
        )
        .await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.body);
    assert_page("check_a_ready_request", &checked.body);
    let missing = anonymous.get("/no-such-page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_page("not_found", &missing.body);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_renders_as_reviewed_for_its_contact_and_a_reviewer() {
    let app = TestApp::start(Backend::Sqlite).await;
    let contact = WebClient::signed_in(&app, &app.create_user(Role::Contact).await).await;
    let reviewer = WebClient::signed_in(&app, &app.create_user(Role::Reviewer).await).await;
    let id = create_request(&contact, &ready_request_fields()).await;
    assert_page(
        "request_form_saved",
        &page(&contact, &format!("/requests/{id}/edit")).await,
    );
    let csrf = contact.csrf(&format!("/requests/{id}")).await;
    let sent = contact
        .post(
            &format!("/requests/{id}/submit"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_page(
        "request_for_its_contact",
        &page(&contact, &format!("/requests/{id}")).await,
    );
    assert_page(
        "request_for_a_reviewer",
        &page(&reviewer, &format!("/requests/{id}")).await,
    );
    assert_page("review_queue", &page(&reviewer, "/review").await);
    app.stop().await;
}
