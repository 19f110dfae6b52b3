//! The usage ledger (raw GraphQL operations and upstream calls, kept for a configured number of
//! days), its daily rollups (kept for good) and the usage alerts raised from findings.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LedgerOperations::Table)
                    .col(big_pk_auto(LedgerOperations::Id))
                    .col(timestamp_with_time_zone(LedgerOperations::OccurredAt))
                    // UTC day (YYYY-MM-DD): portable grouping without date functions.
                    .col(string_len(LedgerOperations::Day, 10))
                    .col(string_null(LedgerOperations::RequestId))
                    .col(uuid_null(LedgerOperations::AppKeyId))
                    .col(uuid_null(LedgerOperations::UserId))
                    .col(string_null(LedgerOperations::ProjectId))
                    .col(string_null(LedgerOperations::Operation))
                    .col(string(LedgerOperations::Kind))
                    .col(string(LedgerOperations::Source))
                    .col(integer(LedgerOperations::CacheHits))
                    .col(integer(LedgerOperations::CacheStale))
                    .col(integer(LedgerOperations::CacheMisses))
                    .col(integer(LedgerOperations::UpstreamCalls))
                    .col(big_integer_null(LedgerOperations::EstimatedCost))
                    .col(big_integer(LedgerOperations::DurationUs))
                    .col(string(LedgerOperations::Outcome))
                    .col(string_null(LedgerOperations::ErrorCode))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ledger_operations_project_day")
                    .table(LedgerOperations::Table)
                    .col(LedgerOperations::ProjectId)
                    .col(LedgerOperations::Day)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ledger_operations_day")
                    .table(LedgerOperations::Table)
                    .col(LedgerOperations::Day)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LedgerCalls::Table)
                    .col(big_pk_auto(LedgerCalls::Id))
                    .col(timestamp_with_time_zone(LedgerCalls::OccurredAt))
                    .col(string_len(LedgerCalls::Day, 10))
                    // Minutes since the Unix epoch and hour of day (UTC): peak-rate and
                    // sync-window findings group on them portably.
                    .col(big_integer(LedgerCalls::Minute))
                    .col(small_integer(LedgerCalls::Hour))
                    .col(string(LedgerCalls::ProjectId))
                    .col(string(LedgerCalls::TokenFingerprint))
                    .col(string(LedgerCalls::Endpoint))
                    .col(string(LedgerCalls::Method))
                    .col(string_null(LedgerCalls::Entity))
                    .col(string_null(LedgerCalls::Action))
                    .col(integer_null(LedgerCalls::Status))
                    .col(string_null(LedgerCalls::Error))
                    .col(big_integer(LedgerCalls::LatencyUs))
                    .col(big_integer(LedgerCalls::BytesSent))
                    .col(big_integer(LedgerCalls::BytesReceived))
                    .col(integer(LedgerCalls::Attempt))
                    .col(string(LedgerCalls::Cache))
                    .col(uuid_null(LedgerCalls::AppKeyId))
                    .col(uuid_null(LedgerCalls::UserId))
                    .col(string_null(LedgerCalls::Operation))
                    .col(string_null(LedgerCalls::Workflow))
                    .col(string_null(LedgerCalls::RequestId))
                    .col(string_null(LedgerCalls::ListSignature))
                    .col(big_integer_null(LedgerCalls::Page))
                    .col(boolean(LedgerCalls::Continues))
                    .col(integer_null(LedgerCalls::WindowDays))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ledger_calls_project_day")
                    .table(LedgerCalls::Table)
                    .col(LedgerCalls::ProjectId)
                    .col(LedgerCalls::Day)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_ledger_calls_day")
                    .table(LedgerCalls::Table)
                    .col(LedgerCalls::Day)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UsageRollups::Table)
                    .col(string_len(UsageRollups::Day, 10))
                    .col(string(UsageRollups::ProjectId))
                    // '' when no app key (a signed-in user); a key column may not be NULL.
                    .col(string(UsageRollups::AppKeyId))
                    // `call` (an upstream endpoint) or `operation` (a GraphQL operation).
                    .col(string(UsageRollups::Kind))
                    .col(string(UsageRollups::Method))
                    .col(string(UsageRollups::Name))
                    .col(string(UsageRollups::Workflow))
                    .col(string(UsageRollups::Entity))
                    .col(string(UsageRollups::Action))
                    .col(big_integer(UsageRollups::Count))
                    .col(big_integer(UsageRollups::Errors))
                    .col(big_integer(UsageRollups::Refused))
                    .col(big_integer(UsageRollups::Status4xx))
                    .col(big_integer(UsageRollups::Status429))
                    .col(big_integer(UsageRollups::Status5xx))
                    .col(big_integer(UsageRollups::Status503))
                    .col(big_integer(UsageRollups::Retries))
                    .col(big_integer(UsageRollups::BytesSent))
                    .col(big_integer(UsageRollups::BytesReceived))
                    .col(big_integer(UsageRollups::DurationUsSum))
                    .col(big_integer(UsageRollups::CacheHits))
                    .col(big_integer(UsageRollups::CacheMisses))
                    .col(big_integer(UsageRollups::UpstreamCalls))
                    .col(big_integer(UsageRollups::EstimatedCost))
                    .primary_key(
                        Index::create()
                            .col(UsageRollups::Day)
                            .col(UsageRollups::ProjectId)
                            .col(UsageRollups::AppKeyId)
                            .col(UsageRollups::Kind)
                            .col(UsageRollups::Method)
                            .col(UsageRollups::Name)
                            .col(UsageRollups::Workflow),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UsageAlerts::Table)
                    .col(uuid(UsageAlerts::Id).primary_key())
                    .col(timestamp_with_time_zone(UsageAlerts::CreatedAt))
                    .col(string_len(UsageAlerts::Day, 10))
                    .col(string(UsageAlerts::ProjectId))
                    .col(string(UsageAlerts::AppKeyId))
                    .col(string(UsageAlerts::Code))
                    .col(string(UsageAlerts::Severity))
                    .col(string(UsageAlerts::Title))
                    .col(text(UsageAlerts::Detail))
                    .col(text(UsageAlerts::Evidence))
                    .col(timestamp_with_time_zone_null(UsageAlerts::AcknowledgedAt))
                    .col(uuid_null(UsageAlerts::AcknowledgedBy))
                    .to_owned(),
            )
            .await?;
        // One alert per project, app key, finding and day: re-evaluations do not repeat it.
        manager
            .create_index(
                Index::create()
                    .name("idx_usage_alerts_dedupe")
                    .table(UsageAlerts::Table)
                    .col(UsageAlerts::ProjectId)
                    .col(UsageAlerts::AppKeyId)
                    .col(UsageAlerts::Code)
                    .col(UsageAlerts::Day)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            UsageAlerts::Table.into_iden(),
            UsageRollups::Table.into_iden(),
            LedgerCalls::Table.into_iden(),
            LedgerOperations::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum LedgerOperations {
    Table,
    Id,
    OccurredAt,
    Day,
    RequestId,
    AppKeyId,
    UserId,
    ProjectId,
    Operation,
    Kind,
    Source,
    CacheHits,
    CacheStale,
    CacheMisses,
    UpstreamCalls,
    EstimatedCost,
    DurationUs,
    Outcome,
    ErrorCode,
}

#[derive(DeriveIden)]
enum LedgerCalls {
    Table,
    Id,
    OccurredAt,
    Day,
    Minute,
    Hour,
    ProjectId,
    TokenFingerprint,
    Endpoint,
    Method,
    Entity,
    Action,
    Status,
    Error,
    LatencyUs,
    BytesSent,
    BytesReceived,
    Attempt,
    Cache,
    AppKeyId,
    UserId,
    Operation,
    Workflow,
    RequestId,
    ListSignature,
    Page,
    Continues,
    WindowDays,
}

#[derive(DeriveIden)]
enum UsageRollups {
    Table,
    Day,
    ProjectId,
    AppKeyId,
    Kind,
    Method,
    Name,
    Workflow,
    Entity,
    Action,
    Count,
    Errors,
    Refused,
    #[sea_orm(iden = "status_4xx")]
    Status4xx,
    #[sea_orm(iden = "status_429")]
    Status429,
    #[sea_orm(iden = "status_5xx")]
    Status5xx,
    #[sea_orm(iden = "status_503")]
    Status503,
    Retries,
    BytesSent,
    BytesReceived,
    DurationUsSum,
    CacheHits,
    CacheMisses,
    UpstreamCalls,
    EstimatedCost,
}

#[derive(DeriveIden)]
enum UsageAlerts {
    Table,
    Id,
    CreatedAt,
    Day,
    ProjectId,
    AppKeyId,
    Code,
    Severity,
    Title,
    Detail,
    Evidence,
    AcknowledgedAt,
    AcknowledgedBy,
}
