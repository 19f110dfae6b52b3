//! The test harness's view under `/_sim/` (no auth): projects, tokens, dataclip users, fault
//! rules, stats and dataclip snapshots. None of these calls is counted in the stats.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clips::{Clip, ClipInfo};
use crate::config::{Scope, SizeCounts};
use crate::data::ProjectInfo;
use crate::error::{ApiError, ApiResult};
use crate::faults::{FaultRule, FaultRuleState};
use crate::state::{SimError, SimState};
use crate::stats::Stats;

/// The `/_sim` routes.
pub(crate) fn routes() -> Router<SimState> {
    Router::new()
        .route("/_sim/projects", get(projects))
        .route("/_sim/config", get(config))
        .route("/_sim/tokens", post(create_token))
        .route("/_sim/dataclip_users", post(create_dataclip_user))
        .route("/_sim/dataclips", get(dataclips))
        .route("/_sim/dataclips/refresh", post(refresh_dataclips))
        .route(
            "/_sim/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_sim/faults/{id}", delete(remove_fault))
        .route("/_sim/stats", get(stats))
        .route("/_sim/stats/reset", post(reset_stats))
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_body(&e))
}

fn sim_error(error: SimError) -> ApiError {
    ApiError::validation(error.to_string(), serde_json::Value::Null)
}

async fn projects(State(sim): State<SimState>) -> Json<Vec<ProjectInfo>> {
    Json(sim.projects())
}

/// What `GET /_sim/config` shows.
#[derive(Debug, Serialize)]
struct ConfigView {
    seed: u64,
    counts: SizeCounts,
    pagination: crate::config::PaginationStyle,
    api_prefix: String,
    rate_limit: Option<crate::config::RateLimit>,
    heavy_concurrency_limit: usize,
    dataclip_refresh_seconds: f64,
    upload_limit_bytes: u64,
}

async fn config(State(sim): State<SimState>) -> Json<serde_json::Value> {
    let c = sim.config();
    let view = ConfigView {
        seed: c.seed,
        counts: c.size.counts(),
        pagination: c.pagination,
        api_prefix: c.api_prefix.clone(),
        rate_limit: c.rate_limit,
        heavy_concurrency_limit: c.heavy_concurrency_limit,
        dataclip_refresh_seconds: c.dataclip_refresh.as_secs_f64(),
        upload_limit_bytes: c.upload_limit_bytes,
    };
    Json(serde_json::to_value(view).unwrap_or_default())
}

/// `POST /_sim/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// The project the token is bound to.
    pub project_id: Uuid,
    /// `read` or `read write`.
    pub scope: String,
    /// A fixed value (random `sim_…` when absent).
    #[serde(default)]
    pub token: Option<String>,
    /// Label for stats (a fingerprint when absent).
    #[serde(default)]
    pub label: Option<String>,
}

/// The answer of `POST /_sim/tokens`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    /// The token.
    pub token: String,
    /// The project.
    pub project_id: Uuid,
    /// Scope.
    pub scope: String,
}

async fn create_token(State(sim): State<SimState>, body: Bytes) -> ApiResult<Response> {
    let new: NewToken = parse(&body)?;
    let scope = Scope::parse(&new.scope).ok_or_else(|| {
        ApiError::validation(
            "`scope` must be `read` or `read write`",
            json!({"field": "scope"}),
        )
    })?;
    let token = sim
        .add_token(new.token, new.project_id, scope, new.label)
        .map_err(sim_error)?;
    let created = CreatedToken {
        token,
        project_id: new.project_id,
        scope: scope.as_str().into(),
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `POST /_sim/dataclip_users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDataclipUser {
    /// User name (HTTP Basic).
    pub username: String,
    /// Password (HTTP Basic).
    pub password: String,
    /// The project.
    pub project_id: Uuid,
    /// Provisioned clips (all when absent).
    #[serde(default)]
    pub clips: Option<Vec<String>>,
}

async fn create_dataclip_user(State(sim): State<SimState>, body: Bytes) -> ApiResult<Response> {
    let new: NewDataclipUser = parse(&body)?;
    sim.add_dataclip_user(
        new.username.clone(),
        new.password,
        new.project_id,
        new.clips,
    )
    .map_err(sim_error)?;
    let user = sim.dataclip_user(&new.username);
    let clips = user.map(|u| u.clips).unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(json!({"username": new.username, "project_id": new.project_id, "clips": clips})),
    )
        .into_response())
}

/// `GET /_sim/dataclips`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DataclipsView {
    /// The catalogue.
    pub catalogue: Vec<ClipInfo>,
    /// Refresh period, seconds.
    pub refresh_seconds: f64,
    /// Snapshot currently served, per project.
    pub snapshots: Vec<SnapshotView>,
}

/// A project's current snapshot.
#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotView {
    /// Project.
    pub project_id: Uuid,
    /// Snapshot time (refresh boundary).
    pub snapshot_at: DateTime<Utc>,
    /// Data version captured.
    pub version: u64,
}

async fn dataclips(State(sim): State<SimState>) -> Json<DataclipsView> {
    Json(DataclipsView {
        catalogue: Clip::ALL.iter().map(|c| c.info()).collect(),
        refresh_seconds: sim.config().dataclip_refresh.as_secs_f64(),
        snapshots: sim
            .slots()
            .iter()
            .map(|slot| {
                let snapshot = slot.snapshot();
                SnapshotView {
                    project_id: slot.info.id,
                    snapshot_at: snapshot.taken_at,
                    version: snapshot.version,
                }
            })
            .collect(),
    })
}

async fn refresh_dataclips(State(sim): State<SimState>) -> Json<DataclipsView> {
    let now = Utc::now();
    for slot in sim.slots() {
        slot.refresh_snapshot(now);
    }
    dataclips(State(sim)).await
}

async fn list_faults(State(sim): State<SimState>) -> Json<Vec<FaultRuleState>> {
    Json(sim.faults.list())
}

async fn add_fault(State(sim): State<SimState>, body: Bytes) -> ApiResult<Response> {
    let rule: FaultRule = parse(&body)?;
    rule.validate().map_err(|(field, message)| {
        ApiError::validation(format!("`{field}` {message}"), json!({"field": field}))
    })?;
    let id = sim.faults.add(rule);
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

async fn clear_faults(State(sim): State<SimState>) -> StatusCode {
    sim.faults.clear();
    StatusCode::NO_CONTENT
}

async fn remove_fault(
    State(sim): State<SimState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: u64 = id.parse().map_err(|_| ApiError::not_found("fault rule"))?;
    if sim.faults.remove(id) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("fault rule"))
    }
}

async fn stats(State(sim): State<SimState>) -> Json<Stats> {
    Json(sim.stats.snapshot())
}

async fn reset_stats(State(sim): State<SimState>) -> StatusCode {
    sim.stats.reset();
    StatusCode::NO_CONTENT
}
