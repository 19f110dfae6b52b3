//! The documents Gatehouse drafts for a request: the support request to Bentley and the
//! Dataclips provisioning request, from the handlebars templates in `templates/`.
//!
//! - Templates are registered once at start-up, in strict mode: a value missing from the
//!   context is an error, never an empty line. The contexts are typed ([`SupportRequestContext`],
//!   [`DataclipsRequestContext`]) and always carry every field.
//! - Markdown and plain text have their own templates. HTML is the Markdown rendered by
//!   pulldown-cmark: one source for the document's structure, so the web and the Markdown never
//!   drift apart. Values are escaped for Markdown when they go into the Markdown templates, and
//!   any raw HTML is escaped when rendering to HTML, so a request's text cannot inject markup.
//! - `templates.override_dir` may replace built-in templates file by file. Each override must
//!   compile and render against a sample context (Bentley's own example); a bad one stops
//!   start-up with a message naming the file.

use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use gatehouse_compliance::assess::{Channel, CheckStatus, Verdict};
use gatehouse_compliance::dataclips::DEFAULT_REFRESH_HOURS;
use gatehouse_compliance::model::{Direction, Trigger, WorkflowPurpose};
use gatehouse_compliance::text;
use gatehouse_compliance::{AccessRequest, Assessment, AssessmentPolicy};
use handlebars::Handlebars;
use rust_embed::Embed;
use serde::Serialize;

/// The files of `templates/`, embedded in the binary.
#[derive(Embed)]
#[folder = "../templates/"]
struct TemplateFiles;

/// Which document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftKind {
    /// The support request to Bentley for an API token.
    SupportRequest,
    /// The request to provision dataclips.
    DataclipsRequest,
}

impl DraftKind {
    const fn stem(self) -> &'static str {
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

/// The template files Gatehouse knows, by file name.
pub const TEMPLATE_FILES: [&str; 4] = [
    "support-request.md.hbs",
    "support-request.txt.hbs",
    "dataclips-request.md.hbs",
    "dataclips-request.txt.hbs",
];

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
#[error("the {template} template failed to render: {source}")]
pub struct DraftError {
    template: String,
    #[source]
    source: handlebars::RenderError,
}

/// The registered templates: one registry that escapes for Markdown, one that does not escape
/// (plain text).
pub struct Drafts {
    markdown: Handlebars<'static>,
    text: Handlebars<'static>,
}

impl fmt::Debug for Drafts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drafts").finish_non_exhaustive()
    }
}

/// Escapes the characters that would make a value into Markdown structure.
fn escape_markdown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Drafts {
    /// Registers the built-in templates, then the overrides of `override_dir`, and checks that
    /// every template renders against the sample context.
    pub fn load(override_dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut markdown = Handlebars::new();
        markdown.set_strict_mode(true);
        markdown.register_escape_fn(escape_markdown);
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        let mut drafts = Self { markdown, text };
        for file in TEMPLATE_FILES {
            let embedded = TemplateFiles::get(file)
                .with_context(|| format!("the built-in template {file} is missing"))?;
            let source = std::str::from_utf8(&embedded.data)
                .with_context(|| format!("the built-in template {file} is not UTF-8"))?;
            drafts
                .register(file, source)
                .with_context(|| format!("the built-in template {file} does not compile"))?;
        }
        if let Some(dir) = override_dir {
            drafts.load_overrides(dir)?;
        }
        drafts.check_against_sample()?;
        Ok(drafts)
    }

    fn load_overrides(&mut self, dir: &Path) -> anyhow::Result<()> {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("templates.override_dir {} cannot be read", dir.display()))?;
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "hbs"))
            .collect();
        files.sort();
        for path in files {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            if !TEMPLATE_FILES.contains(&name.as_str()) {
                anyhow::bail!(
                    "template override {}: unknown template; the templates are {}",
                    path.display(),
                    TEMPLATE_FILES.join(", ")
                );
            }
            let source = std::fs::read_to_string(&path)
                .with_context(|| format!("template override {} cannot be read", path.display()))?;
            self.register(&name, &source).with_context(|| {
                format!("template override {} does not compile", path.display())
            })?;
            let sample = Sample::new();
            let rendered = match name.split('.').next() {
                Some("support-request") => self.render_template(&name, &sample.support),
                _ => self.render_template(&name, &sample.dataclips),
            };
            rendered.with_context(|| {
                format!(
                    "template override {} does not render against the sample request",
                    path.display()
                )
            })?;
            tracing::info!(template.path = %path.display(), "using a template override");
        }
        Ok(())
    }

    fn register(&mut self, file: &str, source: &str) -> Result<(), handlebars::TemplateError> {
        if file.ends_with(".md.hbs") {
            self.markdown.register_template_string(file, source)
        } else {
            self.text.register_template_string(file, source)
        }
    }

    fn check_against_sample(&self) -> anyhow::Result<()> {
        let sample = Sample::new();
        for format in [DraftFormat::Markdown, DraftFormat::Text, DraftFormat::Html] {
            self.support_request(&sample.support, format)?;
            self.dataclips_request(&sample.dataclips, format)?;
        }
        Ok(())
    }

    fn render_template(&self, file: &str, context: &impl Serialize) -> Result<String, DraftError> {
        let registry = if file.ends_with(".md.hbs") {
            &self.markdown
        } else {
            &self.text
        };
        registry.render(file, context).map_err(|source| DraftError {
            template: file.to_owned(),
            source,
        })
    }

    fn render(
        &self,
        kind: DraftKind,
        format: DraftFormat,
        context: &impl Serialize,
    ) -> Result<String, DraftError> {
        match format {
            DraftFormat::Markdown => {
                self.render_template(&format!("{}.md.hbs", kind.stem()), context)
            }
            DraftFormat::Text => self.render_template(&format!("{}.txt.hbs", kind.stem()), context),
            DraftFormat::Html => Ok(markdown_to_html(
                &self.render_template(&format!("{}.md.hbs", kind.stem()), context)?,
            )),
        }
    }

    /// The support request to Bentley.
    pub fn support_request(
        &self,
        context: &SupportRequestContext,
        format: DraftFormat,
    ) -> Result<String, DraftError> {
        self.render(DraftKind::SupportRequest, format, context)
    }

    /// The Dataclips provisioning request.
    pub fn dataclips_request(
        &self,
        context: &DataclipsRequestContext,
        format: DraftFormat,
    ) -> Result<String, DraftError> {
        self.render(DraftKind::DataclipsRequest, format, context)
    }
}

/// Renders Markdown to HTML, escaping any raw HTML in it.
fn markdown_to_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser};
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

/// A sample request (Bentley's own example) to check templates against.
struct Sample {
    support: SupportRequestContext,
    dataclips: DataclipsRequestContext,
}

impl Sample {
    fn new() -> Self {
        let request = gatehouse_compliance::examples::bentley_example();
        let policy = AssessmentPolicy::default();
        let assessment = gatehouse_compliance::assess(&request, &policy);
        let meta = DraftMeta {
            reference: "sample".to_owned(),
            prepared_on: "2026-01-01".to_owned(),
        };
        Self {
            support: SupportRequestContext::new(&request, &assessment, &meta),
            dataclips: DataclipsRequestContext::new(&request, &assessment, &meta),
        }
    }
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
pub struct WorkflowContext {
    /// Name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// "two-way", "read from SYNCHRO Perform", ...
    pub direction: String,
    /// "integration", "analytics", "reporting".
    pub purpose: String,
    /// "activities: read, create, update", one per entity.
    pub entities: Vec<String>,
    /// "daily at 02:00 UTC", or "not stated".
    pub frequency: String,
    /// "20,000", or "not stated".
    pub records_per_run: String,
    /// "01:00-05:00 UTC", or "none".
    pub sync_window: String,
    /// "400 files a run, about 40.0 MiB each, at most 500.0 MiB", or "none".
    pub uploads: String,
    /// The channel Gatehouse recommends and why.
    pub channel: String,
}

/// The load outline, from the assessment's estimate.
#[derive(Debug, Clone, Serialize)]
pub struct LoadContext {
    /// One line per workflow.
    pub workflows: Vec<String>,
    /// Upstream calls per day, all workflows.
    pub calls_per_day: String,
    /// Calls in the busiest minute (if the workflows' peaks coincide).
    pub peak_calls_per_minute: String,
    /// Records read per day.
    pub records_read_per_day: String,
    /// Records written per day.
    pub records_written_per_day: String,
    /// Bytes moved per day.
    pub bytes_per_day: String,
    /// Whether every workflow gave what the estimate needs.
    pub complete: bool,
}

/// Everything the support-request templates may use. Every field is always present.
#[derive(Debug, Clone, Serialize)]
pub struct SupportRequestContext {
    /// Reference and date.
    pub meta: DraftMeta,
    /// The project URLs.
    pub project_urls: Vec<String>,
    /// "Joe Bloggs (Commercial Manager)".
    pub project_contact: String,
    /// The contact's email, or "not given".
    pub project_contact_email: String,
    /// The requester's name.
    pub requester: String,
    /// The requester's email, or "not given".
    pub requester_email: String,
    /// The organisation.
    pub organisation: String,
    /// The integration's name.
    pub integration_name: String,
    /// The integration's purpose.
    pub purpose: String,
    /// The workflows.
    pub workflows: Vec<WorkflowContext>,
    /// "Azure, ERP, SAP, JDE", or "none named".
    pub platforms: String,
    /// Interval and frequency, one line per workflow.
    pub frequencies: Vec<String>,
    /// The commercial-permission confirmation, as a sentence.
    pub commercial_permission: String,
    /// The project-contact confirmation, as a sentence.
    pub contact_confirmation: String,
    /// The API-documentation confirmation, as a sentence.
    pub api_documentation: String,
    /// "read/write" or "read-only".
    pub access_mode: String,
    /// "activities (create, update) in 'Daily schedule load'", one per written entity.
    pub written_entities: Vec<String>,
    /// The entities read, joined.
    pub read_entities: String,
    /// The load outline.
    pub load: LoadContext,
    /// Whether any workflow is for analytics, and what that means.
    pub analytics_statement: String,
    /// The mitigations declared.
    pub mitigations: Vec<String>,
    /// The mitigations not declared.
    pub mitigations_missing: Vec<String>,
    /// The channel recommended for the request.
    pub channel: String,
    /// The verdict, as a sentence.
    pub verdict: String,
    /// The warnings of the assessment, for the reviewer's eyes.
    pub warnings: Vec<String>,
}

fn or(value: &str, fallback: &str) -> String {
    let value = value.trim();
    if value.is_empty() {
        fallback.to_owned()
    } else {
        value.to_owned()
    }
}

fn direction_phrase(direction: Direction) -> &'static str {
    match direction {
        Direction::Read => "read from SYNCHRO Perform",
        Direction::Write => "write to SYNCHRO Perform",
        Direction::TwoWay => "two-way",
    }
}

fn channel_phrase(channel: Channel) -> &'static str {
    match channel {
        Channel::ApiToken => "API token",
        Channel::Dataclips => "Dataclips",
        Channel::Both => "API token for the writes, Dataclips for the bulk reads",
    }
}

fn purpose_phrase(purpose: WorkflowPurpose) -> &'static str {
    match purpose {
        WorkflowPurpose::Integration => "integration",
        WorkflowPurpose::Analytics => "analytics",
        WorkflowPurpose::Reporting => "reporting",
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
                    |rec| {
                        format!(
                            "{}: {}",
                            channel_phrase(rec.channel),
                            rec.reasons.join("; ")
                        )
                    },
                );
                WorkflowContext {
                    name: or(&w.name, "unnamed workflow"),
                    description: or(&w.description, "not described"),
                    direction: direction_phrase(w.direction).to_owned(),
                    purpose: purpose_phrase(w.purpose).to_owned(),
                    entities: w
                        .entities
                        .iter()
                        .map(|a| {
                            let ops: Vec<&str> = a.operations.iter().map(|o| o.as_str()).collect();
                            format!("{}: {}", a.entity.label(), ops.join(", "))
                        })
                        .collect(),
                    frequency: w
                        .trigger
                        .as_ref()
                        .map_or_else(|| "not stated".to_owned(), Trigger::describe),
                    records_per_run: w
                        .records_per_run
                        .map_or_else(|| "not stated".to_owned(), text::number),
                    sync_window: w
                        .sync_window
                        .map_or_else(|| "none".to_owned(), |s| s.to_string()),
                    uploads: w.uploads.map_or_else(
                        || "none".to_owned(),
                        |u| {
                            format!(
                                "{} a run, about {} each, at most {}",
                                text::count(u.files_per_run, "file", "files"),
                                text::bytes(u.average_bytes),
                                text::bytes(u.max_bytes)
                            )
                        },
                    ),
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
        let verdict = match &assessment.verdict {
            Verdict::ReadyToSubmit => "Ready to submit.".to_owned(),
            Verdict::NeedsWork { items } => format!(
                "Needs work before filing: {}.",
                items
                    .iter()
                    .map(|i| i.check.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Verdict::UseDataclipsInstead { .. } => {
                "Use Dataclips instead: no workflow needs an API token.".to_owned()
            }
        };
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
                |c| channel_phrase(c).to_owned(),
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
pub struct ClipContext {
    /// "Resource Usages Export".
    pub title: String,
    /// "resource-usages-export".
    pub slug: String,
    /// Whether Bentley's public catalogue lists it.
    pub confirmed: bool,
    /// The workflows it serves, joined.
    pub workflows: String,
}

/// Everything the Dataclips-request templates may use. Every field is always present.
#[derive(Debug, Clone, Serialize)]
pub struct DataclipsRequestContext {
    /// Reference and date.
    pub meta: DraftMeta,
    /// The organisation.
    pub organisation: String,
    /// The requester's name.
    pub requester: String,
    /// The requester's email, or "not given".
    pub requester_email: String,
    /// "Joe Bloggs (Commercial Manager)".
    pub project_contact: String,
    /// The project URLs.
    pub project_urls: Vec<String>,
    /// The clips.
    pub clips: Vec<ClipContext>,
    /// The refresh each workflow needs, one line per workflow served by a clip.
    pub refresh: Vec<String>,
    /// Whether any workflow needs a refresh beyond the standard cycle.
    pub needs_faster_refresh: bool,
    /// The standard refresh cycle, in hours.
    pub standard_refresh_hours: u32,
    /// The integration's purpose.
    pub purpose: String,
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

#[cfg(test)]
mod tests;
