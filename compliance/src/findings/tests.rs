use chrono::{Duration, TimeZone};

use super::*;
use crate::assess::{AssessmentPolicy, estimate_load};
use crate::examples::{access, bentley_example, mobile_progress_app};
use crate::model::Workflow;

const APP: &str = "Site progress updates";

fn week() -> Period {
    let start = Utc
        .with_ymd_and_hms(2026, 5, 4, 0, 0, 0)
        .single()
        .expect("a valid date");
    Period {
        start,
        end: start + Duration::days(7),
    }
}

fn declared(request: &AccessRequest) -> Declared {
    Declared::from_request(
        request,
        &estimate_load(&request.workflows, &AssessmentPolicy::default()),
    )
}

fn calls(entity: Entity, operation: Operation, workflow: Option<&str>, n: u64) -> ObservedCalls {
    ObservedCalls {
        entity,
        operation,
        workflow: workflow.map(str::to_owned),
        calls: n,
        sample_operations: vec![format!("{entity}_{operation}")],
    }
}

fn days(calls_each: u64) -> Vec<DailyCalls> {
    (0..7)
        .map(|offset| DailyCalls {
            date: week().start.date_naive() + Duration::days(offset),
            calls: calls_each,
        })
        .collect()
}

/// A week of the mobile progress app doing what it declared: 1,200 calls a day declared.
fn clean_week_of_the_mobile_app() -> Observed {
    let mut by_hour = [0; 24];
    for (hour, slot) in by_hour.iter_mut().enumerate() {
        if (6..18).contains(&hour) {
            *slot = 525;
        }
    }
    Observed {
        period: week(),
        calls: vec![
            calls(Entity::Activity, Operation::Read, Some(APP), 2_100),
            calls(Entity::Activity, Operation::Update, Some(APP), 1_400),
            calls(Entity::ProgressEntry, Operation::Create, Some(APP), 2_800),
        ],
        calls_per_day: days(900),
        peak_calls_per_minute: 4,
        calls_by_hour: by_hour,
        upstream_429: 0,
        upstream_503: 0,
        cache_hits: 4_000,
        cache_misses: 2_000,
        sweeps: vec![],
    }
}

fn codes(findings: &[Finding]) -> Vec<FindingCode> {
    findings.iter().map(|f| f.code).collect()
}

fn only(findings: &[Finding], code: FindingCode) -> &Finding {
    let matching: Vec<&Finding> = findings.iter().filter(|f| f.code == code).collect();
    assert_eq!(
        matching.len(),
        1,
        "expected one {code} in {:?}",
        codes(findings)
    );
    matching[0]
}

#[test]
fn the_mobile_app_declares_its_estimated_daily_and_peak_load() {
    let declared = declared(&mobile_progress_app());
    // 200 runs a day of 1 read page and 5 writes.
    assert_eq!(declared.daily_calls(), 1_200);
    assert_eq!(declared.peak_calls_per_minute(), 6);
}

#[test]
fn a_usage_that_matches_its_declaration_gives_no_findings() {
    let findings = evaluate(
        &declared(&mobile_progress_app()),
        &clean_week_of_the_mobile_app(),
        &FindingPolicy::default(),
    );
    assert_eq!(findings, vec![]);
}

#[test]
fn calls_to_an_undeclared_entity_are_found_with_their_count_and_operations() {
    let mut observed = clean_week_of_the_mobile_app();
    observed.calls.push(ObservedCalls {
        sample_operations: vec!["PeoplePicker".to_owned()],
        ..calls(Entity::Person, Operation::Read, Some(APP), 120)
    });
    let findings = evaluate(
        &declared(&mobile_progress_app()),
        &observed,
        &FindingPolicy::default(),
    );
    assert_eq!(codes(&findings), vec![FindingCode::UndeclaredEntity]);
    let finding = &findings[0];
    assert_eq!(finding.severity, Severity::Warning);
    assert_eq!(finding.evidence.entity, Some(Entity::Person));
    assert_eq!(finding.evidence.operations, vec![Operation::Read]);
    assert_eq!(finding.evidence.observed, Some(120));
    assert_eq!(finding.evidence.sample_operations, vec!["PeoplePicker"]);
    assert_eq!(finding.evidence.period, week());
}

#[test]
fn a_write_under_a_read_only_workflow_is_critical_and_names_the_workflow() {
    let mut request = mobile_progress_app();
    request.workflows.push(Workflow {
        name: "Rates lookup".to_owned(),
        direction: Direction::Read,
        entities: vec![access(Entity::ApplicableRate, &[Operation::Read])],
        ..request.workflows[0].clone()
    });
    let mut observed = clean_week_of_the_mobile_app();
    observed.calls.push(calls(
        Entity::ApplicableRate,
        Operation::Update,
        Some("Rates lookup"),
        12,
    ));
    let findings = evaluate(&declared(&request), &observed, &FindingPolicy::default());
    assert_eq!(
        codes(&findings),
        vec![FindingCode::WriteUnderReadOnlyWorkflow]
    );
    let finding = &findings[0];
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(finding.evidence.workflow.as_deref(), Some("Rates lookup"));
    assert_eq!(finding.evidence.entity, Some(Entity::ApplicableRate));
    assert_eq!(finding.evidence.operations, vec![Operation::Update]);
    assert_eq!(finding.evidence.observed, Some(12));
}

#[test]
fn an_unattributed_write_to_an_entity_only_read_only_workflows_touch_is_found_too() {
    let mut request = mobile_progress_app();
    request.workflows.push(Workflow {
        name: "Company directory".to_owned(),
        direction: Direction::Read,
        entities: vec![access(Entity::Company, &[Operation::Read])],
        ..request.workflows[0].clone()
    });
    let mut observed = clean_week_of_the_mobile_app();
    observed
        .calls
        .push(calls(Entity::Company, Operation::Create, None, 3));
    let findings = evaluate(&declared(&request), &observed, &FindingPolicy::default());
    assert_eq!(
        codes(&findings),
        vec![FindingCode::WriteUnderReadOnlyWorkflow]
    );
    assert_eq!(findings[0].evidence.workflow, None);
    assert_eq!(findings[0].evidence.observed, Some(3));
}

#[test]
fn an_unattributed_write_to_an_entity_a_writing_workflow_only_reads_is_undeclared() {
    let mut request = mobile_progress_app();
    request.workflows[0]
        .entities
        .push(access(Entity::Company, &[Operation::Read]));
    let mut observed = clean_week_of_the_mobile_app();
    observed
        .calls
        .push(calls(Entity::Company, Operation::Create, None, 3));
    let findings = evaluate(&declared(&request), &observed, &FindingPolicy::default());
    assert_eq!(codes(&findings), vec![FindingCode::UndeclaredOperation]);
    assert_eq!(findings[0].severity, Severity::Critical);
}

#[test]
fn an_operation_its_workflow_does_not_declare_is_undeclared() {
    let mut observed = clean_week_of_the_mobile_app();
    observed
        .calls
        .push(calls(Entity::Activity, Operation::Delete, Some(APP), 2));
    let findings = evaluate(
        &declared(&mobile_progress_app()),
        &observed,
        &FindingPolicy::default(),
    );
    let finding = only(&findings, FindingCode::UndeclaredOperation);
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(finding.evidence.operations, vec![Operation::Delete]);
    assert_eq!(finding.evidence.workflow.as_deref(), Some(APP));
}

#[test]
fn two_and_a_half_times_the_declared_volume_is_the_critical_200_percent_finding() {
    let mut observed = clean_week_of_the_mobile_app();
    observed.calls_per_day = days(900);
    observed.calls_per_day[3].calls = 3_000;
    let findings = evaluate(
        &declared(&mobile_progress_app()),
        &observed,
        &FindingPolicy::default(),
    );
    assert_eq!(
        codes(&findings),
        vec![FindingCode::DailyCallsOverDoubleDeclared]
    );
    let finding = &findings[0];
    assert_eq!(finding.code.as_str(), "daily_calls_over_double_declared");
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(finding.evidence.observed, Some(3_000));
    assert_eq!(finding.evidence.declared, Some(1_200));
    assert_eq!(finding.evidence.percent, Some(250));
    assert_eq!(
        finding.evidence.day,
        Some(week().start.date_naive() + Duration::days(3))
    );
}

#[test]
fn volume_crossing_80_and_100_percent_is_info_then_warning() {
    let declared = declared(&mobile_progress_app());
    let policy = FindingPolicy::default();
    let mut observed = clean_week_of_the_mobile_app();
    observed.calls_per_day = days(1_000);
    let near = evaluate(&declared, &observed, &policy);
    assert_eq!(codes(&near), vec![FindingCode::DailyCallsNearDeclared]);
    assert_eq!(near[0].severity, Severity::Info);
    observed.calls_per_day = days(1_500);
    let over = evaluate(&declared, &observed, &policy);
    assert_eq!(codes(&over), vec![FindingCode::DailyCallsOverDeclared]);
    assert_eq!(over[0].severity, Severity::Warning);
}

#[test]
fn a_peak_minute_over_twice_the_declared_peak_is_critical() {
    let mut observed = clean_week_of_the_mobile_app();
    observed.peak_calls_per_minute = 13;
    let findings = evaluate(
        &declared(&mobile_progress_app()),
        &observed,
        &FindingPolicy::default(),
    );
    let finding = only(&findings, FindingCode::PeakRateOverDoubleDeclared);
    assert_eq!(finding.evidence.declared, Some(6));
    assert_eq!(finding.evidence.percent, Some(216));
}

#[test]
fn an_hourly_sweep_of_all_usages_is_an_analytical_pattern_that_belongs_on_dataclips() {
    let mut request = mobile_progress_app();
    request.workflows[0]
        .entities
        .push(access(Entity::ResourceUsage, &[Operation::Read]));
    let mut observed = clean_week_of_the_mobile_app();
    observed.calls_by_hour = [525; 24];
    observed.calls.push(calls(
        Entity::ResourceUsage,
        Operation::Read,
        Some(APP),
        168 * 5,
    ));
    observed.sweeps.push(SweepPattern {
        entity: Entity::ResourceUsage,
        kind: SweepKind::Pages { over: 10 },
        count: 168,
        sample_operations: vec!["HourlyUsageExport".to_owned()],
    });
    let findings = evaluate(&declared(&request), &observed, &FindingPolicy::default());
    let finding = only(&findings, FindingCode::AnalyticalPatternOnLiveApi);
    assert_eq!(finding.severity, Severity::Warning);
    assert_eq!(finding.evidence.entity, Some(Entity::ResourceUsage));
    assert_eq!(finding.evidence.observed, Some(168));
    assert_eq!(
        finding.evidence.sample_operations,
        vec!["HourlyUsageExport"]
    );
    assert!(finding.detail.contains("24 a day"), "{}", finding.detail);
    assert!(
        finding.detail.contains("resource-usages-export"),
        "{}",
        finding.detail
    );
    assert!(finding.detail.contains("usageTotals"), "{}", finding.detail);
}

#[test]
fn calls_outside_every_declared_window_are_found_by_hour() {
    let request = bentley_example();
    let mut by_hour = [0; 24];
    by_hour[2] = 20_000;
    by_hour[3] = 400;
    by_hour[14] = 250;
    let observed = Observed {
        period: week(),
        calls: vec![
            calls(Entity::Activity, Operation::Update, None, 10_000),
            calls(Entity::Attachment, Operation::Create, None, 400),
        ],
        calls_per_day: days(2_950),
        peak_calls_per_minute: 100,
        calls_by_hour: by_hour,
        upstream_429: 0,
        upstream_503: 0,
        cache_hits: 0,
        cache_misses: 0,
        sweeps: vec![],
    };
    let findings = evaluate(&declared(&request), &observed, &FindingPolicy::default());
    assert_eq!(codes(&findings), vec![FindingCode::CallsOutsideSyncWindow]);
    assert_eq!(
        findings[0].evidence.hours,
        vec![HourCount {
            hour: 14,
            calls: 250
        }]
    );
    assert!(findings[0].detail.contains("01:00-05:00 UTC"));
}

#[test]
fn a_request_with_a_workflow_without_a_window_has_no_window_to_break() {
    let mut observed = clean_week_of_the_mobile_app();
    observed.calls_by_hour = [100; 24];
    let findings = evaluate(
        &declared(&mobile_progress_app()),
        &observed,
        &FindingPolicy::default(),
    );
    assert!(!codes(&findings).contains(&FindingCode::CallsOutsideSyncWindow));
}

#[test]
fn upstream_429s_and_503s_are_reported_with_their_counts() {
    let mut observed = clean_week_of_the_mobile_app();
    observed.upstream_429 = 7;
    observed.upstream_503 = 150;
    let findings = evaluate(
        &declared(&mobile_progress_app()),
        &observed,
        &FindingPolicy::default(),
    );
    // Most severe first.
    assert_eq!(
        codes(&findings),
        vec![
            FindingCode::UpstreamOverloaded,
            FindingCode::UpstreamRateLimited
        ]
    );
    assert_eq!(findings[0].severity, Severity::Critical);
    assert_eq!(findings[0].evidence.observed, Some(150));
    assert_eq!(findings[1].severity, Severity::Warning);
    assert_eq!(findings[1].evidence.observed, Some(7));
}

#[test]
fn a_cache_that_saves_little_is_reported_only_with_enough_traffic() {
    let declared = declared(&mobile_progress_app());
    let policy = FindingPolicy::default();
    let mut observed = clean_week_of_the_mobile_app();
    observed.cache_hits = 100;
    observed.cache_misses = 1_900;
    let findings = evaluate(&declared, &observed, &policy);
    let finding = only(&findings, FindingCode::CacheIneffective);
    assert_eq!(finding.evidence.percent, Some(5));
    observed.cache_hits = 10;
    observed.cache_misses = 190;
    assert_eq!(evaluate(&declared, &observed, &policy), vec![]);
}

#[test]
fn findings_round_trip_through_json_with_their_stable_codes() {
    let mut observed = clean_week_of_the_mobile_app();
    observed.upstream_429 = 1;
    let findings = evaluate(
        &declared(&mobile_progress_app()),
        &observed,
        &FindingPolicy::default(),
    );
    let json = serde_json::to_string(&findings).expect("findings serialise");
    assert!(json.contains(r#""code":"upstream_rate_limited""#), "{json}");
    let back: Vec<Finding> = serde_json::from_str(&json).expect("findings deserialise");
    assert_eq!(back, findings);
    let observed_json = serde_json::to_string(&observed).expect("observed serialises");
    let observed_back: Observed =
        serde_json::from_str(&observed_json).expect("observed deserialises");
    assert_eq!(observed_back, observed);
}

#[test]
fn calls_when_no_load_was_declared_are_critical_without_a_percentage() {
    let mut request = mobile_progress_app();
    request.workflows[0].trigger = None;
    let findings = evaluate(
        &declared(&request),
        &clean_week_of_the_mobile_app(),
        &FindingPolicy::default(),
    );
    let daily = only(&findings, FindingCode::DailyCallsOverDoubleDeclared);
    assert_eq!(daily.severity, Severity::Critical);
    assert_eq!(daily.evidence.declared, Some(0));
    assert_eq!(daily.evidence.percent, None);
}

#[test]
fn every_severity_has_its_serde_word_and_the_label_the_usage_report_prints() {
    // A new variant does not compile here until it is added to `ALL` (and to this match).
    let index = |severity: Severity| match severity {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Critical => 2,
    };
    assert_eq!(Severity::ALL.map(index), [0, 1, 2]);
    let forms: Vec<(&str, &str)> = Severity::ALL
        .into_iter()
        .map(|s| (s.as_str(), s.label()))
        .collect();
    assert_eq!(
        forms,
        [
            ("info", "info"),
            ("warning", "warning"),
            ("critical", "critical")
        ]
    );
    for severity in Severity::ALL {
        let json = serde_json::to_string(&severity).expect("a severity serialises");
        assert_eq!(json, format!("\"{}\"", severity.as_str()));
        assert_eq!(severity.to_string(), severity.as_str());
        assert!(!severity.label().trim().is_empty(), "{severity:?}");
    }
}
