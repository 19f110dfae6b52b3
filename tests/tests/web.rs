//! The web UI, server-side (no browser): every form's CSRF protection and validation, what each
//! role may see and do, the way back to a form after an expired session, the public
//! assessment, and a request's whole life through the pages, on SQLite and PostgreSQL.

use gatehouse_core::auth::Role;
use gatehouse_core::db::entities::{access_requests, sessions};
use gatehouse_tests::web::{
    WebClient, create_request, ready_request_fields, request_id, submitted_request, with_csrf,
};
use gatehouse_tests::{Backend, TestApp, TestUser, backend_tests};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

const VAULT_KEY: &str = "vault_key = \"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"\n";
/// Posted form fields.
type Fields = Vec<(String, String)>;

const TOKEN: &str = "SP-tok-web-4b1d9e-never-shown-again";

/// Every audit entry written so far: each change writes one, so an unchanged count means
/// nothing changed.
async fn changes(app: &TestApp) -> usize {
    gatehouse_core::audit::recent(&app.app.services.db, 100_000)
        .await
        .expect("audit log")
        .len()
}

async fn request_count(app: &TestApp) -> u64 {
    access_requests::Entity::find()
        .count(&app.app.services.db)
        .await
        .expect("count")
}

async fn status_of(app: &TestApp, id: &str) -> String {
    access_requests::Entity::find_by_id(uuid::Uuid::parse_str(id).expect("uuid"))
        .one(&app.app.services.db)
        .await
        .expect("query")
        .expect("request exists")
        .status
}

async fn people(app: &TestApp) -> (TestUser, TestUser, WebClient, WebClient) {
    let contact = app.create_user(Role::Contact).await;
    let reviewer = app.create_user(Role::Reviewer).await;
    let contact_web = WebClient::signed_in(app, &contact).await;
    let reviewer_web = WebClient::signed_in(app, &reviewer).await;
    (contact, reviewer, contact_web, reviewer_web)
}

async fn every_form_refuses_a_missing_or_wrong_csrf_token_and_changes_nothing(backend: Backend) {
    let app = TestApp::start_with(backend, VAULT_KEY).await;
    let (_, _, contact, reviewer) = people(&app).await;
    let id = submitted_request(&contact).await;
    let fields = ready_request_fields();
    let forms: Vec<(&WebClient, String, Fields)> = vec![
        (
            &contact,
            "/requests/new".into(),
            with_csrf(&fields, "", "save"),
        ),
        (
            &contact,
            format!("/requests/{id}/edit"),
            with_csrf(&fields, "", "save"),
        ),
        (&contact, format!("/requests/{id}/submit"), vec![]),
        (
            &contact,
            format!("/requests/{id}/comments"),
            vec![
                ("form".into(), "comment".into()),
                ("body".into(), "Hello".into()),
            ],
        ),
        (
            &reviewer,
            format!("/requests/{id}/review"),
            vec![
                ("form".into(), "review".into()),
                ("decision".into(), "approve".into()),
            ],
        ),
        (
            &reviewer,
            format!("/requests/{id}/filed"),
            vec![("reference".into(), "CS1".into())],
        ),
        (
            &reviewer,
            format!("/requests/{id}/tokens"),
            vec![
                ("projectId".into(), "1".into()),
                ("token".into(), TOKEN.into()),
                ("scope".into(), "read".into()),
                ("issuedOn".into(), "2026-01-01".into()),
            ],
        ),
        (
            &reviewer,
            format!("/requests/{id}/keys"),
            vec![("keyName".into(), "app".into())],
        ),
        (&reviewer, format!("/requests/{id}/activate"), vec![]),
        (
            &reviewer,
            format!("/requests/{id}/revoke"),
            vec![("reason".into(), "because".into())],
        ),
        (
            &reviewer,
            format!("/requests/{id}/keys/{}/revoke", uuid::Uuid::new_v4()),
            vec![],
        ),
        (&contact, "/logout".into(), vec![]),
        (&contact, "/assess".into(), fields.clone()),
    ];
    let before = changes(&app).await;
    for (client, path, fields) in forms {
        for token in [None, Some("not-the-token-of-this-session-at-all-000")] {
            let mut posted = fields.clone();
            posted.retain(|(k, _)| k != "csrf");
            if let Some(token) = token {
                posted.push(("csrf".into(), token.into()));
            }
            let answer = client.post(&path, &posted).await;
            assert_eq!(
                answer.status,
                StatusCode::FORBIDDEN,
                "POST {path} with csrf {token:?}: {}",
                answer.body
            );
        }
    }
    assert_eq!(
        changes(&app).await,
        before,
        "a refused form changes nothing"
    );
    assert_eq!(status_of(&app, &id).await, "in_review");
    assert_eq!(request_count(&app).await, 1);
    // Still signed in: the refused sign-out did not end the session.
    assert_eq!(contact.get("/requests").await.status, StatusCode::OK);

    // The sign-in form is protected too (double-submit cookie before sign-in).
    let stranger = WebClient::anonymous(&app);
    let refused = stranger
        .post(
            "/login",
            &[
                ("email", "x@example.com"),
                ("password", "x"),
                ("csrf", "forged"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // The public assessment stores nothing but still refuses a forged post, before reading it:
    // nothing of the post is echoed back.
    let refused = stranger
        .post("/check", &with_csrf(&fields, "forged", "assess"))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        !refused.body.contains("Site progress updates"),
        "input not echoed"
    );
    assert!(refused.body.contains("did not come from this page"));
    app.stop().await;
}

async fn invalid_fields_come_back_beside_their_fields_with_what_was_typed_kept(backend: Backend) {
    let app = TestApp::start(backend).await;
    let contact = app.create_user(Role::Contact).await;
    let web = WebClient::signed_in(&app, &contact).await;
    let mut fields = ready_request_fields();
    let set = |fields: &mut Vec<(String, String)>, name: &str, value: &str| {
        for (k, v) in fields.iter_mut() {
            if k == name {
                *v = value.to_owned();
            }
        }
    };
    set(
        &mut fields,
        "projectUrls",
        "https://acme.example.com/projects/1",
    );
    set(&mut fields, "projectContact.email", "joe at acme");
    set(&mut fields, "workflows[0].recordsPerRun", "about five");
    fields.push(("workflows[0].syncWindow".into(), "25:00-02:00".into()));
    let csrf = web.csrf("/requests/new").await;
    let answer = web
        .post("/requests/new", &with_csrf(&fields, &csrf, "save"))
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = &answer.body;
    for (id, typed) in [
        ("f-projectUrls", "https://acme.example.com/projects/1"),
        ("f-projectContact-email", "joe at acme"),
        ("f-workflows-0-recordsPerRun", "about five"),
    ] {
        assert!(
            page.contains(&format!("id=\"{id}-error\" role=\"alert\"")),
            "an error beside {id}"
        );
        assert!(
            page.contains(&format!("aria-describedby=\"{id}-error\""))
                || page.contains(&format!("{id}-hint {id}-error")),
            "{id} is described by its error"
        );
        assert!(page.contains(typed), "what was typed in {id} is kept");
    }
    assert!(page.contains("Line 1:"), "the URL's error names its line");
    assert!(page.contains("must be a whole number"));
    assert!(
        page.contains("href=\"#f-projectContact-email\""),
        "the summary links to the field"
    );
    assert_eq!(request_count(&app).await, 0, "nothing saved");

    // Once the form-level errors are fixed, the shared conversion's come back the same way.
    set(
        &mut fields,
        "projectUrls",
        "https://acme.e7.site/projects/1",
    );
    set(
        &mut fields,
        "projectContact.email",
        "joe.bloggs@acme-construction.com",
    );
    set(&mut fields, "workflows[0].recordsPerRun", "5");
    let answer = web
        .post("/requests/new", &with_csrf(&fields, &csrf, "save"))
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer
            .body
            .contains("id=\"f-workflows-0-syncWindow-error\"")
    );
    assert!(answer.body.contains("value=\"25:00-02:00\""));
    assert_eq!(request_count(&app).await, 0);
    app.stop().await;
}

async fn the_small_forms_report_their_field_errors_and_keep_the_input(backend: Backend) {
    let app = TestApp::start_with(backend, VAULT_KEY).await;
    let (_, _, contact, reviewer) = people(&app).await;
    let id = submitted_request(&contact).await;
    let page = format!("/requests/{id}");
    let csrf = reviewer.csrf(&page).await;

    // Requesting changes needs a comment: the field says so, the status does not move.
    let answer = reviewer
        .post(
            &format!("{page}/review"),
            &[
                ("csrf", csrf.as_str()),
                ("form", "review"),
                ("decision", "request_changes"),
                ("comment", "  "),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer
            .body
            .contains("id=\"f-comment-error\" role=\"alert\""),
        "{}",
        answer.body
    );
    assert_eq!(status_of(&app, &id).await, "in_review");

    let approved = reviewer
        .post(
            &format!("{page}/review"),
            &[
                ("csrf", csrf.as_str()),
                ("form", "review"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    let filed = reviewer
        .post(
            &format!("{page}/filed"),
            &[
                ("csrf", csrf.as_str()),
                ("form", "filed"),
                ("reference", "CS0042"),
            ],
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);

    // A token whose expiry is not a date: the date field says so and keeps what was typed;
    // the token itself is never echoed back.
    let answer = reviewer
        .post(
            &format!("{page}/tokens"),
            &[
                ("csrf", csrf.as_str()),
                ("form", "token"),
                ("projectId", "1"),
                ("token", TOKEN),
                ("scope", "read write"),
                ("issuedOn", "2026-01-10"),
                ("expiresOn", "next spring"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body.contains("id=\"f-expiresOn-error\""));
    assert!(answer.body.contains("value=\"next spring\""));
    assert!(!answer.body.contains(TOKEN), "a token is never rendered");
    // One the vault refuses (too short): the error lands on the token field.
    let answer = reviewer
        .post(
            &format!("{page}/tokens"),
            &[
                ("csrf", csrf.as_str()),
                ("form", "token"),
                ("projectId", "1"),
                ("token", "short"),
                ("scope", "read"),
                ("issuedOn", "2026-01-10"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer.body.contains("id=\"f-token-error\""),
        "{}",
        answer.body
    );
    assert_eq!(status_of(&app, &id).await, "submitted_to_bentley");

    // A key without a name.
    let answer = reviewer
        .post(
            &format!("{page}/keys"),
            &[("csrf", csrf.as_str()), ("form", "key"), ("keyName", " ")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body.contains("id=\"f-keyName-error\""));

    // An empty comment.
    let csrf = contact.csrf(&page).await;
    let answer = contact
        .post(
            &format!("{page}/comments"),
            &[("csrf", csrf.as_str()), ("form", "comment"), ("body", "")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body.contains("id=\"f-body-error\""));
    app.stop().await;
}

async fn a_contact_can_neither_see_nor_edit_another_contacts_request(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.create_user(Role::Contact).await;
    let other = app.create_user(Role::Contact).await;
    let owner_web = WebClient::signed_in(&app, &owner).await;
    let other_web = WebClient::signed_in(&app, &other).await;
    let id = create_request(&owner_web, &ready_request_fields()).await;

    for path in [
        format!("/requests/{id}"),
        format!("/requests/{id}/edit"),
        format!("/requests/{id}/drafts/support-request.md"),
    ] {
        assert_eq!(
            other_web.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "GET {path}"
        );
    }
    let mine = other_web.get("/requests").await;
    assert!(!mine.body.contains(&id), "another's request is not listed");

    let before = changes(&app).await;
    let csrf = other_web.csrf("/requests").await;
    let mut fields = with_csrf(&ready_request_fields(), &csrf, "save");
    fields.push(("integration.name".into(), "Hijacked".into()));
    for (path, fields) in [
        (format!("/requests/{id}/edit"), fields),
        (
            format!("/requests/{id}/submit"),
            vec![("csrf".into(), csrf.clone())],
        ),
        (
            format!("/requests/{id}/comments"),
            vec![("csrf".into(), csrf.clone()), ("body".into(), "hi".into())],
        ),
    ] {
        let answer = other_web.post(&path, &fields).await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "POST {path}: {}",
            answer.body
        );
    }
    assert_eq!(changes(&app).await, before);
    assert_eq!(status_of(&app, &id).await, "draft");
    app.stop().await;
}

async fn a_contact_cannot_reach_the_reviewers_pages_or_actions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let contact = app.create_user(Role::Contact).await;
    let web = WebClient::signed_in(&app, &contact).await;
    for path in ["/review", "/tokens"] {
        let page = web.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "GET {path}");
        assert!(page.body.contains("reviewer"), "the page says why");
    }
    let id = submitted_request(&web).await;
    let csrf = web.csrf(&format!("/requests/{id}")).await;
    let page = web.get(&format!("/requests/{id}")).await;
    assert!(
        !page.body.contains("id=\"review-form\""),
        "no review form for contacts"
    );
    let before = changes(&app).await;
    for path in ["review", "tokens", "keys", "activate", "revoke"] {
        let answer = web
            .post(
                &format!("/requests/{id}/{path}"),
                &[("csrf", csrf.as_str()), ("decision", "approve")],
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "POST {path}");
    }
    assert_eq!(changes(&app).await, before);
    assert_eq!(status_of(&app, &id).await, "in_review");

    // Signed out, the reviewers' pages send to the sign-in form and back.
    let stranger = WebClient::anonymous(&app);
    let answer = stranger.get("/review").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), "/login?next=%2Freview");
    app.stop().await;
}

async fn nobody_reviews_their_own_request(backend: Backend) {
    let app = TestApp::start(backend).await;
    let reviewer = app.create_user(Role::Reviewer).await;
    let web = WebClient::signed_in(&app, &reviewer).await;
    let id = submitted_request(&web).await;
    let page = web.get(&format!("/requests/{id}")).await;
    assert!(page.body.contains("another reviewer must review it"));
    assert!(!page.body.contains("id=\"review-form\""));
    let answer = web
        .post(
            &format!("/requests/{id}/review"),
            &[
                ("csrf", page.csrf().as_str()),
                ("form", "review"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("nobody reviews their own request"));
    assert_eq!(status_of(&app, &id).await, "in_review");
    app.stop().await;
}

async fn an_expired_session_returns_the_user_to_their_form_with_their_input_after_sign_in(
    backend: Backend,
) {
    let app = TestApp::start(backend).await;
    let contact = app.create_user(Role::Contact).await;
    let web = WebClient::signed_in(&app, &contact).await;
    let csrf = web.csrf("/requests/new").await;
    let mut fields = with_csrf(&ready_request_fields(), &csrf, "save");
    fields.push(("workflows[0].syncWindow".into(), "06:00-18:00".into()));

    // The session expires while the contact types.
    let expired = chrono::Utc::now() - chrono::Duration::minutes(1);
    sessions::Entity::update_many()
        .col_expr(
            sessions::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(expired),
        )
        .filter(sessions::Column::UserId.eq(contact.id))
        .exec(&app.app.services.db)
        .await
        .expect("expire the session");

    let answer = web.post("/requests/new", &fields).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let location = answer.location().to_owned();
    assert!(
        location.starts_with("/login?next=%2Frequests%2Fnew%3Frestore%3D"),
        "{location}"
    );
    assert_eq!(
        request_count(&app).await,
        0,
        "nothing saved without a session"
    );

    let login = web.get(&location).await;
    assert!(
        login.body.contains("what you typed is kept"),
        "the sign-in page says why"
    );
    let next = url::form_urlencoded::parse(location.split_once('?').expect("query").1.as_bytes())
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
        .expect("next");
    let signed_in = web.sign_in_to(&contact, &next).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.location(), next);

    let form = web.get(&next).await;
    assert_eq!(form.status, StatusCode::OK);
    for typed in [
        "Site progress updates",
        "06:00-18:00",
        "Mary Major, Commercial Director",
        "jane.doe@acme-construction.com",
    ] {
        assert!(form.body.contains(typed), "{typed} is back in the form");
    }
    assert!(form.body.contains("Your session had expired"));
    // It saves with the new session's token.
    let resaved = web
        .post(
            "/requests/new",
            &with_csrf(&ready_request_fields(), &form.csrf(), "save"),
        )
        .await;
    assert_eq!(resaved.status, StatusCode::SEE_OTHER, "{}", resaved.body);
    assert_eq!(request_count(&app).await, 1);

    // A stash is restored once, and only to the browser that made it.
    let again = web.get(&next).await;
    assert!(!again.body.contains("06:00-18:00"), "restored once");
    app.stop().await;
}

async fn a_comment_typed_into_an_expired_session_comes_back_on_the_requests_page(backend: Backend) {
    let app = TestApp::start(backend).await;
    let contact = app.create_user(Role::Contact).await;
    let web = WebClient::signed_in(&app, &contact).await;
    let id = create_request(&web, &ready_request_fields()).await;
    let csrf = web.csrf(&format!("/requests/{id}")).await;
    let other_browser = WebClient::signed_in(&app, &contact).await;
    sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(contact.id))
        .exec(&app.app.services.db)
        .await
        .expect("end the sessions");

    let comment = "The nightly window is 01:00 to 05:00, as agreed with the site team.";
    let answer = web
        .post(
            &format!("/requests/{id}/comments"),
            &[
                ("csrf", csrf.as_str()),
                ("form", "comment"),
                ("body", comment),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let next = url::form_urlencoded::parse(
        answer
            .location()
            .split_once('?')
            .expect("query")
            .1
            .as_bytes(),
    )
    .find(|(k, _)| k == "next")
    .map(|(_, v)| v.into_owned())
    .expect("next");
    assert!(next.starts_with(&format!("/requests/{id}?restore=")));

    // Another browser of the same user cannot take it: the stash is bound to its cookie.
    other_browser.sign_in_to(&contact, &next).await;
    let elsewhere = other_browser.get(&next).await;
    assert!(!elsewhere.body.contains(comment));

    web.sign_in_to(&contact, &next).await;
    let page = web.get(&next).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(comment),
        "the comment is back in its box"
    );
    app.stop().await;
}

async fn the_public_assessment_needs_no_account_and_stores_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let web = WebClient::anonymous(&app);
    let csrf = web.csrf("/check").await;
    let before = changes(&app).await;
    let answer = web
        .post(
            "/check",
            &with_csrf(&ready_request_fields(), &csrf, "assess"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer.body.contains("data-verdict=\"ready\""),
        "{}",
        answer.body
    );
    assert!(answer.body.contains("Site progress updates"));

    // The fragment the form's script fetches: the same panel.
    let mut analytics = ready_request_fields();
    analytics.retain(|(k, _)| k != "workflows[0].purpose");
    analytics.push(("workflows[0].purpose".into(), "analytics".into()));
    let fragment = web
        .post("/assess", &with_csrf(&analytics, &csrf, "assess"))
        .await;
    assert_eq!(fragment.status, StatusCode::OK);
    assert!(
        fragment
            .body
            .contains("data-check=\"analytics_purpose\" data-status=\"warn\""),
        "{}",
        fragment.body
    );
    assert!(!fragment.body.contains("<html"), "a fragment, not a page");

    // Invalid input: the fields' errors instead of an assessment.
    let mut bad = ready_request_fields();
    bad.push(("workflows[0].syncWindow".into(), "9 to 5".into()));
    let answer = web.post("/check", &with_csrf(&bad, &csrf, "assess")).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer
            .body
            .contains("id=\"f-workflows-0-syncWindow-error\"")
    );
    assert!(answer.body.contains("value=\"9 to 5\""));

    assert_eq!(changes(&app).await, before, "nothing stored");
    assert_eq!(request_count(&app).await, 0);
    app.stop().await;
}

async fn workflows_are_added_and_removed_by_posting_back_with_the_form_kept(backend: Backend) {
    let app = TestApp::start(backend).await;
    let contact = app.create_user(Role::Contact).await;
    let web = WebClient::signed_in(&app, &contact).await;
    let csrf = web.csrf("/requests/new").await;
    let added = web
        .post(
            "/requests/new",
            &with_csrf(&ready_request_fields(), &csrf, "add_workflow"),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK);
    assert!(
        added.body.contains("name=\"workflows[1].name\""),
        "a second workflow"
    );
    assert!(
        added.body.contains("value=\"Site progress updates\""),
        "the first kept"
    );
    assert!(added.body.contains("Jane Doe"));

    let mut two = ready_request_fields();
    two.push(("workflows[1].name".into(), "Nightly sync".into()));
    let removed = web
        .post(
            "/requests/new",
            &with_csrf(&two, &csrf, "remove_workflow:0"),
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK);
    assert!(removed.body.contains("value=\"Nightly sync\""));
    assert!(!removed.body.contains("value=\"Site progress updates\""));
    assert!(
        !removed.body.contains("name=\"workflows[1].name\""),
        "renumbered"
    );
    assert_eq!(
        request_count(&app).await,
        0,
        "adding and removing saves nothing"
    );
    app.stop().await;
}

async fn a_request_goes_from_the_form_through_review_to_a_working_app_key(backend: Backend) {
    let app = TestApp::start_with(backend, VAULT_KEY).await;
    let (_, _, contact, reviewer) = people(&app).await;

    // A request that is not ready is saved but not submitted.
    let mut thin = ready_request_fields();
    thin.retain(|(k, _)| !k.starts_with("commercialPermission"));
    let csrf = contact.csrf("/requests/new").await;
    let answer = contact
        .post("/requests/new", &with_csrf(&thin, &csrf, "submit"))
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(
        answer.location().ends_with("/edit?notice=not_ready"),
        "{}",
        answer.location()
    );
    let id = request_id(answer.location());
    assert_eq!(status_of(&app, &id).await, "draft");
    let edit = contact.get(answer.location()).await;
    assert!(edit.body.contains("not submitted"));
    assert!(
        edit.body
            .contains("data-check=\"commercial_permission\" data-status=\"fail\"")
    );

    // Fixed and submitted from the edit form.
    let answer = contact
        .post(
            &format!("/requests/{id}/edit"),
            &with_csrf(&ready_request_fields(), &edit.csrf(), "submit"),
        )
        .await;
    assert_eq!(
        answer.location(),
        format!("/requests/{id}?notice=submitted")
    );
    assert_eq!(status_of(&app, &id).await, "in_review");

    // The reviewer finds it in the queue and asks for changes.
    let queue = reviewer.get("/review").await;
    assert!(queue.body.contains(&format!("/requests/{id}")));
    let page = format!("/requests/{id}");
    let csrf = reviewer.csrf(&page).await;
    let question = "Which sync window will the progress updates keep to?";
    let answer = reviewer
        .post(
            &format!("{page}/review"),
            &[
                ("csrf", csrf.as_str()),
                ("form", "review"),
                ("decision", "request_changes"),
                ("comment", question),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &id).await, "changes_requested");

    // The contact reads the comment on the edit form, answers and resubmits.
    let edit = contact.get(&format!("{page}/edit")).await;
    assert!(edit.body.contains(question));
    let csrf = edit.csrf();
    let answer = contact
        .post(
            &format!("{page}/comments"),
            &[
                ("csrf", csrf.as_str()),
                ("form", "comment"),
                ("body", "Working hours only, 06:00 to 18:00."),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let mut answered = ready_request_fields();
    answered.push(("workflows[0].syncWindow".into(), "06:00-18:00".into()));
    let answer = contact
        .post(
            &format!("{page}/edit"),
            &with_csrf(&answered, &csrf, "submit"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, &id).await, "in_review");

    // Approved, filed, token recorded, key created and shown once.
    for (path, fields) in [
        ("review", vec![("form", "review"), ("decision", "approve")]),
        ("filed", vec![("form", "filed"), ("reference", "CS0042")]),
        (
            "tokens",
            vec![
                ("form", "token"),
                ("projectId", "1"),
                ("token", TOKEN),
                ("scope", "read write"),
                ("issuedOn", "2026-01-10"),
            ],
        ),
    ] {
        let csrf = reviewer.csrf(&page).await;
        let mut fields = fields;
        fields.push(("csrf", csrf.as_str()));
        let answer = reviewer.post(&format!("{page}/{path}"), &fields).await;
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "{path}: {}",
            answer.body
        );
    }
    assert_eq!(status_of(&app, &id).await, "token_issued");
    let csrf = reviewer.csrf(&page).await;
    let created = reviewer
        .post(
            &format!("{page}/keys"),
            &[
                ("csrf", csrf.as_str()),
                ("form", "key"),
                ("keyName", "site-progress-app"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let key = created
        .body
        .split("id=\"created-key\" type=\"text\" readonly value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the key is shown")
        .to_owned();
    let page_again = reviewer.get(&page).await;
    assert!(!page_again.body.contains(&key), "shown once");
    assert!(!page_again.body.contains(TOKEN), "the token never shows");
    assert!(
        page_again.body.contains("Recorded an issued token"),
        "history"
    );

    let (status, body) = app
        .graphql(Some(&key), "{ me { kind appKey { name } } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["me"]["appKey"]["name"], "site-progress-app");

    // The contact downloads the drafts.
    let markdown = contact
        .get(&format!("{page}/drafts/support-request.md"))
        .await;
    assert_eq!(markdown.status, StatusCode::OK);
    assert!(
        markdown.headers["content-disposition"]
            .to_str()
            .unwrap_or_default()
            .contains("attachment")
    );
    assert!(markdown.body.contains("Site progress updates"));

    // Revoking the key stops it.
    let key_id = page_again
        .body
        .split("/keys/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("a revoke form")
        .to_owned();
    let revoked = reviewer
        .post(
            &format!("{page}/keys/{key_id}/revoke"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let (status, _) = app.graphql(Some(&key), "{ me { kind } }", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

backend_tests!(
    every_form_refuses_a_missing_or_wrong_csrf_token_and_changes_nothing,
    invalid_fields_come_back_beside_their_fields_with_what_was_typed_kept,
    the_small_forms_report_their_field_errors_and_keep_the_input,
    a_contact_can_neither_see_nor_edit_another_contacts_request,
    a_contact_cannot_reach_the_reviewers_pages_or_actions,
    nobody_reviews_their_own_request,
    an_expired_session_returns_the_user_to_their_form_with_their_input_after_sign_in,
    a_comment_typed_into_an_expired_session_comes_back_on_the_requests_page,
    the_public_assessment_needs_no_account_and_stores_nothing,
    workflows_are_added_and_removed_by_posting_back_with_the_form_kept,
    a_request_goes_from_the_form_through_review_to_a_working_app_key,
);
