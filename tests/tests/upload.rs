//! A 100 MiB attachment goes through Gatehouse to the upstream as a stream: the process's peak
//! memory grows by far less than the file's size.

use std::io::Write;

use gatehouse_compliance::Entity;
use gatehouse_core::auth::{Access, KeyScopes};
use gatehouse_tests::{Backend, SimApp};
use serde_json::{Value, json};
use synchro_sim::SimConfig;

const FILE_BYTES: u64 = 100 * 1024 * 1024;

/// Peak resident memory of this process so far, in bytes (Linux).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .expect("VmHWM")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mib_upload_streams_through_with_flat_memory() {
    let rig = SimApp::start(
        Backend::Sqlite,
        SimConfig::default(),
        "",
        "request_timeout_ms = 120000",
    )
    .await;
    let project = rig.projects[0].clone();
    let (_, key) = rig
        .app
        .create_key(KeyScopes::new(
            vec![project.clone()],
            [
                (Entity::Attachment, Access::Write),
                (Entity::Activity, Access::Read),
            ],
        ))
        .await;
    let (_, body) = rig
        .app
        .graphql(
            Some(&key),
            "query($p: ID!) { project(id: $p) { activities(first: 1) { nodes { id } } } }",
            json!({ "p": project }),
        )
        .await;
    let activity = body["data"]["project"]["activities"]["nodes"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("site-survey.bin");
    {
        let mut file = std::fs::File::create(&path).expect("file");
        let chunk = vec![0x5au8; 1024 * 1024];
        for _ in 0..(FILE_BYTES / chunk.len() as u64) {
            file.write_all(&chunk).expect("write");
        }
    }
    let baseline = peak_rss();

    let operations = json!({
        "query": "mutation($p: ID!, $a: ID!, $f: Upload!, $k: String!) { uploadAttachment(projectId: $p, activityId: $a, file: $f, idempotencyKey: $k) { id fileName sizeBytes } }",
        "variables": { "p": project, "a": activity, "f": null, "k": "upload-100mib-1" }
    });
    let file = tokio::fs::File::open(&path).await.expect("open");
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024);
    let part = reqwest::multipart::Part::stream_with_length(
        reqwest::Body::wrap_stream(stream),
        FILE_BYTES,
    )
    .file_name("site-survey.bin")
    .mime_str("application/octet-stream")
    .expect("mime");
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.f"] }).to_string())
        .part("0", part);
    let response = reqwest::Client::new()
        .post(rig.app.url("/graphql"))
        .bearer_auth(&key)
        .header("x-csrf-token", "not needed for app keys")
        .multipart(form)
        .send()
        .await
        .expect("sent");
    let body: Value = response.json().await.expect("json");
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["uploadAttachment"]["sizeBytes"],
        FILE_BYTES.to_string()
    );
    assert_eq!(
        body["data"]["uploadAttachment"]["fileName"],
        "site-survey.bin"
    );

    let grown = peak_rss().saturating_sub(baseline);
    eprintln!(
        "peak memory grew by {} KiB for a {} MiB upload",
        grown / 1024,
        FILE_BYTES / 1024 / 1024
    );
    assert!(
        grown < 32 * 1024 * 1024,
        "peak memory grew by {grown} bytes"
    );
    let stats = rig.sim.stats().await;
    assert_eq!(
        stats.count(
            "POST",
            "/api/v1/projects/{project_id}/activities/{id}/attachments"
        ),
        1
    );
    rig.stop().await;
}
