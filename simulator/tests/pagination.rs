//! Both pagination styles yield every record exactly once.

// Test helpers unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use common::{Harness, by_continuation, by_page_number, error_code};
use proptest::prelude::*;
use synchro_sim::{PaginationStyle, SimConfig};

fn continuation() -> SimConfig {
    SimConfig {
        pagination: PaginationStyle::Continuation,
        ..SimConfig::default()
    }
}

fn assert_unique(ids: &[String]) {
    let set: HashSet<&String> = ids.iter().collect();
    assert_eq!(set.len(), ids.len(), "no record is served twice");
}

fn truth_events(h: &Harness) -> Vec<String> {
    let data = h.sim.state().project(h.project).unwrap().read();
    data.events.iter().map(|e| e.id.to_string()).collect()
}

#[test]
fn page_number_paging_yields_every_record_once_for_any_page_size() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let h = rt.block_on(Harness::default());
    let truth = truth_events(&h);
    proptest!(ProptestConfig::with_cases(24), |(per_page in 1u32..=60)| {
        let ids = rt.block_on(by_page_number(&h, "/events", per_page));
        assert_unique(&ids);
        prop_assert_eq!(&ids, &truth);
    });
}

#[test]
fn continuation_paging_yields_every_record_once_for_any_page_size() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let h = rt.block_on(Harness::start(continuation()));
    let truth = truth_events(&h);
    proptest!(ProptestConfig::with_cases(24), |(page_size in 1u32..=60)| {
        let ids = rt.block_on(by_continuation(&h, "/events", page_size));
        assert_unique(&ids);
        prop_assert_eq!(&ids, &truth);
    });
}

/// Deletes a few seeded usages and adds one, the same way on both simulators.
async fn edit_usages(h: &Harness) {
    let page = h
        .get_json(&h.url("/resource_usages?from=2025-02-01&to=2025-02-28"))
        .await;
    let page = match page.get("items") {
        Some(items) => items.clone(),
        None => page,
    };
    for index in [0usize, 3, 4, 17] {
        let id = page[index]["id"].as_str().unwrap();
        let response = h
            .http
            .delete(h.url(&format!("/resource_usages/{id}")))
            .bearer_auth(&h.write)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    let first = &page[1];
    let body = serde_json::json!({"work_date": "2025-02-10", "resource_id": first["resource_id"],
        "work_reference_id": first["work_reference_id"], "usage_code_id": first["usage_code_id"], "quantity": 2.0});
    assert_eq!(
        h.post_json(&h.url("/resource_usages"), &h.write, &body)
            .await
            .status(),
        201
    );
}

#[tokio::test]
async fn both_styles_agree_on_filtered_usages_with_deletions_and_creations() {
    let numbered = Harness::default().await;
    let continued = Harness::start(continuation()).await;
    edit_usages(&numbered).await;
    edit_usages(&continued).await;
    for path in [
        "/resource_usages?from=2025-02-01&to=2025-02-28",
        "/resource_usages?from=2025-02-01&to=2025-02-28&approval_status=approved",
        "/attendance?from=2025-01-20&to=2025-03-01",
    ] {
        let a = by_page_number(&numbered, path, 37).await;
        let b = by_continuation(&continued, path, 41).await;
        let c = by_page_number(&numbered, path, 200).await;
        assert_unique(&a);
        assert!(!a.is_empty());
        assert_eq!(a, b, "{path}");
        assert_eq!(a, c, "{path}");
    }
}

#[tokio::test]
async fn a_tampered_continuation_token_is_refused() {
    let h = Harness::start(continuation()).await;
    let body = h.get_json(&h.url("/events?pageSize=5")).await;
    let href = body["_links"]["next"]["href"].as_str().unwrap().to_owned();
    let (base, token) = href.split_once("continuationToken=").unwrap();
    assert_eq!(h.get(&h.root(&href), &h.read).await.status(), 200);
    let mut chars: Vec<char> = token.chars().collect();
    chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    for bad in [tampered.as_str(), "garbage", "AAAA"] {
        let response = h
            .get(&h.root(&format!("{base}continuationToken={bad}")), &h.read)
            .await;
        assert_eq!(response.status(), 400);
        assert_eq!(error_code(response).await, "invalid_continuation_token");
    }
    // A token issued for one query is not valid for another.
    let other = h.url(&format!(
        "/events?activity_id={}&pageSize=5&continuationToken={token}",
        uuid::Uuid::nil()
    ));
    assert_eq!(h.get(&other, &h.read).await.status(), 400);
    // Page-number parameters are not part of the continuation style.
    assert_eq!(h.get(&h.url("/events?page=2"), &h.read).await.status(), 400);
}
