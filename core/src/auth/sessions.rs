//! Web sessions. The cookie carries a random value; the database keeps only its SHA-256, so a
//! leaked database does not let anyone sign in. Each session has its own CSRF token.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter,
};
use uuid::Uuid;

use super::secrets::{random_token, sha256_hex};
use super::{User, to_user};
use crate::db::entities::{sessions, users};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "gatehouse_session";

/// A session just created: the cookie value is shown once, here.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The value to put in the cookie.
    pub cookie_value: String,
}

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    /// The user.
    pub user: User,
    /// The session's CSRF token.
    pub csrf_token: String,
}

/// Starts a session for a user at `now`.
pub async fn create(
    db: &DatabaseConnection,
    user_id: Uuid,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<NewSession, DbErr> {
    let cookie_value = random_token(32);
    let csrf_token = random_token(32);
    let expires_at = now + ttl;
    sessions::ActiveModel {
        id_hash: Set(sha256_hex(&cookie_value)),
        user_id: Set(user_id),
        csrf_token: Set(csrf_token.clone()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        last_seen_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(NewSession { cookie_value })
}

/// The session behind a cookie value, if it is live at `now` and its user enabled.
pub async fn lookup(
    db: &DatabaseConnection,
    cookie_value: &str,
    now: DateTime<Utc>,
) -> Result<Option<ActiveSession>, DbErr> {
    let found = sessions::Entity::find_by_id(sha256_hex(cookie_value))
        .find_also_related(users::Entity)
        .one(db)
        .await?;
    let Some((session, Some(user))) = found else {
        return Ok(None);
    };
    if session.expires_at <= now || user.disabled_at.is_some() {
        return Ok(None);
    }
    Ok(Some(ActiveSession {
        user: to_user(user),
        csrf_token: session.csrf_token,
    }))
}

/// Ends the session behind a cookie value.
pub async fn destroy(db: &DatabaseConnection, cookie_value: &str) -> Result<(), DbErr> {
    sessions::Entity::delete_by_id(sha256_hex(cookie_value))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of a user (after a password reset).
pub(crate) async fn destroy_all_for_user<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<(), DbErr> {
    sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Removes the sessions expired at `now`; returns how many.
pub async fn purge_expired(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let result = sessions::Entity::delete_many()
        .filter(sessions::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
