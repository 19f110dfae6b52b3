//! The access request: what a project contact tells Bentley (and Gatehouse) about the
//! integration that an API token is for.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::entity::{Direction, Entity, Operation};
use super::schedule::{SyncWindow, Trigger};
use super::validated::{ApiDocsUrl, Email, ProjectUrl};

/// An access request as the project contact describes it. Any part may still be missing or
/// thin: [`crate::assess::assess`] says what to fix. `Default` is the empty draft.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    /// The projects the token is for (one token per project on Bentley's side).
    pub project_urls: Vec<ProjectUrl>,
    /// Who files the request.
    pub requester: Requester,
    /// The named, accountable contact for the project.
    pub project_contact: ProjectContact,
    /// The confirmation that the requester holds the organisation's commercial permission.
    pub commercial_permission: CommercialPermission,
    /// The confirmation that the project's API documentation was reviewed.
    pub api_documentation: ApiDocsConfirmation,
    /// The integration the token is for.
    pub integration: Integration,
    /// The platforms integrated (Azure, ERP, SAP, JDE, ...).
    #[serde(default)]
    pub platforms: Vec<Platform>,
    /// What the integration does to keep its load low.
    #[serde(default)]
    pub mitigations: Mitigations,
    /// The workflows the integration automates.
    #[serde(default)]
    pub workflows: Vec<Workflow>,
}

/// The person filing the request and their organisation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    /// Full name.
    pub name: String,
    /// Email address, if given.
    pub email: Option<Email>,
    /// The organisation the requester acts for.
    pub organisation: String,
}

/// The named, accountable contact for the project (Bentley keeps it for audit).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectContact {
    /// Full name.
    pub name: String,
    /// Role on the project, e.g. "Commercial Manager".
    pub role: String,
    /// Email address.
    pub email: Option<Email>,
}

/// The confirmation of commercial permission for the project's data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommercialPermission {
    /// Whether the requester confirms holding the organisation's commercial permission.
    pub confirmed: bool,
    /// Who in the organisation gave the permission.
    pub confirmed_by: Option<String>,
    /// When the permission was confirmed.
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// The confirmation that the project's API documentation was reviewed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiDocsConfirmation {
    /// Whether the documentation was reviewed.
    pub reviewed: bool,
    /// The documentation page reviewed; should be the `/api` page of the projects' tenant.
    pub url: Option<ApiDocsUrl>,
}

/// The integration a token is for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integration {
    /// The integration's name, e.g. "Schedule and document sync".
    pub name: String,
    /// Its purpose, in the words of the requester.
    pub purpose: String,
}

/// A platform the integration connects SYNCHRO Perform with.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Microsoft Azure.
    Azure,
    /// An ERP system.
    Erp,
    /// SAP.
    Sap,
    /// JD Edwards.
    Jde,
    /// Any other platform, by name.
    Other(String),
}

impl Platform {
    /// The platform's name as people write it.
    pub fn label(&self) -> &str {
        match self {
            Platform::Azure => "Azure",
            Platform::Erp => "ERP",
            Platform::Sap => "SAP",
            Platform::Jde => "JDE",
            Platform::Other(name) => name,
        }
    }
}

/// What the integration does to keep its load on the project low.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Mitigations {
    /// It caches what it read and does not read it again while fresh.
    pub caching: bool,
    /// It backs off on 429 and 503, honouring `Retry-After`.
    pub backoff: bool,
    /// It schedules bulk work outside working hours.
    pub off_peak_scheduling: bool,
    /// It reads only what changed since its last run (`updated_since`).
    pub incremental_sync: bool,
}

impl Mitigations {
    /// Every mitigation that is not declared, as phrases for people.
    pub fn missing(self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if !self.incremental_sync {
            missing.push("incremental sync (read only what changed, with updated_since)");
        }
        if !self.off_peak_scheduling {
            missing.push("an off-peak schedule");
        }
        if !self.caching {
            missing.push("caching of what was read");
        }
        if !self.backoff {
            missing.push("back-off on 429 and 503 honouring Retry-After");
        }
        missing
    }
}

/// Why a workflow exists: to integrate (the API's purpose) or to analyse and report (Dataclips'
/// purpose).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowPurpose {
    /// Automating the integration of key entities.
    #[default]
    Integration,
    /// Analytics (dashboards, models, BI).
    Analytics,
    /// Reporting.
    Reporting,
}

impl WorkflowPurpose {
    /// Every purpose, in declaration order.
    pub const ALL: [WorkflowPurpose; 3] = [
        WorkflowPurpose::Integration,
        WorkflowPurpose::Analytics,
        WorkflowPurpose::Reporting,
    ];

    /// The stable snake_case name (the same as the serde form, and the value the request form
    /// posts); [`FromStr`] parses it back.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowPurpose::Integration => "integration",
            WorkflowPurpose::Analytics => "analytics",
            WorkflowPurpose::Reporting => "reporting",
        }
    }

    /// The short label web pages and the drafts to Bentley show: `integration`, `analytics`,
    /// `reporting`.
    ///
    /// The same words as [`WorkflowPurpose::as_str`] today, but for people: `as_str` is stored
    /// and posted and never changes, this may. The drafts use the same words, so there is no
    /// separate draft phrase.
    pub fn label(self) -> &'static str {
        match self {
            WorkflowPurpose::Integration => "integration",
            WorkflowPurpose::Analytics => "analytics",
            WorkflowPurpose::Reporting => "reporting",
        }
    }

    /// Whether the purpose is analytics or reporting.
    pub fn is_analytical(self) -> bool {
        matches!(
            self,
            WorkflowPurpose::Analytics | WorkflowPurpose::Reporting
        )
    }
}

impl fmt::Display for WorkflowPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a word that is not a purpose's [`WorkflowPurpose::as_str`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown workflow purpose `{0}`: expected integration, analytics or reporting")]
pub struct UnknownWorkflowPurpose(pub String);

impl FromStr for WorkflowPurpose {
    type Err = UnknownWorkflowPurpose;

    /// Parses exactly a word of [`WorkflowPurpose::as_str`] (case and spaces matter).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WorkflowPurpose::ALL
            .into_iter()
            .find(|purpose| purpose.as_str() == s)
            .ok_or_else(|| UnknownWorkflowPurpose(s.to_owned()))
    }
}

/// What a workflow does to one entity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EntityAccess {
    /// The entity.
    pub entity: Entity,
    /// What the workflow does to it.
    pub operations: Vec<Operation>,
}

impl EntityAccess {
    /// Whether the workflow reads this entity.
    pub fn reads(&self) -> bool {
        self.operations.contains(&Operation::Read)
    }

    /// Whether the workflow changes this entity (create, update, delete or upload).
    pub fn writes(&self) -> bool {
        self.operations.iter().any(|op| op.is_write())
    }

    /// For people: "Activity: read, update".
    pub fn describe(&self) -> String {
        let operations: Vec<&str> = self.operations.iter().map(|o| o.as_str()).collect();
        format!("{}: {}", self.entity.label(), operations.join(", "))
    }
}

/// The files a workflow uploads per run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UploadProfile {
    /// Files uploaded per run.
    pub files_per_run: u64,
    /// Average file size in bytes.
    pub average_bytes: u64,
    /// Largest file size in bytes.
    pub max_bytes: u64,
}

/// One workflow the integration automates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    /// A short name, unique within the request.
    pub name: String,
    /// What the workflow does, for Bentley's reviewer.
    pub description: String,
    /// The declared direction of data.
    pub direction: Direction,
    /// The entities touched, and what is done to each.
    #[serde(default)]
    pub entities: Vec<EntityAccess>,
    /// What starts a run, and so how often it runs.
    pub trigger: Option<Trigger>,
    /// Records moved per run (read and/or written).
    pub records_per_run: Option<u64>,
    /// Files uploaded per run, for workflows that upload.
    pub uploads: Option<UploadProfile>,
    /// When the workflow runs (UTC), if it keeps to a window.
    pub sync_window: Option<SyncWindow>,
    /// Why the workflow exists.
    #[serde(default)]
    pub purpose: WorkflowPurpose,
}

impl Workflow {
    /// How often it runs, for people ("not stated" when it does not say).
    pub fn frequency_text(&self) -> String {
        self.trigger
            .as_ref()
            .map_or_else(|| "not stated".to_owned(), Trigger::describe)
    }

    /// Uploads per run, for people ("none" when it uploads nothing).
    pub fn uploads_text(&self) -> String {
        self.uploads.map_or_else(
            || "none".to_owned(),
            |u| {
                format!(
                    "{} a run, about {} each, at most {}",
                    crate::text::count(u.files_per_run, "file", "files"),
                    crate::text::bytes(u.average_bytes),
                    crate::text::bytes(u.max_bytes)
                )
            },
        )
    }

    /// Records per run, for people ("not stated" when it does not say).
    pub fn records_per_run_text(&self) -> String {
        self.records_per_run
            .map_or_else(|| "not stated".to_owned(), crate::text::number)
    }

    /// Whether any entity is read.
    pub fn reads(&self) -> bool {
        self.entities.iter().any(EntityAccess::reads)
    }

    /// Whether any entity is changed.
    pub fn writes(&self) -> bool {
        self.entities.iter().any(EntityAccess::writes)
    }

    /// Whether any entity receives uploads.
    pub fn uploads_files(&self) -> bool {
        self.entities
            .iter()
            .any(|access| access.operations.contains(&Operation::Upload))
    }

    /// The entities read, in declaration order without repeats.
    pub fn read_entities(&self) -> Vec<Entity> {
        dedup(self.entities.iter().filter(|a| a.reads()).map(|a| a.entity))
    }

    /// The entities changed, in declaration order without repeats.
    pub fn written_entities(&self) -> Vec<Entity> {
        dedup(
            self.entities
                .iter()
                .filter(|a| a.writes())
                .map(|a| a.entity),
        )
    }

    /// The direction implied by the operations (`None` when no operation is declared).
    pub fn direction_of_operations(&self) -> Option<Direction> {
        Direction::from_flags(self.reads(), self.writes())
    }

    /// Whether the workflow only reads.
    pub fn is_read_only(&self) -> bool {
        !self.writes() && !self.direction.writes()
    }
}

/// The items of `entities` in first-seen order, without repeats.
fn dedup(entities: impl Iterator<Item = Entity>) -> Vec<Entity> {
    let mut seen = Vec::new();
    for entity in entities {
        if !seen.contains(&entity) {
            seen.push(entity);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_purpose_once_in_declaration_order() {
        // A new variant does not compile here until it is added to `ALL` (and to this match).
        let index = |purpose: WorkflowPurpose| match purpose {
            WorkflowPurpose::Integration => 0,
            WorkflowPurpose::Analytics => 1,
            WorkflowPurpose::Reporting => 2,
        };
        assert_eq!(WorkflowPurpose::ALL.map(index), [0, 1, 2]);
    }

    #[test]
    fn every_purpose_parses_back_from_its_string_form_which_is_its_serde_form() {
        for purpose in WorkflowPurpose::ALL {
            assert_eq!(purpose.as_str().parse::<WorkflowPurpose>(), Ok(purpose));
            assert_eq!(purpose.to_string(), purpose.as_str());
            let json = serde_json::to_string(&purpose).expect("a purpose serialises");
            assert_eq!(json, format!("\"{}\"", purpose.as_str()));
        }
    }

    #[test]
    fn an_unknown_purpose_word_is_refused_with_what_was_expected() {
        for word in [
            "",
            "Integration",
            "ANALYTICS",
            " reporting",
            "reporting ",
            "analytic",
            "report",
            "bi",
            "integration,analytics",
        ] {
            let err = word.parse::<WorkflowPurpose>().expect_err(word);
            assert_eq!(err, UnknownWorkflowPurpose(word.to_owned()));
            assert_eq!(
                err.to_string(),
                format!(
                    "unknown workflow purpose `{word}`: expected integration, analytics or \
                     reporting"
                )
            );
        }
    }

    #[test]
    fn every_purpose_has_the_label_the_server_prints() {
        // Byte for byte the wording of the web pages and of the drafts to Bentley.
        let labels: Vec<&str> = WorkflowPurpose::ALL.map(WorkflowPurpose::label).to_vec();
        assert_eq!(labels, ["integration", "analytics", "reporting"]);
        for purpose in WorkflowPurpose::ALL {
            assert!(!purpose.label().trim().is_empty(), "{purpose:?}");
        }
    }
}
