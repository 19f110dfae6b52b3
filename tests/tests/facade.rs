//! The GraphQL facade against the simulator: coalescing, batching, scopes, invalidation,
//! stale-if-error, idempotent writes, streamed uploads, cost and route refusals.

use gatehouse_compliance::Entity;
use gatehouse_core::auth::app_keys::NewAppKey;
use gatehouse_core::auth::{Access, KeyScopes};
use gatehouse_core::clock::Clock;
use gatehouse_tests::{Backend, SimApp, backend_tests, first_error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};
use synchro_sim::{FaultRule, SimConfig};

fn reads(projects: &[&str], entities: &[Entity]) -> KeyScopes {
    KeyScopes::new(
        projects.iter().map(|p| (*p).to_owned()).collect(),
        entities.iter().map(|e| (*e, Access::Read)),
    )
}

fn all_reads(project: &str) -> KeyScopes {
    reads(&[project], &Entity::ALL)
}

fn gatehouse(body: &Value) -> &Value {
    &body["extensions"]["gatehouse"]
}

async fn concurrent_identical_cold_queries_make_one_upstream_call(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let project = rig.projects[0].clone();
    let (_, key) = rig.app.create_key(all_reads(&project)).await;
    // Warm the key lookup so that only the data is cold.
    rig.app
        .graphql(Some(&key), "{ me { kind } }", json!({}))
        .await;
    rig.sim.reset_stats().await;
    let query =
        "query($p: ID!) { project(id: $p) { name activities(first: 10) { nodes { id name } } } }";
    let calls = (0..100).map(|_| rig.app.graphql(Some(&key), query, json!({ "p": project })));
    let results = futures::future::join_all(calls).await;
    for (status, body) in &results {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(
            body["data"]["project"]["activities"]["nodes"]
                .as_array()
                .map(Vec::len),
            Some(10)
        );
    }
    let stats = rig.sim.stats().await;
    assert_eq!(
        stats.count("GET", "/api/v1/projects/{project_id}"),
        1,
        "{stats:?}"
    );
    assert_eq!(
        stats.count("GET", "/api/v1/projects/{project_id}/activities"),
        1,
        "{stats:?}"
    );
    assert_eq!(stats.total, 2);
    rig.stop().await;
}

async fn a_nested_query_costs_calls_bounded_by_its_depth_not_its_rows(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let project = rig.projects[0].clone();
    let (_, key) = rig.app.create_key(all_reads(&project)).await;
    let query = "query($p: ID!, $n: Int!) { project(id: $p) { activities(first: $n) { nodes { id
        events { nodes { id activity { id } } }
        resourceUsages(first: 5) { nodes { quantity resource { ... on Person { givenName } ... on Equipment { name } } } } } } } }";
    let mut calls = Vec::new();
    for n in [25, 100] {
        rig.app
            .app
            .services
            .facade
            .cache()
            .invalidate(&project, Entity::Activity);
        for entity in [
            Entity::Event,
            Entity::ResourceUsage,
            Entity::Person,
            Entity::Equipment,
            Entity::Project,
        ] {
            rig.app
                .app
                .services
                .facade
                .cache()
                .invalidate(&project, entity);
        }
        rig.sim.reset_stats().await;
        let (status, body) = rig
            .app
            .graphql(Some(&key), query, json!({ "p": project, "n": n }))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["errors"].is_null(), "{body}");
        let nodes = body["data"]["project"]["activities"]["nodes"]
            .as_array()
            .expect("nodes");
        assert_eq!(nodes.len(), n);
        let made = rig.upstream_calls().await;
        assert_eq!(gatehouse(&body)["upstreamCalls"], made);
        calls.push(made);
    }
    // Seven loads (project, activities, events, event→activity, usages, people, equipment), each
    // one batched call plus a page per 200 rows: about 13 for 100 activities (1,250 usages). The
    // N+1 pattern would cost several hundred. The bound leaves room for a batch split when a
    // loaded machine takes longer than the loader's gathering delay to resolve a level.
    assert!(
        calls[1] <= 30,
        "100 activities cost {} upstream calls",
        calls[1]
    );
    assert!(
        calls[1] < calls[0] * 4,
        "4× the rows cost {} calls against {}",
        calls[1],
        calls[0]
    );
    rig.stop().await;
}

async fn keys_with_different_scopes_never_see_each_others_data(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let (p1, p2) = (rig.projects[0].clone(), rig.projects[1].clone());
    let (_, wide) = rig.app.create_key(all_reads(&p1)).await;
    let (_, narrow) = rig.app.create_key(reads(&[&p1], &[Entity::Activity])).await;
    let (_, other) = rig.app.create_key(all_reads(&p2)).await;
    let usages = "query($p: ID!) { project(id: $p) { resourceUsages(first: 5) { nodes { id } } } }";
    let (status, body) = rig
        .app
        .graphql(Some(&wide), usages, json!({ "p": p1 }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    rig.sim.reset_stats().await;

    let (status, body) = rig
        .app
        .graphql(Some(&narrow), usages, json!({ "p": p1 }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"));
    let (status, body) = rig
        .app
        .graphql(Some(&other), usages, json!({ "p": p1 }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        rig.upstream_calls().await,
        0,
        "refusals touch neither cache nor upstream"
    );

    let activities =
        "query($p: ID!) { project(id: $p) { id activities(first: 3) { nodes { id } } } }";
    let (_, a) = rig
        .app
        .graphql(Some(&wide), activities, json!({ "p": p1 }))
        .await;
    let (_, b) = rig
        .app
        .graphql(Some(&other), activities, json!({ "p": p2 }))
        .await;
    assert_eq!(a["data"]["project"]["id"], p1.as_str());
    assert_eq!(b["data"]["project"]["id"], p2.as_str());
    assert_ne!(
        a["data"]["project"]["activities"],
        b["data"]["project"]["activities"]
    );
    rig.stop().await;
}

async fn an_operation_outside_scope_is_refused_before_any_upstream_call(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let project = rig.projects[0].clone();
    let (_, key) = rig
        .app
        .create_key(reads(&[&project], &[Entity::Activity]))
        .await;
    rig.sim.reset_stats().await;
    let query = "query($p: ID!) { project(id: $p) { activities(first: 5) { nodes { id resourceUsages { nodes { id } } } } } }";
    let (status, body) = rig
        .app
        .graphql(Some(&key), query, json!({ "p": project }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"));
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("resource_usage")
    );
    let write = "mutation($p: ID!) { updateActivity(input: {projectId: $p, id: \"00000000-0000-0000-0000-000000000001\", percentComplete: 5, idempotencyKey: \"key-00000001\"}) { id } }";
    let (status, _) = rig
        .app
        .graphql(Some(&key), write, json!({ "p": project }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a read key cannot write");
    assert_eq!(rig.upstream_calls().await, 0);
    rig.stop().await;
}

async fn a_write_invalidates_the_cached_entity(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let project = rig.projects[0].clone();
    let (_, key) = rig
        .app
        .create_key(KeyScopes::new(
            vec![project.clone()],
            [(Entity::Activity, Access::Write)],
        ))
        .await;
    let list = "query($p: ID!) { project(id: $p) { activities(first: 1) { nodes { id percentComplete } } } }";
    let (_, body) = rig
        .app
        .graphql(Some(&key), list, json!({ "p": project }))
        .await;
    let id = body["data"]["project"]["activities"]["nodes"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, again) = rig
        .app
        .graphql(Some(&key), list, json!({ "p": project }))
        .await;
    assert_eq!(gatehouse(&again)["source"], "cache", "{again}");

    let write = "mutation($p: ID!, $id: ID!) { updateActivity(input: {projectId: $p, id: $id, percentComplete: 37.5, idempotencyKey: \"write-invalidates-1\"}) { id percentComplete } }";
    let (status, body) = rig
        .app
        .graphql(Some(&key), write, json!({ "p": project, "id": id }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["updateActivity"]["percentComplete"], 37.5);

    let (_, after) = rig
        .app
        .graphql(Some(&key), list, json!({ "p": project }))
        .await;
    assert_eq!(
        after["data"]["project"]["activities"]["nodes"][0]["percentComplete"],
        37.5
    );
    assert_eq!(gatehouse(&after)["cache"]["misses"], 1, "{after}");
    rig.stop().await;
}

async fn stale_data_stands_in_for_a_down_upstream_within_the_bound_only(backend: Backend) {
    let cache =
        "[cache]\ndefault_ttl_secs = 1\nstale_while_revalidate_secs = 0\nstale_if_error_secs = 2\n";
    let clock = Clock::manual(chrono::Utc::now());
    let rig = SimApp::start_with_clock(
        backend,
        SimConfig::default(),
        cache,
        "retry = { max_retries = 0 }",
        clock.clone(),
    )
    .await;
    let project = rig.projects[0].clone();
    let (_, key) = rig.app.create_key(all_reads(&project)).await;
    let query = "query($p: ID!) { project(id: $p) { activities(first: 2) { nodes { id name } } } }";
    let (_, fresh) = rig
        .app
        .graphql(Some(&key), query, json!({ "p": project }))
        .await;
    assert_eq!(gatehouse(&fresh)["stale"], false);
    rig.sim
        .add_fault(FaultRule {
            error_rate: 1.0,
            status: 503,
            ..FaultRule::default()
        })
        .await
        .expect("fault");
    // Past the 1 s TTL, within the 2 s of stale-if-error: the cached data stands in.
    assert!(clock.advance(std::time::Duration::from_millis(1500)));
    let (status, stale) = rig
        .app
        .graphql(Some(&key), query, json!({ "p": project }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(stale["errors"].is_null(), "{stale}");
    assert_eq!(stale["data"], fresh["data"]);
    assert_eq!(gatehouse(&stale)["stale"], true, "{stale}");
    // Past the bound: the outage is the answer.
    assert!(clock.advance(std::time::Duration::from_millis(2000)));
    let (_, gone) = rig
        .app
        .graphql(Some(&key), query, json!({ "p": project }))
        .await;
    assert_eq!(
        first_error_code(&gone),
        Some("UPSTREAM_UNAVAILABLE"),
        "{gone}"
    );
    rig.stop().await;
}

async fn a_write_retried_with_the_same_key_creates_one_record(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let project = rig.projects[0].clone();
    let (_, key) = rig
        .app
        .create_key(KeyScopes::new(
            vec![project.clone()],
            [
                (Entity::ResourceUsage, Access::Write),
                (Entity::Activity, Access::Read),
                (Entity::Person, Access::Read),
            ],
        ))
        .await;
    let token = rig
        .sim
        .create_token(rig.sim.projects()[0].id, synchro_sim::Scope::Read)
        .await;
    let client = reqwest::Client::new();
    let get = |path: &str| {
        client
            .get(format!(
                "{}/api/v1/projects/{project}/{path}",
                rig.sim.base_url()
            ))
            .bearer_auth(&token)
            .send()
    };
    let people: Value = get("people")
        .await
        .expect("people")
        .json()
        .await
        .expect("json");
    let codes: Value = get("usage_codes")
        .await
        .expect("codes")
        .json()
        .await
        .expect("json");
    let activities: Value = get("activities?per_page=50")
        .await
        .expect("activities")
        .json()
        .await
        .expect("json");
    let activity = activities
        .as_array()
        .expect("array")
        .iter()
        .find(|a| a["non_bookable"] == false)
        .expect("a bookable activity");
    let variables = json!({ "input": {
        "projectId": project, "workDate": "2025-04-01", "resourceId": people[0]["id"],
        "workReferenceId": activity["id"], "usageCodeId": codes[0]["id"], "quantity": 8.0,
        "idempotencyKey": "7d1f3c2e-usage-1"
    }});
    let create = "mutation($input: CreateResourceUsageInput!) { createResourceUsage(input: $input) { id quantity } }";
    rig.sim.reset_stats().await;
    let (_, first) = rig.app.graphql(Some(&key), create, variables.clone()).await;
    let (_, second) = rig.app.graphql(Some(&key), create, variables.clone()).await;
    assert!(first["errors"].is_null(), "{first}");
    assert_eq!(
        first["data"], second["data"],
        "the retry replays the first answer"
    );
    let stats = rig.sim.stats().await;
    assert_eq!(
        stats.count("POST", "/api/v1/projects/{project_id}/resource_usages"),
        1
    );

    let mut changed = variables.clone();
    changed["input"]["quantity"] = json!(9.0);
    let (_, reused) = rig.app.graphql(Some(&key), create, changed).await;
    assert_eq!(
        first_error_code(&reused),
        Some("BAD_USER_INPUT"),
        "{reused}"
    );
    rig.stop().await;
}

async fn upstream_validation_errors_come_back_per_field(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let project = rig.projects[0].clone();
    let (_, key) = rig
        .app
        .create_key(KeyScopes::new(
            vec![project.clone()],
            [
                (Entity::ProgressEntry, Access::Write),
                (Entity::Activity, Access::Read),
            ],
        ))
        .await;
    let list = "query($p: ID!) { project(id: $p) { activities(first: 20) { nodes { id budgetAtComplete { currentEstimate { labourHours quantity cost } } } } } }";
    let (_, body) = rig
        .app
        .graphql(Some(&key), list, json!({ "p": project }))
        .await;
    let zero = body["data"]["project"]["activities"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|a| {
            a["budgetAtComplete"]["currentEstimate"]["labourHours"] == 0.0
                && a["budgetAtComplete"]["currentEstimate"]["quantity"] == 0.0
        })
        .expect("a zero-budget activity among the first 20")["id"]
        .clone();
    let record = "mutation($p: ID!, $a: ID!) { recordProgress(input: {projectId: $p, activityId: $a, progressDate: \"2025-05-01\", percentComplete: 10, idempotencyKey: \"progress-zero-1\"}) { id } }";
    let (_, refused) = rig
        .app
        .graphql(Some(&key), record, json!({ "p": project, "a": zero }))
        .await;
    assert_eq!(
        first_error_code(&refused),
        Some("BAD_USER_INPUT"),
        "{refused}"
    );
    assert_eq!(
        refused["errors"][0]["extensions"]["upstream"]["code"],
        "activity_budget_zero"
    );

    let two = "mutation($p: ID!, $a: ID!) { recordProgress(input: {projectId: $p, activityId: $a, progressDate: \"2025-05-01\", percentComplete: 10, quantityDelta: 2, idempotencyKey: \"progress-two-1\"}) { id } }";
    let (_, refused) = rig
        .app
        .graphql(Some(&key), two, json!({ "p": project, "a": zero }))
        .await;
    let fields: Vec<&str> = refused["errors"][0]["extensions"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"percentComplete") && fields.contains(&"quantityDelta"),
        "{refused}"
    );
    rig.stop().await;
}

async fn costly_and_analytical_questions_are_refused_with_a_hint(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let project = rig.projects[0].clone();
    let (_, key) = rig
        .app
        .create_key_with(NewAppKey {
            name: "small budget".into(),
            scopes: all_reads(&project),
            cost_budget: Some(5),
            ..NewAppKey::default()
        })
        .await;
    rig.sim.reset_stats().await;
    let wide = "query($p: ID!) { project(id: $p) { activities(first: 50) { nodes { id events(first: 2) { nodes { id } } } } } }";
    let (status, body) = rig
        .app
        .graphql(Some(&key), wide, json!({ "p": project }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(first_error_code(&body), Some("TOO_COSTLY"));
    assert!(
        body["errors"][0]["extensions"]["estimate"]["score"]
            .as_u64()
            .expect("score")
            > 5
    );

    let window = "query($p: ID!) { project(id: $p) { resourceUsages(first: 10, filter: {from: \"2025-01-01\", to: \"2025-06-30\"}) { nodes { id } } } }";
    let (status, body) = rig
        .app
        .graphql(Some(&key), window, json!({ "p": project }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(first_error_code(&body), Some("USE_DATACLIPS"));
    assert_eq!(
        body["errors"][0]["extensions"]["analyticsField"],
        "usageTotals"
    );
    assert_eq!(
        rig.upstream_calls().await,
        0,
        "refused before any upstream call"
    );
    rig.stop().await;
}

async fn each_key_has_a_rate_limit_with_a_retry_hint(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let project = rig.projects[0].clone();
    let (_, key) = rig
        .app
        .create_key_with(NewAppKey {
            name: "slow".into(),
            scopes: all_reads(&project),
            rate_per_minute: Some(2),
            ..NewAppKey::default()
        })
        .await;
    let mut statuses = Vec::new();
    let mut last = Value::Null;
    for _ in 0..3 {
        let (status, body) = rig
            .app
            .graphql(Some(&key), "{ me { kind } }", json!({}))
            .await;
        statuses.push(status);
        last = body;
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(first_error_code(&last), Some("RATE_LIMITED"));
    assert!(
        last["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .is_some()
    );
    rig.stop().await;
}

async fn every_response_says_where_its_data_came_from(backend: Backend) {
    let rig = SimApp::start(backend, SimConfig::default(), "", "").await;
    let project = rig.projects[0].clone();
    let (_, key) = rig.app.create_key(all_reads(&project)).await;
    let query = "query($p: ID!) { project(id: $p) { name } }";
    let (_, cold) = rig
        .app
        .graphql(Some(&key), query, json!({ "p": project }))
        .await;
    let (_, warm) = rig
        .app
        .graphql(Some(&key), query, json!({ "p": project }))
        .await;
    assert_eq!(gatehouse(&cold)["source"], "live");
    assert_eq!(gatehouse(&cold)["upstreamCalls"], 1);
    assert_eq!(gatehouse(&warm)["source"], "cache");
    assert_eq!(gatehouse(&warm)["upstreamCalls"], 0);
    assert!(gatehouse(&warm)["dataAgeSeconds"].is_number());
    assert!(gatehouse(&warm)["estimatedCost"]["upstreamCalls"].is_number());
    rig.stop().await;
}

async fn cursors_page_through_a_list_exactly_once(backend: Backend) {
    for pagination in [
        synchro_sim::PaginationStyle::PageNumber,
        synchro_sim::PaginationStyle::Continuation,
    ] {
        let upstream = match pagination {
            synchro_sim::PaginationStyle::PageNumber => "pagination = \"page_number\"",
            synchro_sim::PaginationStyle::Continuation => "pagination = \"continuation\"",
        };
        let rig = SimApp::start(
            backend,
            SimConfig {
                pagination,
                ..SimConfig::default()
            },
            "",
            upstream,
        )
        .await;
        let project = rig.projects[0].clone();
        let (_, key) = rig.app.create_key(all_reads(&project)).await;
        let query = "query($p: ID!, $after: String) { project(id: $p) { events(first: 7, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }";
        let mut after = Value::Null;
        let mut ids = Vec::new();
        for page in 0.. {
            let (status, body) = rig
                .app
                .graphql(Some(&key), query, json!({ "p": project, "after": after }))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let events = &body["data"]["project"]["events"];
            assert_eq!(events["pageInfo"]["hasPreviousPage"], page > 0);
            for edge in events["edges"].as_array().expect("edges") {
                ids.push(edge["node"]["id"].as_str().expect("id").to_owned());
            }
            if events["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = events["pageInfo"]["endCursor"].clone();
            assert!(page < 20, "paging must end");
        }
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "no event twice");
        assert_eq!(ids.len(), 40, "every event of the project once");
        let (_, body) = rig
            .app
            .graphql(
                Some(&key),
                query,
                json!({ "p": project, "after": "tampered" }),
            )
            .await;
        assert_eq!(first_error_code(&body), Some("BAD_USER_INPUT"));
        rig.stop().await;
    }
}

backend_tests!(
    cursors_page_through_a_list_exactly_once,
    concurrent_identical_cold_queries_make_one_upstream_call,
    a_nested_query_costs_calls_bounded_by_its_depth_not_its_rows,
    keys_with_different_scopes_never_see_each_others_data,
    an_operation_outside_scope_is_refused_before_any_upstream_call,
    a_write_invalidates_the_cached_entity,
    stale_data_stands_in_for_a_down_upstream_within_the_bound_only,
    a_write_retried_with_the_same_key_creates_one_record,
    upstream_validation_errors_come_back_per_field,
    costly_and_analytical_questions_are_refused_with_a_hint,
    each_key_has_a_rate_limit_with_a_retry_hint,
    every_response_says_where_its_data_came_from,
);
