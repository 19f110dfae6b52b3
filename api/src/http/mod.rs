//! The HTTP surface: the axum router, its middleware, and the handlers that are not pages.

pub mod graphql;
pub mod health;
pub mod metrics;
pub mod principal;
pub mod reports;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::graphql::GatehouseSchema;
use crate::services::Services;

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
    pub web: Arc<crate::web::Views>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// Builds the router with its middleware.
pub fn router(state: AppState) -> Router {
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

    api.merge(crate::web::routes(state.clone()))
        .layer(DefaultBodyLimit::max(body_limit))
        .route_layer(middleware::from_fn(route_span))
        .route_layer(middleware::from_fn(metrics::track))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
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
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    timeout,
                )),
        )
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
