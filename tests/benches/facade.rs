//! The facade's benchmarks, measured side by side in one run (these machines are noisy, so only
//! ratios mean much):
//!
//! 1. A warm cached GraphQL query against a bare axum route returning the same JSON payload:
//!    throughput of both, their ratio (target ≥ 0.5), and p99 latency of both.
//! 2. Upstream calls per GraphQL request for a realistic mixed workload.
//!
//! Run: `cargo bench -p gatehouse-tests --bench facade` (options: `-- --seconds 5 --clients 16`).

use std::time::{Duration, Instant};

use axum::routing::post;
use gatehouse_compliance::Entity;
use gatehouse_core::auth::app_keys::NewAppKey;
use gatehouse_core::auth::{Access, KeyScopes};
use gatehouse_tests::{Backend, SimApp};
use serde_json::{Value, json};
use synchro_sim::SimConfig;

/// The server's allocator (see `api/src/main.rs`), so that the benchmark measures what runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    seconds: u64,
    clients: usize,
    rounds: usize,
}

fn args() -> Args {
    let mut parsed = Args {
        seconds: 4,
        clients: 16,
        rounds: 3,
    };
    let argv: Vec<String> = std::env::args().collect();
    for pair in argv.windows(2) {
        match pair[0].as_str() {
            "--seconds" => parsed.seconds = pair[1].parse().unwrap_or(parsed.seconds),
            "--clients" => parsed.clients = pair[1].parse().unwrap_or(parsed.clients),
            "--rounds" => parsed.rounds = pair[1].parse().unwrap_or(parsed.rounds),
            _ => {}
        }
    }
    parsed
}

struct Run {
    requests: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn p99(&mut self) -> Duration {
        self.latencies.sort_unstable();
        let index = (self.latencies.len() as f64 * 0.99) as usize;
        self.latencies
            .get(index.min(self.latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    }
}

/// `clients` loops POSTing `body` to `url` for `seconds`.
async fn load(url: &str, key: Option<&str>, body: &Value, clients: usize, seconds: u64) -> Run {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .expect("client");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks = (0..clients).map(|_| {
        let (client, url, key, body) = (
            client.clone(),
            url.to_owned(),
            key.map(str::to_owned),
            body.clone(),
        );
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let mut request = client.post(&url).json(&body);
                if let Some(key) = &key {
                    request = request.bearer_auth(key);
                }
                let response = request.send().await.expect("sent");
                assert!(response.status().is_success(), "{}", response.status());
                let _ = response.bytes().await.expect("body");
                latencies.push(sent.elapsed());
            }
            latencies
        })
    });
    let mut latencies = Vec::new();
    for task in futures::future::join_all(tasks).await {
        latencies.extend(task.expect("client task"));
    }
    Run {
        requests: latencies.len() as u64,
        elapsed: started.elapsed(),
        latencies,
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = args();
    let rig = SimApp::start(
        Backend::Sqlite,
        SimConfig::default(),
        "[log]\nfilter = \"warn\"\n",
        "",
    )
    .await;
    let project = rig.projects[0].clone();
    let reads = Entity::ALL.iter().map(|e| (*e, Access::Read));
    let writes = [
        (Entity::Activity, Access::Write),
        (Entity::ResourceUsage, Access::Write),
    ];
    let (_, key) = rig
        .app
        .create_key_with(NewAppKey {
            name: "bench".into(),
            scopes: KeyScopes::new(vec!["*".into()], reads.chain(writes)),
            rate_per_minute: Some(i32::MAX),
            ..NewAppKey::default()
        })
        .await;

    // 1. Warm cached query against a bare axum route of the same payload.
    let query = json!({
        "query": "query Warm($p: ID!) { project(id: $p) { name activities(first: 20) { nodes { id referenceCode name percentComplete } } } }",
        "variables": { "p": project },
    });
    let (_, warm) = rig
        .app
        .graphql_ext(
            &key,
            query["query"].as_str().expect("query"),
            query["variables"].clone(),
            json!({}),
        )
        .await;
    let payload = json!({ "data": warm["data"] });
    let bare = axum::Router::new().route(
        "/graphql",
        post(move |_body: axum::body::Bytes| {
            let payload = payload.clone();
            async move { axum::Json(payload) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let bare_url = format!("http://{}/graphql", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, bare).await });
    let gatehouse_url = rig.app.url("/graphql");

    // Warm both.
    load(&gatehouse_url, Some(&key), &query, 2, 1).await;
    load(&bare_url, None, &query, 2, 1).await;
    rig.sim.reset_stats().await;

    let (mut g_rates, mut b_rates, mut g_p99, mut b_p99) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        let mut g = load(
            &gatehouse_url,
            Some(&key),
            &query,
            args.clients,
            args.seconds,
        )
        .await;
        let mut b = load(&bare_url, None, &query, args.clients, args.seconds).await;
        g_rates.push(g.throughput());
        b_rates.push(b.throughput());
        g_p99.push(g.p99().as_secs_f64() * 1000.0);
        b_p99.push(b.p99().as_secs_f64() * 1000.0);
    }
    let upstream_during_warm = rig.upstream_calls().await;
    let (g, b) = (median(&mut g_rates), median(&mut b_rates));
    println!(
        "warm cached query vs bare axum route ({} clients, {} rounds of {} s, medians)",
        args.clients, args.rounds, args.seconds
    );
    println!(
        "  gatehouse  {g:>10.0} req/s   p99 {:>7.2} ms",
        median(&mut g_p99)
    );
    println!(
        "  bare axum  {b:>10.0} req/s   p99 {:>7.2} ms",
        median(&mut b_p99)
    );
    let ratio = g / b;
    println!("  ratio      {ratio:>10.2}   (target >= 0.50)");
    println!("  upstream calls during the warm runs: {upstream_during_warm}");

    // 2. Upstream calls per GraphQL request for a mixed workload: several projects, lists with
    //    pages, nested relations, single records, repeated (cached) questions and a few writes.
    for p in &rig.projects {
        for entity in Entity::ALL {
            rig.app.app.services.facade.cache().invalidate(p, entity);
        }
    }
    rig.sim.reset_stats().await;
    let mixed = [
        "query($p: ID!) { project(id: $p) { name } }",
        "query($p: ID!) { project(id: $p) { activities(first: 20) { nodes { id name } pageInfo { endCursor } } } }",
        "query($p: ID!) { project(id: $p) { activities(first: 20) { nodes { id events { nodes { name } } } } } }",
        "query($p: ID!) { project(id: $p) { events(first: 10) { nodes { name activity { name } } } } }",
        "query($p: ID!) { project(id: $p) { resourceUsages(first: 25, filter: {from: \"2025-02-01\", to: \"2025-02-28\"}) { nodes { quantity resource { ... on Person { givenName } } } } } }",
        "query($p: ID!) { project(id: $p) { people(first: 50) { nodes { givenName familyName } } } }",
        "query($p: ID!) { project(id: $p) { dockets(first: 10) { nodes { reference status } } } }",
    ];
    let mut requests = 0u64;
    let started = Instant::now();
    for round in 0..20 {
        for (i, q) in mixed.iter().enumerate() {
            let p = &rig.projects[(round + i) % rig.projects.len()];
            let (status, body) = rig
                .app
                .graphql_ext(&key, q, json!({ "p": p }), json!({}))
                .await;
            assert!(status.is_success() && body["errors"].is_null(), "{body}");
            requests += 1;
        }
        if round % 5 == 4 {
            // A write now and then: it invalidates, so the next reads go upstream again.
            let (_, body) = rig
                .app
                .graphql_ext(
                    &key,
                    "query($p: ID!) { project(id: $p) { activities(first: 1) { nodes { id } } } }",
                    json!({ "p": project }),
                    json!({}),
                )
                .await;
            let id = body["data"]["project"]["activities"]["nodes"][0]["id"].clone();
            let write = "mutation($p: ID!, $id: ID!, $k: String!) { updateActivity(input: {projectId: $p, id: $id, percentComplete: 50, idempotencyKey: $k}) { id } }";
            rig.app
                .graphql_ext(
                    &key,
                    write,
                    json!({ "p": project, "id": id, "k": format!("bench-write-{round}") }),
                    json!({}),
                )
                .await;
            requests += 2;
        }
    }
    let upstream = rig.upstream_calls().await;
    println!();
    println!(
        "mixed workload: {requests} GraphQL requests, {upstream} upstream calls, {:.2} upstream calls per request ({:.1} s)",
        upstream as f64 / requests as f64,
        started.elapsed().as_secs_f64()
    );
    rig.stop().await;
    if ratio < 0.5 {
        eprintln!("missed the target: the warm ratio is {ratio:.2}, under 0.50");
        std::process::exit(1);
    }
}
