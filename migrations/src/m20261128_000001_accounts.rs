//! Accounts and access: users, web sessions, app keys, and the append-only audit log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(uuid(Users::Id).primary_key())
                    .col(string_uniq(Users::Email))
                    .col(string(Users::Role))
                    .col(string(Users::PasswordHash))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Users::DisabledAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string(Sessions::IdHash).primary_key())
                    .col(uuid(Sessions::UserId))
                    .col(string(Sessions::CsrfToken))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AppKeys::Table)
                    .col(uuid(AppKeys::Id).primary_key())
                    .col(string(AppKeys::Name))
                    .col(string(AppKeys::Prefix))
                    .col(string_uniq(AppKeys::KeyHash))
                    .col(text(AppKeys::Scopes))
                    .col(big_integer_null(AppKeys::CostBudget))
                    .col(integer_null(AppKeys::RatePerMinute))
                    .col(uuid_null(AppKeys::CreatedBy))
                    .col(timestamp_with_time_zone(AppKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(AppKeys::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AppKeys::RevokedAt))
                    .col(timestamp_with_time_zone_null(AppKeys::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_app_keys_created_by")
                            .from(AppKeys::Table, AppKeys::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(timestamp_with_time_zone(AuditLog::OccurredAt))
                    .col(string(AuditLog::Actor))
                    .col(string(AuditLog::Action))
                    .col(string(AuditLog::RecordType))
                    .col(string(AuditLog::RecordId))
                    .col(text(AuditLog::Summary))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_record")
                    .table(AuditLog::Table)
                    .col(AuditLog::RecordType)
                    .col(AuditLog::RecordId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_occurred_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::OccurredAt)
                    .to_owned(),
            )
            .await?;
        crate::forbid_changes(manager, "audit_log").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::allow_changes(manager, "audit_log").await?;
        for table in [
            AuditLog::Table.into_iden(),
            AppKeys::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Role,
    PasswordHash,
    CreatedAt,
    UpdatedAt,
    DisabledAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    IdHash,
    UserId,
    CsrfToken,
    CreatedAt,
    ExpiresAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum AppKeys {
    Table,
    Id,
    Name,
    Prefix,
    KeyHash,
    Scopes,
    CostBudget,
    RatePerMinute,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    OccurredAt,
    Actor,
    Action,
    RecordType,
    RecordId,
    Summary,
}
