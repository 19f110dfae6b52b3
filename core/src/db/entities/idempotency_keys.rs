//! `idempotency_keys`: the first answer of each keyed write, replayed on retries.

use sea_orm::entity::prelude::*;

/// A row of `idempotency_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Whose key (`app_key:<id>`, `user:<id>`): keys of different callers never collide.
    pub scope: String,
    pub key: String,
    pub operation: String,
    /// SHA-256 of the operation and its input: a key reused with other input is refused.
    pub request_hash: String,
    /// `pending` or `done`.
    pub state: String,
    /// JSON of the answer (or of the upstream's refusal) once done.
    pub response: Option<String>,
    pub created_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
