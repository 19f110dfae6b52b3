//! The start page and signing in and out.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::csrf;
use super::handler::{Caller, Layout, PageResult, see_other, with_cookie};
use crate::error::ApiError;
use crate::http::AppState;
use crate::http::cookies;
use crate::http::principal::session_cookie;
use crate::principal::Principal;
use axum_extra::extract::cookie::SameSite;
use gatehouse_core::auth::sessions::{self, SESSION_COOKIE};
use gatehouse_core::auth::users;

#[derive(Debug, Serialize)]
struct HomeView {}

/// `GET /`.
pub async fn home(State(state): State<AppState>, caller: Caller) -> PageResult {
    caller.render(
        &state,
        StatusCode::OK,
        "home",
        caller.layout("Welcome"),
        &HomeView {},
    )
}

/// The `next` parameter of the sign-in form.
#[derive(Debug, Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

#[derive(Debug, Serialize)]
struct LoginView {
    email: String,
    next: String,
    error: Option<String>,
}

/// Longest `next` followed after sign-in, in bytes.
const MAX_NEXT_BYTES: usize = 2048;

/// Where to go after signing in: `next` if it is a path on this site, else `/` (no open
/// redirects).
///
/// Browsers resolve a `Location` with the WHATWG URL parser, which drops tabs and newlines
/// anywhere, trims spaces and control characters, reads `\` as `/` and collapses `/./` and
/// `/../`: `/\t/evil.example` and `/.//evil.example` both become `//evil.example`, another host.
/// So `next` must hold none of those characters, and what it resolves to against this site
/// must still be this site with a path that does not start with `//`; the resolved path is what
/// is followed.
fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/";
    let Some(next) = next else {
        return HOME.to_owned();
    };
    let plain = next.len() <= MAX_NEXT_BYTES
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next
            .bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || b == b'\\' || !b.is_ascii());
    if !plain {
        return HOME.to_owned();
    }
    let Ok(base) = url::Url::parse("http://gatehouse.invalid/") else {
        return HOME.to_owned();
    };
    match base.join(next) {
        Ok(url)
            if url.origin() == base.origin()
                && url.username().is_empty()
                && url.password().is_none()
                && !url.path().starts_with("//") =>
        {
            url[url::Position::BeforePath..].to_owned()
        }
        _ => HOME.to_owned(),
    }
}

/// The sign-in page's layout: it says why when the way back restores a form.
fn login_layout(caller: &Caller, next: &str) -> Layout {
    Layout {
        notice: next.contains("restore=").then(|| {
            "Your session expired. Sign in again to go back to your form: what you typed is kept."
                .to_owned()
        }),
        ..caller.layout("Sign in")
    }
}

/// `GET /login`.
pub async fn login_form(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<NextParam>,
) -> PageResult {
    let next = safe_next(params.next.as_deref());
    let view = LoginView {
        email: String::new(),
        next: next.clone(),
        error: None,
    };
    caller.render(
        &state,
        StatusCode::OK,
        "login",
        login_layout(&caller, &next),
        &view,
    )
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
    caller: Caller,
    Form(form): Form<LoginForm>,
) -> Response {
    let address = caller.address;
    let next = safe_next(form.next.as_deref());
    let fail = |status: StatusCode, message: &str| {
        let view = LoginView {
            email: form.email.clone(),
            next: next.clone(),
            error: Some(message.to_owned()),
        };
        caller
            .render(&state, status, "login", login_layout(&caller, &next), &view)
            .into_response()
    };

    if !csrf::verify(&Principal::Anonymous, &caller.headers, &form.csrf) {
        return fail(
            StatusCode::FORBIDDEN,
            "Your sign-in form expired. Please try again.",
        );
    }
    if let Err(wait) = state.services.login_throttle.check(&form.email, address) {
        let seconds = wait.as_secs().max(1);
        let mut response = fail(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Too many sign-in attempts. Try again in {seconds} seconds."),
        );
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        return response;
    }
    let user = match users::authenticate(&state.services.db, &form.email, &form.password).await {
        Ok(user) => user,
        Err(users::AccountError::InvalidCredentials) => {
            tracing::info!(auth.outcome = "rejected", "sign-in refused");
            return fail(StatusCode::UNAUTHORIZED, "Wrong email or password.");
        }
        Err(error) => return ApiError::from(error).into_response(),
    };
    let ttl = chrono::Duration::hours(state.services.config.auth.session_ttl_hours as i64);
    let now = state.services.clock.now();
    let session = match sessions::create(&state.services.db, user.id, ttl, now).await {
        Ok(session) => session,
        Err(error) => return ApiError::from(error).into_response(),
    };
    tracing::info!(user.id = %user.id, auth.outcome = "accepted", "signed in");
    let cookie = cookies::set(
        SESSION_COOKIE,
        session.cookie_value,
        SameSite::Lax,
        Some(ttl.num_seconds()),
        state.services.config.cookies_secure(),
    );
    see_other(&next, Some(cookie))
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
    caller: Caller,
    Form(form): Form<LogoutForm>,
) -> PageResult {
    if !csrf::verify(&caller.principal, &caller.headers, &form.csrf) {
        return Err(super::handler::csrf_refused());
    }
    if let Some(value) = session_cookie(&caller.headers) {
        sessions::destroy(&state.services.db, &value)
            .await
            .map_err(ApiError::from)?;
    }
    let expired = cookies::clear(SESSION_COOKIE, SameSite::Lax);
    Ok(with_cookie(see_other("/", None), Some(expired)))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn paths_on_this_site_are_followed_after_sign_in() {
        for (next, followed) in [
            ("/requests/new", "/requests/new"),
            ("/requests/1?restore=abc", "/requests/1?restore=abc"),
            ("/reports?project=p#top", "/reports?project=p#top"),
            ("/a/./b/../c", "/a/c"),
            ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),
        ] {
            assert_eq!(safe_next(Some(next)), followed, "{next}");
        }
    }

    /// Inputs the WHATWG URL parser resolves to another origin (or that carry characters it
    /// rewrites), from the URL standard's rules and its web-platform tests.
    #[test]
    fn anything_a_browser_would_resolve_elsewhere_goes_home() {
        for next in [
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "\t//evil.example",
            " /evil.example",
            "/ /evil.example",
            "/\u{0}/evil.example",
            "/\u{1f}/evil.example",
            "/\u{7f}/evil.example",
            "/.//evil.example",
            "/..//evil.example",
            "/a/..//evil.example",
            "/./\\evil.example",
            "/\u{ff0f}/evil.example",
            "http://evil.example/",
            "https:evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(next)), "/", "{next:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(5000)))), "/");
    }
}
