//! The upstream edge: cursors a client forges or carries over to another list, and a SYNCHRO
//! Perform that answers too much or says too much.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse_compliance::Entity;
use gatehouse_core::auth::{Access, KeyScopes};
use gatehouse_tests::{Backend, SimApp, backend_tests, first_error_code};
use serde_json::{Value, json};
use synchro_sim::{FaultRule, SimConfig};

use super::support;

const ACTIVITIES: &str = "/api/v1/projects/{project_id}/activities";

/// A text only an upstream error answer carries; it must never reach a client.
const MARKER: &str = "SIM-LEAK-7f3a: stack trace at db-07.internal";

fn reads(projects: &[String]) -> KeyScopes {
    KeyScopes::new(
        projects.to_vec(),
        [
            (Entity::Activity, Access::Read),
            (Entity::Event, Access::Read),
        ],
    )
}

fn activities_after(first: u32) -> String {
    format!(
        "query($p: ID!, $after: String) {{ project(id: $p) {{ activities(first: {first}, after: $after) {{ nodes {{ id }} pageInfo {{ endCursor }} }} }} }}"
    )
}

async fn a_forged_cursor_with_a_huge_page_size_is_refused_before_any_upstream_call(
    backend: Backend,
) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let project = rig.projects[0].clone();
    let (_, key) = rig.app.create_key(reads(&rig.projects)).await;
    let (_, genuine) = rig
        .app
        .graphql(Some(&key), &activities_after(2), json!({ "p": project }))
        .await;
    assert!(genuine["errors"].is_null(), "{genuine}");

    // The shape cursors had before they were signed: page 1, position 0, 100,000 per page. The
    // cost estimate prices `first: 1`; the cursor would have read a page as large as the
    // upstream allows.
    let forged = URL_SAFE_NO_PAD.encode(br#"{"c":null,"i":0,"s":100000}"#);
    rig.sim.reset_stats().await;
    let ((_, refused), cost) = support::measure(rig.app.graphql(
        Some(&key),
        &activities_after(1),
        json!({ "p": project, "after": forged }),
    ))
    .await;
    assert_eq!(
        first_error_code(&refused),
        Some("BAD_USER_INPUT"),
        "{refused}"
    );
    assert_eq!(
        refused["errors"][0]["extensions"]["fields"][0]["field"], "after",
        "{refused}"
    );
    assert_eq!(
        rig.sim.stats().await.count("GET", ACTIVITIES),
        0,
        "refused before the upstream is asked"
    );
    assert!(cost.cpu < Duration::from_secs(2), "{cost:?}");
    rig.stop().await;
}

async fn a_cursor_from_another_list_or_project_is_refused(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let (mine, theirs) = (rig.projects[0].clone(), rig.projects[1].clone());
    let (_, key) = rig.app.create_key(reads(&rig.projects)).await;
    let events = "query($p: ID!, $after: String) { project(id: $p) { events(first: 2, after: $after) { nodes { id } pageInfo { endCursor } } } }";
    let (_, page) = rig
        .app
        .graphql(Some(&key), events, json!({ "p": mine }))
        .await;
    let cursor = page["data"]["project"]["events"]["pageInfo"]["endCursor"].clone();
    assert!(cursor.is_string(), "{page}");

    let (_, next) = rig
        .app
        .graphql(Some(&key), events, json!({ "p": mine, "after": cursor }))
        .await;
    assert!(next["errors"].is_null(), "its own list takes it: {next}");
    let (_, other_list) = rig
        .app
        .graphql(
            Some(&key),
            &activities_after(2),
            json!({ "p": mine, "after": cursor }),
        )
        .await;
    assert_eq!(
        first_error_code(&other_list),
        Some("BAD_USER_INPUT"),
        "{other_list}"
    );
    let (_, other_project) = rig
        .app
        .graphql(Some(&key), events, json!({ "p": theirs, "after": cursor }))
        .await;
    assert_eq!(
        first_error_code(&other_project),
        Some("BAD_USER_INPUT"),
        "{other_project}"
    );
    rig.stop().await;
}

async fn an_oversized_upstream_answer_is_cut_at_the_cap_without_being_held(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let project = rig.projects[0].clone();
    let (_, key) = rig.app.create_key(reads(&rig.projects)).await;
    // The project record is read (and cached) before the attack; only the list is oversized.
    let (_, warm) = rig
        .app
        .graphql(
            Some(&key),
            "query($p: ID!) { project(id: $p) { name } }",
            json!({ "p": project }),
        )
        .await;
    assert!(warm["errors"].is_null(), "{warm}");
    let body_mib = 256;
    rig.sim
        .add_fault(FaultRule {
            endpoint: ACTIVITIES.into(),
            method: Some("GET".into()),
            padding_bytes: Some(body_mib * 1024 * 1024),
            ..FaultRule::default()
        })
        .await
        .expect("fault");
    rig.sim.reset_stats().await;

    let ((_, body), cost) = support::measure(rig.app.graphql(
        Some(&key),
        &activities_after(5),
        json!({ "p": project }),
    ))
    .await;
    assert_eq!(
        first_error_code(&body),
        Some("UPSTREAM_UNAVAILABLE"),
        "{body}"
    );
    // Gatehouse's sentence with the configured cap (16 MiB by default), nothing of the answer.
    assert_eq!(
        body["errors"][0]["message"], "SYNCHRO Perform's answer was larger than 16777216 bytes",
        "{body}"
    );
    assert!(body["data"]["project"].is_null(), "{body}");
    assert_eq!(
        rig.sim.stats().await.count("GET", ACTIVITIES),
        1,
        "an oversized answer is not retried"
    );
    // Measured on a debug build: 17 MiB and 70 ms with the cap; 260 MiB and 5 s of CPU when the
    // whole answer was read and parsed.
    assert!(
        cost.peak_growth_mib < 64,
        "memory grew by {} MiB for a {body_mib} MiB answer",
        cost.peak_growth_mib
    );
    assert!(cost.cpu < Duration::from_secs(1), "{cost:?}");
    rig.stop().await;
}

async fn an_upstream_error_text_never_reaches_the_client(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let project = rig.projects[0].clone();
    let (_, key) = rig.app.create_key(reads(&rig.projects)).await;
    let json_body = json!({ "error": {
        "code": "validation_failed",
        "message": MARKER,
        "details": { "fields": { "name": MARKER }, "hint": MARKER },
    }})
    .to_string();
    let html_body = format!("<html><body><h1>Bad gateway</h1><pre>{MARKER}</pre></body></html>");
    let cases = [
        (400, &json_body, "BAD_USER_INPUT"),
        (409, &json_body, "CONFLICT"),
        (422, &json_body, "BAD_USER_INPUT"),
        (500, &json_body, "UPSTREAM_UNAVAILABLE"),
        (502, &html_body, "UPSTREAM_UNAVAILABLE"),
    ];
    for (status, error_body, code) in cases {
        rig.sim.clear_faults().await;
        rig.sim
            .add_fault(FaultRule {
                endpoint: ACTIVITIES.into(),
                error_rate: 1.0,
                status,
                error_body: Some(error_body.clone()),
                ..FaultRule::default()
            })
            .await
            .expect("fault");
        let response = rig
            .app
            .client
            .post(rig.app.url("/graphql"))
            .bearer_auth(&key)
            .json(&json!({ "query": activities_after(5), "variables": { "p": project } }))
            .send()
            .await
            .expect("sent");
        let text = response.text().await.expect("body");
        assert!(
            !text.contains("SIM-LEAK"),
            "HTTP {status} leaked the upstream's text: {text}"
        );
        let body: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(first_error_code(&body), Some(code), "HTTP {status}: {body}");
        let message = body["errors"][0]["message"].as_str().expect("message");
        assert!(
            message.starts_with("SYNCHRO Perform") && message.contains(&format!("HTTP {status}")),
            "Gatehouse's words with the upstream's status: {message}"
        );
    }
    rig.stop().await;
}

backend_tests!(
    a_forged_cursor_with_a_huge_page_size_is_refused_before_any_upstream_call,
    a_cursor_from_another_list_or_project_is_refused,
    an_oversized_upstream_answer_is_cut_at_the_cap_without_being_held,
    an_upstream_error_text_never_reaches_the_client,
);
