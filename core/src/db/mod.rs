//! Persistence: the connection (SQLite by default, PostgreSQL by URL), migrations, and the
//! sea-orm entities. Entities are storage rows only; GraphQL and services have their own types.

mod bulk;
pub mod entities;
mod url;

use std::time::Duration;

use gatehouse_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

pub(crate) use bulk::{Bind, WriteTxn, insert_sql};
pub use url::{DatabaseUrl, sqlite_path};

/// Opens the database named by `url`. A SQLite file is created on first use, runs in WAL mode
/// with foreign keys enforced; PostgreSQL gets a pool sized for a server.
pub async fn connect(url: &DatabaseUrl) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.expose().to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if url.is_postgres() {
        options.max_connections(20).min_connections(1);
    } else {
        if let Some(path) = sqlite_path(url.expose())
            && let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                DbErr::Custom(format!(
                    "cannot create the directory {}: {e}",
                    parent.display()
                ))
            })?;
        }
        // SQLite serialises writers; a small pool with a busy timeout avoids "database is
        // locked" under concurrent writes while WAL lets readers proceed.
        options.max_connections(8).min_connections(1);
        options.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
    }
    Database::connect(options).await
}

/// Begins a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`: it takes the write
/// lock up front (waiting up to the busy timeout), so a transaction that reads before it writes
/// cannot fail with "database is locked" when another connection wrote in between (a deferred
/// transaction cannot upgrade its read snapshot, and SQLite does not wait in that case).
/// PostgreSQL ignores the mode.
pub(crate) async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Reverts the last `steps` migrations.
pub async fn migrate_down(db: &DatabaseConnection, steps: u32) -> Result<(), DbErr> {
    Migrator::down(db, Some(steps)).await
}

/// What `/readyz` reports about the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Reachable, with every migration applied.
    Ready,
    /// Not usable; the text says why.
    NotReady(String),
}

/// Checks that the database answers and that every migration is applied. For a SQLite file it
/// also checks that the file is still where the configuration says: a deleted file means the
/// data is gone, even while old connections keep the unlinked inode alive.
pub async fn readiness(db: &DatabaseConnection, url: &DatabaseUrl) -> Readiness {
    if let Some(path) = sqlite_path(url.expose())
        && !path.exists()
    {
        return Readiness::NotReady(format!("database file {} is missing", path.display()));
    }
    if let Err(e) = db.execute_unprepared("SELECT 1").await {
        return Readiness::NotReady(format!("database unreachable: {e}"));
    }
    match Migrator::get_pending_migrations(db).await {
        Ok(pending) if pending.is_empty() => Readiness::Ready,
        Ok(pending) => Readiness::NotReady(format!("{} migrations not applied", pending.len())),
        Err(e) => Readiness::NotReady(format!("cannot read migration state: {e}")),
    }
}
