//! The usage reports and dataclips pages, server-side (no browser): who may open them and post
//! their forms, the form's field errors with the input kept, the report in the layout with its
//! charts and findings, acknowledging an alert, and an admin's refresh of a clip (accepted and
//! audited, or refused inside the floor with the reason shown), on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use chrono::Utc;
use gatehouse::documents::charts;
use gatehouse_core::auth::Role;
use gatehouse_core::metering::alerts;
use gatehouse_tests::clips::{dataclips_toml, simulator};
use gatehouse_tests::usage::{DAY, PROJECT, crafted_config, crafted_config_with, record_volume};
use gatehouse_tests::web::{Answer, WebClient};
use gatehouse_tests::{Backend, TestApp, backend_tests};
use reqwest::StatusCode;
use synchro_sim::SimConfig;
use uuid::Uuid;

const CLIP: &str = "activity-export";

/// Attribute values as handlebars writes them, read back as the browser would.
fn unescape(html: &str) -> String {
    html.replace("&#x3D;", "=").replace("&amp;", "&")
}

/// The ids of the alerts the page offers to acknowledge.
fn acknowledgeable(page: &Answer) -> Vec<String> {
    page.body
        .split("action=\"/reports/alerts/")
        .skip(1)
        .filter_map(|rest| rest.split('/').next())
        .map(str::to_owned)
        .collect()
}

async fn audit_count(app: &TestApp) -> usize {
    gatehouse_core::audit::recent(&app.app.services.db, 100_000)
        .await
        .expect("audit log")
        .len()
}

/// The app with today's crafted traffic of [`PROJECT`] evaluated by the metering job, which
/// raises three alerts (two findings and the daily threshold); returns it and today.
async fn app_with_alerts(backend: Backend) -> (TestApp, String) {
    let app = TestApp::start_with(backend, &crafted_config_with("alert_daily_calls = 200\n")).await;
    let today = Utc::now().date_naive().to_string();
    record_volume(&app, &today).await;
    let services = &app.app.services;
    services
        .metering
        .run_job(&services.db, &[])
        .await
        .expect("metering job");
    (app, today)
}

async fn contacts_and_visitors_are_kept_off_both_pages_and_their_forms(backend: Backend) {
    let (app, today) = app_with_alerts(backend).await;
    let services = &app.app.services;
    let alert = alerts::list(&services.db, Some(PROJECT), None, 10)
        .await
        .expect("alerts")
        .first()
        .expect("an alert was raised")
        .id;

    let visitor = WebClient::anonymous(&app);
    for path in ["/reports", "/dataclips"] {
        let page = visitor.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert!(page.location().starts_with("/login?next="), "{path}");
    }

    let contact = WebClient::signed_in(&app, &app.create_user(Role::Contact).await).await;
    let home = contact.get("/").await;
    assert!(
        !home.body.contains("href=\"/reports\"") && !home.body.contains("href=\"/dataclips\""),
        "a contact's navigation has no reviewer pages"
    );
    let csrf = home.csrf();
    for path in [
        format!("/reports?project_id={PROJECT}&from={today}&to={today}"),
        "/dataclips".to_owned(),
    ] {
        let page = contact.get(&path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!page.body.contains("<svg"), "{path}");
    }
    let before = audit_count(&app).await;
    let acknowledged = contact
        .post(
            &format!("/reports/alerts/{alert}/acknowledge"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(acknowledged.status, StatusCode::FORBIDDEN);
    let refreshed = refresh(&contact, &csrf, PROJECT, CLIP).await;
    assert_eq!(refreshed.status, StatusCode::FORBIDDEN);
    assert_eq!(audit_count(&app).await, before, "nothing changed");

    let reviewer = WebClient::signed_in(&app, &app.create_user(Role::Reviewer).await).await;
    let home = reviewer.get("/").await;
    assert!(home.body.contains("href=\"/reports\""));
    assert!(home.body.contains("href=\"/dataclips\""));
    app.stop().await;
}

async fn the_report_page_shows_totals_findings_charts_and_the_exports(backend: Backend) {
    let app = TestApp::start_with(backend, &crafted_config()).await;
    record_volume(&app, DAY).await;
    let reviewer = WebClient::signed_in(&app, &app.create_user(Role::Reviewer).await).await;

    let empty = reviewer.get("/reports").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("id=\"report-form\""));
    assert!(
        !empty.body.contains("field-error"),
        "a first visit is not an error"
    );
    assert!(!empty.body.contains("<svg"));

    let page = reviewer
        .get(&format!(
            "/reports?project_id={PROJECT}&from={DAY}&to={DAY}"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = unescape(&page.body);
    assert!(
        body.contains("<title>Usage reports · Gatehouse</title>"),
        "in the site layout"
    );
    assert!(
        body.contains(&format!("value=\"{PROJECT}\"")),
        "the form keeps the project"
    );
    assert!(
        body.contains("data-total=\"upstream_calls\">250<"),
        "totals"
    );
    assert!(
        body.contains("data-total=\"cache_hit_ratio\">"),
        "the cache's effect"
    );
    assert!(body.contains("data-total=\"calls_avoided\">0<"));
    // The findings, with severity and evidence.
    assert!(body.contains("data-finding=\"daily_calls_over_double_declared\""));
    assert!(body.contains("severity-critical\">critical<"));
    assert!(body.contains("<li>observed: 250</li>"));
    assert!(body.contains("<li>declared: 100</li>"));
    assert!(body.contains("data-finding=\"calls_outside_sync_window\""));
    // Both charts, inline, with their series.
    assert_eq!(body.matches("<svg").count(), 2, "two charts");
    assert!(body.contains(charts::LIVE_SERIES));
    assert!(body.contains(charts::ENDPOINT_SERIES));
    // The exports and the printable report, for the same report.
    let query = format!("project_id={PROJECT}&from={DAY}&to={DAY}");
    for export in [
        "/reports/usage?",
        "/reports/usage.csv?",
        "/reports/usage.json?",
    ] {
        let href = format!("href=\"{export}{query}\"");
        assert!(body.contains(&href), "{href}");
        let response = reviewer.get(&format!("{export}{query}")).await;
        assert_eq!(response.status, StatusCode::OK, "{export}");
    }
    assert!(body.contains("No alerts for this project."));
    app.stop().await;
}

async fn wrong_report_input_comes_back_beside_its_fields_as_typed(backend: Backend) {
    let app = TestApp::start(backend).await;
    let reviewer = WebClient::signed_in(&app, &app.create_user(Role::Reviewer).await).await;

    let page = reviewer
        .get("/reports?project_id=+&from=2025-13-01&to=yesterday&app_key_id=not-a-key")
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    let body = unescape(&page.body);
    for (id, message, typed) in [
        ("f-project-id", "is required", None),
        ("f-from", "must be a day as YYYY-MM-DD", Some("2025-13-01")),
        ("f-to", "must be a day as YYYY-MM-DD", Some("yesterday")),
        (
            "f-app-key-id",
            "is not a valid app key id",
            Some("not-a-key"),
        ),
    ] {
        let error = format!("id=\"{id}-error\" role=\"alert\">{message}</p>");
        assert!(body.contains(&error), "{error} in {body}");
        assert!(
            body.contains(&format!("aria-describedby=\"{id}-hint {id}-error\"")),
            "{id} names its error"
        );
        if let Some(typed) = typed {
            assert!(body.contains(&format!("value=\"{typed}\"")), "{typed} kept");
        }
        assert!(
            body.contains(&format!("href=\"#{id}\"")),
            "{id} in the summary"
        );
    }
    assert!(!body.contains("<svg"), "no report from wrong input");

    // A period the report refuses (reversed) is an error on the last day, input kept.
    let page = reviewer
        .get("/reports?project_id=7&from=2025-03-11&to=2025-03-01")
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = unescape(&page.body);
    assert!(body.contains("id=\"f-to-error\""), "{body}");
    assert!(body.contains("value=\"2025-03-11\"") && body.contains("value=\"2025-03-01\""));
    assert!(body.contains("value=\"7\""));
    app.stop().await;
}

async fn a_reviewer_acknowledges_an_alert_from_the_report_page_with_the_forms_token(
    backend: Backend,
) {
    let (app, today) = app_with_alerts(backend).await;
    let services = &app.app.services;
    let reviewer = WebClient::signed_in(&app, &app.create_user(Role::Reviewer).await).await;
    let report = format!("/reports?project_id={PROJECT}&from={today}&to={today}");
    let page = reviewer.get(&report).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let ids = acknowledgeable(&page);
    assert_eq!(ids.len(), 3, "three alerts raised: {ids:?}");
    assert!(page.body.contains("3 not acknowledged yet."));
    let id = ids[0].clone();
    let back = unescape(&gatehouse_tests::hidden_field(&page.body, "back").expect("back"));
    let action = format!("/reports/alerts/{id}/acknowledge");

    // Without the form's token, or with another, nothing changes.
    let before = audit_count(&app).await;
    for token in ["", "not-the-token-of-this-session-at-all-000"] {
        let refused = reviewer
            .post(&action, &[("csrf", token), ("back", back.as_str())])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{token:?}");
        assert!(refused.body.contains("Form expired"));
    }
    assert_eq!(audit_count(&app).await, before);
    let unacknowledged = alerts::list(&services.db, Some(PROJECT), Some(false), 10)
        .await
        .expect("alerts");
    assert_eq!(unacknowledged.len(), 3);

    let done = reviewer
        .post(
            &action,
            &[("csrf", page.csrf().as_str()), ("back", back.as_str())],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location(),
        format!(
            "/reports?project_id={PROJECT}&from={today}&to={today}&notice=alert_acknowledged#alerts"
        )
    );
    let after = reviewer.get(done.location()).await;
    assert!(after.body.contains("Alert acknowledged."));
    assert!(after.body.contains("2 not acknowledged yet."));
    assert!(!acknowledgeable(&after).contains(&id), "no button any more");
    let history = gatehouse_core::audit::history(&services.db, "usage_alert", &id)
        .await
        .expect("audit");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].action, "usage_alert.acknowledge");

    let missing = reviewer
        .post(
            &format!("/reports/alerts/{}/acknowledge", Uuid::new_v4()),
            &[("csrf", page.csrf().as_str())],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

/// Waits (polling, at most 60 s) until the clip has a snapshot.
async fn wait_for_snapshot(app: &TestApp) {
    let started = Instant::now();
    loop {
        let statuses = app
            .app
            .services
            .dataclips
            .status(None)
            .await
            .expect("status");
        if statuses.iter().all(|s| s.current.is_some()) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no snapshot: {statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The audit entries of the clip's manual refreshes.
async fn refresh_history(app: &TestApp, project: &str) -> Vec<gatehouse_core::audit::AuditEntry> {
    gatehouse_core::audit::history(
        &app.app.services.db,
        "dataclip",
        &format!("{project}/{CLIP}"),
    )
    .await
    .expect("history")
}

/// Posts the "Refresh now" form of `clip`, with `csrf` (none when empty).
async fn refresh(client: &WebClient, csrf: &str, project: &str, clip: &str) -> Answer {
    let mut fields = vec![("project_id", project), ("clip", clip)];
    if !csrf.is_empty() {
        fields.push(("csrf", csrf));
    }
    client.post("/dataclips/refresh", &fields).await
}

async fn the_dataclips_page_shows_each_clip_and_an_admin_refreshes_one(backend: Backend) {
    let (sim, project) = simulator(SimConfig::default()).await;
    let app = TestApp::start_with(backend, &dataclips_toml(&sim, project, &[CLIP], 3600, "")).await;
    wait_for_snapshot(&app).await;
    let project = project.to_string();
    let rows = app
        .app
        .services
        .dataclips
        .status(None)
        .await
        .expect("status")[0]
        .current
        .as_ref()
        .expect("a snapshot")
        .rows;

    let reviewer = WebClient::signed_in(&app, &app.create_user(Role::Reviewer).await).await;
    let page = reviewer.get("/dataclips").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!("data-clip=\"{CLIP}\"")));
    assert!(page.body.contains(&project));
    assert!(page.body.contains(&format!("<td>{rows}</td>")), "its rows");
    assert!(!page.body.contains("no snapshot yet"));
    assert!(
        !page.body.contains("action=\"/dataclips/refresh\""),
        "reviewers see, admins refresh"
    );
    let refused = refresh(&reviewer, &page.csrf(), &project, CLIP).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let admin_user = app.create_user(Role::Admin).await;
    let admin = WebClient::signed_in(&app, &admin_user).await;
    let page = admin.get("/dataclips").await;
    assert!(page.body.contains("action=\"/dataclips/refresh\""));
    let before = audit_count(&app).await;
    let refused = refresh(&admin, "", &project, CLIP).await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "no token, no refresh"
    );
    assert_eq!(audit_count(&app).await, before);

    let done = refresh(&admin, &page.csrf(), &project, CLIP).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/dataclips?notice=refresh_requested");
    let after = admin.get(done.location()).await;
    assert!(after.body.contains("Refresh requested"));
    assert!(after.body.contains("last manual refresh"));
    let history = refresh_history(&app, &project).await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0].action, "dataclip.refresh");
    assert_eq!(history[0].actor, format!("user:{}", admin_user.id));

    let unknown = refresh(&admin, &page.csrf(), &project, "no-such-clip").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    app.stop().await;
    sim.shutdown().await;
}

async fn a_refresh_inside_the_floor_is_refused_beside_its_clip(backend: Backend) {
    let (sim, project) = simulator(SimConfig::default()).await;
    let toml = dataclips_toml(&sim, project, &[CLIP], 3600, "").replace(
        "manual_refresh_floor_secs = 0",
        "manual_refresh_floor_secs = 3600",
    );
    let app = TestApp::start_with(backend, &toml).await;
    // The fetch at start-up was less than the floor ago.
    wait_for_snapshot(&app).await;
    let project = project.to_string();
    let admin = WebClient::signed_in(&app, &app.create_user(Role::Admin).await).await;
    let csrf = admin.csrf("/dataclips").await;
    let refused = refresh(&admin, &csrf, &project, CLIP).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    assert!(refused.body.contains("role=\"alert\""), "{}", refused.body);
    assert!(refused.body.contains("was not refreshed"));
    assert!(refused.body.contains("try again in"));
    assert!(
        refused
            .body
            .contains(&format!("data-clip=\"{CLIP}\" class=\"refused\""))
    );
    let history = refresh_history(&app, &project).await;
    assert!(history.is_empty(), "a refused refresh is not recorded");
    app.stop().await;
    sim.shutdown().await;
}

backend_tests!(
    contacts_and_visitors_are_kept_off_both_pages_and_their_forms,
    the_report_page_shows_totals_findings_charts_and_the_exports,
    wrong_report_input_comes_back_beside_its_fields_as_typed,
    a_reviewer_acknowledges_an_alert_from_the_report_page_with_the_forms_token,
    the_dataclips_page_shows_each_clip_and_an_admin_refreshes_one,
    a_refresh_inside_the_floor_is_refused_beside_its_clip,
);
