//! `ledger_calls`: one row per upstream call attempt.

use sea_orm::entity::prelude::*;

/// A row of `ledger_calls`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_calls")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurred_at: DateTimeUtc,
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// Minutes since the Unix epoch.
    pub minute: i64,
    /// Hour of day, UTC.
    pub hour: i16,
    pub project_id: String,
    pub token_fingerprint: String,
    pub endpoint: String,
    pub method: String,
    /// The `compliance::Entity` the endpoint serves, when known.
    pub entity: Option<String>,
    /// The `compliance::model::Operation` the call performs, when known.
    pub action: Option<String>,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub latency_us: i64,
    pub bytes_sent: i64,
    pub bytes_received: i64,
    pub attempt: i32,
    /// `miss` (a read the cache could not answer) or `bypass` (a write).
    pub cache: String,
    pub app_key_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub operation: Option<String>,
    pub workflow: Option<String>,
    pub request_id: Option<String>,
    /// Digest of a list call's filters (paging excluded): one list walked page by page.
    pub list_signature: Option<String>,
    /// The page asked for, when the pagination style says (page 1 of any list).
    pub page: Option<i64>,
    /// Whether the call continued a list from a cursor.
    pub continues: bool,
    /// Days between the `from` and `to` filters, both included.
    pub window_days: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
