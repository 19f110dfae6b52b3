//! The append-only audit log: who did what, when, to which record.
//!
//! Callers write the entry with the same connection (usually a transaction) as the change it
//! records, so that a change and its audit entry commit or roll back together.

use std::fmt;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;
use uuid::Uuid;

use crate::db::entities::audit_log;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in user.
    User(Uuid),
    /// A programmatic client.
    AppKey(Uuid),
    /// An operator at the command line.
    Cli,
    /// Gatehouse itself (schedulers, the demo seeder).
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{id}"),
            Self::AppKey(id) => write!(f, "app_key:{id}"),
            Self::Cli => f.write_str("cli"),
            Self::System => f.write_str("system"),
        }
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Position in the log.
    pub id: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Who did it (`user:<id>`, `app_key:<id>`, `cli`, `system`).
    pub actor: String,
    /// What was done, as `<record>.<verb>` (e.g. `app_key.revoke`).
    pub action: String,
    /// The kind of record changed.
    pub record_type: String,
    /// The record's id.
    pub record_id: String,
    /// A summary of the change (never a secret).
    pub summary: Value,
}

/// Appends an entry. Use the transaction of the change itself.
pub(crate) async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    action: &str,
    record_type: &str,
    record_id: &str,
    summary: Value,
) -> Result<(), DbErr> {
    audit_log::ActiveModel {
        occurred_at: Set(Utc::now()),
        actor: Set(actor.to_string()),
        action: Set(action.to_owned()),
        record_type: Set(record_type.to_owned()),
        record_id: Set(record_id.to_owned()),
        summary: Set(summary.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The history of one record, oldest first.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    record_type: &str,
    record_id: &str,
) -> Result<Vec<AuditEntry>, DbErr> {
    let rows = audit_log::Entity::find()
        .filter(audit_log::Column::RecordType.eq(record_type))
        .filter(audit_log::Column::RecordId.eq(record_id))
        .order_by_asc(audit_log::Column::Id)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(to_entry).collect())
}

/// The most recent entries, newest first.
pub async fn recent<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<AuditEntry>, DbErr> {
    let rows = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(to_entry).collect())
}

fn to_entry(row: audit_log::Model) -> AuditEntry {
    AuditEntry {
        id: row.id,
        occurred_at: row.occurred_at,
        actor: row.actor,
        action: row.action,
        record_type: row.record_type,
        record_id: row.record_id,
        summary: serde_json::from_str(&row.summary).unwrap_or(Value::String(row.summary)),
    }
}
