//! Authentication, scoping and validation rules of the REST API.

// Test helpers unwrap: a failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, error_code};
use serde_json::{Value, json};
use synchro_sim::Scope;

#[tokio::test]
async fn a_missing_or_unknown_token_gets_401() {
    let h = Harness::default().await;
    let url = h.url("/activities");
    let response = h.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(error_code(response).await, "unauthorized");
    let response = h.get(&url, "not-a-token").await;
    assert_eq!(response.status(), 401);
    let response = h
        .http
        .get(h.sim.api_url() + "/projects")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn another_projects_data_is_hidden_behind_404() {
    let h = Harness::default().await;
    let other = format!("{}/projects/{}", h.sim.api_url(), h.other_project);
    for path in ["", "/activities", "/resource_usages"] {
        let response = h.get(&format!("{other}{path}"), &h.read).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    // Even a write with a read token: existence is hidden before scope is checked.
    let response = h
        .post_json(&format!("{other}/events"), &h.read, &json!({}))
        .await;
    assert_eq!(response.status(), 404);
    // A record of another project, asked through the token's own project, is 404 too.
    let other_token = h.sim.create_token(h.other_project, Scope::Read).await;
    let other_activities: Vec<Value> = h
        .get(&format!("{other}/activities?per_page=1"), &other_token)
        .await
        .json()
        .await
        .unwrap();
    let foreign = other_activities[0]["id"].as_str().unwrap();
    let response = h
        .get(&h.url(&format!("/activities/{foreign}")), &h.read)
        .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_read_token_cannot_write() {
    let h = Harness::default().await;
    let response = h.post_json(&h.url("/events"), &h.read, &json!({})).await;
    assert_eq!(response.status(), 403);
    assert_eq!(error_code(response).await, "forbidden");
}

#[tokio::test]
async fn the_projects_list_shows_only_the_tokens_project() {
    let h = Harness::default().await;
    let list: Vec<Value> = h
        .get(&(h.sim.api_url() + "/projects"), &h.read)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], json!(h.project));
    let project = h.get_json(&h.url("")).await;
    assert_eq!(project["name"], list[0]["name"]);
    for key in [
        "status_type",
        "support_contact",
        "tags",
        "created_at",
        "updated_at",
    ] {
        assert!(project.get(key).is_some(), "{key}");
    }
}

#[tokio::test]
async fn a_window_longer_than_62_days_is_refused_with_422() {
    let h = Harness::default().await;
    let ok = h
        .get(
            &h.url("/resource_usages?from=2025-01-06&to=2025-03-08"),
            &h.read,
        )
        .await;
    assert_eq!(ok.status(), 200);
    for collection in [
        "resource_usages",
        "attendance",
        "dockets",
        "progress_entries",
    ] {
        let response = h
            .get(
                &h.url(&format!("/{collection}?from=2025-01-06&to=2025-03-09")),
                &h.read,
            )
            .await;
        assert_eq!(response.status(), 422, "{collection}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["details"]["max_days"], 62);
    }
    let reversed = h
        .get(&h.url("/attendance?from=2025-02-01&to=2025-01-01"), &h.read)
        .await;
    assert_eq!(reversed.status(), 422);
    let half = h.get(&h.url("/attendance?from=2025-02-01"), &h.read).await;
    assert_eq!(half.status(), 422);
}

#[tokio::test]
async fn unknown_or_malformed_filters_are_refused_with_details() {
    let h = Harness::default().await;
    let cases = [
        ("/activities?colour=red", 400, "unknown_parameter"),
        (
            "/activities?from=2025-01-01&to=2025-01-02",
            400,
            "unsupported_filter",
        ),
        (
            "/resource_usages?resource_id=nope",
            400,
            "invalid_parameter",
        ),
        (
            "/resource_usages?updated_since=yesterday",
            400,
            "invalid_parameter",
        ),
        (
            "/resource_usages?approval_status=maybe",
            422,
            "validation_failed",
        ),
        ("/activities?per_page=500", 422, "validation_failed"),
        ("/activities?page=0", 422, "validation_failed"),
        ("/activities?tag=a&tag=b", 400, "duplicate_parameter"),
    ];
    for (path, status, code) in cases {
        let response = h.get(&h.url(path), &h.read).await;
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(error_code(response).await, code, "{path}");
    }
}

#[tokio::test]
async fn extreme_values_get_an_answer_not_a_crash() {
    let h = Harness::default().await;
    for path in [
        "/activities?page=18446744073709551615&per_page=200",
        "/resource_usages?page=18446744073709551615&per_page=200",
        "/resource_usages?from=0001-01-01&to=0001-01-31",
        "/resource_usages?from=9999-12-01&to=9999-12-31",
        "/resource_usages?updated_since=0000-01-01T00:00:00Z",
        "/resource_usages?updated_since=9999-12-31T23:59:59Z",
    ] {
        let response = h.get(&h.url(path), &h.read).await;
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.unwrap();
        assert!(body.is_array(), "{path}");
    }
    let huge = json!({"endpoint": "*", "latency_ms": u64::MAX, "count": 0});
    let response = h
        .http
        .post(h.root("/_sim/faults"))
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(h.get(&h.url("/companies"), &h.read).await.status(), 200);
}

#[tokio::test]
async fn filters_narrow_the_lists() {
    let h = Harness::default().await;
    let activity = h
        .find("activities", |a| !a["tags"].as_array().unwrap().is_empty())
        .await;
    let tag = activity["tags"][0].as_str().unwrap();
    let tagged = h
        .all_pages(&h.url(&format!("/activities?tag={tag}&per_page=200")))
        .await;
    assert!(!tagged.is_empty());
    assert!(
        tagged
            .iter()
            .all(|a| a["tags"].as_array().unwrap().iter().any(|t| t == tag))
    );

    let usages = h
        .get_json(&h.url("/resource_usages?from=2025-02-01&to=2025-02-28&per_page=200"))
        .await;
    let usages = usages.as_array().unwrap();
    assert!(!usages.is_empty());
    assert!(
        usages
            .iter()
            .all(|u| u["work_date"].as_str().unwrap().starts_with("2025-02"))
    );
    let resource = usages[0]["resource_id"].as_str().unwrap();
    let mine = h
        .all_pages(&h.url(&format!(
            "/resource_usages?resource_id={resource}&per_page=200"
        )))
        .await;
    assert!(mine.iter().all(|u| u["resource_id"] == resource));
    let approved = h
        .all_pages(&h.url(
            "/resource_usages?approval_status=approved&from=2025-01-06&to=2025-02-20&per_page=200",
        ))
        .await;
    assert!(!approved.is_empty());
    assert!(approved.iter().all(|u| u["approval_status"] == "approved"));

    let since = "2025-03-01T00:00:00Z";
    let recent = h
        .all_pages(&h.url(&format!(
            "/resource_usages?updated_since={since}&per_page=200"
        )))
        .await;
    assert!(!recent.is_empty());
    assert!(
        recent
            .iter()
            .all(|u| u["updated_at"].as_str().unwrap() >= since)
    );
}

#[tokio::test]
async fn an_event_needs_exactly_one_existing_activity() {
    let h = Harness::default().await;
    let activities: Vec<Value> = h
        .get_json(&h.url("/activities?per_page=2"))
        .await
        .as_array()
        .unwrap()
        .clone();
    let (a, b) = (activities[0]["id"].clone(), activities[1]["id"].clone());
    for body in [
        json!({"reference_code": "EV-NEW-1", "name": "Crane down"}),
        json!({"reference_code": "EV-NEW-1", "name": "Crane down", "activity_ids": [a, b]}),
        json!({"reference_code": "EV-NEW-1", "name": "Crane down", "activity_ids": []}),
        json!({"reference_code": "EV-NEW-1", "name": "Crane down", "activity_id": uuid::Uuid::nil()}),
    ] {
        let response = h.post_json(&h.url("/events"), &h.write, &body).await;
        assert_eq!(response.status(), 422, "{body}");
    }
    let ok = h
        .post_json(
            &h.url("/events"),
            &h.write,
            &json!({"reference_code": "EV-NEW-1", "name": "Crane down", "activity_ids": [a]}),
        )
        .await;
    assert_eq!(ok.status(), 201);
    let event: Value = ok.json().await.unwrap();
    assert_eq!(event["activity_id"], a);
    let fetched = h
        .get_json(&h.url(&format!("/events/{}", event["id"].as_str().unwrap())))
        .await;
    assert_eq!(fetched, event);
    let again = h
        .post_json(
            &h.url("/events"),
            &h.write,
            &json!({"reference_code": "EV-NEW-1", "name": "Again", "activity_id": a}),
        )
        .await;
    assert_eq!(again.status(), 409);
    assert_eq!(error_code(again).await, "duplicate_reference_code");
}

#[tokio::test]
async fn a_duplicate_activity_reference_code_is_a_conflict() {
    let h = Harness::default().await;
    let existing = h.get_json(&h.url("/activities?per_page=1")).await[0]["reference_code"].clone();
    let body = json!({"reference_code": existing, "name": "Copy", "planned_start": "2025-02-01", "planned_finish": "2025-02-10"});
    let response = h.post_json(&h.url("/activities"), &h.write, &body).await;
    assert_eq!(response.status(), 409);
    let body = json!({"reference_code": "NEW-001", "name": "New work", "planned_start": "2025-02-01", "planned_finish": "2025-02-10",
                      "budget": {"labour_hours": 10.0, "quantity": 5.0, "cost": 500.0}});
    let response = h.post_json(&h.url("/activities"), &h.write, &body).await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["planned"]["current_start"], "2025-02-01");
    let bad = json!({"reference_code": "NEW-002", "name": "Backwards", "planned_start": "2025-02-10", "planned_finish": "2025-02-01"});
    assert_eq!(
        h.post_json(&h.url("/activities"), &h.write, &bad)
            .await
            .status(),
        422
    );
    let unknown_field = json!({"reference_code": "NEW-003", "name": "x", "planned_start": "2025-02-10", "planned_finish": "2025-02-11", "colour": 1});
    assert_eq!(
        h.post_json(&h.url("/activities"), &h.write, &unknown_field)
            .await
            .status(),
        422
    );
}

fn budget_is_zero(activity: &Value) -> bool {
    let b = &activity["budget_at_complete"]["current_estimate"];
    b["labour_hours"] == 0.0 && b["quantity"] == 0.0 && b["cost"] == 0.0
}

#[tokio::test]
async fn progress_is_refused_on_a_zero_budget_activity_and_needs_exactly_one_measure() {
    let h = Harness::default().await;
    let zero = h.find("activities", budget_is_zero).await;
    let funded = h.find("activities", |a| !budget_is_zero(a)).await;
    let url = h.url("/progress_entries");
    let response = h
        .post_json(&url, &h.write, &json!({"activity_id": zero["id"], "progress_date": "2025-02-01", "percent_complete": 10.0}))
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(error_code(response).await, "activity_budget_zero");
    let two = json!({"activity_id": funded["id"], "progress_date": "2025-02-01", "percent_complete": 10.0, "quantity_delta": 1.0});
    assert_eq!(h.post_json(&url, &h.write, &two).await.status(), 422);
    let none = json!({"activity_id": funded["id"], "progress_date": "2025-02-01"});
    assert_eq!(h.post_json(&url, &h.write, &none).await.status(), 422);
    let ok = json!({"activity_id": funded["id"], "progress_date": "2025-02-01", "percent_complete": 42.5});
    let response = h.post_json(&url, &h.write, &ok).await;
    assert_eq!(response.status(), 201);
    let activity = h
        .get_json(&h.url(&format!("/activities/{}", funded["id"].as_str().unwrap())))
        .await;
    assert_eq!(activity["percent_complete"], 42.5);
}

async fn act(h: &Harness, id: &Value, action: &str) -> reqwest::Response {
    let url = h.url(&format!("/dockets/{}/actions", id.as_str().unwrap()));
    h.post_json(&url, &h.write, &json!({"action": action}))
        .await
}

async fn total(h: &Harness) -> u64 {
    let response = h.get(&h.url("/resource_usages?per_page=1"), &h.read).await;
    response.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn dockets_follow_their_status_machine() {
    let h = Harness::default().await;
    let submitted = h
        .all_pages(&h.url("/dockets?approval_status=submitted&per_page=200"))
        .await;
    assert!(submitted.len() >= 3);
    for (docket, action, status) in [
        (&submitted[0], "receive", "received"),
        (&submitted[1], "reject", "rejected"),
        (&submitted[2], "approve", "approved"),
    ] {
        let response = act(&h, &docket["id"], action).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], status);
        let again = act(&h, &docket["id"], "approve").await;
        assert_eq!(again.status(), 409);
        assert_eq!(error_code(again).await, "invalid_transition");
    }
    assert_eq!(act(&h, &submitted[3]["id"], "shred").await.status(), 422);
    let response = h
        .post_json(
            &h.url(&format!("/dockets/{}/actions", uuid::Uuid::nil())),
            &h.write,
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn activities_can_be_patched_and_bad_dates_are_refused() {
    let h = Harness::default().await;
    let activity = h.get_json(&h.url("/activities?per_page=1")).await[0].clone();
    let url = h.url(&format!("/activities/{}", activity["id"].as_str().unwrap()));
    let patch = json!({"percent_complete": 55.0, "expected_finish": {"date": "2025-06-30", "time": "16:00:00"},
                       "planned": {"current_finish": "2025-07-01"}});
    let response = h
        .http
        .patch(&url)
        .bearer_auth(&h.write)
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["percent_complete"], 55.0);
    assert_eq!(updated["expected_finish"]["date"], "2025-06-30");
    assert_eq!(updated["planned"]["current_finish"], "2025-07-01");
    assert!(updated["updated_at"].as_str().unwrap() > activity["updated_at"].as_str().unwrap());
    let since = h
        .all_pages(&h.url(&format!(
            "/activities?updated_since={}&per_page=200",
            updated["updated_at"].as_str().unwrap()
        )))
        .await;
    assert!(since.iter().any(|a| a["id"] == activity["id"]));
    for bad in [
        json!({"percent_complete": 101}),
        json!({"planned": {"current_finish": "2000-01-01"}}),
        json!({}),
        json!({"name": "x"}),
    ] {
        let response = h
            .http
            .patch(&url)
            .bearer_auth(&h.write)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{bad}");
    }
    let cleared = h
        .http
        .patch(&url)
        .bearer_auth(&h.write)
        .json(&json!({"expected_finish": null}))
        .send()
        .await
        .unwrap();
    let cleared: Value = cleared.json().await.unwrap();
    assert!(cleared["expected_finish"].is_null());
}

#[tokio::test]
async fn usages_can_be_created_fetched_and_deleted() {
    let h = Harness::default().await;
    let seeded = h.get_json(&h.url("/resource_usages?per_page=1")).await[0].clone();
    let body = json!({
        "work_date": "2025-02-03", "resource_id": seeded["resource_id"], "work_reference_id": seeded["work_reference_id"],
        "usage_code_id": seeded["usage_code_id"], "start_time": "07:00:00", "end_time": "15:00:00", "break_minutes": 30, "quantity": 7.5
    });
    let response = h
        .post_json(&h.url("/resource_usages"), &h.write, &body)
        .await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["approval_status"], "unapproved");
    let created_url = h.url(&format!(
        "/resource_usages/{}",
        created["id"].as_str().unwrap()
    ));
    assert_eq!(h.get_json(&created_url).await, created);
    let seeded_url = h.url(&format!(
        "/resource_usages/{}",
        seeded["id"].as_str().unwrap()
    ));
    assert_eq!(h.get_json(&seeded_url).await, seeded);

    let before = total(&h).await;
    for url in [&seeded_url, &created_url] {
        let response = h
            .http
            .delete(url)
            .bearer_auth(&h.write)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        assert_eq!(h.get(url, &h.read).await.status(), 404);
        let response = h
            .http
            .delete(url)
            .bearer_auth(&h.write)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
    }
    assert_eq!(total(&h).await, before - 2);
    let bad = json!({"work_date": "2025-02-03", "resource_id": uuid::Uuid::nil(), "work_reference_id": seeded["work_reference_id"],
                     "usage_code_id": seeded["usage_code_id"], "quantity": 1.0});
    assert_eq!(
        h.post_json(&h.url("/resource_usages"), &h.write, &bad)
            .await
            .status(),
        422
    );
}

#[tokio::test]
async fn an_idempotency_key_is_accepted_and_ignored() {
    let h = Harness::default().await;
    let activity = h.get_json(&h.url("/activities?per_page=1")).await[0]["id"].clone();
    let body = json!({"reference_code": "EV-IDEM", "name": "n", "activity_id": activity});
    let response = h
        .http
        .post(h.url("/events"))
        .bearer_auth(&h.write)
        .header("Idempotency-Key", "k-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn every_collection_lists_and_gets_records_with_timestamps() {
    let h = Harness::default().await;
    for collection in [
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
    ] {
        let page = h
            .get_json(&h.url(&format!("/{collection}?per_page=3")))
            .await;
        let first = page
            .as_array()
            .unwrap()
            .first()
            .unwrap_or_else(|| panic!("{collection} is empty"))
            .clone();
        for key in ["id", "created_at", "updated_at"] {
            assert!(first.get(key).is_some(), "{collection}.{key}");
        }
        let id = first["id"].as_str().unwrap();
        assert_eq!(
            h.get_json(&h.url(&format!("/{collection}/{id}"))).await,
            first,
            "{collection}"
        );
        assert_eq!(
            h.get(
                &h.url(&format!("/{collection}/{}", uuid::Uuid::nil())),
                &h.read
            )
            .await
            .status(),
            404
        );
        assert_eq!(
            h.get(&h.url(&format!("/{collection}/not-a-uuid")), &h.read)
                .await
                .status(),
            404
        );
    }
    let attachment = h.get_json(&h.url("/attachments?per_page=1")).await[0].clone();
    let parent = attachment["parent_id"].as_str().unwrap();
    let children = h
        .all_pages(&h.url(&format!("/attachments?parent_id={parent}")))
        .await;
    assert!(children.iter().all(|a| a["parent_id"] == parent) && !children.is_empty());
    assert_eq!(h.get(&h.url("/nonsense"), &h.read).await.status(), 404);
}

#[tokio::test]
async fn tokens_can_be_created_through_the_harness_endpoint() {
    let h = Harness::default().await;
    let response = h
        .http
        .post(h.root("/_sim/tokens"))
        .json(&json!({"project_id": h.project, "scope": "read write", "token": "fixed-token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token"], "fixed-token");
    assert_eq!(
        h.get(&h.url("/activities?per_page=1"), "fixed-token")
            .await
            .status(),
        200
    );
    let bad = h
        .http
        .post(h.root("/_sim/tokens"))
        .json(&json!({"project_id": h.project, "scope": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let projects: Vec<Value> = h
        .http
        .get(h.root("/_sim/projects"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(projects.len(), 3);
    let _ = Scope::Read;
}
