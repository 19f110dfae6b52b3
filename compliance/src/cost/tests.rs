use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

fn project_with(children: Vec<FieldShape>) -> OperationShape {
    OperationShape::new(
        Some("Q"),
        vec![
            FieldShape::single("project", Entity::Project)
                .with_children([vec![FieldShape::scalar("name")], children].concat()),
        ],
    )
}

/// `project { activities(first: N) { events(first: E) usages(first: U) } }`
fn activities_with_events_and_usages(first: u32, each: u32) -> OperationShape {
    project_with(vec![
        FieldShape::list("activities", Entity::Activity, Some(first)).with_children(vec![
            FieldShape::scalar("name"),
            FieldShape::list("events", Entity::Event, Some(each)),
            FieldShape::list("usages", Entity::ResourceUsage, Some(each)),
        ]),
    ])
}

fn sources(cache_age_secs: Option<u64>, clips: &[(Entity, u64)]) -> Sources {
    Sources {
        cache_age_secs,
        dataclip_age_secs: clips.iter().copied().collect::<BTreeMap<_, _>>(),
    }
}

#[test]
fn a_point_read_costs_one_upstream_call() {
    let shape = project_with(vec![]);
    let cost = estimate(&shape, &CostModel::default());
    assert_eq!(cost.upstream_calls, 1);
    assert_eq!(cost.rows, 1);
    assert_eq!(cost.depth, 1);
}

#[test]
fn a_nested_query_costs_one_call_per_field_when_each_level_fits_a_page() {
    // 100 activities, each with events and usages: the N+1 pattern would make 1 + 1 + 100 +
    // 100 calls; batched, each field is one load of at most 200 rows.
    let cost = estimate(
        &activities_with_events_and_usages(100, 2),
        &CostModel::default(),
    );
    assert_eq!(cost.upstream_calls, 4);
    assert_eq!(cost.depth, 3);
    assert_eq!(cost.rows, 1 + 100 + 200 + 200);
}

#[test]
fn more_parents_cost_more_pages_not_more_calls_per_parent() {
    let model = CostModel::default();
    let small = estimate(&activities_with_events_and_usages(100, 10), &model);
    let large = estimate(&activities_with_events_and_usages(200, 10), &model);
    // 1,000 then 2,000 events and usages: 5 then 10 pages each, never one call per activity.
    assert_eq!(small.upstream_calls, 1 + 1 + 5 + 5);
    assert_eq!(large.upstream_calls, 1 + 1 + 10 + 10);
}

#[test]
fn a_list_without_first_costs_the_default_page() {
    let shape = project_with(vec![FieldShape::list("activities", Entity::Activity, None)]);
    let cost = estimate(&shape, &CostModel::default());
    assert_eq!(cost.rows, 1 + 50);
}

#[test]
fn a_list_filtered_by_ids_costs_at_most_those_rows() {
    let shape = project_with(vec![
        FieldShape::list("activities", Entity::Activity, Some(200))
            .with_filter(Filter::Ids { count: 3 }),
    ]);
    assert_eq!(estimate(&shape, &CostModel::default()).rows, 1 + 3);
}

#[test]
fn a_mutation_costs_a_write_and_weighs_more_than_a_read() {
    let shape = OperationShape::new(
        None,
        vec![
            FieldShape::mutation("updateActivity", Entity::Activity)
                .with_children(vec![FieldShape::scalar("id")]),
        ],
    );
    let model = CostModel::default();
    let cost = estimate(&shape, &model);
    assert_eq!(cost.writes, 1);
    assert_eq!(cost.upstream_calls, 1);
    assert!(cost.score > estimate(&project_with(vec![]), &model).score);
}

#[test]
fn a_point_read_is_answered_live_when_nothing_is_cached() {
    let decision = route(
        &project_with(vec![]),
        &RoutePolicy::default(),
        &Sources::default(),
        None,
    );
    assert!(matches!(decision, RouteDecision::Live { estimate } if estimate.upstream_calls == 1));
    assert_eq!(decision.code(), "live");
}

#[test]
fn a_small_list_is_answered_from_a_fresh_cache() {
    let shape = project_with(vec![FieldShape::list(
        "activities",
        Entity::Activity,
        Some(20),
    )]);
    let policy = RoutePolicy::default();
    let decision = route(&shape, &policy, &sources(Some(30), &[]), None);
    assert_eq!(decision, RouteDecision::Cache { age_secs: 30 });
}

#[test]
fn a_cached_answer_older_than_the_client_accepts_goes_live() {
    let shape = project_with(vec![FieldShape::list(
        "activities",
        Entity::Activity,
        Some(20),
    )]);
    let decision = route(
        &shape,
        &RoutePolicy::default(),
        &sources(Some(30), &[]),
        Some(10),
    );
    assert_eq!(decision.code(), "live");
}

#[test]
fn a_small_list_is_answered_from_a_snapshot_the_client_accepts_when_not_cached() {
    let shape = project_with(vec![FieldShape::list(
        "activities",
        Entity::Activity,
        Some(20),
    )]);
    let decision = route(
        &shape,
        &RoutePolicy::default(),
        &sources(None, &[(Entity::Activity, 3_600)]),
        Some(4 * 3_600),
    );
    let RouteDecision::Dataclip {
        dataclips,
        age_secs,
    } = decision
    else {
        panic!("expected a dataclip, got {decision:?}");
    };
    assert_eq!(age_secs, 3_600);
    assert_eq!(dataclips[0].slug, "activity-export");
}

#[test]
fn a_sweep_of_all_usages_is_never_live_and_names_the_analytics_field() {
    // 200 activities × 200 usages each: 40,000 rows, 200 pages.
    let shape = project_with(vec![
        FieldShape::list("activities", Entity::Activity, Some(200)).with_children(vec![
            FieldShape::list("usages", Entity::ResourceUsage, Some(200)),
        ]),
    ]);
    let decision = route(&shape, &RoutePolicy::default(), &Sources::default(), None);
    let RouteDecision::UseDataclips {
        reason,
        analytics_field,
        hint,
    } = decision
    else {
        panic!("expected a refusal, got {decision:?}");
    };
    assert_eq!(reason.field, "project.activities.usages");
    assert_eq!(
        reason.pattern,
        AnalyticalPattern::Sweep {
            pages: 200,
            max_pages: 10
        }
    );
    assert_eq!(analytics_field.as_deref(), Some("usageTotals"));
    assert!(
        hint.contains("analytics(projectId) { usageTotals(...) }"),
        "{hint}"
    );
}

#[test]
fn a_sweep_is_answered_from_a_usage_snapshot_the_client_accepts() {
    let shape = project_with(vec![
        FieldShape::list("activities", Entity::Activity, Some(200)).with_children(vec![
            FieldShape::list("usages", Entity::ResourceUsage, Some(200)),
        ]),
    ]);
    let clips = [(Entity::Activity, 600), (Entity::ResourceUsage, 7_200)];
    let policy = RoutePolicy::default();
    let accepted = route(&shape, &policy, &sources(None, &clips), Some(8 * 3_600));
    assert!(
        matches!(
            accepted,
            RouteDecision::Dataclip {
                age_secs: 7_200,
                ..
            }
        ),
        "{accepted:?}"
    );
    let too_old = route(&shape, &policy, &sources(None, &clips), Some(3_600));
    assert_eq!(too_old.code(), "use_dataclips");
}

#[test]
fn a_window_longer_than_the_policy_allows_is_refused_even_when_cached() {
    let shape = project_with(vec![
        FieldShape::list("attendance", Entity::Attendance, Some(50)).with_window_days(45),
    ]);
    let upstream_limit = RoutePolicy::default();
    assert_eq!(
        route(&shape, &upstream_limit, &Sources::default(), None).code(),
        "live"
    );
    let stricter = RoutePolicy {
        max_date_window_days: 31,
        ..RoutePolicy::default()
    };
    let decision = route(&shape, &stricter, &sources(Some(1), &[]), None);
    let RouteDecision::UseDataclips { reason, hint, .. } = decision else {
        panic!("expected a refusal, got {decision:?}");
    };
    assert_eq!(
        reason.pattern,
        AnalyticalPattern::LongDateWindow {
            days: 45,
            max_days: 31
        }
    );
    assert!(hint.contains("attendanceByDay"), "{hint}");
    assert!(hint.contains("spans 45 days"), "{hint}");
}

#[test]
fn a_first_above_the_largest_page_and_an_aggregate_are_analytical() {
    let policy = RoutePolicy::default();
    let big_page = project_with(vec![FieldShape::list(
        "activities",
        Entity::Activity,
        Some(5_000),
    )]);
    assert_eq!(
        analytical_shape(&big_page, &policy).map(|s| s.pattern),
        Some(AnalyticalPattern::PageTooLarge {
            first: 5_000,
            max_first: 200
        })
    );
    let total = project_with(vec![FieldShape::aggregate(
        "labourHours",
        Entity::ResourceUsage,
    )]);
    assert_eq!(
        analytical_shape(&total, &policy).map(|s| s.pattern),
        Some(AnalyticalPattern::Aggregate)
    );
}

#[test]
fn an_analytical_question_about_an_entity_without_a_clip_is_told_to_narrow_the_query() {
    let shape = project_with(vec![FieldShape::list("events", Entity::Event, Some(1_000))]);
    let decision = route(
        &shape,
        &RoutePolicy::default(),
        &Sources::default(),
        Some(u64::MAX),
    );
    let RouteDecision::UseDataclips {
        analytics_field,
        hint,
        ..
    } = decision
    else {
        panic!("expected a refusal, got {decision:?}");
    };
    assert_eq!(analytics_field, None);
    assert!(hint.contains("narrow the query"), "{hint}");
}

#[test]
fn an_operation_over_the_client_budget_is_too_costly() {
    let shape = activities_with_events_and_usages(200, 10);
    let policy = RoutePolicy {
        budget: 50,
        ..RoutePolicy::default()
    };
    let decision = route(&shape, &policy, &Sources::default(), None);
    let RouteDecision::TooCostly { estimate, budget } = decision else {
        panic!("expected too costly, got {decision:?}");
    };
    assert_eq!(budget, 50);
    assert!(estimate.score > 50);
    assert!(RouteDecision::TooCostly { estimate, budget }.is_refusal());
}

#[test]
fn a_write_always_goes_live_even_when_snapshots_are_accepted() {
    let shape = OperationShape::new(
        None,
        vec![FieldShape::mutation("updateActivity", Entity::Activity)],
    );
    let decision = route(
        &shape,
        &RoutePolicy::default(),
        &sources(Some(0), &[(Entity::Activity, 0)]),
        Some(u64::MAX),
    );
    assert_eq!(decision.code(), "live");
}

#[test]
fn an_operation_that_loads_no_entity_is_never_sent_to_a_snapshot() {
    let shape = OperationShape::new(None, vec![FieldShape::scalar("me")]);
    let decision = route(
        &shape,
        &RoutePolicy::default(),
        &Sources::default(),
        Some(u64::MAX),
    );
    assert_eq!(
        decision,
        RouteDecision::Live {
            estimate: CostEstimate::default()
        }
    );
}

#[test]
fn a_route_decision_round_trips_through_json() {
    let shape = project_with(vec![FieldShape::aggregate(
        "usageTotals",
        Entity::ResourceUsage,
    )]);
    let decision = route(&shape, &RoutePolicy::default(), &Sources::default(), None);
    let json = serde_json::to_string(&decision).expect("a decision serialises");
    assert!(json.contains(r#""kind":"use_dataclips""#), "{json}");
    let back: RouteDecision = serde_json::from_str(&json).expect("a decision deserialises");
    assert_eq!(back, decision);
}

fn field_strategy() -> impl Strategy<Value = FieldShape> {
    let entity = proptest::sample::select(Entity::ALL.to_vec());
    let leaf = (
        entity.clone(),
        proptest::option::of(0u32..300),
        any::<bool>(),
    )
        .prop_map(|(entity, first, single)| {
            if single {
                FieldShape::single("leaf", entity)
            } else {
                FieldShape::list("leaf", entity, first)
            }
        });
    leaf.prop_recursive(4, 24, 4, move |inner| {
        (
            proptest::sample::select(Entity::ALL.to_vec()),
            proptest::option::of(0u32..300),
            proptest::collection::vec(inner, 0..4),
        )
            .prop_map(|(entity, first, children)| {
                FieldShape::list("node", entity, first).with_children(children)
            })
    })
}

proptest! {
    #[test]
    fn upstream_calls_are_at_most_one_per_field_plus_the_rows_over_the_page_size(
        fields in proptest::collection::vec(field_strategy(), 1..3),
    ) {
        let shape = OperationShape::new(None, fields);
        let model = CostModel::default();
        let costs = field_costs(&shape, &model);
        let cost = estimate(&shape, &model);
        let bound = costs.len() as u64 + cost.rows / u64::from(model.page_size);
        prop_assert!(cost.upstream_calls <= bound, "{} > {}", cost.upstream_calls, bound);
        prop_assert!(cost.upstream_calls >= costs.len() as u64);
    }

    #[test]
    fn routing_any_shape_never_panics_and_a_refusal_has_a_stable_code(
        fields in proptest::collection::vec(field_strategy(), 1..3),
        accept in proptest::option::of(0u64..100_000),
    ) {
        let shape = OperationShape::new(None, fields);
        let decision = route(&shape, &RoutePolicy::default(), &Sources::default(), accept);
        prop_assert!(
            ["live", "cache", "dataclip", "use_dataclips", "too_costly"].contains(&decision.code())
        );
    }
}
