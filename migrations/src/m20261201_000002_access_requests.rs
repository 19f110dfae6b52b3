//! Access requests and what hangs off them: review comments, the vault of issued tokens and
//! dataclip credentials, and the binding of app keys to the request they were made for.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccessRequests::Table)
                    .col(uuid(AccessRequests::Id).primary_key())
                    .col(uuid(AccessRequests::OwnerId))
                    .col(string(AccessRequests::Status))
                    .col(string(AccessRequests::Title))
                    .col(text(AccessRequests::Body))
                    .col(string_null(AccessRequests::BentleyReference))
                    .col(timestamp_with_time_zone(AccessRequests::CreatedAt))
                    .col(timestamp_with_time_zone(AccessRequests::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_requests_owner")
                            .from(AccessRequests::Table, AccessRequests::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_access_requests_status", AccessRequests::Status),
            ("idx_access_requests_owner", AccessRequests::OwnerId),
            ("idx_access_requests_created_at", AccessRequests::CreatedAt),
            ("idx_access_requests_updated_at", AccessRequests::UpdatedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AccessRequests::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(AccessRequestComments::Table)
                    .col(uuid(AccessRequestComments::Id).primary_key())
                    .col(uuid(AccessRequestComments::RequestId))
                    .col(uuid(AccessRequestComments::AuthorId))
                    .col(string(AccessRequestComments::Kind))
                    .col(text(AccessRequestComments::Body))
                    .col(timestamp_with_time_zone(AccessRequestComments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_request_comments_request")
                            .from(
                                AccessRequestComments::Table,
                                AccessRequestComments::RequestId,
                            )
                            .to(AccessRequests::Table, AccessRequests::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_request_comments_author")
                            .from(
                                AccessRequestComments::Table,
                                AccessRequestComments::AuthorId,
                            )
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_access_request_comments_request")
                    .table(AccessRequestComments::Table)
                    .col(AccessRequestComments::RequestId)
                    .col(AccessRequestComments::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(VaultRecords::Table)
                    .col(uuid(VaultRecords::Id).primary_key())
                    .col(string(VaultRecords::Kind))
                    .col(string(VaultRecords::ProjectId))
                    .col(uuid_null(VaultRecords::RequestId))
                    .col(integer(VaultRecords::Version))
                    .col(string_null(VaultRecords::Scope))
                    .col(string_null(VaultRecords::Username))
                    .col(text(VaultRecords::Ciphertext))
                    .col(string(VaultRecords::Fingerprint))
                    .col(string(VaultRecords::LastFour))
                    .col(date_null(VaultRecords::IssuedOn))
                    .col(date_null(VaultRecords::ExpiresOn))
                    .col(uuid_null(VaultRecords::CreatedBy))
                    .col(timestamp_with_time_zone(VaultRecords::CreatedAt))
                    .col(timestamp_with_time_zone_null(VaultRecords::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_vault_records_request")
                            .from(VaultRecords::Table, VaultRecords::RequestId)
                            .to(AccessRequests::Table, AccessRequests::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_vault_records_created_by")
                            .from(VaultRecords::Table, VaultRecords::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_vault_records_project")
                    .table(VaultRecords::Table)
                    .col(VaultRecords::Kind)
                    .col(VaultRecords::ProjectId)
                    .col(VaultRecords::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_vault_records_request")
                    .table(VaultRecords::Table)
                    .col(VaultRecords::RequestId)
                    .to_owned(),
            )
            .await?;

        // SQLite cannot add a foreign key to an existing table; the column is an indexed
        // reference that the service keeps consistent (keys are revoked, never deleted).
        manager
            .alter_table(
                Table::alter()
                    .table(AppKeys::Table)
                    .add_column(uuid_null(AppKeys::AccessRequestId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_app_keys_access_request")
                    .table(AppKeys::Table)
                    .col(AppKeys::AccessRequestId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_app_keys_access_request")
                    .table(AppKeys::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AppKeys::Table)
                    .drop_column(AppKeys::AccessRequestId)
                    .to_owned(),
            )
            .await?;
        for table in [
            VaultRecords::Table.into_iden(),
            AccessRequestComments::Table.into_iden(),
            AccessRequests::Table.into_iden(),
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
}

#[derive(DeriveIden)]
enum AppKeys {
    Table,
    AccessRequestId,
}

#[derive(DeriveIden)]
enum AccessRequests {
    Table,
    Id,
    OwnerId,
    Status,
    Title,
    Body,
    BentleyReference,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AccessRequestComments {
    Table,
    Id,
    RequestId,
    AuthorId,
    Kind,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum VaultRecords {
    Table,
    Id,
    Kind,
    ProjectId,
    RequestId,
    Version,
    Scope,
    Username,
    Ciphertext,
    Fingerprint,
    LastFour,
    IssuedOn,
    ExpiresOn,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}
