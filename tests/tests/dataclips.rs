//! Dataclips, black-box: the real app pulls clips from the simulator, keeps snapshots, and
//! answers analytics from them, on SQLite and PostgreSQL.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::SubsecRound;
use gatehouse_compliance::Entity;
use gatehouse_compliance::cost::{
    FieldShape, OperationShape, RouteDecision, RoutePolicy, Sources, route,
};
use gatehouse_core::audit::Actor;
use gatehouse_core::auth::{Access, KeyScopes, Role};
use gatehouse_core::clock::Clock;
use gatehouse_core::dataclips::analytics::UsageFilter;
use gatehouse_core::dataclips::{ClipStatus, SnapshotStatus};
use gatehouse_core::db::entities::ledger_operations;
use gatehouse_tests::clips::{dataclips_toml, simulator};
use gatehouse_tests::{Backend, TestApp, backend_tests, first_error_code};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use synchro_sim::{FaultRule, MalformedKind, SimConfig, SimHandle};
use uuid::Uuid;

const USAGES: &str = "resource-usages-export";
const ACTIVITIES: &str = "activity-export";

async fn status(app: &TestApp, project: Uuid, clip: &str) -> ClipStatus {
    app.app
        .services
        .dataclips
        .status(Some(&project.to_string()))
        .await
        .expect("status")
        .into_iter()
        .find(|s| s.spec.clip == clip)
        .expect("the clip is configured")
}

/// Polls the clip's status until `done` holds (at most 60 s).
async fn wait_for(
    app: &TestApp,
    project: Uuid,
    clip: &str,
    what: &str,
    done: impl Fn(&ClipStatus) -> bool,
) -> ClipStatus {
    let started = Instant::now();
    loop {
        let s = status(app, project, clip).await;
        if done(&s) {
            return s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for_snapshot(app: &TestApp, project: Uuid, clip: &str) -> i64 {
    wait_for(app, project, clip, "a first snapshot", |s| {
        s.current.is_some()
    })
    .await
    .current
    .map(|c| c.id)
    .unwrap_or_default()
}

/// The clip's CSV, fetched directly from the simulator, as header → value maps.
async fn fetch_csv(sim: &SimHandle, project: Uuid, clip: &str) -> Vec<BTreeMap<String, String>> {
    let body = reqwest::Client::new()
        .get(format!("{}/dataclips/{project}/{clip}.csv", sim.base_url()))
        .basic_auth("analyst", Some("secret"))
        .send()
        .await
        .expect("clip fetched")
        .text()
        .await
        .expect("clip body");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers = reader.headers().expect("headers").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            headers
                .iter()
                .map(str::to_owned)
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

fn usage_key(project: Uuid) -> KeyScopes {
    KeyScopes::new(
        vec![project.to_string()],
        [(Entity::ResourceUsage, Access::Read)],
    )
}

fn clip_fetches(stats: &synchro_sim::Stats, clip: &str, status: u16) -> u64 {
    let endpoint = format!("/dataclips/{{project_id}}/{clip}.csv");
    stats
        .calls
        .iter()
        .filter(|c| c.endpoint == endpoint && c.status == status)
        .map(|c| c.count)
        .sum()
}

const TOTALS: &str = "query($p: String!, $by: [UsageGroupBy!]!, $f: UsageFilterInput) {
  analytics(projectId: $p) { usageTotals(groupBy: $by, filter: $f) {
    groups { company month rows quantity labourHours approvedQuantity unapprovedQuantity }
    total { rows quantity labourHours approvedQuantity approvedLabourHours }
    truncated
    freshness { source snapshotId refreshedAt fetchedAt ageSeconds nextRefreshAt } } } }";

async fn a_usage_clip_is_ingested_and_its_totals_match_sums_of_the_csv(backend: Backend) {
    let (sim, project) = simulator(SimConfig::default()).await;
    let toml = dataclips_toml(&sim, project, &[USAGES], 3600, "");
    let app = TestApp::start_with(backend, &toml).await;
    let snapshot = wait_for_snapshot(&app, project, USAGES).await;

    let rows = fetch_csv(&sim, project, USAGES).await;
    assert!(
        rows.len() > 1000,
        "the small simulator has thousands of usages"
    );
    let num = |r: &BTreeMap<String, String>, k: &str| r[k].parse::<f64>().expect("number");
    let is_labour = |r: &BTreeMap<String, String>| {
        r["Resource Type"] == "People" && r["Unit of Measure"] == "h"
    };
    let mut by_company: BTreeMap<String, (i64, f64, f64, f64)> = BTreeMap::new();
    let (mut quantity, mut labour, mut approved) = (0.0, 0.0, 0.0);
    for r in &rows {
        let q = num(r, "Quantity");
        let l = if is_labour(r) { q } else { 0.0 };
        let a = if r["Approval Status"] == "Approved" {
            q
        } else {
            0.0
        };
        quantity += q;
        labour += l;
        approved += a;
        let e = by_company.entry(r["Company"].clone()).or_default();
        e.0 += 1;
        e.1 += q;
        e.2 += l;
        e.3 += a;
    }

    let (_, key) = app.create_key(usage_key(project)).await;
    let vars = json!({ "p": project.to_string(), "by": ["COMPANY"] });
    let (_, body) = app.graphql(Some(&key), TOTALS, vars).await;
    let totals = &body["data"]["analytics"]["usageTotals"];
    assert_eq!(totals["total"]["rows"], rows.len(), "{body}");
    assert!(
        close(
            totals["total"]["quantity"].as_f64().unwrap_or(-1.0),
            quantity
        ),
        "{body}"
    );
    assert!(
        close(
            totals["total"]["labourHours"].as_f64().unwrap_or(-1.0),
            labour
        ),
        "{body}"
    );
    assert!(
        close(
            totals["total"]["approvedQuantity"].as_f64().unwrap_or(-1.0),
            approved
        ),
        "{body}"
    );
    let groups = totals["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), by_company.len(), "{body}");
    for group in groups {
        let name = group["company"].as_str().expect("company key");
        let (count, q, l, a) = by_company[name];
        assert_eq!(group["rows"], count, "{name}");
        assert!(
            close(group["quantity"].as_f64().unwrap_or(-1.0), q),
            "{name}: {group}"
        );
        assert!(
            close(group["labourHours"].as_f64().unwrap_or(-1.0), l),
            "{name}: {group}"
        );
        assert!(
            close(group["approvedQuantity"].as_f64().unwrap_or(-1.0), a),
            "{name}: {group}"
        );
        assert!(
            close(group["unapprovedQuantity"].as_f64().unwrap_or(-1.0), q - a),
            "{name}: {group}"
        );
    }
    let freshness = &totals["freshness"];
    assert_eq!(freshness["source"], USAGES);
    assert_eq!(freshness["snapshotId"], snapshot.to_string());
    assert!(
        freshness["refreshedAt"].is_string() && freshness["nextRefreshAt"].is_string(),
        "{body}"
    );

    // A date window and monthly buckets, against the same CSV.
    let first_day = rows
        .iter()
        .map(|r| r["Work Date"].clone())
        .min()
        .expect("dates");
    let from = chrono::NaiveDate::parse_from_str(&first_day, "%Y-%m-%d").expect("date");
    let to = from + chrono::Duration::days(40);
    let mut by_month: BTreeMap<String, f64> = BTreeMap::new();
    for r in &rows {
        let day = chrono::NaiveDate::parse_from_str(&r["Work Date"], "%Y-%m-%d").expect("date");
        if day >= from && day <= to {
            *by_month.entry(r["Work Date"][..7].to_owned()).or_default() += num(r, "Quantity");
        }
    }
    let vars = json!({ "p": project.to_string(), "by": ["MONTH"],
        "f": { "from": from.to_string(), "to": to.to_string() } });
    let (_, body) = app.graphql(Some(&key), TOTALS, vars).await;
    let groups = body["data"]["analytics"]["usageTotals"]["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let got: BTreeMap<String, f64> = groups
        .iter()
        .map(|g| {
            (
                g["month"].as_str().unwrap_or_default().to_owned(),
                g["quantity"].as_f64().unwrap_or(-1.0),
            )
        })
        .collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        by_month.keys().collect::<Vec<_>>(),
        "{body}"
    );
    for (month, q) in &by_month {
        assert!(close(got[month], *q), "{month}: {} vs {q}", got[month]);
    }

    // A key without the entity is refused; so is one for another project.
    let (_, other) = app
        .create_key(KeyScopes::new(
            vec![project.to_string()],
            [(Entity::Activity, Access::Read)],
        ))
        .await;
    let (_, body) = app
        .graphql(
            Some(&other),
            TOTALS,
            json!({ "p": project.to_string(), "by": [] }),
        )
        .await;
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, body) = app
        .graphql(
            Some(&key),
            TOTALS,
            json!({ "p": Uuid::new_v4().to_string(), "by": [] }),
        )
        .await;
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"), "{body}");
    let (_, body) = app
        .graphql(None, TOTALS, json!({ "p": project.to_string(), "by": [] }))
        .await;
    assert_eq!(first_error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    app.stop().await;
    sim.shutdown().await;
}

async fn every_known_clip_answers_its_analytics_field_from_its_snapshot(backend: Backend) {
    let (sim, project) = simulator(SimConfig::default()).await;
    let clips = [
        USAGES,
        ACTIVITIES,
        "attendance-export",
        "applicable-rates",
        "dockets",
    ];
    let app = TestApp::start_with(backend, &dataclips_toml(&sim, project, &clips, 3600, "")).await;
    for clip in clips {
        wait_for_snapshot(&app, project, clip).await;
    }
    let attendance = fetch_csv(&sim, project, "attendance-export").await;
    let scopes = KeyScopes::new(
        vec!["*".into()],
        [
            Entity::ResourceUsage,
            Entity::Activity,
            Entity::Attendance,
            Entity::ApplicableRate,
        ]
        .map(|e| (e, Access::Read)),
    );
    let (_, key) = app.create_key(scopes).await;
    let query = "query($p: String!) { analytics(projectId: $p) {
        attendanceByDay(byArea: false) { days { day records people hours } truncated freshness { source } }
        activityProgress(first: 5) { nodes { referenceCode budgetLabourHours actualLabourHours percentComplete }
          pageInfo { hasNextPage endCursor } freshness { source } actualsFreshness { source } }
        currentRates(asOf: \"2025-06-01\") { rates { resourceName rateCode rate } freshness { source } } } }";
    let (_, body) = app
        .graphql(Some(&key), query, json!({ "p": project.to_string() }))
        .await;
    let a = &body["data"]["analytics"];
    let days = a["attendanceByDay"]["days"].as_array().expect("days");
    let records: i64 = days
        .iter()
        .map(|d| d["records"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(
        records as usize,
        attendance.len(),
        "every attendance row is counted: {body}"
    );
    assert_eq!(
        a["attendanceByDay"]["freshness"]["source"],
        "attendance-export"
    );
    let nodes = a["activityProgress"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 5, "{body}");
    assert!(
        nodes.iter().all(|n| n["actualLabourHours"].is_number()),
        "{body}"
    );
    assert_eq!(a["activityProgress"]["actualsFreshness"]["source"], USAGES);
    assert_eq!(a["activityProgress"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(a["currentRates"]["freshness"]["source"], "applicable-rates");
    // The operation says where its answer came from, to the client and in the usage ledger.
    let gatehouse = &body["extensions"]["gatehouse"];
    assert_eq!(gatehouse["source"], "dataclip", "{body}");
    assert_eq!(gatehouse["upstreamCalls"], 0, "{body}");
    assert!(gatehouse["dataAgeSeconds"].is_i64(), "{body}");
    let services = &app.app.services;
    services.metering.ledger.flush().await;
    let sources: Vec<String> = ledger_operations::Entity::find()
        .all(&services.db)
        .await
        .expect("ledger")
        .into_iter()
        .map(|o| o.source)
        .collect();
    assert_eq!(sources, ["dataclip"], "{sources:?}");

    // The next page follows on from the cursor.
    let cursor = a["activityProgress"]["pageInfo"]["endCursor"].clone();
    let next = "query($p: String!, $a: String) { analytics(projectId: $p) {
        activityProgress(first: 5, after: $a) { nodes { referenceCode } } } }";
    let (_, body2) = app
        .graphql(
            Some(&key),
            next,
            json!({ "p": project.to_string(), "a": cursor }),
        )
        .await;
    let first_page: Vec<&str> = nodes
        .iter()
        .filter_map(|n| n["referenceCode"].as_str())
        .collect();
    let second: Vec<&str> = body2["data"]["analytics"]["activityProgress"]["nodes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|x| x["referenceCode"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(second.len(), 5, "{body2}");
    assert!(second[0] > first_page[4], "{first_page:?} then {second:?}");

    // The generic clip is stored as rows and is not an analytics source.
    let dockets = status(&app, project, "dockets").await;
    let docket_rows = fetch_csv(&sim, project, "dockets").await.len() as i64;
    assert_eq!(dockets.current.map(|c| c.rows), Some(docket_rows));
    app.stop().await;
    sim.shutdown().await;
}

/// Gatehouse on a manual clock (whole seconds, as every database keeps them exactly).
async fn on_a_manual_clock(backend: Backend, toml: &str) -> (TestApp, Clock) {
    let clock = Clock::manual(chrono::Utc::now().trunc_subsecs(0));
    let app = TestApp::start_with_clock(backend, toml, clock.clone()).await;
    (app, clock)
}

/// Waits until the clip's schedule sleeps on the clock: its attempt, if one ran, is over, and
/// its next wait was measured from the clock's time before the test moves it again.
async fn asleep(clock: &Clock) {
    let started = Instant::now();
    while clock.sleepers() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the schedule never went back to sleep"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Moves the clock by `by` and waits until the clip has made `fetches` fetches in all and its
/// schedule sleeps again.
async fn advance_until_fetched(sim: &SimHandle, clock: &Clock, by: Duration, fetches: u64) {
    asleep(clock).await;
    assert!(clock.advance(by), "a manual clock");
    let started = Instant::now();
    loop {
        let (ok, not_modified) = activity_fetches(sim).await;
        if ok + not_modified >= fetches {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for fetch {fetches}: {:?}",
            sim.stats().await
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    asleep(clock).await;
}

/// Fetches of the activity clip the simulator answered: (200, 304).
async fn activity_fetches(sim: &SimHandle) -> (u64, u64) {
    let stats = sim.stats().await;
    (
        clip_fetches(&stats, ACTIVITIES, 200),
        clip_fetches(&stats, ACTIVITIES, 304),
    )
}

async fn an_unchanged_clip_costs_a_304_and_is_never_fetched_more_often_than_its_cycle(
    backend: Backend,
) {
    // The simulator keeps its snapshot; Gatehouse's cycle is one second of its clock, which the
    // test moves: every fetch after the first finds the clip unchanged.
    let (sim, project) = simulator(SimConfig::default()).await;
    let (app, clock) = on_a_manual_clock(
        backend,
        &dataclips_toml(&sim, project, &[ACTIVITIES], 1, ""),
    )
    .await;
    wait_for_snapshot(&app, project, ACTIVITIES).await;
    asleep(&clock).await;
    for fetches in 2..=4 {
        advance_until_fetched(&sim, &clock, Duration::from_secs(1), fetches).await;
    }
    // Half a cycle is not a cycle: no fetch comes, however long the test waits.
    asleep(&clock).await;
    assert!(clock.advance(Duration::from_millis(500)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        activity_fetches(&sim).await,
        (1, 3),
        "one full download, then a conditional fetch per cycle, each costing a 304"
    );
    let s = status(&app, project, ACTIVITIES).await;
    assert_eq!(s.snapshots.len(), 1, "a 304 makes no new snapshot");
    assert!(
        s.state.last_success_at > s.state.last_changed_at,
        "the 304 counts as a success"
    );
    app.stop().await;
    sim.shutdown().await;
}

async fn fetches_never_outpace_the_cycle_over_a_compressed_day(backend: Backend) {
    // Six one-second cycles of Gatehouse's clock, moved by quarter cycles, with a new snapshot
    // upstream before each: every fetch downloads a changed clip, one per cycle and no more.
    let (sim, project) = simulator(SimConfig::default()).await;
    let (app, clock) = on_a_manual_clock(
        backend,
        &dataclips_toml(&sim, project, &[ACTIVITIES], 1, "keep_snapshots = 2"),
    )
    .await;
    wait_for_snapshot(&app, project, ACTIVITIES).await;
    for cycle in 1..=6u64 {
        sim.refresh_dataclips().await;
        for _ in 0..3 {
            asleep(&clock).await;
            assert!(clock.advance(Duration::from_millis(250)));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            activity_fetches(&sim).await,
            (cycle, 0),
            "three quarters into cycle {cycle}"
        );
        advance_until_fetched(&sim, &clock, Duration::from_millis(250), cycle + 1).await;
    }
    assert_eq!(activity_fetches(&sim).await, (7, 0));
    let s = status(&app, project, ACTIVITIES).await;
    let complete = s
        .snapshots
        .iter()
        .filter(|(x, _)| matches!(x.status, SnapshotStatus::Ready | SnapshotStatus::Superseded))
        .count();
    assert_eq!(
        complete, 2,
        "old snapshots are pruned to keep_snapshots: {s:?}"
    );
    app.stop().await;
    sim.shutdown().await;
}

/// Makes the simulator take a new snapshot (so the next fetch is a download), asks for a
/// refresh, and waits until the clip records the failure.
async fn refresh_and_wait_for_failure(
    app: &TestApp,
    sim: &SimHandle,
    project: Uuid,
    clip: &str,
) -> ClipStatus {
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sim.refresh_dataclips().await;
    let before = status(app, project, clip).await.state.last_error_at;
    app.app
        .services
        .dataclips
        .request_refresh(&Actor::Cli, &project.to_string(), clip)
        .await
        .expect("refresh accepted");
    wait_for(app, project, clip, "the failure to be recorded", |s| {
        s.state.last_error_at.is_some() && s.state.last_error_at != before
    })
    .await
}

async fn a_cut_connection_leaves_the_previous_snapshot_serving_and_says_so(backend: Backend) {
    let (sim, project) = simulator(SimConfig::default()).await;
    let app =
        TestApp::start_with(backend, &dataclips_toml(&sim, project, &[USAGES], 3600, "")).await;
    let first = wait_for_snapshot(&app, project, USAGES).await;
    sim.add_fault(FaultRule {
        endpoint: "/dataclips/{project_id}/resource-usages-export.csv".into(),
        cut_after_bytes: Some(60_000),
        ..FaultRule::default()
    })
    .await
    .expect("fault");
    let s = refresh_and_wait_for_failure(&app, &sim, project, USAGES).await;
    assert_eq!(
        s.current.as_ref().map(|c| c.id),
        Some(first),
        "the previous snapshot still serves"
    );
    let error = s.state.last_error.clone().unwrap_or_default();
    assert!(error.contains("cut off"), "{error}");
    let failed: Vec<_> = s
        .snapshots
        .iter()
        .filter(|(x, _)| x.status == SnapshotStatus::Failed)
        .collect();
    assert!(
        !failed.is_empty(),
        "the refused snapshot is recorded: {s:?}"
    );
    assert!(
        failed
            .iter()
            .all(|(x, _)| x.error.as_deref().is_some_and(|e| e.contains("cut off")))
    );

    sim.clear_faults().await;
    let (_, key) = app.create_key(usage_key(project)).await;
    let (_, body) = app
        .graphql(
            Some(&key),
            TOTALS,
            json!({ "p": project.to_string(), "by": [] }),
        )
        .await;
    let totals = &body["data"]["analytics"]["usageTotals"];
    assert_eq!(
        totals["freshness"]["snapshotId"],
        first.to_string(),
        "{body}"
    );
    assert_eq!(
        totals["total"]["rows"],
        fetch_csv(&sim, project, USAGES).await.len(),
        "no partial rows leak in"
    );
    app.stop().await;
    sim.shutdown().await;
}

async fn a_malformed_row_leaves_the_previous_snapshot_serving_and_is_reported_by_number(
    backend: Backend,
) {
    let (sim, project) = simulator(SimConfig::default()).await;
    let app =
        TestApp::start_with(backend, &dataclips_toml(&sim, project, &[USAGES], 3600, "")).await;
    let first = wait_for_snapshot(&app, project, USAGES).await;
    for (kind, expect) in [
        (MalformedKind::NonNumeric, "Quantity: `n/a`"),
        (MalformedKind::ColumnCount, "24 cells"),
    ] {
        sim.clear_faults().await;
        sim.add_fault(FaultRule {
            endpoint: "/dataclips/{project_id}/resource-usages-export.csv".into(),
            malformed_row: Some(7),
            malformed_kind: Some(kind),
            ..FaultRule::default()
        })
        .await
        .expect("fault");
        let s = refresh_and_wait_for_failure(&app, &sim, project, USAGES).await;
        assert_eq!(
            s.current.as_ref().map(|c| c.id),
            Some(first),
            "the previous snapshot still serves"
        );
        let (failed, bad) = s
            .snapshots
            .iter()
            .find(|(x, _)| x.status == SnapshotStatus::Failed)
            .expect("a failed snapshot");
        assert_eq!(failed.bad_rows, 1, "{failed:?}");
        assert_eq!(bad.len(), 1);
        assert_eq!(
            bad[0].row, 8,
            "data row 7 counted from 0 is row 8 counted from 1"
        );
        assert!(bad[0].reason.contains(expect), "{:?}", bad[0]);
        let error = s.state.last_error.clone().unwrap_or_default();
        assert!(
            error.contains("bad row") && error.contains("row 8"),
            "{error}"
        );
    }
    app.stop().await;
    sim.shutdown().await;
}

async fn a_manual_refresh_is_audited_and_held_to_the_floor(backend: Backend) {
    let (sim, project) = simulator(SimConfig::default()).await;
    let toml = dataclips_toml(&sim, project, &[ACTIVITIES], 3600, "").replace(
        "manual_refresh_floor_secs = 0",
        "manual_refresh_floor_secs = 3",
    );
    let (app, clock) = on_a_manual_clock(backend, &toml).await;
    wait_for_snapshot(&app, project, ACTIVITIES).await;
    let admin = app.create_user(Role::Admin).await;
    let (client, csrf) = app.sign_in(&admin).await;
    let refresh = json!({
        "query": "mutation($p: String!, $c: String!) { refreshDataclip(projectId: $p, clip: $c) { clip lastManualRefreshAt } }",
        "variables": { "p": project.to_string(), "c": ACTIVITIES }
    });
    let post = |body: Value| {
        client
            .post(app.url("/graphql"))
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
    };
    // Within the floor after the startup fetch, a refresh is refused; past it, one is accepted
    // and the next, right after it, is refused.
    assert!(clock.advance(Duration::from_secs(2)));
    let body: Value = post(refresh.clone())
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(first_error_code(&body), Some("RATE_LIMITED"), "{body}");
    assert!(clock.advance(Duration::from_secs(1)));
    let body: Value = post(refresh.clone())
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(body["errors"].is_null(), "{body}");
    assert!(
        body["data"]["refreshDataclip"]["lastManualRefreshAt"].is_string(),
        "{body}"
    );
    let body: Value = post(refresh)
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(first_error_code(&body), Some("RATE_LIMITED"), "{body}");
    // The retry hint has the one name every error uses.
    assert!(
        body["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .is_some_and(|s| s > 0),
        "{body}"
    );

    let history = gatehouse_core::audit::history(
        &app.app.services.db,
        "dataclip",
        &format!("{project}/{ACTIVITIES}"),
    )
    .await
    .expect("history");
    assert_eq!(
        history.len(),
        1,
        "one accepted refresh, one entry: {history:?}"
    );
    assert_eq!(history[0].action, "dataclip.refresh");
    assert_eq!(history[0].actor, format!("user:{}", admin.id));

    let status_query = json!({ "query": "{ dataclipStatus { clip rows ageSeconds nextRefreshAt current { status } } }" });
    let body: Value = post(status_query)
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(
        body["data"]["dataclipStatus"][0]["current"]["status"], "READY",
        "{body}"
    );

    // Contacts may neither refresh nor read analytics.
    let contact = app.create_user(Role::Contact).await;
    let (client, csrf) = app.sign_in(&contact).await;
    let body: Value = client
        .post(app.url("/graphql"))
        .header("x-csrf-token", &csrf)
        .json(&json!({ "query": format!("{{ analytics(projectId: \"{project}\") {{ projectId }} }}") }))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"), "{body}");
    app.stop().await;
    sim.shutdown().await;
}

async fn routing_answers_long_windows_and_sweeps_from_the_snapshot_and_point_reads_live(
    backend: Backend,
) {
    let (sim, project) = simulator(SimConfig::default()).await;
    let app = TestApp::start_with(
        backend,
        &dataclips_toml(&sim, project, &[USAGES, ACTIVITIES], 3600, ""),
    )
    .await;
    wait_for_snapshot(&app, project, USAGES).await;
    wait_for_snapshot(&app, project, ACTIVITIES).await;
    let dataclips = &app.app.services.dataclips;
    let ages = dataclips.snapshot_ages(&project.to_string());
    assert!(
        ages.contains_key(&Entity::ResourceUsage) && ages.contains_key(&Entity::Activity),
        "{ages:?}"
    );
    assert!(
        dataclips
            .snapshot_ages(&Uuid::new_v4().to_string())
            .is_empty()
    );

    let policy = RoutePolicy::default();
    let sources = Sources {
        cache_age_secs: None,
        dataclip_age_secs: ages,
    };
    let day = 24 * 3600;
    let point = OperationShape::new(None, vec![FieldShape::single("activity", Entity::Activity)]);
    assert!(matches!(
        route(&point, &policy, &sources, None),
        RouteDecision::Live { .. }
    ));
    let small = OperationShape::new(
        None,
        vec![
            FieldShape::list("resourceUsages", Entity::ResourceUsage, Some(20)).with_window_days(7),
        ],
    );
    assert!(matches!(
        route(&small, &policy, &sources, None),
        RouteDecision::Live { .. }
    ));
    let long = OperationShape::new(
        None,
        vec![
            FieldShape::list("resourceUsages", Entity::ResourceUsage, Some(50))
                .with_window_days(200),
        ],
    );
    assert!(matches!(
        route(&long, &policy, &sources, Some(day)),
        RouteDecision::Dataclip { .. }
    ));
    match route(&long, &policy, &sources, Some(0)) {
        RouteDecision::UseDataclips {
            analytics_field, ..
        } => assert_eq!(analytics_field.as_deref(), Some("usageTotals")),
        other => {
            panic!("a client that accepts no staleness is refused, not served live: {other:?}")
        }
    }
    let sweep = OperationShape::new(
        None,
        vec![FieldShape::list("activities", Entity::Activity, Some(5000))],
    );
    assert!(matches!(
        route(&sweep, &policy, &sources, Some(day)),
        RouteDecision::Dataclip { .. }
    ));

    // Through GraphQL: a client that accepts a day-old answer and asks the live API for half a
    // year of usages is pointed at the snapshot's rows, with their age, before any upstream
    // call; the rows are there, page by page, with their freshness.
    let (_, key) = app
        .create_key(KeyScopes::new(
            vec![project.to_string()],
            [
                (Entity::ResourceUsage, Access::Read),
                (Entity::Activity, Access::Read),
            ],
        ))
        .await;
    let window = "query($p: ID!) { project(id: $p) { resourceUsages(first: 50, filter: {from: \"2025-01-01\", to: \"2025-07-31\"}) { nodes { id } } } }";
    let (status, body) = app
        .graphql_ext(
            &key,
            window,
            json!({ "p": project.to_string() }),
            json!({ "gatehouse": { "acceptStaleSeconds": day } }),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "USE_DATACLIPS", "{body}");
    assert_eq!(error["extensions"]["analyticsField"], "usages", "{body}");
    assert_eq!(error["extensions"]["dataclips"], json!([USAGES]), "{body}");
    assert!(error["extensions"]["snapshotAgeSeconds"].is_u64(), "{body}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("analytics(projectId) { usages }")),
        "{body}"
    );
    let rows = "query($p: String!, $after: String) { analytics(projectId: $p) { usages(first: 100, after: $after) {
        nodes { id workDate resourceName quantity approvalStatus }
        pageInfo { hasNextPage endCursor } freshness { source ageSeconds } } } }";
    let (status, body) = app
        .graphql(Some(&key), rows, json!({ "p": project.to_string() }))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let usages = &body["data"]["analytics"]["usages"];
    assert_eq!(
        usages["nodes"].as_array().map(Vec::len),
        Some(100),
        "{body}"
    );
    assert_eq!(usages["freshness"]["source"], USAGES);
    assert_eq!(usages["pageInfo"]["hasNextPage"], true);
    let (_, next) = app
        .graphql(
            Some(&key),
            rows,
            json!({ "p": project.to_string(), "after": usages["pageInfo"]["endCursor"] }),
        )
        .await;
    let next_nodes = &next["data"]["analytics"]["usages"]["nodes"];
    assert_eq!(next_nodes.as_array().map(Vec::len), Some(100), "{next}");
    assert_ne!(next_nodes[0]["id"], usages["nodes"][99]["id"]);

    // The service under it, directly.
    let filter = UsageFilter::default();
    let page = dataclips
        .snapshot_usages(&project.to_string(), &filter, 100, None)
        .await
        .expect("page");
    assert_eq!(page.items.len(), 100);
    let next = dataclips
        .snapshot_usages(
            &project.to_string(),
            &filter,
            100,
            page.next_cursor.as_deref(),
        )
        .await
        .expect("page 2");
    assert_eq!(next.items.len(), 100);
    assert_ne!(page.items[99].id, next.items[0].id);
    assert_eq!(next.freshness.source, USAGES);

    // The service's own cursor names the current snapshot and a row, but it is not signed: a
    // client that forges one (or takes one from another field) is refused.
    for forged in [
        page.next_cursor.clone().expect("a next page"),
        usages["pageInfo"]["endCursor"]
            .as_str()
            .expect("cursor")
            .to_owned()
            + "A",
    ] {
        let (_, refused) = app
            .graphql(
                Some(&key),
                rows,
                json!({ "p": project.to_string(), "after": forged }),
            )
            .await;
        assert_eq!(
            first_error_code(&refused),
            Some("BAD_USER_INPUT"),
            "{refused}"
        );
    }
    let progress = "query($p: String!, $after: String) { analytics(projectId: $p) { activityProgress(first: 5, after: $after) { nodes { referenceCode } } } }";
    let (_, foreign) = app
        .graphql(
            Some(&key),
            progress,
            json!({ "p": project.to_string(), "after": usages["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        first_error_code(&foreign),
        Some("BAD_USER_INPUT"),
        "{foreign}"
    );

    let activities = dataclips
        .snapshot_activities(&project.to_string(), &Default::default(), 10, None)
        .await
        .expect("activities");
    assert_eq!(activities.items.len(), 10);
    app.stop().await;
    sim.shutdown().await;
}

async fn bad_rows_within_the_allowance_are_accepted_and_reported(backend: Backend) {
    let (sim, project) = simulator(SimConfig::default()).await;
    sim.add_fault(FaultRule {
        endpoint: "/dataclips/{project_id}/resource-usages-export.csv".into(),
        malformed_row: Some(0),
        count: Some(1),
        ..FaultRule::default()
    })
    .await
    .expect("fault");
    let toml = dataclips_toml(&sim, project, &[USAGES], 3600, "max_bad_rows = 5");
    let app = TestApp::start_with(backend, &toml).await;
    wait_for_snapshot(&app, project, USAGES).await;
    let s = status(&app, project, USAGES).await;
    let expected = fetch_csv(&sim, project, USAGES).await.len() as i64;
    let current = s.current.clone().expect("current");
    assert_eq!(current.bad_rows, 1, "{s:?}");
    assert_eq!(current.rows, expected - 1, "every other row is kept");
    let (_, bad) = &s.snapshots[0];
    assert_eq!(bad.first().map(|b| b.row), Some(1), "{bad:?}");
    app.stop().await;
    sim.shutdown().await;
}

async fn a_json_clip_is_ingested_like_its_csv(backend: Backend) {
    let (sim, project) = simulator(SimConfig::default()).await;
    let toml = dataclips_toml(&sim, project, &[ACTIVITIES, "attendance-export"], 3600, "")
        .replace("cycle_secs = 3600", "cycle_secs = 3600\nformat = \"json\"");
    let app = TestApp::start_with(backend, &toml).await;
    for clip in [ACTIVITIES, "attendance-export"] {
        wait_for_snapshot(&app, project, clip).await;
        let s = status(&app, project, clip).await;
        assert_eq!(s.spec.format.extension(), "json");
        let expected = fetch_csv(&sim, project, clip).await.len() as i64;
        assert_eq!(
            s.current.map(|c| (c.rows, c.bad_rows)),
            Some((expected, 0)),
            "{clip}"
        );
    }
    app.stop().await;
    sim.shutdown().await;
}

backend_tests!(
    bad_rows_within_the_allowance_are_accepted_and_reported,
    a_json_clip_is_ingested_like_its_csv,
    a_usage_clip_is_ingested_and_its_totals_match_sums_of_the_csv,
    every_known_clip_answers_its_analytics_field_from_its_snapshot,
    an_unchanged_clip_costs_a_304_and_is_never_fetched_more_often_than_its_cycle,
    fetches_never_outpace_the_cycle_over_a_compressed_day,
    a_cut_connection_leaves_the_previous_snapshot_serving_and_says_so,
    a_malformed_row_leaves_the_previous_snapshot_serving_and_is_reported_by_number,
    a_manual_refresh_is_audited_and_held_to_the_floor,
    routing_answers_long_windows_and_sweeps_from_the_snapshot_and_point_reads_live,
);
