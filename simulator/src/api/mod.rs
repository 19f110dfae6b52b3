//! The simulated REST API under the configured prefix (default `/api/v1`).
//!
//! Every request goes through `guard`, in this order: stats (outermost, counts the final
//! answer), fault injection, authentication (401), per-token rate limit (429), project scoping
//! (404 for another project's paths), write scope (403), heavy-collection concurrency (503),
//! the handler, then the latency model.

pub mod collections;
pub mod query;
pub mod uploads;
pub mod writes;

use axum::body::Body;
use axum::extract::{MatchedPath, OriginalUri, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::faults::FaultTarget;
use crate::faults::HANG;
use crate::model::{ErrorBody, Project};
use crate::state::CallRecord;
use crate::state::{SimState, TokenInfo, token_fingerprint};

/// What an answer cost, for the latency model (set by list and get handlers).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AnswerCost {
    pub rows: usize,
    pub days: u32,
}

/// A JSON response from already-serialised bytes.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Parses an id from a path; a malformed id cannot exist, so it is a 404.
pub(crate) fn parse_id(text: &str, what: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(text).map_err(|_| ApiError::not_found(what))
}

/// The REST routes (without the guard).
pub(crate) fn routes() -> Router<SimState> {
    let p = |path: &str| path.to_owned();
    collections::collection_routes()
        .route(&p("/projects"), get(list_projects))
        .route(&p("/projects/{project_id}"), get(get_project))
        .route(
            &p("/projects/{project_id}/activities"),
            post(writes::create_activity),
        )
        .route(
            &p("/projects/{project_id}/activities/{id}"),
            axum::routing::patch(writes::patch_activity),
        )
        .route(
            &p("/projects/{project_id}/events"),
            post(writes::create_event),
        )
        .route(
            &p("/projects/{project_id}/progress_entries"),
            post(writes::create_progress_entry),
        )
        .route(
            &p("/projects/{project_id}/resource_usages"),
            post(writes::create_resource_usage),
        )
        .route(
            &p("/projects/{project_id}/resource_usages/{id}"),
            axum::routing::delete(writes::delete_resource_usage),
        )
        .route(
            &p("/projects/{project_id}/dockets/{id}/actions"),
            post(writes::docket_action),
        )
        .route(
            &p("/projects/{project_id}/activities/{id}/attachments"),
            post(uploads::upload_activity_attachment),
        )
        .route(
            &p("/projects/{project_id}/events/{id}/attachments"),
            post(uploads::upload_event_attachment),
        )
        .fallback(unmatched)
}

async fn unmatched() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

/// Lists the projects the token may see (exactly its own).
#[utoipa::path(
    get,
    path = "/projects",
    tag = "projects",
    responses(
        (status = 200, description = "The token's project (a one-element list, in the configured pagination style)", body = [Project]),
        (status = 401, description = "Missing or unknown token", body = ErrorBody),
    ),
    security(("bearer_token" = []))
)]
pub(crate) async fn list_projects(
    State(sim): State<SimState>,
    token: axum::Extension<TokenInfo>,
) -> ApiResult<Response> {
    let project = sim
        .project(token.project_id)
        .map(|slot| (*slot.read().project).clone())
        .ok_or_else(|| ApiError::not_found("project"))?;
    let items = vec![project];
    let mut response = match sim.config.pagination {
        crate::config::PaginationStyle::PageNumber => {
            let mut response = Json(items).into_response();
            response
                .headers_mut()
                .insert("x-total-count", HeaderValue::from_static("1"));
            response
        }
        crate::config::PaginationStyle::Continuation => {
            Json(serde_json::json!({"items": items, "_links": {}})).into_response()
        }
    };
    response
        .extensions_mut()
        .insert(AnswerCost { rows: 1, days: 0 });
    Ok(response)
}

/// Gets one project.
#[utoipa::path(
    get,
    path = "/projects/{project_id}",
    tag = "projects",
    params(("project_id" = Uuid, Path, description = "Project id")),
    responses(
        (status = 200, description = "The project", body = Project),
        (status = 401, description = "Missing or unknown token", body = ErrorBody),
        (status = 404, description = "Unknown project, or another project's", body = ErrorBody),
    ),
    security(("bearer_token" = []))
)]
pub(crate) async fn get_project(
    State(sim): State<SimState>,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Project>> {
    let id = parse_id(&project_id, "project")?;
    let slot = sim
        .project(id)
        .ok_or_else(|| ApiError::not_found("project"))?;
    Ok(Json((*slot.read().project).clone()))
}

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The body of a `malformed_body` fault: a 200 whose JSON never closes.
pub(crate) const MALFORMED_JSON: &str = "{\"items\": [{\"id\": \"5b0c\", \"name\": ";

/// The middleware in front of every REST route (see the module docs for the order).
pub(crate) async fn guard(
    State(sim): State<SimState>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().path().to_owned(), |u| u.path().to_owned());
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(unmatched)".to_owned(), |m| m.as_str().to_owned());
    let token = bearer(request.headers());
    let info = token.as_deref().and_then(|t| sim.token(t));
    let label = match (&token, &info) {
        (None, _) => "anonymous".to_owned(),
        (Some(_), Some(info)) => info.label.clone(),
        (Some(t), None) => format!("unknown:{}", token_fingerprint(t)),
    };
    let record = CallRecord::new(sim.clone(), &method, endpoint.clone(), label.clone());

    let decision = sim.faults.decide(&FaultTarget {
        method: &method,
        template: &endpoint,
        path: &path,
        clip: None,
    });
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    if decision.hang {
        tokio::time::sleep(HANG).await;
    }
    if let Some(status) = decision.error {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut error = ApiError::new(status, "injected_fault", "fault injected by the simulator");
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            error = error.with_retry_after(1);
        }
        let mut response = error.into_response();
        if let Some(text) = decision.error_body {
            let media_type = if serde_json::from_str::<serde_json::Value>(&text).is_ok() {
                "application/json"
            } else {
                "text/plain; charset=utf-8"
            };
            response.headers_mut().remove(header::CONTENT_LENGTH);
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
            *response.body_mut() = Body::from(text);
        }
        record.finish(status);
        return padded(response, decision.padding_bytes);
    }

    let response = match authorise(
        &sim,
        &request,
        info,
        token.as_deref().unwrap_or(""),
        &path,
        &endpoint,
    ) {
        Err(error) => error.into_response(),
        Ok(info) => {
            let _heavy = if request.method() == http::Method::GET && is_heavy_list(&endpoint) {
                match sim.enter_heavy() {
                    Some(guard) => Some(guard),
                    None => {
                        let error = ApiError::new(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "overloaded",
                            "too many concurrent requests on heavy collections",
                        )
                        .with_details(
                            serde_json::json!({"limit": sim.config.heavy_concurrency_limit}),
                        )
                        .with_retry_after(1);
                        record.finish(error.status);
                        return error.into_response();
                    }
                }
            } else {
                None
            };
            request.extensions_mut().insert(info);
            let response = next.run(request).await;
            let cost = response.extensions().get::<AnswerCost>().copied();
            let latency = match cost {
                Some(cost) => sim.config.latency.for_answer(cost.rows, cost.days),
                None => sim.config.latency.base,
            };
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            response
        }
    };
    let response = if decision.malformed_body {
        let mut broken = Response::new(Body::from(MALFORMED_JSON));
        broken.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        broken
    } else {
        response
    };
    record.finish(response.status());
    padded(response, decision.padding_bytes)
}

/// Spaces streamed after an answer by a `padding_bytes` fault, in chunks of this many bytes.
static PADDING: [u8; 64 * 1024] = [b' '; 64 * 1024];

/// The answer followed by `padding` bytes of spaces, streamed without a length: the simulator
/// holds one static chunk however many bytes it sends.
fn padded(response: Response, padding: Option<u64>) -> Response {
    let Some(padding) = padding else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let chunks = futures::stream::unfold(padding, |left| async move {
        (left > 0).then(|| {
            let n = left.min(PADDING.len() as u64);
            let chunk = bytes::Bytes::from_static(&PADDING[..n as usize]);
            (Ok::<_, std::io::Error>(chunk), left - n)
        })
    });
    let answer = futures::StreamExt::map(body.into_data_stream(), |chunk| {
        chunk.map_err(std::io::Error::other)
    });
    Response::from_parts(
        parts,
        Body::from_stream(futures::StreamExt::chain(answer, chunks)),
    )
}

fn is_heavy_list(endpoint: &str) -> bool {
    endpoint.ends_with("/resource_usages") || endpoint.ends_with("/attendance")
}

/// Authentication, rate limit, project scoping and write scope.
fn authorise(
    sim: &SimState,
    request: &Request,
    info: Option<TokenInfo>,
    token: &str,
    path: &str,
    endpoint: &str,
) -> ApiResult<TokenInfo> {
    let Some(info) = info else {
        let message = if request.headers().contains_key(header::AUTHORIZATION) {
            "unknown or malformed bearer token"
        } else {
            "missing `Authorization: Bearer <token>`"
        };
        return Err(ApiError::unauthorized(message));
    };
    if let Some(limiter) = &sim.limiter
        && let Err(not_until) = limiter.check_key(&token.to_owned())
    {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(limiter.clock()));
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "rate limit exceeded",
        )
        .with_details(serde_json::json!({"retry_after_seconds": seconds}))
        .with_retry_after(seconds));
    }
    let projects = format!("{}/projects/", sim.config.api_prefix);
    if let Some(rest) = path.strip_prefix(&projects) {
        let segment = rest.split('/').next().unwrap_or("");
        if Uuid::parse_str(segment).ok() != Some(info.project_id) {
            return Err(ApiError::not_found("project"));
        }
    }
    let write = !matches!(*request.method(), http::Method::GET | http::Method::HEAD);
    if write && !info.scope.can_write() && endpoint != "(unmatched)" {
        return Err(ApiError::forbidden("this token is read-only").with_details(
            serde_json::json!({"scope": info.scope.as_str(), "required": "read write"}),
        ));
    }
    Ok(info)
}
