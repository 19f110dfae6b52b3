//! CSRF protection for form posts.
//!
//! Signed-in users carry their session's CSRF token in every form. Before sign-in (the login
//! form itself), a random token is set in a `SameSite=Strict` cookie and echoed in the form; a
//! cross-site page can neither read the cookie nor set it.

use axum::http::HeaderMap;

use axum_extra::extract::cookie::SameSite;

use crate::http::cookies;
use crate::principal::Principal;
use gatehouse_core::auth::secrets::{constant_time_eq, random_token};

/// Name of the pre-sign-in CSRF cookie.
pub const CSRF_COOKIE: &str = "gatehouse_csrf";

/// The token to put in a form, and the cookie to set if a new one was made.
pub fn token_for(
    principal: &Principal,
    headers: &HeaderMap,
    secure: bool,
) -> (String, Option<String>) {
    if let Principal::User { csrf_token, .. } = principal {
        return (csrf_token.clone(), None);
    }
    if let Some(existing) = cookies::read(headers, CSRF_COOKIE).filter(|v| v.len() >= 32) {
        return (existing, None);
    }
    let token = random_token(32);
    let cookie = cookies::set(CSRF_COOKIE, token.clone(), SameSite::Strict, None, secure);
    (token, Some(cookie))
}

/// Whether a posted token is the right one for this caller.
pub fn verify(principal: &Principal, headers: &HeaderMap, posted: &str) -> bool {
    let expected = match principal {
        Principal::User { csrf_token, .. } => Some(csrf_token.clone()),
        _ => cookies::read(headers, CSRF_COOKIE),
    };
    match expected {
        Some(expected) if !posted.is_empty() => constant_time_eq(&expected, posted),
        _ => false,
    }
}
