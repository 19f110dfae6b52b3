//! Reading the ledger: per-day aggregates (from raw records while they are kept, from the
//! rollups after), the daily rollup job and the retention purge.
//!
//! The SQL is plain and portable (`CASE`, `CAST AS BIGINT`, `COALESCE`, `GROUP BY`); days are
//! stored as `YYYY-MM-DD` text so that grouping and range filters need no date functions.

use chrono::{Duration as Days, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseBackend, DbErr, EntityTrait, FromQueryResult,
    Statement, TransactionSession, TransactionTrait, Value,
};
use uuid::Uuid;

use crate::db::entities::usage_rollups;

/// A statement with `?` placeholders, numbered for PostgreSQL.
pub(crate) fn statement(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DatabaseBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `YYYY-MM-DD`.
pub(crate) fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// Which records: a project (or every project), an app key (or every caller), days inclusive.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The project; `None` for all.
    pub project_id: Option<String>,
    /// The app key; `None` for all callers.
    pub app_key_id: Option<Uuid>,
    /// First day.
    pub from: NaiveDate,
    /// Last day (included).
    pub to: NaiveDate,
}

impl Scope {
    /// `WHERE` conditions and their values, for a table with `day`, `project_id` and
    /// `app_key_id` columns.
    pub(crate) fn conditions(&self, key_as_text: bool) -> (String, Vec<Value>) {
        let mut sql = String::from("day >= ? AND day <= ?");
        let mut values: Vec<Value> = vec![day_text(self.from).into(), day_text(self.to).into()];
        if let Some(project) = &self.project_id {
            sql.push_str(" AND project_id = ?");
            values.push(project.clone().into());
        }
        if let Some(key) = self.app_key_id {
            sql.push_str(" AND app_key_id = ?");
            if key_as_text {
                values.push(key.to_string().into());
            } else {
                values.push(key.into());
            }
        }
        (sql, values)
    }
}

/// One day of usage of one project by one caller, on one endpoint (`kind = "call"`) or for one
/// GraphQL operation (`kind = "operation"`): the shape of a rollup row.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult, serde::Serialize)]
pub struct DailyRow {
    /// `YYYY-MM-DD`.
    pub(crate) day: String,
    /// The project ('' for operations that named none).
    pub(crate) project_id: String,
    /// The app key ('' for a signed-in user).
    pub(crate) app_key_id: String,
    /// `call` or `operation`.
    pub(crate) kind: String,
    /// HTTP method (calls) or operation type (operations).
    pub(crate) method: String,
    /// Endpoint template (calls) or operation name (operations; '' when anonymous).
    pub(crate) name: String,
    /// The declared workflow the calls served ('' when none).
    pub(crate) workflow: String,
    /// The entity an endpoint serves ('' for operations or unknown endpoints).
    pub(crate) entity: String,
    /// The operation an endpoint performs (`read`, `create`, ...).
    pub(crate) action: String,
    /// Calls or operations.
    pub count: i64,
    /// Failed calls (no response or status ≥ 400) or operations failed in execution.
    pub(crate) errors: i64,
    /// Operations refused before execution.
    pub(crate) refused: i64,
    /// 4xx responses.
    pub(crate) status_4xx: i64,
    /// 429 responses.
    pub(crate) status_429: i64,
    /// 5xx responses.
    pub(crate) status_5xx: i64,
    /// 503 responses.
    pub(crate) status_503: i64,
    /// Retries (attempts after the first).
    pub(crate) retries: i64,
    /// Request bytes.
    pub(crate) bytes_sent: i64,
    /// Response bytes.
    pub(crate) bytes_received: i64,
    /// Latency (calls) or duration (operations), summed, in microseconds.
    pub(crate) duration_us_sum: i64,
    /// Cache hits (fresh or stale) of operations.
    pub(crate) cache_hits: i64,
    /// Cache misses (operations) or reads the cache could not answer (calls).
    pub(crate) cache_misses: i64,
    /// Upstream calls made by operations.
    pub(crate) upstream_calls: i64,
    /// Estimated cost of operations, summed.
    pub(crate) estimated_cost: i64,
}

#[derive(Debug, FromQueryResult)]
struct RawGroup {
    day: String,
    project_id: String,
    app_key_id: Option<Uuid>,
    method: String,
    name: String,
    workflow: String,
    entity: String,
    action: String,
    count: i64,
    errors: i64,
    refused: i64,
    status_4xx: i64,
    status_429: i64,
    status_5xx: i64,
    status_503: i64,
    retries: i64,
    bytes_sent: i64,
    bytes_received: i64,
    duration_us_sum: i64,
    cache_hits: i64,
    cache_misses: i64,
    upstream_calls: i64,
    estimated_cost: i64,
}

impl RawGroup {
    fn into_row(self, kind: &str) -> DailyRow {
        DailyRow {
            day: self.day,
            project_id: self.project_id,
            app_key_id: self.app_key_id.map(|k| k.to_string()).unwrap_or_default(),
            kind: kind.to_owned(),
            method: self.method,
            name: self.name,
            workflow: self.workflow,
            entity: self.entity,
            action: self.action,
            count: self.count,
            errors: self.errors,
            refused: self.refused,
            status_4xx: self.status_4xx,
            status_429: self.status_429,
            status_5xx: self.status_5xx,
            status_503: self.status_503,
            retries: self.retries,
            bytes_sent: self.bytes_sent,
            bytes_received: self.bytes_received,
            duration_us_sum: self.duration_us_sum,
            cache_hits: self.cache_hits,
            cache_misses: self.cache_misses,
            upstream_calls: self.upstream_calls,
            estimated_cost: self.estimated_cost,
        }
    }
}

/// `SUM(CASE WHEN condition THEN weight ELSE 0 END) AS alias`: `weight` is `1` for calls,
/// `operation_count` for operations (a row may hold several).
fn count_when(condition: &str, weight: &str, alias: &str) -> String {
    format!("CAST(SUM(CASE WHEN {condition} THEN {weight} ELSE 0 END) AS BIGINT) AS {alias}")
}

/// Per-day aggregates computed from the raw ledger.
pub async fn raw_daily_rows<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
) -> Result<Vec<DailyRow>, DbErr> {
    let backend = db.get_database_backend();
    let (conditions, values) = scope.conditions(false);
    let calls = format!(
        "SELECT day, project_id, app_key_id, method, endpoint AS name, \
         COALESCE(workflow, '') AS workflow, COALESCE(entity, '') AS entity, \
         COALESCE(action, '') AS action, CAST(COUNT(*) AS BIGINT) AS count, {}, \
         CAST(0 AS BIGINT) AS refused, {}, {}, {}, {}, {}, \
         CAST(SUM(bytes_sent) AS BIGINT) AS bytes_sent, \
         CAST(SUM(bytes_received) AS BIGINT) AS bytes_received, \
         CAST(SUM(latency_us) AS BIGINT) AS duration_us_sum, CAST(0 AS BIGINT) AS cache_hits, \
         {}, CAST(0 AS BIGINT) AS upstream_calls, CAST(0 AS BIGINT) AS estimated_cost \
         FROM ledger_calls WHERE {conditions} \
         GROUP BY day, project_id, app_key_id, method, endpoint, workflow, entity, action",
        count_when("status IS NULL OR status >= 400", "1", "errors"),
        count_when("status >= 400 AND status < 500", "1", "status_4xx"),
        count_when("status = 429", "1", "status_429"),
        count_when("status >= 500", "1", "status_5xx"),
        count_when("status = 503", "1", "status_503"),
        count_when("attempt > 0", "1", "retries"),
        count_when("cache = 'miss'", "1", "cache_misses"),
    );
    let mut rows: Vec<DailyRow> =
        RawGroup::find_by_statement(statement(backend, &calls, values.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|g| g.into_row("call"))
            .collect();
    let operations = format!(
        "SELECT day, COALESCE(project_id, '') AS project_id, app_key_id, kind AS method, \
         COALESCE(operation, '') AS name, '' AS workflow, '' AS entity, '' AS action, \
         CAST(SUM(operation_count) AS BIGINT) AS count, {}, {}, \
         CAST(0 AS BIGINT) AS status_4xx, CAST(0 AS BIGINT) AS status_429, \
         CAST(0 AS BIGINT) AS status_5xx, CAST(0 AS BIGINT) AS status_503, \
         CAST(0 AS BIGINT) AS retries, CAST(0 AS BIGINT) AS bytes_sent, \
         CAST(0 AS BIGINT) AS bytes_received, \
         CAST(SUM(duration_us) AS BIGINT) AS duration_us_sum, \
         CAST(SUM(cache_hits + cache_stale) AS BIGINT) AS cache_hits, \
         CAST(SUM(cache_misses) AS BIGINT) AS cache_misses, \
         CAST(SUM(upstream_calls) AS BIGINT) AS upstream_calls, \
         CAST(SUM(COALESCE(estimated_cost, 0)) AS BIGINT) AS estimated_cost \
         FROM ledger_operations WHERE {conditions} \
         GROUP BY day, project_id, app_key_id, kind, operation",
        count_when("outcome = 'error'", "operation_count", "errors"),
        count_when("outcome = 'refused'", "operation_count", "refused"),
    );
    rows.extend(
        RawGroup::find_by_statement(statement(backend, &operations, values))
            .all(db)
            .await?
            .into_iter()
            .map(|g| g.into_row("operation")),
    );
    rows.sort_by(|a, b| {
        (
            &a.day,
            &a.project_id,
            &a.app_key_id,
            &a.kind,
            &a.method,
            &a.name,
            &a.workflow,
        )
            .cmp(&(
                &b.day,
                &b.project_id,
                &b.app_key_id,
                &b.kind,
                &b.method,
                &b.name,
                &b.workflow,
            ))
    });
    Ok(rows)
}

/// Rollup rows of a scope.
pub async fn rollup_rows<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
) -> Result<Vec<DailyRow>, DbErr> {
    let (conditions, values) = scope.conditions(true);
    let sql = format!(
        "SELECT day, project_id, app_key_id, kind, method, name, workflow, entity, action, count, \
         errors, refused, status_4xx, status_429, status_5xx, status_503, retries, bytes_sent, \
         bytes_received, duration_us_sum, cache_hits, cache_misses, upstream_calls, \
         estimated_cost FROM usage_rollups WHERE {conditions} \
         ORDER BY day, project_id, app_key_id, kind, method, name, workflow"
    );
    DailyRow::find_by_statement(statement(db.get_database_backend(), &sql, values))
        .all(db)
        .await
}

/// The first day whose raw records are still kept, `retention_days` before `today`.
pub(crate) fn raw_cutoff(today: NaiveDate, retention_days: u32) -> NaiveDate {
    today - Days::days(i64::from(retention_days))
}

/// Per-day usage of a scope: raw records for days on or after `cutoff`, rollups before.
pub(crate) async fn daily_rows<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    cutoff: NaiveDate,
) -> Result<Vec<DailyRow>, DbErr> {
    let mut rows = Vec::new();
    if scope.from < cutoff {
        let old = Scope {
            to: scope.to.min(cutoff - Days::days(1)),
            ..scope.clone()
        };
        rows.extend(rollup_rows(db, &old).await?);
    }
    if scope.to >= cutoff {
        let recent = Scope {
            from: scope.from.max(cutoff),
            ..scope.clone()
        };
        rows.extend(raw_daily_rows(db, &recent).await?);
    }
    Ok(rows)
}

/// Recomputes the rollups of `day` from the raw ledger, replacing what was there: running it
/// twice gives the same rows. Returns the number of rollup rows.
pub async fn roll_up_day<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    day: NaiveDate,
) -> Result<usize, DbErr> {
    let scope = Scope {
        project_id: None,
        app_key_id: None,
        from: day,
        to: day,
    };
    let rows = raw_daily_rows(db, &scope).await?;
    let count = rows.len();
    let txn = crate::db::begin_write(db).await?;
    txn.execute_raw(statement(
        txn.get_database_backend(),
        "DELETE FROM usage_rollups WHERE day = ?",
        vec![day_text(day).into()],
    ))
    .await?;
    let models: Vec<usage_rollups::ActiveModel> = rows.into_iter().map(rollup_model).collect();
    for chunk in models.chunks(200) {
        usage_rollups::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(count)
}

fn rollup_model(row: DailyRow) -> usage_rollups::ActiveModel {
    usage_rollups::ActiveModel {
        day: Set(row.day),
        project_id: Set(row.project_id),
        app_key_id: Set(row.app_key_id),
        kind: Set(row.kind),
        method: Set(row.method),
        name: Set(row.name),
        workflow: Set(row.workflow),
        entity: Set(row.entity),
        action: Set(row.action),
        count: Set(row.count),
        errors: Set(row.errors),
        refused: Set(row.refused),
        status_4xx: Set(row.status_4xx),
        status_429: Set(row.status_429),
        status_5xx: Set(row.status_5xx),
        status_503: Set(row.status_503),
        retries: Set(row.retries),
        bytes_sent: Set(row.bytes_sent),
        bytes_received: Set(row.bytes_received),
        duration_us_sum: Set(row.duration_us_sum),
        cache_hits: Set(row.cache_hits),
        cache_misses: Set(row.cache_misses),
        upstream_calls: Set(row.upstream_calls),
        estimated_cost: Set(row.estimated_cost),
    }
}

#[derive(Debug, FromQueryResult)]
struct DayText {
    day: String,
}

/// Days that have raw records, oldest first.
pub(crate) async fn raw_days<C: ConnectionTrait>(db: &C) -> Result<Vec<NaiveDate>, DbErr> {
    let sql = "SELECT day FROM ledger_calls UNION SELECT day FROM ledger_operations";
    let mut days: Vec<NaiveDate> =
        DayText::find_by_statement(statement(db.get_database_backend(), sql, Vec::new()))
            .all(db)
            .await?
            .into_iter()
            .filter_map(|d| NaiveDate::parse_from_str(&d.day, "%Y-%m-%d").ok())
            .collect();
    days.sort_unstable();
    days.dedup();
    Ok(days)
}

/// Rolls up, then deletes, the raw records of days before `cutoff`. Returns the days purged.
pub async fn purge_before<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cutoff: NaiveDate,
) -> Result<Vec<NaiveDate>, DbErr> {
    let days: Vec<NaiveDate> = raw_days(db)
        .await?
        .into_iter()
        .filter(|d| *d < cutoff)
        .collect();
    for day in &days {
        roll_up_day(db, *day).await?;
        let backend = db.get_database_backend();
        for table in ["ledger_calls", "ledger_operations"] {
            db.execute_raw(statement(
                backend,
                &format!("DELETE FROM {table} WHERE day = ?"),
                vec![day_text(*day).into()],
            ))
            .await?;
        }
    }
    Ok(days)
}

/// Today (UTC).
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

#[derive(Debug, FromQueryResult)]
struct Count {
    count: i64,
}

/// Raw records of both kinds, for tests and the benchmark: (operations, calls). Operations
/// counted into one row count each.
pub async fn raw_counts<C: ConnectionTrait>(db: &C) -> Result<(u64, u64), DbErr> {
    let backend = db.get_database_backend();
    let mut out = [0u64; 2];
    for (i, (table, records)) in [
        ("ledger_operations", "SUM(operation_count)"),
        ("ledger_calls", "COUNT(*)"),
    ]
    .iter()
    .enumerate()
    {
        let sql = format!("SELECT CAST(COALESCE({records}, 0) AS BIGINT) AS count FROM {table}");
        let count = Count::find_by_statement(statement(backend, &sql, Vec::new()))
            .one(db)
            .await?
            .map_or(0, |c| c.count);
        out[i] = u64::try_from(count).unwrap_or(0);
    }
    Ok((out[0], out[1]))
}
