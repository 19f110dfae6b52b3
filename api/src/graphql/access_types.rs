//! The GraphQL types of access requests: inputs, converted into the compliance crate's types
//! with an error per invalid field, and outputs of their own.

use async_graphql::{Enum, ID, InputObject, OneofObject, SimpleObject};
use chrono::{DateTime, Utc};
use gatehouse_compliance::assess::{
    ChannelRecommendation, Check, Load, LoadEstimate, Verdict, WorkflowLoad,
};
use gatehouse_compliance::dataclips::DataclipRef;
use gatehouse_compliance::model::{EntityAccess, Mitigations, Trigger, UploadProfile, Workflow};
use gatehouse_compliance::{AccessRequest, Assessment};

use super::types::EntityName;
use crate::error::FieldError;
use gatehouse_core::access::{Comment, RequestStatus, input};

// ---------------------------------------------------------------------------------------------
// Enums

/// Where a request is in its lifecycle.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "RequestStatus",
    remote = "gatehouse_core::access::RequestStatus"
)]
#[allow(missing_docs)]
pub enum RequestStatusName {
    Draft,
    InReview,
    ChangesRequested,
    Approved,
    SubmittedToBentley,
    TokenIssued,
    Active,
    Revoked,
    Expired,
    Rejected,
}

/// The direction of a workflow's data.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Direction", remote = "gatehouse_compliance::model::Direction")]
pub enum DirectionName {
    /// From SYNCHRO Perform to the integration.
    Read,
    /// From the integration into SYNCHRO Perform.
    Write,
    /// Both.
    TwoWay,
}

/// What a workflow does to an entity.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Operation", remote = "gatehouse_compliance::model::Operation")]
#[allow(missing_docs)]
pub enum OperationName {
    Read,
    Create,
    Update,
    Delete,
    Upload,
}

/// Why a workflow exists.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "WorkflowPurpose",
    remote = "gatehouse_compliance::model::WorkflowPurpose"
)]
pub enum PurposeName {
    /// Automating the integration of key entities (what the API is for).
    Integration,
    /// Dashboards, models, BI (what Dataclips are for).
    Analytics,
    /// Reporting (what Dataclips are for).
    Reporting,
}

/// A channel to SYNCHRO Perform data.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Channel", remote = "gatehouse_compliance::assess::Channel")]
pub enum ChannelName {
    /// A project API token.
    ApiToken,
    /// Dataclips.
    Dataclips,
    /// A token for writes and small reads, Dataclips for bulk reads.
    Both,
}

/// The stable id of a readiness check.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "CheckId", remote = "gatehouse_compliance::assess::CheckId")]
#[allow(missing_docs)]
pub enum CheckIdName {
    ProjectUrls,
    Requester,
    ProjectContact,
    CommercialPermission,
    IntegrationPurpose,
    WorkflowsDescribed,
    ApiDocumentation,
    ReadWriteNeeds,
    LargeDataOutlined,
    UploadVolume,
    AnalyticsPurpose,
    ReadOnlyBulk,
    HeavyCollectionPolling,
    PlatformIntegrations,
}

/// The outcome of a check.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(
    name = "CheckStatus",
    remote = "gatehouse_compliance::assess::CheckStatus"
)]
pub enum CheckStatusName {
    /// Nothing to do.
    Pass,
    /// Worth improving.
    Warn,
    /// Must be fixed before filing.
    Fail,
}

/// What to do with a request.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictKind {
    /// File it.
    ReadyToSubmit,
    /// Fix the failed checks first.
    NeedsWork,
    /// No workflow needs a token: ask for dataclips.
    UseDataclipsInstead,
}

/// The format of a draft.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "DraftFormat", remote = "gatehouse_core::access::DraftFormat")]
pub enum DraftFormatName {
    /// Markdown.
    Markdown,
    /// Plain text, for the Support Portal's form.
    Text,
    /// HTML, for the web.
    Html,
}

/// A reviewer's decision.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewDecision {
    /// Approve (not your own request).
    Approve,
    /// Send back to the contact with a comment.
    RequestChanges,
    /// Refuse, with a comment.
    Reject,
}

/// The scope of an issued token.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    /// Read only.
    Read,
    /// Read and write.
    ReadWrite,
}

impl TokenScope {
    /// The stored form (`read`, `read write`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadWrite => "read write",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// A use case and its workflows: what an access request says.
#[derive(InputObject, Debug, Default)]
pub struct AccessRequestInput {
    /// Project URLs, `https://{company}.e7.site/projects/{id}`.
    #[graphql(default)]
    pub project_urls: Vec<String>,
    /// Who files the request.
    pub requester: Option<RequesterInput>,
    /// The accountable project contact.
    pub project_contact: Option<ProjectContactInput>,
    /// The commercial-permission confirmation.
    pub commercial_permission: Option<CommercialPermissionInput>,
    /// The API-documentation confirmation.
    pub api_documentation: Option<ApiDocumentationInput>,
    /// The integration.
    pub integration: Option<IntegrationInput>,
    /// Platforms integrated: Azure, ERP, SAP, JDE or any other name.
    #[graphql(default)]
    pub platforms: Vec<String>,
    /// What keeps the load low.
    pub mitigations: Option<MitigationsInput>,
    /// The workflows.
    #[graphql(default)]
    pub workflows: Vec<WorkflowInput>,
}

/// The requester.
#[derive(InputObject, Debug, Default)]
pub struct RequesterInput {
    /// Full name.
    #[graphql(default)]
    pub name: String,
    /// Email.
    pub email: Option<String>,
    /// Organisation.
    #[graphql(default)]
    pub organisation: String,
}

/// The project contact.
#[derive(InputObject, Debug, Default)]
pub struct ProjectContactInput {
    /// Full name.
    #[graphql(default)]
    pub name: String,
    /// Role on the project.
    #[graphql(default)]
    pub role: String,
    /// Email.
    pub email: Option<String>,
}

/// The commercial-permission confirmation.
#[derive(InputObject, Debug, Default)]
pub struct CommercialPermissionInput {
    /// Confirmed.
    #[graphql(default)]
    pub confirmed: bool,
    /// Who gave the permission.
    pub confirmed_by: Option<String>,
    /// When.
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// The API-documentation confirmation.
#[derive(InputObject, Debug, Default)]
pub struct ApiDocumentationInput {
    /// Reviewed.
    #[graphql(default)]
    pub reviewed: bool,
    /// The page reviewed, `https://{company}.e7.site/api`.
    pub url: Option<String>,
}

/// The integration.
#[derive(InputObject, Debug, Default)]
pub struct IntegrationInput {
    /// Name.
    #[graphql(default)]
    pub name: String,
    /// Purpose, for Bentley's reviewer.
    #[graphql(default)]
    pub purpose: String,
}

/// What the integration does to keep its load low.
#[derive(InputObject, Debug, Default)]
pub struct MitigationsInput {
    /// Caches what it read.
    #[graphql(default)]
    pub caching: bool,
    /// Backs off on 429 and 503.
    #[graphql(default)]
    pub backoff: bool,
    /// Schedules bulk work off-peak.
    #[graphql(default)]
    pub off_peak_scheduling: bool,
    /// Reads only what changed.
    #[graphql(default)]
    pub incremental_sync: bool,
}

/// One workflow.
#[derive(InputObject, Debug)]
pub struct WorkflowInput {
    /// A short name, unique within the request.
    pub name: String,
    /// What it does.
    #[graphql(default)]
    pub description: String,
    /// The declared direction.
    pub direction: DirectionName,
    /// The entities touched.
    #[graphql(default)]
    pub entities: Vec<EntityAccessInput>,
    /// What starts a run.
    pub trigger: Option<TriggerInput>,
    /// Records moved per run.
    pub records_per_run: Option<u64>,
    /// Uploads per run.
    pub uploads: Option<UploadsInput>,
    /// When it runs, `hh:mm-hh:mm` UTC.
    pub sync_window: Option<String>,
    /// Why it exists.
    #[graphql(default_with = "PurposeName::Integration")]
    pub purpose: PurposeName,
}

/// What a workflow does to an entity.
#[derive(InputObject, Debug)]
pub struct EntityAccessInput {
    /// The entity.
    pub entity: EntityName,
    /// The operations.
    pub operations: Vec<OperationName>,
}

/// What starts a run: exactly one of the fields.
#[derive(OneofObject, Debug)]
pub enum TriggerInput {
    /// Every N minutes.
    EveryMinutes(u32),
    /// Daily at these times, `hh:mm` UTC.
    DailyAt(Vec<String>),
    /// On demand, with the runs expected on a busy day.
    OnDemandPerDay(u32),
}

/// Files uploaded per run.
#[derive(InputObject, Debug)]
pub struct UploadsInput {
    /// Files per run.
    pub files_per_run: u64,
    /// Average size, bytes.
    pub average_bytes: u64,
    /// Largest size, bytes.
    pub max_bytes: u64,
}

// The conversion itself lives in `gatehouse_core::access::input`, shared with the web forms: these
// impls only move the GraphQL shapes into it.

impl From<AccessRequestInput> for input::RequestInput {
    fn from(i: AccessRequestInput) -> Self {
        let requester = i.requester.unwrap_or_default();
        let contact = i.project_contact.unwrap_or_default();
        let permission = i.commercial_permission.unwrap_or_default();
        let docs = i.api_documentation.unwrap_or_default();
        let integration = i.integration.unwrap_or_default();
        let m = i.mitigations.unwrap_or_default();
        Self {
            project_urls: i.project_urls,
            requester: input::RequesterInput {
                name: requester.name,
                email: requester.email,
                organisation: requester.organisation,
            },
            project_contact: input::ProjectContactInput {
                name: contact.name,
                role: contact.role,
                email: contact.email,
            },
            commercial_permission: input::CommercialPermissionInput {
                confirmed: permission.confirmed,
                confirmed_by: permission.confirmed_by,
                confirmed_at: permission.confirmed_at,
            },
            api_documentation: input::ApiDocumentationInput {
                reviewed: docs.reviewed,
                url: docs.url,
            },
            integration_name: integration.name,
            integration_purpose: integration.purpose,
            platforms: i.platforms,
            mitigations: Mitigations {
                caching: m.caching,
                backoff: m.backoff,
                off_peak_scheduling: m.off_peak_scheduling,
                incremental_sync: m.incremental_sync,
            },
            workflows: i.workflows.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<WorkflowInput> for input::WorkflowInput {
    fn from(w: WorkflowInput) -> Self {
        Self {
            name: w.name,
            description: w.description,
            direction: w.direction.into(),
            entities: w
                .entities
                .into_iter()
                .map(|a| EntityAccess {
                    entity: a.entity.into(),
                    operations: a.operations.into_iter().map(Into::into).collect(),
                })
                .collect(),
            trigger: w.trigger.map(|t| match t {
                TriggerInput::EveryMinutes(m) => input::TriggerInput::EveryMinutes(m),
                TriggerInput::DailyAt(at) => input::TriggerInput::DailyAt(at),
                TriggerInput::OnDemandPerDay(n) => input::TriggerInput::OnDemandPerDay(n),
            }),
            records_per_run: w.records_per_run,
            uploads: w.uploads.map(|u| UploadProfile {
                files_per_run: u.files_per_run,
                average_bytes: u.average_bytes,
                max_bytes: u.max_bytes,
            }),
            sync_window: w.sync_window,
            purpose: w.purpose.into(),
        }
    }
}

impl AccessRequestInput {
    /// Converts into the compliance crate's request (the shared conversion of
    /// [`input::RequestInput::into_request`]), or every invalid field with its path.
    pub fn into_request(
        self,
        limits: &input::InputLimits,
    ) -> Result<AccessRequest, Vec<FieldError>> {
        input::RequestInput::from(self).into_request(limits)
    }
}

impl WorkflowInput {
    /// Converts one workflow (for `addWorkflow`), or every invalid field with its path.
    pub fn into_workflow(
        self,
        path: &str,
        limits: &input::InputLimits,
    ) -> Result<Workflow, Vec<FieldError>> {
        input::WorkflowInput::from(self).into_workflow(path, limits)
    }
}

// ---------------------------------------------------------------------------------------------
// Outputs: the assessment

/// A dataclip.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Dataclip")]
pub struct DataclipView {
    /// Slug, as in `/dataclips/{projectId}/{slug}.csv`.
    pub slug: String,
    /// Title in SYNCHRO Perform.
    pub title: String,
    /// The entity it holds.
    pub entity: EntityName,
    /// Whether Bentley's public catalogue lists it.
    pub confirmed: bool,
}

impl From<&DataclipRef> for DataclipView {
    fn from(clip: &DataclipRef) -> Self {
        Self {
            slug: clip.slug.clone(),
            title: clip.title.clone(),
            entity: clip.entity.into(),
            confirmed: clip.confirmed,
        }
    }
}

/// A failed check to fix.
#[derive(SimpleObject, Debug, Clone)]
pub struct NeedsWorkItem {
    /// The check.
    pub check: CheckIdName,
    /// What to fix.
    pub message: String,
}

/// What to do with the request.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Verdict")]
pub struct VerdictView {
    /// The kind.
    pub kind: VerdictKind,
    /// For `NEEDS_WORK`: what to fix.
    pub items: Vec<NeedsWorkItem>,
    /// For `USE_DATACLIPS_INSTEAD`: the clips to ask for.
    pub dataclips: Vec<DataclipView>,
}

/// One readiness check.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Check")]
pub struct CheckView {
    /// Stable id.
    pub id: CheckIdName,
    /// Outcome.
    pub status: CheckStatusName,
    /// What was found and what to fix.
    pub message: String,
    /// The workflows concerned.
    pub workflows: Vec<String>,
}

/// The channel recommended for a workflow.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "ChannelRecommendation")]
pub struct ChannelView {
    /// The workflow.
    pub workflow: String,
    /// The channel.
    pub channel: ChannelName,
    /// Why.
    pub reasons: Vec<String>,
    /// The clips that serve its reads.
    pub dataclips: Vec<DataclipView>,
}

/// Load in one direction.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Load")]
pub struct LoadView {
    /// Upstream calls per day.
    pub calls_per_day: u64,
    /// Calls in the busiest minute.
    pub peak_calls_per_minute: u64,
    /// Records per day.
    pub records_per_day: u64,
    /// Bytes per day.
    pub bytes_per_day: u64,
}

impl From<Load> for LoadView {
    fn from(load: Load) -> Self {
        Self {
            calls_per_day: load.calls_per_day,
            peak_calls_per_minute: load.peak_calls_per_minute,
            records_per_day: load.records_per_day,
            bytes_per_day: load.bytes_per_day,
        }
    }
}

/// The load of one workflow.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "WorkflowLoad")]
pub struct WorkflowLoadView {
    /// The workflow.
    pub workflow: String,
    /// Runs per day.
    pub runs_per_day: u64,
    /// Calls per run.
    pub calls_per_run: u64,
    /// Minutes a run takes at the upstream's pace.
    pub run_minutes: u64,
    /// Reading.
    pub read: LoadView,
    /// Writing.
    pub write: LoadView,
    /// Both.
    pub total: LoadView,
    /// What the estimate lacks.
    pub missing: Vec<String>,
}

impl From<&WorkflowLoad> for WorkflowLoadView {
    fn from(w: &WorkflowLoad) -> Self {
        Self {
            workflow: w.workflow.clone(),
            runs_per_day: w.runs_per_day,
            calls_per_run: w.calls_per_run,
            run_minutes: w.run_minutes,
            read: w.read.into(),
            write: w.write.into(),
            total: w.total.into(),
            missing: w.missing.clone(),
        }
    }
}

/// The estimated load of a request.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "LoadEstimate")]
pub struct LoadEstimateView {
    /// Per workflow.
    pub workflows: Vec<WorkflowLoadView>,
    /// Reading, all workflows.
    pub read: LoadView,
    /// Writing, all workflows.
    pub write: LoadView,
    /// Both, all workflows.
    pub total: LoadView,
    /// Whether every workflow gave what the estimate needs.
    pub complete: bool,
}

impl From<&LoadEstimate> for LoadEstimateView {
    fn from(load: &LoadEstimate) -> Self {
        Self {
            workflows: load.workflows.iter().map(Into::into).collect(),
            read: load.read.into(),
            write: load.write.into(),
            total: load.total.into(),
            complete: load.complete,
        }
    }
}

/// The assessment of a use case against Bentley's criteria.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Assessment")]
pub struct AssessmentView {
    /// What to do.
    pub verdict: VerdictView,
    /// The request's direction.
    pub direction: Option<DirectionName>,
    /// The request's channel.
    pub channel: Option<ChannelName>,
    /// The readiness checks.
    pub checks: Vec<CheckView>,
    /// The channel of each workflow.
    pub channels: Vec<ChannelView>,
    /// The estimated load.
    pub load: LoadEstimateView,
}

impl From<&Assessment> for AssessmentView {
    fn from(a: &Assessment) -> Self {
        let verdict = match &a.verdict {
            Verdict::ReadyToSubmit => VerdictView {
                kind: VerdictKind::ReadyToSubmit,
                items: Vec::new(),
                dataclips: Vec::new(),
            },
            Verdict::NeedsWork { items } => VerdictView {
                kind: VerdictKind::NeedsWork,
                items: items
                    .iter()
                    .map(|i| NeedsWorkItem {
                        check: i.check.into(),
                        message: i.message.clone(),
                    })
                    .collect(),
                dataclips: Vec::new(),
            },
            Verdict::UseDataclipsInstead { dataclips } => VerdictView {
                kind: VerdictKind::UseDataclipsInstead,
                items: Vec::new(),
                dataclips: dataclips.iter().map(Into::into).collect(),
            },
        };
        Self {
            verdict,
            direction: a.direction.map(Into::into),
            channel: a.channel.map(Into::into),
            checks: a.checks.iter().map(check_view).collect(),
            channels: a.channels.iter().map(channel_view).collect(),
            load: (&a.load).into(),
        }
    }
}

fn check_view(c: &Check) -> CheckView {
    CheckView {
        id: c.id.into(),
        status: c.status.into(),
        message: c.message.clone(),
        workflows: c.workflows.clone(),
    }
}

fn channel_view(c: &ChannelRecommendation) -> ChannelView {
    ChannelView {
        workflow: c.workflow.clone(),
        channel: c.channel.into(),
        reasons: c.reasons.clone(),
        dataclips: c.dataclips.iter().map(Into::into).collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Outputs: the request

/// A person named in a request.
#[derive(SimpleObject, Debug, Clone)]
pub struct PersonView {
    /// Name.
    pub name: String,
    /// Role (for the project contact).
    pub role: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Organisation (for the requester).
    pub organisation: Option<String>,
}

/// The commercial-permission confirmation.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "CommercialPermission")]
pub struct PermissionView {
    /// Confirmed.
    pub confirmed: bool,
    /// By whom.
    pub confirmed_by: Option<String>,
    /// When.
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// The API-documentation confirmation.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "ApiDocumentation")]
pub struct ApiDocsView {
    /// Reviewed.
    pub reviewed: bool,
    /// The page reviewed.
    pub url: Option<String>,
}

/// The mitigations declared.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Mitigations")]
pub struct MitigationsView {
    /// Caching.
    pub caching: bool,
    /// Back-off.
    pub backoff: bool,
    /// Off-peak scheduling.
    pub off_peak_scheduling: bool,
    /// Incremental sync.
    pub incremental_sync: bool,
}

/// What a workflow does to an entity.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "EntityAccess")]
pub struct EntityAccessView {
    /// The entity.
    pub entity: EntityName,
    /// The operations.
    pub operations: Vec<OperationName>,
}

/// Uploads per run.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Uploads")]
pub struct UploadsView {
    /// Files per run.
    pub files_per_run: u64,
    /// Average size, bytes.
    pub average_bytes: u64,
    /// Largest size, bytes.
    pub max_bytes: u64,
}

/// One workflow of a request.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Workflow")]
pub struct WorkflowView {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Declared direction.
    pub direction: DirectionName,
    /// Purpose.
    pub purpose: PurposeName,
    /// Entities touched.
    pub entities: Vec<EntityAccessView>,
    /// What starts a run, for people ("daily at 02:00 UTC").
    pub frequency: Option<String>,
    /// Records per run.
    pub records_per_run: Option<u64>,
    /// Uploads per run.
    pub uploads: Option<UploadsView>,
    /// Sync window (UTC).
    pub sync_window: Option<String>,
}

/// What a request says.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "AccessRequestDetails")]
pub struct DetailsView {
    /// Project URLs.
    pub project_urls: Vec<String>,
    /// Requester.
    pub requester: PersonView,
    /// Project contact.
    pub project_contact: PersonView,
    /// Commercial permission.
    pub commercial_permission: PermissionView,
    /// API documentation.
    pub api_documentation: ApiDocsView,
    /// Integration name.
    pub integration_name: String,
    /// Integration purpose.
    pub integration_purpose: String,
    /// Platforms.
    pub platforms: Vec<String>,
    /// Mitigations.
    pub mitigations: MitigationsView,
    /// Workflows.
    pub workflows: Vec<WorkflowView>,
}

impl From<&AccessRequest> for DetailsView {
    fn from(r: &AccessRequest) -> Self {
        Self {
            project_urls: r.project_urls.iter().map(ToString::to_string).collect(),
            requester: PersonView {
                name: r.requester.name.clone(),
                role: None,
                email: r.requester.email.as_ref().map(ToString::to_string),
                organisation: Some(r.requester.organisation.clone()),
            },
            project_contact: PersonView {
                name: r.project_contact.name.clone(),
                role: Some(r.project_contact.role.clone()),
                email: r.project_contact.email.as_ref().map(ToString::to_string),
                organisation: None,
            },
            commercial_permission: PermissionView {
                confirmed: r.commercial_permission.confirmed,
                confirmed_by: r.commercial_permission.confirmed_by.clone(),
                confirmed_at: r.commercial_permission.confirmed_at,
            },
            api_documentation: ApiDocsView {
                reviewed: r.api_documentation.reviewed,
                url: r.api_documentation.url.as_ref().map(ToString::to_string),
            },
            integration_name: r.integration.name.clone(),
            integration_purpose: r.integration.purpose.clone(),
            platforms: r.platforms.iter().map(|p| p.label().to_owned()).collect(),
            mitigations: MitigationsView {
                caching: r.mitigations.caching,
                backoff: r.mitigations.backoff,
                off_peak_scheduling: r.mitigations.off_peak_scheduling,
                incremental_sync: r.mitigations.incremental_sync,
            },
            workflows: r
                .workflows
                .iter()
                .map(|w| WorkflowView {
                    name: w.name.clone(),
                    description: w.description.clone(),
                    direction: w.direction.into(),
                    purpose: w.purpose.into(),
                    entities: w
                        .entities
                        .iter()
                        .map(|a| EntityAccessView {
                            entity: a.entity.into(),
                            operations: a.operations.iter().map(|o| (*o).into()).collect(),
                        })
                        .collect(),
                    frequency: w.trigger.as_ref().map(Trigger::describe),
                    records_per_run: w.records_per_run,
                    uploads: w.uploads.map(|u| UploadsView {
                        files_per_run: u.files_per_run,
                        average_bytes: u.average_bytes,
                        max_bytes: u.max_bytes,
                    }),
                    sync_window: w.sync_window.map(|s| s.to_string()),
                })
                .collect(),
        }
    }
}

/// A comment on a request.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "AccessRequestComment")]
pub struct CommentView {
    /// Id.
    pub id: ID,
    /// The author's email.
    pub author_email: Option<String>,
    /// `comment`, or the action it explains (`request_changes`, `reject`, `revoke`, ...).
    pub kind: String,
    /// The text.
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<Comment> for CommentView {
    fn from(c: Comment) -> Self {
        Self {
            id: ID(c.id.to_string()),
            author_email: c.author_email,
            kind: c.kind,
            body: c.body,
            created_at: c.created_at,
        }
    }
}

/// Parses a status filter (kept here so resolvers stay thin).
pub fn status_filter(status: Option<RequestStatusName>) -> Option<RequestStatus> {
    status.map(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_inputs_keep_their_paths_through_the_shared_conversion() {
        let input = AccessRequestInput {
            project_urls: vec!["http://acme.e7.site/projects/2".into()],
            workflows: vec![WorkflowInput {
                name: "Nightly".into(),
                description: String::new(),
                direction: DirectionName::Read,
                entities: Vec::new(),
                trigger: Some(TriggerInput::EveryMinutes(0)),
                records_per_run: None,
                uploads: Some(UploadsInput {
                    files_per_run: 1,
                    average_bytes: 10,
                    max_bytes: 5,
                }),
                sync_window: None,
                purpose: PurposeName::Integration,
            }],
            ..AccessRequestInput::default()
        };
        let errors = input
            .into_request(&input::InputLimits::default())
            .expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "projectUrls[0]",
                "workflows[0].trigger.everyMinutes",
                "workflows[0].uploads.maxBytes",
            ]
        );
    }
}
