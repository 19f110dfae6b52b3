//! Helpers for the web UI's tests: a browser-like client (cookies, no redirects followed) that
//! reads CSRF tokens from pages and posts forms, and the form fields of a request Bentley would
//! accept.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::{TestApp, TestUser, hidden_field};

/// A page or a post's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: String,
}

impl Answer {
    /// The `Location` header of a redirect.
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the hidden `csrf` field.
    pub fn csrf(&self) -> String {
        hidden_field(&self.body, "csrf").unwrap_or_default()
    }
}

/// A browser-like client of the web UI.
#[derive(Debug, Clone)]
pub struct WebClient {
    /// The client (with a cookie store).
    pub client: reqwest::Client,
    base: String,
}

impl WebClient {
    /// A client with no session.
    pub fn anonymous(app: &TestApp) -> Self {
        Self {
            client: crate::browser_client(),
            base: app.url(""),
        }
    }

    /// A client signed in as `user`.
    pub async fn signed_in(app: &TestApp, user: &TestUser) -> Self {
        let (client, _) = app.sign_in(user).await;
        Self {
            client,
            base: app.url(""),
        }
    }

    /// GETs a path.
    pub async fn get(&self, path: &str) -> Answer {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET sent");
        answer(response).await
    }

    /// POSTs form fields to a path.
    pub async fn post<K: AsRef<str>, V: AsRef<str>>(
        &self,
        path: &str,
        fields: &[(K, V)],
    ) -> Answer {
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .collect();
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .form(&pairs)
            .send()
            .await
            .expect("POST sent");
        answer(response).await
    }

    /// The CSRF token the page at `path` puts in its forms.
    pub async fn csrf(&self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "GET {path}: {}", page.body);
        page.csrf()
    }

    /// Signs in through the sign-in form with `next`; returns the answer (a redirect to
    /// `next` when it worked).
    pub async fn sign_in_to(&self, user: &TestUser, next: &str) -> Answer {
        let page = self.get(&format!("/login?next={}", encode(next))).await;
        let csrf = page.csrf();
        self.post(
            "/login",
            &[
                ("email", user.email.as_str()),
                ("password", user.password.as_str()),
                ("csrf", csrf.as_str()),
                ("next", next),
            ],
        )
        .await
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        body,
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The request id in a `/requests/{id}...` location.
pub fn request_id(location: &str) -> String {
    location
        .trim_start_matches("/requests/")
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The form fields of a mobile progress app with every confirmation: a request that passes
/// every readiness check, with one workflow.
pub fn ready_request_fields() -> Vec<(String, String)> {
    let fields = [
        ("projectUrls", "https://acme.e7.site/projects/1"),
        ("requester.name", "Jane Doe"),
        ("requester.email", "jane.doe@acme-construction.com"),
        ("requester.organisation", "Acme Construction"),
        ("projectContact.name", "Joe Bloggs"),
        ("projectContact.role", "Commercial Manager"),
        ("projectContact.email", "joe.bloggs@acme-construction.com"),
        ("commercialPermission.confirmed", "true"),
        (
            "commercialPermission.confirmedBy",
            "Mary Major, Commercial Director",
        ),
        ("commercialPermission.confirmedOn", "2026-03-02"),
        ("apiDocumentation.reviewed", "true"),
        ("apiDocumentation.url", "https://acme.e7.site/api"),
        ("integration.name", "Site progress app"),
        (
            "integration.purpose",
            "Lets site supervisors record the progress of their activities from a phone, so \
             that the programme in SYNCHRO Perform is current every evening.",
        ),
        ("platforms.other", "iOS and Android app"),
        ("mitigations.caching", "true"),
        ("mitigations.backoff", "true"),
        ("mitigations.offPeakScheduling", "true"),
        ("mitigations.incrementalSync", "true"),
        ("workflows[0].name", "Site progress updates"),
        (
            "workflows[0].description",
            "A supervisor opens an activity on site, records percent complete and the app \
             sends a progress entry and updates the activity.",
        ),
        ("workflows[0].direction", "two_way"),
        ("workflows[0].purpose", "integration"),
        ("workflows[0].entities.activity", "read"),
        ("workflows[0].entities.activity", "update"),
        ("workflows[0].entities.progress_entry", "create"),
        ("workflows[0].trigger", "on_demand"),
        ("workflows[0].trigger.onDemandPerDay", "200"),
        ("workflows[0].recordsPerRun", "5"),
    ];
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `fields` with `csrf` and `action` added.
pub fn with_csrf(fields: &[(String, String)], csrf: &str, action: &str) -> Vec<(String, String)> {
    let mut out = fields.to_vec();
    out.push(("csrf".into(), csrf.into()));
    out.push(("action".into(), action.into()));
    out
}

/// Creates a request through the form as `contact`; returns its id.
pub async fn create_request(contact: &WebClient, fields: &[(String, String)]) -> String {
    let csrf = contact.csrf("/requests/new").await;
    let saved = contact
        .post("/requests/new", &with_csrf(fields, &csrf, "save"))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert!(
        saved.location().ends_with("/edit?notice=saved"),
        "{}",
        saved.location()
    );
    request_id(saved.location())
}

/// A ready request, created and submitted by `contact`; returns its id.
pub async fn submitted_request(contact: &WebClient) -> String {
    let id = create_request(contact, &ready_request_fields()).await;
    let csrf = contact.csrf(&format!("/requests/{id}")).await;
    let sent = contact
        .post(
            &format!("/requests/{id}/submit"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    id
}
