use proptest::prelude::*;

use super::*;
use crate::examples::{
    MIB, access, bentley_example, daily_at, every_minutes, mobile_progress_app, power_bi_dashboard,
    project,
};
use crate::model::{Access, Entity, Operation, Trigger, UploadProfile, Workflow, WorkflowPurpose};

fn status(assessment: &Assessment, id: CheckId) -> CheckStatus {
    assessment
        .check(id)
        .map(|check| check.status)
        .unwrap_or_else(|| panic!("the assessment has no check {id}"))
}

fn failed_checks(assessment: &Assessment) -> Vec<CheckId> {
    match &assessment.verdict {
        Verdict::NeedsWork { items } => items.iter().map(|item| item.check).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn bentleys_example_is_two_way_and_recommended_an_api_token() {
    let assessment = assess(&bentley_example(), &AssessmentPolicy::default());
    assert_eq!(assessment.direction, Some(Direction::TwoWay));
    assert_eq!(assessment.channel, Some(Channel::ApiToken));
    for recommendation in &assessment.channels {
        assert_eq!(
            recommendation.channel,
            Channel::ApiToken,
            "{recommendation:?}"
        );
        assert!(recommendation.dataclips.is_empty());
    }
}

#[test]
fn bentleys_example_with_volumes_and_timing_passes_the_load_outline_and_is_ready() {
    let assessment = assess(&bentley_example(), &AssessmentPolicy::default());
    let outline = assessment
        .check(CheckId::LargeDataOutlined)
        .expect("the outline check is there");
    assert_eq!(outline.status, CheckStatus::Pass, "{}", outline.message);
    assert_eq!(
        outline.workflows,
        vec!["Daily schedule load", "Document-control uploads"]
    );
    assert!(
        outline.message.contains("20,000 records a run"),
        "{}",
        outline.message
    );
    assert!(
        outline.message.contains("01:00-05:00 UTC"),
        "{}",
        outline.message
    );
    assert_eq!(assessment.verdict, Verdict::ReadyToSubmit);
}

#[test]
fn bentleys_example_flags_its_high_resolution_uploads_for_volume() {
    let assessment = assess(&bentley_example(), &AssessmentPolicy::default());
    let uploads = assessment
        .check(CheckId::UploadVolume)
        .expect("the upload check is there");
    assert_eq!(uploads.status, CheckStatus::Warn);
    assert_eq!(uploads.workflows, vec!["Document-control uploads"]);
    assert!(uploads.message.contains("400 files"), "{}", uploads.message);
    assert!(uploads.message.contains("500.0 MiB"), "{}", uploads.message);
}

#[test]
fn bentleys_example_without_volumes_fails_the_load_outline_and_needs_work() {
    let mut request = bentley_example();
    for workflow in &mut request.workflows {
        workflow.records_per_run = None;
        workflow.uploads = None;
    }
    let assessment = assess(&request, &AssessmentPolicy::default());
    let outline = assessment
        .check(CheckId::LargeDataOutlined)
        .expect("the outline check is there");
    assert_eq!(outline.status, CheckStatus::Fail);
    assert!(
        outline.message.contains("records per run"),
        "{}",
        outline.message
    );
    assert!(
        outline.message.contains("upload count and sizes"),
        "{}",
        outline.message
    );
    assert!(failed_checks(&assessment).contains(&CheckId::LargeDataOutlined));
    assert!(!assessment.load.complete);
}

#[test]
fn bentleys_example_without_timing_warns_that_the_outline_lacks_a_sync_window() {
    let mut request = bentley_example();
    for workflow in &mut request.workflows {
        workflow.trigger = Some(every_minutes(240));
        workflow.sync_window = None;
    }
    let assessment = assess(&request, &AssessmentPolicy::default());
    let outline = assessment
        .check(CheckId::LargeDataOutlined)
        .expect("the outline check is there");
    assert_eq!(outline.status, CheckStatus::Warn);
    assert!(
        outline.message.contains("without a sync window"),
        "{}",
        outline.message
    );
}

#[test]
fn bentleys_example_estimates_the_schedule_load_by_pages_and_records() {
    let assessment = assess(&bentley_example(), &AssessmentPolicy::default());
    let schedule = &assessment.load.workflows[0];
    assert_eq!(schedule.runs_per_day, 1);
    // 20,000 records over 5 collections at 50 a page: 400 pages + 4 partly filled ones.
    assert_eq!(schedule.read.calls_per_day, 404);
    assert_eq!(schedule.write.calls_per_day, 20_000);
    assert_eq!(schedule.total.calls_per_day, 20_404);
    // Paced at 120 calls a minute, the run takes 171 minutes: inside its 4-hour window.
    assert_eq!(schedule.total.peak_calls_per_minute, 120);
    assert_eq!(schedule.run_minutes, 171);
    let uploads = &assessment.load.workflows[1];
    assert_eq!(uploads.write.calls_per_day, 400);
    assert_eq!(uploads.write.bytes_per_day, 400 * 40 * MIB);
    assert_eq!(uploads.read, Load::default());
    assert_eq!(
        assessment.load.total.calls_per_day,
        schedule.total.calls_per_day + uploads.total.calls_per_day
    );
}

#[test]
fn a_schedule_load_that_cannot_finish_inside_its_window_is_warned() {
    let mut request = bentley_example();
    request.workflows[0].records_per_run = Some(60_000);
    let assessment = assess(&request, &AssessmentPolicy::default());
    let outline = assessment
        .check(CheckId::LargeDataOutlined)
        .expect("the outline check is there");
    assert_eq!(outline.status, CheckStatus::Warn);
    assert!(
        outline
            .message
            .contains("longer than its window 01:00-05:00 UTC"),
        "{}",
        outline.message
    );
}

#[test]
fn a_power_bi_dashboard_reading_all_usages_hourly_should_use_dataclips_instead() {
    let assessment = assess(&power_bi_dashboard(), &AssessmentPolicy::default());
    let Verdict::UseDataclipsInstead { dataclips } = &assessment.verdict else {
        panic!("expected Dataclips, got {:?}", assessment.verdict);
    };
    let slugs: Vec<(&str, bool)> = dataclips
        .iter()
        .map(|clip| (clip.slug.as_str(), clip.confirmed))
        .collect();
    assert_eq!(slugs, vec![("resource-usages-export", false)]);
    assert_eq!(assessment.channel, Some(Channel::Dataclips));
    assert_eq!(
        status(&assessment, CheckId::AnalyticsPurpose),
        CheckStatus::Warn
    );
    assert_eq!(
        status(&assessment, CheckId::ReadOnlyBulk),
        CheckStatus::Warn
    );
}

#[test]
fn hourly_polling_of_usages_warns_with_the_mitigations_still_missing() {
    let mut request = power_bi_dashboard();
    request.mitigations = Default::default();
    let assessment = assess(&request, &AssessmentPolicy::default());
    let polling = assessment
        .check(CheckId::HeavyCollectionPolling)
        .expect("the polling check is there");
    assert_eq!(polling.status, CheckStatus::Warn);
    assert!(
        polling.message.contains("24 times a day"),
        "{}",
        polling.message
    );
    assert!(
        polling.message.contains("updated_since"),
        "{}",
        polling.message
    );
    assert!(polling.message.contains("off-peak"), "{}", polling.message);
    assert!(polling.message.contains("caching"), "{}", polling.message);
}

#[test]
fn a_mobile_progress_app_with_its_confirmations_is_ready_to_submit() {
    let assessment = assess(&mobile_progress_app(), &AssessmentPolicy::default());
    assert_eq!(
        assessment.verdict,
        Verdict::ReadyToSubmit,
        "{:#?}",
        assessment.checks
    );
    assert_eq!(assessment.channel, Some(Channel::ApiToken));
    assert_eq!(
        status(&assessment, CheckId::LargeDataOutlined),
        CheckStatus::Pass
    );
    assert_eq!(
        status(&assessment, CheckId::AnalyticsPurpose),
        CheckStatus::Pass
    );
}

#[test]
fn a_mobile_progress_app_without_its_confirmations_needs_work_on_each_of_them() {
    let mut request = mobile_progress_app();
    request.commercial_permission = Default::default();
    request.api_documentation = Default::default();
    request.project_contact.email = None;
    let assessment = assess(&request, &AssessmentPolicy::default());
    assert_eq!(
        failed_checks(&assessment),
        vec![
            CheckId::ProjectContact,
            CheckId::CommercialPermission,
            CheckId::ApiDocumentation
        ]
    );
    let message = &assessment
        .check(CheckId::ApiDocumentation)
        .expect("the docs check is there")
        .message;
    assert!(message.contains("https://acme.e7.site/api"), "{message}");
}

#[test]
fn a_permission_confirmed_without_who_or_when_only_warns() {
    let mut request = mobile_progress_app();
    request.commercial_permission.confirmed_by = None;
    let assessment = assess(&request, &AssessmentPolicy::default());
    assert_eq!(
        status(&assessment, CheckId::CommercialPermission),
        CheckStatus::Warn
    );
    assert_eq!(assessment.verdict, Verdict::ReadyToSubmit);
}

#[test]
fn documentation_reviewed_on_another_tenant_fails() {
    let mut request = mobile_progress_app();
    request.api_documentation.url =
        Some(crate::model::ApiDocsUrl::parse("https://other.e7.site/api").expect("valid"));
    let assessment = assess(&request, &AssessmentPolicy::default());
    assert_eq!(
        status(&assessment, CheckId::ApiDocumentation),
        CheckStatus::Fail
    );
}

#[test]
fn a_request_without_workflows_needs_workflows_and_has_no_channel() {
    let mut request = mobile_progress_app();
    request.workflows.clear();
    let assessment = assess(&request, &AssessmentPolicy::default());
    assert_eq!(
        failed_checks(&assessment),
        vec![CheckId::WorkflowsDescribed]
    );
    assert_eq!(assessment.channel, None);
    assert_eq!(assessment.direction, None);
}

#[test]
fn a_thin_workflow_is_told_each_detail_it_lacks() {
    let mut request = mobile_progress_app();
    let workflow = &mut request.workflows[0];
    workflow.description = "Progress.".to_owned();
    workflow.trigger = None;
    workflow.records_per_run = None;
    let assessment = assess(&request, &AssessmentPolicy::default());
    let check = assessment
        .check(CheckId::WorkflowsDescribed)
        .expect("the workflow check is there");
    assert_eq!(check.status, CheckStatus::Fail);
    for needed in [
        "description of at least 60",
        "trigger and frequency",
        "records it moves",
    ] {
        assert!(
            check.message.contains(needed),
            "{needed}: {}",
            check.message
        );
    }
    assert_eq!(check.workflows, vec!["Site progress updates"]);
}

#[test]
fn a_workflow_declared_read_only_that_writes_fails_the_read_write_check() {
    let mut request = mobile_progress_app();
    request.workflows[0].direction = Direction::Read;
    let assessment = assess(&request, &AssessmentPolicy::default());
    let check = assessment
        .check(CheckId::ReadWriteNeeds)
        .expect("the read/write check is there");
    assert_eq!(check.status, CheckStatus::Fail);
    assert!(
        check
            .message
            .contains("declared read-only but changes activities, progress entries")
    );
}

#[test]
fn the_read_write_check_lists_what_each_workflow_writes() {
    let assessment = assess(&mobile_progress_app(), &AssessmentPolicy::default());
    let check = assessment
        .check(CheckId::ReadWriteNeeds)
        .expect("the read/write check is there");
    assert_eq!(check.status, CheckStatus::Pass);
    assert_eq!(
        check.message,
        "'Site progress updates' writes activities (update), progress entries (create)."
    );
}

#[test]
fn a_dashboard_mentioned_in_an_integration_workflow_warns_about_analytics() {
    let mut request = mobile_progress_app();
    request.workflows[0]
        .description
        .push_str(" Managers also see it on a dashboard.");
    let assessment = assess(&request, &AssessmentPolicy::default());
    let check = assessment
        .check(CheckId::AnalyticsPurpose)
        .expect("the analytics check is there");
    assert_eq!(check.status, CheckStatus::Warn);
    assert!(check.message.contains("\"dashboard\""));
    assert_eq!(check.workflows, vec!["Site progress updates"]);
}

#[test]
fn a_two_way_workflow_that_also_polls_usages_hourly_is_served_by_both_channels() {
    let mut request = mobile_progress_app();
    request.workflows[0].trigger = Some(every_minutes(60));
    request.workflows[0]
        .entities
        .push(access(Entity::ResourceUsage, &[Operation::Read]));
    let assessment = assess(&request, &AssessmentPolicy::default());
    let recommendation = &assessment.channels[0];
    assert_eq!(recommendation.channel, Channel::Both);
    let slugs: Vec<&str> = recommendation
        .dataclips
        .iter()
        .map(|c| c.slug.as_str())
        .collect();
    assert_eq!(slugs, vec!["activity-export", "resource-usages-export"]);
}

#[test]
fn a_bulk_read_of_entities_without_a_dataclip_stays_on_the_token_with_the_reason() {
    let mut request = power_bi_dashboard();
    let workflow = &mut request.workflows[0];
    workflow.purpose = WorkflowPurpose::Integration;
    workflow.entities = vec![access(Entity::Event, &[Operation::Read])];
    let assessment = assess(&request, &AssessmentPolicy::default());
    let recommendation = &assessment.channels[0];
    assert_eq!(recommendation.channel, Channel::ApiToken);
    assert!(
        recommendation
            .reasons
            .iter()
            .any(|r| r.contains("no dataclip holds events")),
        "{:?}",
        recommendation.reasons
    );
    assert_eq!(
        status(&assessment, CheckId::ReadOnlyBulk),
        CheckStatus::Warn
    );
}

#[test]
fn the_scopes_of_bentleys_example_write_what_its_workflows_write_and_attachments() {
    let request = bentley_example();
    let scopes = compile_scopes(&request.project_urls, &request.workflows);
    let granted: Vec<(Entity, Access)> = scopes.iter().map(|s| (s.entity, s.access)).collect();
    assert_eq!(
        granted,
        vec![
            (Entity::Activity, Access::Write),
            (Entity::Person, Access::Write),
            (Entity::Equipment, Access::Write),
            (Entity::OtherResource, Access::Write),
            (Entity::ResourceAssignment, Access::Write),
            (Entity::Attachment, Access::Write),
        ]
    );
    assert!(scopes[0].permits(&project("1"), Entity::Activity, Operation::Read));
    assert!(!scopes[0].permits(&project("2"), Entity::Activity, Operation::Read));
}

#[test]
fn scopes_grant_read_only_access_to_entities_only_read_and_repeat_per_project() {
    let request = mobile_progress_app();
    let reader = Workflow {
        name: "Rates lookup".to_owned(),
        entities: vec![access(Entity::ApplicableRate, &[Operation::Read])],
        ..request.workflows[0].clone()
    };
    let projects = vec![project("2"), project("1"), project("2")];
    let scopes = compile_scopes(&projects, &[reader]);
    assert_eq!(scopes.len(), 2);
    assert_eq!(scopes[0].project, project("1"));
    assert_eq!(scopes[1].project, project("2"));
    assert!(scopes.iter().all(|s| s.access == Access::Read));
    assert!(!scopes[0].permits(&project("1"), Entity::ApplicableRate, Operation::Update));
}

#[test]
fn a_request_and_its_assessment_round_trip_through_json() {
    let request = bentley_example();
    let json = serde_json::to_string(&request).expect("a request serialises");
    let back: AccessRequest = serde_json::from_str(&json).expect("a request deserialises");
    assert_eq!(back, request);
    let assessment = assess(&request, &AssessmentPolicy::default());
    let json = serde_json::to_string(&assessment).expect("an assessment serialises");
    let back: Assessment = serde_json::from_str(&json).expect("an assessment deserialises");
    assert_eq!(back, assessment);
}

#[test]
fn a_stored_request_with_an_invalid_project_url_does_not_deserialise() {
    let mut json = serde_json::to_value(bentley_example()).expect("a request serialises");
    json["project_urls"][0] = serde_json::Value::String("http://acme.e7.site/projects/1".into());
    assert!(serde_json::from_value::<AccessRequest>(json).is_err());
}

#[test]
fn the_checks_of_bentleys_example_read_as_expected() {
    let assessment = assess(&bentley_example(), &AssessmentPolicy::default());
    insta::assert_yaml_snapshot!(assessment.checks);
}

fn workflow_strategy() -> impl Strategy<Value = Workflow> {
    let entity = proptest::sample::select(Entity::ALL.to_vec());
    let operations = proptest::sample::subsequence(Operation::ALL.to_vec(), 1..=5);
    let entities = proptest::collection::vec((entity, operations), 1..5);
    let trigger = prop_oneof![
        (1u32..2000).prop_map(every_minutes),
        (1usize..5).prop_map(|n| daily_at(&["02:00", "06:00", "12:00", "18:00", "02:00"][..n])),
        (0u32..5000).prop_map(|n| Trigger::OnDemand {
            expected_per_day: n
        }),
    ];
    let window = proptest::option::of(
        (0u8..24, 0u8..24).prop_filter_map("a non-empty window", |(s, e)| {
            crate::model::SyncWindow::parse(&format!("{s:02}:00-{e:02}:30")).ok()
        }),
    );
    (
        entities,
        trigger,
        0u64..1_000_000,
        proptest::option::of((0u64..1000, 0u64..100_000_000)),
        window,
    )
        .prop_map(|(entities, trigger, records, uploads, window)| Workflow {
            name: "generated".to_owned(),
            description: "generated".to_owned(),
            direction: Direction::TwoWay,
            entities: entities
                .into_iter()
                .map(|(entity, operations)| access(entity, &operations))
                .collect(),
            trigger: Some(trigger),
            records_per_run: Some(records),
            uploads: uploads.map(|(files, bytes)| UploadProfile {
                files_per_run: files,
                average_bytes: bytes,
                max_bytes: bytes,
            }),
            sync_window: window,
            purpose: WorkflowPurpose::Integration,
        })
}

/// The same workflow, running more often.
fn more_often(workflow: &Workflow, step: u32) -> Workflow {
    let trigger = match &workflow.trigger {
        Some(Trigger::Interval { every_minutes: m }) => {
            every_minutes(m.get().saturating_sub(step).max(1))
        }
        Some(Trigger::Daily { at }) => {
            let mut at = at.clone();
            at.extend(at.first().copied());
            Trigger::Daily { at }
        }
        Some(Trigger::OnDemand { expected_per_day }) => Trigger::OnDemand {
            expected_per_day: expected_per_day.saturating_add(step),
        },
        None => every_minutes(60),
    };
    Workflow {
        trigger: Some(trigger),
        ..workflow.clone()
    }
}

/// The same workflow, moving more per run.
fn more_volume(workflow: &Workflow, step: u64) -> Workflow {
    Workflow {
        records_per_run: workflow.records_per_run.map(|r| r + step),
        uploads: workflow.uploads.map(|u| UploadProfile {
            files_per_run: u.files_per_run + step,
            average_bytes: u.average_bytes + step,
            max_bytes: u.max_bytes + step,
        }),
        ..workflow.clone()
    }
}

fn assert_no_less(grown: &LoadEstimate, base: &LoadEstimate) -> Result<(), TestCaseError> {
    for (g, b) in [
        (grown.read, base.read),
        (grown.write, base.write),
        (grown.total, base.total),
    ] {
        prop_assert!(g.calls_per_day >= b.calls_per_day, "{g:?} < {b:?}");
        prop_assert!(
            g.peak_calls_per_minute >= b.peak_calls_per_minute,
            "{g:?} < {b:?}"
        );
        prop_assert!(g.records_per_day >= b.records_per_day, "{g:?} < {b:?}");
        prop_assert!(g.bytes_per_day >= b.bytes_per_day, "{g:?} < {b:?}");
    }
    Ok(())
}

proptest! {
    #[test]
    fn the_load_estimate_never_decreases_when_a_workflow_runs_more_often(
        workflow in workflow_strategy(),
        step in 1u32..500,
    ) {
        let policy = AssessmentPolicy::default();
        let base = estimate_load(std::slice::from_ref(&workflow), &policy);
        let grown = estimate_load(&[more_often(&workflow, step)], &policy);
        assert_no_less(&grown, &base)?;
    }

    #[test]
    fn the_load_estimate_never_decreases_when_a_workflow_moves_more(
        workflow in workflow_strategy(),
        step in 1u64..100_000,
    ) {
        let policy = AssessmentPolicy::default();
        let base = estimate_load(std::slice::from_ref(&workflow), &policy);
        let grown = estimate_load(&[more_volume(&workflow, step)], &policy);
        assert_no_less(&grown, &base)?;
    }

    #[test]
    fn the_load_estimate_never_decreases_when_a_workflow_is_added(
        first in workflow_strategy(),
        second in workflow_strategy(),
    ) {
        let policy = AssessmentPolicy::default();
        let base = estimate_load(std::slice::from_ref(&first), &policy);
        let grown = estimate_load(&[first, second], &policy);
        assert_no_less(&grown, &base)?;
    }

    #[test]
    fn assessing_any_generated_request_never_panics_and_round_trips(
        workflows in proptest::collection::vec(workflow_strategy(), 0..4),
    ) {
        let request = AccessRequest { workflows, ..mobile_progress_app() };
        let assessment = assess(&request, &AssessmentPolicy::default());
        let json = serde_json::to_string(&assessment).expect("an assessment serialises");
        let back: Assessment = serde_json::from_str(&json).expect("an assessment deserialises");
        prop_assert_eq!(back, assessment);
    }
}

#[test]
fn all_lists_every_channel_and_status_once_in_declaration_order() {
    // A new variant does not compile here until it is added to `ALL` (and to these matches).
    let channel = |channel: Channel| match channel {
        Channel::ApiToken => 0,
        Channel::Dataclips => 1,
        Channel::Both => 2,
    };
    assert_eq!(Channel::ALL.map(channel), [0, 1, 2]);
    let status = |status: CheckStatus| match status {
        CheckStatus::Pass => 0,
        CheckStatus::Warn => 1,
        CheckStatus::Fail => 2,
    };
    assert_eq!(CheckStatus::ALL.map(status), [0, 1, 2]);
}

#[test]
fn every_channel_has_the_web_label_and_the_draft_phrase_the_server_prints() {
    // Byte for byte the wording of the web pages and of the drafts to Bentley: a change shows
    // on pages and in draft snapshots.
    let forms: Vec<(&str, &str, &str)> = Channel::ALL
        .into_iter()
        .map(|c| (c.as_str(), c.label(), c.phrase()))
        .collect();
    assert_eq!(
        forms,
        [
            ("api_token", "API token", "API token"),
            ("dataclips", "Dataclips", "Dataclips"),
            (
                "both",
                "API token and Dataclips",
                "API token for the writes, Dataclips for the bulk reads"
            ),
        ]
    );
    for channel in Channel::ALL {
        assert!(!channel.label().trim().is_empty(), "{channel:?}");
        assert!(!channel.phrase().trim().is_empty(), "{channel:?}");
    }
}

#[test]
fn every_check_status_has_its_serde_word_and_the_web_label_the_server_prints() {
    let forms: Vec<(&str, &str)> = CheckStatus::ALL
        .into_iter()
        .map(|s| (s.as_str(), s.label()))
        .collect();
    assert_eq!(
        forms,
        [
            ("pass", "Passes"),
            ("warn", "Worth improving"),
            ("fail", "Fix before submitting"),
        ]
    );
    for status in CheckStatus::ALL {
        let json = serde_json::to_string(&status).expect("a status serialises");
        assert_eq!(json, format!("\"{}\"", status.as_str()));
        assert_eq!(status.to_string(), status.as_str());
        assert!(!status.label().trim().is_empty(), "{status:?}");
    }
}

fn every_verdict() -> [Verdict; 4] {
    [
        Verdict::ReadyToSubmit,
        Verdict::NeedsWork {
            items: vec![
                NeedsWorkItem {
                    check: CheckId::ProjectUrls,
                    message: "add a project URL".to_owned(),
                },
                NeedsWorkItem {
                    check: CheckId::CommercialPermission,
                    message: "confirm the permission".to_owned(),
                },
            ],
        },
        Verdict::NeedsWork { items: Vec::new() },
        Verdict::UseDataclipsInstead {
            dataclips: vec![DataclipRef::from(&crate::dataclips::CATALOGUE[0])],
        },
    ]
}

#[test]
fn every_verdict_has_its_serde_kind_the_web_title_and_the_draft_sentence_the_server_prints() {
    let forms: Vec<(&str, &str, String)> = every_verdict()
        .iter()
        .map(|v| (v.as_str(), v.label(), v.phrase()))
        .collect();
    assert_eq!(
        forms,
        [
            (
                "ready_to_submit",
                "Ready to submit",
                "Ready to submit.".to_owned()
            ),
            (
                "needs_work",
                "Needs work",
                "Needs work before filing: project_urls, commercial_permission.".to_owned()
            ),
            (
                "needs_work",
                "Needs work",
                "Needs work before filing: .".to_owned()
            ),
            (
                "use_dataclips_instead",
                "Use Dataclips instead",
                "Use Dataclips instead: no workflow needs an API token.".to_owned()
            ),
        ]
    );
    for verdict in every_verdict() {
        let json = serde_json::to_value(&verdict).expect("a verdict serialises");
        assert_eq!(json["kind"].as_str(), Some(verdict.as_str()));
        assert!(!verdict.label().trim().is_empty(), "{verdict:?}");
        assert!(!verdict.phrase().trim().is_empty(), "{verdict:?}");
    }
}
