//! The usage ledger, findings, reports and alerts, black-box: synthetic traffic through
//! Gatehouse against the simulator, and crafted ledger records for the deviations that take a
//! day of traffic to show.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use gatehouse::documents::charts;
use gatehouse_compliance::Entity;
use gatehouse_core::auth::{Access, KeyScopes, Role};
use gatehouse_core::db::entities::{ledger_calls, ledger_operations};
use gatehouse_core::metering::report::ReportRequest;
use gatehouse_core::metering::{export, store};
use gatehouse_core::upstream::observer::ListShape;
use gatehouse_tests::usage::{
    DAY, KEY, PROJECT, at, crafted_call, crafted_config, crafted_config_with, declaration,
    record_volume,
};
use gatehouse_tests::{Backend, SimApp, TestApp, backend_tests};
use reqwest::StatusCode;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use synchro_sim::{FaultRule, SimConfig};
use uuid::Uuid;

fn reads(project: &str, entities: &[Entity]) -> KeyScopes {
    KeyScopes::new(
        vec![project.to_owned()],
        entities.iter().map(|e| (*e, Access::Read)),
    )
}

/// The simulator's project ids for the default seed (ids are a pure function of the seed), so
/// that a declaration can name them before the app starts.
async fn sim_projects() -> Vec<String> {
    let sim = synchro_sim::spawn(
        SimConfig::default(),
        "127.0.0.1:0".parse().expect("address"),
    )
    .await
    .expect("simulator starts");
    let projects = sim.projects().iter().map(|p| p.id.to_string()).collect();
    sim.shutdown().await;
    projects
}

async fn ledger_calls_by_endpoint(db: &DatabaseConnection) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for row in ledger_calls::Entity::find().all(db).await.expect("ledger") {
        *out.entry(format!("{} {}", row.method, row.endpoint))
            .or_default() += 1;
    }
    out
}

/// Signs a reviewer in; returns the session client and its CSRF token.
async fn reviewer(app: &TestApp) -> (reqwest::Client, String) {
    let user = app.create_user(Role::Reviewer).await;
    app.sign_in(&user).await
}

async fn graphql_as(
    app: &TestApp,
    client: &reqwest::Client,
    csrf: &str,
    query: &str,
    variables: Value,
) -> (StatusCode, Value) {
    let response = client
        .post(app.url("/graphql"))
        .header("x-csrf-token", csrf)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

const REPORT: &str = "query($p: ID!, $from: NaiveDate!, $to: NaiveDate!, $k: ID) {
  usageReport(projectId: $p, from: $from, to: $to, appKeyId: $k) {
    declared
    totals { operations operationsRefused upstreamCalls cacheHits cacheMisses cacheHitRatio upstreamCallsAvoided upstream429 upstream503 }
    byDay { day operations upstreamCalls cacheHits }
    byAppKey { appKeyId operations upstreamCalls }
    byOperation { operation kind count refused upstreamCalls }
    byEndpoint { method endpoint entity calls }
    findings { code severity title evidence { entity operations workflow observed declared percent day hours { hour calls } sampleOperations } }
  } }";

fn finding<'a>(report: &'a Value, code: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()?
        .iter()
        .find(|f| f["code"] == code)
}

async fn the_ledger_counts_exactly_the_upstream_calls_the_simulator_served(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let project = rig.projects[0].clone();
    let (_, key) = rig
        .app
        .create_key(reads(&project, &[Entity::Activity, Entity::Event]))
        .await;
    let mut requests = 0u64;
    for first in [1, 5, 5, 10, 10, 10, 40] {
        let query = "query Acts($p: ID!, $n: Int!) { project(id: $p) { name activities(first: $n) { nodes { id name } } } }";
        let (status, body) = rig
            .app
            .graphql(Some(&key), query, json!({ "p": project, "n": first }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["errors"].is_null(), "{body}");
        requests += 1;
    }
    // Refused before execution: outside the key's scope; recorded, with no upstream call.
    let (status, _) = rig
        .app
        .graphql(
            Some(&key),
            "query Usages($p: ID!) { project(id: $p) { resourceUsages(first: 5) { nodes { id } } } }",
            json!({ "p": project }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    requests += 1;

    let services = &rig.app.app.services;
    services.metering.ledger.flush().await;
    let stats = rig.sim.stats().await;
    assert!(stats.total > 0, "the traffic reached the upstream");
    let ledger = ledger_calls_by_endpoint(&services.db).await;
    assert_eq!(
        ledger.values().sum::<u64>(),
        stats.total,
        "{ledger:?} {stats:?}"
    );
    assert_eq!(ledger, stats.by_endpoint, "per endpoint and method");

    let operations = ledger_operations::Entity::find()
        .all(&services.db)
        .await
        .expect("ledger");
    let recorded: i64 = operations.iter().map(|o| o.operation_count).sum();
    assert_eq!(recorded as u64, requests, "every operation is counted once");
    for row in &operations {
        assert!(
            row.operation_count == 1 || (row.request_id.is_none() && row.upstream_calls == 0),
            "only operations without upstream calls share a row, without a request id: {row:?}"
        );
        if row.upstream_calls > 0 {
            assert!(row.request_id.is_some(), "{row:?}");
        }
    }
    let refused: Vec<_> = operations
        .iter()
        .filter(|o| o.outcome == "refused")
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].error_code.as_deref(), Some("FORBIDDEN"));
    assert_eq!(refused[0].operation.as_deref(), Some("Usages"));
    assert_eq!(refused[0].project_id.as_deref(), Some(project.as_str()));
    let upstream_by_operations: i64 = operations.iter().map(|o| i64::from(o.upstream_calls)).sum();
    assert_eq!(upstream_by_operations as u64, stats.total);
    assert!(
        operations.iter().any(|o| o.source == "cache"),
        "repeated queries are answered from the cache: {:?}",
        operations
            .iter()
            .map(|o| (
                o.source.as_str(),
                o.cache_hits,
                o.cache_misses,
                o.upstream_calls
            ))
            .collect::<Vec<_>>()
    );

    let metrics = rig
        .app
        .client
        .get(rig.app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("ledger_records_written_total"),
        "{metrics}"
    );
    rig.stop().await;
}

async fn the_ledger_accounts_for_every_faulted_attempt_as_the_simulator_saw_it(backend: Backend) {
    // One fault of each kind before each of four queries that miss the cache: a 429 and a 503
    // (each `Retry-After: 1`), a 500, and a hang cut by the 300 ms request timeout. Each
    // faulted attempt is retried once and then served.
    let rig = SimApp::start(
        backend,
        SimConfig::default(),
        "",
        "request_timeout_ms = 300\nretry = { initial_backoff_ms = 20, max_backoff_ms = 100 }",
    )
    .await;
    let project = rig.projects[0].clone();
    let (_, key) = rig
        .app
        .create_key(reads(&project, &[Entity::Activity, Entity::Event]))
        .await;
    let queries = [
        "query A($p: ID!) { project(id: $p) { name } }",
        "query B($p: ID!) { project(id: $p) { activities(first: 5) { nodes { id } } } }",
        "query C($p: ID!) { project(id: $p) { events(first: 5) { nodes { id } } } }",
        "query D($p: ID!) { project(id: $p) { activities(first: 7) { nodes { id } } } }",
    ];
    let faults = [
        FaultRule {
            status: 429,
            ..FaultRule::default()
        },
        FaultRule {
            status: 503,
            ..FaultRule::default()
        },
        FaultRule {
            status: 500,
            ..FaultRule::default()
        },
        FaultRule {
            hang: true,
            ..FaultRule::default()
        },
    ];
    for (query, fault) in queries.into_iter().zip(faults) {
        rig.sim
            .add_fault(FaultRule {
                error_rate: 1.0,
                count: Some(1),
                ..fault
            })
            .await
            .expect("fault");
        let (status, body) = rig
            .app
            .graphql(Some(&key), query, json!({ "p": project }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["errors"].is_null(), "served after one retry: {body}");
    }
    let services = &rig.app.app.services;
    services.metering.ledger.flush().await;
    let calls = ledger_calls::Entity::find()
        .all(&services.db)
        .await
        .expect("ledger");
    // The simulator counts an abandoned (hung) request when it notices the client left.
    let mut stats = rig.sim.stats().await;
    for _ in 0..100 {
        if stats.total == calls.len() as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        stats = rig.sim.stats().await;
    }
    let with_status = |code: i32| calls.iter().filter(|c| c.status == Some(code)).count() as u64;
    assert_eq!(calls.len() as u64, stats.total, "{stats:?}");
    for code in [200, 429, 500, 503] {
        assert_eq!(
            with_status(code),
            stats.count_status(code as u16),
            "status {code}"
        );
        if code != 200 {
            assert_eq!(with_status(code), 1, "status {code}");
        }
    }
    let timed_out: Vec<_> = calls.iter().filter(|c| c.status.is_none()).collect();
    assert_eq!(timed_out.len() as u64, stats.count_status(499), "{stats:?}");
    assert_eq!(timed_out.len(), 1);
    assert_eq!(timed_out[0].error.as_deref(), Some("timeout"));
    let retries = calls.iter().filter(|c| c.attempt > 0).count() as u64;
    assert_eq!(retries, 4, "one retry per faulted attempt");

    // The report sums the same ledger.
    let report = services
        .metering
        .report(
            &services.db,
            &ReportRequest {
                project_id: project.clone(),
                app_key_id: None,
                from: Utc::now().date_naive(),
                to: Utc::now().date_naive(),
            },
        )
        .await
        .expect("report");
    let totals = &report.totals;
    assert_eq!(totals.upstream_calls, stats.total);
    assert_eq!(totals.upstream_429, 1);
    assert_eq!(totals.upstream_503, 1);
    assert_eq!(totals.upstream_retries, retries);
    assert_eq!(
        totals.upstream_errors,
        stats.total - stats.count_status(200),
        "every attempt without a 2xx answer is an error"
    );
    rig.stop().await;
}

async fn a_graceful_stop_mid_traffic_loses_no_record(backend: Backend) {
    // A slow flush interval and large batches: most records are still queued when the stop
    // comes, so only the shutdown drain can write them.
    let rig = SimApp::start(
        backend,
        SimConfig::default(),
        "[metering]\nflush_interval_ms = 60000\nbatch_max_records = 10000\n",
        "",
    )
    .await;
    let project = rig.projects[0].clone();
    let (_, key) = rig
        .app
        .create_key(reads(&project, &[Entity::Activity]))
        .await;
    let answered = Arc::new(AtomicU64::new(0));
    let url = rig.app.url("/graphql");
    let mut clients = Vec::new();
    for worker in 0..4u64 {
        let (url, key, project, answered) =
            (url.clone(), key.clone(), project.clone(), answered.clone());
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            // Distinct page sizes are distinct cache keys: each one is an upstream call.
            for n in 0..100u64 {
                let first = 1 + (worker * 100 + n) % 100;
                let sent = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&json!({
                        "query": "query Walk($p: ID!, $n: Int!) { project(id: $p) { activities(first: $n) { nodes { id } } } }",
                        "variables": { "p": project, "n": first },
                    }))
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status().is_success() => {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }));
    }
    while answered.load(Ordering::SeqCst) < 40 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let SimApp { app, sim, .. } = rig;
    let TestApp { app, db, .. } = app;
    let written_before = app.services.metering.ledger.stats().written;
    app.stop().await.expect("graceful stop");
    for client in clients {
        let _ = client.await;
    }
    let answered = answered.load(Ordering::SeqCst);

    let reopened = sea_orm::Database::connect(&db.url)
        .await
        .expect("the database opens after the stop");
    let (operations, calls) = store::raw_counts(&reopened).await.expect("counts");
    let stats = sim.stats().await;
    assert!(
        written_before < calls + operations,
        "records were still queued when the stop came ({written_before} written before)"
    );
    assert_eq!(calls, stats.total, "every upstream call is in the ledger");
    assert!(
        operations >= answered,
        "{operations} operations recorded, {answered} answered"
    );
    reopened.close().await.ok();
    sim.shutdown().await;
}

async fn real_traffic_shows_writes_under_a_read_only_workflow_and_an_undeclared_entity(
    backend: Backend,
) {
    let projects = sim_projects().await;
    let project = projects[0].clone();
    let toml = declaration(
        &project,
        "[[metering.declarations.workflows]]\nname = \"schedule-sync\"\ndirection = \"read\"\n\
         entities = [{ entity = \"activity\", operations = [\"read\"] }]\ndaily_calls = 1000\n\
         peak_calls_per_minute = 100\n",
    );
    let rig = SimApp::start(backend, SimConfig::default(), &toml, "").await;
    assert_eq!(
        rig.projects[0], project,
        "the simulator's ids depend on its seed only"
    );
    let (_, key) = rig
        .app
        .create_key(KeyScopes::new(
            vec![project.clone()],
            [
                (Entity::Activity, Access::Write),
                (Entity::ResourceUsage, Access::Read),
            ],
        ))
        .await;
    let list =
        "query ScheduleRead($p: ID!) { project(id: $p) { activities(first: 2) { nodes { id } } } }";
    let (_, body) = rig
        .app
        .graphql(Some(&key), list, json!({ "p": project }))
        .await;
    let id = body["data"]["project"]["activities"]["nodes"][0]["id"]
        .as_str()
        .expect("an activity")
        .to_owned();
    let write = "mutation ProgressPush($p: ID!, $id: ID!) { updateActivity(input: {projectId: $p, id: $id, percentComplete: 12.5, idempotencyKey: \"metering-write-1\"}) { id } }";
    let (status, body) = rig
        .app
        .graphql(Some(&key), write, json!({ "p": project, "id": id }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let usages = "query UsageRead($p: ID!) { project(id: $p) { resourceUsages(first: 3) { nodes { id } } } }";
    let (status, body) = rig
        .app
        .graphql(Some(&key), usages, json!({ "p": project }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    rig.app.app.services.metering.ledger.flush().await;

    let (client, csrf) = reviewer(&rig.app).await;
    let today = Utc::now().date_naive().to_string();
    let (status, body) = graphql_as(
        &rig.app,
        &client,
        &csrf,
        REPORT,
        json!({ "p": project, "from": today, "to": today }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report = &body["data"]["usageReport"];
    assert_eq!(report["declared"], true);
    let write = finding(report, "write_under_read_only_workflow").expect("write finding");
    assert_eq!(write["severity"], "CRITICAL");
    assert_eq!(write["evidence"]["entity"], "ACTIVITY");
    assert_eq!(write["evidence"]["operations"], json!(["update"]));
    assert_eq!(write["evidence"]["observed"], 1);
    assert_eq!(
        write["evidence"]["sampleOperations"],
        json!(["ProgressPush"])
    );
    let undeclared = finding(report, "undeclared_entity").expect("undeclared entity finding");
    assert_eq!(undeclared["evidence"]["entity"], "RESOURCE_USAGE");
    assert_eq!(
        undeclared["evidence"]["sampleOperations"],
        json!(["UsageRead"])
    );
    assert!(
        finding(report, "undeclared_operation").is_none(),
        "reading the declared entity is declared: {report}"
    );
    let stats = rig.sim.stats().await;
    assert_eq!(report["totals"]["upstreamCalls"], stats.total);
    assert_eq!(report["totals"]["operations"], 3);

    // An app key cannot read reports, even its own.
    let (status, body) = rig
        .app
        .graphql(
            Some(&key),
            REPORT,
            json!({ "p": project, "from": today, "to": today }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    rig.stop().await;
}

/// An access request for the simulator's `project`: one read-only workflow over activities.
fn activity_reads_request(project: &str) -> Value {
    json!({
        "projectUrls": [format!("https://acme.e7.site/projects/{project}")],
        "requester": { "name": "Jane Doe", "email": "jane.doe@acme-construction.com",
                       "organisation": "Acme Construction" },
        "projectContact": { "name": "Joe Bloggs", "role": "Commercial Manager",
                            "email": "joe.bloggs@acme-construction.com" },
        "commercialPermission": { "confirmed": true, "confirmedBy": "Mary Major, Commercial Director",
                                  "confirmedAt": "2026-03-02T09:30:00Z" },
        "apiDocumentation": { "reviewed": true, "url": "https://acme.e7.site/api" },
        "integration": { "name": "Site activity board",
                         "purpose": "Shows site supervisors the activities of their area on a board in the site office, read on demand." },
        "mitigations": { "caching": true, "backoff": true, "offPeakScheduling": true,
                         "incrementalSync": true },
        "platforms": ["Web app"],
        "workflows": [{
            "name": "Site activity reads",
            "description": "A supervisor opens the board and it reads the activities of the area from SYNCHRO Perform, through Gatehouse's cache.",
            "direction": "READ",
            "entities": [{ "entity": "ACTIVITY", "operations": ["READ"] }],
            "trigger": { "onDemandPerDay": 40 },
            "recordsPerRun": 5
        }]
    })
}

async fn a_key_bound_to_an_approved_request_is_measured_against_that_request(backend: Backend) {
    // Raw records kept long enough for the crafted day in the past to be read from them.
    let toml = "[metering]\nraw_retention_days = 36500\n";
    let rig = SimApp::start(backend, SimConfig::default(), toml, "").await;
    let project = rig.projects[0].clone();
    let contact = rig
        .app
        .session(&rig.app.create_user(Role::Contact).await)
        .await;
    let reviewer_session = rig
        .app
        .session(&rig.app.create_user(Role::Reviewer).await)
        .await;
    let body = contact
        .graphql(
            "mutation($input: AccessRequestInput!) { createAccessRequest(input: $input) { id } }",
            json!({ "input": activity_reads_request(&project) }),
        )
        .await;
    let id = body["data"]["createAccessRequest"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("created: {body}"))
        .to_owned();
    let body = contact
        .graphql(
            "mutation($id: ID!) { submitAccessRequest(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        body["data"]["submitAccessRequest"]["status"], "IN_REVIEW",
        "{body}"
    );
    let body = reviewer_session
        .graphql(
            "mutation($id: ID!) { reviewAccessRequest(id: $id, decision: APPROVE) { status
               assessment { load { workflows { total { callsPerDay } } } } } }",
            json!({ "id": id }),
        )
        .await;
    let reviewed = &body["data"]["reviewAccessRequest"];
    assert_eq!(reviewed["status"], "APPROVED", "{body}");
    let declared_daily = reviewed["assessment"]["load"]["workflows"][0]["total"]["callsPerDay"]
        .as_u64()
        .expect("a daily estimate");
    assert!(declared_daily > 0, "{body}");
    let body = reviewer_session
        .graphql(
            "mutation($id: ID!) { createAppKeyForRequest(requestId: $id, name: \"board\") { key appKey { id } } }",
            json!({ "id": id }),
        )
        .await;
    let created = &body["data"]["createAppKeyForRequest"];
    let key = created["key"].as_str().expect("key").to_owned();
    let key_id: Uuid = created["appKey"]["id"]
        .as_str()
        .and_then(|k| k.parse().ok())
        .expect("key id");

    let list = "query BoardRead($p: ID!) { project(id: $p) { activities(first: 3) { nodes { id name } } } }";
    let (status, body) = rig
        .app
        .graphql(Some(&key), list, json!({ "p": project }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["errors"].is_null(), "{body}");
    rig.app.app.services.metering.ledger.flush().await;

    // Upstream calls are attributed to the request's only workflow.
    let db = &rig.app.app.services.db;
    let calls = ledger_calls::Entity::find().all(db).await.expect("ledger");
    assert!(!calls.is_empty());
    for call in &calls {
        assert_eq!(call.workflow.as_deref(), Some("Site activity reads"));
        assert_eq!(call.app_key_id, Some(key_id));
    }

    // The report of the key, and of the whole project, is declared by the request: reading
    // activities raises nothing.
    let (client, csrf) = reviewer(&rig.app).await;
    let today = Utc::now().date_naive().to_string();
    for k in [Value::String(key_id.to_string()), Value::Null] {
        let (status, body) = graphql_as(
            &rig.app,
            &client,
            &csrf,
            REPORT,
            json!({ "p": project, "from": today, "to": today, "k": k }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let report = &body["data"]["usageReport"];
        assert_eq!(report["declared"], true, "{body}");
        assert!(
            finding(report, "undeclared_entity").is_none()
                && finding(report, "undeclared_operation").is_none(),
            "{report}"
        );
    }

    // 2.5 times the request's estimated daily calls on one day is measured against that
    // estimate, not against a configured number.
    let ledger = &rig.app.app.services.metering.ledger;
    let crafted = declared_daily * 5 / 2;
    for i in 0..crafted {
        let minute = u32::try_from(i % 1440).unwrap_or(0);
        let mut call = crafted_call(
            at(DAY, minute / 60, minute % 60),
            Entity::Activity,
            "activities",
            None,
            "BoardRead",
        );
        call.project_id = project.clone();
        call.app_key_id = Some(key_id);
        ledger.record_call(call);
    }
    ledger.flush().await;
    let (status, body) = graphql_as(
        &rig.app,
        &client,
        &csrf,
        REPORT,
        json!({ "p": project, "from": DAY, "to": DAY, "k": key_id.to_string() }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report = &body["data"]["usageReport"];
    let volume = finding(report, "daily_calls_over_double_declared")
        .unwrap_or_else(|| panic!("a volume finding: {report}"));
    assert_eq!(volume["evidence"]["observed"], crafted);
    assert_eq!(volume["evidence"]["declared"], declared_daily);

    // A key with no request, and no configured declaration, is not declared.
    let (other_id, _) = rig
        .app
        .create_key(reads(&project, &[Entity::Activity]))
        .await;
    let (status, body) = graphql_as(
        &rig.app,
        &client,
        &csrf,
        REPORT,
        json!({ "p": project, "from": DAY, "to": DAY, "k": other_id.to_string() }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["usageReport"]["declared"], false, "{body}");
    rig.stop().await;
}

/// Every hour of a day, a walk through 25 pages of all resource usages.
async fn record_hourly_sweep(app: &TestApp, day: &str) {
    let ledger = &app.app.services.metering.ledger;
    for hour in 0..24 {
        for page in 1..=25u64 {
            ledger.record_call(crafted_call(
                at(day, hour, u32::try_from(page).unwrap_or(0)),
                Entity::ResourceUsage,
                "resource_usages",
                Some(ListShape {
                    page: Some(page),
                    continues: page > 1,
                    signature: "all-usages00".to_owned(),
                    window_days: None,
                }),
                "AllUsages",
            ));
        }
    }
    ledger.flush().await;
}

async fn two_and_a_half_times_the_declared_volume_is_a_critical_finding(backend: Backend) {
    let app = TestApp::start_with(backend, &crafted_config()).await;
    record_volume(&app, DAY).await;
    let (client, csrf) = reviewer(&app).await;
    let (status, body) = graphql_as(
        &app,
        &client,
        &csrf,
        REPORT,
        json!({ "p": PROJECT, "from": DAY, "to": DAY }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report = &body["data"]["usageReport"];
    let volume = finding(report, "daily_calls_over_double_declared").expect("volume finding");
    assert_eq!(volume["severity"], "CRITICAL");
    assert_eq!(volume["evidence"]["observed"], 250);
    assert_eq!(volume["evidence"]["declared"], 100);
    assert_eq!(volume["evidence"]["percent"], 250);
    assert_eq!(volume["evidence"]["day"], DAY);
    let outside = finding(report, "calls_outside_sync_window").expect("window finding");
    // 01:00–02:59 are inside; 03:00–05:09 are not.
    assert_eq!(outside["evidence"]["observed"], 130);
    assert_eq!(
        outside["evidence"]["hours"],
        json!([{ "hour": 3, "calls": 60 }, { "hour": 4, "calls": 60 }, { "hour": 5, "calls": 10 }])
    );
    assert!(
        finding(report, "peak_rate_near_declared").is_none(),
        "one call a minute"
    );
    app.stop().await;
}

async fn an_hourly_sweep_of_all_usages_is_an_analytical_pattern_on_the_live_api(backend: Backend) {
    let app = TestApp::start_with(backend, &crafted_config()).await;
    record_hourly_sweep(&app, DAY).await;
    let (client, csrf) = reviewer(&app).await;
    let (status, body) = graphql_as(
        &app,
        &client,
        &csrf,
        REPORT,
        json!({ "p": PROJECT, "from": DAY, "to": DAY, "k": KEY.to_string() }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report = &body["data"]["usageReport"];
    let sweep = finding(report, "analytical_pattern_on_live_api").expect("sweep finding");
    assert_eq!(sweep["severity"], "WARNING");
    assert_eq!(sweep["evidence"]["entity"], "RESOURCE_USAGE");
    assert_eq!(sweep["evidence"]["observed"], 24, "one sweep an hour");
    assert_eq!(sweep["evidence"]["sampleOperations"], json!(["AllUsages"]));
    let volume = finding(report, "daily_calls_over_double_declared").expect("600 of 100");
    assert_eq!(volume["evidence"]["observed"], 600);
    let outside = finding(report, "calls_outside_sync_window").expect("window finding");
    assert_eq!(outside["evidence"]["observed"], 550, "22 hours of 25 pages");
    app.stop().await;
}

async fn report_exports_match_their_snapshots(backend: Backend) {
    let app = TestApp::start_with(backend, &crafted_config()).await;
    record_volume(&app, DAY).await;
    record_hourly_sweep(&app, "2025-03-11").await;
    let (client, _) = reviewer(&app).await;
    let query = format!("?project_id={PROJECT}&from=2025-03-09&to=2025-03-11");

    let response = client
        .get(app.url(&format!("/reports/usage.json{query}")))
        .send()
        .await
        .expect("json export");
    assert_eq!(response.status(), StatusCode::OK);
    let mut report: Value = response.json().await.expect("json");
    assert!(report["generated_at"].is_string());
    report["generated_at"] = json!("[generated_at]");
    insta::assert_json_snapshot!("usage_report_json", report);

    let response = client
        .get(app.url(&format!("/reports/usage.csv{query}")))
        .send()
        .await
        .expect("csv export");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/csv"))
    );
    let csv = response.text().await.expect("csv");
    insta::assert_snapshot!("usage_report_csv", csv);

    let response = client
        .get(app.url(&format!("/reports/usage{query}")))
        .send()
        .await
        .expect("html report");
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("html");
    assert!(html.contains("@media print"), "print styles");
    assert!(html.contains("daily_calls_over_double_declared"));
    assert_eq!(html.matches("<svg").count(), 2, "two charts inline");

    // Reviewers only: an app key, or nobody, gets nothing.
    let (_, key) = app.create_key(reads(PROJECT, &[Entity::Activity])).await;
    let response = app
        .client
        .get(app.url(&format!("/reports/usage.csv{query}")))
        .bearer_auth(&key)
        .send()
        .await
        .expect("csv as a key");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = app
        .client
        .get(app.url(&format!("/reports/usage{query}")))
        .send()
        .await
        .expect("html anonymously");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = client
        .get(app.url("/reports/usage.json?project_id=x&from=2025-03-11&to=2025-03-01"))
        .send()
        .await
        .expect("reversed period");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

async fn the_charts_are_well_formed_svg_with_their_series(backend: Backend) {
    let app = TestApp::start_with(backend, &crafted_config()).await;
    record_volume(&app, DAY).await;
    record_hourly_sweep(&app, "2025-03-11").await;
    let services = &app.app.services;
    let report = services
        .metering
        .report(
            &services.db,
            &ReportRequest {
                project_id: PROJECT.to_owned(),
                app_key_id: None,
                from: NaiveDate::from_ymd_opt(2025, 3, 9).expect("day"),
                to: NaiveDate::from_ymd_opt(2025, 3, 11).expect("day"),
            },
        )
        .await
        .expect("report");
    let drawn = charts::draw(&report).expect("charts");
    for (svg, series) in [
        (
            &drawn.calls_per_day,
            vec![charts::LIVE_SERIES, charts::CACHE_SERIES],
        ),
        (&drawn.calls_by_endpoint, vec![charts::ENDPOINT_SERIES]),
    ] {
        let document = roxmltree::Document::parse(svg).expect("well-formed SVG");
        assert_eq!(document.root_element().tag_name().name(), "svg");
        let texts: Vec<&str> = document
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .map(str::trim)
            .collect();
        for name in series {
            assert!(texts.contains(&name), "legend {name} in {texts:?}");
        }
        let bars = document
            .descendants()
            .filter(|n| n.has_tag_name("rect"))
            .count();
        assert!(bars >= 3, "bars drawn: {bars}");
    }
    let endpoints = roxmltree::Document::parse(&drawn.calls_by_endpoint).expect("svg");
    assert!(
        endpoints
            .descendants()
            .filter_map(|n| n.text())
            .any(|t| t.trim() == "GET resource_usages"),
        "the endpoint axis names the collections"
    );
    // The HTML document embeds the same charts.
    let html = services
        .report_templates
        .render_html(&report)
        .expect("html");
    assert!(html.contains(charts::CACHE_SERIES));
    assert!(export::to_csv(&report).is_ok());
    app.stop().await;
}

async fn daily_rollups_are_idempotent_and_stand_in_for_purged_raw_records(backend: Backend) {
    let app = TestApp::start_with(backend, &crafted_config()).await;
    record_volume(&app, DAY).await;
    record_hourly_sweep(&app, DAY).await;
    let services = &app.app.services;
    let db = &services.db;
    let day = NaiveDate::parse_from_str(DAY, "%Y-%m-%d").expect("day");
    let scope = store::Scope {
        project_id: Some(PROJECT.to_owned()),
        app_key_id: None,
        from: day,
        to: day,
    };
    store::roll_up_day(db, day).await.expect("rollup");
    let once = store::rollup_rows(db, &scope).await.expect("rows");
    store::roll_up_day(db, day).await.expect("rollup again");
    let twice = store::rollup_rows(db, &scope).await.expect("rows");
    assert_eq!(once, twice, "re-running a day replaces its rollup");
    assert_eq!(once.iter().map(|r| r.count).sum::<i64>(), 850);
    let raw = store::raw_daily_rows(db, &scope).await.expect("raw");
    assert_eq!(raw, once, "the rollup is the raw aggregate");

    let request = ReportRequest {
        project_id: PROJECT.to_owned(),
        app_key_id: None,
        from: day,
        to: day,
    };
    let before = services
        .metering
        .report(db, &request)
        .await
        .expect("report");
    let purged = store::purge_before(db, day.succ_opt().expect("next day"))
        .await
        .expect("purge");
    assert_eq!(purged, vec![day]);
    assert_eq!(store::raw_counts(db).await.expect("counts").1, 0);
    // With a one-day retention the day is read from its rollup: the same totals.
    let mut config = services.metering.config().clone();
    config.raw_retention_days = 1;
    let after = gatehouse_core::metering::report::build(
        db,
        &config,
        services.metering.declarations(),
        services.metering.limits(),
        &request,
    )
    .await
    .expect("report");
    assert_eq!(after.totals.upstream_calls, before.totals.upstream_calls);
    assert_eq!(
        serde_json::to_value(&after.by_endpoint).expect("json"),
        serde_json::to_value(&before.by_endpoint).expect("json")
    );
    assert!(
        after
            .findings
            .iter()
            .any(|f| f.code.as_str() == "daily_calls_over_double_declared")
    );
    app.stop().await;
}

async fn alerts_are_raised_once_per_day_and_acknowledged_by_reviewers(backend: Backend) {
    let app = TestApp::start_with(backend, &crafted_config_with("alert_daily_calls = 200\n")).await;
    let today = Utc::now().date_naive().to_string();
    record_volume(&app, &today).await;
    let services = &app.app.services;
    // Evaluated twice (as the periodic job does): raised once.
    for _ in 0..2 {
        services
            .metering
            .run_job(&services.db, &[])
            .await
            .expect("metering job");
    }
    let (client, csrf) = reviewer(&app).await;
    let list = "query($p: ID, $a: Boolean) { alerts(projectId: $p, acknowledged: $a) { id code severity appKeyId day acknowledged evidence } }";
    let (status, body) = graphql_as(&app, &client, &csrf, list, json!({ "p": PROJECT })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let alerts = body["data"]["alerts"].as_array().expect("alerts").clone();
    let mut codes: Vec<&str> = alerts.iter().filter_map(|a| a["code"].as_str()).collect();
    codes.sort_unstable();
    assert_eq!(
        codes,
        vec![
            "calls_outside_sync_window",
            "daily_calls_over_double_declared",
            "daily_volume_over_threshold"
        ],
        "{body}"
    );
    let volume = alerts
        .iter()
        .find(|a| a["code"] == "daily_calls_over_double_declared")
        .expect("volume alert");
    assert_eq!(volume["severity"], "critical");
    assert_eq!(volume["appKeyId"], KEY.to_string());
    assert_eq!(volume["day"], today.as_str());
    assert_eq!(volume["evidence"]["observed"], 250);
    let threshold = alerts
        .iter()
        .find(|a| a["code"] == "daily_volume_over_threshold")
        .expect("threshold alert");
    assert!(threshold["appKeyId"].is_null(), "project-wide");

    let id = volume["id"].as_str().expect("id").to_owned();
    let acknowledge =
        "mutation($id: ID!) { acknowledgeAlert(id: $id) { id acknowledged acknowledgedAt } }";
    let (status, body) = graphql_as(&app, &client, &csrf, acknowledge, json!({ "id": id })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["acknowledgeAlert"]["acknowledged"], true);
    let (_, body) = graphql_as(
        &app,
        &client,
        &csrf,
        list,
        json!({ "p": PROJECT, "a": false }),
    )
    .await;
    assert_eq!(body["data"]["alerts"].as_array().map(Vec::len), Some(2));
    let history = gatehouse_core::audit::history(&services.db, "usage_alert", &id)
        .await
        .expect("audit");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].action, "usage_alert.acknowledge");

    let (_, key) = app.create_key(reads(PROJECT, &[Entity::Activity])).await;
    let (_, body) = app
        .graphql(Some(&key), acknowledge, json!({ "id": id }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    let (_, body) = graphql_as(
        &app,
        &client,
        &csrf,
        acknowledge,
        json!({ "id": Uuid::new_v4().to_string() }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{body}"
    );
    app.stop().await;
}

async fn a_full_queue_drops_and_counts_records_instead_of_waiting(backend: Backend) {
    let app = TestApp::start_with(
        backend,
        "[metering]\nqueue_capacity = 1\nbatch_max_records = 1\n",
    )
    .await;
    let ledger = &app.app.services.metering.ledger;
    let before = ledger.stats();
    let offered = 5_000u64;
    for i in 0..offered {
        let minute = u32::try_from(i % 60).unwrap_or(0);
        ledger.record_call(crafted_call(
            at(DAY, 1, minute),
            Entity::Activity,
            "activities",
            None,
            "Flood",
        ));
    }
    ledger.flush().await;
    let after = ledger.stats();
    let written = after.written - before.written;
    let dropped = after.dropped - before.dropped;
    assert_eq!(
        written + dropped,
        offered,
        "every record is written or counted"
    );
    assert!(dropped > 0, "a one-record queue overflows under a burst");
    let (_, calls) = store::raw_counts(&app.app.services.db)
        .await
        .expect("counts");
    assert_eq!(calls, written);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("ledger_records_dropped_total{reason=\"queue_full\"}"),
        "{metrics}"
    );
    app.stop().await;
}

async fn with_metering_off_nothing_is_recorded(backend: Backend) {
    let rig = SimApp::start(
        backend,
        SimConfig::default(),
        "[metering]\nenabled = false\n",
        "",
    )
    .await;
    let project = rig.projects[0].clone();
    let (_, key) = rig
        .app
        .create_key(reads(&project, &[Entity::Activity]))
        .await;
    let (status, _) = rig
        .app
        .graphql(
            Some(&key),
            "query($p: ID!) { project(id: $p) { activities(first: 3) { nodes { id } } } }",
            json!({ "p": project }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(rig.sim.stats().await.total > 0);
    rig.app.app.services.metering.ledger.flush().await;
    let counts = store::raw_counts(&rig.app.app.services.db)
        .await
        .expect("counts");
    assert_eq!(counts, (0, 0));
    rig.stop().await;
}

/// Sends the same query `times` times at once through a fresh key; returns the rows of
/// `ledger_operations` afterwards.
async fn repeat_a_warm_query(rig: &SimApp, times: usize) -> Vec<ledger_operations::Model> {
    let project = rig.projects[0].clone();
    let (_, key) = rig
        .app
        .create_key(reads(&project, &[Entity::Activity]))
        .await;
    let query = "query Warm($p: ID!) { project(id: $p) { activities(first: 3) { nodes { id } } } }";
    let (status, _) = rig
        .app
        .graphql(Some(&key), query, json!({ "p": project }))
        .await;
    assert_eq!(status, StatusCode::OK, "the first one fills the caches");
    let answers = futures::future::join_all(
        (0..times).map(|_| rig.app.graphql(Some(&key), query, json!({ "p": project }))),
    )
    .await;
    assert!(
        answers
            .iter()
            .all(|(status, body)| *status == StatusCode::OK
                && body["extensions"]["gatehouse"]["source"] == "cache")
    );
    rig.app.app.services.metering.ledger.flush().await;
    ledger_operations::Entity::find()
        .all(&rig.app.app.services.db)
        .await
        .expect("ledger")
}

async fn cache_answers_are_counted_into_shared_rows_and_the_reports_count_each(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let rows = repeat_a_warm_query(&rig, 40).await;
    let live: Vec<_> = rows.iter().filter(|r| r.upstream_calls > 0).collect();
    assert_eq!(
        live.len(),
        1,
        "the first query reached the upstream: {rows:?}"
    );
    assert_eq!(live[0].operation_count, 1);
    assert!(live[0].request_id.is_some());
    let cached: Vec<_> = rows.iter().filter(|r| r.source == "cache").collect();
    assert_eq!(
        cached.iter().map(|r| r.operation_count).sum::<i64>(),
        40,
        "{cached:?}"
    );
    // Forty answers within a few hundred milliseconds fall into a few batches, not forty.
    assert!(cached.len() <= 10, "{} rows for 40 answers", cached.len());
    for row in &cached {
        assert!(row.duration_max_us <= row.duration_us, "{row:?}");
        assert!(
            row.duration_max_us * row.operation_count >= row.duration_us,
            "{row:?}"
        );
        assert_eq!(row.operation.as_deref(), Some("Warm"));
    }
    // The report counts operations, not rows.
    let services = &rig.app.app.services;
    let today = Utc::now().date_naive();
    let request = ReportRequest {
        project_id: rig.projects[0].clone(),
        app_key_id: None,
        from: today.pred_opt().expect("yesterday"),
        to: today,
    };
    let report = services
        .metering
        .report(&services.db, &request)
        .await
        .expect("report");
    assert_eq!(report.totals.operations, 41, "{:?}", report.totals);
    rig.stop().await;
}

async fn with_counting_off_every_operation_keeps_its_own_row(backend: Backend) {
    let rig = SimApp::start(
        backend,
        SimConfig::default(),
        "[metering]\ncount_operations = false\n",
        "",
    )
    .await;
    let rows = repeat_a_warm_query(&rig, 12).await;
    assert_eq!(rows.len(), 13, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.operation_count == 1 && r.request_id.is_some())
    );
    let ids: std::collections::HashSet<_> = rows.iter().map(|r| &r.request_id).collect();
    assert_eq!(ids.len(), 13, "each row is its own request");
    rig.stop().await;
}

async fn the_metering_migration_goes_down_and_up_again(backend: Backend) {
    let app = TestApp::start(backend).await;
    let TestApp { app, db, .. } = app;
    app.stop().await.expect("graceful stop");
    let conn = sea_orm::Database::connect(&db.url).await.expect("database");
    // Revert one migration at a time (later ones may follow it) until the ledger is gone.
    let mut reverted = 0;
    while store::raw_counts(&conn).await.is_ok() {
        assert!(reverted < 10, "reverting never removed the ledger tables");
        gatehouse_core::db::migrate_down(&conn, 1)
            .await
            .expect("a migration reverts");
        reverted += 1;
    }
    gatehouse_core::db::migrate(&conn)
        .await
        .expect("and applies again");
    assert_eq!(store::raw_counts(&conn).await.expect("counts"), (0, 0));
    conn.close().await.ok();
}

backend_tests!(
    the_ledger_counts_exactly_the_upstream_calls_the_simulator_served,
    the_ledger_accounts_for_every_faulted_attempt_as_the_simulator_saw_it,
    a_graceful_stop_mid_traffic_loses_no_record,
    real_traffic_shows_writes_under_a_read_only_workflow_and_an_undeclared_entity,
    a_key_bound_to_an_approved_request_is_measured_against_that_request,
    two_and_a_half_times_the_declared_volume_is_a_critical_finding,
    an_hourly_sweep_of_all_usages_is_an_analytical_pattern_on_the_live_api,
    report_exports_match_their_snapshots,
    the_charts_are_well_formed_svg_with_their_series,
    daily_rollups_are_idempotent_and_stand_in_for_purged_raw_records,
    alerts_are_raised_once_per_day_and_acknowledged_by_reviewers,
    a_full_queue_drops_and_counts_records_instead_of_waiting,
    with_metering_off_nothing_is_recorded,
    cache_answers_are_counted_into_shared_rows_and_the_reports_count_each,
    with_counting_off_every_operation_keeps_its_own_row,
    the_metering_migration_goes_down_and_up_again,
);
