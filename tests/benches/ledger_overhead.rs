//! The usage ledger's cost on the hottest path: a warm, cached GraphQL query.
//!
//! Two Gatehouse apps run in process in front of one simulator, identical but for
//! `[metering] enabled`. Each is warmed, then rounds alternate between them: N concurrent
//! clients POST the same cached query for T seconds. The medians of the rounds are compared
//! side by side in this one run, because these machines are noisy.
//!
//! ```sh
//! cargo bench -p gatehouse-tests --bench ledger_overhead
//! LEDGER_BENCH_CLIENTS=16 LEDGER_BENCH_SECS=5 LEDGER_BENCH_ROUNDS=7 cargo bench -p gatehouse-tests --bench ledger_overhead
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gatehouse::auth::app_keys::NewAppKey;
use gatehouse::auth::{Access, KeyScopes};
use gatehouse::config::{Config, Overrides};
use gatehouse_compliance::Entity;
use serde_json::json;

const QUERY: &str =
    "query Warm($p: ID!) { project(id: $p) { name activities(first: 10) { nodes { id name } } } }";

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Target {
    label: &'static str,
    url: String,
    key: String,
    project: String,
    app: gatehouse::RunningApp,
    _dir: tempfile::TempDir,
}

async fn start(
    label: &'static str,
    metering: bool,
    sim: &synchro_sim::SimHandle,
) -> anyhow::Result<Target> {
    let dir = tempfile::tempdir()?;
    let mut tokens = String::from("[upstream.tokens]\n");
    let project = sim.projects()[0].id;
    let token = sim
        .create_token(project, synchro_sim::Scope::ReadWrite)
        .await;
    tokens.push_str(&format!("\"{project}\" = \"{token}\"\n"));
    let toml = format!(
        "[log]\nfilter = \"warn\"\n[graphql]\ndefault_rate_per_minute = 100000000\n\
         [metering]\nenabled = {metering}\n[upstream]\nbase_url = \"{}\"\n{tokens}",
        sim.base_url()
    );
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".parse()?),
        database_url: Some(format!(
            "sqlite://{}",
            dir.path().join("gatehouse.db").display()
        )),
        log_format: None,
    };
    let config = Config::from_toml(&toml, &overrides)?;
    let app = gatehouse::spawn(config).await?;
    let (_, key) = gatehouse::auth::app_keys::create(
        &app.services.db,
        &gatehouse::audit::Actor::Cli,
        NewAppKey {
            name: format!("bench {label}"),
            scopes: KeyScopes::new(
                vec![project.to_string()],
                [(Entity::Activity, Access::Read)],
            ),
            ..NewAppKey::default()
        },
    )
    .await?;
    Ok(Target {
        label,
        url: format!("{}/graphql", app.url()),
        key,
        project: project.to_string(),
        app,
        _dir: dir,
    })
}

/// Requests per second of `clients` concurrent clients for `secs` seconds.
async fn round(target: &Target, clients: u64, secs: u64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (url, key, project, done) = (
            target.url.clone(),
            target.key.clone(),
            target.project.clone(),
            done.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let body = json!({ "query": QUERY, "variables": { "p": project } });
            while Instant::now() < deadline {
                let ok = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn synthetic_call(i: u64) -> gatehouse::metering::ledger::CallRecord {
    gatehouse::metering::ledger::CallRecord {
        occurred_at: chrono::Utc::now(),
        project_id: "bench-project".to_owned(),
        token_fingerprint: "0123456789ab".to_owned(),
        endpoint: "/api/v1/projects/{project_id}/activities".to_owned(),
        method: "GET".to_owned(),
        entity: Some(Entity::Activity),
        action: Some(gatehouse_compliance::model::Operation::Read),
        status: Some(200),
        error: None,
        latency: Duration::from_micros(1_000 + i % 1_000),
        bytes_sent: 0,
        bytes_received: 4_096,
        attempt: 0,
        cache: "miss",
        app_key_id: None,
        user_id: None,
        operation: Some("Bench".to_owned()),
        workflow: None,
        request_id: None,
        list: None,
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let clients = env_number("LEDGER_BENCH_CLIENTS", 8);
    let secs = env_number("LEDGER_BENCH_SECS", 3);
    let rounds = env_number("LEDGER_BENCH_ROUNDS", 5);
    let sim = synchro_sim::spawn(synchro_sim::SimConfig::default(), "127.0.0.1:0".parse()?).await?;
    let on = start("ledger on", true, &sim).await?;
    let off = start("ledger off", false, &sim).await?;
    for target in [&on, &off] {
        // Warm: the data into the cache, the key into the key cache, the connections open.
        round(target, clients, 1).await;
    }
    let mut results = [Vec::new(), Vec::new()];
    for r in 0..rounds {
        // Alternate which goes first, so that drift in the machine hits both alike.
        let order: [(usize, &Target); 2] = if r.is_multiple_of(2) {
            [(0, &on), (1, &off)]
        } else {
            [(1, &off), (0, &on)]
        };
        for (slot, target) in order {
            let rate = round(target, clients, secs).await;
            println!("round {}: {:<10} {:>9.0} req/s", r + 1, target.label, rate);
            results[slot].push(rate);
        }
    }
    on.app.services.metering.ledger.flush().await;
    let stats = on.app.services.metering.ledger.stats();
    let on_rate = median(&mut results[0]);
    let off_rate = median(&mut results[1]);
    let overhead = (off_rate - on_rate) / off_rate * 100.0;
    println!();
    println!("warm cached query, {clients} clients, {rounds} rounds of {secs} s (medians):");
    println!("  ledger on : {on_rate:>9.0} req/s");
    println!("  ledger off: {off_rate:>9.0} req/s");
    println!("  on/off    : {:.3}", on_rate / off_rate);
    println!("  overhead  : {overhead:.1} % (target: under 5 %)");
    println!(
        "  ledger    : {} records written, {} dropped",
        stats.written, stats.dropped
    );

    // Overload: records offered far faster than any request rate, straight into the ledger
    // (queue_capacity 50,000), to measure what the writer sustains and what a full queue drops.
    let burst = env_number("LEDGER_BENCH_BURST", 200_000);
    let ledger = &on.app.services.metering.ledger;
    let before = ledger.stats();
    let started = Instant::now();
    for i in 0..burst {
        ledger.record_call(synthetic_call(i));
        if i % 1_000 == 999 {
            // Let the writer run between bursts, as request handlers would.
            tokio::task::yield_now().await;
        }
    }
    let offered_in = started.elapsed();
    ledger.flush().await;
    let drained_in = started.elapsed();
    let after = ledger.stats();
    let written = after.written - before.written;
    let dropped = after.dropped - before.dropped;
    println!();
    println!(
        "overload: {burst} call records offered in {:.2} s",
        offered_in.as_secs_f64()
    );
    println!(
        "  written   : {written} ({:.0} records/s until drained in {:.2} s)",
        written as f64 / drained_in.as_secs_f64(),
        drained_in.as_secs_f64()
    );
    println!(
        "  dropped   : {dropped} ({:.1} %), counted in ledger_records_dropped_total",
        dropped as f64 * 100.0 / burst as f64
    );
    println!("  accounted : {}", written + dropped == burst);
    on.app.stop().await?;
    off.app.stop().await?;
    sim.shutdown().await;
    Ok(())
}
