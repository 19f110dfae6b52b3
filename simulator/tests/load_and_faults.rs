//! Load behaviour (rate limit, heavy-collection concurrency, latency) and fault injection.

// Test helpers unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Harness, error_code};
use serde_json::{Value, json};
use synchro_sim::{LatencyModel, RateLimit, SimConfig};

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after_per_token() {
    let config = SimConfig {
        rate_limit: Some(RateLimit {
            per_second: 1,
            burst: 3,
        }),
        ..SimConfig::default()
    };
    let h = Harness::start(config).await;
    let url = h.url("/companies");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(h.get(&url, &h.read).await.status().as_u16());
    }
    assert_eq!(&statuses[..3], &[200, 200, 200]);
    let limited = h.get(&url, &h.read).await;
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    assert_eq!(error_code(limited).await, "rate_limited");
    // Another token has its own bucket.
    assert_eq!(h.get(&url, &h.write).await.status(), 200);
}

#[tokio::test]
async fn heavy_collections_answer_503_beyond_the_concurrency_threshold() {
    let config = SimConfig {
        heavy_concurrency_limit: 2,
        latency: LatencyModel {
            // Long enough that the five requests overlap even on a loaded machine.
            base: Duration::from_millis(2_000),
            ..LatencyModel::none()
        },
        ..SimConfig::default()
    };
    let h = Harness::start(config).await;
    let url = h.url("/resource_usages?per_page=5");
    let requests = (0..5).map(|_| h.get(&url, &h.read));
    let responses = futures::future::join_all(requests).await;
    let ok = responses.iter().filter(|r| r.status() == 200).count();
    let busy: Vec<&reqwest::Response> = responses.iter().filter(|r| r.status() == 503).collect();
    assert_eq!(ok, 2, "two fit under the threshold");
    assert_eq!(busy.len(), 3);
    assert!(busy.iter().all(|r| r.headers().contains_key("retry-after")));
    // Light collections are not subject to it.
    let light_url = h.url("/companies");
    let light = futures::future::join_all((0..5).map(|_| h.get(&light_url, &h.read))).await;
    assert!(light.iter().all(|r| r.status() == 200));
}

#[tokio::test]
async fn latency_grows_with_page_size_and_window() {
    let config = SimConfig {
        latency: LatencyModel {
            base: Duration::ZERO,
            per_row: Duration::from_millis(2),
            per_day: Duration::from_millis(5),
        },
        ..SimConfig::default()
    };
    let h = Harness::start(config).await;
    let timed = |url: String| {
        let h = &h;
        async move {
            let start = Instant::now();
            assert_eq!(h.get(&url, &h.read).await.status(), 200);
            start.elapsed()
        }
    };
    let small = timed(h.url("/resource_usages?per_page=1&from=2025-01-06&to=2025-01-06")).await;
    let big = timed(h.url("/resource_usages?per_page=100&from=2025-01-06&to=2025-03-01")).await;
    // 1 row × 2 ms + 1 day × 5 ms = 7 ms; 100 rows × 2 ms + 55 days × 5 ms = 475 ms.
    assert!(small >= Duration::from_millis(7), "{small:?}");
    assert!(big >= Duration::from_millis(475), "{big:?}");
    assert!(big > small, "{big:?} > {small:?}");
}

async fn add_fault(h: &Harness, rule: Value) -> u64 {
    let response = h
        .http
        .post(h.root("/_sim/faults"))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{rule}");
    response.json::<Value>().await.unwrap()["id"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn an_error_rule_with_rate_one_fails_exactly_count_requests() {
    let h = Harness::default().await;
    let template = format!("{}/projects/{{project_id}}/activities", "/api/v1");
    add_fault(&h, json!({"endpoint": template, "method": "GET", "error_rate": 1.0, "status": 503, "count": 2})).await;
    let url = h.url("/activities?per_page=1");
    let first = h.get(&url, &h.read).await;
    assert_eq!(first.status(), 503);
    assert!(first.headers().contains_key("retry-after"));
    assert_eq!(h.get(&url, &h.read).await.status(), 503);
    assert_eq!(h.get(&url, &h.read).await.status(), 200);
    // Other endpoints were never affected.
    assert_eq!(
        h.get(&h.url("/events?per_page=1"), &h.read).await.status(),
        200
    );
    let rules: Vec<Value> = h
        .http
        .get(h.root("/_sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rules[0]["fired"], 2);
    assert_eq!(rules[0]["remaining"], 0);
}

#[tokio::test]
async fn a_fractional_error_rate_fails_some_requests_reproducibly() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let h = Harness::default().await;
        add_fault(
            &h,
            json!({"endpoint": "*", "error_rate": 0.5, "status": 500}),
        )
        .await;
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(h.get(&h.url("/companies"), &h.read).await.status().as_u16());
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1], "the same seed injects the same errors");
    let failed = runs[0].iter().filter(|s| **s == 500).count();
    assert!((8..=32).contains(&failed), "{failed} of 40 failed");
}

#[tokio::test]
async fn latency_hang_and_malformed_body_rules_take_effect_and_can_be_cleared() {
    let h = Harness::default().await;
    let url = h.url("/companies");
    add_fault(&h, json!({"endpoint": "*", "latency_ms": 300, "count": 1})).await;
    let start = Instant::now();
    assert_eq!(h.get(&url, &h.read).await.status(), 200);
    assert!(start.elapsed() >= Duration::from_millis(300));

    add_fault(
        &h,
        json!({"endpoint": "*", "malformed_body": true, "count": 1}),
    )
    .await;
    let response = h.get(&url, &h.read).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    add_fault(&h, json!({"endpoint": "*", "hang": true})).await;
    let hung = h
        .http
        .get(&url)
        .bearer_auth(&h.read)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(hung.is_err_and(|e| e.is_timeout()));
    let cleared = h.http.delete(h.root("/_sim/faults")).send().await.unwrap();
    assert_eq!(cleared.status(), 204);
    assert_eq!(h.get(&url, &h.read).await.status(), 200);

    let bad = h
        .http
        .post(h.root("/_sim/faults"))
        .json(&json!({"error_rate": 2.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let unknown = h
        .http
        .post(h.root("/_sim/faults"))
        .json(&json!({"explode": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 422);
}

#[tokio::test]
async fn stats_count_every_call_exactly_and_reset() {
    let config = SimConfig {
        rate_limit: Some(RateLimit {
            per_second: 1,
            burst: 2,
        }),
        ..SimConfig::default()
    };
    let h = Harness::start(config).await;
    let activities = h.url("/activities?per_page=1");
    let template = "/api/v1/projects/{project_id}/activities";
    h.get(&activities, &h.read).await; // 200
    h.get(&activities, &h.read).await; // 200
    h.get(&activities, &h.read).await; // 429
    h.http.get(&activities).send().await.unwrap(); // 401
    let other = format!(
        "{}/projects/{}/activities",
        h.sim.api_url(),
        h.other_project
    );
    h.get(&other, &h.write).await; // 404: another project's data
    h.get(&h.url("/nonsense"), &h.write).await; // 404 unmatched
    h.http.get(h.root("/_sim/projects")).send().await.unwrap(); // not counted

    let stats = h.sim.stats().await;
    assert_eq!(stats.total, 6);
    assert_eq!(stats.count("GET", template), 5);
    assert_eq!(stats.count_status(200), 2);
    assert_eq!(stats.count_status(429), 1);
    assert_eq!(stats.count_status(401), 1);
    assert_eq!(stats.count_status(404), 2);
    assert_eq!(stats.count_token("anonymous"), 1);
    let over_http: Value = h
        .http
        .get(h.root("/_sim/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(over_http["total"], 6);
    assert!(
        over_http["calls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["endpoint"] == template && c["status"] == 429)
    );

    let reset = h
        .http
        .post(h.root("/_sim/stats/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 204);
    assert_eq!(h.sim.stats().await.total, 0);
    h.get(&h.url("/events?per_page=1"), &h.write).await;
    let stats = h.sim.stats().await;
    assert_eq!(stats.total, 1);
    h.sim.reset_stats().await;
    assert_eq!(h.sim.stats().await, synchro_sim::Stats::default());
}

#[tokio::test]
async fn concurrent_calls_are_all_counted() {
    let h = Harness::default().await;
    let urls: Vec<String> = (0..50)
        .map(|i| h.url(&format!("/events?per_page={}", i % 7 + 1)))
        .collect();
    futures::future::join_all(urls.iter().map(|url| h.get(url, &h.read))).await;
    let stats = h.sim.stats().await;
    assert_eq!(
        stats.count("GET", "/api/v1/projects/{project_id}/events"),
        50
    );
    assert_eq!(stats.total, 50);
}
