//! The HTTP surface: the axum router, its middleware, and the handlers that are not pages.

pub mod cookies;
pub mod graphql;
pub mod health;
pub mod metrics;
pub mod multipart;
pub mod principal;
pub mod reports;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, RETRY_AFTER, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::error::{ApiError, ErrorCode};
use crate::graphql::GatehouseSchema;
use crate::principal::Principal;
use crate::services::Services;
use gatehouse_core::auth::throttle::Client;

/// What every handler receives.
#[derive(Clone)]
pub struct AppState {
    /// The services.
    pub services: Arc<Services>,
    /// The GraphQL schema.
    pub schema: GatehouseSchema,
    /// The Prometheus recorder's handle.
    pub metrics: PrometheusHandle,
    /// The web UI's views.
    pub web: Arc<crate::views::Views>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// The Content-Security-Policy of every page: Gatehouse's own scripts, styles and images only
/// (`web/static`), no inline script or style, no plugin, no framing, forms posted only here.
pub const CSP_PAGES: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Builds the router: the API's routes and `pages` (the web UI's), with the middleware around
/// both.
pub fn router(state: AppState, pages: Router<AppState>) -> Router {
    let http = &state.services.config.http;
    let timeout = Duration::from_secs(http.request_timeout_secs);
    let body_limit = http.max_body_bytes;

    let api = Router::new()
        .route(
            "/graphql",
            get(graphql::get)
                .post(graphql::post)
                // The handler enforces its own limits: JSON bodies against `max_body_bytes`,
                // multipart uploads against `max_upload_bytes`.
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/reports/usage", get(reports::html))
        .route("/reports/usage.csv", get(reports::csv))
        .route("/reports/usage.json", get(reports::json));

    // With an internal metrics listener, /metrics is served there only (404 here).
    let api = if http.metrics_listen.is_none() {
        api.route("/metrics", get(health::metrics))
    } else {
        api
    };

    api.merge(pages)
        .layer(DefaultBodyLimit::max(body_limit))
        .route_layer(middleware::from_fn(route_span))
        .route_layer(middleware::from_fn(metrics::track))
        .layer(middleware::from_fn_with_state(state.clone(), limit_clients))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .map_request(drop_unusable_request_id)
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(make_span)
                        .on_request(())
                        .on_response(
                            DefaultOnResponse::new()
                                .level(tracing::Level::INFO)
                                .latency_unit(LatencyUnit::Millis),
                        ),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                // Every answer, pages and API alike, unless a handler chose its own (GraphiQL,
                // the printable usage report).
                .layer(SetResponseHeaderLayer::if_not_present(
                    CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CSP_PAGES),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                ))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    timeout,
                )),
        )
}

/// Counts every request but the probes' and static files' against its client: a signed-in
/// user, or the address of a caller without (valid) credentials; past the client's rate the
/// request is answered 429 with `Retry-After` before any handler runs. App keys pass: their
/// rates are their own, checked by `/graphql` where the usage ledger sees the refusal.
///
/// The caller is resolved here once and handed on in the request's extensions
/// ([`principal::Resolved`]), so handlers do not resolve it again.
async fn limit_clients(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if matches!(path, "/healthz" | "/readyz" | "/metrics") || path.starts_with("/static/") {
        return next.run(request).await;
    }
    let services = &state.services;
    let resolved = principal::resolve(request.headers(), services).await;
    let client = match &resolved {
        Ok(Principal::AppKey(_)) => None,
        Ok(Principal::User { user, .. }) => Some(Client::User(user.id)),
        Ok(Principal::Anonymous) | Err(_) => Some(Client::Address(principal::client_address(
            request.extensions(),
            request.headers(),
            services.config.http.forwarded_for_hops,
        ))),
    };
    if let Some(client) = client
        && let Err(wait) = services.client_limits.check(client)
    {
        let seconds = wait.as_secs().max(1);
        let error = ApiError::new(
            ErrorCode::RateLimited,
            format!("too many requests from this client; retry in {seconds} s"),
        )
        .with_details(serde_json::json!({ "retryAfterSeconds": seconds }));
        return too_many_requests(path, &error, seconds);
    }
    request
        .extensions_mut()
        .insert(principal::Resolved(resolved));
    next.run(request).await
}

/// The 429 of [`limit_clients`]: a GraphQL error body on `/graphql`, a short page elsewhere.
fn too_many_requests(path: &str, error: &ApiError, seconds: u64) -> Response {
    let mut response = if path == "/graphql" {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(CONTENT_TYPE, "application/json; charset=utf-8")],
            error.to_graphql_body().to_string(),
        )
            .into_response()
    } else {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(CONTENT_TYPE, "text/html; charset=utf-8")],
            format!(
                "<!doctype html><title>Too many requests</title><h1>Too many requests</h1>\
                 <p>Wait {seconds} seconds, then try again.</p>"
            ),
        )
            .into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}

/// Longest `x-request-id` a client may choose, in bytes.
const MAX_REQUEST_ID_BYTES: usize = 64;

/// A client's own `x-request-id` is kept only if it is short and plain (letters, digits, `-`,
/// `_`, `.`, `:`): it goes into logs and the usage ledger. Any other is replaced by one of ours.
fn drop_unusable_request_id(mut request: Request) -> Request {
    let usable = request.headers().get("x-request-id").is_none_or(|value| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID_BYTES
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    });
    if !usable {
        request.headers_mut().remove("x-request-id");
    }
    request
}

/// The router of the internal metrics listener (`http.metrics_listen`): `/metrics` only.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(state)
}

/// The request span: method, route template, request id, and the GraphQL operation name once
/// known. Never the path with ids, the query text or any header value.
fn make_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "http.request",
        http.method = %request.method(),
        http.route = tracing::field::Empty,
        request.id = %request_id,
        graphql.operation = tracing::field::Empty,
    )
}

/// Records the matched route template on the request span.
async fn route_span(request: Request, next: Next) -> Response {
    if let Some(path) = request.extensions().get::<MatchedPath>() {
        tracing::Span::current().record("http.route", path.as_str());
    }
    next.run(request).await
}
