//! `/healthz` (the process is up), `/readyz` (the database is usable), `/metrics`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::db::{Readiness, readiness};

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

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
        .into_response()
}
