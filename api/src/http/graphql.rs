//! `/graphql`, following the GraphQL-over-HTTP specification.
//!
//! - `POST` with `application/json` (one operation; batches are refused) or
//!   `multipart/form-data` (the GraphQL multipart request spec, for uploads).
//! - `GET` with `query`, `operationName`, `variables` in the query string, for queries only: a
//!   mutation over GET is refused with 405 and `Allow: POST`.
//! - Responses are `application/graphql-response+json` when the client accepts it, else
//!   `application/json`; 406 if it accepts neither.
//! - Requests that fail before execution (malformed JSON, parse or validation failures, limits,
//!   credentials) get a 4xx status with a GraphQL error body; once execution starts the status is
//!   200 and errors are per field. Every error carries `extensions.code`.
//! - A browser that GETs `/graphql` without a query gets GraphiQL.

use std::time::Instant;

use async_graphql::http::GraphiQLSource;
use async_graphql::{ServerError, Value};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header::{ACCEPT, ALLOW, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use http_body_util::BodyExt;

use super::AppState;
use super::metrics::record_graphql;
use super::principal::Resolved;
use crate::error::{ApiError, ErrorCode};
use crate::principal::Principal;
use std::sync::Arc;

use axum::http::header::RETRY_AFTER;

use crate::graphql::RequestContext;
use crate::graphql::analysis::{OperationKind, analyse};
use crate::graphql::perform::plan::plan;
use crate::graphql::perform::{PerformRequest, prepare};
use gatehouse_compliance::Entity;
use gatehouse_compliance::model::Access;
use gatehouse_core::facade::RequestMeta;
use gatehouse_core::facade::responses::{Answer, Projects, ResponseCache};
use gatehouse_core::upstream::CallTag;

/// The media type of the GraphQL-over-HTTP spec.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
/// Header carrying the session's CSRF token on cookie-authenticated mutations.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The response media type chosen from `Accept`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphqlResponseJson,
    Json,
}

impl Media {
    fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

fn negotiate(headers: &HeaderMap) -> Result<Media, ApiError> {
    let Some(accept) = headers.get(ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(Media::Json);
    };
    let types: Vec<&str> = accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or_default().trim())
        .collect();
    if types.contains(&GRAPHQL_RESPONSE_JSON) {
        Ok(Media::GraphqlResponseJson)
    } else if types
        .iter()
        .any(|t| matches!(*t, "application/json" | "application/*" | "*/*"))
    {
        Ok(Media::Json)
    } else {
        Err(ApiError::new(
            ErrorCode::NotAcceptable,
            "accept application/graphql-response+json or application/json",
        ))
    }
}

fn wants_graphiql(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

/// `GET /graphql`.
pub async fn get(
    State(state): State<AppState>,
    caller: Resolved,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let mut query = None;
    let mut operation_name = None;
    let mut variables = None;
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        match key.as_ref() {
            "query" => query = Some(value.into_owned()),
            "operationName" => operation_name = Some(value.into_owned()),
            "variables" => variables = Some(value.into_owned()),
            _ => {}
        }
    }
    let Some(query) = query else {
        if state.services.config.graphql.graphiql && wants_graphiql(&headers) {
            // GraphiQL's page loads its scripts and styles from unpkg.com and starts with an
            // inline script: its own policy allows that much, and nothing else.
            return (
                [(
                    axum::http::header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(
                        "default-src 'self'; script-src 'self' 'unsafe-inline' https://unpkg.com; \
                         style-src 'self' 'unsafe-inline' https://unpkg.com; \
                         img-src 'self' data: https://unpkg.com; font-src 'self' data: https://unpkg.com; \
                         connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
                    ),
                )],
                Html(GraphiQLSource::build().endpoint("/graphql").finish()),
            )
                .into_response();
        }
        return request_error(
            Media::Json,
            ApiError::new(
                ErrorCode::BadRequest,
                "GET /graphql needs a `query` parameter",
            ),
        );
    };
    let media = match negotiate(&headers) {
        Ok(media) => media,
        Err(error) => return request_error(Media::Json, error),
    };
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = operation_name.filter(|n| !n.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(variables) = variables.filter(|v| !v.is_empty()) {
        match serde_json::from_str::<serde_json::Value>(&variables) {
            Ok(json) if json.is_object() => {
                request = request.variables(async_graphql::Variables::from_json(json));
            }
            _ => {
                return request_error(
                    media,
                    ApiError::new(ErrorCode::BadRequest, "`variables` must be a JSON object"),
                );
            }
        }
    }
    execute(
        &state,
        caller,
        &headers,
        Method::GET,
        media,
        Incoming::Parsed(request),
    )
    .await
}

/// `POST /graphql`.
pub async fn post(
    State(state): State<AppState>,
    caller: Resolved,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let media = match negotiate(&headers) {
        Ok(media) => media,
        Err(error) => return request_error(Media::Json, error),
    };
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let body = match essence.as_str() {
        "application/json" | "application/graphql-response+json" => Incoming::Json(body),
        "multipart/form-data" => Incoming::Multipart { content_type, body },
        "" => {
            return request_error(
                media,
                ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "send Content-Type: application/json",
                ),
            );
        }
        other => {
            let other: String = other.chars().take(64).collect();
            return request_error(
                media,
                ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    format!("`{other}` is not supported; send application/json"),
                ),
            );
        }
    };
    execute(&state, caller, &headers, Method::POST, media, body).await
}

/// A request as it arrives: parsed from the query string (GET), or a body not yet read (POST),
/// which is read only once the caller's credentials are known.
enum Incoming {
    Parsed(async_graphql::Request),
    Json(Body),
    Multipart { content_type: String, body: Body },
}

impl Incoming {
    /// The GraphQL request, reading the body within its limits: a JSON body up to
    /// `http.max_body_bytes`; a multipart body only from a caller allowed to upload.
    async fn read(
        self,
        principal: &Principal,
        limits: &crate::config::HttpConfig,
    ) -> Result<async_graphql::Request, ApiError> {
        match self {
            Self::Parsed(request) => Ok(request),
            Self::Json(body) => {
                let bytes = http_body_util::Limited::new(body, limits.max_body_bytes)
                    .collect()
                    .await
                    .map_err(|_| {
                        ApiError::new(
                            ErrorCode::PayloadTooLarge,
                            format!(
                                "the request body is larger than {} bytes",
                                limits.max_body_bytes
                            ),
                        )
                    })?
                    .to_bytes();
                if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
                    return Err(ApiError::new(
                        ErrorCode::BadRequest,
                        "batched requests are not supported",
                    ));
                }
                serde_json::from_slice::<async_graphql::Request>(&bytes).map_err(|error| {
                    ApiError::new(
                        ErrorCode::BadRequest,
                        format!("the body is not a GraphQL request in JSON: {error}"),
                    )
                })
            }
            Self::Multipart { content_type, body } => {
                may_upload(principal)?;
                super::multipart::read(&content_type, body, limits).await
            }
        }
    }
}

/// Multipart requests exist for uploads, which only app keys that may write attachments make:
/// anyone else is refused before the body is read.
fn may_upload(principal: &Principal) -> Result<(), ApiError> {
    match principal {
        Principal::AppKey(key) if key.scopes.allows(Entity::Attachment, Access::Write) => Ok(()),
        Principal::AppKey(_) => Err(ApiError::forbidden(
            "multipart requests carry uploads, and this app key may not write attachments",
        )),
        Principal::User { .. } => Err(ApiError::forbidden(
            "uploads are made with an app key; send a session's operations as JSON",
        )),
        Principal::Anonymous => Err(ApiError::unauthenticated()),
    }
}

/// What the usage ledger learns about one operation while it is handled.
#[derive(Debug, Default)]
struct Seen {
    app_key_id: Option<uuid::Uuid>,
    user_id: Option<uuid::Uuid>,
    project_id: Option<String>,
    operation: Option<String>,
    kind: Option<&'static str>,
    meta: Option<Arc<RequestMeta>>,
    outcome: Option<&'static str>,
    error_code: Option<String>,
    /// Answered from the response cache: the cache reads the stored answer was built from.
    replayed_reads: Option<u32>,
    /// Whether the caller presented valid credentials. An anonymous or refused caller's
    /// operation is counted, but nothing it typed (operation name, project id) is kept.
    authenticated: bool,
}

impl Seen {
    /// Notes a refusal before execution and answers it.
    fn refuse(&mut self, media: Media, error: ApiError) -> Response {
        self.outcome = Some("refused");
        self.error_code = Some(error.code.as_str().to_owned());
        request_error(media, error)
    }
}

/// Executes one operation and records it in the usage ledger, whether it ran or was refused.
async fn execute(
    state: &AppState,
    caller: Resolved,
    headers: &HeaderMap,
    method: Method,
    media: Media,
    incoming: Incoming,
) -> Response {
    let started = Instant::now();
    let occurred_at = chrono::Utc::now();
    let mut seen = Seen::default();
    let response = run(state, caller, headers, method, media, incoming, &mut seen).await;
    let ledger = &state.services.metering.ledger;
    if ledger.is_enabled() {
        let meta = seen.meta.as_deref();
        let (hits, stale, misses) = match (meta, seen.replayed_reads) {
            (Some(meta), _) => meta.cache_counts(),
            (None, Some(reads)) => (reads, 0, 0),
            (None, None) => (0, 0, 0),
        };
        let source = match (meta, seen.replayed_reads) {
            (Some(meta), _) => meta.source(),
            (None, Some(_)) => "cache",
            (None, None) => "none",
        };
        ledger.record_operation(gatehouse_core::metering::OperationRecord {
            occurred_at,
            request_id: headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(ToOwned::to_owned),
            app_key_id: seen.app_key_id,
            user_id: seen.user_id,
            project_id: seen.project_id.filter(|_| seen.authenticated),
            operation: seen.operation.filter(|_| seen.authenticated),
            kind: seen.kind.unwrap_or("unknown"),
            source,
            cache_hits: hits,
            cache_stale: stale,
            cache_misses: misses,
            upstream_calls: meta.map_or(0, RequestMeta::upstream_calls),
            estimated_cost: meta.and_then(RequestMeta::estimated_score),
            duration: started.elapsed(),
            outcome: seen.outcome.unwrap_or("ok"),
            error_code: seen.error_code,
        });
    }
    response
}

async fn run(
    state: &AppState,
    caller: Resolved,
    headers: &HeaderMap,
    method: Method,
    media: Media,
    incoming: Incoming,
    seen: &mut Seen,
) -> Response {
    let started = Instant::now();
    let services = &state.services;
    let limits = &services.config.graphql;

    // Who is calling, and whether they may, before a byte of a body is read.
    let principal = match caller.0 {
        Ok(principal) => principal,
        Err(error) => return seen.refuse(media, error),
    };
    seen.app_key_id = principal.app_key().map(|k| k.id);
    seen.user_id = principal.user().map(|u| u.id);
    seen.authenticated = !matches!(principal, Principal::Anonymous);
    if let Some(refusal) = rate_limited(services, &principal, media, seen) {
        return refusal;
    }
    let mut request = match incoming.read(&principal, &services.config.http).await {
        Ok(request) => request,
        Err(error) => return seen.refuse(media, error),
    };
    // The cheap limits first: nothing below may grow with a text longer than this.
    if request.query.len() > limits.max_query_bytes {
        return seen.refuse(
            media,
            ApiError::new(
                ErrorCode::QueryTooLarge,
                format!(
                    "the query is {} bytes; at most {} are allowed",
                    request.query.len(),
                    limits.max_query_bytes
                ),
            ),
        );
    }
    // A warm read-only query this key has asked before is answered from the response cache,
    // without parsing, planning or executing it again.
    let response_key = principal.app_key().map(|key| {
        let variables = serde_json::to_string(&request.variables).unwrap_or_default();
        let extensions = request
            .extensions
            .get("gatehouse")
            .map(ToString::to_string)
            .unwrap_or_default();
        ResponseCache::key(
            key.id,
            request.operation_name.as_deref(),
            &request.query,
            &variables,
            &extensions,
        )
    });
    if let Some(key) = &response_key
        && let Some(stored) = services.facade.responses().get(key)
    {
        seen.operation = stored.operation.clone();
        seen.kind = Some("query");
        seen.project_id = stored.project().map(ToOwned::to_owned);
        seen.replayed_reads = Some(stored.reads);
        let label = super::metrics::operation_label(stored.operation.as_deref());
        tracing::Span::current().record("graphql.operation", label.as_str());
        record_graphql(&label, "query", "ok", started.elapsed());
        let extension = serde_json::json!({
            "source": "cache",
            "cache": { "hits": stored.reads, "stale": 0, "misses": 0 },
            "upstreamCalls": 0,
            "dataAgeSeconds": (chrono::Utc::now() - stored.oldest).num_seconds().max(0),
            "stale": false,
            "estimatedCost": stored.estimated_cost,
        });
        let body = format!(
            "{{\"data\":{},\"extensions\":{{\"gatehouse\":{extension}}}}}",
            stored.data.get()
        );
        return (
            StatusCode::OK,
            [(CONTENT_TYPE, HeaderValue::from_static(media.content_type()))],
            body,
        )
            .into_response();
    }
    if let Err(error) = crate::graphql::analysis::check_nesting(&request.query) {
        return seen.refuse(media, error);
    }
    let operation_name = request.operation_name.clone();
    let variables = request.variables.clone();
    let (info, plan) = match request.parsed_query() {
        Ok(document) => match analyse(document, operation_name.as_deref(), limits) {
            Ok(info) => match plan(
                document,
                operation_name.as_deref(),
                &variables,
                limits.max_fields,
            )
            .and_then(|plan| plan.checked_projects())
            {
                Ok(plan) => (info, plan),
                Err(error) => return seen.refuse(media, error),
            },
            Err(error) => return seen.refuse(media, error),
        },
        Err(error) => {
            return seen.refuse(
                media,
                ApiError::new(ErrorCode::GraphqlParseFailed, error.message),
            );
        }
    };
    seen.operation = info.name.clone();
    seen.kind = Some(info.kind.as_str());
    seen.project_id = plan.touches.iter().find_map(|t| t.project.clone());
    // Operation names become metric labels only for callers with credentials: the label set is
    // capped, and anonymous callers must not be able to fill it.
    let label = if seen.authenticated {
        super::metrics::operation_label(info.name.as_deref())
    } else {
        "unauthenticated".to_owned()
    };
    tracing::Span::current().record("graphql.operation", label.as_str());
    if let Err(error) =
        crate::graphql::introspection::govern(&mut request, limits.introspection, &principal)
    {
        return seen.refuse(media, error);
    }

    match info.kind {
        OperationKind::Mutation if method == Method::GET => {
            let mut response = seen.refuse(
                media,
                ApiError::new(
                    ErrorCode::MethodNotAllowed,
                    "mutations are only accepted over POST",
                ),
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        OperationKind::Subscription => {
            return seen.refuse(
                media,
                ApiError::new(ErrorCode::BadRequest, "subscriptions are not served"),
            );
        }
        OperationKind::Mutation => {
            if let Principal::User { csrf_token, .. } = &principal {
                let presented = headers
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if !gatehouse_core::auth::secrets::constant_time_eq(presented, csrf_token) {
                    return seen.refuse(
                        media,
                        ApiError::new(
                            ErrorCode::CsrfFailed,
                            "mutations with a session cookie need the x-csrf-token header",
                        ),
                    );
                }
            }
        }
        OperationKind::Query => {}
    }

    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let accept_stale = request
        .extensions
        .get("gatehouse")
        .and_then(|g| match g {
            Value::Object(map) => map.get("acceptStaleSeconds").cloned(),
            _ => None,
        })
        .and_then(|v| match v {
            Value::Number(n) => n.as_u64(),
            _ => None,
        });
    let workflow = match principal.app_key() {
        Some(key) => services.metering.workflow_for(&services.db, key.id).await,
        None => None,
    };
    let meta = Arc::new(RequestMeta::new(CallTag {
        app_key_id: principal.app_key().map(|k| k.id),
        user_id: principal.user().map(|u| u.id),
        operation: info.name.clone(),
        workflow,
        request_id: Some(request_id.clone()),
        meter: None,
    }));
    seen.meta = Some(meta.clone());
    if plan.is_perform() {
        match prepare(services, &principal, &plan, accept_stale) {
            Ok(estimate) => meta.set_estimate(estimate),
            Err(error) => {
                record_graphql(
                    &label,
                    info.kind.as_str(),
                    error.code.as_str(),
                    started.elapsed(),
                );
                return seen.refuse(media, error);
            }
        }
    }
    let touched: Projects = plan.touches.iter().map(|t| t.project.clone()).collect();
    let epochs = services.facade.responses().epochs(&touched);
    let request = request
        .data(RequestContext {
            principal,
            request_id,
        })
        .data(PerformRequest::new(services.facade.clone(), meta.clone()));
    let mut response = state.schema.execute(request).await;
    if let Some(key) = response_key
        && plan.is_perform()
        && info.kind == OperationKind::Query
        && response.errors.is_empty()
        && meta.all_fresh()
        && let Some(oldest) = meta.oldest()
        && let Ok(data) = serde_json::value::to_raw_value(&response.data)
    {
        let cache = &services.config.cache;
        let ttl = plan
            .touches
            .iter()
            .map(|t| cache.ttl(t.entity))
            .min()
            .unwrap_or_default();
        let age = (chrono::Utc::now() - oldest).to_std().unwrap_or_default();
        services.facade.responses().put(
            key,
            &epochs,
            Answer {
                projects: touched,
                data: Arc::from(data),
                oldest,
                reads: meta.reads(),
                estimated_cost: meta.estimate_json(),
                operation: info.name.clone(),
                lifetime: ttl.saturating_sub(age),
            },
        );
    }
    if let Ok(extension) = Value::from_json(meta.extension()) {
        response
            .extensions
            .insert("gatehouse".to_owned(), extension);
    }

    // Errors raised before execution (validation) have no path and leave no data.
    let request_failed = response.data == Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    for error in &mut response.errors {
        ensure_code(error, request_failed);
    }
    let outcome = response
        .errors
        .first()
        .and_then(|e| e.extensions.as_ref())
        .and_then(|x| x.get("code"))
        .map_or_else(
            || "ok".to_owned(),
            |code| code.to_string().trim_matches('"').to_owned(),
        );
    record_graphql(&label, info.kind.as_str(), &outcome, started.elapsed());
    if outcome != "ok" {
        seen.outcome = Some(if request_failed { "refused" } else { "error" });
        seen.error_code = Some(outcome.clone());
    }

    let status = if request_failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    match serde_json::to_vec(&response) {
        Ok(body) => (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static(media.content_type()))],
            body,
        )
            .into_response(),
        Err(error) => seen.refuse(media, ApiError::internal("graphql response", &error)),
    }
}

/// The per-key rate limit, checked before anything else is done for the request.
fn rate_limited(
    services: &crate::services::Services,
    principal: &crate::principal::Principal,
    media: Media,
    seen: &mut Seen,
) -> Option<Response> {
    let key = principal.app_key()?;
    let wait = services
        .key_limits
        .check(key.id, key.rate_per_minute)
        .err()?;
    let seconds = wait.as_secs().max(1);
    let mut response = seen.refuse(
        media,
        ApiError::new(
            ErrorCode::RateLimited,
            format!("this app key is over its rate; retry in {seconds} s"),
        )
        .with_details(serde_json::json!({ "retryAfterSeconds": seconds })),
    );
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    Some(response)
}

/// Gives every error a stable code: validation failures, input coercion failures, and anything
/// else a resolver returned without one.
fn ensure_code(error: &mut ServerError, request_failed: bool) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_some() {
        return;
    }
    let code = if request_failed {
        ErrorCode::GraphqlValidationFailed
    } else if error.message.starts_with("Failed to parse")
        || error.message.starts_with("Invalid value")
    {
        ErrorCode::BadUserInput
    } else {
        ErrorCode::Internal
    };
    extensions.set("code", code.as_str());
}

/// A response for a request that failed as a whole, before execution.
fn request_error(media: Media, error: ApiError) -> Response {
    let status = crate::error::status(error.code);
    let mut response = (
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(media.content_type()))],
        error.to_graphql_body().to_string(),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}
