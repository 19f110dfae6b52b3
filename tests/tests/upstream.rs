//! The upstream client against the simulator: every entity, both pagination styles, pacing
//! under the budget, retries, and injected faults turned into typed errors in bounded time.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use gatehouse_core::upstream::model::{
    Activity, ActivityPatch, Attachment, AttachmentParent, Attendance, Company, Docket,
    DocketAction, Equipment, Event, NewProgressEntry, NewResourceUsage, OtherResource, Person,
    ProgressEntry, Record, ResourceAssignment, ResourceUsage, UsageCode, WorkRole,
};
use gatehouse_core::upstream::profile::PaginationStyle;
use gatehouse_core::upstream::tokens::ConfigTokens;
use gatehouse_core::upstream::{
    CallEvent, CallObserver, CallTag, ListQuery, UpstreamClient, UpstreamError, UpstreamProfile,
};
use secrecy::SecretString;
use synchro_sim::{FaultRule, SimConfig, SimHandle};
use uuid::Uuid;

#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<CallEvent>>);

impl CallObserver for Recorder {
    fn observe(&self, event: &CallEvent) {
        self.0.lock().expect("lock").push(event.clone());
    }
}

struct Rig {
    sim: SimHandle,
    client: UpstreamClient,
    project: String,
    recorder: Arc<Recorder>,
}

async fn rig_with(
    sim_config: SimConfig,
    style: PaginationStyle,
    tune: impl FnOnce(&mut UpstreamProfile),
) -> Rig {
    let sim = synchro_sim::spawn(
        SimConfig {
            pagination: match style {
                PaginationStyle::PageNumber => synchro_sim::PaginationStyle::PageNumber,
                PaginationStyle::Continuation => synchro_sim::PaginationStyle::Continuation,
            },
            ..sim_config
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("simulator starts");
    let project = sim.projects()[0].id;
    let token = sim
        .create_token(project, synchro_sim::Scope::ReadWrite)
        .await;
    let mut profile = UpstreamProfile {
        base_url: sim.base_url().parse().expect("url"),
        pagination: style,
        calls_per_minute: 60_000,
        burst: 1_000,
        ..UpstreamProfile::default()
    };
    profile.retry.initial_backoff_ms = 10;
    profile.retry.max_backoff_ms = 200;
    tune(&mut profile);
    let tokens = ConfigTokens::new(BTreeMap::from([(
        project.to_string(),
        SecretString::from(token),
    )]));
    let recorder = Arc::new(Recorder::default());
    let client = UpstreamClient::over_http(Arc::new(profile), Arc::new(tokens), recorder.clone())
        .expect("client");
    Rig {
        sim,
        client,
        project: project.to_string(),
        recorder,
    }
}

async fn rig(style: PaginationStyle) -> Rig {
    rig_with(SimConfig::default(), style, |_| {}).await
}

async fn first_and_by_id<R: Record + std::fmt::Debug>(rig: &Rig) -> usize {
    let tag = CallTag::default();
    let page = rig
        .client
        .list::<R>(&rig.project, &ListQuery::default(), &tag)
        .await
        .unwrap_or_else(|e| panic!("list {}: {e}", R::ENTITY));
    assert!(!page.items.is_empty(), "{} has records", R::ENTITY);
    let one = rig
        .client
        .get::<R>(&rig.project, page.items[0].id(), &tag)
        .await
        .unwrap_or_else(|e| panic!("get {}: {e}", R::ENTITY));
    assert_eq!(one.id(), page.items[0].id());
    page.items.len()
}

async fn every_entity_lists_and_reads(style: PaginationStyle) {
    let rig = rig(style).await;
    let project = rig
        .client
        .get_project(&rig.project, &CallTag::default())
        .await
        .expect("project");
    assert_eq!(project.id.to_string(), rig.project);
    first_and_by_id::<Activity>(&rig).await;
    first_and_by_id::<Event>(&rig).await;
    first_and_by_id::<Person>(&rig).await;
    first_and_by_id::<Equipment>(&rig).await;
    first_and_by_id::<OtherResource>(&rig).await;
    first_and_by_id::<ResourceAssignment>(&rig).await;
    first_and_by_id::<ResourceUsage>(&rig).await;
    first_and_by_id::<Attendance>(&rig).await;
    first_and_by_id::<Docket>(&rig).await;
    first_and_by_id::<Company>(&rig).await;
    first_and_by_id::<WorkRole>(&rig).await;
    rig.sim.shutdown().await;
}

#[tokio::test]
async fn every_entity_lists_and_reads_with_page_numbers() {
    every_entity_lists_and_reads(PaginationStyle::PageNumber).await;
}

#[tokio::test]
async fn every_entity_lists_and_reads_with_continuation_tokens() {
    every_entity_lists_and_reads(PaginationStyle::Continuation).await;
}

#[tokio::test]
async fn streams_walk_every_page_of_both_styles() {
    for style in [PaginationStyle::PageNumber, PaginationStyle::Continuation] {
        let rig = rig(style).await;
        let query = ListQuery {
            page_size: Some(7),
            ..ListQuery::default()
        };
        let events: Vec<Event> = rig
            .client
            .stream::<Event>(rig.project.clone(), query, CallTag::default())
            .map(|r| r.expect("event"))
            .collect()
            .await;
        let ids: HashSet<Uuid> = events.iter().map(|e| e.id).collect();
        assert_eq!(ids.len(), events.len(), "no record twice");
        assert_eq!(
            events.len(),
            40,
            "the small simulator has 40 events per project"
        );
        rig.sim.shutdown().await;
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 12, ..Default::default() })]
    #[test]
    fn paging_yields_every_record_exactly_once_whatever_the_page_size(size in 1u32..=60, continuation in proptest::bool::ANY) {
        let style = if continuation { PaginationStyle::Continuation } else { PaginationStyle::PageNumber };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async move {
            let rig = rig(style).await;
            let all: Vec<Event> = rig.client
                .stream::<Event>(rig.project.clone(), ListQuery { page_size: Some(200), ..ListQuery::default() }, CallTag::default())
                .map(|r| r.expect("event")).collect().await;
            let paged: Vec<Event> = rig.client
                .stream::<Event>(rig.project.clone(), ListQuery { page_size: Some(size), ..ListQuery::default() }, CallTag::default())
                .map(|r| r.expect("event")).collect().await;
            let a: Vec<Uuid> = all.iter().map(|e| e.id).collect();
            let b: Vec<Uuid> = paged.iter().map(|e| e.id).collect();
            assert_eq!(a, b, "page size {size}");
            rig.sim.shutdown().await;
        });
    }
}

#[tokio::test]
async fn a_burst_of_callers_stays_under_the_budget_and_sees_no_429() {
    // The simulator allows 10 calls a second (burst 10); Gatehouse's budget is 8 a second
    // (burst 4). Sixty callers at once must all be served with no 429 at all.
    let sim_config = SimConfig {
        rate_limit: Some(synchro_sim::RateLimit {
            per_second: 10,
            burst: 10,
        }),
        ..SimConfig::default()
    };
    let rig = rig_with(sim_config, PaginationStyle::PageNumber, |p| {
        p.calls_per_minute = 480;
        p.burst = 4;
    })
    .await;
    let started = Instant::now();
    let calls = (0..60).map(|_| {
        let client = rig.client.clone();
        let project = rig.project.clone();
        async move {
            client
                .list::<Company>(&project, &ListQuery::default(), &CallTag::default())
                .await
        }
    });
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "every caller is served");
    let stats = rig.sim.stats().await;
    assert_eq!(
        stats.count_status(429),
        0,
        "the budget kept us under the upstream's limit"
    );
    assert_eq!(stats.total, 60);
    // 60 calls at 8/s after a burst of 4 take at least (60 - 4) / 8 = 7 seconds of pacing.
    assert!(
        started.elapsed() >= Duration::from_secs(6),
        "calls were paced"
    );
    rig.sim.shutdown().await;
}

#[tokio::test]
async fn a_429_storm_is_retried_honouring_retry_after_until_it_passes() {
    let rig = rig(PaginationStyle::PageNumber).await;
    rig.sim
        .add_fault(FaultRule {
            error_rate: 1.0,
            status: 429,
            count: Some(2),
            ..FaultRule::default()
        })
        .await
        .expect("fault");
    let started = Instant::now();
    let page = rig
        .client
        .list::<Company>(&rig.project, &ListQuery::default(), &CallTag::default())
        .await
        .expect("served after two 429s");
    assert!(!page.items.is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After: 1 was honoured twice"
    );
    let stats = rig.sim.stats().await;
    assert_eq!(stats.count_status(429), 2);
    assert_eq!(stats.count_status(200), 1);
    let attempts: Vec<u32> = rig
        .recorder
        .0
        .lock()
        .expect("lock")
        .iter()
        .map(|e| e.attempt)
        .collect();
    assert_eq!(attempts, [0, 1, 2], "each attempt reported to the hook");
    rig.sim.shutdown().await;
}

#[tokio::test]
async fn an_endless_429_storm_ends_in_a_typed_error_within_the_total_time() {
    let rig = rig_with(SimConfig::default(), PaginationStyle::PageNumber, |p| {
        p.retry.max_total_ms = 2_500;
    })
    .await;
    rig.sim
        .add_fault(FaultRule {
            error_rate: 1.0,
            status: 429,
            ..FaultRule::default()
        })
        .await
        .expect("fault");
    let error = rig
        .client
        .list::<Company>(&rig.project, &ListQuery::default(), &CallTag::default())
        .await
        .expect_err("never passes");
    assert!(
        matches!(error, UpstreamError::RateLimited { .. }),
        "{error:?}"
    );
    // Each 429 says `Retry-After: 1`: attempts at 0, 1 and 2 s; a fourth would start after
    // the 2.5 s budget. A slow machine makes fewer attempts, never more.
    let attempts = rig.sim.stats().await.total;
    assert!((1..=3).contains(&attempts), "{attempts} attempts");
    rig.sim.shutdown().await;
}

#[tokio::test]
async fn server_errors_are_retried_then_reported_as_unavailable() {
    let rig = rig(PaginationStyle::PageNumber).await;
    rig.sim
        .add_fault(FaultRule {
            error_rate: 1.0,
            status: 500,
            count: Some(1),
            ..FaultRule::default()
        })
        .await
        .expect("fault");
    rig.client
        .list::<Company>(&rig.project, &ListQuery::default(), &CallTag::default())
        .await
        .expect("one 500 is retried away");
    rig.sim
        .add_fault(FaultRule {
            error_rate: 1.0,
            status: 502,
            ..FaultRule::default()
        })
        .await
        .expect("fault");
    let error = rig
        .client
        .list::<Company>(&rig.project, &ListQuery::default(), &CallTag::default())
        .await
        .expect_err("persistent 502");
    assert!(
        matches!(
            error,
            UpstreamError::Unavailable {
                status: Some(502),
                ..
            }
        ),
        "{error:?}"
    );
    // 1 + 3 retries for the persistent fault, 2 for the first call.
    assert_eq!(rig.sim.stats().await.total, 6);
    rig.sim.shutdown().await;
}

#[tokio::test]
async fn a_hanging_upstream_times_out_within_the_configured_time() {
    let rig = rig_with(SimConfig::default(), PaginationStyle::PageNumber, |p| {
        p.request_timeout_ms = 300;
        p.retry.max_total_ms = 1_500;
    })
    .await;
    rig.sim
        .add_fault(FaultRule {
            hang: true,
            ..FaultRule::default()
        })
        .await
        .expect("fault");
    let error = rig
        .client
        .list::<Company>(&rig.project, &ListQuery::default(), &CallTag::default())
        .await
        .expect_err("hangs");
    assert!(matches!(error, UpstreamError::Timeout(_)), "{error:?}");
    // Each attempt is cut at the 300 ms request timeout and the retries stop at the 1.5 s
    // budget: at most five attempts fit (fewer with backoff or on a slow machine).
    let attempts = rig.sim.stats().await.total;
    assert!((1..=5).contains(&attempts), "{attempts} attempts");
    rig.sim.shutdown().await;
}

#[tokio::test]
async fn a_malformed_body_is_a_typed_error_not_a_panic() {
    let rig = rig(PaginationStyle::Continuation).await;
    rig.sim
        .add_fault(FaultRule {
            malformed_body: true,
            ..FaultRule::default()
        })
        .await
        .expect("fault");
    let error = rig
        .client
        .list::<Activity>(&rig.project, &ListQuery::default(), &CallTag::default())
        .await
        .expect_err("malformed");
    assert!(matches!(error, UpstreamError::Malformed(_)), "{error:?}");
    let error = rig
        .client
        .get_project(&rig.project, &CallTag::default())
        .await
        .expect_err("malformed");
    assert!(matches!(error, UpstreamError::Malformed(_)), "{error:?}");
    rig.sim.shutdown().await;
}

#[tokio::test]
async fn an_answer_past_the_size_cap_fails_once_unretried_and_the_ledger_sees_what_was_read() {
    let cap = 256 * 1024;
    let rig = rig_with(SimConfig::default(), PaginationStyle::PageNumber, |p| {
        p.max_response_bytes = cap;
    })
    .await;
    rig.sim
        .add_fault(FaultRule {
            endpoint: "/api/v1/projects/{project_id}/activities".into(),
            padding_bytes: Some(64 * 1024 * 1024),
            ..FaultRule::default()
        })
        .await
        .expect("fault");
    rig.sim.reset_stats().await;
    let error = rig
        .client
        .list::<Activity>(&rig.project, &ListQuery::default(), &CallTag::default())
        .await
        .expect_err("too large");
    assert!(
        matches!(error, UpstreamError::TooLarge { limit } if limit == cap),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("SYNCHRO Perform's answer was larger than {cap} bytes")
    );
    assert_eq!(
        rig.sim.stats().await.total,
        1,
        "an oversized answer is not retried"
    );
    let events = rig.recorder.0.lock().expect("lock").clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0].status, events[0].error),
        (None, Some("too_large"))
    );
    // Reading stopped within one chunk of the cap, far short of the 64 MiB on offer.
    assert!(
        events[0].bytes_received > cap && events[0].bytes_received < cap + 1024 * 1024,
        "{} bytes read",
        events[0].bytes_received
    );
    // Other answers are untouched by the cap.
    rig.client
        .list::<Company>(&rig.project, &ListQuery::default(), &CallTag::default())
        .await
        .expect("a small answer");
    rig.sim.shutdown().await;
}

#[tokio::test]
async fn an_error_answers_own_text_is_never_kept_in_the_typed_error() {
    const MARKER: &str = "SIM-LEAK-7f3a internal note: db-07 password hint";
    let rig = rig(PaginationStyle::PageNumber).await;
    let body = serde_json::json!({ "error": {
        "code": "validation_failed",
        "message": MARKER,
        "details": { "fields": { "name": MARKER }, "note": MARKER },
    }})
    .to_string();
    for status in [400, 409, 422, 500] {
        rig.sim.clear_faults().await;
        rig.sim
            .add_fault(FaultRule {
                error_rate: 1.0,
                status,
                error_body: Some(body.clone()),
                ..FaultRule::default()
            })
            .await
            .expect("fault");
        let error = rig
            .client
            .list::<Company>(&rig.project, &ListQuery::default(), &CallTag::default())
            .await
            .expect_err("refused");
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("SIM-LEAK"), "HTTP {status}: {shown}");
        assert!(
            shown.contains(&status.to_string()),
            "HTTP {status}: {shown}"
        );
    }
    rig.sim.shutdown().await;
}

#[tokio::test]
async fn auth_failures_are_typed() {
    let rig = rig(PaginationStyle::PageNumber).await;
    let other = rig.sim.projects()[1].id.to_string();
    let error = rig
        .client
        .list::<Activity>(&other, &ListQuery::default(), &CallTag::default())
        .await
        .expect_err("no token for that project");
    assert!(matches!(error, UpstreamError::NoToken { .. }), "{error:?}");

    let wrong = UpstreamClient::over_http(
        Arc::new(UpstreamProfile {
            base_url: rig.sim.base_url().parse().expect("url"),
            ..UpstreamProfile::default()
        }),
        Arc::new(ConfigTokens::new(BTreeMap::from([(
            rig.project.clone(),
            SecretString::from("not-a-token".to_owned()),
        )]))),
        Arc::new(Recorder::default()),
    )
    .expect("client");
    let error = wrong
        .list::<Activity>(&rig.project, &ListQuery::default(), &CallTag::default())
        .await
        .expect_err("unknown token");
    assert!(matches!(error, UpstreamError::Unauthorized), "{error:?}");

    let error = rig
        .client
        .get::<Activity>(&rig.project, Uuid::new_v4(), &CallTag::default())
        .await
        .expect_err("no such activity");
    assert!(matches!(error, UpstreamError::NotFound), "{error:?}");
    let error = rig
        .client
        .list::<Activity>(
            &rig.project,
            &ListQuery::filtered(vec![
                ("from".into(), "2025-01-01".into()),
                ("to".into(), "2025-06-01".into()),
            ]),
            &CallTag::default(),
        )
        .await
        .expect_err("activities have no date window");
    assert!(
        matches!(error, UpstreamError::Validation { .. }),
        "{error:?}"
    );
    rig.sim.shutdown().await;
}

#[tokio::test]
async fn writes_go_through_and_upstream_validation_comes_back_typed() {
    let rig = rig(PaginationStyle::PageNumber).await;
    let tag = CallTag::default();
    let activities = rig
        .client
        .list::<Activity>(
            &rig.project,
            &ListQuery {
                page_size: Some(40),
                ..ListQuery::default()
            },
            &tag,
        )
        .await
        .expect("activities");
    let with_budget = activities
        .items
        .iter()
        .find(|a| a.budget_at_complete.current_estimate.quantity > 0.0 && !a.non_bookable)
        .expect("an activity with a budget");
    let zero_budget = activities
        .items
        .iter()
        .find(|a| {
            a.budget_at_complete.current_estimate.labour_hours == 0.0
                && a.budget_at_complete.current_estimate.quantity == 0.0
        })
        .expect("a zero-budget activity");

    let updated = rig
        .client
        .update_activity(
            &rig.project,
            with_budget.id,
            &ActivityPatch {
                percent_complete: Some(42.5),
                ..ActivityPatch::default()
            },
            "key-1",
            &tag,
        )
        .await
        .expect("update");
    assert!((updated.percent_complete - 42.5).abs() < 1e-9);

    let entry = NewProgressEntry {
        activity_id: with_budget.id,
        progress_date: chrono::NaiveDate::from_ymd_opt(2025, 5, 1).expect("date"),
        percent_complete: Some(50.0),
        quantity_delta: None,
        quantity_to_date: None,
    };
    let created: ProgressEntry = rig
        .client
        .create_progress_entry(&rig.project, &entry, "key-2", &tag)
        .await
        .expect("progress entry");
    assert_eq!(created.activity_id, with_budget.id);
    let refused = rig
        .client
        .create_progress_entry(
            &rig.project,
            &NewProgressEntry {
                activity_id: zero_budget.id,
                ..entry
            },
            "key-3",
            &tag,
        )
        .await
        .expect_err("zero budget");
    assert!(
        matches!(&refused, UpstreamError::Validation { code, .. } if code == "activity_budget_zero"),
        "{refused:?}"
    );

    let people = rig
        .client
        .list::<Person>(&rig.project, &ListQuery::default(), &tag)
        .await
        .expect("people");
    let codes = rig
        .client
        .list::<UsageCode>(&rig.project, &ListQuery::default(), &tag)
        .await
        .expect("usage codes");
    let usage = rig
        .client
        .create_resource_usage(
            &rig.project,
            &NewResourceUsage {
                work_date: chrono::NaiveDate::from_ymd_opt(2025, 5, 2).expect("date"),
                resource_id: people.items[0].id,
                work_reference_id: with_budget.id,
                usage_code_id: codes.items[0].id,
                rate_code_id: None,
                start_time: None,
                end_time: None,
                break_minutes: 0,
                quantity: 7.5,
                notes: Some("from a test".into()),
            },
            "key-4",
            &tag,
        )
        .await
        .expect("usage booked");
    rig.client
        .delete_resource_usage(&rig.project, usage.id, "key-5", &tag)
        .await
        .expect("usage deleted");

    let submitted = rig
        .client
        .list::<Docket>(
            &rig.project,
            &ListQuery::filtered(vec![("approval_status".into(), "submitted".into())]),
            &tag,
        )
        .await
        .expect("dockets");
    let docket = submitted.items.first().expect("a submitted docket");
    let approved = rig
        .client
        .docket_action(
            &rig.project,
            docket.id,
            DocketAction::Approve,
            "key-6",
            &tag,
        )
        .await
        .expect("approve");
    assert_eq!(
        approved.status,
        gatehouse_core::upstream::model::DocketStatus::Approved
    );
    let error = rig
        .client
        .docket_action(
            &rig.project,
            docket.id,
            DocketAction::Approve,
            "key-7",
            &tag,
        )
        .await
        .expect_err("approved dockets cannot be approved again");
    assert!(matches!(error, UpstreamError::Conflict { .. }), "{error:?}");

    let body = reqwest::Body::from(vec![7u8; 4096]);
    let attachment: Attachment = rig
        .client
        .upload_attachment(
            &rig.project,
            AttachmentParent::Activity,
            with_budget.id,
            "photo.jpg",
            "image/jpeg",
            body,
            Some(4096),
            "key-7",
            &tag,
        )
        .await
        .expect("upload");
    assert_eq!(attachment.size_bytes, 4096);
    assert_eq!(attachment.file_name, "photo.jpg");

    let keys: Vec<String> = rig
        .recorder
        .0
        .lock()
        .expect("lock")
        .iter()
        .map(|e| e.endpoint.clone())
        .collect();
    assert!(
        keys.contains(&"/api/v1/projects/{project_id}/activities/{id}".to_owned()),
        "{keys:?}"
    );
    rig.sim.shutdown().await;
}
