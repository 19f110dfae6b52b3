//! Dataclips: the state of each configured clip (with the pointer to its current snapshot), the
//! snapshots themselves, the rows each snapshot refused, and the snapshot rows: typed tables for
//! the clips Gatehouse knows and a generic JSON store for the others.
//!
//! Every row carries its `snapshot_id`; a snapshot becomes visible only when the clip's
//! `current_snapshot_id` points at it, so a snapshot being built is never read. Dates are stored
//! as ISO text (`YYYY-MM-DD`) with the week (its Monday) and the month (`YYYY-MM`) computed at
//! ingest, so grouping by period is the same plain `GROUP BY` on SQLite and PostgreSQL.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DataclipClips::Table)
                    .col(string(DataclipClips::ProjectId))
                    .col(string(DataclipClips::Clip))
                    .col(big_integer_null(DataclipClips::CurrentSnapshotId))
                    .col(text_null(DataclipClips::Etag))
                    .col(text_null(DataclipClips::LastModified))
                    .col(timestamp_with_time_zone_null(DataclipClips::LastAttemptAt))
                    .col(timestamp_with_time_zone_null(DataclipClips::LastSuccessAt))
                    .col(timestamp_with_time_zone_null(DataclipClips::LastChangedAt))
                    .col(text_null(DataclipClips::LastError))
                    .col(timestamp_with_time_zone_null(DataclipClips::LastErrorAt))
                    .col(timestamp_with_time_zone_null(DataclipClips::LastManualAt))
                    .primary_key(
                        Index::create()
                            .col(DataclipClips::ProjectId)
                            .col(DataclipClips::Clip),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DataclipSnapshots::Table)
                    .col(big_pk_auto(DataclipSnapshots::Id))
                    .col(string(DataclipSnapshots::ProjectId))
                    .col(string(DataclipSnapshots::Clip))
                    .col(string(DataclipSnapshots::Format))
                    .col(string(DataclipSnapshots::Status))
                    .col(timestamp_with_time_zone(DataclipSnapshots::StartedAt))
                    .col(timestamp_with_time_zone_null(DataclipSnapshots::FinishedAt))
                    .col(timestamp_with_time_zone_null(
                        DataclipSnapshots::UpstreamSnapshotAt,
                    ))
                    .col(text_null(DataclipSnapshots::Etag))
                    .col(big_integer(DataclipSnapshots::Rows).default(0))
                    .col(big_integer(DataclipSnapshots::BadRows).default(0))
                    .col(text_null(DataclipSnapshots::Error))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_dataclip_snapshots_clip",
            DataclipSnapshots::Table,
            &[DataclipSnapshots::ProjectId, DataclipSnapshots::Clip],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(DataclipBadRows::Table)
                    .col(big_pk_auto(DataclipBadRows::Id))
                    .col(big_integer(DataclipBadRows::SnapshotId))
                    .col(big_integer(DataclipBadRows::RowNumber))
                    .col(text(DataclipBadRows::Reason))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_dataclip_bad_rows_snapshot",
            DataclipBadRows::Table,
            &[DataclipBadRows::SnapshotId],
        )
        .await?;

        let mut usages = Table::create();
        usages
            .table(DataclipUsages::Table)
            .col(big_pk_auto(DataclipUsages::Id))
            .col(big_integer(DataclipUsages::SnapshotId));
        for column in [
            DataclipUsages::UsageId,
            DataclipUsages::ProjectName,
            DataclipUsages::WorkDate,
            DataclipUsages::WorkWeek,
            DataclipUsages::WorkMonth,
            DataclipUsages::ResourceRole,
            DataclipUsages::WorkRoleCategory,
            DataclipUsages::Company,
            DataclipUsages::ResourceType,
            DataclipUsages::ResourceName,
            DataclipUsages::ResourceIdentifier,
            DataclipUsages::WorkReferenceType,
            DataclipUsages::WorkReferenceCode,
            DataclipUsages::WorkReferenceName,
            DataclipUsages::Discipline,
            DataclipUsages::Location,
            DataclipUsages::JobNumber,
            DataclipUsages::CostCode,
            DataclipUsages::UsageCode,
            DataclipUsages::Docket,
            DataclipUsages::StartTime,
            DataclipUsages::EndTime,
        ] {
            usages.col(text(column));
        }
        usages
            .col(integer(DataclipUsages::BreakMinutes))
            .col(double(DataclipUsages::Quantity))
            .col(text(DataclipUsages::Uom))
            .col(text(DataclipUsages::RateCode))
            .col(text(DataclipUsages::ApprovalStatus))
            .col(double(DataclipUsages::LabourHours))
            .col(double(DataclipUsages::ApprovedQuantity))
            .col(double(DataclipUsages::ApprovedLabourHours));
        manager.create_table(usages.to_owned()).await?;
        index(
            manager,
            "idx_dataclip_usages_date",
            DataclipUsages::Table,
            &[DataclipUsages::SnapshotId, DataclipUsages::WorkDate],
        )
        .await?;

        let mut attendance = Table::create();
        attendance
            .table(DataclipAttendance::Table)
            .col(big_pk_auto(DataclipAttendance::Id))
            .col(big_integer(DataclipAttendance::SnapshotId));
        for column in [
            DataclipAttendance::AttendanceId,
            DataclipAttendance::AttendanceReference,
            DataclipAttendance::Person,
            DataclipAttendance::Company,
            DataclipAttendance::WorkRole,
        ] {
            attendance.col(text(column));
        }
        attendance.col(boolean(DataclipAttendance::Supervisor));
        for column in [
            DataclipAttendance::StartDate,
            DataclipAttendance::StartWeek,
            DataclipAttendance::StartMonth,
            DataclipAttendance::StartTime,
            DataclipAttendance::StartArea,
        ] {
            attendance.col(text(column));
        }
        attendance
            .col(double_null(DataclipAttendance::StartLatitude))
            .col(double_null(DataclipAttendance::StartLongitude))
            .col(text(DataclipAttendance::EndDate))
            .col(text(DataclipAttendance::EndTime))
            .col(text(DataclipAttendance::EndArea))
            .col(double_null(DataclipAttendance::EndLatitude))
            .col(double_null(DataclipAttendance::EndLongitude))
            .col(text(DataclipAttendance::TimeZone))
            .col(double_null(DataclipAttendance::DurationHours));
        manager.create_table(attendance.to_owned()).await?;
        index(
            manager,
            "idx_dataclip_attendance_date",
            DataclipAttendance::Table,
            &[
                DataclipAttendance::SnapshotId,
                DataclipAttendance::StartDate,
            ],
        )
        .await?;

        let mut activities = Table::create();
        activities
            .table(DataclipActivities::Table)
            .col(big_pk_auto(DataclipActivities::Id))
            .col(big_integer(DataclipActivities::SnapshotId));
        for column in [
            DataclipActivities::ActivityId,
            DataclipActivities::ReferenceCode,
            DataclipActivities::Name,
            DataclipActivities::WbsCode,
            DataclipActivities::QuantityUom,
            DataclipActivities::WorkCategory,
            DataclipActivities::Discipline,
            DataclipActivities::Location,
            DataclipActivities::JobNumber,
            DataclipActivities::CostCode,
        ] {
            activities.col(text(column));
        }
        for column in [
            DataclipActivities::OriginalBudgetLabour,
            DataclipActivities::OriginalBudgetQuantity,
            DataclipActivities::OriginalBudgetCost,
            DataclipActivities::RevisedBudgetLabour,
            DataclipActivities::RevisedBudgetQuantity,
            DataclipActivities::RevisedBudgetCost,
            DataclipActivities::CurrentEstimateLabour,
            DataclipActivities::CurrentEstimateQuantity,
            DataclipActivities::CurrentEstimateCost,
        ] {
            activities.col(double(column));
        }
        for column in [
            DataclipActivities::OriginalStart,
            DataclipActivities::OriginalFinish,
            DataclipActivities::RevisedStart,
            DataclipActivities::RevisedFinish,
            DataclipActivities::PlannedStart,
            DataclipActivities::PlannedFinish,
            DataclipActivities::ActualStart,
            DataclipActivities::ActualFinish,
            DataclipActivities::ExpectedStart,
            DataclipActivities::ExpectedFinish,
        ] {
            activities.col(text(column));
        }
        activities
            .col(double(DataclipActivities::FloatDays))
            .col(text(DataclipActivities::EarnedValueMethod))
            .col(double(DataclipActivities::PercentComplete))
            .col(boolean(DataclipActivities::ExcludeFromMobile))
            .col(boolean(DataclipActivities::BookableForAll))
            .col(boolean(DataclipActivities::NonBookable))
            .col(text(DataclipActivities::Tags))
            .col(text(DataclipActivities::UpdatedAt));
        manager.create_table(activities.to_owned()).await?;
        index(
            manager,
            "idx_dataclip_activities_code",
            DataclipActivities::Table,
            &[
                DataclipActivities::SnapshotId,
                DataclipActivities::ReferenceCode,
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(DataclipRates::Table)
                    .col(big_pk_auto(DataclipRates::Id))
                    .col(big_integer(DataclipRates::SnapshotId))
                    .col(text(DataclipRates::RateId))
                    .col(text(DataclipRates::ResourceName))
                    .col(text(DataclipRates::ResourceType))
                    .col(text(DataclipRates::RateCode))
                    .col(double(DataclipRates::Rate))
                    .col(text(DataclipRates::Uom))
                    .col(text(DataclipRates::EffectiveFrom))
                    .col(text(DataclipRates::EffectiveTo))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_dataclip_rates_resource",
            DataclipRates::Table,
            &[DataclipRates::SnapshotId, DataclipRates::ResourceName],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(DataclipRows::Table)
                    .col(big_pk_auto(DataclipRows::Id))
                    .col(big_integer(DataclipRows::SnapshotId))
                    .col(big_integer(DataclipRows::RowNumber))
                    .col(text(DataclipRows::Data))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_dataclip_rows_snapshot",
            DataclipRows::Table,
            &[DataclipRows::SnapshotId],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DataclipRows::Table.into_iden(),
            DataclipRates::Table.into_iden(),
            DataclipActivities::Table.into_iden(),
            DataclipAttendance::Table.into_iden(),
            DataclipUsages::Table.into_iden(),
            DataclipBadRows::Table.into_iden(),
            DataclipSnapshots::Table.into_iden(),
            DataclipClips::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn index<T, C>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
) -> Result<(), DbErr>
where
    T: IntoIden,
    C: IntoIden + Clone,
{
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column.clone());
    }
    manager.create_index(index.to_owned()).await
}

#[derive(DeriveIden, Clone)]
enum DataclipClips {
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

#[derive(DeriveIden, Clone)]
enum DataclipSnapshots {
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

#[derive(DeriveIden, Clone)]
enum DataclipBadRows {
    Table,
    Id,
    SnapshotId,
    RowNumber,
    Reason,
}

#[derive(DeriveIden, Clone)]
enum DataclipUsages {
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

#[derive(DeriveIden, Clone)]
enum DataclipAttendance {
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

#[derive(DeriveIden, Clone)]
enum DataclipActivities {
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

#[derive(DeriveIden, Clone)]
enum DataclipRates {
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

#[derive(DeriveIden, Clone)]
enum DataclipRows {
    Table,
    Id,
    SnapshotId,
    RowNumber,
    Data,
}
