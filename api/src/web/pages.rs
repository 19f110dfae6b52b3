//! The start page and signing in and out.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Extension;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::csrf;
use crate::auth::sessions::{self, SESSION_COOKIE};
use crate::auth::{Principal, users};
use crate::error::ApiError;
use crate::http::AppState;
use crate::http::principal::{resolve, session_cookie};

/// The signed-in user, as views show it.
#[derive(Debug, Serialize)]
pub struct UserView {
    /// Email.
    pub email: String,
    /// Role.
    pub role: String,
}

/// What every page's layout needs.
#[derive(Debug, Serialize)]
pub struct Layout {
    /// Page title.
    pub title: String,
    /// The signed-in user, or null.
    pub user: Option<UserView>,
    /// The CSRF token for forms on the page.
    pub csrf: String,
}

/// Resolves the caller of a page; a bad app key on a page is treated as no credentials.
pub async fn page_principal(state: &AppState, headers: &HeaderMap) -> Principal {
    resolve(headers, &state.services)
        .await
        .unwrap_or(Principal::Anonymous)
}

/// The layout context and the CSRF cookie to set, if any.
pub fn layout(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    title: &str,
) -> (Layout, Option<String>) {
    let (csrf, cookie) =
        csrf::token_for(principal, headers, state.services.config.auth.cookie_secure);
    let user = principal.user().map(|u| UserView {
        email: u.email.clone(),
        role: u.role.to_string(),
    });
    (
        Layout {
            title: title.to_owned(),
            user,
            csrf,
        },
        cookie,
    )
}

/// Adds a `Set-Cookie` header when there is one.
pub fn with_cookie(mut response: Response, cookie: Option<String>) -> Response {
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// Renders an error page with a status.
pub fn error_page(state: &AppState, layout: Layout, status: StatusCode, message: &str) -> Response {
    #[derive(Serialize)]
    struct Ctx<'a> {
        #[serde(flatten)]
        layout: Layout,
        message: &'a str,
    }
    match state.web.render("error", &Ctx { layout, message }) {
        Ok(html) => (status, html).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /`.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let principal = page_principal(&state, &headers).await;
    let (layout, cookie) = layout(&state, &principal, &headers, "Welcome");
    let page = state.web.render("home", &layout);
    with_cookie(page.into_response(), cookie)
}

#[derive(Debug, Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

#[derive(Debug, Serialize)]
struct LoginView {
    #[serde(flatten)]
    layout: Layout,
    email: String,
    next: String,
    error: Option<String>,
}

/// Only local paths are followed after sign-in (no open redirects).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// `GET /login`.
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<NextParam>,
) -> Response {
    let principal = page_principal(&state, &headers).await;
    let (layout, cookie) = layout(&state, &principal, &headers, "Sign in");
    let view = LoginView {
        layout,
        email: String::new(),
        next: safe_next(params.next.as_deref()),
        error: None,
    };
    with_cookie(state.web.render("login", &view).into_response(), cookie)
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`: checks CSRF, throttles, verifies the password, starts a session.
pub async fn login(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let principal = Principal::Anonymous;
    let address = connect.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.0.ip());
    let next = safe_next(form.next.as_deref());
    let (page_layout, cookie) = layout(&state, &principal, &headers, "Sign in");
    let fail = |layout: Layout, status: StatusCode, message: &str| {
        let view = LoginView {
            layout,
            email: form.email.clone(),
            next: next.clone(),
            error: Some(message.to_owned()),
        };
        (status, state.web.render("login", &view)).into_response()
    };

    if !csrf::verify(&principal, &headers, &form.csrf) {
        let response = fail(
            page_layout,
            StatusCode::FORBIDDEN,
            "Your sign-in form expired. Please try again.",
        );
        return with_cookie(response, cookie);
    }
    if let Err(wait) = state.services.login_throttle.check(&form.email, address) {
        let seconds = wait.as_secs().max(1);
        let mut response = fail(
            page_layout,
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Too many sign-in attempts. Try again in {seconds} seconds."),
        );
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        return with_cookie(response, cookie);
    }
    let user = match users::authenticate(&state.services.db, &form.email, &form.password).await {
        Ok(user) => user,
        Err(users::AccountError::InvalidCredentials) => {
            tracing::info!(auth.outcome = "rejected", "sign-in refused");
            let response = fail(
                page_layout,
                StatusCode::UNAUTHORIZED,
                "Wrong email or password.",
            );
            return with_cookie(response, cookie);
        }
        Err(error) => return ApiError::from(error).into_response(),
    };
    let ttl = chrono::Duration::hours(state.services.config.auth.session_ttl_hours as i64);
    let session = match sessions::create(&state.services.db, user.id, ttl).await {
        Ok(session) => session,
        Err(error) => return ApiError::from(error).into_response(),
    };
    tracing::info!(user.id = %user.id, auth.outcome = "accepted", "signed in");
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        session.cookie_value,
        ttl.num_seconds(),
        if state.services.config.auth.cookie_secure {
            "; Secure"
        } else {
            ""
        }
    );
    with_cookie(Redirect::to(&next).into_response(), Some(cookie))
}

/// The sign-out form.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /logout`: ends the session.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    let principal = page_principal(&state, &headers).await;
    if !csrf::verify(&principal, &headers, &form.csrf) {
        let (layout, cookie) = layout(&state, &principal, &headers, "Sign out");
        let response = error_page(
            &state,
            layout,
            StatusCode::FORBIDDEN,
            "The sign-out form expired; reload the page and try again.",
        );
        return with_cookie(response, cookie);
    }
    if let Some(value) = session_cookie(&headers)
        && let Err(error) = sessions::destroy(&state.services.db, value).await
    {
        return ApiError::from(error).into_response();
    }
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    with_cookie(Redirect::to("/").into_response(), Some(expired))
}
