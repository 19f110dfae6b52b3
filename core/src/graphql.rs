//! The GraphQL output types of the domain (feature `graphql`, which the server turns on):
//! derived on the domain types where they are the same data, so the server does not copy them
//! field by field. The core itself never depends on GraphQL: the test command checks the crate
//! without this feature.
//!
//! What lives here is what the derived types need and the pure `compliance` crate cannot carry:
//! the GraphQL enums of its types (`remote`, so conversions are generated both ways) and the
//! view of a finding.

use async_graphql::{ComplexObject, Enum, ID, Json, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use gatehouse_compliance::findings::Finding;

use crate::dataclips::Freshness;
use crate::dataclips::analytics::{UsageRecord, UsageSums};
use crate::metering::alerts::Alert;
use crate::metering::report::{EndpointUsage, KeyUsage, UsageReport};
use crate::vault::VaultRecord;

/// A SYNCHRO Perform entity, as named in scopes, requests and reports.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Entity", remote = "gatehouse_compliance::Entity")]
#[allow(missing_docs)]
pub enum EntityName {
    Project,
    Activity,
    Event,
    Person,
    Equipment,
    OtherResource,
    ResourceAssignment,
    ResourceUsage,
    Attendance,
    Docket,
    Attachment,
    ProgressEntry,
    Company,
    WorkRole,
    UsageCode,
    RateCode,
    ApplicableRate,
    Competency,
}

/// How much a finding matters.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "gatehouse_compliance::findings::Severity")]
pub enum FindingSeverity {
    /// Worth knowing.
    Info,
    /// Worth acting on.
    Warning,
    /// Act now.
    Critical,
}

/// Calls in one hour of the day (UTC).
#[derive(SimpleObject, Debug, Clone)]
pub struct HourCalls {
    /// The hour, 0 to 23.
    pub hour: i32,
    /// Calls in it.
    pub calls: u64,
}

/// The evidence behind a finding; only the fields that apply are set.
#[derive(SimpleObject, Debug, Clone)]
pub struct FindingEvidence {
    /// Start of the period observed.
    pub period_start: DateTime<Utc>,
    /// End of the period observed (exclusive).
    pub period_end: DateTime<Utc>,
    /// The entity concerned.
    pub entity: Option<EntityName>,
    /// The operations concerned (`read`, `create`, ...).
    pub operations: Vec<String>,
    /// The workflow concerned.
    pub workflow: Option<String>,
    /// The count observed.
    pub observed: Option<u64>,
    /// The count declared.
    pub declared: Option<u64>,
    /// Observed in percent of declared (or the cache hit ratio).
    pub percent: Option<u64>,
    /// The day concerned.
    pub day: Option<NaiveDate>,
    /// Calls by hour, for the hours concerned.
    pub hours: Vec<HourCalls>,
    /// GraphQL operations concerned.
    pub sample_operations: Vec<String>,
}

/// A declared-versus-observed finding.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "UsageFinding")]
pub struct FindingView {
    /// The stable snake_case code (`undeclared_entity`, `write_under_read_only_workflow`, ...).
    pub code: String,
    /// How much it matters.
    pub severity: FindingSeverity,
    /// A one-line title.
    pub title: String,
    /// What was seen and what to do.
    pub detail: String,
    /// The evidence.
    pub evidence: FindingEvidence,
}

impl From<&Finding> for FindingView {
    fn from(f: &Finding) -> Self {
        let e = &f.evidence;
        Self {
            code: f.code.as_str().to_owned(),
            severity: f.severity.into(),
            title: f.title.clone(),
            detail: f.detail.clone(),
            evidence: FindingEvidence {
                period_start: e.period.start,
                period_end: e.period.end,
                entity: e.entity.map(Into::into),
                operations: e.operations.iter().map(|o| o.as_str().to_owned()).collect(),
                workflow: e.workflow.clone(),
                observed: e.observed,
                declared: e.declared,
                percent: e.percent,
                day: e.day,
                hours: e
                    .hours
                    .iter()
                    .map(|h| HourCalls {
                        hour: i32::from(h.hour),
                        calls: h.calls,
                    })
                    .collect(),
                sample_operations: e.sample_operations.clone(),
            },
        }
    }
}

#[ComplexObject]
impl UsageReport {
    /// The project.
    async fn project_id(&self) -> ID {
        ID(self.project_id.clone())
    }

    /// The app key reported on, when one.
    async fn app_key_id(&self) -> Option<ID> {
        self.app_key_id.map(|k| ID(k.to_string()))
    }

    /// Declared against observed, most severe first.
    async fn findings(&self) -> Vec<FindingView> {
        self.findings.iter().map(Into::into).collect()
    }
}

#[ComplexObject]
impl KeyUsage {
    /// The app key (null for signed-in users).
    async fn app_key_id(&self) -> Option<ID> {
        self.app_key_id.clone().map(ID)
    }
}

#[ComplexObject]
impl EndpointUsage {
    /// The entity it serves, when known.
    async fn entity(&self) -> Option<EntityName> {
        self.entity
            .parse::<gatehouse_compliance::Entity>()
            .ok()
            .map(Into::into)
    }
}

#[ComplexObject]
impl Alert {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The project.
    async fn project_id(&self) -> ID {
        ID(self.project_id.clone())
    }

    /// The app key, when it concerns one.
    async fn app_key_id(&self) -> Option<ID> {
        self.app_key_id.map(|k| ID(k.to_string()))
    }

    /// The evidence, as in the finding.
    async fn evidence(&self) -> Json<&serde_json::Value> {
        Json(&self.evidence)
    }

    /// Whether a reviewer acknowledged it.
    async fn acknowledged(&self) -> bool {
        self.acknowledged_at.is_some()
    }

    /// Who acknowledged it.
    async fn acknowledged_by(&self) -> Option<ID> {
        self.acknowledged_by.map(|u| ID(u.to_string()))
    }
}

#[ComplexObject]
impl Freshness {
    /// The snapshot that answered.
    async fn snapshot_id(&self) -> ID {
        ID(self.snapshot_id.to_string())
    }
}

#[ComplexObject]
impl UsageSums {
    /// Quantity of usages not (yet) approved.
    async fn unapproved_quantity(&self) -> f64 {
        self.quantity - self.approved_quantity
    }

    /// Labour hours of usages not (yet) approved.
    async fn unapproved_labour_hours(&self) -> f64 {
        self.labour_hours - self.approved_labour_hours
    }
}

#[ComplexObject]
impl VaultRecord {
    /// Id.
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The access request it was recorded for.
    async fn access_request_id(&self) -> Option<ID> {
        self.request_id.map(|id| ID(id.to_string()))
    }

    /// Whether this is the version in use.
    async fn current(&self) -> bool {
        self.is_current()
    }

    /// A warning when it expires soon or has expired.
    #[graphql(name = "expiryWarning")]
    async fn warning(&self) -> Option<String> {
        self.expiry_warning()
    }
}

#[ComplexObject]
impl UsageRecord {
    /// The usage's id (the same as the REST API's).
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }
}

#[cfg(test)]
mod tests {
    use gatehouse_compliance::findings::Severity;

    use super::*;

    #[test]
    fn severities_map_one_to_one() {
        for (severity, view) in [
            (Severity::Info, FindingSeverity::Info),
            (Severity::Warning, FindingSeverity::Warning),
            (Severity::Critical, FindingSeverity::Critical),
        ] {
            assert_eq!(FindingSeverity::from(severity), view);
        }
    }
}
