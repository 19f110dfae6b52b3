//! Who is calling, from the request's headers: an app key (`Authorization: Bearer`) or a web
//! session cookie. No credentials is not an error here; fields decide what anonymous callers see.

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};

use crate::auth::sessions::{self, SESSION_COOKIE};
use crate::auth::{Principal, User};
use crate::error::{ApiError, ErrorCode};
use crate::services::Services;

/// Resolves the caller. A malformed, unknown, revoked or expired key is an error (a client that
/// sends a key expects it to be used); an unknown or expired session cookie is simply anonymous.
pub async fn resolve(headers: &HeaderMap, services: &Services) -> Result<Principal, ApiError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value.to_str().map_err(|_| {
            ApiError::new(
                ErrorCode::Unauthenticated,
                "the Authorization header is not ASCII",
            )
        })?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthenticated,
                    "send the app key as `Authorization: Bearer <key>`",
                )
            })?;
        let key = services.keys.verify(token).await.map_err(ApiError::from)?;
        return Ok(Principal::AppKey(key));
    }
    if let Some(session) = session_cookie(headers)
        && let Some(active) = sessions::lookup(&services.db, session).await?
    {
        return Ok(Principal::User {
            user: active.user,
            csrf_token: active.csrf_token,
        });
    }
    Ok(Principal::Anonymous)
}

/// The session cookie's value, if the request carries one.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

/// A cookie's value by name.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The signed-in user of a principal, for web pages.
pub fn user(principal: &Principal) -> Option<&User> {
    principal.user()
}
