//! Dataclips: catalogue, headers, snapshots and conditional requests, auth, faults, streaming.

// Test helpers unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::Harness;
use serde_json::{Value, json};
use synchro_sim::clips::Clip;
use synchro_sim::{DataSize, SimConfig, SizePreset};

async fn with_user(config: SimConfig) -> Harness {
    let h = Harness::start(config).await;
    h.sim
        .create_dataclip_user("analyst", "s3cret", h.project, None)
        .await
        .unwrap();
    h.sim
        .create_dataclip_user(
            "narrow",
            "pw",
            h.project,
            Some(vec!["activity-export".into()]),
        )
        .await
        .unwrap();
    h
}

fn clip_url(h: &Harness, clip: &str) -> String {
    h.root(&format!("/dataclips/{}/{clip}", h.project))
}

async fn fetch(h: &Harness, clip: &str) -> reqwest::Response {
    h.http
        .get(clip_url(h, clip))
        .basic_auth("analyst", Some("s3cret"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn clips_carry_the_export_headers() {
    let h = with_user(SimConfig::default()).await;
    // Each clip's CSV has exactly the header row its writer declares, `Id` first, and rows
    // that parse. (Which names those are is the writer's business: it stands for Bentley's
    // exports; Gatehouse's ingest reads them by name, tested against this simulator in the
    // black-box suite.)
    for clip in Clip::ALL {
        let response = fetch(&h, &format!("{}.csv", clip.name())).await;
        assert_eq!(response.status(), 200, "{}", clip.name());
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let text = response.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(headers, clip.fields(), "{}", clip.name());
        assert_eq!(headers[0], "Id");
        let rows = reader.records().inspect(|r| assert!(r.is_ok())).count();
        assert!(rows > 0, "{} has rows", clip.name());
    }
    let usages = fetch(&h, "resource-usages-export.csv")
        .await
        .text()
        .await
        .unwrap();
    let rows = csv::Reader::from_reader(usages.as_bytes())
        .records()
        .count();
    assert_eq!(rows, 5_000, "one row per seeded usage");
    let approved = fetch(&h, "resource-usages-approved.csv")
        .await
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(approved.as_bytes());
    let status = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "Approval Status")
        .unwrap();
    assert!(reader.records().all(|r| &r.unwrap()[status] == "Approved"));
}

#[tokio::test]
async fn the_json_form_has_fields_and_values() {
    let h = with_user(SimConfig::default()).await;
    let body: Value = fetch(&h, "dockets.json").await.json().await.unwrap();
    let fields = body["fields"].as_array().unwrap();
    let values = body["values"].as_array().unwrap();
    assert_eq!(fields[0], "Id");
    assert!(!values.is_empty());
    assert!(
        values
            .iter()
            .all(|row| row.as_array().unwrap().len() == fields.len())
    );
    assert_eq!(body["title"], "Dockets");
}

#[tokio::test]
async fn a_matching_etag_or_date_gets_304_until_the_next_snapshot() {
    let h = with_user(SimConfig::default()).await;
    let first = fetch(&h, "activity-export.csv").await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let modified = first.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(first.headers().contains_key("x-snapshot-time"));
    let url = clip_url(&h, "activity-export.csv");
    let again = h
        .http
        .get(&url)
        .basic_auth("analyst", Some("s3cret"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let again = h
        .http
        .get(&url)
        .basic_auth("analyst", Some("s3cret"))
        .header("if-modified-since", &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // A write is not visible before the next refresh; after it the ETag changes.
    let activity = h.get_json(&h.url("/activities?per_page=1")).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = h
        .http
        .patch(h.url(&format!("/activities/{activity}")))
        .bearer_auth(&h.write)
        .json(&json!({"percent_complete": 12.5}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 200);
    let still = h
        .http
        .get(&url)
        .basic_auth("analyst", Some("s3cret"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 304, "a request never runs the query");
    h.sim.refresh_dataclips().await;
    let fresh = h
        .http
        .get(&url)
        .basic_auth("analyst", Some("s3cret"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    assert_ne!(fresh.headers()["etag"].to_str().unwrap(), etag);
}

#[tokio::test]
async fn snapshots_refresh_on_their_schedule() {
    let config = SimConfig {
        dataclip_refresh: Duration::from_secs(1),
        ..SimConfig::default()
    };
    let h = with_user(config).await;
    let first = fetch(&h, "dockets.csv").await.headers()["x-snapshot-time"]
        .to_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let later = fetch(&h, "dockets.csv").await.headers()["x-snapshot-time"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(later > first, "{later} after {first}");
}

#[tokio::test]
async fn dataclip_credentials_and_provisioning_are_enforced() {
    let h = with_user(SimConfig::default()).await;
    let url = clip_url(&h, "dockets.csv");
    let none = h.http.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers().contains_key("www-authenticate"));
    let wrong = h
        .http
        .get(&url)
        .basic_auth("analyst", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let narrow = h
        .http
        .get(&url)
        .basic_auth("narrow", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(narrow.status(), 403);
    let narrow_ok = h
        .http
        .get(clip_url(&h, "activity-export.json"))
        .basic_auth("narrow", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(narrow_ok.status(), 200);
    assert_eq!(fetch(&h, "no-such-clip.csv").await.status(), 404);
    assert_eq!(fetch(&h, "dockets.xml").await.status(), 404);
    let other = h.root(&format!("/dataclips/{}/dockets.csv", h.other_project));
    assert_eq!(
        h.http
            .get(&other)
            .basic_auth("analyst", Some("s3cret"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let catalogue: Vec<Value> = h
        .http
        .get(h.root(&format!("/dataclips/{}", h.project)))
        .basic_auth("narrow", Some("pw"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(catalogue.len(), 8);
    let confirmed: Vec<&str> = catalogue
        .iter()
        .filter(|c| c["confirmed"] == true)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        confirmed,
        ["activity-export", "applicable-rates", "attendance-export"]
    );
    assert_eq!(
        catalogue
            .iter()
            .filter(|c| c["provisioned"] == true)
            .count(),
        1
    );
    let stats = h.sim.stats().await;
    assert_eq!(stats.count("GET", "/dataclips/{project_id}/dockets.csv"), 4);
    assert_eq!(stats.count_token("dataclip:narrow"), 3);
}

#[tokio::test]
async fn a_cut_rule_breaks_the_body_after_the_given_bytes() {
    let h = with_user(SimConfig::default()).await;
    let rule = json!({"endpoint": "*", "clip": "resource-usages-export", "cut_after_bytes": 10_000, "count": 1});
    assert_eq!(
        h.http
            .post(h.root("/_sim/faults"))
            .json(&rule)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let response = fetch(&h, "resource-usages-export.csv").await;
    assert_eq!(response.status(), 200);
    let mut received = 0usize;
    let mut stream = response.bytes_stream();
    let mut failed = false;
    use futures::StreamExt;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => received += bytes.len(),
            Err(_) => {
                failed = true;
                break;
            }
        }
    }
    assert!(failed, "the body ends in an error");
    assert_eq!(received, 10_000);
    // The rule was spent: the next fetch is whole.
    let whole = fetch(&h, "resource-usages-export.csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(whole.len() > 100_000);
}

#[tokio::test]
async fn a_malformed_row_rule_breaks_exactly_one_row() {
    let h = with_user(SimConfig::default()).await;
    let rules = [
        json!({"clip": "resource-usages-export", "malformed_row": 7, "count": 1}),
        json!({"clip": "resource-usages-export", "malformed_row": 9, "malformed_kind": "column_count", "count": 1}),
    ];
    for rule in rules {
        assert_eq!(
            h.http
                .post(h.root("/_sim/faults"))
                .json(&rule)
                .send()
                .await
                .unwrap()
                .status(),
            201
        );
        let text = fetch(&h, "resource-usages-export.csv")
            .await
            .text()
            .await
            .unwrap();
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let quantity = reader
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "Quantity")
            .unwrap();
        let width = reader.headers().unwrap().len();
        let mut bad = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let record = record.unwrap();
            if record.len() != width || record[quantity].parse::<f64>().is_err() {
                bad.push(i);
            }
        }
        assert_eq!(bad.len(), 1, "{rule}");
        assert!(bad[0] == 7 || bad[0] == 9);
    }
}

/// Resident memory of this process, kibibytes.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_row_clip_streams_with_flat_memory() {
    let size = DataSize::preset(SizePreset::Small).with_usages(1_000_000);
    let h = with_user(SimConfig {
        size,
        ..SimConfig::default()
    })
    .await;
    let before = rss_kib();
    let response = fetch(&h, "resource-usages-export.csv").await;
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let (mut bytes, mut lines, mut peak) = (0u64, 0u64, 0u64);
    use futures::StreamExt;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        if lines % 50_000 < 600 {
            peak = peak.max(rss_kib().unwrap_or(0));
        }
    }
    assert_eq!(lines, 1_000_001, "header and a million rows");
    assert!(bytes > 150_000_000, "{bytes} bytes streamed");
    if let Some(before) = before {
        let growth_mib = peak.saturating_sub(before) / 1024;
        assert!(
            growth_mib < 64,
            "RSS grew {growth_mib} MiB while streaming {} MiB",
            bytes >> 20
        );
    }
}
