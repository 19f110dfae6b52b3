//! The fast bulk write paths (dataclip ingest, usage ledger): multi-row INSERTs built once by
//! sea-query for each size and reused, run in a transaction straight on the driver's pool,
//! each value bound by moving it (going through the ORM would copy every string twice).
//! [`WriteTxn::execute`] is the one place that knows which driver it is on.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, IntoIden, Query};
use sea_orm::sqlx::{self, AssertSqlSafe};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, Value};
use uuid::Uuid;

/// An open write transaction on the driver's pool (SQLite: `BEGIN IMMEDIATE`).
#[derive(Debug)]
pub(crate) enum WriteTxn {
    /// SQLite.
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// PostgreSQL.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// One value of a bulk write. Text is either shared (`Arc<str>`, bound again without copying
/// when a batch is retried) or owned and moved.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    /// Shared text.
    Shared(Option<Arc<str>>),
    /// Owned text.
    Text(Option<String>),
    /// `BIGINT`.
    BigInt(Option<i64>),
    /// `INTEGER`.
    Int(Option<i32>),
    /// `SMALLINT`.
    SmallInt(Option<i16>),
    /// `DOUBLE PRECISION` / `REAL`.
    Double(Option<f64>),
    /// `BOOLEAN`.
    Bool(Option<bool>),
    /// `UUID` (text on SQLite).
    Uuid(Option<Uuid>),
    /// `TIMESTAMPTZ` (text on SQLite).
    Time(Option<DateTime<Utc>>),
}

macro_rules! bind_from {
    ($($variant:ident($type:ty)),* $(,)?) => {$(
        impl From<$type> for Bind {
            fn from(value: $type) -> Self {
                Self::$variant(Some(value))
            }
        }
        impl From<Option<$type>> for Bind {
            fn from(value: Option<$type>) -> Self {
                Self::$variant(value)
            }
        }
    )*};
}

bind_from!(
    Shared(Arc<str>),
    Text(String),
    BigInt(i64),
    Int(i32),
    SmallInt(i16),
    Double(f64),
    Bool(bool),
    Uuid(Uuid),
    Time(DateTime<Utc>),
);

impl From<Value> for Bind {
    /// The value kinds a dataclip row holds; anything else is bound as a text `NULL`.
    fn from(value: Value) -> Self {
        match value {
            Value::String(v) => Self::Text(v),
            Value::Double(v) => Self::Double(v),
            Value::Int(v) => Self::Int(v),
            Value::BigInt(v) => Self::BigInt(v),
            Value::Bool(v) => Self::Bool(v),
            _ => Self::Text(None),
        }
    }
}

/// Binds each value to `$query` in order, whatever the driver.
macro_rules! bind_all {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                Bind::Shared(v) => query.bind(v),
                Bind::Text(v) => query.bind(v),
                Bind::BigInt(v) => query.bind(v),
                Bind::Int(v) => query.bind(v),
                Bind::SmallInt(v) => query.bind(v),
                Bind::Double(v) => query.bind(v),
                Bind::Bool(v) => query.bind(v),
                Bind::Uuid(v) => query.bind(v),
                Bind::Time(v) => query.bind(v),
            };
        }
        query
    }};
}

/// A driver error of a bulk write, as the ORM's error type.
fn write_error(error: sqlx::Error) -> DbErr {
    DbErr::Custom(format!("database write: {error}"))
}

impl WriteTxn {
    /// Begins a transaction on `db`'s pool.
    pub(crate) async fn begin(db: &DatabaseConnection) -> Result<Self, DbErr> {
        match db.get_database_backend() {
            DbBackend::Sqlite => Ok(Self::Sqlite(
                db.get_sqlite_connection_pool()
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(write_error)?,
            )),
            DbBackend::Postgres => Ok(Self::Postgres(
                db.get_postgres_connection_pool()
                    .begin()
                    .await
                    .map_err(write_error)?,
            )),
            other => Err(DbErr::Custom(format!(
                "unsupported database backend {other:?}"
            ))),
        }
    }

    /// Runs `sql` (built by [`insert_sql`]: constant identifiers and placeholders only) with
    /// `values` bound in order.
    pub(crate) async fn execute(
        &mut self,
        sql: Arc<str>,
        values: impl IntoIterator<Item = Bind>,
    ) -> Result<(), DbErr> {
        let sql = AssertSqlSafe(sql);
        match self {
            Self::Sqlite(tx) => {
                bind_all!(sqlx::query::<sqlx::Sqlite>(sql), values)
                    .execute(&mut **tx)
                    .await
                    .map_err(write_error)?;
            }
            Self::Postgres(tx) => {
                bind_all!(sqlx::query::<sqlx::Postgres>(sql), values)
                    .execute(&mut **tx)
                    .await
                    .map_err(write_error)?;
            }
        }
        Ok(())
    }

    /// Commits.
    pub(crate) async fn commit(self) -> Result<(), DbErr> {
        match self {
            Self::Sqlite(tx) => tx.commit().await.map_err(write_error),
            Self::Postgres(tx) => tx.commit().await.map_err(write_error),
        }
    }
}

/// `INSERT INTO table (columns) VALUES (...), ...` for `rows` rows, with placeholders only:
/// callers build each size once and reuse it, so the driver finds it in its statement cache
/// and the database prepares it once per connection.
pub(crate) fn insert_sql<T, C>(
    backend: DbBackend,
    table: T,
    columns: impl IntoIterator<Item = C> + Clone,
    rows: usize,
) -> Arc<str>
where
    T: IntoIden,
    C: IntoIden,
{
    let mut insert = Query::insert();
    insert.into_table(table).columns(columns.clone());
    let width = columns.into_iter().count();
    for _ in 0..rows {
        insert.values_panic((0..width).map(|_| Expr::val(0)));
    }
    backend.build(&insert).sql.into()
}
