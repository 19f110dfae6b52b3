//! Reading the ledger: per-day aggregates (from raw records while they are kept, from the
//! rollups after), the daily rollup job and the retention purge.
//!
//! Every statement is built by sea-query from the entities' tables and columns; the SQL it
//! makes is portable (`CASE`, `CAST AS BIGINT`, `COALESCE`, `GROUP BY`). Days are stored as
//! `YYYY-MM-DD` text so that grouping and range filters need no date functions.

use chrono::{Duration as Days, NaiveDate, Utc};
use sea_orm::sea_query::{
    Condition, Expr, ExprTrait, Func, IntoColumnRef, IntoCondition, Query, SelectStatement,
    UnionType,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use crate::db::entities::{ledger_calls, ledger_operations, usage_rollups};

/// Runs a built SELECT and reads its rows as `T`.
pub(crate) async fn select_all<T: FromQueryResult, C: ConnectionTrait>(
    db: &C,
    query: &SelectStatement,
) -> Result<Vec<T>, DbErr> {
    T::find_by_statement(db.get_database_backend().build(query))
        .all(db)
        .await
}

/// `CAST(expr AS BIGINT)`: sums and counts read as `i64` on both databases.
pub(crate) fn bigint(expr: impl Into<Expr>) -> Expr {
    Func::cast_as(expr, "BIGINT").into()
}

/// `CAST(SUM(expr) AS BIGINT)`.
fn total(expr: impl Into<Expr>) -> Expr {
    bigint(Func::sum(expr))
}

/// `CAST(COUNT(*) AS BIGINT)`.
pub(crate) fn count_all() -> Expr {
    bigint(Expr::cust("COUNT(*)"))
}

/// `SUM(CASE WHEN condition THEN weight ELSE 0 END)`: `weight` is `1` for calls,
/// `operation_count` for operations (a row may hold several).
fn count_when(condition: impl IntoCondition, weight: impl Into<Expr>) -> Expr {
    total(Expr::case(condition, weight).finally(0))
}

/// `COALESCE(column, '')`.
pub(crate) fn or_empty(column: impl IntoColumnRef) -> Expr {
    Func::coalesce([Expr::col(column), Expr::val("")]).into()
}

/// A constant `0` read as `i64`.
fn zero() -> Expr {
    bigint(Expr::val(0))
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
    /// The scope as a condition on a table with `day`, `project_id` and `app_key_id` columns
    /// (`app_key_id` stored as text in the rollups, as a UUID in the raw ledger).
    pub(crate) fn condition(&self, key_as_text: bool) -> Condition {
        let mut condition = Condition::all()
            .add(Expr::col("day").gte(day_text(self.from)))
            .add(Expr::col("day").lte(day_text(self.to)));
        if let Some(project) = &self.project_id {
            condition = condition.add(Expr::col("project_id").eq(project.as_str()));
        }
        if let Some(key) = self.app_key_id {
            condition = condition.add(if key_as_text {
                Expr::col("app_key_id").eq(key.to_string())
            } else {
                Expr::col("app_key_id").eq(key)
            });
        }
        condition
    }
}

/// One day of usage of one project by one caller, on one endpoint (`kind = "call"`) or for one
/// GraphQL operation (`kind = "operation"`): a rollup row, whether stored or computed from the
/// raw ledger.
pub type DailyRow = usage_rollups::Model;

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

/// Per-day aggregates computed from the raw ledger.
pub async fn raw_daily_rows<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
) -> Result<Vec<DailyRow>, DbErr> {
    let status = || Expr::col("status");
    let calls = Query::select()
        .columns(["day", "project_id", "app_key_id", "method"])
        .expr_as(Expr::col("endpoint"), "name")
        .expr_as(or_empty("workflow"), "workflow")
        .expr_as(or_empty("entity"), "entity")
        .expr_as(or_empty("action"), "action")
        .expr_as(count_all(), "count")
        .expr_as(
            count_when(status().is_null().or(status().gte(400)), 1),
            "errors",
        )
        .expr_as(zero(), "refused")
        .expr_as(
            count_when(status().gte(400).and(status().lt(500)), 1),
            "status_4xx",
        )
        .expr_as(count_when(status().eq(429), 1), "status_429")
        .expr_as(count_when(status().gte(500), 1), "status_5xx")
        .expr_as(count_when(status().eq(503), 1), "status_503")
        .expr_as(count_when(Expr::col("attempt").gt(0), 1), "retries")
        .expr_as(total(Expr::col("bytes_sent")), "bytes_sent")
        .expr_as(total(Expr::col("bytes_received")), "bytes_received")
        .expr_as(total(Expr::col("latency_us")), "duration_us_sum")
        .expr_as(zero(), "cache_hits")
        .expr_as(count_when(Expr::col("cache").eq("miss"), 1), "cache_misses")
        .expr_as(zero(), "upstream_calls")
        .expr_as(zero(), "estimated_cost")
        .from(ledger_calls::Entity)
        .cond_where(scope.condition(false))
        .group_by_columns([
            "day",
            "project_id",
            "app_key_id",
            "method",
            "endpoint",
            "workflow",
            "entity",
            "action",
        ])
        .to_owned();
    let mut rows: Vec<DailyRow> = select_all::<RawGroup, _>(db, &calls)
        .await?
        .into_iter()
        .map(|g| g.into_row("call"))
        .collect();
    let count = || Expr::col("operation_count");
    let outcome = || Expr::col("outcome");
    let operations = Query::select()
        .column("day")
        .expr_as(or_empty("project_id"), "project_id")
        .column("app_key_id")
        .expr_as(Expr::col("kind"), "method")
        .expr_as(or_empty("operation"), "name")
        .expr_as(Expr::val(""), "workflow")
        .expr_as(Expr::val(""), "entity")
        .expr_as(Expr::val(""), "action")
        .expr_as(total(count()), "count")
        .expr_as(count_when(outcome().eq("error"), count()), "errors")
        .expr_as(count_when(outcome().eq("refused"), count()), "refused")
        .expr_as(zero(), "status_4xx")
        .expr_as(zero(), "status_429")
        .expr_as(zero(), "status_5xx")
        .expr_as(zero(), "status_503")
        .expr_as(zero(), "retries")
        .expr_as(zero(), "bytes_sent")
        .expr_as(zero(), "bytes_received")
        .expr_as(total(Expr::col("duration_us")), "duration_us_sum")
        .expr_as(
            total(Expr::col("cache_hits").add(Expr::col("cache_stale"))),
            "cache_hits",
        )
        .expr_as(total(Expr::col("cache_misses")), "cache_misses")
        .expr_as(total(Expr::col("upstream_calls")), "upstream_calls")
        .expr_as(
            total(Func::coalesce([Expr::col("estimated_cost"), Expr::val(0)])),
            "estimated_cost",
        )
        .from(ledger_operations::Entity)
        .cond_where(scope.condition(false))
        .group_by_columns(["day", "project_id", "app_key_id", "kind", "operation"])
        .to_owned();
    rows.extend(
        select_all::<RawGroup, _>(db, &operations)
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
    use usage_rollups::Column as R;
    usage_rollups::Entity::find()
        .filter(scope.condition(true))
        .order_by_asc(R::Day)
        .order_by_asc(R::ProjectId)
        .order_by_asc(R::AppKeyId)
        .order_by_asc(R::Kind)
        .order_by_asc(R::Method)
        .order_by_asc(R::Name)
        .order_by_asc(R::Workflow)
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
            to: Ord::min(scope.to, cutoff - Days::days(1)),
            ..scope.clone()
        };
        rows.extend(rollup_rows(db, &old).await?);
    }
    if scope.to >= cutoff {
        let recent = Scope {
            from: Ord::max(scope.from, cutoff),
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
    usage_rollups::Entity::delete_many()
        .filter(usage_rollups::Column::Day.eq(day_text(day)))
        .exec(&txn)
        .await?;
    let models: Vec<usage_rollups::ActiveModel> = rows
        .into_iter()
        .map(IntoActiveModel::into_active_model)
        .collect();
    for chunk in models.chunks(200) {
        usage_rollups::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(count)
}

#[derive(Debug, FromQueryResult)]
struct DayText {
    day: String,
}

/// Days that have raw records, oldest first.
pub(crate) async fn raw_days<C: ConnectionTrait>(db: &C) -> Result<Vec<NaiveDate>, DbErr> {
    let query = Query::select()
        .column("day")
        .from(ledger_calls::Entity)
        .union(
            UnionType::Distinct,
            Query::select()
                .column("day")
                .from(ledger_operations::Entity)
                .to_owned(),
        )
        .to_owned();
    let mut days: Vec<NaiveDate> = select_all::<DayText, _>(db, &query)
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
        ledger_calls::Entity::delete_many()
            .filter(ledger_calls::Column::Day.eq(day_text(*day)))
            .exec(db)
            .await?;
        ledger_operations::Entity::delete_many()
            .filter(ledger_operations::Column::Day.eq(day_text(*day)))
            .exec(db)
            .await?;
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
    let operations = ledger_operations::Entity::find()
        .select_only()
        .column_as(
            bigint(Func::coalesce([
                Func::sum(Expr::col(ledger_operations::Column::OperationCount)).into(),
                Expr::val(0),
            ])),
            "count",
        )
        .into_model::<Count>()
        .one(db)
        .await?
        .map_or(0, |c| c.count);
    let calls = ledger_calls::Entity::find().count(db).await?;
    Ok((u64::try_from(operations).unwrap_or(0), calls))
}
