//! The names of the dataclip tables and columns, for sea-query (created by the migration
//! `m20261201_000001_dataclips`).

#![allow(missing_docs, dead_code)]

use sea_orm::DeriveIden;

#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum DataclipClips {
    Table,
    ProjectId,
    Clip,
    CurrentSnapshotId,
    Etag,
    LastModified,
    LastAttemptAt,
    LastSuccessAt,
    LastChangedAt,
    LastError,
    LastErrorAt,
    LastManualAt,
}

#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum DataclipSnapshots {
    Table,
    Id,
    ProjectId,
    Clip,
    Format,
    Status,
    StartedAt,
    FinishedAt,
    UpstreamSnapshotAt,
    Etag,
    Rows,
    BadRows,
    Error,
}

#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum DataclipBadRows {
    Table,
    Id,
    SnapshotId,
    RowNumber,
    Reason,
}

#[derive(DeriveIden, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DataclipUsages {
    Table,
    Id,
    SnapshotId,
    UsageId,
    ProjectName,
    WorkDate,
    WorkWeek,
    WorkMonth,
    ResourceRole,
    WorkRoleCategory,
    Company,
    ResourceType,
    ResourceName,
    ResourceIdentifier,
    WorkReferenceType,
    WorkReferenceCode,
    WorkReferenceName,
    Discipline,
    Location,
    JobNumber,
    CostCode,
    UsageCode,
    Docket,
    StartTime,
    EndTime,
    BreakMinutes,
    Quantity,
    Uom,
    RateCode,
    ApprovalStatus,
    LabourHours,
    ApprovedQuantity,
    ApprovedLabourHours,
}

#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum DataclipAttendance {
    Table,
    Id,
    SnapshotId,
    AttendanceId,
    AttendanceReference,
    Person,
    Company,
    WorkRole,
    Supervisor,
    StartDate,
    StartWeek,
    StartMonth,
    StartTime,
    StartArea,
    StartLatitude,
    StartLongitude,
    EndDate,
    EndTime,
    EndArea,
    EndLatitude,
    EndLongitude,
    TimeZone,
    DurationHours,
}

#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum DataclipActivities {
    Table,
    Id,
    SnapshotId,
    ActivityId,
    ReferenceCode,
    Name,
    WbsCode,
    QuantityUom,
    WorkCategory,
    Discipline,
    Location,
    JobNumber,
    CostCode,
    OriginalBudgetLabour,
    OriginalBudgetQuantity,
    OriginalBudgetCost,
    RevisedBudgetLabour,
    RevisedBudgetQuantity,
    RevisedBudgetCost,
    CurrentEstimateLabour,
    CurrentEstimateQuantity,
    CurrentEstimateCost,
    OriginalStart,
    OriginalFinish,
    RevisedStart,
    RevisedFinish,
    PlannedStart,
    PlannedFinish,
    ActualStart,
    ActualFinish,
    ExpectedStart,
    ExpectedFinish,
    FloatDays,
    EarnedValueMethod,
    PercentComplete,
    ExcludeFromMobile,
    BookableForAll,
    NonBookable,
    Tags,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum DataclipRates {
    Table,
    Id,
    SnapshotId,
    RateId,
    ResourceName,
    ResourceType,
    RateCode,
    Rate,
    Uom,
    EffectiveFrom,
    EffectiveTo,
}

#[derive(DeriveIden, Clone, Copy, Debug)]
pub(crate) enum DataclipRows {
    Table,
    Id,
    SnapshotId,
    RowNumber,
    Data,
}
