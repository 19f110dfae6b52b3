//! Connections held open on purpose, and the endpoints a stranger should not read: half-sent
//! heads, idle keep-alive sockets, more sockets than the server will hold, `/metrics` and
//! introspection.
//!
//! Timeouts are configured to about a second; each test waits for the server's move with a
//! generous bound (10 s) and checks only lower bounds on elapsed time otherwise, which a loaded
//! machine can only make longer: the server closing a socket *early* is the defect they catch.

use std::time::{Duration, Instant};

use gatehouse_compliance::Entity;
use gatehouse_core::auth::{Access, KeyScopes};
use gatehouse_tests::{Backend, TestApp, first_error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support;

/// Longest the tests wait for the server to do what it should.
const PATIENCE: Duration = Duration::from_secs(10);

/// Reads until the server closes the socket (EOF or reset); returns what it sent and when it
/// closed, or panics after [`PATIENCE`].
async fn until_closed(stream: &mut TcpStream) -> (Vec<u8>, Instant) {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return Instant::now(),
                Ok(n) => seen.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let closed = tokio::time::timeout(PATIENCE, read)
        .await
        .expect("the server closes the socket within 10 s");
    (seen, closed)
}

/// Reads one HTTP/1.1 response with a `content-length` body; returns its head and body.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    let read = async {
        loop {
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "the connection closed before a whole response");
            seen.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&seen).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().expect("length"))
                    })
                    .unwrap_or(0);
                if seen.len() >= end + 4 + length {
                    return text;
                }
            }
        }
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .expect("a response within 10 s")
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.app.addr).await.expect("connect")
}

/// The value of an unlabelled-by-route sample in Prometheus text, e.g.
/// `http_connections_open{listener="main"}`.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        line.strip_prefix(series)
            .and_then(|rest| rest.trim().parse().ok())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_sends_half_a_head_is_closed_at_the_header_read_timeout() {
    let app = TestApp::start_with(Backend::Sqlite, "[http]\nheader_read_timeout_secs = 1\n").await;
    let started = Instant::now();
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: gatehouse\r\nX-Slow: ")
        .await
        .expect("half a head sent");
    let (answer, closed) = until_closed(&mut stream).await;
    assert!(
        answer.is_empty(),
        "half a head is not answered: {}",
        String::from_utf8_lossy(&answer)
    );
    // The server's clock starts at accept, after `started`: it may not close before 1 s.
    assert!(
        closed - started >= Duration::from_millis(950),
        "closed after {:?}, before the 1 s timeout",
        closed - started
    );
    let health = app.client.get(app.url("/healthz")).send().await;
    assert_eq!(health.expect("healthz").status(), StatusCode::OK);
    assert_eq!(
        timed_out(&app, "header_timeout").await,
        Some(1.0),
        "the close is counted as a header timeout"
    );
    app.stop().await;
}

/// `http_connections_timed_out_total` of the main listener for `reason`.
async fn timed_out(app: &TestApp, reason: &str) -> Option<f64> {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    sample(
        &text,
        &format!("http_connections_timed_out_total{{listener=\"main\",reason=\"{reason}\"}}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    // A header-read timeout far longer than the idle timeout: the close comes from the latter.
    let app = TestApp::start_with(
        Backend::Sqlite,
        "[http]\nidle_timeout_secs = 1\nheader_read_timeout_secs = 60\n",
    )
    .await;
    let mut stream = connect(&app).await;
    for _ in 0..2 {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: gatehouse\r\n\r\n")
            .await
            .expect("request sent");
        let response = read_response(&mut stream).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }
    let answered = Instant::now();
    let (rest, closed) = until_closed(&mut stream).await;
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    assert!(
        closed - answered >= Duration::from_millis(950),
        "closed after {:?}, before the 1 s idle timeout",
        closed - answered
    );
    assert_eq!(timed_out(&app, "idle_timeout").await, Some(1.0));
    assert_eq!(timed_out(&app, "header_timeout").await, None);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_beyond_max_connections_wait_until_one_closes_and_are_then_served() {
    const CAP: usize = 4;
    const EXTRA: usize = 32;
    let app = TestApp::start_with(
        Backend::Sqlite,
        &format!(
            "[http]\nmax_connections = {CAP}\nmetrics_listen = \"127.0.0.1:0\"\n\
             header_read_timeout_secs = 60\nidle_timeout_secs = 60\n"
        ),
    )
    .await;
    let metrics_url = format!(
        "http://{}/metrics",
        app.app.metrics_addr.expect("the metrics listener")
    );
    let open_connections = || async {
        let text = app
            .client
            .get(&metrics_url)
            .send()
            .await
            .expect("metrics answer on their own listener")
            .text()
            .await
            .expect("text");
        sample(&text, "http_connections_open{listener=\"main\"}").unwrap_or(0.0)
    };

    // The cap's worth of sockets that send nothing, accepted and held.
    let mut hogs = Vec::new();
    for _ in 0..CAP {
        hogs.push(connect(&app).await);
    }
    let deadline = Instant::now() + PATIENCE;
    while open_connections().await < CAP as f64 {
        assert!(
            Instant::now() < deadline,
            "the server accepts {CAP} sockets"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // More clients, each with a whole request: they connect (the kernel's backlog holds them)
    // but are not served while the cap is reached, and cost the server nothing meanwhile.
    let (mut waiting, cost) = support::measure(async {
        let mut waiting = Vec::new();
        for _ in 0..EXTRA {
            let mut stream = connect(&app).await;
            stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: gatehouse\r\n\r\n")
                .await
                .expect("request sent");
            waiting.push(stream);
        }
        for _ in 0..10 {
            let open = open_connections().await;
            assert!(open <= CAP as f64, "{open} connections open, cap {CAP}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut byte = [0u8; 1];
        let early =
            tokio::time::timeout(Duration::from_millis(500), waiting[0].read(&mut byte)).await;
        assert!(
            early.is_err(),
            "a client beyond the cap was answered while {CAP} connections were open"
        );
        waiting
    })
    .await;
    assert!(
        cost.cpu < Duration::from_secs(2),
        "{EXTRA} waiting clients cost {:?} of CPU",
        cost.cpu
    );

    // As the hogs leave, the waiting clients are served, a permit at a time: each closes once
    // answered, handing its permit to the next.
    drop(hogs);
    let served = futures::future::join_all(waiting.drain(..).map(|mut stream| async move {
        let response = read_response(&mut stream).await;
        response.starts_with("HTTP/1.1 200")
    }))
    .await;
    assert!(served.iter().all(|ok| *ok), "{served:?}");
    let health = app.client.get(app.url("/healthz")).send().await;
    assert_eq!(health.expect("healthz").status(), StatusCode::OK);
    let open = open_connections().await;
    assert!(open <= CAP as f64, "{open} connections open, cap {CAP}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_behind_a_token_answer_401_without_it() {
    let token = "scrape-token-7f3a9c1e5b2d4f60";
    let app = TestApp::start_with(
        Backend::Sqlite,
        &format!("[http]\nmetrics_token = \"{token}\"\n"),
    )
    .await;
    let bare = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(bare.headers()["www-authenticate"], "Bearer");
    let body = bare.text().await.expect("body");
    assert!(!body.contains("http_requests_total"), "{body}");
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-token-7f3a9c1e5b2d4f61")
        .send()
        .await
        .expect("sent");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    assert_eq!(right.status(), StatusCode::OK);
    let text = right.text().await.expect("text");
    assert!(text.contains("http_requests_total"), "{text}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_only_on_the_internal_listener_when_one_is_set() {
    let app = TestApp::start_with(
        Backend::Sqlite,
        "[http]\nmetrics_listen = \"127.0.0.1:0\"\n",
    )
    .await;
    let internal = app.app.metrics_addr.expect("the metrics listener is bound");
    assert_ne!(internal, app.app.addr);
    let public = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("sent")
            .status(),
        StatusCode::OK
    );
    let scraped = app
        .client
        .get(format!("http://{internal}/metrics"))
        .send()
        .await
        .expect("sent");
    assert_eq!(scraped.status(), StatusCode::OK);
    let text = scraped.text().await.expect("text");
    assert!(text.contains("http_requests_total"), "{text}");
    let other = app
        .client
        .get(format!("http://{internal}/healthz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        other.status(),
        StatusCode::NOT_FOUND,
        "the internal listener serves /metrics only"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_introspection_is_refused_by_default_and_an_app_key_may_introspect() {
    let app = TestApp::start(Backend::Sqlite).await;
    let schema = "{ __schema { queryType { name } } }";
    let (status, body) = app.graphql(None, schema, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(first_error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    assert!(body["data"].is_null(), "{body}");
    let (status, body) = app
        .graphql(None, "{ __type(name: \"Query\") { name } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let hidden = "query Q { ...Spy } fragment Spy on Query { __schema { types { name } } }";
    let (status, body) = app.graphql(None, hidden, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    let (status, body) = app.graphql(None, "{ __typename }", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["__typename"], "Query", "{body}");

    let (_, key) = app
        .create_key(KeyScopes::new(
            vec!["*".into()],
            [(Entity::Activity, Access::Read)],
        ))
        .await;
    let (status, body) = app.graphql(Some(&key), schema, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");

    let graphiql = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("sent");
    assert_eq!(graphiql.status(), StatusCode::OK);
    assert!(
        graphiql.text().await.expect("html").contains("graphiql"),
        "GraphiQL still loads"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_set_to_never_refuses_app_keys_too_and_always_admits_anyone() {
    let schema = "{ __schema { queryType { name } } }";
    let app = TestApp::start_with(Backend::Sqlite, "[graphql]\nintrospection = \"never\"\n").await;
    let (_, key) = app
        .create_key(KeyScopes::new(
            vec!["*".into()],
            [(Entity::Activity, Access::Read)],
        ))
        .await;
    let (status, body) = app.graphql(Some(&key), schema, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"), "{body}");
    app.stop().await;

    let app = TestApp::start_with(Backend::Sqlite, "[graphql]\nintrospection = \"always\"\n").await;
    let (status, body) = app.graphql(None, schema, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"],
        Value::from("Query")
    );
    app.stop().await;
}
