//! `/healthz` (the process is up), `/readyz` (the database is usable), `/metrics`.

use axum::Json;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::error::{ApiError, ErrorCode};
use gatehouse_core::db::{Readiness, readiness};

/// `GET /healthz`: 200 while the process serves requests.
pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /readyz`: 200 when the database answers and every migration is applied, else 503.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let services = &state.services;
    match readiness(&services.db, &services.config.database_url).await {
        Readiness::Ready => Json(json!({ "status": "ready", "database": "ok" })).into_response(),
        Readiness::NotReady(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_ready", "database": reason })),
        )
            .into_response(),
    }
}

/// `GET /metrics`: Prometheus text format; with `http.metrics_token` set, only for
/// `Authorization: Bearer <token>` (401 otherwise).
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.services.config.http.metrics_token {
        let presented = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .unwrap_or_default();
        if !token.admits(presented) {
            let mut response = ApiError::new(
                ErrorCode::Unauthenticated,
                "send the metrics token as `Authorization: Bearer <token>`",
            )
            .into_response();
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
        .into_response()
}
