//! A `ledger_operations` row may stand for several identical operations: the ledger writer
//! counts operations that made no upstream call (response-cache replays, cache hits, refusals)
//! into one row per minute and caller instead of writing a row each. `operation_count` says how
//! many operations the row holds; `duration_us`, the cache counts, `upstream_calls` and
//! `estimated_cost` are their sums; `duration_max_us` is the longest of them. Rows written
//! before this migration hold one operation each.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(LedgerOperations::Table)
                    .add_column(big_integer(LedgerOperations::OperationCount).default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LedgerOperations::Table)
                    .add_column(big_integer(LedgerOperations::DurationMaxUs).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table(LedgerOperations::Table)
                    .value(
                        LedgerOperations::DurationMaxUs,
                        Expr::col(LedgerOperations::DurationUs),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            LedgerOperations::DurationMaxUs,
            LedgerOperations::OperationCount,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(LedgerOperations::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum LedgerOperations {
    Table,
    OperationCount,
    DurationMaxUs,
    DurationUs,
}
