//! App keys: credentials of programmatic clients.
//!
//! A key looks like `ghk_<8 characters>_<43 characters>`. It is shown once, at creation; the
//! database keeps its SHA-256 (for lookup) and its first 12 characters (so people can tell keys
//! apart). Keys may expire and can be revoked. Lookups are cached for a few seconds so that the
//! hot path does not hit the database on every request; revocation on this instance drops the
//! cached entry at once, and other instances notice within [`KEY_CACHE_TTL`].

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use moka::future::Cache;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;
use uuid::Uuid;

use super::scopes::KeyScopes;
use super::secrets::{random_token, sha256_hex};
use crate::audit::{self, Actor};
use crate::clock::Clock;
use crate::db::entities::app_keys;

/// How long a key lookup is trusted before the database is asked again.
pub(crate) const KEY_CACHE_TTL: Duration = Duration::from_secs(5);
/// How often `last_used_at` is written for a busy key.
const LAST_USED_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// Characters of the key kept in clear for display.
const PREFIX_LEN: usize = 12;

/// An app key as Gatehouse shows it: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppKeyInfo {
    /// Id.
    pub id: Uuid,
    /// A name for people ("site-diary-app").
    pub name: String,
    /// The key's first characters.
    pub prefix: String,
    /// What it may do.
    pub scopes: KeyScopes,
    /// Most estimated upstream cost one operation may have, if limited.
    pub cost_budget: Option<i64>,
    /// Most GraphQL operations per minute, if limited.
    pub rate_per_minute: Option<i32>,
    /// Who created it.
    pub(crate) created_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The access request it was made for, whose workflows its scopes come from.
    pub access_request_id: Option<Uuid>,
}

/// What an admin asks for when creating a key.
#[derive(Debug, Clone, Default)]
pub struct NewAppKey {
    /// A name for people.
    pub name: String,
    /// What it may do.
    pub scopes: KeyScopes,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// Cost budget per operation.
    pub cost_budget: Option<i64>,
    /// Operations per minute.
    pub rate_per_minute: Option<i32>,
    /// Use this exact key instead of a random one (the demo's `GATEHOUSE_DEMO_KEY`).
    pub pinned_value: Option<String>,
    /// The approved access request the key is bound to.
    pub access_request_id: Option<Uuid>,
}

/// Why a presented key was refused, or a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No key with that value.
    #[error("unknown app key")]
    Unknown,
    /// The key was revoked.
    #[error("this app key was revoked")]
    Revoked,
    /// The key expired.
    #[error("this app key expired")]
    Expired,
    /// Input was invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No key with that id.
    #[error("no app key with this id")]
    NotFound,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// An app key's row as Gatehouse shows it.
pub(crate) fn to_info(row: app_keys::Model) -> Result<AppKeyInfo, DbErr> {
    let scopes = serde_json::from_str(&row.scopes)
        .map_err(|e| DbErr::Custom(format!("app key {} has unreadable scopes: {e}", row.id)))?;
    Ok(AppKeyInfo {
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        scopes,
        cost_budget: row.cost_budget,
        rate_per_minute: row.rate_per_minute,
        created_by: row.created_by,
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        last_used_at: row.last_used_at,
        access_request_id: row.access_request_id,
    })
}

/// Creates a key; returns it with its plaintext value, which is never available again.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewAppKey,
) -> Result<(AppKeyInfo, String), KeyError> {
    let txn = crate::db::begin_write(db).await?;
    let created = create_in(&txn, actor, new).await?;
    txn.commit().await?;
    Ok(created)
}

/// Creates a key with its audit entry on `conn`: the caller's transaction, so that a key bound
/// to a request is made in the same transaction that checked the request.
pub(crate) async fn create_in<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    new: NewAppKey,
) -> Result<(AppKeyInfo, String), KeyError> {
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.len() > 100 {
        return Err(KeyError::Invalid {
            field: "name",
            message: "must be 1 to 100 characters".into(),
        });
    }
    if new.scopes.projects.is_empty() {
        return Err(KeyError::Invalid {
            field: "scopes.projects",
            message: "name at least one project id, or * for all".into(),
        });
    }
    if let Some(expires_at) = new.expires_at
        && expires_at <= Utc::now()
    {
        return Err(KeyError::Invalid {
            field: "expires_at",
            message: "must be in the future".into(),
        });
    }
    if new.rate_per_minute.is_some_and(|r| r < 1) || new.cost_budget.is_some_and(|b| b < 1) {
        return Err(KeyError::Invalid {
            field: "limits",
            message: "rate per minute and cost budget must be positive".into(),
        });
    }
    let value = match new.pinned_value {
        Some(value) if value.len() >= 24 && value.is_ascii() => value,
        Some(_) => {
            return Err(KeyError::Invalid {
                field: "value",
                message: "a pinned key must be at least 24 ASCII characters".into(),
            });
        }
        None => format!("ghk_{}_{}", random_token(6), random_token(32)),
    };
    let scopes_json = serde_json::to_string(&new.scopes)
        .map_err(|e| DbErr::Custom(format!("cannot serialise scopes: {e}")))?;
    let created_by = match actor {
        Actor::User(id) => Some(*id),
        _ => None,
    };
    let row = app_keys::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(name.clone()),
        prefix: Set(value.chars().take(PREFIX_LEN).collect()),
        key_hash: Set(sha256_hex(&value)),
        scopes: Set(scopes_json),
        cost_budget: Set(new.cost_budget),
        rate_per_minute: Set(new.rate_per_minute),
        created_by: Set(created_by),
        created_at: Set(Utc::now()),
        expires_at: Set(new.expires_at),
        revoked_at: Set(None),
        last_used_at: Set(None),
        access_request_id: Set(new.access_request_id),
    }
    .insert(conn)
    .await?;
    audit::record(
        conn,
        actor,
        "app_key.create",
        "app_key",
        &row.id.to_string(),
        json!({
            "name": name,
            "prefix": row.prefix,
            "scopes": new.scopes,
            "expires_at": new.expires_at,
            "access_request_id": new.access_request_id,
        }),
    )
    .await?;
    Ok((to_info(row)?, value))
}

/// Every key, newest first.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<AppKeyInfo>, DbErr> {
    app_keys::Entity::find()
        .order_by_desc(app_keys::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_info)
        .collect()
}

/// The keys bound to an access request, newest first.
pub(crate) async fn list_for_request(
    db: &DatabaseConnection,
    request_id: Uuid,
) -> Result<Vec<AppKeyInfo>, DbErr> {
    app_keys::Entity::find()
        .filter(app_keys::Column::AccessRequestId.eq(request_id))
        .order_by_desc(app_keys::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_info)
        .collect()
}

/// The key whose value is `value`, revoked or not.
pub async fn find_by_value(
    db: &DatabaseConnection,
    value: &str,
) -> Result<Option<AppKeyInfo>, DbErr> {
    app_keys::Entity::find()
        .filter(app_keys::Column::KeyHash.eq(sha256_hex(value)))
        .one(db)
        .await?
        .map(to_info)
        .transpose()
}

/// Makes a key active again with `scopes`, in one audited change: for a value that is pinned
/// (the demo's `GATEHOUSE_DEMO_KEY`), which cannot be made anew while its row exists. Nothing is
/// written when the key is already active with these scopes.
pub async fn reinstate(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    scopes: &KeyScopes,
) -> Result<AppKeyInfo, KeyError> {
    let scopes_json = serde_json::to_string(scopes)
        .map_err(|e| DbErr::Custom(format!("cannot serialise scopes: {e}")))?;
    let txn = crate::db::begin_write(db).await?;
    let row = app_keys::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(KeyError::NotFound)?;
    let was_revoked = row.revoked_at.is_some();
    let expired = row.expires_at.is_some_and(|at| at <= Utc::now());
    if !was_revoked && !expired && to_info(row.clone())?.scopes == *scopes {
        return Ok(to_info(row)?);
    }
    let mut active: app_keys::ActiveModel = row.into();
    active.revoked_at = Set(None);
    active.expires_at = Set(None);
    active.scopes = Set(scopes_json);
    let row = active.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "app_key.reinstate",
        "app_key",
        &id.to_string(),
        json!({
            "name": row.name,
            "prefix": row.prefix,
            "scopes": scopes,
            "was_revoked": was_revoked,
            "was_expired": expired,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(to_info(row)?)
}

/// Revokes a key (idempotent: revoking twice keeps the first time).
pub async fn revoke(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<AppKeyInfo, KeyError> {
    let txn = crate::db::begin_write(db).await?;
    let row = app_keys::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(KeyError::NotFound)?;
    if row.revoked_at.is_some() {
        return Ok(to_info(row)?);
    }
    let mut active: app_keys::ActiveModel = row.into();
    active.revoked_at = Set(Some(Utc::now()));
    let row = active.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        "app_key.revoke",
        "app_key",
        &id.to_string(),
        json!({ "name": row.name, "prefix": row.prefix }),
    )
    .await?;
    txn.commit().await?;
    Ok(to_info(row)?)
}

/// Checks presented keys, with a short-lived cache in front of the database.
#[derive(Debug, Clone)]
pub struct KeyVerifier {
    db: DatabaseConnection,
    cache: Cache<String, Arc<AppKeyInfo>>,
    /// The time expiry and last use go by.
    clock: Clock,
}

impl KeyVerifier {
    /// A verifier over `db`, going by `clock`.
    pub fn new(db: DatabaseConnection, clock: Clock) -> Self {
        Self {
            db,
            cache: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(KEY_CACHE_TTL)
                .build(),
            clock,
        }
    }

    /// The key behind a presented value, if it is known, unrevoked and unexpired.
    pub async fn verify(&self, presented: &str) -> Result<Arc<AppKeyInfo>, KeyError> {
        let hash = sha256_hex(presented);
        let info = match self.cache.get(&hash).await {
            Some(info) => info,
            None => {
                let row = app_keys::Entity::find()
                    .filter(app_keys::Column::KeyHash.eq(&hash))
                    .one(&self.db)
                    .await?
                    .ok_or(KeyError::Unknown)?;
                let info = Arc::new(to_info(row)?);
                self.cache.insert(hash.clone(), info.clone()).await;
                info
            }
        };
        let now = self.clock.now();
        if info.revoked_at.is_some() {
            return Err(KeyError::Revoked);
        }
        if info.expires_at.is_some_and(|at| at <= now) {
            return Err(KeyError::Expired);
        }
        if info
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_RESOLUTION)
        {
            self.touch(hash, &info, now).await;
        }
        Ok(info)
    }

    /// Records use to the minute, off the request path.
    async fn touch(&self, hash: String, info: &Arc<AppKeyInfo>, now: DateTime<Utc>) {
        let mut updated = (**info).clone();
        updated.last_used_at = Some(now);
        self.cache.insert(hash, Arc::new(updated)).await;
        let db = self.db.clone();
        let id = info.id;
        tokio::spawn(async move {
            let result = app_keys::Entity::update_many()
                .col_expr(
                    app_keys::Column::LastUsedAt,
                    sea_orm::sea_query::Expr::value(now),
                )
                .filter(app_keys::Column::Id.eq(id))
                .exec(&db)
                .await;
            if let Err(error) = result {
                tracing::warn!(app_key.id = %id, error.message = %error, "could not record key use");
            }
        });
    }

    /// Forgets cached lookups (after a revocation on this instance).
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }
}
