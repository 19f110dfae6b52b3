//! Bentley's criteria applied to an [`AccessRequest`]: readiness checks, a channel
//! recommendation per workflow, a load estimate and a verdict; and the scopes an approved
//! request grants.

mod channel;
mod checks;
mod load;
mod scopes;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::dataclips::DataclipRef;
use crate::model::{AccessRequest, Direction};
use crate::profile::UpstreamProfile;

pub use channel::{Channel, ChannelRecommendation, recommend_channel};
pub use load::{Load, LoadEstimate, WorkflowLoad, estimate_load, estimate_workflow};
pub use scopes::{Scope, compile_scopes};

/// The thresholds of an assessment. The defaults are Gatehouse's reading of Bentley's criteria.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AssessmentPolicy {
    /// The upstream's page sizes and pace.
    pub upstream: UpstreamProfile,
    /// The shortest description of a workflow (and of the integration's purpose) that gives a
    /// reviewer enough background, in characters.
    pub min_description_chars: usize,
    /// Records per day from which a workflow is a large data requirement.
    pub large_records_per_day: u64,
    /// Bytes per day from which a workflow is a large data requirement.
    pub large_bytes_per_day: u64,
    /// A single payload (file) from which an upload is large.
    pub large_payload_bytes: u64,
    /// Records per day from which a read-only workflow is bulk reading (→ Dataclips).
    pub bulk_read_records_per_day: u64,
    /// Runs per day above which reading a heavy collection is high-frequency polling. The
    /// default, 6, is a dataclip's 4-hour refresh cycle.
    pub heavy_poll_max_runs_per_day: u64,
    /// The average size of a record, in bytes, for the bytes-per-day estimate.
    pub average_record_bytes: u64,
    /// The minutes of a day over which on-demand runs spread (a working day).
    pub on_demand_active_minutes: u32,
}

impl Default for AssessmentPolicy {
    fn default() -> Self {
        AssessmentPolicy {
            upstream: UpstreamProfile::default(),
            min_description_chars: 60,
            large_records_per_day: 10_000,
            large_bytes_per_day: 1024 * 1024 * 1024,
            large_payload_bytes: 50 * 1024 * 1024,
            bulk_read_records_per_day: 5_000,
            heavy_poll_max_runs_per_day: 6,
            average_record_bytes: 2 * 1024,
            on_demand_active_minutes: 10 * 60,
        }
    }
}

/// The stable id of a readiness check (its snake_case form is what clients translate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    /// At least one valid project URL, all on one tenant.
    ProjectUrls,
    /// The requester and organisation are named.
    Requester,
    /// A named project contact with a role and an email.
    ProjectContact,
    /// The commercial permission is confirmed, by whom and when.
    CommercialPermission,
    /// The integration is named and its purpose described.
    IntegrationPurpose,
    /// At least one workflow, each described in enough detail.
    WorkflowsDescribed,
    /// The tenant's API documentation was reviewed.
    ApiDocumentation,
    /// Read and write needs are stated and match the workflows that write.
    ReadWriteNeeds,
    /// Large data requirements are outlined with volumes and timing.
    LargeDataOutlined,
    /// Uploads whose volume a reviewer will question.
    UploadVolume,
    /// Analytics or reporting purposes (→ Dataclips).
    AnalyticsPurpose,
    /// Read-only bulk automation (→ Dataclips).
    ReadOnlyBulk,
    /// Heavy collections polled at high frequency (→ performance warning).
    HeavyCollectionPolling,
    /// The platforms integrated are named.
    PlatformIntegrations,
}

impl CheckId {
    /// The stable snake_case id.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::ProjectUrls => "project_urls",
            CheckId::Requester => "requester",
            CheckId::ProjectContact => "project_contact",
            CheckId::CommercialPermission => "commercial_permission",
            CheckId::IntegrationPurpose => "integration_purpose",
            CheckId::WorkflowsDescribed => "workflows_described",
            CheckId::ApiDocumentation => "api_documentation",
            CheckId::ReadWriteNeeds => "read_write_needs",
            CheckId::LargeDataOutlined => "large_data_outlined",
            CheckId::UploadVolume => "upload_volume",
            CheckId::AnalyticsPurpose => "analytics_purpose",
            CheckId::ReadOnlyBulk => "read_only_bulk",
            CheckId::HeavyCollectionPolling => "heavy_collection_polling",
            CheckId::PlatformIntegrations => "platform_integrations",
        }
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Nothing to do.
    Pass,
    /// Worth improving; does not stop the request.
    Warn,
    /// Must be fixed before the request is filed.
    Fail,
}

impl CheckStatus {
    /// Every status, in declaration order.
    pub const ALL: [CheckStatus; 3] = [CheckStatus::Pass, CheckStatus::Warn, CheckStatus::Fail];

    /// The stable snake_case name (the same as the serde form; web pages use it as a CSS
    /// class).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
        }
    }

    /// The short label web pages show on a check's badge: `Passes`, `Worth improving`,
    /// `Fix before submitting`. (The drafts to Bentley do not name statuses.)
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "Passes",
            CheckStatus::Warn => "Worth improving",
            CheckStatus::Fail => "Fix before submitting",
        }
    }
}

impl fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One readiness check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// The stable id.
    pub id: CheckId,
    /// The outcome.
    pub status: CheckStatus,
    /// What was found and, unless the check passes, what to fix.
    pub message: String,
    /// The workflows the check concerns, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workflows: Vec<String>,
}

/// One thing to fix before the request is filed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedsWorkItem {
    /// The failed check.
    pub check: CheckId,
    /// What to fix.
    pub message: String,
}

/// What the project contact should do with the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// Every check passes or only warns: file it.
    ReadyToSubmit,
    /// Some checks fail: fix these first.
    NeedsWork {
        /// The failed checks.
        items: Vec<NeedsWorkItem>,
    },
    /// No workflow needs an API token: ask for these dataclips instead.
    UseDataclipsInstead {
        /// The clips that serve the workflows.
        dataclips: Vec<DataclipRef>,
    },
}

impl Verdict {
    /// The stable snake_case kind (the same as the serde `kind` tag): `ready_to_submit`,
    /// `needs_work`, `use_dataclips_instead`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::ReadyToSubmit => "ready_to_submit",
            Verdict::NeedsWork { .. } => "needs_work",
            Verdict::UseDataclipsInstead { .. } => "use_dataclips_instead",
        }
    }

    /// The short label web pages show as the verdict's title: `Ready to submit`, `Needs work`,
    /// `Use Dataclips instead`.
    ///
    /// A verdict has two human forms on purpose. A web page shows this title above a sentence
    /// of its own about what to do next. The drafts sent to Bentley carry a single sentence,
    /// [`Verdict::phrase`], which names the failed checks. Both are the server's exact
    /// wording: changing either changes pages or draft snapshots.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::ReadyToSubmit => "Ready to submit",
            Verdict::NeedsWork { .. } => "Needs work",
            Verdict::UseDataclipsInstead { .. } => "Use Dataclips instead",
        }
    }

    /// The sentence of the drafts sent to Bentley: `Ready to submit.`, `Needs work before
    /// filing: {the failed checks' ids, comma-separated}.`, `Use Dataclips instead: no workflow
    /// needs an API token.` (see [`Verdict::label`] for why two forms exist). A `String`,
    /// unlike the other phrases, because it lists the failed checks.
    pub fn phrase(&self) -> String {
        match self {
            Verdict::ReadyToSubmit => "Ready to submit.".to_owned(),
            Verdict::NeedsWork { items } => format!(
                "Needs work before filing: {}.",
                items
                    .iter()
                    .map(|item| item.check.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Verdict::UseDataclipsInstead { .. } => {
                "Use Dataclips instead: no workflow needs an API token.".to_owned()
            }
        }
    }
}

/// The assessment of an access request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// What to do with the request.
    pub verdict: Verdict,
    /// The direction of the request as a whole (`None` without operations).
    pub direction: Option<Direction>,
    /// The channel of the request as a whole (`None` without workflows).
    pub channel: Option<Channel>,
    /// The readiness checks, in a stable order.
    pub checks: Vec<Check>,
    /// A channel recommendation per workflow, in the request's order.
    pub channels: Vec<ChannelRecommendation>,
    /// The estimated load.
    pub load: LoadEstimate,
}

impl Assessment {
    /// The check with id `id`.
    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|check| check.id == id)
    }

    /// The channel recommended for the workflow named `workflow`.
    pub fn channel_of(&self, workflow: &str) -> Option<&ChannelRecommendation> {
        self.channels.iter().find(|rec| rec.workflow == workflow)
    }
}

/// Assesses an access request against Bentley's criteria. Pure: the same request and policy
/// always give the same assessment.
pub fn assess(request: &AccessRequest, policy: &AssessmentPolicy) -> Assessment {
    let load = estimate_load(&request.workflows, policy);
    let channels: Vec<ChannelRecommendation> = request
        .workflows
        .iter()
        .zip(&load.workflows)
        .map(|(workflow, workflow_load)| recommend_channel(workflow, workflow_load, policy))
        .collect();
    let checks = checks::run(request, &load, policy);

    let direction = Direction::from_flags(
        request.workflows.iter().any(|w| w.reads()),
        request.workflows.iter().any(|w| w.writes()),
    );
    let channel = overall_channel(&channels);
    let verdict = decide(&checks, &channels, channel);

    Assessment {
        verdict,
        direction,
        channel,
        checks,
        channels,
        load,
    }
}

/// The channel of the request as a whole.
fn overall_channel(channels: &[ChannelRecommendation]) -> Option<Channel> {
    let first = channels.first()?.channel;
    if channels.iter().all(|rec| rec.channel == first) {
        Some(first)
    } else {
        Some(Channel::Both)
    }
}

/// The verdict: Dataclips when no workflow needs a token, else the failed checks, else ready.
fn decide(
    checks: &[Check],
    channels: &[ChannelRecommendation],
    channel: Option<Channel>,
) -> Verdict {
    if channel == Some(Channel::Dataclips) {
        let mut dataclips: Vec<DataclipRef> = Vec::new();
        for clip in channels.iter().flat_map(|rec| &rec.dataclips) {
            if !dataclips.contains(clip) {
                dataclips.push(clip.clone());
            }
        }
        return Verdict::UseDataclipsInstead { dataclips };
    }
    let items: Vec<NeedsWorkItem> = checks
        .iter()
        .filter(|check| check.status == CheckStatus::Fail)
        .map(|check| NeedsWorkItem {
            check: check.id,
            message: check.message.clone(),
        })
        .collect();
    if items.is_empty() {
        Verdict::ReadyToSubmit
    } else {
        Verdict::NeedsWork { items }
    }
}

#[cfg(test)]
mod tests;
