//! The web UI: server-rendered pages from the handlebars views in `web/views` (registered once,
//! strict mode, typed contexts), the stylesheet and scripts in `web/static`.
//!
//! - Every page works without JavaScript; `web/static/app.js` only makes the request form
//!   pleasant (live assessment, workflows added and removed in place without a round trip,
//!   copy buttons).
//! - Forms post with a CSRF token: the session's own once signed in, a double-submit cookie
//!   before. State changes are POST only; a wrong token is refused with 403 and changes nothing.
//! - Handlers are thin: extract ([`handler::Caller`], [`handler::FormPairs`]), convert the form, call
//!   one service function, render. Errors are [`crate::error::ApiError`]s, which the error layer
//!   here renders as an HTML page; `UNAUTHENTICATED` sends the user to sign in and back.
//! - Reviewers and admins also get the usage reports page (`/reports`: the metering report in
//!   the layout, its exports and the project's alerts) and the dataclips status page
//!   (`/dataclips`, where admins ask for a refresh).
//! - A form posted after the session expired is stashed ([`stash`]) and restored after sign-in.

pub mod assessment;
pub mod csrf;
pub mod dataclips;
pub mod display;
pub mod fields;
pub mod handler;
pub mod reports;
pub mod request_form;
pub mod requests;
pub mod review;
pub mod sign_in;
pub mod stash;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use crate::error::{ApiError, ErrorCode};
use crate::http::AppState;
use crate::views::WebFiles;
use handler::{PageFailure, see_other, urlencode};

/// The web routes.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(sign_in::home))
        .route("/login", get(sign_in::login_form).post(sign_in::login))
        .route("/logout", post(sign_in::logout))
        .route("/check", get(requests::check_form).post(requests::check))
        .route("/assess", post(requests::assess_fragment))
        .route("/requests", get(requests::mine))
        .route(
            "/requests/new",
            get(requests::new_form).post(requests::create),
        )
        .route("/requests/{id}", get(requests::show))
        .route(
            "/requests/{id}/edit",
            get(requests::edit_form).post(requests::update),
        )
        .route("/requests/{id}/submit", post(requests::submit))
        .route("/requests/{id}/comments", post(requests::comment))
        .route("/requests/{id}/drafts/{file}", get(requests::download))
        .route("/requests/{id}/review", post(review::decide))
        .route("/requests/{id}/filed", post(review::filed))
        .route("/requests/{id}/tokens", post(review::record_token))
        .route("/requests/{id}/keys", post(review::create_key))
        .route(
            "/requests/{id}/keys/{key_id}/revoke",
            post(review::revoke_key),
        )
        .route("/requests/{id}/activate", post(review::activate))
        .route("/requests/{id}/revoke", post(review::revoke))
        .route("/review", get(review::queue))
        .route("/tokens", get(review::tokens))
        .route("/reports", get(reports::page))
        .route(
            "/reports/alerts/{id}/acknowledge",
            post(reports::acknowledge),
        )
        .route("/dataclips", get(dataclips::page))
        .route("/dataclips/refresh", post(dataclips::refresh))
        .route_layer(middleware::from_fn_with_state(state.clone(), render_errors))
        // Pages take forms, never uploads: the form limit, not the API's body limit.
        .layer(axum::extract::DefaultBodyLimit::max(
            state.services.config.http.max_form_bytes,
        ))
        .route("/static/{*path}", get(static_file))
}

/// Turns a page's error into an HTML page: `UNAUTHENTICATED` on a GET becomes the sign-in form
/// that returns here; everything else the error page with the code's status and message.
async fn render_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let (mut parts, body) = request.into_parts();
    let here = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned());
    let headers = parts.headers.clone();
    let request = Request::from_parts(parts.clone(), body);
    let mut response = next.run(request).await;
    let Some(PageFailure(error)) = response.extensions_mut().remove::<PageFailure>() else {
        return response;
    };
    if error.code == ErrorCode::Unauthenticated {
        let next = if method == Method::GET {
            here
        } else {
            "/".to_owned()
        };
        return see_other(&format!("/login?next={}", urlencode(&next)), None);
    }
    parts.headers = headers;
    let caller =
        match <handler::Caller as axum::extract::FromRequestParts<AppState>>::from_request_parts(
            &mut parts, &state,
        )
        .await
        {
            Ok(caller) => caller,
            Err(never) => match never {},
        };
    error_page(&state, &caller, &error)
}

/// The error page of `error`.
pub fn error_page(state: &AppState, caller: &handler::Caller, error: &ApiError) -> Response {
    #[derive(Serialize)]
    struct ErrorView<'a> {
        message: &'a str,
        code: &'a str,
    }
    let title = match error.code {
        ErrorCode::NotFound => "Not found",
        ErrorCode::Forbidden => "Not allowed",
        ErrorCode::CsrfFailed => "Form expired",
        ErrorCode::Conflict => "Not possible now",
        ErrorCode::BadUserInput | ErrorCode::BadRequest => "Something is wrong with the input",
        ErrorCode::VaultLocked => "The vault is locked",
        ErrorCode::RateLimited => "Too many requests",
        ErrorCode::PayloadTooLarge => "Too much input",
        _ => "Something went wrong",
    };
    let view = ErrorView {
        message: &error.message,
        code: error.code.as_str(),
    };
    let status = crate::error::status(error.code);
    let mut response = match caller.render(state, status, "error", caller.layout(title), &view) {
        Ok(response) => response,
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    };
    // A quota or rate refusal says when to come back, as the API's do.
    if let Some(seconds) = error
        .details
        .as_ref()
        .and_then(|d| d.get("retryAfterSeconds"))
        .and_then(serde_json::Value::as_u64)
        && let Ok(value) = axum::http::HeaderValue::from_str(&seconds.to_string())
    {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, value);
    }
    response
}

async fn static_file(axum::extract::Path(path): axum::extract::Path<String>) -> Response {
    match WebFiles::get(&format!("static/{path}")) {
        Some(file) => {
            let mime = mime_guess::from_path(&path).first_or_octet_stream();
            (
                [
                    (CONTENT_TYPE, mime.as_ref().to_owned()),
                    (CACHE_CONTROL, "public, max-age=300".to_owned()),
                ],
                file.data.into_owned(),
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
