//! Dataclip ingest, measured side by side in one run (`cargo bench -p gatehouse --bench
//! dataclip_ingest`).
//!
//! 1. The simulator streams a resource-usages clip of `DATACLIP_BENCH_ROWS` rows (1,000,000 by
//!    default) to a temporary CSV file.
//! 2. Gatehouse ingests that file into a fresh SQLite database (the same code path as a fetch:
//!    streaming parse, typed rows, multi-row INSERTs, snapshot swap) and, for comparison,
//!    `sqlite3 .import` loads it into a plain table. Both rates and their ratio are printed
//!    (target: at least 0.5).
//! 3. Peak memory (VmHWM, reset before each ingest) is printed for a tenth of the rows and for
//!    all of them; the run fails if the full ingest needs more than a generous flat bound.
//! 4. One analytical question (usage totals by company and month) over the snapshot: the
//!    median latency on SQLite, and on PostgreSQL when `GATEHOUSE_TEST_PG_URL` is set.
//!
//! No figure here is asserted except memory; the rates are for `docs/BENCHMARKS.md`.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt;
use gatehouse::config::{ClipFormat, DatabaseUrl, DataclipSourceConfig, DataclipsConfig};
use gatehouse_core::dataclips::analytics::{UsageDimension, UsageFilter};
use gatehouse_core::dataclips::{ClipKind, ClipSpec, Dataclips, RefreshOutcome};
use synchro_sim::{DataSize, SimConfig, SizePreset};
use tokio_util::sync::CancellationToken;

/// The server's allocator (see `api/src/main.rs`), so that the benchmark measures what runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CLIP: &str = "resource-usages-export";
const PROJECT: &str = "bench-project";
/// The most the peak resident memory may grow while ingesting the full clip, over the peak of
/// ingesting a tenth of it. Flat memory means the two are about the same.
const MAX_GROWTH_MIB: f64 = 64.0;

fn status_kib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak resident set size (Linux: `5` to `clear_refs`).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn peak_mib() -> f64 {
    status_kib("VmHWM:").unwrap_or(0.0) / 1024.0
}

fn spec() -> ClipSpec {
    ClipSpec {
        project_id: PROJECT.to_owned(),
        clip: CLIP.to_owned(),
        kind: ClipKind::Usages,
        format: ClipFormat::Csv,
        interval: Duration::from_secs(4 * 3600),
        cycle: Duration::from_secs(4 * 3600),
    }
}

async fn write_clip(rows: u64, path: &Path) -> anyhow::Result<u64> {
    let config = SimConfig {
        size: DataSize::preset(SizePreset::Small).with_usages(rows),
        ..SimConfig::default()
    };
    let sim = synchro_sim::spawn(config, "127.0.0.1:0".parse()?).await?;
    let project = sim.projects()[0].id;
    sim.create_dataclip_user("bench", "bench", project, None)
        .await?;
    let response = reqwest::Client::new()
        .get(format!("{}/dataclips/{project}/{CLIP}.csv", sim.base_url()))
        .basic_auth("bench", Some("bench"))
        .send()
        .await?
        .error_for_status()?;
    let mut file = tokio::fs::File::create(path).await?;
    let mut body = response.bytes_stream();
    let mut bytes = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        bytes += chunk.len() as u64;
        tokio::io::AsyncWriteExt::write_all(&mut file, &chunk).await?;
    }
    tokio::io::AsyncWriteExt::flush(&mut file).await?;
    sim.shutdown().await;
    Ok(bytes)
}

async fn open(url: &str) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let db = gatehouse_core::db::connect(&DatabaseUrl::new(url)).await?;
    gatehouse_core::db::migrate(&db).await?;
    Ok(db)
}

/// Ingests the file with Gatehouse; returns (rows, seconds, peak MiB).
async fn ingest(
    db: sea_orm::DatabaseConnection,
    path: &Path,
) -> anyhow::Result<(u64, f64, f64, Arc<Dataclips>)> {
    let config = DataclipsConfig {
        sources: vec![DataclipSourceConfig {
            project_id: PROJECT.to_owned(),
            clips: vec![CLIP.to_owned()],
            format: ClipFormat::Csv,
            username: "unused".to_owned(),
            password: "unused".to_owned().into(),
            refresh_secs: None,
            cycle_secs: None,
        }],
        ..DataclipsConfig::default()
    };
    let service = Arc::new(Dataclips::new(db, &config)?);
    let file = tokio::fs::File::open(path).await?;
    let body = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024);
    reset_peak();
    let started = Instant::now();
    let outcome = service
        .ingest_stream(&spec(), body, &CancellationToken::new())
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let peak = peak_mib();
    match outcome {
        RefreshOutcome::Updated { rows, .. } => Ok((rows, seconds, peak, service)),
        other => anyhow::bail!("the ingest did not complete: {other:?}"),
    }
}

fn sqlite_import(csv: &Path, dir: &Path) -> Option<f64> {
    let db = dir.join("import.db");
    let started = Instant::now();
    let output = Command::new("sqlite3")
        .arg(&db)
        .arg(".mode csv")
        .arg(format!(".import {} usages", csv.display()))
        .output();
    match output {
        Ok(o) if o.status.success() => Some(started.elapsed().as_secs_f64()),
        Ok(o) => {
            println!(
                "sqlite3 .import failed ({}); skipping the comparison",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            None
        }
        Err(e) => {
            println!(
                "sqlite3 is not installed ({e}); skipping the .import comparison (apt-get install sqlite3)"
            );
            None
        }
    }
}

async fn median_latency(service: &Dataclips) -> anyhow::Result<(f64, usize)> {
    let dims = [UsageDimension::Company, UsageDimension::Month];
    let filter = UsageFilter::default();
    let mut times = Vec::new();
    let mut groups = 0;
    for _ in 0..9 {
        let started = Instant::now();
        let totals = service
            .usage_totals(PROJECT, None, &dims, &filter, 10_000)
            .await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        groups = totals.groups.len();
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], groups))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let rows: u64 = std::env::var("DATACLIP_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let small_csv = dir.path().join("usages-small.csv");
    let csv = dir.path().join("usages.csv");
    let small_rows = (rows / 10).max(1);
    println!("dataclip ingest benchmark: {rows} resource-usage rows");
    write_clip(small_rows, &small_csv)
        .await
        .context("writing the small clip")?;
    let bytes = write_clip(rows, &csv).await.context("writing the clip")?;
    println!("clip: {:.1} MiB of CSV", bytes as f64 / 1048576.0);

    let url = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    let (_, _, small_peak, _) = ingest(open(&url("small.db")).await?, &small_csv).await?;
    let (ingested, seconds, peak, service) =
        ingest(open(&url("gatehouse.db")).await?, &csv).await?;
    let rate = ingested as f64 / seconds;
    println!("gatehouse ingest (SQLite): {ingested} rows in {seconds:.2} s = {rate:.0} rows/s");
    if reset_peak() {
        println!(
            "peak memory (VmHWM): {small_peak:.1} MiB for {small_rows} rows, {peak:.1} MiB for {rows} rows"
        );
    } else {
        println!("peak memory: cannot reset VmHWM here; the figures include the clip generation");
    }
    let ratio = match sqlite_import(&csv, dir.path()) {
        Some(import_seconds) => {
            let import_rate = rows as f64 / import_seconds;
            println!(
                "sqlite3 .import:           {rows} rows in {import_seconds:.2} s = {import_rate:.0} rows/s"
            );
            let ratio = rate / import_rate;
            println!("ratio gatehouse / .import: {ratio:.2} (target >= 0.5)");
            Some(ratio)
        }
        None => {
            println!("ratio: not measured");
            None
        }
    };
    let (median, groups) = median_latency(&service).await?;
    println!(
        "usage totals by company and month (SQLite): median {median:.1} ms over 9 runs ({groups} groups)"
    );

    match std::env::var("GATEHOUSE_TEST_PG_URL") {
        Ok(admin) => {
            use sea_orm::ConnectionTrait;
            let name = format!("gh_bench_{}", uuid::Uuid::new_v4().simple());
            let conn = sea_orm::Database::connect(&admin).await?;
            conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            let mut pg = url::Url::parse(&admin)?;
            pg.set_path(&name);
            let (pg_rows, pg_seconds, _, pg_service) =
                ingest(open(pg.as_str()).await?, &csv).await?;
            println!(
                "gatehouse ingest (PostgreSQL): {pg_rows} rows in {pg_seconds:.2} s = {:.0} rows/s",
                pg_rows as f64 / pg_seconds
            );
            let (median, groups) = median_latency(&pg_service).await?;
            println!(
                "usage totals by company and month (PostgreSQL): median {median:.1} ms over 9 runs ({groups} groups)"
            );
            drop(pg_service);
            conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
        }
        Err(_) => println!("PostgreSQL: GATEHOUSE_TEST_PG_URL is not set; skipped"),
    }

    let growth = peak - small_peak;
    if growth > MAX_GROWTH_MIB {
        anyhow::bail!(
            "peak memory grew by {growth:.1} MiB from {small_rows} to {rows} rows (limit {MAX_GROWTH_MIB} MiB): the ingest is not flat"
        );
    }
    println!(
        "memory is flat: +{growth:.1} MiB from {small_rows} to {rows} rows (limit {MAX_GROWTH_MIB} MiB)"
    );
    if let Some(ratio) = ratio.filter(|r| *r < 0.5) {
        anyhow::bail!("missed the target: the ingest ratio is {ratio:.2}, under 0.5");
    }
    Ok(())
}
