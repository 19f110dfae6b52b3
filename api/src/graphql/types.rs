//! GraphQL types shared by several areas.

use async_graphql::Enum;

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

/// Read or write. `WRITE` includes `READ`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "gatehouse_compliance::model::Access")]
pub enum AccessLevel {
    /// Queries only.
    Read,
    /// Queries and mutations.
    Write,
}
