//! Database migrations of Gatehouse.
//!
//! Every migration is written with sea-query builders so that it runs unchanged on SQLite and
//! PostgreSQL, and every migration has a working `down`. The server applies them at start-up and
//! `gatehouse migrate` applies (or reverts) them on demand.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_accounts;
mod m20261128_000002_idempotency;
mod m20261129_000003_metering;
mod m20261201_000001_dataclips;
mod m20261201_000002_access_requests;
mod m20261205_000001_form_stashes;
mod m20261206_000001_ledger_operation_counts;

/// The ordered list of Gatehouse migrations.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_accounts::Migration),
            Box::new(m20261128_000002_idempotency::Migration),
            Box::new(m20261201_000002_access_requests::Migration),
            Box::new(m20261201_000001_dataclips::Migration),
            Box::new(m20261129_000003_metering::Migration),
            Box::new(m20261205_000001_form_stashes::Migration),
            Box::new(m20261206_000001_ledger_operation_counts::Migration),
        ]
    }
}

/// Creates triggers that refuse `UPDATE` and `DELETE` on `table`, so that an append-only table
/// stays append-only even for code that forgets the rule.
pub(crate) async fn forbid_changes(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            for op in ["UPDATE", "DELETE"] {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER {table}_no_{op_l} BEFORE {op} ON {table} \
                     BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;",
                    op_l = op.to_lowercase()
                ))
                .await?;
            }
        }
        sea_orm::DatabaseBackend::Postgres => {
            db.execute_unprepared(&format!(
                "CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$;"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION {table}_append_only();"
            ))
            .await?;
        }
        other => {
            return Err(DbErr::Migration(format!(
                "unsupported database backend {other:?}"
            )));
        }
    }
    Ok(())
}

/// Drops what [`forbid_changes`] created.
pub(crate) async fn allow_changes(manager: &SchemaManager<'_>, table: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            for op in ["update", "delete"] {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {table}_no_{op};"))
                    .await?;
            }
        }
        sea_orm::DatabaseBackend::Postgres => {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS {table}_no_change ON {table};"
            ))
            .await?;
            db.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {table}_append_only();"))
                .await?;
        }
        _ => {}
    }
    Ok(())
}
