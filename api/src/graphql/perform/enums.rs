//! GraphQL enumerations of upstream values. Each has `UNKNOWN` for a value this version of
//! Gatehouse has not seen, so a new upstream value never fails a whole response.

use async_graphql::Enum;

/// A project's status.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "gatehouse_core::upstream::model::ProjectStatus")]
#[allow(missing_docs)]
pub enum ProjectStatus {
    Active,
    Training,
    Archive,
    Unknown,
}

/// How an activity's progress is measured.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "gatehouse_core::upstream::model::EarnedValueMethod")]
#[allow(missing_docs)]
pub enum EarnedValueMethod {
    Percentage,
    QuantityProgress,
    TaggedItemLabour,
    TaggedItemQuantity,
    Unknown,
}

/// Kind of resource.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "gatehouse_core::upstream::model::ResourceType")]
#[allow(missing_docs)]
pub enum ResourceType {
    Person,
    Equipment,
    OtherResource,
    Unknown,
}

/// What a usage is booked against.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "gatehouse_core::upstream::model::WorkReferenceType")]
#[allow(missing_docs)]
pub enum WorkReferenceType {
    Activity,
    Event,
    Unknown,
}

/// A usage's approval state.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "gatehouse_core::upstream::model::ApprovalStatus")]
#[allow(missing_docs)]
pub enum ApprovalStatus {
    Unapproved,
    Submitted,
    Approved,
    Rejected,
    Unknown,
}

/// A docket's state.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "gatehouse_core::upstream::model::DocketStatus")]
#[allow(missing_docs)]
pub enum DocketStatus {
    Submitted,
    Received,
    Rejected,
    Approved,
    Unknown,
}

/// What an attachment hangs off.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "gatehouse_core::upstream::model::AttachmentParent")]
#[allow(missing_docs)]
pub enum AttachmentParentType {
    Activity,
    Event,
    Unknown,
}

/// A docket status action.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "gatehouse_core::upstream::model::DocketAction")]
pub enum DocketActionInput {
    /// Mark received.
    Receive,
    /// Reject.
    Reject,
    /// Approve.
    Approve,
}
