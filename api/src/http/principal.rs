//! Who is calling, from the request's headers: an app key (`Authorization: Bearer`) or a web
//! session cookie. No credentials is not an error here; fields decide what anonymous callers see.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};

use crate::error::{ApiError, ErrorCode};
use crate::principal::Principal;
use crate::services::Services;
use gatehouse_core::auth::User;
use gatehouse_core::auth::sessions::{self, SESSION_COOKIE};

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
        && let Some(active) = sessions::lookup(&services.db, &session, services.clock.now()).await?
    {
        return Ok(Principal::User {
            user: active.user,
            csrf_token: active.csrf_token,
        });
    }
    Ok(Principal::Anonymous)
}

/// The caller of a request, resolved once: by the client-limit layer (which needs to know whom
/// to count the request against) or, where that layer did not run, by the extractor itself.
#[derive(Debug, Clone)]
pub struct Resolved(pub Result<Principal, ApiError>);

impl FromRequestParts<crate::http::AppState> for Resolved {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::http::AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(resolved) = parts.extensions.remove::<Resolved>() {
            return Ok(resolved);
        }
        Ok(Self(resolve(&parts.headers, &state.services).await))
    }
}

/// The address a request came from: the peer of the connection, or, behind
/// `http.forwarded_for_hops` trusted proxies, the address the outermost of them saw (that many
/// entries from the right of `X-Forwarded-For`; the entries further left are the client's own
/// claims and are not trusted).
pub fn client_address(extensions: &Extensions, headers: &HeaderMap, hops: usize) -> IpAddr {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    if hops == 0 {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    forwarded
        .len()
        .checked_sub(hops)
        .and_then(|i| forwarded.get(i))
        .and_then(|entry| entry.parse().ok())
        .unwrap_or(peer)
}

/// The session cookie's value, if the request carries one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    super::cookies::read(headers, SESSION_COOKIE)
}

/// The signed-in user of a principal, for web pages.
pub fn user(principal: &Principal) -> Option<&User> {
    principal.user()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_client_address_is_the_peer_unless_proxies_are_trusted() {
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 2], 4000))));
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 198.51.100.7"),
        );
        let peer: IpAddr = "10.0.0.2".parse().expect("ip");
        assert_eq!(client_address(&extensions, &headers, 0), peer);
        assert_eq!(
            client_address(&extensions, &headers, 1),
            "198.51.100.7".parse::<IpAddr>().expect("ip"),
            "the address the trusted proxy saw, not the client's claim"
        );
        assert_eq!(
            client_address(&extensions, &headers, 3),
            peer,
            "fewer entries than hops"
        );
    }
}
