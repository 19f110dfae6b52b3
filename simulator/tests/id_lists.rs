//! Id lists: every id-valued filter takes up to 100 ids, and `ids` fetches records by id, so a
//! batching loader pays one paged call per level of a nested query, not one per row.

// Test helpers unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{HashMap, HashSet};

use common::{Harness, by_continuation, by_page_number, error_code};
use proptest::prelude::*;
use serde_json::{Value, json};
use synchro_sim::{PaginationStyle, SimConfig};
use uuid::Uuid;

fn continuation() -> SimConfig {
    SimConfig {
        pagination: PaginationStyle::Continuation,
        ..SimConfig::default()
    }
}

const COLLECTIONS: [&str; 17] = [
    "activities",
    "events",
    "people",
    "equipment",
    "other_resources",
    "resource_assignments",
    "companies",
    "work_roles",
    "usage_codes",
    "rate_codes",
    "applicable_rates",
    "resource_usages",
    "attendance",
    "dockets",
    "competencies",
    "progress_entries",
    "attachments",
];

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_owned()
}

fn ids(records: &[Value]) -> Vec<String> {
    records.iter().map(id).collect()
}

/// Every record of a collection, in its stable order (page-number harness only).
async fn everything(h: &Harness, collection: &str) -> Vec<Value> {
    h.all_pages(&h.url(&format!("/{collection}?per_page=200")))
        .await
}

/// Distinct values of a field, in first-seen order, at most `n`.
fn distinct(records: &[Value], field: &str, n: usize) -> Vec<String> {
    let mut seen = Vec::new();
    for r in records {
        let v = r[field].as_str().unwrap().to_owned();
        if !seen.contains(&v) {
            seen.push(v);
            if seen.len() == n {
                break;
            }
        }
    }
    seen
}

/// Asserts that `filter=v1,v2,...` returns exactly the union of the `filter=vi` results, in
/// the collection's stable order.
async fn assert_union(
    h: &Harness,
    (collection, all): (&str, &[Value]),
    filter: &str,
    field: &str,
    values: &[String],
) {
    assert!(
        values.len() >= 2,
        "{collection}.{field}: need several values"
    );
    let order: HashMap<String, usize> = ids(all)
        .into_iter()
        .enumerate()
        .map(|(n, id)| (id, n))
        .collect();
    // An id that names nothing widens nothing.
    let mut listed: Vec<String> = values.to_vec();
    listed.insert(1, Uuid::from_u128(7).to_string());
    let list = h
        .all_pages(&h.url(&format!(
            "/{collection}?{filter}={}&per_page=200",
            listed.join(",")
        )))
        .await;
    assert!(!list.is_empty(), "{collection}?{filter}");
    let positions: Vec<usize> = list.iter().map(|r| order[&id(r)]).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "{collection}?{filter}: stable order, each record once"
    );
    let mut total = 0;
    for value in values {
        let single = h
            .all_pages(&h.url(&format!("/{collection}?{filter}={value}&per_page=200")))
            .await;
        assert!(!single.is_empty(), "{collection}?{filter}={value}");
        let from_list: Vec<String> = list
            .iter()
            .filter(|r| r[field] == value.as_str())
            .map(id)
            .collect();
        assert_eq!(from_list, ids(&single), "{collection}?{filter}={value}");
        total += single.len();
    }
    assert_eq!(list.len(), total, "{collection}?{filter}: nothing else");
}

#[tokio::test]
async fn a_list_filter_returns_the_union_of_the_single_id_results() {
    let h = Harness::default().await;
    let usages = everything(&h, "resource_usages").await;
    let resources = distinct(&usages, "resource_id", 3);
    assert_union(
        &h,
        ("resource_usages", &usages),
        "resource_id",
        "resource_id",
        &resources,
    )
    .await;
    let companies = distinct(&usages, "company_id", 2);
    assert_union(
        &h,
        ("resource_usages", &usages),
        "company_id",
        "company_id",
        &companies,
    )
    .await;
    let mut references = distinct(&usages, "work_reference_id", 2);
    let on_event = usages
        .iter()
        .find(|u| u["work_reference_type"] == "event")
        .unwrap();
    references.push(on_event["work_reference_id"].as_str().unwrap().to_owned());
    assert_union(
        &h,
        ("resource_usages", &usages),
        "work_reference_id",
        "work_reference_id",
        &references,
    )
    .await;

    for (collection, filter, field) in [
        ("events", "activity_id", "activity_id"),
        ("equipment", "company_id", "company_id"),
        ("resource_assignments", "resource_id", "resource_id"),
        ("resource_assignments", "company_id", "company_id"),
        ("applicable_rates", "resource_id", "resource_id"),
        ("attendance", "resource_id", "person_id"),
        ("attendance", "company_id", "company_id"),
        ("dockets", "company_id", "company_id"),
        ("competencies", "resource_id", "person_id"),
        ("progress_entries", "activity_id", "activity_id"),
        ("attachments", "parent_id", "parent_id"),
    ] {
        let records = everything(&h, collection).await;
        let values = distinct(&records, field, 3);
        assert_union(&h, (collection, &records), filter, field, &values).await;
    }
}

/// About `n` records spread over the whole collection.
fn spread(records: &[Value], n: usize) -> Vec<String> {
    let step = (records.len() / n).max(1);
    records.iter().step_by(step).take(n).map(id).collect()
}

#[tokio::test]
async fn ids_return_exactly_those_records_across_page_boundaries_in_both_styles() {
    let numbered = Harness::default().await;
    let continued = Harness::start(continuation()).await;
    for collection in COLLECTIONS {
        let records = everything(&numbered, collection).await;
        assert!(!records.is_empty(), "{collection}");
        let wanted = spread(&records, 23);
        // Asked for out of order, with a repeat and an id that names nothing.
        let mut asked: Vec<String> = wanted.iter().rev().cloned().collect();
        asked.push(wanted[0].clone());
        asked.push(Uuid::from_u128(42).to_string());
        let path = format!("/{collection}?ids={}", asked.join(","));
        for page_size in [1, 4, 200] {
            let a = by_page_number(&numbered, &path, page_size).await;
            assert_eq!(a, wanted, "{collection}, page-number {page_size}");
            let b = by_continuation(&continued, &path, page_size).await;
            assert_eq!(b, wanted, "{collection}, continuation {page_size}");
        }
    }
}

#[tokio::test]
async fn ids_combine_with_the_other_filters() {
    let h = Harness::default().await;
    let usages = everything(&h, "resource_usages").await;
    let wanted = spread(&usages, 60);
    let path = format!(
        "/resource_usages?ids={}&approval_status=approved&from=2025-01-06&to=2025-03-07",
        wanted.join(",")
    );
    let expected: Vec<String> = usages
        .iter()
        .filter(|u| wanted.contains(&id(u)))
        .filter(|u| u["approval_status"] == "approved")
        .filter(|u| {
            let date = u["work_date"].as_str().unwrap();
            ("2025-01-06"..="2025-03-07").contains(&date)
        })
        .map(id)
        .collect();
    assert!(!expected.is_empty() && expected.len() < wanted.len());
    assert_eq!(by_page_number(&h, &path, 7).await, expected);
}

#[tokio::test]
async fn a_hundred_and_one_ids_are_refused_with_422() {
    let h = Harness::default().await;
    let list = |n: u128| {
        (1..=n)
            .map(|i| Uuid::from_u128(i).to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    for parameter in ["ids", "work_reference_id", "resource_id", "company_id"] {
        let ok = h
            .get(
                &h.url(&format!("/resource_usages?{parameter}={}", list(100))),
                &h.read,
            )
            .await;
        assert_eq!(ok.status(), 200, "{parameter} with 100");
        let response = h
            .get(
                &h.url(&format!("/resource_usages?{parameter}={}", list(101))),
                &h.read,
            )
            .await;
        assert_eq!(response.status(), 422, "{parameter} with 101");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(
            body["error"]["details"],
            json!({"parameter": parameter, "max": 100, "given": 101})
        );
    }
    let response = h
        .get(&h.url(&format!("/people?ids={}", list(150))), &h.read)
        .await;
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn a_malformed_or_empty_id_in_a_list_is_refused_with_400() {
    let h = Harness::default().await;
    let good = Uuid::from_u128(1).to_string();
    for (path, bad) in [
        (format!("/activities?ids={good},not-a-uuid"), "not-a-uuid"),
        (format!("/events?activity_id=zzz,{good}"), "zzz"),
        (format!("/attachments?parent_id={good},{good}x"), "x"),
        (format!("/companies?ids={good},,{good}"), ""),
        (format!("/companies?ids={good},"), ""),
        ("/companies?ids=".to_owned(), ""),
    ] {
        let response = h.get(&h.url(&path), &h.read).await;
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_parameter", "{path}");
        let value = body["error"]["details"]["value"].as_str().unwrap();
        assert!(value.ends_with(bad), "{path}: names `{value}`");
        if !bad.is_empty() {
            assert!(body["error"]["message"].as_str().unwrap().contains(bad));
        }
    }
}

/// Deletes seeded row `deleted` and creates a usage like `template`; returns the new id.
async fn delete_and_create(h: &Harness, deleted: &str, template: &Value) -> String {
    let response = h
        .http
        .delete(h.url(&format!("/resource_usages/{deleted}")))
        .bearer_auth(&h.write)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let body = json!({"work_date": "2025-02-10", "resource_id": template["resource_id"],
        "work_reference_id": template["work_reference_id"],
        "usage_code_id": template["usage_code_id"], "quantity": 2.5});
    let response = h
        .post_json(&h.url("/resource_usages"), &h.write, &body)
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    id(&created)
}

#[tokio::test]
async fn ids_on_resource_usages_find_generated_and_created_rows() {
    for h in [
        Harness::default().await,
        Harness::start(continuation()).await,
    ] {
        let style = h.sim.state().config().pagination;
        let page = h
            .get_json(&h.url("/resource_usages?from=2025-02-01&to=2025-02-28"))
            .await;
        let page = page.get("items").cloned().unwrap_or(page);
        let (a, b, gone) = (id(&page[2]), id(&page[30]), id(&page[5]));
        let created = delete_and_create(&h, &gone, &page[2]).await;
        let last_seeded = {
            let data = h.sim.state().project(h.project).unwrap().read();
            let generator = &data.usages.generator;
            generator.id_of(generator.len() - 1).to_string()
        };
        let elsewhere = {
            let data = h.sim.state().project(h.other_project).unwrap().read();
            data.usages.generator.id_of(2).to_string()
        };
        let asked = [&created, &b, &gone, &elsewhere, &last_seeded, &a].map(|s| s.as_str());
        let path = format!("/resource_usages?ids={}", asked.join(","));
        let expected = vec![a.clone(), b.clone(), last_seeded.clone(), created.clone()];
        let got = match style {
            PaginationStyle::PageNumber => by_page_number(&h, &path, 1).await,
            PaginationStyle::Continuation => by_continuation(&h, &path, 1).await,
        };
        assert_eq!(got, expected, "{style:?}: seeded in order, then created");
        // The created row passes the other filters like any row.
        let path = format!(
            "/resource_usages?ids={}&approval_status=unapproved&from=2025-02-10&to=2025-02-10",
            asked.join(",")
        );
        let got = match style {
            PaginationStyle::PageNumber => by_page_number(&h, &path, 2).await,
            PaginationStyle::Continuation => by_continuation(&h, &path, 2).await,
        };
        assert!(got.contains(&created), "{style:?}");
        assert!(!got.contains(&last_seeded), "{style:?}");
    }
}

#[tokio::test]
async fn a_continuation_token_is_bound_to_its_id_list() {
    let h = Harness::start(continuation()).await;
    let events = h
        .sim
        .state()
        .project(h.project)
        .unwrap()
        .read()
        .events
        .clone();
    let [a, b, c] = [0, 5, 9].map(|i| events[i].id.to_string());
    let first = h
        .get_json(&h.url(&format!("/events?ids={a},{b}&pageSize=1")))
        .await;
    let href = first["_links"]["next"]["href"].as_str().unwrap();
    assert_eq!(h.get(&h.root(href), &h.read).await.status(), 200);
    let token = href.split("continuationToken=").nth(1).unwrap();
    let other = h.url(&format!(
        "/events?ids={a},{c}&pageSize=1&continuationToken={token}"
    ));
    let response = h.get(&other, &h.read).await;
    assert_eq!(response.status(), 400);
    assert_eq!(error_code(response).await, "invalid_continuation_token");
}

#[tokio::test]
async fn the_docs_say_filters_take_lists_and_every_list_takes_ids() {
    let h = Harness::default().await;
    let doc: Value = h
        .http
        .get(h.root("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for collection in COLLECTIONS {
        let path = format!("/api/v1/projects/{{project_id}}/{collection}");
        let params = doc["paths"][&path]["get"]["parameters"].as_array().unwrap();
        let ids = params.iter().find(|p| p["name"] == "ids").unwrap();
        assert!(ids["description"].as_str().unwrap().contains("up to 100"));
        let description = doc["paths"][&path]["get"]["description"].as_str().unwrap();
        assert!(description.contains("ids"), "{collection}");
    }
    let path = "/api/v1/projects/{project_id}/resource_usages";
    let params = doc["paths"][path]["get"]["parameters"].as_array().unwrap();
    let resource = params.iter().find(|p| p["name"] == "resource_id").unwrap();
    assert!(
        resource["description"]
            .as_str()
            .unwrap()
            .contains("Comma-separated")
    );
}

/// The universes the property draws from: every record of a few collections, in their stable
/// order, read from the simulator's state (after a deletion and a creation among the usages).
async fn universes(h: &Harness) -> Vec<(&'static str, Vec<String>)> {
    let page = h
        .get_json(&h.url("/resource_usages?from=2025-02-01&to=2025-02-28"))
        .await;
    let page = page.get("items").cloned().unwrap_or(page);
    delete_and_create(h, &id(&page[3]), &page[4]).await;
    let data = h.sim.state().project(h.project).unwrap().read();
    let store = &data.usages;
    let usages: Vec<String> = (0..store.generator.len())
        .filter(|i| !store.deleted.contains(i))
        .map(|i| store.generator.id_of(i).to_string())
        .chain(store.created.iter().map(|u| u.id.to_string()))
        .collect();
    let attendance = data.attendance.iter().map(|a| a.id.to_string()).collect();
    let activities = data.activities.iter().map(|a| a.id.to_string()).collect();
    vec![
        ("resource_usages", usages),
        ("attendance", attendance),
        ("activities", activities),
    ]
}

fn random_subsets_page_exactly(config: SimConfig) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let h = rt.block_on(Harness::start(config));
    let style = h.sim.state().config().pagination;
    let universes = rt.block_on(universes(&h));
    let strategy = (0..universes.len()).prop_flat_map(|u| {
        let len = universes[u].1.len();
        (
            Just(u),
            proptest::sample::subsequence((0..len).collect::<Vec<_>>(), 1..=100).prop_shuffle(),
            1u32..=40,
        )
    });
    proptest!(ProptestConfig::with_cases(32), |((u, picked, page_size) in strategy)| {
        let (collection, universe) = &universes[u];
        let asked: Vec<&str> = picked.iter().map(|i| universe[*i].as_str()).collect();
        let mut sorted = picked.clone();
        sorted.sort_unstable();
        let expected: Vec<String> = sorted.iter().map(|i| universe[*i].clone()).collect();
        let path = format!("/{collection}?ids={}", asked.join(","));
        let got = rt.block_on(async {
            match style {
                PaginationStyle::PageNumber => by_page_number(&h, &path, page_size).await,
                PaginationStyle::Continuation => by_continuation(&h, &path, page_size).await,
            }
        });
        let unique: HashSet<&String> = got.iter().collect();
        prop_assert_eq!(unique.len(), got.len(), "each record once");
        prop_assert_eq!(got, expected);
    });
}

#[test]
fn paging_a_random_subset_of_ids_by_page_number_returns_exactly_the_subset_once() {
    random_subsets_page_exactly(SimConfig::default());
}

#[test]
fn paging_a_random_subset_of_ids_by_continuation_returns_exactly_the_subset_once() {
    random_subsets_page_exactly(continuation());
}
