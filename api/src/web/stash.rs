//! Form stashes: nothing a user typed is lost when their session expires.
//!
//! A form posted without a live session is kept here (in the database, so that any instance
//! behind a load balancer finds it) under a random token, for [`TTL_MINUTES`]; the user is sent
//! to sign in with the way back to the form (`?restore=<token>`), and the token also goes into
//! a cookie, so that only the browser that typed the input gets it back. The form's page takes
//! the stash once and renders the form with it; nothing is saved until the user, signed in
//! again, submits the form with a fresh CSRF token.
//!
//! Secrets (issued tokens, passwords) and CSRF tokens are never stashed: the user types a
//! secret again.
//!
//! Stashes are written without an account, so they are bounded: a form is at most
//! `http.max_form_bytes`, one client address may leave `auth.stashes_per_address_per_hour`,
//! and all live stashes together at most `auth.stash_max_total_bytes`; past a bound the form is
//! refused with `RATE_LIMITED` instead of kept.

use axum_extra::extract::cookie::SameSite;

use crate::http::cookies;
use std::net::IpAddr;

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QuerySelect,
};

use gatehouse_core::auth::secrets::{random_token, sha256_hex};
use gatehouse_core::auth::throttle::StashLimits;
use gatehouse_core::db::entities::form_stashes;

/// The cookie that binds a stash to the browser that made it.
pub const COOKIE: &str = "gatehouse_restore";
/// How long a stash is kept, in minutes.
pub const TTL_MINUTES: i64 = 30;
/// Fields never stashed.
const NEVER_STASHED: [&str; 3] = ["csrf", "token", "password"];

/// Why a form was not stashed.
#[derive(Debug, thiserror::Error)]
pub enum StashError {
    /// The client address left its share of stashes this hour.
    #[error("too many forms kept for sign-in from this address; sign in first, then post again")]
    TooMany {
        /// Seconds until the address may leave another.
        retry_after_secs: u64,
    },
    /// All stashes together are at their bound.
    #[error("too many forms are waiting for sign-in; sign in first, then post again")]
    Full,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<StashError> for crate::error::ApiError {
    fn from(error: StashError) -> Self {
        use crate::error::{ApiError, ErrorCode};
        match error {
            StashError::TooMany { retry_after_secs } => ApiError::new(
                ErrorCode::RateLimited,
                StashError::TooMany { retry_after_secs }.to_string(),
            )
            .with_details(serde_json::json!({ "retryAfterSeconds": retry_after_secs })),
            StashError::Full => ApiError::new(ErrorCode::RateLimited, StashError::Full.to_string())
                .with_details(serde_json::json!({ "retryAfterSeconds": TTL_MINUTES * 60 })),
            StashError::Db(e) => e.into(),
        }
    }
}

/// Stashes a form's fields for `path`, left by a client at `address`; returns the token that
/// restores them.
pub async fn save(
    db: &DatabaseConnection,
    limits: &StashLimits,
    address: IpAddr,
    path: &str,
    fields: &[(String, String)],
) -> Result<String, StashError> {
    if let Err(wait) = limits.check(address) {
        return Err(StashError::TooMany {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    let now = Utc::now();
    form_stashes::Entity::delete_many()
        .filter(form_stashes::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    let kept: Vec<&(String, String)> = fields
        .iter()
        .filter(|(name, _)| !NEVER_STASHED.contains(&name.as_str()))
        .collect();
    let json = serde_json::to_string(&kept)
        .map_err(|e| DbErr::Custom(format!("cannot serialise a form stash: {e}")))?;
    let held: Option<i64> = form_stashes::Entity::find()
        .select_only()
        .column_as(
            Expr::expr(Func::sum(
                Func::cust("LENGTH").arg(Expr::col(form_stashes::Column::Fields)),
            )),
            "held",
        )
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    let held = u64::try_from(held.unwrap_or(0)).unwrap_or(0);
    if held.saturating_add(json.len() as u64) > limits.max_total_bytes() {
        return Err(StashError::Full);
    }
    let token = random_token(32);
    form_stashes::ActiveModel {
        id_hash: Set(sha256_hex(&token)),
        path: Set(path.to_owned()),
        fields: Set(json),
        created_at: Set(now),
        expires_at: Set(now + Duration::minutes(TTL_MINUTES)),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Takes (reads and deletes) the live stash of `token` for `path`.
pub async fn take(
    db: &DatabaseConnection,
    token: &str,
    path: &str,
) -> Result<Option<Vec<(String, String)>>, DbErr> {
    let id_hash = sha256_hex(token);
    let Some(row) = form_stashes::Entity::find_by_id(id_hash.clone())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.path != path {
        return Ok(None);
    }
    let deleted = form_stashes::Entity::delete_many()
        .filter(form_stashes::Column::IdHash.eq(id_hash))
        .exec(db)
        .await?;
    // Two tabs racing for one stash: only the one that deleted it restores it.
    if deleted.rows_affected != 1 || row.expires_at <= Utc::now() {
        return Ok(None);
    }
    let fields = serde_json::from_str(&row.fields)
        .map_err(|e| DbErr::Custom(format!("a form stash is unreadable: {e}")))?;
    Ok(Some(fields))
}

/// The cookie that goes with a new stash.
pub fn cookie(token: &str, secure: bool) -> String {
    let max_age = TTL_MINUTES * 60;
    cookies::set(
        COOKIE,
        token.to_owned(),
        SameSite::Lax,
        Some(max_age),
        secure,
    )
}

/// The cookie that clears the stash's cookie once the form is restored.
pub fn clear_cookie() -> String {
    cookies::clear(COOKIE, SameSite::Lax)
}

/// Whether a post without a session came from one of Gatehouse's own pages: browsers say so in
/// `Sec-Fetch-Site` and `Origin`. Without a session there is no CSRF token to check, so a
/// cross-site post is refused rather than stashed.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match (header(ORIGIN.as_str()), header(HOST.as_str())) {
        (Some(origin), Some(host)) => url::Url::parse(origin).is_ok_and(|origin| {
            let port = origin.port().map(|p| format!(":{p}")).unwrap_or_default();
            origin
                .host_str()
                .is_some_and(|h| format!("{h}{port}").eq_ignore_ascii_case(host))
        }),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn a_post_from_another_site_is_not_stashed() {
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "gatehouse.example")
        ])));
        assert!(same_origin(&headers(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(
            same_origin(&headers(&[])),
            "clients that send neither header are not browsers on another site"
        );
    }
}
