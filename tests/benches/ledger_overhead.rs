//! The usage ledger's cost on the hottest path: a warm, cached GraphQL query.
//!
//! Four Gatehouse apps run in process in front of one simulator, identical but for
//! `[metering]`: the ledger as configured by default (operations answered from the caches are
//! counted into shared rows), the ledger writing a row for every operation
//! (`count_operations = false`), and twice no ledger (`enabled = false`). Each is warmed, then
//! every round runs each of them in turn, in a balanced order: N concurrent clients POST the
//! same cached query for T seconds. Ratios are taken within each round (every app measured
//! back to back, so they drift least when the machine's speed does) and their median is the
//! figure, computed in this one run, because these machines are noisy. The two apps without a
//! ledger measured against each other give the run's noise floor.
//!
//! ```sh
//! cargo bench -p gatehouse-tests --bench ledger_overhead
//! LEDGER_BENCH_CLIENTS=16 LEDGER_BENCH_SECS=3 LEDGER_BENCH_ROUNDS=16 cargo bench -p gatehouse-tests --bench ledger_overhead
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use gatehouse::config::{Config, Overrides};
use gatehouse_compliance::Entity;
use gatehouse_core::auth::app_keys::NewAppKey;
use gatehouse_core::auth::{Access, KeyScopes};
use gatehouse_core::db::entities::ledger_operations;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

/// The server's allocator (see `api/src/main.rs`), so that the benchmark measures what runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    metering: &str,
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
         [metering]\n{metering}\n[upstream]\nbase_url = \"{}\"\n{tokens}",
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
    let (_, key) = gatehouse_core::auth::app_keys::create(
        &app.services.db,
        &gatehouse_core::audit::Actor::Cli,
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
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    // The round's records are committed before the next round starts, so that none of this
    // writer's work falls into another target's round.
    target.app.services.metering.ledger.flush().await;
    rate
}

/// The order of the targets in each round: a balanced Latin square (for an even count), so
/// that over `count` rounds every target runs once in every position and right after every
/// other target once. A fixed rotation would always run the same target after the same one,
/// and what a round leaves behind (connections closing, memory returned) would weigh on its
/// successor every time.
fn round_order(round: usize, count: usize) -> Vec<usize> {
    let mut first = Vec::with_capacity(count);
    let (mut low, mut high) = (0, count);
    for i in 0..count {
        if i % 2 == 0 {
            first.push(low);
            low += 1;
        } else {
            high -= 1;
            first.push(high);
        }
    }
    first.iter().map(|t| (t + round) % count).collect()
}

fn synthetic_call(i: u64) -> gatehouse_core::metering::ledger::CallRecord {
    gatehouse_core::metering::ledger::CallRecord {
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

/// An operation answered from the response cache, as the warm query's are.
fn synthetic_operation(i: u64) -> gatehouse_core::metering::OperationRecord {
    gatehouse_core::metering::OperationRecord {
        occurred_at: chrono::Utc::now(),
        request_id: Some(format!("{:032x}", u128::from(i))),
        app_key_id: Some(uuid::Uuid::from_u128(7)),
        user_id: None,
        project_id: Some("bench-project".to_owned()),
        operation: Some("Warm".to_owned()),
        kind: "query",
        source: "cache",
        cache_hits: 2,
        cache_stale: 0,
        cache_misses: 0,
        upstream_calls: 0,
        estimated_cost: Some(12),
        duration: Duration::from_micros(150 + i % 100),
        outcome: "ok",
        error_code: None,
    }
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
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
    let secs = env_number("LEDGER_BENCH_SECS", 1);
    let rounds = env_number("LEDGER_BENCH_ROUNDS", 16);
    let sim = synchro_sim::spawn(synchro_sim::SimConfig::default(), "127.0.0.1:0".parse()?).await?;
    let targets = [
        start("counted", "enabled = true", &sim).await?,
        start("row each", "count_operations = false", &sim).await?,
        start("off", "enabled = false", &sim).await?,
        // A second app without a ledger: how far two identical apps differ in one run is
        // the noise floor under which an overhead means nothing.
        start("off again", "enabled = false", &sim).await?,
    ];
    const OFF: usize = 2;
    const OFF_AGAIN: usize = 3;
    for target in &targets {
        // Warm: the data into the cache, the key into the key cache, the connections open.
        round(target, clients, 1).await;
    }
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); targets.len()];
    for r in 0..rounds {
        for slot in round_order(r as usize, targets.len()) {
            let target = &targets[slot];
            let rate = round(target, clients, secs).await;
            println!("round {}: {:<10} {:>9.0} req/s", r + 1, target.label, rate);
            results[slot].push(rate);
        }
    }
    // Each round measures every target back to back, so ratios within a round drift least
    // when the machine's speed does. The ledgers are measured against the mean of both apps
    // without one; those two against each other, which is the noise floor.
    let per_round = |slot: usize| -> f64 {
        let mut ratios: Vec<f64> = (0..results[slot].len())
            .map(|r| {
                let reference = if slot == OFF_AGAIN {
                    results[OFF][r]
                } else {
                    f64::midpoint(results[OFF][r], results[OFF_AGAIN][r])
                };
                results[slot][r] / reference
            })
            .collect();
        median(&mut ratios)
    };
    println!();
    println!("warm cached query, {clients} clients, {rounds} rounds of {secs} s:");
    // The target holds for the ledger as configured by default (slot 0, "counted").
    let default_overhead = (1.0 - per_round(0)) * 100.0;
    for (slot, target) in targets.iter().enumerate() {
        let rate = median(&mut results[slot].clone());
        let stats = target.app.services.metering.ledger.stats();
        let rows = ledger_operations::Entity::find()
            .count(&target.app.services.db)
            .await?;
        print!("  {:<10}: median {rate:>7.0} req/s", target.label);
        if slot == OFF {
            // The reference.
        } else if target.app.services.metering.ledger.is_enabled() {
            let ratio = per_round(slot);
            print!(
                "; per round {ratio:.3} of both offs: overhead {:.1} % (target: under 5 %)\n\
                 {:14}{} records written in {rows} operation rows, {} dropped",
                (1.0 - ratio) * 100.0,
                "",
                stats.written,
                stats.dropped
            );
        } else {
            print!("; per round {:.3} of off: the noise floor", per_round(slot));
        }
        println!();
    }

    // The ledger's own cost per operation, without the noise of HTTP around it: operation
    // records like the warm query's, offered in chunks the queue holds and written, with the
    // machine otherwise idle.
    println!();
    println!("cost per warm operation, offered and written:");
    let chunk = 20_000;
    let chunks = env_number("LEDGER_BENCH_CHUNKS", 10);
    for target in &targets[..2] {
        let ledger = &target.app.services.metering.ledger;
        let before = ledger.stats();
        let started = Instant::now();
        let mut offering = Duration::ZERO;
        for c in 0..chunks {
            let offer_started = Instant::now();
            for i in 0..chunk {
                ledger.record_operation(synthetic_operation(c * chunk + i));
            }
            offering += offer_started.elapsed();
            ledger.flush().await;
        }
        let elapsed = started.elapsed();
        let after = ledger.stats();
        let records = (chunks * chunk) as f64;
        println!(
            "  {:<10}: {:.2} µs each ({:.2} µs of it on the request path), {} written, {} dropped",
            target.label,
            elapsed.as_secs_f64() * 1e6 / records,
            offering.as_secs_f64() * 1e6 / records,
            after.written - before.written,
            after.dropped - before.dropped
        );
    }

    // Overload: records offered far faster than any request rate, straight into the ledger
    // (queue_capacity 50,000), to measure what the writer sustains and what a full queue drops.
    let burst = env_number("LEDGER_BENCH_BURST", 200_000);
    let ledger = &targets[0].app.services.metering.ledger;
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
    for target in targets {
        target.app.stop().await?;
    }
    sim.shutdown().await;
    if default_overhead >= 5.0 {
        anyhow::bail!(
            "missed the target: the default ledger costs {default_overhead:.1} % of throughput, not under 5 %"
        );
    }
    Ok(())
}
