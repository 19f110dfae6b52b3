//! What Gatehouse drafts for a request (the support request to Bentley and the Dataclips
//! provisioning request), as typed contexts ([`SupportRequestContext`],
//! [`DataclipsRequestContext`]) that always carry every field. The templates that render them
//! are the server's (`documents::Drafts`), behind [`DraftRenderer`].

use gatehouse_compliance::assess::CheckStatus;
use gatehouse_compliance::dataclips::DEFAULT_REFRESH_HOURS;
use gatehouse_compliance::model::{EntityAccess, Trigger};
use gatehouse_compliance::text;
use gatehouse_compliance::{AccessRequest, Assessment};
use serde::Serialize;

/// Which document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftKind {
    /// The support request to Bentley for an API token.
    SupportRequest,
    /// The request to provision dataclips.
    DataclipsRequest,
}

impl DraftKind {
    /// The templates' file stem (`support-request`, `dataclips-request`).
    pub const fn stem(self) -> &'static str {
        match self {
            Self::SupportRequest => "support-request",
            Self::DataclipsRequest => "dataclips-request",
        }
    }
}

/// The format of a rendered document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftFormat {
    /// Markdown.
    Markdown,
    /// Plain text (for the Support Portal's form).
    Text,
    /// HTML (the Markdown, rendered), for the web UI.
    Html,
}

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
#[error("the {template} template failed to render: {source}")]
pub struct DraftError {
    /// The template that failed.
    pub template: String,
    /// Why.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// What renders the drafts from their typed contexts: the server's templates
/// (`documents::Drafts`). The access-request service holds one, so that a draft is one service
/// call.
pub trait DraftRenderer: Send + Sync + std::fmt::Debug {
    /// The support request to Bentley.
    fn support_request(
        &self,
        context: &SupportRequestContext,
        format: DraftFormat,
    ) -> Result<String, DraftError>;

    /// The Dataclips provisioning request.
    fn dataclips_request(
        &self,
        context: &DataclipsRequestContext,
        format: DraftFormat,
    ) -> Result<String, DraftError>;
}

/// What identifies a draft: the request it is for and the day it was prepared.
#[derive(Debug, Clone, Serialize)]
pub struct DraftMeta {
    /// Gatehouse's reference of the request.
    pub reference: String,
    /// The day the draft reflects (the request's last change), `YYYY-MM-DD`.
    pub prepared_on: String,
}

/// One workflow, as the support request describes it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WorkflowContext {
    /// Name.
    pub(crate) name: String,
    /// What it does.
    pub(crate) description: String,
    /// "two-way", "read from SYNCHRO Perform", ...
    pub(crate) direction: String,
    /// "integration", "analytics", "reporting".
    pub(crate) purpose: String,
    /// "activities: read, create, update", one per entity.
    pub(crate) entities: Vec<String>,
    /// "daily at 02:00 UTC", or "not stated".
    pub(crate) frequency: String,
    /// "20,000", or "not stated".
    pub(crate) records_per_run: String,
    /// "01:00-05:00 UTC", or "none".
    pub(crate) sync_window: String,
    /// "400 files a run, about 40.0 MiB each, at most 500.0 MiB", or "none".
    pub(crate) uploads: String,
    /// The channel Gatehouse recommends and why.
    pub(crate) channel: String,
}

/// The load outline, from the assessment's estimate.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LoadContext {
    /// One line per workflow.
    pub(crate) workflows: Vec<String>,
    /// Upstream calls per day, all workflows.
    pub(crate) calls_per_day: String,
    /// Calls in the busiest minute (if the workflows' peaks coincide).
    pub(crate) peak_calls_per_minute: String,
    /// Records read per day.
    pub(crate) records_read_per_day: String,
    /// Records written per day.
    pub(crate) records_written_per_day: String,
    /// Bytes moved per day.
    pub(crate) bytes_per_day: String,
    /// Whether every workflow gave what the estimate needs.
    pub(crate) complete: bool,
}

/// Everything the support-request templates may use. Every field is always present.
#[derive(Debug, Clone, Serialize)]
pub struct SupportRequestContext {
    /// Reference and date.
    pub(crate) meta: DraftMeta,
    /// The project URLs.
    pub(crate) project_urls: Vec<String>,
    /// "Joe Bloggs (Commercial Manager)".
    pub(crate) project_contact: String,
    /// The contact's email, or "not given".
    pub(crate) project_contact_email: String,
    /// The requester's name.
    pub(crate) requester: String,
    /// The requester's email, or "not given".
    pub(crate) requester_email: String,
    /// The organisation.
    pub(crate) organisation: String,
    /// The integration's name.
    pub(crate) integration_name: String,
    /// The integration's purpose.
    pub(crate) purpose: String,
    /// The workflows.
    pub(crate) workflows: Vec<WorkflowContext>,
    /// "Azure, ERP, SAP, JDE", or "none named".
    pub(crate) platforms: String,
    /// Interval and frequency, one line per workflow.
    pub(crate) frequencies: Vec<String>,
    /// The commercial-permission confirmation, as a sentence.
    pub(crate) commercial_permission: String,
    /// The project-contact confirmation, as a sentence.
    pub(crate) contact_confirmation: String,
    /// The API-documentation confirmation, as a sentence.
    pub(crate) api_documentation: String,
    /// "read/write" or "read-only".
    pub(crate) access_mode: String,
    /// "activities (create, update) in 'Daily schedule load'", one per written entity.
    pub(crate) written_entities: Vec<String>,
    /// The entities read, joined.
    pub(crate) read_entities: String,
    /// The load outline.
    pub(crate) load: LoadContext,
    /// Whether any workflow is for analytics, and what that means.
    pub(crate) analytics_statement: String,
    /// The mitigations declared.
    pub(crate) mitigations: Vec<String>,
    /// The mitigations not declared.
    pub(crate) mitigations_missing: Vec<String>,
    /// The channel recommended for the request.
    pub(crate) channel: String,
    /// The verdict, as a sentence.
    pub(crate) verdict: String,
    /// The warnings of the assessment, for the reviewer's eyes.
    pub(crate) warnings: Vec<String>,
}

fn or(value: &str, fallback: &str) -> String {
    let value = value.trim();
    if value.is_empty() {
        fallback.to_owned()
    } else {
        value.to_owned()
    }
}

impl SupportRequestContext {
    /// The context of a request and its assessment.
    pub fn new(request: &AccessRequest, assessment: &Assessment, meta: &DraftMeta) -> Self {
        let contact = &request.project_contact;
        let contact_line = match (contact.name.trim(), contact.role.trim()) {
            ("", _) => "not given".to_owned(),
            (name, "") => name.to_owned(),
            (name, role) => format!("{name} ({role})"),
        };
        let workflows: Vec<WorkflowContext> = request
            .workflows
            .iter()
            .map(|w| {
                let channel = assessment.channel_of(&w.name).map_or_else(
                    || "not assessed".to_owned(),
                    |rec| format!("{}: {}", rec.channel.phrase(), rec.reasons.join("; ")),
                );
                WorkflowContext {
                    name: or(&w.name, "unnamed workflow"),
                    description: or(&w.description, "not described"),
                    direction: w.direction.phrase().to_owned(),
                    purpose: w.purpose.label().to_owned(),
                    entities: w.entities.iter().map(EntityAccess::describe).collect(),
                    frequency: w.frequency_text(),
                    records_per_run: w.records_per_run_text(),
                    sync_window: w
                        .sync_window
                        .map_or_else(|| "none".to_owned(), |s| s.to_string()),
                    uploads: w.uploads_text(),
                    channel,
                }
            })
            .collect();
        let frequencies = request
            .workflows
            .iter()
            .zip(&assessment.load.workflows)
            .map(|(w, load)| {
                let mut parts = vec![
                    w.trigger
                        .as_ref()
                        .map_or_else(|| "frequency not stated".to_owned(), Trigger::describe),
                ];
                if let Some(records) = w.records_per_run {
                    parts.push(format!("{} records a run", text::number(records)));
                }
                if let Some(window) = w.sync_window {
                    parts.push(format!("within {window}"));
                }
                parts.push(format!(
                    "{} a day",
                    text::count(load.runs_per_day, "run", "runs")
                ));
                format!("{}: {}", or(&w.name, "unnamed workflow"), parts.join(", "))
            })
            .collect();
        let permission = &request.commercial_permission;
        let commercial_permission = if permission.confirmed {
            match (
                permission.confirmed_by.as_deref().map(str::trim),
                permission.confirmed_at,
            ) {
                (Some(by), Some(at)) if !by.is_empty() => format!(
                    "Confirmed: we hold our organisation's commercial permission for this data \
                     (given by {by} on {}).",
                    at.format("%Y-%m-%d")
                ),
                _ => "Confirmed: we hold our organisation's commercial permission for this data."
                    .to_owned(),
            }
        } else {
            "NOT YET CONFIRMED: the requester must confirm the organisation's commercial \
             permission."
                .to_owned()
        };
        let contact_confirmation = if contact.name.trim().is_empty() {
            "NOT YET GIVEN: name an accountable project contact.".to_owned()
        } else {
            format!("{contact_line} is the accountable project contact for this request.")
        };
        let docs = &request.api_documentation;
        let api_documentation = match (docs.reviewed, &docs.url) {
            (true, Some(url)) => format!("Reviewed: we have read the API documentation at {url}."),
            (true, None) => "Reviewed: we have read the project's API documentation.".to_owned(),
            (false, _) => "NOT YET CONFIRMED: the API documentation must be reviewed.".to_owned(),
        };
        let mut written = Vec::new();
        let mut read = Vec::new();
        for w in &request.workflows {
            for a in &w.entities {
                if a.writes() {
                    let ops: Vec<&str> = a
                        .operations
                        .iter()
                        .filter(|o| o.is_write())
                        .map(|o| o.as_str())
                        .collect();
                    written.push(format!(
                        "{} ({}) in '{}'",
                        a.entity.label(),
                        ops.join(", "),
                        w.name.trim()
                    ));
                }
                if a.reads() && !read.contains(&a.entity.label()) {
                    read.push(a.entity.label());
                }
            }
        }
        let analytical: Vec<&str> = request
            .workflows
            .iter()
            .filter(|w| w.purpose.is_analytical())
            .map(|w| w.name.trim())
            .collect();
        let analytics_statement = if analytical.is_empty() {
            "No workflow is for analytics or reporting: the token is for two-way integration \
             only. Analytical needs, if any arise, will be met from Dataclips."
                .to_owned()
        } else {
            format!(
                "The workflows {} serve analytics or reporting; we will read their data from \
                 Dataclips, not the API.",
                text::quoted(
                    &analytical
                        .iter()
                        .map(|s| (*s).to_owned())
                        .collect::<Vec<_>>()
                )
            )
        };
        let m = request.mitigations;
        let mut mitigations = Vec::new();
        if m.incremental_sync {
            mitigations.push("incremental sync: only records changed since the last run are read (updated_since)".to_owned());
        }
        if m.off_peak_scheduling {
            mitigations.push("bulk work is scheduled off-peak".to_owned());
        }
        if m.caching {
            mitigations.push("what was read is cached and not read again while fresh".to_owned());
        }
        if m.backoff {
            mitigations
                .push("the client backs off on 429 and 503, honouring Retry-After".to_owned());
        }
        let load = &assessment.load;
        let load = LoadContext {
            workflows: load
                .workflows
                .iter()
                .map(|w| {
                    format!(
                        "{}: {} a day, {} calls a run (about {} min), {} calls a day, {} records \
                         read and {} written a day, {} a day",
                        w.workflow.trim(),
                        text::count(w.runs_per_day, "run", "runs"),
                        text::number(w.calls_per_run),
                        text::number(w.run_minutes),
                        text::number(w.total.calls_per_day),
                        text::number(w.read.records_per_day),
                        text::number(w.write.records_per_day),
                        text::bytes(w.total.bytes_per_day)
                    )
                })
                .collect(),
            calls_per_day: text::number(load.total.calls_per_day),
            peak_calls_per_minute: text::number(load.total.peak_calls_per_minute),
            records_read_per_day: text::number(load.read.records_per_day),
            records_written_per_day: text::number(load.write.records_per_day),
            bytes_per_day: text::bytes(load.total.bytes_per_day),
            complete: load.complete,
        };
        let verdict = assessment.verdict.phrase();
        Self {
            meta: meta.clone(),
            project_urls: request
                .project_urls
                .iter()
                .map(ToString::to_string)
                .collect(),
            project_contact: contact_line,
            project_contact_email: contact
                .email
                .as_ref()
                .map_or_else(|| "not given".to_owned(), ToString::to_string),
            requester: or(&request.requester.name, "not given"),
            requester_email: request
                .requester
                .email
                .as_ref()
                .map_or_else(|| "not given".to_owned(), ToString::to_string),
            organisation: or(&request.requester.organisation, "not given"),
            integration_name: or(&request.integration.name, "not named"),
            purpose: or(&request.integration.purpose, "not described"),
            workflows,
            platforms: if request.platforms.is_empty() {
                "none named".to_owned()
            } else {
                request
                    .platforms
                    .iter()
                    .map(|p| p.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            frequencies,
            commercial_permission,
            contact_confirmation,
            api_documentation,
            access_mode: if written.is_empty() {
                "read-only".to_owned()
            } else {
                "read/write".to_owned()
            },
            written_entities: written,
            read_entities: if read.is_empty() {
                "none".to_owned()
            } else {
                read.join(", ")
            },
            load,
            analytics_statement,
            mitigations,
            mitigations_missing: m.missing().into_iter().map(str::to_owned).collect(),
            channel: assessment.channel.map_or_else(
                || "not assessed (no workflow)".to_owned(),
                |c| c.phrase().to_owned(),
            ),
            verdict,
            warnings: assessment
                .checks
                .iter()
                .filter(|c| c.status == CheckStatus::Warn)
                .map(|c| c.message.clone())
                .collect(),
        }
    }
}

/// One clip to provision.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ClipContext {
    /// "Resource Usages Export".
    pub(crate) title: String,
    /// "resource-usages-export".
    pub(crate) slug: String,
    /// Whether Bentley's public catalogue lists it.
    pub(crate) confirmed: bool,
    /// The workflows it serves, joined.
    pub(crate) workflows: String,
}

/// Everything the Dataclips-request templates may use. Every field is always present.
#[derive(Debug, Clone, Serialize)]
pub struct DataclipsRequestContext {
    /// Reference and date.
    pub(crate) meta: DraftMeta,
    /// The organisation.
    pub(crate) organisation: String,
    /// The requester's name.
    pub(crate) requester: String,
    /// The requester's email, or "not given".
    pub(crate) requester_email: String,
    /// "Joe Bloggs (Commercial Manager)".
    pub(crate) project_contact: String,
    /// The project URLs.
    pub(crate) project_urls: Vec<String>,
    /// The clips.
    pub(crate) clips: Vec<ClipContext>,
    /// The refresh each workflow needs, one line per workflow served by a clip.
    pub(crate) refresh: Vec<String>,
    /// Whether any workflow needs a refresh beyond the standard cycle.
    pub(crate) needs_faster_refresh: bool,
    /// The standard refresh cycle, in hours.
    pub(crate) standard_refresh_hours: u32,
    /// The integration's purpose.
    pub(crate) purpose: String,
}

impl DataclipsRequestContext {
    /// The context of a request and its assessment.
    pub fn new(request: &AccessRequest, assessment: &Assessment, meta: &DraftMeta) -> Self {
        let mut clips: Vec<ClipContext> = Vec::new();
        let mut refresh = Vec::new();
        let mut needs_faster_refresh = false;
        let standard_runs = u64::from(24 / DEFAULT_REFRESH_HOURS);
        for (rec, load) in assessment.channels.iter().zip(&assessment.load.workflows) {
            if rec.dataclips.is_empty() {
                continue;
            }
            for clip in &rec.dataclips {
                match clips.iter_mut().find(|c| c.slug == clip.slug) {
                    Some(existing) => {
                        existing.workflows.push_str(", ");
                        existing.workflows.push_str(rec.workflow.trim());
                    }
                    None => clips.push(ClipContext {
                        title: clip.title.clone(),
                        slug: clip.slug.clone(),
                        confirmed: clip.confirmed,
                        workflows: rec.workflow.trim().to_owned(),
                    }),
                }
            }
            if load.runs_per_day > standard_runs {
                needs_faster_refresh = true;
                let minutes = (24 * 60) / load.runs_per_day.max(1);
                refresh.push(format!(
                    "{}: wants data every {} minutes ({} a day), more often than the standard \
                     {DEFAULT_REFRESH_HOURS}-hour refresh; please say whether a more frequent \
                     refresh can be provisioned, or we will keep to the standard cycle",
                    rec.workflow.trim(),
                    minutes,
                    text::count(load.runs_per_day, "refresh", "refreshes")
                ));
            } else {
                refresh.push(format!(
                    "{}: the standard {DEFAULT_REFRESH_HOURS}-hour refresh is enough",
                    rec.workflow.trim()
                ));
            }
        }
        let contact = &request.project_contact;
        Self {
            meta: meta.clone(),
            organisation: or(&request.requester.organisation, "not given"),
            requester: or(&request.requester.name, "not given"),
            requester_email: request
                .requester
                .email
                .as_ref()
                .map_or_else(|| "not given".to_owned(), ToString::to_string),
            project_contact: match (contact.name.trim(), contact.role.trim()) {
                ("", _) => "not given".to_owned(),
                (name, "") => name.to_owned(),
                (name, role) => format!("{name} ({role})"),
            },
            project_urls: request
                .project_urls
                .iter()
                .map(ToString::to_string)
                .collect(),
            clips,
            refresh,
            needs_faster_refresh,
            standard_refresh_hours: DEFAULT_REFRESH_HOURS,
            purpose: or(&request.integration.purpose, "not described"),
        }
    }
}
