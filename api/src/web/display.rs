//! How stored things read on a page: statuses, times, the audit history, vault records and app
//! keys, and what a request says. Plain view structs built from the services' types.

use chrono::{DateTime, NaiveDate, Utc};
use gatehouse_compliance::AccessRequest;
use gatehouse_compliance::model::EntityAccess;
use serde::Serialize;
use serde_json::Value;

use gatehouse_core::access::{Comment, RequestStatus, StoredRequest};
use gatehouse_core::audit::AuditEntry;
use gatehouse_core::auth::AppKeyInfo;
use gatehouse_core::vault::{Expiry, SecretKind, VaultRecord};

/// A status for people.
pub fn status_label(status: RequestStatus) -> &'static str {
    match status {
        RequestStatus::Draft => "Draft",
        RequestStatus::InReview => "In review",
        RequestStatus::ChangesRequested => "Changes requested",
        RequestStatus::Approved => "Approved",
        RequestStatus::SubmittedToBentley => "Filed with Bentley",
        RequestStatus::TokenIssued => "Token issued",
        RequestStatus::Active => "Active",
        RequestStatus::Revoked => "Revoked",
        RequestStatus::Expired => "Expired",
        RequestStatus::Rejected => "Rejected",
    }
}

/// A time for people, in UTC.
pub fn when(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn day(date: Option<NaiveDate>) -> String {
    date.map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// A request in a list.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRow {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Stored status name (a CSS class).
    pub status: &'static str,
    /// Status for people.
    pub status_label: &'static str,
    /// The owner's email.
    pub owner: String,
    /// Last change.
    pub updated: String,
    /// Workflows.
    pub workflows: usize,
}

impl From<&StoredRequest> for RequestRow {
    fn from(r: &StoredRequest) -> Self {
        Self {
            id: r.id.to_string(),
            title: r.title.clone(),
            status: r.status.as_str(),
            status_label: status_label(r.status),
            owner: r.owner_email.clone().unwrap_or_default(),
            updated: when(r.updated_at),
            workflows: r.body.workflows.len(),
        }
    }
}

/// A comment of the review conversation.
#[derive(Debug, Clone, Serialize)]
pub struct CommentRow {
    /// The author's email.
    pub author: String,
    /// "Comment", or the action it explains ("Asked for changes").
    pub kind: String,
    /// The text.
    pub body: String,
    /// When.
    pub when: String,
}

impl From<Comment> for CommentRow {
    fn from(c: Comment) -> Self {
        Self {
            author: c.author_email.unwrap_or_else(|| c.author_id.to_string()),
            kind: match c.kind.as_str() {
                "comment" => "Comment".to_owned(),
                other => action_label(&format!("access_request.{other}")),
            },
            body: c.body,
            when: when(c.created_at),
        }
    }
}

/// What an audit action reads as.
fn action_label(action: &str) -> String {
    let label = match action.strip_prefix("access_request.").unwrap_or(action) {
        "create" => "Created",
        "update" => "Edited",
        "add_workflow" => "Added a workflow",
        "remove_workflow" => "Removed a workflow",
        "submit" => "Submitted for review",
        "approve" => "Approved",
        "request_changes" => "Asked for changes",
        "reject" => "Rejected",
        "comment" => "Commented",
        "mark_filed" => "Filed with Bentley",
        "record_token" => "Recorded an issued token",
        "record_dataclip_credentials" => "Recorded dataclip credentials",
        "create_app_key" => "Created an app key",
        "revoke_app_key" => "Revoked an app key",
        "activate" => "Activated",
        "revoke" => "Revoked access",
        "expire" => "Marked expired",
        other => return other.replace(['_', '.'], " "),
    };
    label.to_owned()
}

/// One entry of a request's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    /// When.
    pub when: String,
    /// Who (an email, or the actor's id).
    pub who: String,
    /// What.
    pub what: String,
    /// Detail ("draft → in review", a reference, a project).
    pub detail: String,
}

impl HistoryRow {
    /// A row from an audit entry and its actor's email.
    pub fn new(entry: &AuditEntry, email: Option<String>) -> Self {
        let s = &entry.summary;
        let status = |key: &str| {
            s[key]
                .as_str()
                .and_then(|v| v.parse::<RequestStatus>().ok())
                .map(status_label)
        };
        let mut detail = Vec::new();
        if let (Some(from), Some(to)) = (status("from"), status("to")) {
            detail.push(format!("{from} → {to}"));
        }
        for (key, label) in [
            ("reference", "reference"),
            ("project_id", "project"),
            ("prefix", "key"),
        ] {
            if let Some(value) = s[key].as_str() {
                detail.push(format!("{label} {value}"));
            }
        }
        if let Value::Array(names) = &s["workflows"] {
            let names: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
            if !names.is_empty() {
                detail.push(format!("workflows: {}", names.join(", ")));
            }
        }
        Self {
            when: when(entry.occurred_at),
            who: email.unwrap_or_else(|| entry.actor.clone()),
            what: action_label(&entry.action),
            detail: detail.join("; "),
        }
    }
}

/// A vault record (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct VaultRow {
    /// Request id, or "".
    pub request_id: String,
    /// "API token" or "Dataclip credentials".
    pub kind: &'static str,
    /// Project.
    pub project: String,
    /// Version.
    pub version: i32,
    /// In use.
    pub current: bool,
    /// Scope or dataclip user.
    pub detail: String,
    /// Fingerprint and last four characters.
    pub fingerprint: String,
    /// Issued on.
    pub issued_on: String,
    /// Expires on.
    pub expires_on: String,
    /// `valid`, `expiring_soon`, `expired` or `unknown` (a CSS class).
    pub expiry: &'static str,
    /// Days left, or "".
    pub days_left: String,
    /// A warning, or null.
    pub warning: Option<String>,
}

impl From<&VaultRecord> for VaultRow {
    fn from(r: &VaultRecord) -> Self {
        Self {
            request_id: r.request_id.map(|id| id.to_string()).unwrap_or_default(),
            kind: match r.kind {
                SecretKind::Token => "API token",
                SecretKind::DataclipCredentials => "Dataclip credentials",
            },
            project: r.project_id.clone(),
            version: r.version,
            current: r.is_current(),
            detail: r
                .scope
                .clone()
                .or_else(|| r.username.clone())
                .unwrap_or_default(),
            fingerprint: format!("{} …{}", r.fingerprint, r.last_four),
            issued_on: day(r.issued_on),
            expires_on: day(r.expires_on),
            expiry: match r.expiry {
                Expiry::Unknown => "unknown",
                Expiry::Valid => "valid",
                Expiry::ExpiringSoon => "expiring_soon",
                Expiry::Expired => "expired",
            },
            days_left: r
                .days_until_expiry
                .map(|d| d.to_string())
                .unwrap_or_default(),
            warning: r.expiry_warning(),
        }
    }
}

/// An app key (never the key itself).
#[derive(Debug, Clone, Serialize)]
pub struct KeyRow {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The key's first characters.
    pub prefix: String,
    /// What it may do.
    pub scopes: String,
    /// Created.
    pub created: String,
    /// Expires, or "never".
    pub expires: String,
    /// Last used, or "never".
    pub last_used: String,
    /// Revoked at, or null.
    pub revoked: Option<String>,
}

impl From<&AppKeyInfo> for KeyRow {
    fn from(k: &AppKeyInfo) -> Self {
        Self {
            id: k.id.to_string(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            scopes: k.scopes.describe(),
            created: when(k.created_at),
            expires: k.expires_at.map_or_else(|| "never".to_owned(), when),
            last_used: k.last_used_at.map_or_else(|| "never".to_owned(), when),
            revoked: k.revoked_at.map(when),
        }
    }
}

/// One workflow, as the request's page reads it.
#[derive(Debug, Clone, Serialize)]
pub struct WorkflowSummary {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Direction and purpose.
    pub kind: String,
    /// "activities: read, update", one per entity.
    pub entities: Vec<String>,
    /// Frequency.
    pub frequency: String,
    /// Records per run.
    pub records_per_run: String,
    /// Uploads.
    pub uploads: String,
    /// Sync window.
    pub sync_window: String,
}

/// What a request says, for reading.
#[derive(Debug, Clone, Serialize)]
pub struct RequestDetails {
    /// Project URLs.
    pub project_urls: Vec<String>,
    /// "Jane Doe <jane@…>, Acme".
    pub requester: String,
    /// "Joe Bloggs, Commercial Manager <joe@…>".
    pub contact: String,
    /// "Confirmed by … on …", or "Not confirmed".
    pub permission: String,
    /// "Reviewed: https://acme.e7.site/api", or "Not reviewed".
    pub api_documentation: String,
    /// Integration name.
    pub integration: String,
    /// Purpose.
    pub purpose: String,
    /// Platforms.
    pub platforms: String,
    /// Mitigations.
    pub mitigations: String,
    /// Workflows.
    pub workflows: Vec<WorkflowSummary>,
}

fn or_not_stated(value: String) -> String {
    if value.trim().is_empty() {
        "not stated".to_owned()
    } else {
        value
    }
}

impl From<&AccessRequest> for RequestDetails {
    fn from(r: &AccessRequest) -> Self {
        let person = |name: &str, extra: &str, email: Option<String>| {
            let mut out = name.to_owned();
            if !extra.is_empty() {
                out.push_str(&format!(", {extra}"));
            }
            if let Some(email) = email {
                out.push_str(&format!(" <{email}>"));
            }
            or_not_stated(out)
        };
        let p = &r.commercial_permission;
        let m = &r.mitigations;
        let mitigations: Vec<&str> = [
            (m.caching, "caching"),
            (m.backoff, "back-off"),
            (m.off_peak_scheduling, "off-peak scheduling"),
            (m.incremental_sync, "incremental sync"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, label)| label)
        .collect();
        Self {
            project_urls: r.project_urls.iter().map(ToString::to_string).collect(),
            requester: person(
                &r.requester.name,
                &r.requester.organisation,
                r.requester.email.as_ref().map(ToString::to_string),
            ),
            contact: person(
                &r.project_contact.name,
                &r.project_contact.role,
                r.project_contact.email.as_ref().map(ToString::to_string),
            ),
            permission: if p.confirmed {
                format!(
                    "Confirmed{}{}",
                    p.confirmed_by
                        .as_ref()
                        .map(|b| format!(" by {b}"))
                        .unwrap_or_default(),
                    p.confirmed_at
                        .map(|t| format!(" on {}", t.format("%Y-%m-%d")))
                        .unwrap_or_default()
                )
            } else {
                "Not confirmed".to_owned()
            },
            api_documentation: match (&r.api_documentation.reviewed, &r.api_documentation.url) {
                (true, Some(url)) => format!("Reviewed: {url}"),
                (true, None) => "Reviewed".to_owned(),
                (false, _) => "Not reviewed".to_owned(),
            },
            integration: or_not_stated(r.integration.name.clone()),
            purpose: or_not_stated(r.integration.purpose.clone()),
            platforms: or_not_stated(
                r.platforms
                    .iter()
                    .map(|p| p.label().to_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            mitigations: if mitigations.is_empty() {
                "none declared".to_owned()
            } else {
                mitigations.join(", ")
            },
            workflows: r
                .workflows
                .iter()
                .map(|w| WorkflowSummary {
                    name: w.name.clone(),
                    description: or_not_stated(w.description.clone()),
                    kind: format!("{}, for {}", w.direction.label(), w.purpose.label()),
                    entities: w.entities.iter().map(EntityAccess::describe).collect(),
                    frequency: w.frequency_text(),
                    records_per_run: w.records_per_run_text(),
                    uploads: w.uploads_text(),
                    sync_window: w
                        .sync_window
                        .map_or_else(|| "any time".to_owned(), |s| s.to_string()),
                })
                .collect(),
        }
    }
}
