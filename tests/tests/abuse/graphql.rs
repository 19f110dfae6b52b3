//! `/graphql`, as an attacker without credentials (or with a narrow key) would call it.

use std::time::Duration;

use gatehouse_compliance::Entity;
use gatehouse_core::auth::{Access, KeyScopes};
use gatehouse_core::db::entities::ledger_operations;
use gatehouse_tests::{Backend, TestApp, first_error_code};
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::support::{HealthProbe, assert_healthy, measure};

/// `{ ...F0 } fragment F0 on Query { ...F1 ...F1 } ... fragment Fn on Query { __typename }`.
pub fn fan_out(n: usize) -> String {
    let mut q = String::from("{ ...F0 }");
    for i in 0..n {
        q.push_str(&format!(
            " fragment F{i} on Query {{ ...F{next} ...F{next} }}",
            next = i + 1
        ));
    }
    q.push_str(&format!(" fragment F{n} on Query {{ __typename }}"));
    q
}

/// The CPU a refused request may cost: the fixed cases cost a few milliseconds; the fan-out of
/// 22 fragments cost 2.75 s of a release build before the fix.
const CPU_BOUND: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragment_fan_out_is_refused_before_it_is_walked() {
    let app = TestApp::start(Backend::Sqlite).await;
    let query = fan_out(22);
    assert!(
        query.len() < 1_000,
        "a small document: {} bytes",
        query.len()
    );
    let probe = HealthProbe::start(&app.url(""));
    let ((status, body), cost) = measure(async {
        let mut last = (StatusCode::OK, Value::Null);
        for _ in 0..4 {
            last = app.graphql(None, &query, json!({})).await;
        }
        last
    })
    .await;
    assert_healthy(&probe.finish().await);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(first_error_code(&body), Some("TOO_MANY_FIELDS"), "{body}");
    assert!(
        cost.cpu < CPU_BOUND,
        "four refusals cost {:?} of CPU",
        cost.cpu
    );
    assert!(
        cost.peak_growth_mib < 32,
        "memory grew by {} MiB",
        cost.peak_growth_mib
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fragment_cycle_is_refused_with_its_path() {
    let app = TestApp::start(Backend::Sqlite).await;
    let (status, body) = app
        .graphql(
            None,
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A __typename }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(first_error_code(&body), Some("GRAPHQL_VALIDATION_FAILED"));
    app.stop().await;
}

/// A body of `len` bytes made of `part` repeated, streamed so that the client holds little.
fn streamed(prefix: Vec<u8>, fill: u8, len: u64, suffix: Vec<u8>) -> reqwest::Body {
    const CHUNK: usize = 64 * 1024;
    let fill_len = len - prefix.len() as u64 - suffix.len() as u64;
    let chunks = fill_len.div_ceil(CHUNK as u64);
    let body = futures::stream::iter(
        std::iter::once(bytes::Bytes::from(prefix))
            .chain((0..chunks).map(move |i| {
                let size = if i + 1 == chunks {
                    (fill_len - i * CHUNK as u64) as usize
                } else {
                    CHUNK
                };
                bytes::Bytes::from(vec![fill; size])
            }))
            .chain(std::iter::once(bytes::Bytes::from(suffix)))
            .map(Ok::<_, std::io::Error>),
    );
    reqwest::Body::wrap_stream(body)
}

/// A multipart request whose `operations` part holds a variable of `variable_bytes` bytes.
fn huge_operations(variable_bytes: u64) -> (String, reqwest::Body) {
    let boundary = "gatehouse-abuse-boundary";
    let prefix = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n\
         {{\"query\":\"query($x: String) {{ __typename }}\",\"variables\":{{\"x\":\""
    )
    .into_bytes();
    let suffix = format!(
        "\"}}}}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{{}}\r\n--{boundary}--\r\n"
    )
    .into_bytes();
    let len = prefix.len() as u64 + variable_bytes + suffix.len() as u64;
    (
        format!("multipart/form-data; boundary={boundary}"),
        streamed(prefix, b'a', len, suffix),
    )
}

async fn post_multipart(
    app: &TestApp,
    key: Option<&str>,
    variable_bytes: u64,
) -> Result<(StatusCode, Value), reqwest::Error> {
    let (content_type, body) = huge_operations(variable_bytes);
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", content_type)
        .body(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await?;
    let status = response.status();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_multipart_request_is_refused_before_its_body_is_read() {
    let app = TestApp::start(Backend::Sqlite).await;
    let (answer, cost) = measure(post_multipart(&app, None, 300 * 1024 * 1024)).await;
    // The server answers before reading the body; the client may see the answer or, having
    // still been sending, the connection closed under it. Either way nothing was buffered.
    if let Ok((status, body)) = &answer {
        assert_eq!(*status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(first_error_code(body), Some("UNAUTHENTICATED"));
    }
    assert!(
        cost.peak_growth_mib < 64,
        "a 300 MiB multipart body grew memory by {} MiB",
        cost.peak_growth_mib
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operations_part_is_held_to_the_body_limit_even_for_an_uploader() {
    let app = TestApp::start(Backend::Sqlite).await;
    let (_, uploader) = app
        .create_key(KeyScopes::new(
            vec!["p1".into()],
            [(Entity::Attachment, Access::Write)],
        ))
        .await;
    let (answer, cost) = measure(post_multipart(&app, Some(&uploader), 300 * 1024 * 1024)).await;
    if let Ok((status, body)) = &answer {
        assert_eq!(*status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert_eq!(first_error_code(body), Some("PAYLOAD_TOO_LARGE"));
    }
    assert!(
        cost.peak_growth_mib < 64,
        "a 300 MiB operations part grew memory by {} MiB",
        cost.peak_growth_mib
    );

    // A key that may not write attachments may not send multipart at all.
    let (_, reader) = app
        .create_key(KeyScopes::new(
            vec!["p1".into()],
            [(Entity::Activity, Access::Read)],
        ))
        .await;
    let (status, body) = post_multipart(&app, Some(&reader), 10)
        .await
        .expect("a small request is answered");
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_refusals_leave_no_caller_text_in_the_ledger() {
    let app = TestApp::start(Backend::Sqlite).await;
    let long_id = "p".repeat(20 * 1024);
    let long_name = format!("Q{}", "x".repeat(1000));
    for _ in 0..50 {
        let (status, body) = app
            .graphql(
                None,
                "query($p: ID!) { project(id: $p) { name } }",
                json!({ "p": long_id }),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(first_error_code(&body), Some("BAD_USER_INPUT"));
        assert!(body.to_string().len() < 1_000, "the id is not echoed back");
    }
    // A well-shaped id without credentials: refused 401; a bad key: refused 401.
    let (status, _) = app
        .graphql(
            None,
            "query Mine { project(id: \"p-1\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth("not-a-key")
        .header("x-request-id", "r".repeat(5000))
        .json(&json!({ "query": format!("query {long_name} {{ me {{ kind }} }}") }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let echoed = response
        .headers()
        .get("x-request-id")
        .map(|v| v.len())
        .unwrap_or_default();
    assert!(
        echoed <= 64,
        "a 5,000-byte request id is replaced, not echoed"
    );
    // An over-long operation name from a caller with credentials is refused, not stored.
    let (_, key) = app.create_key(KeyScopes::new(vec!["p-1".into()], [])).await;
    let (status, body) = app
        .graphql(
            Some(&key),
            &format!("query {long_name} {{ me {{ kind }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let services = &app.app.services;
    services.metering.ledger.flush().await;
    let rows = ledger_operations::Entity::find()
        .all(&services.db)
        .await
        .expect("ledger rows");
    assert!(!rows.is_empty(), "the refusals are counted");
    for row in &rows {
        let text = format!(
            "{:?} {:?} {:?}",
            row.project_id, row.operation, row.request_id
        );
        assert!(text.len() < 400, "a ledger row holds caller text: {text}");
        if row.app_key_id.is_none() && row.user_id.is_none() {
            assert_eq!(row.project_id, None, "anonymous rows name no project");
            assert_eq!(row.operation, None, "anonymous rows name no operation");
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_nested_hundreds_deep_is_refused_not_a_crash() {
    // A list nested 414 deep in an argument (867 bytes) parsed, then overflowed the stack of the
    // code that walks the value and aborted the process: found by the generated documents.
    let app = TestApp::start(Backend::Sqlite).await;
    for depth in [100, 414, 5_000] {
        let query = format!(
            "{{ project(id: {}1{}) {{ name }} }}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let (status, body) = app.graphql(None, &query, json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{depth}: {body}");
        assert_eq!(first_error_code(&body), Some("QUERY_TOO_DEEP"), "{depth}");
    }
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("alive");
    assert_eq!(health.status(), StatusCode::OK);
    app.stop().await;
}
