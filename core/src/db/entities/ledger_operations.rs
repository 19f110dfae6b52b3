//! `ledger_operations`: GraphQL operations (executed or refused before execution). A row holds
//! `operation_count` operations: one, or several identical ones of one minute that made no
//! upstream call and did not fail (see `metering::ledger`). Its numeric columns are their sums.

use sea_orm::entity::prelude::*;

/// A row of `ledger_operations`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_operations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// When the (first) operation started.
    pub occurred_at: DateTimeUtc,
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// The request id, when the row holds one operation.
    pub request_id: Option<String>,
    pub app_key_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub project_id: Option<String>,
    pub operation: Option<String>,
    /// `query` or `mutation` (or `unknown` when the document did not parse).
    pub kind: String,
    /// `cache`, `live`, `dataclip`, `mixed` or `none`.
    pub source: String,
    pub cache_hits: i32,
    pub cache_stale: i32,
    pub cache_misses: i32,
    pub upstream_calls: i32,
    pub estimated_cost: Option<i64>,
    /// Summed over the row's operations.
    pub duration_us: i64,
    /// `ok`, `error` (failed during execution) or `refused` (before execution).
    pub outcome: String,
    pub error_code: Option<String>,
    /// How many operations the row holds.
    pub operation_count: i64,
    /// The longest of them.
    pub duration_max_us: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
