//! The web UI in a real headless Chromium, driven over WebDriver with fantoccini: a contact
//! fills a request with two workflows and watches the assessment change as they type, saves and
//! submits it; a reviewer requests changes; the contact answers; the reviewer approves, records
//! the issued token and creates an app key, which then works on `/graphql`; the reviewer opens
//! the usage report of the key's project and sees its charts.
//!
//! Needs `chromedriver` and Chromium on `PATH` (`apt-get install chromium chromium-driver`;
//! `scripts/test.sh` installs them). The harness starts chromedriver on a free port and stops it,
//! with every Chromium process it started, afterwards. Runs on SQLite only: the server-side tests
//! in `web.rs` cover both databases. Each step's page is saved as a screenshot in
//! `tests/screenshots/` (git-ignored).
//!
//! Every wait polls for the state the page should reach, with one generous limit
//! ([`PATIENCE`]): a loaded CI machine makes the test slower, not flaky. Nothing asserts on time.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use gatehouse::documents::charts;
use gatehouse_core::auth::Role;
use gatehouse_core::metering::ledger::CallRecord;
use gatehouse_tests::usage::record_volume_with;
use gatehouse_tests::{Backend, TestApp, TestUser};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

const VAULT_KEY: &str = "vault_key = \"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"\n";
const TOKEN: &str = "SP-tok-browser-93c1f0-recorded-once";
/// How long to wait for the page to reach an expected state before failing: far more than any
/// step needs, so that only a page that never gets there fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// A program on `PATH`.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// chromedriver on a free port, with a fresh browser profile; stopped when dropped.
struct Driver {
    child: Child,
    url: String,
    /// Removed after the browser is gone (fields drop after [`Drop::drop`]).
    profile: tempfile::TempDir,
}

impl Driver {
    async fn start() -> Self {
        let binary = on_path(&["chromedriver"]).unwrap_or_else(|| {
            panic!(
                "chromedriver is not on PATH: install it with `apt-get install -y chromium \
                 chromium-driver` (scripts/test.sh does)"
            )
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // Its own process group: Chromium and its helpers join it, so one signal ends them all.
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("a browser profile");
        let driver = Self {
            child,
            url,
            profile,
        };
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let ready = client
                .get(format!("{}/status", driver.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromedriver did not answer on {}",
                driver.url
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        driver
    }

    /// A new headless Chromium session with a fresh profile, kept off the network.
    async fn browser(&self) -> Client {
        let mut chrome = json!({
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", self.profile.path().display()),
            ]
        });
        if let Some(binary) = on_path(&["chromium", "chromium-browser", "google-chrome"]) {
            chrome["binary"] = json!(binary.display().to_string());
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), chrome);
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    /// Ends chromedriver's whole process group: chromedriver killed alone leaves Chromium
    /// running, and a test that panics before closing its session would leak a browser.
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// One browser on the app, saving a screenshot per step.
struct Tour {
    browser: Client,
    base: String,
    shots: PathBuf,
}

impl Tour {
    async fn goto(&self, path: &str) {
        self.browser
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigates");
    }

    /// Waits for the element `css` selects.
    async fn find(&self, css: &str) -> Element {
        let found = self
            .browser
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("no element {css} on {}: {e}", self.path().await),
        }
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("cleared");
        field.send_keys(text).await.expect("typed");
    }

    async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("clicked");
    }

    async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .expect("selected");
    }

    async fn js(&self, script: &str) -> Value {
        self.browser
            .execute(script, Vec::new())
            .await
            .expect("script runs")
    }

    async fn path(&self) -> String {
        let url = self.browser.current_url().await.expect("a URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits until the page's path and query are `expected`.
    async fn arrive(&self, expected: &str) {
        self.arrive_where(expected, |path| path == expected).await;
    }

    /// Waits until the page's path and query pass `test`, and returns them.
    async fn arrive_where(&self, what: &str, test: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let path = self.path().await;
            if test(&path) {
                return path;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {what}, still on {path}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `script` returns true.
    async fn until(&self, what: &str, script: &str) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.js(script).await != Value::Bool(true) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited {PATIENCE:?} for {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page's text.
    async fn text(&self) -> String {
        self.find("body").await.text().await.expect("text")
    }

    /// The stored status a request's page shows (`in_review`, `approved`, ...).
    async fn status(&self) -> String {
        self.find(".meta-line [data-status]")
            .await
            .attr("data-status")
            .await
            .expect("an attribute")
            .expect("a status")
    }

    /// What sticks out past the window's right edge, so that the page scrolls sideways: empty
    /// when the page fits. Content inside a box that scrolls on its own (`overflow-x: auto`)
    /// does not count.
    async fn too_wide(&self) -> Vec<Value> {
        let found = self
            .js(r#"
                const width = document.documentElement.clientWidth;
                if (document.documentElement.scrollWidth <= width) { return []; }
                // Content in a box that scrolls sideways on its own stays in it, unless it is
                // positioned against something outside the box.
                const scrolls = (e) => {
                    const position = getComputedStyle(e).position;
                    if (position === 'absolute' || position === 'fixed') { return false; }
                    for (let p = e.parentElement; p; p = p.parentElement) {
                        const o = getComputedStyle(p).overflowX;
                        if (o === 'auto' || o === 'scroll' || o === 'hidden') { return true; }
                    }
                    return false;
                };
                const out = [];
                for (const e of document.body.querySelectorAll('*')) {
                    const r = e.getBoundingClientRect();
                    if (r.right > width + 1 && !scrolls(e)) {
                        out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                            + (e.className && typeof e.className === 'string'
                                ? '.' + e.className.trim().split(/\s+/).join('.') : '')
                            + ' right=' + Math.round(r.right) + ' of ' + width);
                    }
                }
                return out.length ? out.slice(0, 12) : ['the document, ' + document.documentElement.scrollWidth + ' of ' + width];
            "#)
            .await;
        found.as_array().cloned().unwrap_or_default()
    }

    /// Saves the whole page as `tests/screenshots/<name>.png`.
    async fn shoot(&self, name: &str) {
        let height = self
            .js("return document.documentElement.scrollHeight")
            .await
            .as_u64()
            .unwrap_or(1000)
            .clamp(600, 12_000) as u32;
        self.browser
            .set_window_size(1280, height)
            .await
            .expect("resized");
        self.js("window.scrollTo(0, 0); return true").await;
        let png = self.browser.screenshot().await.expect("a screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("screenshot saved");
        self.browser
            .set_window_size(1280, 1000)
            .await
            .expect("resized back");
    }

    async fn sign_in(&self, user: &TestUser) {
        self.goto("/login").await;
        self.fill("#email", &user.email).await;
        self.fill("#password", &user.password).await;
        self.click("form[action='/login'] button[type=submit]")
            .await;
        // A refused sign-in stays on /login.
        self.arrive("/").await;
        self.until(
            "the signed-in layout",
            "return !!document.querySelector('form[action=\"/logout\"]')",
        )
        .await;
    }

    async fn sign_out(&self) {
        self.click("form[action='/logout'] button").await;
        self.until(
            "the signed-out layout",
            "return !document.querySelector('form[action=\"/logout\"]')",
        )
        .await;
    }

    /// The number of failed checks the assessment panel shows.
    async fn failed_checks(&self) -> Option<u64> {
        self.js(
            "const c = document.querySelector('#assessment [data-fails]'); \
             return c ? Number(c.getAttribute('data-fails')) : null",
        )
        .await
        .as_u64()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_goes_from_the_browser_form_through_review_to_a_working_app_key() {
    let app = TestApp::start_with(Backend::Sqlite, VAULT_KEY).await;
    let contact = app.create_user(Role::Contact).await;
    let reviewer = app.create_user(Role::Reviewer).await;
    let driver = Driver::start().await;
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots");
    std::fs::create_dir_all(&shots).expect("screenshots folder");
    let tour = Tour {
        browser: driver.browser().await,
        base: app.url(""),
        shots,
    };

    // The public page, before signing in: it assesses as the visitor types and stores nothing.
    tour.goto("/check").await;
    tour.find("#request-form .actions button[value=assess]")
        .await;
    assert_eq!(
        tour.js("return !document.querySelector('#request-form button[value=save]')")
            .await,
        Value::Bool(true),
        "the public form has no save button"
    );
    tour.fill("#f-projectUrls", "https://acme.e7.site/projects/1")
        .await;
    tour.fill("#f-integration-name", "Usage dashboard").await;
    tour.fill("#f-workflows-0-name", "Hourly usage export")
        .await;
    tour.until(
        "the public page's assessment of the typed workflow",
        "const p = document.getElementById('assessment'); \
         return !!p.querySelector('[data-fails]') && p.textContent.includes('Hourly usage export')",
    )
    .await;
    tour.shoot("01-public-check").await;

    // A contact signs in and starts a request.
    tour.sign_in(&contact).await;
    tour.goto("/requests/new").await;
    tour.shoot("02-new-request").await;
    tour.fill("#f-projectUrls", "https://acme.e7.site/projects/1")
        .await;
    tour.fill("#f-integration-name", "Site progress app").await;
    tour.fill("#f-workflows-0-name", "Site progress updates")
        .await;
    // The live assessment answers as soon as the form converts (the workflow's name is only
    // in the panel once the page's script has fetched a new one).
    tour.until(
        "a first assessment",
        "const p = document.getElementById('assessment'); \
         return !!p.querySelector('[data-fails]') && p.textContent.includes('Site progress updates')",
    )
    .await;
    let failing_before = tour
        .failed_checks()
        .await
        .expect("a count of failed checks");
    assert!(failing_before > 0, "a thin request fails checks");

    for (css, text) in [
        ("#f-requester-name", "Jane Doe"),
        ("#f-requester-email", "jane.doe@acme-construction.com"),
        ("#f-requester-organisation", "Acme Construction"),
        ("#f-projectContact-name", "Joe Bloggs"),
        ("#f-projectContact-role", "Commercial Manager"),
        (
            "#f-projectContact-email",
            "joe.bloggs@acme-construction.com",
        ),
        (
            "#f-commercialPermission-confirmedBy",
            "Mary Major, Commercial Director",
        ),
        ("#f-apiDocumentation-url", "https://acme.e7.site/api"),
        (
            "#f-integration-purpose",
            "Lets site supervisors record the progress of their activities from a phone, so \
             that the programme in SYNCHRO Perform is current every evening.",
        ),
        ("#f-platforms-other", "iOS and Android app"),
        (
            "#f-workflows-0-description",
            "A supervisor opens an activity on site, records percent complete and the app \
             sends a progress entry and updates the activity.",
        ),
        ("#f-workflows-0-recordsPerRun", "5"),
    ] {
        tour.fill(css, text).await;
    }
    // A date input takes the date as the browser's locale types it; set it directly.
    tour.js(
        "const d = document.getElementById('f-commercialPermission-confirmedOn'); \
         d.value = '2026-03-02'; d.dispatchEvent(new Event('change', {bubbles: true})); return true",
    )
    .await;
    for css in [
        "#f-commercialPermission-confirmed",
        "#f-apiDocumentation-reviewed",
        "#f-mitigations-caching",
        "#f-mitigations-backoff",
        "#f-mitigations-offPeakScheduling",
        "#f-mitigations-incrementalSync",
        "#f-workflows-0-entities-activity-read",
        "#f-workflows-0-entities-activity-update",
        "#f-workflows-0-entities-progress-entry-create",
    ] {
        tour.click(css).await;
    }
    tour.select("#f-workflows-0-direction", "two_way").await;
    tour.select("#f-workflows-0-trigger", "on_demand").await;
    tour.fill("#f-workflows-0-trigger-onDemandPerDay", "200")
        .await;

    // A second workflow, added in place by the page's script (no round trip).
    let path_before = tour.path().await;
    tour.click("[data-add-workflow]").await;
    tour.find("#f-workflows-1-name").await;
    assert_eq!(
        tour.path().await,
        path_before,
        "added without leaving the page"
    );
    tour.fill("#f-workflows-1-name", "Nightly activity sync")
        .await;
    tour.fill(
        "#f-workflows-1-description",
        "Reads the activities changed during the day into the planning system each night, \
         so that planners start the morning from what happened on site.",
    )
    .await;
    tour.click("#f-workflows-1-entities-activity-read").await;
    tour.select("#f-workflows-1-trigger", "daily_at").await;
    tour.fill("#f-workflows-1-trigger-dailyAt", "02:00").await;
    tour.fill("#f-workflows-1-recordsPerRun", "300").await;
    tour.fill("#f-workflows-1-syncWindow", "01:00-05:00").await;

    // A third, added and removed again in place: it is neither shown nor saved.
    tour.click("[data-add-workflow]").await;
    tour.fill("#f-workflows-2-name", "Added by mistake").await;
    tour.click("fieldset[data-workflow='2'] [data-remove-workflow]")
        .await;
    tour.until(
        "the third workflow to go",
        "return !document.getElementById('f-workflows-2-name') \
           && document.querySelectorAll('#workflows fieldset.workflow').length === 2",
    )
    .await;
    assert_eq!(
        tour.path().await,
        path_before,
        "removed without leaving the page"
    );

    tour.until(
        "the assessment to show both workflows and no failed check",
        "const p = document.getElementById('assessment'); \
         const c = p.querySelector('[data-fails]'); \
         return !!c && c.getAttribute('data-fails') === '0' \
           && p.textContent.includes('Nightly activity sync') \
           && !p.textContent.includes('Added by mistake')",
    )
    .await;
    assert_eq!(tour.failed_checks().await, Some(0), "was {failing_before}");
    tour.shoot("03-request-form-filled").await;

    // Saved as a draft, then submitted for review.
    tour.click("#request-form .actions button[value=save]")
        .await;
    let edit = tour
        .arrive_where("/requests/<id>/edit?notice=saved", |path| {
            path.starts_with("/requests/") && path.ends_with("/edit?notice=saved")
        })
        .await;
    let id = edit
        .trim_start_matches("/requests/")
        .split('/')
        .next()
        .expect("an id")
        .to_owned();
    assert!(tour.text().await.contains("Draft saved."));
    assert_eq!(
        tour.find("#f-workflows-1-name")
            .await
            .prop("value")
            .await
            .expect("value"),
        Some("Nightly activity sync".to_owned()),
        "both workflows were saved"
    );
    assert_eq!(
        tour.js("return document.querySelectorAll('#workflows fieldset.workflow').length")
            .await,
        json!(2),
        "and only those two"
    );
    tour.shoot("04-draft-saved").await;
    tour.click("#request-form .actions button[value=submit]")
        .await;
    tour.arrive(&format!("/requests/{id}?notice=submitted"))
        .await;
    assert_eq!(tour.status().await, "in_review");
    tour.shoot("05-submitted").await;
    tour.goto("/requests").await;
    tour.shoot("06-my-requests").await;
    tour.sign_out().await;

    // The reviewer asks for changes.
    tour.sign_in(&reviewer).await;
    tour.goto("/review").await;
    tour.shoot("07-review-queue").await;
    tour.click(&format!("a[href='/requests/{id}']")).await;
    tour.arrive(&format!("/requests/{id}")).await;
    tour.shoot("08-request-for-review").await;
    let question = "Which window will the progress updates keep to? Please state it.";
    tour.fill("#f-comment", question).await;
    tour.click("#review-form button[value=request_changes]")
        .await;
    tour.arrive(&format!("/requests/{id}?notice=changes_requested"))
        .await;
    assert_eq!(tour.status().await, "changes_requested");
    tour.sign_out().await;

    // The contact answers and resubmits.
    tour.sign_in(&contact).await;
    tour.goto(&format!("/requests/{id}")).await;
    assert!(tour.text().await.contains(question));
    tour.fill(
        "#f-body",
        "Working hours only: 06:00 to 18:00 UTC. I added the window.",
    )
    .await;
    tour.click("#comment-form button[type=submit]").await;
    tour.arrive(&format!("/requests/{id}?notice=commented"))
        .await;
    assert!(tour.text().await.contains("Working hours only"));
    tour.goto(&format!("/requests/{id}/edit")).await;
    tour.fill("#f-workflows-0-syncWindow", "06:00-18:00").await;
    tour.shoot("09-changes-answered").await;
    tour.click("#request-form .actions button[value=submit]")
        .await;
    tour.arrive(&format!("/requests/{id}?notice=submitted"))
        .await;
    assert_eq!(tour.status().await, "in_review", "back in review");
    assert!(tour.text().await.contains("06:00-18:00"));
    tour.sign_out().await;

    // The reviewer approves, files, records the token and creates a key.
    tour.sign_in(&reviewer).await;
    tour.goto(&format!("/requests/{id}")).await;
    tour.click("#review-form button[value=approve]").await;
    tour.arrive(&format!("/requests/{id}?notice=approved"))
        .await;
    assert_eq!(tour.status().await, "approved");
    tour.shoot("10-approved").await;
    tour.fill("#f-reference", "CS0042137").await;
    tour.click("#filed-form button[type=submit]").await;
    tour.arrive(&format!("/requests/{id}?notice=filed")).await;
    assert_eq!(tour.status().await, "submitted_to_bentley");
    tour.select("#f-projectId", "1").await;
    tour.select("#f-scope", "read write").await;
    tour.fill("#f-token", TOKEN).await;
    tour.click("#token-form button[type=submit]").await;
    tour.arrive(&format!("/requests/{id}?notice=token_recorded"))
        .await;
    assert_eq!(tour.status().await, "token_issued");
    assert!(
        !tour
            .browser
            .source()
            .await
            .expect("the page")
            .contains(TOKEN),
        "the token is never shown, not even in a hidden field"
    );
    tour.shoot("11-token-recorded").await;
    tour.fill("#f-keyName", "site-progress-app").await;
    tour.click("#key-form button[type=submit]").await;
    let key = tour
        .find("#created-key")
        .await
        .prop("value")
        .await
        .expect("value")
        .expect("the key is shown once");
    tour.shoot("12-app-key-created").await;
    tour.goto("/tokens").await;
    tour.shoot("13-tokens").await;

    // The key works on /graphql.
    let (status, body) = app
        .graphql(Some(&key), "{ me { kind appKey { name } } }", json!({}))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert_eq!(body["data"]["me"]["appKey"]["name"], "site-progress-app");

    // The reviewer opens the usage report of the key's project: a day of the key's calls
    // (crafted, as the app has no upstream here) shows in the charts.
    let (_, body) = app
        .graphql(Some(&key), "{ me { appKey { id } } }", json!({}))
        .await;
    let key_id: uuid::Uuid = body["data"]["me"]["appKey"]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("the key's id: {body}"));
    let today = chrono::Utc::now().date_naive().to_string();
    record_volume_with(&app, &today, |call| CallRecord {
        project_id: "1".to_owned(),
        app_key_id: Some(key_id),
        ..call
    })
    .await;
    tour.click("nav a[href='/reports']").await;
    tour.arrive("/reports").await;
    tour.fill("#f-project-id", "1").await;
    tour.fill("#f-app-key-id", &key_id.to_string()).await;
    // Date inputs take dates as the browser's locale types them; set them directly.
    tour.js(&format!(
        "for (const id of ['f-from', 'f-to']) {{ document.getElementById(id).value = '{today}'; }} \
         return true"
    ))
    .await;
    tour.click("#report-form button[type=submit]").await;
    tour.arrive_where("the report of project 1", |path| {
        path.starts_with("/reports?project_id=1&")
    })
    .await;
    tour.until(
        "both charts drawn with their series",
        &format!(
            "const charts = document.querySelectorAll('#report .chart svg'); \
             if (charts.length !== 2) {{ return false; }} \
             const daily = document.querySelector('[data-chart=calls_per_day] svg'); \
             const bars = Array.from(daily.querySelectorAll('rect')).filter(r => \
               (r.getAttribute('fill') || '').toLowerCase() === '#2b59c3' \
               && r.getBoundingClientRect().height > 1); \
             return daily.textContent.includes('{live}') && bars.length > 0 \
               && charts[1].textContent.includes('{endpoint}')",
            live = charts::LIVE_SERIES,
            endpoint = charts::ENDPOINT_SERIES,
        ),
    )
    .await;
    assert_eq!(
        tour.find("[data-total=upstream_calls]")
            .await
            .text()
            .await
            .expect("text"),
        "250",
        "the totals count the day's calls"
    );
    tour.shoot("14-usage-report").await;

    // The request's page and the form on a phone: nothing scrolls sideways (wide tables
    // scroll inside their own box).
    tour.sign_out().await;
    tour.sign_in(&contact).await;
    tour.browser
        .set_window_size(390, 844)
        .await
        .expect("phone size");
    tour.goto(&format!("/requests/{id}")).await;
    tour.until("a phone-sized viewport", "return window.innerWidth <= 400")
        .await;
    let png = tour.browser.screenshot().await.expect("a screenshot");
    std::fs::write(tour.shots.join("15-request-on-a-phone.png"), png).expect("saved");
    let wide = tour.too_wide().await;
    assert!(
        wide.is_empty(),
        "the request's page fits a phone: {wide:#?}"
    );
    tour.goto("/check").await;
    tour.find("#request-form").await;
    let png = tour.browser.screenshot().await.expect("a screenshot");
    std::fs::write(tour.shots.join("16-form-on-a-phone.png"), png).expect("saved");
    let wide = tour.too_wide().await;
    assert!(wide.is_empty(), "the request form fits a phone: {wide:#?}");

    tour.browser.close().await.expect("the browser closes");
    drop(driver);
    app.stop().await;
}
