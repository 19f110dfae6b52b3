//! Determinism and shape of the seeded data, start-up time, uploads and the API docs.

// Test helpers unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Instant;

use common::Harness;
use serde_json::Value;
use sha2::{Digest, Sha256};
use synchro_sim::{DataSize, SimConfig, SizePreset};

async fn fingerprint(h: &Harness) -> Vec<Value> {
    let mut out = Vec::new();
    for collection in [
        "activities",
        "people",
        "resource_usages",
        "attendance",
        "dockets",
        "applicable_rates",
    ] {
        out.push(
            h.get_json(&h.url(&format!("/{collection}?per_page=25&page=2")))
                .await,
        );
    }
    out
}

#[tokio::test]
async fn the_same_seed_gives_the_same_data_and_another_seed_does_not() {
    let a = Harness::start(SimConfig {
        seed: 7,
        ..SimConfig::default()
    })
    .await;
    let b = Harness::start(SimConfig {
        seed: 7,
        ..SimConfig::default()
    })
    .await;
    let c = Harness::start(SimConfig {
        seed: 8,
        ..SimConfig::default()
    })
    .await;
    assert_eq!(a.sim.projects(), b.sim.projects());
    assert_ne!(a.sim.projects(), c.sim.projects());
    assert_eq!(fingerprint(&a).await, fingerprint(&b).await);
    assert_ne!(fingerprint(&a).await, fingerprint(&c).await);
}

#[tokio::test]
async fn the_small_size_has_the_expected_shape() {
    // How fast it starts is a figure, not a test: printed here, measured by the benchmarks.
    let start = Instant::now();
    let sim = synchro_sim::spawn(SimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    eprintln!("small simulator started in {:?}", start.elapsed());
    sim.shutdown().await;
    let h = Harness::default().await;
    let data = h.sim.state().project(h.project).unwrap().read();
    assert_eq!(h.sim.projects().len(), 3);
    assert_eq!(data.activities.len(), 400);
    assert_eq!(data.usages.seeded_len(), 5_000);
    assert!(data.activities.iter().any(|a| a.has_zero_budget()));
    assert!(
        data.events
            .iter()
            .all(|e| data.activities.iter().any(|a| a.id == e.activity_id))
    );
    let codes: std::collections::HashSet<_> =
        data.activities.iter().map(|a| &a.reference_code).collect();
    assert_eq!(
        codes.len(),
        data.activities.len(),
        "reference codes are unique"
    );
    assert!(
        data.people
            .iter()
            .filter_map(|p| p.supervisor_code.as_ref())
            .all(|c| {
                c.len() <= 5
                    && c.chars()
                        .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit())
            })
    );
    assert!(data.competencies.iter().all(|c| c.issued_on < c.expires_on));
    // Every resource has exactly one open assignment.
    for person in data.people.iter() {
        let open = data
            .resource_assignments
            .iter()
            .filter(|a| a.resource_id == person.id && a.end_date.is_none())
            .count();
        assert_eq!(open, 1);
    }
}

#[test]
fn the_medium_size_has_thousands_of_activities_and_tens_of_thousands_of_usages() {
    let start = Instant::now();
    let projects = synchro_sim::data::seed::generate(1, &DataSize::preset(SizePreset::Medium));
    eprintln!("medium data generated in {:?}", start.elapsed());
    assert_eq!(projects.len(), 3);
    assert_eq!(projects[0].activities.len(), 3_000);
    assert!(projects[0].people.len() >= 300);
    assert_eq!(projects[0].usages.seeded_len(), 60_000);
    assert!(projects[0].attendance.len() >= 10_000);
}

#[tokio::test]
async fn uploads_are_streamed_hashed_and_limited() {
    let dir = tempfile::tempdir().unwrap();
    let config = SimConfig {
        upload_dir: Some(dir.path().to_owned()),
        upload_limit_bytes: 1_000_000,
        ..SimConfig::default()
    };
    let h = Harness::start(config).await;
    let activity = h.get_json(&h.url("/activities?per_page=1")).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = h.url(&format!("/activities/{activity}/attachments"));
    let content: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
    let response = h
        .http
        .post(&url)
        .bearer_auth(&h.write)
        .header("content-type", "image/png")
        .header("x-file-name", "site photo.png")
        .body(content.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let attachment: Value = response.json().await.unwrap();
    assert_eq!(attachment["size_bytes"], 700_000);
    assert_eq!(attachment["content_type"], "image/png");
    assert_eq!(attachment["sha256"], hex::encode(Sha256::digest(&content)));
    let written: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1);
    assert_eq!(std::fs::read(&written[0]).unwrap(), content);

    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"%PDF-1.7 tiny".to_vec())
            .file_name("drawing.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let response = h
        .http
        .post(&url)
        .bearer_auth(&h.write)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let attachment: Value = response.json().await.unwrap();
    assert_eq!(attachment["file_name"], "drawing.pdf");
    assert_eq!(attachment["size_bytes"], 13);
    let listed = h
        .all_pages(&h.url(&format!("/attachments?parent_id={activity}")))
        .await;
    assert!(listed.iter().any(|a| a["id"] == attachment["id"]));

    let too_big = vec![0u8; 1_000_001];
    let response = h
        .http
        .post(format!("{url}?file_name=big.bin"))
        .bearer_auth(&h.write)
        .body(too_big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    // A streamed body without a length is cut at the limit too.
    let chunks =
        futures::stream::iter((0..20).map(|_| Ok::<_, std::io::Error>(vec![1u8; 100_000])));
    let response = h
        .http
        .post(format!("{url}?file_name=stream.bin"))
        .bearer_auth(&h.write)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    if let Ok(response) = response {
        assert_eq!(response.status(), 413);
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "refused uploads leave no file"
    );
    let nameless = h
        .http
        .post(&url)
        .bearer_auth(&h.write)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(nameless.status(), 422);
    let read_only = h
        .http
        .post(format!("{url}?file_name=a.txt"))
        .bearer_auth(&h.read)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(read_only.status(), 403);
    let event = h.get_json(&h.url("/events?per_page=1")).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = h
        .http
        .post(h.url(&format!("/events/{event}/attachments?file_name=note.txt")))
        .bearer_auth(&h.write)
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn the_api_is_documented_from_the_code() {
    let h = Harness::default().await;
    let doc: Value = h
        .http
        .get(h.root("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for collection in [
        "activities",
        "resource_usages",
        "attendance",
        "attachments",
        "progress_entries",
    ] {
        let path = format!("/api/v1/projects/{{project_id}}/{collection}");
        assert!(paths.contains_key(&path), "{path}");
        assert!(
            paths.contains_key(&format!("{path}/{{id}}")),
            "{path}/{{id}}"
        );
    }
    assert!(
        paths["/api/v1/projects/{project_id}/activities"]
            .get("post")
            .is_some()
    );
    assert!(
        paths["/api/v1/projects/{project_id}/activities/{id}"]
            .get("patch")
            .is_some()
    );
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in [
        "Activity",
        "ResourceUsage",
        "Attendance",
        "ErrorBody",
        "NewEvent",
    ] {
        assert!(schemas.contains_key(schema), "{schema}");
    }
    let page = h.http.get(h.root("/api")).send().await.unwrap();
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("/api/v1/projects/{project_id}/resource_usages"));
    assert!(html.contains("id=\"schema-Activity\""));
    assert!(html.contains("work_reference_id"));
}

#[tokio::test]
async fn a_custom_prefix_moves_the_api_and_its_docs() {
    let h = Harness::start(SimConfig {
        api_prefix: "/perform/api/v2".into(),
        ..SimConfig::default()
    })
    .await;
    assert!(h.sim.api_url().ends_with("/perform/api/v2"));
    assert_eq!(h.get(&h.url("/companies"), &h.read).await.status(), 200);
    let doc: Value = h
        .http
        .get(h.root("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["paths"]
            .as_object()
            .unwrap()
            .contains_key("/perform/api/v2/projects")
    );
    let stats = h.sim.stats().await;
    assert_eq!(
        stats.count("GET", "/perform/api/v2/projects/{project_id}/companies"),
        1
    );
}
