//! Generated hostile input thrown at the real app: GraphQL documents (deep nesting, wide
//! aliases, fragment trees, huge strings, deep values, unknown directives, bytes that are not
//! UTF-8) and web form bodies. Each must get a typed answer (a GraphQL error with a code, or a
//! page with a 4xx status) at a bounded cost, and the process must live through all of them.
//!
//! `GATEHOUSE_ABUSE_CASES` sets the number of cases of each kind (default 128; CI runs the
//! default, a longer run is one variable away). `GATEHOUSE_ABUSE_TRACE=FILE` writes each
//! document to `FILE` before it is sent, so that one that kills the process (a stack overflow
//! aborts it; the first run of this test found one) names itself.

use std::time::Duration;

use gatehouse_tests::{Backend, TestApp};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::cpu_time;

fn cases() -> u32 {
    std::env::var("GATEHOUSE_ABUSE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128)
}

/// A request's CPU bound: a handled request costs milliseconds, the defects this suite guards
/// against cost seconds.
const CPU_PER_CASE: Duration = Duration::from_millis(750);

/// `http.max_form_bytes` by default.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// A GraphQL body, as bytes (not always JSON, not always UTF-8).
fn documents() -> impl Strategy<Value = Vec<u8>> {
    let nesting = (
        1usize..20_000,
        prop::sample::select(vec!["a", "... on Query", "project(id: \"p\")"]),
    )
        .prop_map(|(depth, open)| {
            let mut q = String::new();
            for _ in 0..depth {
                q.push_str(open);
                q.push_str(" { ");
            }
            q.push_str("__typename");
            q.push_str(&" }".repeat(depth));
            q
        });
    let aliases = (1usize..5_000).prop_map(|n| {
        let fields: Vec<String> = (0..n).map(|i| format!("a{i}: __typename")).collect();
        format!("{{ {} }}", fields.join(" "))
    });
    let fragment_trees = (0usize..48, 1usize..4).prop_map(|(n, fan)| {
        let mut q = String::from("{ ...F0 }");
        for i in 0..n {
            let spreads = vec![format!("...F{}", i + 1); fan].join(" ");
            q.push_str(&format!(
                " fragment F{i} on Query {{ {spreads} __typename }}"
            ));
        }
        q.push_str(&format!(" fragment F{n} on Query {{ __typename }}"));
        q
    });
    let huge_strings = (1usize..100_000)
        .prop_map(|n| format!("{{ project(id: \"{}\") {{ name }} }}", "p".repeat(n)));
    let deep_values = prop_oneof![1usize..200, 1usize..10_000].prop_map(|n| {
        format!(
            "{{ project(id: {}1{}) {{ name }} }}",
            "[".repeat(n),
            "]".repeat(n)
        )
    });
    let directives = "[a-z]{1,12}".prop_map(|name| {
        format!("query @{name}(x: 1) {{ __typename @{name} me @skip(if: true) {{ kind }} }}")
    });
    let noise = ".{0,2000}";
    let texts = prop_oneof![
        nesting,
        aliases,
        fragment_trees,
        huge_strings,
        deep_values,
        directives,
        noise.prop_map(String::from),
    ];
    let as_json = texts.prop_map(|query| {
        serde_json::to_vec(&serde_json::json!({ "query": query })).unwrap_or_default()
    });
    let deep_variables = prop_oneof![1usize..140, 1usize..50_000].prop_map(|n| {
        format!(
            "{{\"query\":\"query($v: String) {{ __typename }}\",\"variables\":{{\"v\":{}1{}}}}}",
            "[".repeat(n),
            "]".repeat(n)
        )
        .into_bytes()
    });
    let not_utf8 = prop::collection::vec(any::<u8>(), 0..4096).prop_map(|mut bytes| {
        bytes.splice(0..0, b"{\"query\":\"{ \xff\xfe ".iter().copied());
        bytes
    });
    prop_oneof![6 => as_json, 1 => deep_variables, 1 => not_utf8]
}

/// A web form body: many fields, repeated names, one value that may be long, percent-encoding
/// that is not UTF-8. At most a few thousand short pairs and one value of up to 600 KB, so that
/// the generator itself stays small.
fn forms() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("workflows[0].name".to_owned()),
        (0usize..100_000).prop_map(|i| format!("workflows[{i}].description")),
        (0usize..1000).prop_map(|i| format!("workflows[{i}].entities.activity")),
        Just("requester.name".to_owned()),
        Just("projectUrls".to_owned()),
        Just("platforms".to_owned()),
        "[a-zA-Z.\\[\\]0-9]{0,40}",
    ];
    let value = prop_oneof![
        4 => "[a-z ]{0,50}".prop_map(|v| encode(&v)),
        1 => Just("%FF%FE%00".to_owned()),
        1 => Just(encode(&"https://acme.e7.site/projects/1\r\n".repeat(3))),
    ];
    let long = (name.clone(), 0usize..600_000);
    (prop::collection::vec((name, value), 0..3_000), long).prop_map(|(pairs, (long_name, len))| {
        let mut body = pairs
            .into_iter()
            .map(|(k, v)| format!("{}={v}", encode(&k)))
            .collect::<Vec<_>>()
            .join("&");
        body.push_str(&format!("&{}={}", encode(&long_name), "x".repeat(len)));
        body
    })
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Starts the app with limits that let one test client send every case.
fn start(rt: &tokio::runtime::Runtime) -> TestApp {
    rt.block_on(TestApp::start_with(
        Backend::Sqlite,
        "[http.rate_limits]\nanonymous_per_minute = 100000\n",
    ))
}

#[test]
fn generated_hostile_documents_get_typed_answers_at_a_bounded_cost() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let app = start(&rt);
    let url = app.url("/graphql");
    let client = app.client.clone();
    runner()
        .run(&documents(), |body| {
            if let Ok(path) = std::env::var("GATEHOUSE_ABUSE_TRACE") {
                let _ = std::fs::write(path, &body);
            }
            let started = cpu_time();
            let (status, answer) = rt.block_on(async {
                let response = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
                let status = response.status();
                let bytes = response.bytes().await.unwrap_or_default();
                Ok::<_, TestCaseError>((status, bytes))
            })?;
            let spent = cpu_time().saturating_sub(started);
            prop_assert!(spent < CPU_PER_CASE, "a document cost {spent:?} of CPU");
            prop_assert!(
                matches!(status.as_u16(), 200 | 400 | 401 | 413 | 422),
                "status {status}"
            );
            let json: Value = serde_json::from_slice(&answer)
                .map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {status}")))?;
            prop_assert!(answer.len() < 1024 * 1024, "a {}-byte answer", answer.len());
            if status != StatusCode::OK || !json["errors"].is_null() {
                prop_assert!(
                    json["errors"][0]["extensions"]["code"].is_string(),
                    "an error without a code: {json}"
                );
            }
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{}", shortened(&failure.to_string())));
    let health = rt
        .block_on(async { client.get(app.url("/healthz")).send().await })
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    let peak = crate::support::peak_rss_mib();
    assert!(peak < 300, "peak RSS {peak} MiB");
    rt.block_on(app.stop());
}

#[test]
fn generated_hostile_forms_get_a_page_with_a_clear_status_at_a_bounded_cost() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let app = start(&rt);
    // A CSRF cookie and token from the page, so that bodies get past the token on /check and
    // /assess as an attacker's would.
    let web = gatehouse_tests::web::WebClient::anonymous(&app);
    let csrf = rt.block_on(web.csrf("/check"));
    let paths = ["/check", "/assess", "/login", "/requests/new"];
    let strategy = (forms(), 0usize..paths.len(), any::<bool>());
    runner()
        .run(&strategy, |(form, path, with_token)| {
            let path = paths[path];
            let body = if with_token {
                format!("csrf={csrf}&action=assess&{form}")
            } else {
                form
            };
            let oversized = body.len() > MAX_FORM_BYTES;
            let started = cpu_time();
            let answer = rt.block_on(async {
                web.client
                    .post(app.url(path))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status())
            });
            let spent = cpu_time().saturating_sub(started);
            prop_assert!(
                spent < CPU_PER_CASE,
                "a form to {path} cost {spent:?} of CPU"
            );
            match answer {
                Ok(status) => prop_assert!(
                    matches!(
                        status.as_u16(),
                        200 | 303 | 400 | 401 | 403 | 413 | 422 | 429
                    ),
                    "{path}: status {status}"
                ),
                // Past the form limit the server answers 413 and closes the connection before
                // the client has sent everything: the client may see the close instead.
                Err(_) if oversized => {}
                Err(error) => return Err(TestCaseError::fail(format!("no answer: {error}"))),
            }
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{}", shortened(&failure.to_string())));
    let health = rt
        .block_on(async { web.client.get(app.url("/healthz")).send().await })
        .expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    let peak = crate::support::peak_rss_mib();
    assert!(peak < 300, "peak RSS {peak} MiB");
    rt.block_on(app.stop());
}

/// A failure's message without the megabytes of its input.
fn shortened(text: &str) -> String {
    text.chars().take(2_000).collect()
}
