//! The web UI's public and form-taking pages, as an anonymous or hostile caller would use them.

use std::time::Duration;

use gatehouse_core::auth::Role;
use gatehouse_core::db::entities::form_stashes;
use gatehouse_tests::web::{WebClient, ready_request_fields, with_csrf};
use gatehouse_tests::{Backend, TestApp};
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::support::{HealthProbe, assert_healthy, measure};

/// The amplifying post of the edge report: a public form with thousands of workflows.
fn workflows(count: usize, csrf: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = (0..count)
        .map(|i| (format!("workflows[{i}].name"), format!("w{i}")))
        .collect();
    fields.push(("csrf".into(), csrf.into()));
    fields.push(("action".into(), "assess".into()));
    fields
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_check_neither_amplifies_nor_parses_a_forged_post() {
    let app = TestApp::start(Backend::Sqlite).await;
    let attacker = WebClient::anonymous(&app);
    let csrf = attacker.csrf("/check").await;
    let probe = HealthProbe::start(&app.url(""));
    let (answers, cost) = measure(async {
        // 8,000 workflows (167 KB): more fields than a form may hold.
        let many = attacker.post("/check", &workflows(8_000, &csrf)).await;
        // 990 workflows, under the field bound: read up to the ceiling, refused by the limit.
        let under = attacker.post("/check", &workflows(990, &csrf)).await;
        // Without the token: refused before the body is read as a request.
        let forged = attacker.post("/check", &workflows(990, "forged")).await;
        // Two at once, as in the report.
        let form = workflows(990, &csrf);
        let (a, b) = tokio::join!(
            attacker.post("/check", &form),
            attacker.post("/check", &form)
        );
        (many, under, forged, a, b)
    })
    .await;
    let latencies = probe.finish().await;
    let (many, under, forged, a, b) = answers;
    assert_eq!(many.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(many.body.contains("more than 1000 fields"), "{}", many.body);
    for answer in [&under, &a, &b] {
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            answer.body.contains("at most 20 are allowed"),
            "the workflow limit is named"
        );
        assert!(
            answer.body.len() < 1024 * 1024,
            "the answer is {} bytes",
            answer.body.len()
        );
    }
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // The blank form (about 73 KB), nothing of the post.
    assert!(
        forged.body.len() < 128 * 1024,
        "{} bytes",
        forged.body.len()
    );
    assert!(!forged.body.contains("workflows[900]"), "nothing echoed");
    assert!(
        cost.cpu < Duration::from_secs(2),
        "five posts cost {:?} of CPU",
        cost.cpu
    );
    assert!(
        cost.peak_growth_mib < 64,
        "grew {} MiB",
        cost.peak_growth_mib
    );
    assert_healthy(&latencies);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_text_of_a_request_is_bounded() {
    let app = TestApp::start(Backend::Sqlite).await;
    let visitor = WebClient::anonymous(&app);
    let csrf = visitor.csrf("/check").await;
    let mut fields = with_csrf(&ready_request_fields(), &csrf, "assess");
    fields.push(("requester.name".into(), "n".repeat(300)));
    fields.retain(|(k, _)| k != "workflows[0].description");
    fields.push(("workflows[0].description".into(), "d".repeat(50_000)));
    // The first value of a name wins: put the long name first.
    fields.retain(|(k, v)| k != "requester.name" || v.len() == 300);
    let answer = visitor.post("/check", &fields).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body.contains("is longer than 200 characters"));
    assert!(answer.body.contains("is longer than 4000 characters"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_form_stashes_are_capped_per_address_and_in_total() {
    let app = TestApp::start(Backend::Sqlite).await;
    let stranger = WebClient::anonymous(&app);
    let mut big = ready_request_fields();
    big.push(("integration.purpose".into(), "x".repeat(100 * 1024)));
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(stranger.post("/requests/new", &big).await.status);
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count(),
        10,
        "ten stashes per address per hour: {statuses:?}"
    );
    assert!(
        statuses[10..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS)
    );
    let kept = form_stashes::Entity::find()
        .count(&app.app.services.db)
        .await
        .expect("count");
    assert_eq!(kept, 10);
    // A megabyte is past the form limit before anything is stashed.
    let mut huge = ready_request_fields();
    huge.push(("integration.purpose".into(), "x".repeat(1024 * 1024)));
    assert_eq!(
        stranger.post("/requests/new", &huge).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    app.stop().await;

    // In total: many addresses (behind a trusted proxy) fill the bytes bound, not the table.
    let app = TestApp::start_with(
        Backend::Sqlite,
        "[http]\nforwarded_for_hops = 1\n[auth]\nstash_max_total_bytes = 400000\n",
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let response = app
            .client
            .post(app.url("/requests/new"))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .form(&big)
            .send()
            .await
            .expect("sent");
        statuses.push(response.status());
    }
    let kept = form_stashes::Entity::find()
        .count(&app.app.services.db)
        .await
        .expect("count");
    assert_eq!(
        kept, 3,
        "three 100 KiB stashes fit in 400,000 bytes: {statuses:?}"
    );
    assert_eq!(statuses[7], StatusCode::TOO_MANY_REQUESTS);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_never_redirects_to_another_site() {
    let app = TestApp::start(Backend::Sqlite).await;
    let user = app.create_user(Role::Contact).await;
    for next in [
        "/\t/evil.example",
        "/.//evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
    ] {
        let web = WebClient::anonymous(&app);
        let answer = web.sign_in_to(&user, next).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert_eq!(answer.location(), "/", "{next:?} is not followed");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_callers_and_users_have_rates_and_quotas() {
    let app = TestApp::start_with(
        Backend::Sqlite,
        "[http.rate_limits]\nanonymous_per_minute = 5\nuser_per_minute = 8\n\
         [access.quotas]\ncomments_per_day = 2\nrequests_per_day = 1\n",
    )
    .await;
    // A signed-in contact first (signing in takes two anonymous requests of the five).
    let contact = app.create_user(Role::Contact).await;
    let session = app.session(&contact).await;
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(
            app.client
                .get(app.url("/check"))
                .send()
                .await
                .expect("sent"),
        );
    }
    let statuses: Vec<StatusCode> = answers.iter().map(reqwest::Response::status).collect();
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "five anonymous requests a minute from this address"
    );
    let retry: u64 = answers[3].headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry >= 1);
    // /healthz is never limited.
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("sent");
    assert_eq!(health.status(), StatusCode::OK);

    // The contact: a request a day, two comments a day.
    let create = "mutation($i: AccessRequestInput!) { createAccessRequest(input: $i) { id } }";
    let input = serde_json::json!({ "i": { "integration": { "name": "App", "purpose": "" } } });
    let first = session.graphql(create, input.clone()).await;
    let id = first["data"]["createAccessRequest"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("created: {first}"))
        .to_owned();
    let second = session.graphql(create, input).await;
    assert_eq!(
        second["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{second}"
    );
    assert!(second["errors"][0]["extensions"]["retryAfterSeconds"].as_u64() > Some(0));
    let comment = "mutation($id: ID!) { commentOnAccessRequest(id: $id, body: \"ok\") { id } }";
    for _ in 0..2 {
        let answer = session
            .graphql(comment, serde_json::json!({ "id": id }))
            .await;
        assert!(answer["errors"].is_null(), "{answer}");
    }
    let third = session
        .graphql(comment, serde_json::json!({ "id": id }))
        .await;
    assert_eq!(third["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    // The session is at 8 requests a minute: one page after sign-in, then 5 operations above,
    // then two more.
    let _ = session
        .graphql("{ me { kind } }", serde_json::json!({}))
        .await;
    let _ = session
        .graphql("{ me { kind } }", serde_json::json!({}))
        .await;
    let over = session
        .graphql("{ me { kind } }", serde_json::json!({}))
        .await;
    assert_eq!(
        over["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{over}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attacker_cannot_lock_an_owner_out_of_sign_in() {
    let app = TestApp::start_with(Backend::Sqlite, "[http]\nforwarded_for_hops = 1\n").await;
    let owner = app.create_user(Role::Contact).await;
    let attempt = |address: &'static str, password: &'static str| {
        let app = &app;
        let email = owner.email.clone();
        async move {
            let web = WebClient::anonymous(app);
            let page = web
                .client
                .get(app.url("/login"))
                .header("x-forwarded-for", address)
                .send()
                .await
                .expect("login page")
                .text()
                .await
                .expect("html");
            let csrf = gatehouse_tests::hidden_field(&page, "csrf").expect("csrf");
            web.client
                .post(app.url("/login"))
                .header("x-forwarded-for", address)
                .form(&[
                    ("email", email.as_str()),
                    ("password", password),
                    ("csrf", &csrf),
                ])
                .send()
                .await
                .expect("posted")
                .status()
        }
    };
    for _ in 0..5 {
        assert_eq!(
            attempt("203.0.113.9", "guess").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt("203.0.113.9", "guess").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the attacker is throttled"
    );
    assert_eq!(
        attempt("198.51.100.7", "correct horse battery staple").await,
        StatusCode::SEE_OTHER,
        "the owner, from her own address, signs in"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::start(Backend::Sqlite).await;
    for path in [
        "/",
        "/login",
        "/check",
        "/healthz",
        "/static/app.js",
        "/graphql?query=%7B__typename%7D",
        "/nosuchpage",
    ] {
        let response = app.client.get(app.url(path)).send().await.expect("sent");
        let headers = response.headers();
        let csp = headers
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_str()
            .expect("ascii");
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
    }
    // On loopback (this test) cookies are not Secure unless configured; configured, they are.
    let cookie = login_cookie(&app).await;
    assert!(!cookie.contains("Secure"), "{cookie}");
    app.stop().await;
    let app = TestApp::start_with(Backend::Sqlite, "[auth]\ncookie_secure = true\n").await;
    let cookie = login_cookie(&app).await;
    assert!(cookie.contains("; Secure"), "{cookie}");
    app.stop().await;
}

/// The cookie the sign-in page sets (its CSRF cookie).
async fn login_cookie(app: &TestApp) -> String {
    let login = app
        .client
        .get(app.url("/login"))
        .send()
        .await
        .expect("sent");
    login.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_and_sql_in_a_request_are_kept_as_text_and_shown_escaped() {
    let app = TestApp::start(Backend::Sqlite).await;
    let contact = app.create_user(Role::Contact).await;
    let web = WebClient::signed_in(&app, &contact).await;
    let csrf = web.csrf("/requests/new").await;
    let hostile = "<script>alert(1)</script>'); DROP TABLE access_requests; --";
    let mut fields = with_csrf(&ready_request_fields(), &csrf, "save");
    fields.retain(|(k, _)| k != "integration.name");
    fields.push(("integration.name".into(), hostile.into()));
    let saved = web.post("/requests/new", &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let id = gatehouse_tests::web::request_id(saved.location());
    let page = web.get(&format!("/requests/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("<script>alert(1)"), "markup is escaped");
    assert!(
        page.body
            .contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    let mine = web.get("/requests").await;
    assert!(
        mine.body.contains("DROP TABLE access_requests"),
        "stored as text, the table is there"
    );
    app.stop().await;
}
