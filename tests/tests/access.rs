//! Access requests, black-box: the public assessment, the request lifecycle and its
//! permissions, the vault (no secret in any response) and app keys bound to requests, on
//! SQLite and PostgreSQL.

use gatehouse_core::auth::Role;
use gatehouse_tests::{Backend, Session, TestApp, backend_tests, first_error_code};
use serde_json::{Value, json};

const VAULT_KEY: &str = "vault_key = \"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\"\n";
const TOKEN: &str = "SP-tok-7f3a9c2e-never-to-be-seen-Q4Z8";
const DATACLIP_PASSWORD: &str = "dc-pass-b81e55d0-also-secret";

const ASSESS: &str = "query($input: AccessRequestInput!) { assessUseCase(input: $input) {
    verdict { kind items { check message } dataclips { slug title } }
    direction channel
    checks { id status message workflows }
    channels { workflow channel reasons dataclips { slug } }
    load { complete total { callsPerDay peakCallsPerMinute } workflows { workflow runsPerDay missing } } } }";

const REQUEST_FIELDS: &str = "id status title ownerEmail bentleyReference
    details { projectUrls platforms workflows { name frequency } }
    assessment { verdict { kind } }
    comments { kind body authorEmail }
    history { action actor summary }";

/// Everything confirmed, no workflow yet.
fn confirmed(purpose: &str) -> Value {
    json!({
        "projectUrls": ["https://acme.e7.site/projects/1"],
        "requester": { "name": "Jane Doe", "email": "jane.doe@acme-construction.com",
                       "organisation": "Acme Construction" },
        "projectContact": { "name": "Joe Bloggs", "role": "Commercial Manager",
                            "email": "joe.bloggs@acme-construction.com" },
        "commercialPermission": { "confirmed": true, "confirmedBy": "Mary Major, Commercial Director",
                                  "confirmedAt": "2026-03-02T09:30:00Z" },
        "apiDocumentation": { "reviewed": true, "url": "https://acme.e7.site/api" },
        "integration": { "name": "Project controls integration", "purpose": purpose },
        "mitigations": { "caching": true, "backoff": true, "offPeakScheduling": true,
                         "incrementalSync": true },
        "workflows": []
    })
}

fn with(mut base: Value, platforms: Value, workflows: Value) -> Value {
    base["platforms"] = platforms;
    base["workflows"] = workflows;
    base
}

/// Bentley's own example: daily schedule loads and high-resolution uploads to activities.
fn bentley_example() -> Value {
    let crud = json!(["READ", "CREATE", "UPDATE"]);
    with(
        confirmed(
            "We have a large project where large schedules from multiple sites are loaded every \
             day, with all tasks, budgets and resources, and high-resolution documents are \
             uploaded from our document-control system to activities.",
        ),
        json!(["Azure", "ERP", "SAP", "JDE"]),
        json!([
            {
                "name": "Daily schedule load",
                "description": "Loads the schedules of every site from SAP and JDE each night: all tasks as activities with their budgets, and the people, equipment and materials assigned to them.",
                "direction": "TWO_WAY",
                "entities": [
                    { "entity": "ACTIVITY", "operations": crud },
                    { "entity": "PERSON", "operations": crud },
                    { "entity": "EQUIPMENT", "operations": crud },
                    { "entity": "OTHER_RESOURCE", "operations": crud },
                    { "entity": "RESOURCE_ASSIGNMENT", "operations": crud }
                ],
                "trigger": { "dailyAt": ["02:00"] },
                "recordsPerRun": 20000,
                "syncWindow": "01:00-05:00"
            },
            {
                "name": "Document-control uploads",
                "description": "Uploads the high-resolution drawings and photographs approved in the document-control system to the timeline of their activities.",
                "direction": "WRITE",
                "entities": [{ "entity": "ACTIVITY", "operations": ["UPLOAD"] }],
                "trigger": { "dailyAt": ["03:00"] },
                "recordsPerRun": 400,
                "uploads": { "filesPerRun": 400, "averageBytes": 41943040, "maxBytes": 524288000 },
                "syncWindow": "01:00-05:00"
            }
        ]),
    )
}

/// A Power BI dashboard reading all resource usages every hour.
fn power_bi_dashboard() -> Value {
    with(
        confirmed(
            "Gives the project's managers an hourly Power BI view of labour hours and costs \
             across companies and work roles.",
        ),
        json!(["Azure", "Power BI"]),
        json!([{
            "name": "Labour hours dashboard",
            "description": "Refreshes a Power BI dashboard of labour hours by company, work role and activity from all resource usages of the project.",
            "direction": "READ",
            "entities": [{ "entity": "RESOURCE_USAGE", "operations": ["READ"] }],
            "trigger": { "everyMinutes": 60 },
            "recordsPerRun": 50000,
            "purpose": "ANALYTICS"
        }]),
    )
}

fn progress_workflow() -> Value {
    json!({
        "name": "Site progress updates",
        "description": "A supervisor opens an activity on site, records percent complete and the app sends a progress entry and updates the activity.",
        "direction": "TWO_WAY",
        "entities": [
            { "entity": "ACTIVITY", "operations": ["READ", "UPDATE"] },
            { "entity": "PROGRESS_ENTRY", "operations": ["CREATE"] }
        ],
        "trigger": { "onDemandPerDay": 200 },
        "recordsPerRun": 5
    })
}

/// A mobile app with which supervisors record progress on activities.
fn mobile_progress_app() -> Value {
    with(
        confirmed(
            "Lets site supervisors record the progress of their activities from a phone, so \
             that the programme in SYNCHRO Perform is current every evening.",
        ),
        json!(["iOS and Android app"]),
        json!([progress_workflow()]),
    )
}

fn check<'a>(assessment: &'a Value, id: &str) -> &'a Value {
    assessment["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no check {id} in {assessment}"))
}

async fn assess(app: &TestApp, input: Value) -> Value {
    let (_, body) = app.graphql(None, ASSESS, json!({ "input": input })).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["assessUseCase"].clone()
}

#[tokio::test]
async fn bentleys_example_is_assessed_two_way_for_a_token_with_its_load_outlined_and_uploads_flagged()
 {
    let app = TestApp::start(Backend::Sqlite).await;
    let assessment = assess(&app, bentley_example()).await;
    assert_eq!(assessment["direction"], "TWO_WAY");
    assert_eq!(assessment["channel"], "API_TOKEN");
    assert_eq!(
        assessment["verdict"]["kind"], "READY_TO_SUBMIT",
        "{assessment}"
    );
    let outline = check(&assessment, "LARGE_DATA_OUTLINED");
    assert_eq!(outline["status"], "PASS", "{outline}");
    assert_eq!(
        outline["workflows"],
        json!(["Daily schedule load", "Document-control uploads"])
    );
    let uploads = check(&assessment, "UPLOAD_VOLUME");
    assert_eq!(uploads["status"], "WARN");
    assert_eq!(uploads["workflows"], json!(["Document-control uploads"]));
    assert_eq!(assessment["load"]["complete"], true);

    // Without volumes, the outline Bentley asks for is missing: the request needs work.
    let mut thin = bentley_example();
    for workflow in thin["workflows"].as_array_mut().expect("workflows") {
        workflow["recordsPerRun"] = Value::Null;
        workflow["uploads"] = Value::Null;
    }
    let assessment = assess(&app, thin).await;
    assert_eq!(assessment["verdict"]["kind"], "NEEDS_WORK");
    assert_eq!(check(&assessment, "LARGE_DATA_OUTLINED")["status"], "FAIL");
    app.stop().await;
}

#[tokio::test]
async fn a_power_bi_dashboard_reading_all_usages_hourly_is_told_to_use_dataclips() {
    let app = TestApp::start(Backend::Sqlite).await;
    let assessment = assess(&app, power_bi_dashboard()).await;
    assert_eq!(
        assessment["verdict"]["kind"], "USE_DATACLIPS_INSTEAD",
        "{assessment}"
    );
    assert_eq!(
        assessment["verdict"]["dataclips"][0]["slug"],
        "resource-usages-export"
    );
    assert_eq!(assessment["channel"], "DATACLIPS");
    assert_eq!(check(&assessment, "ANALYTICS_PURPOSE")["status"], "WARN");
    assert_eq!(
        check(&assessment, "HEAVY_COLLECTION_POLLING")["status"],
        "WARN"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_mobile_progress_app_is_ready_with_its_confirmations_and_needs_work_without() {
    let app = TestApp::start(Backend::Sqlite).await;
    let assessment = assess(&app, mobile_progress_app()).await;
    assert_eq!(
        assessment["verdict"]["kind"], "READY_TO_SUBMIT",
        "{assessment}"
    );
    assert_eq!(assessment["channel"], "API_TOKEN");

    let mut unconfirmed = mobile_progress_app();
    unconfirmed["commercialPermission"] = json!({ "confirmed": false });
    unconfirmed["apiDocumentation"] = json!({ "reviewed": false });
    let assessment = assess(&app, unconfirmed).await;
    assert_eq!(assessment["verdict"]["kind"], "NEEDS_WORK");
    let failed: Vec<&str> = assessment["verdict"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["check"].as_str())
        .collect();
    assert_eq!(failed, ["COMMERCIAL_PERMISSION", "API_DOCUMENTATION"]);
    app.stop().await;
}

#[tokio::test]
async fn invalid_urls_emails_and_times_are_reported_per_field_without_an_account() {
    let app = TestApp::start(Backend::Sqlite).await;
    let mut input = mobile_progress_app();
    input["projectUrls"] = json!(["https://acme.example.com/projects/1"]);
    input["projectContact"]["email"] = json!("joe at acme");
    input["workflows"][0]["trigger"] = json!({ "dailyAt": ["25:00"] });
    let (_, body) = app.graphql(None, ASSESS, json!({ "input": input })).await;
    assert_eq!(first_error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let fields: Vec<&str> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "projectUrls[0]",
            "projectContact.email",
            "workflows[0].trigger.dailyAt[0]"
        ]
    );
    app.stop().await;
}

async fn create(session: &Session, input: Value) -> String {
    let body = session
        .graphql(
            &format!(
                "mutation($input: AccessRequestInput!) {{ createAccessRequest(input: $input) {{ {REQUEST_FIELDS} }} }}"
            ),
            json!({ "input": input }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["createAccessRequest"]["status"], "DRAFT");
    body["data"]["createAccessRequest"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn act(session: &Session, mutation: &str, args: Value) -> Value {
    let params: Vec<String> = args
        .as_object()
        .expect("object")
        .keys()
        .map(|k| format!("{k}: ${k}"))
        .collect();
    let types: Vec<String> = args
        .as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| {
            let ty = match (k.as_str(), v) {
                ("id" | "requestId", _) => "ID!",
                ("decision", _) => "ReviewDecision!",
                ("input", _) => "AccessRequestInput!",
                ("workflow", _) => "WorkflowInput!",
                ("scope", _) => "TokenScope!",
                ("issuedOn", _) => "NaiveDate!",
                ("expiresOn", _) => "NaiveDate",
                (_, Value::Null) => "String",
                _ => "String!",
            };
            format!("${k}: {ty}")
        })
        .collect();
    let selection = match mutation {
        "commentOnAccessRequest" => "id kind body",
        "recordIssuedToken" | "recordDataclipCredentials" => "id fingerprint lastFour version",
        "createAppKeyForRequest" => {
            "key appKey { id scopes { projects entities { entity access } } accessRequestId }"
        }
        _ => REQUEST_FIELDS,
    };
    let query = format!(
        "mutation({}) {{ {mutation}({}) {{ {selection} }} }}",
        types.join(", "),
        params.join(", ")
    );
    session.graphql(&query, args).await
}

fn status_of(body: &Value, mutation: &str) -> String {
    body["data"][mutation]["status"]
        .as_str()
        .unwrap_or_else(|| panic!("{mutation} answered {body}"))
        .to_owned()
}

async fn a_request_goes_through_review_with_its_permissions(backend: Backend) {
    let app = TestApp::start(backend).await;
    let contact_user = app.create_user(Role::Contact).await;
    let contact = app.session(&contact_user).await;
    let other_contact = app.session(&app.create_user(Role::Contact).await).await;
    let reviewer_user = app.create_user(Role::Reviewer).await;
    let reviewer = app.session(&reviewer_user).await;

    // The contact drafts, edits, adds and removes workflows.
    let mut draft = mobile_progress_app();
    draft["workflows"] = json!([]);
    let id = create(&contact, draft).await;
    let body = act(
        &contact,
        "addWorkflow",
        json!({ "requestId": id, "workflow": progress_workflow() }),
    )
    .await;
    assert_eq!(
        body["data"]["addWorkflow"]["details"]["workflows"][0]["name"], "Site progress updates",
        "{body}"
    );
    let body = act(
        &contact,
        "addWorkflow",
        json!({ "requestId": id, "workflow": progress_workflow() }),
    )
    .await;
    assert_eq!(
        first_error_code(&body),
        Some("BAD_USER_INPUT"),
        "duplicate names: {body}"
    );
    let mut second = progress_workflow();
    second["name"] = json!("Evening export");
    act(
        &contact,
        "addWorkflow",
        json!({ "requestId": id, "workflow": second }),
    )
    .await;
    let body = act(
        &contact,
        "removeWorkflow",
        json!({ "requestId": id, "name": "Evening export" }),
    )
    .await;
    assert_eq!(
        body["data"]["removeWorkflow"]["details"]["workflows"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "{body}"
    );
    let mut edited = mobile_progress_app();
    edited["integration"]["name"] = json!("Site progress app");
    let body = act(
        &contact,
        "updateAccessRequest",
        json!({ "id": id, "input": edited }),
    )
    .await;
    assert_eq!(
        body["data"]["updateAccessRequest"]["title"], "Site progress app",
        "{body}"
    );

    // Nobody else edits or even sees it.
    let body = act(
        &other_contact,
        "updateAccessRequest",
        json!({ "id": id, "input": mobile_progress_app() }),
    )
    .await;
    assert_eq!(first_error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = other_contact
        .graphql("{ accessRequests { id } }", json!({}))
        .await;
    assert_eq!(body["data"]["accessRequests"], json!([]), "{body}");
    let body = act(&reviewer, "submitAccessRequest", json!({ "id": id })).await;
    assert_eq!(
        first_error_code(&body),
        Some("FORBIDDEN"),
        "only the owner submits: {body}"
    );

    // Submitted, it is no longer editable; a contact cannot review.
    let body = act(&contact, "submitAccessRequest", json!({ "id": id })).await;
    assert_eq!(status_of(&body, "submitAccessRequest"), "IN_REVIEW");
    let body = act(
        &contact,
        "updateAccessRequest",
        json!({ "id": id, "input": edited }),
    )
    .await;
    assert_eq!(first_error_code(&body), Some("CONFLICT"), "{body}");
    let body = act(
        &contact,
        "reviewAccessRequest",
        json!({ "id": id, "decision": "APPROVE", "comment": null }),
    )
    .await;
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"), "{body}");

    // Changes are requested with a comment; the contact answers, edits and resubmits.
    let body = act(
        &reviewer,
        "reviewAccessRequest",
        json!({ "id": id, "decision": "REQUEST_CHANGES", "comment": null }),
    )
    .await;
    assert_eq!(
        first_error_code(&body),
        Some("BAD_USER_INPUT"),
        "a comment is required: {body}"
    );
    let body = act(
        &reviewer,
        "reviewAccessRequest",
        json!({ "id": id, "decision": "REQUEST_CHANGES", "comment": "Name the supervisor app's vendor." }),
    )
    .await;
    assert_eq!(status_of(&body, "reviewAccessRequest"), "CHANGES_REQUESTED");
    let body = act(
        &contact,
        "commentOnAccessRequest",
        json!({ "id": id, "body": "Built in-house by Acme Digital." }),
    )
    .await;
    assert_eq!(
        body["data"]["commentOnAccessRequest"]["kind"], "comment",
        "{body}"
    );
    edited["platforms"] = json!(["Acme Digital in-house app"]);
    act(
        &contact,
        "updateAccessRequest",
        json!({ "id": id, "input": edited }),
    )
    .await;
    let body = act(&contact, "submitAccessRequest", json!({ "id": id })).await;
    assert_eq!(status_of(&body, "submitAccessRequest"), "IN_REVIEW");

    // A reviewer's own request cannot be approved by that reviewer.
    let own = create(&reviewer, mobile_progress_app()).await;
    act(&reviewer, "submitAccessRequest", json!({ "id": own })).await;
    let body = act(
        &reviewer,
        "reviewAccessRequest",
        json!({ "id": own, "decision": "APPROVE", "comment": null }),
    )
    .await;
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("own request")),
        "{body}"
    );

    let body = act(
        &reviewer,
        "reviewAccessRequest",
        json!({ "id": id, "decision": "APPROVE", "comment": null }),
    )
    .await;
    assert_eq!(status_of(&body, "reviewAccessRequest"), "APPROVED");
    let body = act(
        &reviewer,
        "reviewAccessRequest",
        json!({ "id": id, "decision": "APPROVE", "comment": null }),
    )
    .await;
    assert_eq!(
        first_error_code(&body),
        Some("CONFLICT"),
        "approved once: {body}"
    );

    // The contact sees the conversation and every transition in the audit history.
    let body = contact
        .graphql(
            &format!("query($id: ID!) {{ accessRequest(id: $id) {{ {REQUEST_FIELDS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    let request = &body["data"]["accessRequest"];
    let comments: Vec<(&str, &str)> = request["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap_or(""),
                c["body"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        comments,
        [
            ("request_changes", "Name the supervisor app's vendor."),
            ("comment", "Built in-house by Acme Digital.")
        ]
    );
    let actions: Vec<&str> = request["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "access_request.create",
            "access_request.add_workflow",
            "access_request.add_workflow",
            "access_request.remove_workflow",
            "access_request.update",
            "access_request.submit",
            "access_request.request_changes",
            "access_request.comment",
            "access_request.update",
            "access_request.submit",
            "access_request.approve",
        ]
    );
    let approve = &request["history"][10];
    assert_eq!(approve["actor"], format!("user:{}", reviewer_user.id));
    assert_eq!(approve["summary"]["from"], "in_review");
    assert_eq!(approve["summary"]["to"], "approved");

    // Reviewers see every request; a filter by status narrows it.
    let body = reviewer
        .graphql("{ accessRequests(status: APPROVED) { id } }", json!({}))
        .await;
    assert_eq!(
        body["data"]["accessRequests"],
        json!([{ "id": id }]),
        "{body}"
    );
    app.stop().await;
}

async fn a_request_that_fails_its_checks_cannot_be_submitted(backend: Backend) {
    let app = TestApp::start(backend).await;
    let contact = app.session(&app.create_user(Role::Contact).await).await;
    let mut input = mobile_progress_app();
    input["commercialPermission"] = json!({ "confirmed": false });
    let id = create(&contact, input).await;
    let body = act(&contact, "submitAccessRequest", json!({ "id": id })).await;
    assert_eq!(first_error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("commercial_permission")),
        "{body}"
    );
    app.stop().await;
}

/// Takes a new request of `contact` to `submitted_to_bentley`; returns its id.
async fn filed_request(contact: &Session, reviewer: &Session) -> String {
    let id = create(contact, mobile_progress_app()).await;
    act(contact, "submitAccessRequest", json!({ "id": id })).await;
    act(
        reviewer,
        "reviewAccessRequest",
        json!({ "id": id, "decision": "APPROVE", "comment": null }),
    )
    .await;
    let body = act(
        contact,
        "markAccessRequestFiled",
        json!({ "id": id, "reference": "CS0123456" }),
    )
    .await;
    assert_eq!(
        status_of(&body, "markAccessRequestFiled"),
        "SUBMITTED_TO_BENTLEY"
    );
    assert_eq!(
        body["data"]["markAccessRequestFiled"]["bentleyReference"],
        "CS0123456"
    );
    id
}

async fn a_recorded_token_appears_in_no_response_and_rotates(backend: Backend) {
    let app = TestApp::start_with(backend, VAULT_KEY).await;
    let contact = app.session(&app.create_user(Role::Contact).await).await;
    let reviewer = app.session(&app.create_user(Role::Reviewer).await).await;
    let admin = app.session(&app.create_user(Role::Admin).await).await;
    let id = filed_request(&contact, &reviewer).await;

    let token_args = |token: &str| {
        json!({ "requestId": id, "projectId": "1", "token": token, "scope": "READ_WRITE",
                "issuedOn": "2026-03-10", "expiresOn": "2099-03-10" })
    };
    let body = act(&contact, "recordIssuedToken", token_args(TOKEN)).await;
    assert_eq!(
        first_error_code(&body),
        Some("FORBIDDEN"),
        "contacts do not record tokens"
    );
    let mut wrong_project = token_args(TOKEN);
    wrong_project["projectId"] = json!("99");
    let error_text = reviewer
        .graphql_text(
            "mutation($requestId: ID!, $projectId: String!, $token: String!, $scope: TokenScope!, $issuedOn: NaiveDate!, $expiresOn: NaiveDate) { recordIssuedToken(requestId: $requestId, projectId: $projectId, token: $token, scope: $scope, issuedOn: $issuedOn, expiresOn: $expiresOn) { id } }",
            wrong_project,
        )
        .await;
    assert!(error_text.contains("projectId"), "{error_text}");
    assert!(
        !error_text.contains(TOKEN),
        "an error echoed the token: {error_text}"
    );

    let body = act(&reviewer, "recordIssuedToken", token_args(TOKEN)).await;
    let record = &body["data"]["recordIssuedToken"];
    assert_eq!(record["lastFour"], "Q4Z8", "{body}");
    assert_eq!(record["version"], 1);
    let body = reviewer
        .graphql(
            "query($id: ID!) { accessRequest(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(body["data"]["accessRequest"]["status"], "TOKEN_ISSUED");

    let rotated = "SP-tok-rotated-0000-also-secret-R2D2";
    let body = act(&reviewer, "recordIssuedToken", token_args(rotated)).await;
    assert_eq!(body["data"]["recordIssuedToken"]["version"], 2, "{body}");
    let body = act(
        &contact,
        "recordDataclipCredentials",
        json!({ "requestId": id, "projectId": "1", "username": "jane.dataclips", "password": DATACLIP_PASSWORD }),
    )
    .await;
    assert_eq!(
        body["data"]["recordDataclipCredentials"]["lastFour"], "cret",
        "{body}"
    );

    // The vault hands the current token to the upstream client, and nobody else.
    let current = app
        .app
        .services
        .vault
        .current_token("1")
        .await
        .expect("reads");
    assert_eq!(
        current.as_ref().map(secrecy::ExposeSecret::expose_secret),
        Some(rotated)
    );

    let everything = format!(
        "query($id: ID!) {{ accessRequest(id: $id) {{ {REQUEST_FIELDS}
            draft(format: MARKDOWN) text: draft(format: TEXT) html: draft(format: HTML)
            dataclipsDraft(format: MARKDOWN)
            vaultRecords {{ id kind projectId version current scope username fingerprint lastFour
                            issuedOn expiresOn daysUntilExpiry expiry expiryWarning createdAt revokedAt }}
            appKeys {{ id }} }}
          vaultRecords {{ id kind current fingerprint lastFour username expiryWarning }}
          auditLog(limit: 1000) {{ action actor recordType recordId summary }} }}"
    );
    let mut texts = Vec::new();
    for session in [&contact, &reviewer, &admin] {
        texts.push(session.graphql_text(&everything, json!({ "id": id })).await);
    }
    let reviewer_view: Value = serde_json::from_str(&texts[1]).expect("json");
    assert!(reviewer_view["errors"].is_null(), "{reviewer_view}");
    let records = reviewer_view["data"]["accessRequest"]["vaultRecords"]
        .as_array()
        .expect("records");
    assert_eq!(records.len(), 3, "two token versions and the credentials");
    assert_eq!(
        records.iter().filter(|r| r["current"] == true).count(),
        2,
        "the first token version is kept, revoked"
    );
    for text in &texts {
        for secret in [TOKEN, rotated, DATACLIP_PASSWORD] {
            assert!(
                !text.contains(secret),
                "a secret leaked into a response: {text}"
            );
        }
    }
    app.stop().await;
}

async fn without_a_vault_key_tokens_are_refused_and_the_app_still_runs(backend: Backend) {
    let app = TestApp::start(backend).await;
    let contact = app.session(&app.create_user(Role::Contact).await).await;
    let reviewer = app.session(&app.create_user(Role::Reviewer).await).await;
    let id = filed_request(&contact, &reviewer).await;
    let body = act(
        &reviewer,
        "recordIssuedToken",
        json!({ "requestId": id, "projectId": "1", "token": TOKEN, "scope": "READ",
                "issuedOn": "2026-03-10", "expiresOn": null }),
    )
    .await;
    assert_eq!(first_error_code(&body), Some("VAULT_LOCKED"), "{body}");
    assert!(!body.to_string().contains(TOKEN));
    let body = reviewer
        .graphql(
            "query($id: ID!) { accessRequest(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        body["data"]["accessRequest"]["status"], "SUBMITTED_TO_BENTLEY",
        "nothing changed"
    );
    app.stop().await;
}

async fn a_key_bound_to_a_request_has_its_workflow_scopes_and_dies_with_it(backend: Backend) {
    let app = TestApp::start(backend).await;
    let contact = app.session(&app.create_user(Role::Contact).await).await;
    let reviewer = app.session(&app.create_user(Role::Reviewer).await).await;
    let id = create(&contact, mobile_progress_app()).await;
    let key_args = json!({ "requestId": id, "name": "site-progress-app" });
    let body = act(&reviewer, "createAppKeyForRequest", key_args.clone()).await;
    assert_eq!(
        first_error_code(&body),
        Some("CONFLICT"),
        "drafts get no keys: {body}"
    );
    act(&contact, "submitAccessRequest", json!({ "id": id })).await;
    act(
        &reviewer,
        "reviewAccessRequest",
        json!({ "id": id, "decision": "APPROVE", "comment": null }),
    )
    .await;
    let body = act(&contact, "createAppKeyForRequest", key_args.clone()).await;
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"), "{body}");

    let body = act(&reviewer, "createAppKeyForRequest", key_args).await;
    let created = &body["data"]["createAppKeyForRequest"];
    assert_eq!(created["appKey"]["accessRequestId"], id.as_str(), "{body}");
    assert_eq!(created["appKey"]["scopes"]["projects"], json!(["1"]));
    assert_eq!(
        created["appKey"]["scopes"]["entities"],
        json!([
            { "entity": "ACTIVITY", "access": "WRITE" },
            { "entity": "PROGRESS_ENTRY", "access": "WRITE" }
        ])
    );
    let key = created["key"].as_str().expect("key shown once").to_owned();
    let (status, _) = app.graphql(Some(&key), "{ me { kind } }", json!({})).await;
    assert_eq!(status, reqwest::StatusCode::OK);

    let body = act(
        &reviewer,
        "revokeAccessRequest",
        json!({ "id": id, "reason": "The app was retired." }),
    )
    .await;
    assert_eq!(status_of(&body, "revokeAccessRequest"), "REVOKED", "{body}");
    let (status, body) = app.graphql(Some(&key), "{ me { kind } }", json!({})).await;
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(first_error_code(&body), Some("UNAUTHENTICATED"));
    let body = reviewer
        .graphql(
            "query($id: ID!) { accessRequest(id: $id) { appKeys { revokedAt } history { action } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        body["data"]["accessRequest"]["appKeys"][0]["revokedAt"].is_string(),
        "{body}"
    );
    let last = body["data"]["accessRequest"]["history"]
        .as_array()
        .and_then(|h| h.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["action"], "access_request.revoke", "{body}");
    app.stop().await;
}

backend_tests!(
    a_request_goes_through_review_with_its_permissions,
    a_request_that_fails_its_checks_cannot_be_submitted,
    a_recorded_token_appears_in_no_response_and_rotates,
    without_a_vault_key_tokens_are_refused_and_the_app_still_runs,
    a_key_bound_to_a_request_has_its_workflow_scopes_and_dies_with_it,
);
