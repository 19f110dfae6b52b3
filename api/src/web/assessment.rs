//! The assessment as the web shows it beside a request: the verdict, each readiness check with
//! what to fix, the channel recommended per workflow and the load estimate. One view
//! (`partials/assessment`), used on the request form, the public page, the request's page and
//! the live fragment the form's script fetches.

use gatehouse_compliance::Assessment;
use gatehouse_compliance::assess::{Channel, CheckId, Load, Verdict};
use gatehouse_compliance::model::Direction;
use gatehouse_compliance::text;
use serde::Serialize;

/// One readiness check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    /// Stable id (`project_urls`).
    pub id: &'static str,
    /// `pass`, `warn` or `fail` (a CSS class).
    pub status: &'static str,
    /// "Passes", "Worth improving", "Fix before submitting": words, not only colour.
    pub status_label: &'static str,
    /// What the check is about.
    pub title: &'static str,
    /// What was found and what to fix.
    pub message: String,
    /// The workflows concerned, or "".
    pub workflows: String,
}

/// The channel of one workflow.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelRow {
    /// The workflow.
    pub workflow: String,
    /// "API token", "Dataclips", "Both".
    pub channel: &'static str,
    /// Why.
    pub reasons: Vec<String>,
    /// The clips that would serve its reads.
    pub dataclips: Vec<String>,
}

/// Load in one row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct LoadRow {
    /// The workflow, or "All workflows".
    pub workflow: String,
    /// Runs per day, or "".
    pub runs_per_day: String,
    /// Calls per day.
    pub calls_per_day: String,
    /// Calls in the busiest minute.
    pub peak_calls_per_minute: String,
    /// Records per day.
    pub records_per_day: String,
    /// Bytes per day, for people.
    pub bytes_per_day: String,
    /// What the estimate lacks, or "".
    pub missing: String,
}

/// The assessment panel.
#[derive(Debug, Clone, Serialize)]
pub struct AssessmentPanel {
    /// `ready`, `needs_work` or `use_dataclips` (a CSS class).
    pub verdict: &'static str,
    /// The verdict in a few words.
    pub verdict_title: &'static str,
    /// What to do next.
    pub verdict_text: String,
    /// The request's direction, or null.
    pub direction: Option<&'static str>,
    /// The request's channel, or null.
    pub channel: Option<&'static str>,
    /// Failed checks.
    pub fails: usize,
    /// Warnings.
    pub warnings: usize,
    /// The checks, failures first.
    pub checks: Vec<CheckRow>,
    /// Channel per workflow.
    pub channels: Vec<ChannelRow>,
    /// Load per workflow.
    pub load: Vec<LoadRow>,
    /// Load of all workflows.
    pub load_total: LoadRow,
    /// Whether every workflow gave what the estimate needs.
    pub load_complete: bool,
}

fn check_title(id: CheckId) -> &'static str {
    match id {
        CheckId::ProjectUrls => "Project URLs",
        CheckId::Requester => "Requester",
        CheckId::ProjectContact => "Project contact",
        CheckId::CommercialPermission => "Commercial permission",
        CheckId::IntegrationPurpose => "Integration and purpose",
        CheckId::WorkflowsDescribed => "Workflows described",
        CheckId::ApiDocumentation => "API documentation reviewed",
        CheckId::ReadWriteNeeds => "Read and write needs",
        CheckId::LargeDataOutlined => "Large data outlined",
        CheckId::UploadVolume => "Upload volume",
        CheckId::AnalyticsPurpose => "Analytics purpose",
        CheckId::ReadOnlyBulk => "Read-only bulk automation",
        CheckId::HeavyCollectionPolling => "Polling heavy collections",
        CheckId::PlatformIntegrations => "Platform integrations",
    }
}

fn load_row(workflow: String, runs: Option<u64>, load: Load, missing: &[String]) -> LoadRow {
    LoadRow {
        workflow,
        runs_per_day: runs.map(text::number).unwrap_or_default(),
        calls_per_day: text::number(load.calls_per_day),
        peak_calls_per_minute: text::number(load.peak_calls_per_minute),
        records_per_day: text::number(load.records_per_day),
        bytes_per_day: text::bytes(load.bytes_per_day),
        missing: missing.join("; "),
    }
}

impl From<&Assessment> for AssessmentPanel {
    fn from(a: &Assessment) -> Self {
        let (verdict, verdict_text) = match &a.verdict {
            Verdict::ReadyToSubmit => (
                "ready",
                "Every check passes or only warns: the request gives Bentley what it asks for."
                    .to_owned(),
            ),
            Verdict::NeedsWork { items } => (
                "needs_work",
                format!(
                    "Fix {} before submitting.",
                    text::count(items.len() as u64, "failed check", "failed checks")
                ),
            ),
            Verdict::UseDataclipsInstead { dataclips } => (
                "use_dataclips",
                format!(
                    "No workflow needs an API token: ask for these dataclips instead: {}.",
                    dataclips
                        .iter()
                        .map(|c| c.title.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        };
        let mut checks: Vec<CheckRow> = a
            .checks
            .iter()
            .map(|c| {
                let (status, status_label) = (c.status.as_str(), c.status.label());
                CheckRow {
                    id: c.id.as_str(),
                    status,
                    status_label,
                    title: check_title(c.id),
                    message: c.message.clone(),
                    workflows: c.workflows.join(", "),
                }
            })
            .collect();
        let rank = |status: &str| match status {
            "fail" => 0,
            "warn" => 1,
            _ => 2,
        };
        checks.sort_by_key(|c| rank(c.status));
        Self {
            verdict,
            verdict_title: a.verdict.label(),
            verdict_text,
            direction: a.direction.map(Direction::label),
            channel: a.channel.map(Channel::label),
            fails: checks.iter().filter(|c| c.status == "fail").count(),
            warnings: checks.iter().filter(|c| c.status == "warn").count(),
            checks,
            channels: a
                .channels
                .iter()
                .map(|c| ChannelRow {
                    workflow: c.workflow.clone(),
                    channel: c.channel.label(),
                    reasons: c.reasons.clone(),
                    dataclips: c.dataclips.iter().map(|d| d.title.clone()).collect(),
                })
                .collect(),
            load: a
                .load
                .workflows
                .iter()
                .map(|w| {
                    load_row(
                        w.workflow.clone(),
                        Some(w.runs_per_day),
                        w.total,
                        &w.missing,
                    )
                })
                .collect(),
            load_total: load_row("All workflows".to_owned(), None, a.load.total, &[]),
            load_complete: a.load.complete,
        }
    }
}
