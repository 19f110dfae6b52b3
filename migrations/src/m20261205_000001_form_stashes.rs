//! Form stashes: what a user typed into a web form when their session had expired, kept for a
//! short while so that signing in again returns them to the form with their input intact.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FormStashes::Table)
                    .col(string(FormStashes::IdHash).primary_key())
                    .col(string(FormStashes::Path))
                    .col(text(FormStashes::Fields))
                    .col(timestamp_with_time_zone(FormStashes::CreatedAt))
                    .col(timestamp_with_time_zone(FormStashes::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_form_stashes_expires_at")
                    .table(FormStashes::Table)
                    .col(FormStashes::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FormStashes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum FormStashes {
    Table,
    IdHash,
    Path,
    Fields,
    CreatedAt,
    ExpiresAt,
}
