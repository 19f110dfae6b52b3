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
/// Trees of single and list fields over `entities`, up to four levels deep, lists with a
/// `first` below `first_below` (or none).
fn field_strategy_over(
    entities: Vec<Entity>,
    first_below: u32,
) -> impl Strategy<Value = FieldShape> {
    let leaf = (
        proptest::sample::select(entities.clone()),
        proptest::option::of(0u32..first_below),
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
            proptest::sample::select(entities.clone()),
            proptest::option::of(0u32..first_below),
            proptest::collection::vec(inner, 0..4),
        )
            .prop_map(|(entity, first, children)| {
                FieldShape::list("node", entity, first).with_children(children)
            })
    })
}

fn field_strategy() -> impl Strategy<Value = FieldShape> {
    field_strategy_over(Entity::ALL.to_vec(), 300)
}

/// The entities a dataclip holds, and projects (the scope of every clip, never read from one).
fn entities_with_a_clip() -> Vec<Entity> {
    let mut entities: Vec<Entity> = crate::dataclips::CATALOGUE
        .iter()
        .map(|entry| entry.entity)
        .collect();
    entities.push(Entity::Project);
    entities
}

/// Root fields of every kind routing looks at: reads over any entity or only over entities a
/// clip holds (so snapshots can answer), with a `first` mostly within the largest page (200),
/// date windows on both sides of the upstream's 62 days, aggregates, and writes.
fn routed_field_strategy() -> impl Strategy<Value = FieldShape> {
    let any_entity = || proptest::sample::select(Entity::ALL.to_vec());
    prop_oneof![
        3 => field_strategy_over(Entity::ALL.to_vec(), 210),
        4 => field_strategy_over(entities_with_a_clip(), 210),
        2 => (field_strategy_over(entities_with_a_clip(), 210), 1u32..120)
            .prop_map(|(field, days)| field.with_window_days(days)),
        1 => any_entity().prop_map(|entity| FieldShape::aggregate("total", entity)),
        1 => (any_entity(), proptest::collection::vec(field_strategy(), 0..2)).prop_map(
            |(entity, children)| FieldShape::mutation("write", entity).with_children(children)
        ),
    ]
}

/// An operation, a policy (only the budget varies), what the service holds, and the staleness
/// the client accepts; ages straddle the policy's freshness and each other.
fn routing_case_strategy()
-> impl Strategy<Value = (OperationShape, RoutePolicy, Sources, Option<u64>)> {
    let clip_ages = prop_oneof![
        // Every clip has a snapshot, of some age.
        proptest::collection::vec(0u64..20_000, 6).prop_map(|ages| {
            crate::dataclips::CATALOGUE
                .iter()
                .map(|entry| entry.entity)
                .zip(ages)
                .collect::<BTreeMap<_, _>>()
        }),
        // Snapshots of some entities only, clips or not.
        proptest::collection::btree_map(
            proptest::sample::select(Entity::ALL.to_vec()),
            0u64..20_000,
            0..6,
        ),
    ];
    (
        proptest::collection::vec(routed_field_strategy(), 1..3),
        0u64..3_000,
        proptest::option::of(0u64..200),
        clip_ages,
        proptest::option::of(prop_oneof![3 => 0u64..20_000, 1 => Just(u64::MAX)]),
    )
        .prop_map(
            |(fields, budget, cache_age_secs, dataclip_age_secs, accept)| {
                let policy = RoutePolicy {
                    budget,
                    ..RoutePolicy::default()
                };
                let sources = Sources {
                    cache_age_secs,
                    dataclip_age_secs,
                };
                (OperationShape::new(None, fields), policy, sources, accept)
            },
        )
}

/// The age of the oldest snapshot when every entity `shape` loads (but projects) has a clip
/// with a snapshot no older than `max_age`; `None` otherwise or when it loads no such entity.
fn accepted_snapshot_age(shape: &OperationShape, sources: &Sources, max_age: u64) -> Option<u64> {
    let ages: Option<Vec<u64>> = shape
        .entities()
        .into_iter()
        .filter(|entity| *entity != Entity::Project)
        .map(|entity| {
            crate::dataclips::dataclip_for(entity)?;
            sources
                .dataclip_age_secs
                .get(&entity)
                .copied()
                .filter(|age| *age <= max_age)
        })
        .collect();
    ages?.into_iter().max()
}

#[test]
fn the_routing_cases_reach_every_decision() {
    // Guards the property below: a generator that never reached a refusal (or a snapshot)
    // would let it pass without checking anything.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = routing_case_strategy();
    let mut codes = std::collections::BTreeSet::new();
    for _ in 0..512 {
        let (shape, policy, sources, accept) = strategy
            .new_tree(&mut runner)
            .expect("a routing case is generated")
            .current();
        codes.insert(route(&shape, &policy, &sources, accept).code());
    }
    assert_eq!(
        codes.into_iter().collect::<Vec<_>>(),
        ["cache", "dataclip", "live", "too_costly", "use_dataclips"]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

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

    /// The code is the decision's serde `kind` tag (what is stored and what clients see as the
    /// GraphQL `extensions.code`), `is_refusal` agrees with it, and a refusal comes exactly when
    /// the inputs call for it: `use_dataclips` for an analytical read no accepted snapshot
    /// answers, `too_costly` for a write, or a read nothing cheaper answers, over the budget.
    /// Each answer is likewise checked against why it was chosen over the cheaper sources.
    #[test]
    fn routing_any_shape_never_panics_and_a_refusal_has_a_stable_code(
        (shape, policy, sources, accept) in routing_case_strategy(),
    ) {
        let decision = route(&shape, &policy, &sources, accept);

        let json = serde_json::to_value(&decision).expect("a decision serialises");
        prop_assert_eq!(json["kind"].as_str(), Some(decision.code()));
        prop_assert_eq!(
            decision.is_refusal(),
            matches!(decision.code(), "use_dataclips" | "too_costly")
        );

        let cost = estimate(&shape, &policy.cost);
        let writes = shape.writes();
        let analytical = analytical_shape(&shape, &policy);
        let fresh_cache = sources
            .cache_age_secs
            .filter(|age| *age <= accept.unwrap_or(policy.fresh_cache_secs));
        let snapshot = accept.and_then(|max_age| accepted_snapshot_age(&shape, &sources, max_age));
        // Nothing cheaper than the live API answers a plain read.
        let only_live_answers =
            writes || (analytical.is_none() && fresh_cache.is_none() && snapshot.is_none());

        match &decision {
            RouteDecision::Cache { age_secs } => {
                prop_assert!(!writes && analytical.is_none());
                prop_assert_eq!(Some(*age_secs), fresh_cache);
            }
            RouteDecision::Dataclip { dataclips, age_secs } => {
                prop_assert!(!writes);
                prop_assert!(analytical.is_some() || fresh_cache.is_none());
                prop_assert_eq!(Some(*age_secs), snapshot);
                let mut clip_entities: Vec<Entity> = dataclips.iter().map(|c| c.entity).collect();
                clip_entities.sort();
                let mut read: Vec<Entity> = shape.entities();
                read.retain(|entity| *entity != Entity::Project);
                prop_assert_eq!(clip_entities, read);
            }
            RouteDecision::Live { estimate } => {
                prop_assert_eq!(*estimate, cost);
                prop_assert!(cost.score <= policy.budget);
                prop_assert!(only_live_answers);
            }
            RouteDecision::UseDataclips { reason, analytics_field, hint } => {
                prop_assert!(!writes && snapshot.is_none());
                prop_assert_eq!(Some(reason), analytical.as_ref());
                prop_assert_eq!(
                    analytics_field.as_deref(),
                    reason.entity.and_then(crate::dataclips::analytics_field_for)
                );
                prop_assert!(hint.starts_with(&reason.to_string()), "{}", hint);
            }
            RouteDecision::TooCostly { estimate, budget } => {
                prop_assert_eq!(*estimate, cost);
                prop_assert_eq!(*budget, policy.budget);
                prop_assert!(cost.score > policy.budget);
                prop_assert!(only_live_answers);
            }
        }
    }
}
