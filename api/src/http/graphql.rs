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
use gatehouse_core::facade::responses::{Answer, Epochs, Projects, ResponseCache, StoredResponse};
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
    fn caller(&mut self, principal: &Principal) {
        self.app_key_id = principal.app_key().map(|k| k.id);
        self.user_id = principal.user().map(|u| u.id);
        self.authenticated = !matches!(principal, Principal::Anonymous);
    }

    fn replayed(&mut self, stored: &StoredResponse) {
        self.operation = stored.operation.clone();
        self.kind = Some("query");
        self.project_id = stored.project().map(ToOwned::to_owned);
        self.replayed_reads = Some(stored.reads);
    }

    fn operation(&mut self, operation: &Operation) {
        self.operation = operation.info.name.clone();
        self.kind = Some(operation.info.kind.as_str());
        self.project_id = operation
            .plan
            .touches
            .iter()
            .find_map(|t| t.project.clone());
    }

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
    let occurred_at = state.services.clock.now();
    let mut seen = Seen::default();
    let response = match run(state, caller, headers, method, media, incoming, &mut seen).await {
        Ok(response) => response,
        Err(refusal) => seen.refuse(media, refusal),
    };
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
            request_id: request_id(headers).map(ToOwned::to_owned),
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

/// One operation, stage by stage (ARCHITECTURE.md, "A live query"). Each stage takes what the
/// one before produced and either hands on its own output or refuses; a refusal is answered by
/// [`execute`] as a request error. `seen` is what the usage ledger learns on the way.
async fn run(
    state: &AppState,
    caller: Resolved,
    headers: &HeaderMap,
    method: Method,
    media: Media,
    incoming: Incoming,
    seen: &mut Seen,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let services = &state.services;
    let limits = &services.config.graphql;

    let principal = caller.0?; // credentials, before a byte of a body is read
    seen.caller(&principal);
    admit(services, &principal)?; // the app key's own rate
    let mut request = incoming.read(&principal, &services.config.http).await?;
    within_query_bytes(&request, limits)?; // nothing below may grow with a longer text
    let replay_key = replay_key(&principal, &request);
    if let Some(stored) = replay_key
        .as_ref()
        .and_then(|k| services.facade.responses().get(k))
    {
        seen.replayed(&stored);
        return Ok(replay(&stored, media, started, services.clock.now()));
    }
    let operation = Operation::analyse(&mut request, limits, seen.authenticated)?;
    seen.operation(&operation);
    crate::graphql::introspection::govern(&mut request, limits.introspection, &principal)?;
    operation.allowed(method, headers, &principal)?; // GET and mutations, subscriptions, CSRF
    let meta = meter(services, &principal, &operation, headers).await;
    seen.meta = Some(meta.clone());
    operation
        .price(services, &principal, &meta, accept_stale(&request))
        .inspect_err(|error| {
            let (kind, code) = (operation.info.kind.as_str(), error.code.as_str());
            record_graphql(&operation.label, kind, code, started.elapsed());
        })?; // scopes, cost, route
    let epochs = services.facade.responses().epochs(&operation.projects());
    let request = request
        .data(RequestContext {
            principal,
            request_id: request_id(headers).unwrap_or_default().to_owned(),
        })
        .data(PerformRequest::new(services.facade.clone(), meta.clone()));
    let response = state.schema.execute(request).await;
    if let Some(key) = replay_key {
        keep_for_replay(services, key, &epochs, &operation, &meta, &response);
    }
    answer(
        response,
        &operation,
        &meta,
        media,
        started,
        services.clock.now(),
        seen,
    )
}

/// The request id the request-id layer set.
fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-request-id").and_then(|v| v.to_str().ok())
}

/// The per-key rate limit, checked before anything else is done for the request.
fn admit(services: &crate::services::Services, principal: &Principal) -> Result<(), ApiError> {
    let Some(key) = principal.app_key() else {
        return Ok(());
    };
    let Err(wait) = services.key_limits.check(key.id, key.rate_per_minute) else {
        return Ok(());
    };
    let seconds = wait.as_secs().max(1);
    Err(ApiError::new(
        ErrorCode::RateLimited,
        format!("this app key is over its rate; retry in {seconds} s"),
    )
    .with_details(serde_json::json!({ "retryAfterSeconds": seconds })))
}

/// The cheapest limit, on the query's length.
fn within_query_bytes(
    request: &async_graphql::Request,
    limits: &crate::config::GraphqlConfig,
) -> Result<(), ApiError> {
    if request.query.len() <= limits.max_query_bytes {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::QueryTooLarge,
        format!(
            "the query is {} bytes; at most {} are allowed",
            request.query.len(),
            limits.max_query_bytes
        ),
    ))
}

/// The response cache's key for an app key's request: everything that shapes the answer.
fn replay_key(principal: &Principal, request: &async_graphql::Request) -> Option<String> {
    let key = principal.app_key()?;
    let variables = serde_json::to_string(&request.variables).unwrap_or_default();
    let extensions = request
        .extensions
        .get("gatehouse")
        .map(ToString::to_string)
        .unwrap_or_default();
    Some(ResponseCache::key(
        key.id,
        request.operation_name.as_deref(),
        &request.query,
        &variables,
        &extensions,
    ))
}

/// A warm read-only query this key has asked before, answered from the response cache without
/// parsing, planning or executing it again.
fn replay(
    stored: &StoredResponse,
    media: Media,
    started: Instant,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    let label = super::metrics::operation_label(stored.operation.as_deref());
    tracing::Span::current().record("graphql.operation", label.as_str());
    record_graphql(&label, "query", "ok", started.elapsed());
    let extension = serde_json::json!({
        "source": "cache",
        "cache": { "hits": stored.reads, "stale": 0, "misses": 0 },
        "upstreamCalls": 0,
        "dataAgeSeconds": (now - stored.oldest).num_seconds().max(0),
        "stale": false,
        "estimatedCost": stored.estimated_cost,
    });
    let body = format!(
        "{{\"data\":{},\"extensions\":{{\"gatehouse\":{extension}}}}}",
        stored.data.get()
    );
    (
        StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static(media.content_type()))],
        body,
    )
        .into_response()
}

/// One operation, parsed and weighed: what it is, what it touches, and its metric label.
struct Operation {
    info: crate::graphql::analysis::OperationInfo,
    plan: crate::graphql::perform::plan::Plan,
    /// The operation's name as a metric label; `unauthenticated` for callers without
    /// credentials, who must not be able to fill the capped label set.
    label: String,
}

impl Operation {
    /// Nesting (on the text), parse, the limits (depth, aliases, fields), the plan (entities and
    /// projects touched, project ids of SYNCHRO Perform's shape).
    fn analyse(
        request: &mut async_graphql::Request,
        limits: &crate::config::GraphqlConfig,
        authenticated: bool,
    ) -> Result<Self, ApiError> {
        crate::graphql::analysis::check_nesting(&request.query)?;
        let name = request.operation_name.clone();
        let variables = request.variables.clone();
        let document = request
            .parsed_query()
            .map_err(|error| ApiError::new(ErrorCode::GraphqlParseFailed, error.message))?;
        let info = analyse(document, name.as_deref(), limits)?;
        let plan =
            plan(document, name.as_deref(), &variables, limits.max_fields)?.checked_projects()?;
        let label = if authenticated {
            super::metrics::operation_label(info.name.as_deref())
        } else {
            "unauthenticated".to_owned()
        };
        tracing::Span::current().record("graphql.operation", label.as_str());
        Ok(Self { info, plan, label })
    }

    /// The transport's rules: no mutation over GET, no subscriptions, and a session's
    /// mutations carry its CSRF token.
    fn allowed(
        &self,
        method: Method,
        headers: &HeaderMap,
        principal: &Principal,
    ) -> Result<(), ApiError> {
        match self.info.kind {
            OperationKind::Mutation if method == Method::GET => Err(ApiError::new(
                ErrorCode::MethodNotAllowed,
                "mutations are only accepted over POST",
            )),
            OperationKind::Subscription => Err(ApiError::new(
                ErrorCode::BadRequest,
                "subscriptions are not served",
            )),
            OperationKind::Mutation => match principal {
                Principal::User { csrf_token, .. } => {
                    let presented = headers
                        .get(CSRF_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    if gatehouse_core::auth::secrets::constant_time_eq(presented, csrf_token) {
                        Ok(())
                    } else {
                        Err(ApiError::new(
                            ErrorCode::CsrfFailed,
                            "mutations with a session cookie need the x-csrf-token header",
                        ))
                    }
                }
                _ => Ok(()),
            },
            OperationKind::Query => Ok(()),
        }
    }

    /// For an operation on SYNCHRO Perform's entities: the key's scopes on everything it
    /// touches, then its estimated cost against the key's budget and the routing rules.
    fn price(
        &self,
        services: &crate::services::Services,
        principal: &Principal,
        meta: &RequestMeta,
        accept_stale: Option<u64>,
    ) -> Result<(), ApiError> {
        if self.plan.is_perform() {
            meta.set_estimate(prepare(services, principal, &self.plan, accept_stale)?);
        }
        Ok(())
    }

    /// The projects it touches (`None` for every project the caller may see).
    fn projects(&self) -> Projects {
        self.plan
            .touches
            .iter()
            .map(|t| t.project.clone())
            .collect()
    }
}

/// The request's meter: what its upstream calls are tagged with, and where cache outcomes,
/// sources and the estimate are counted.
async fn meter(
    services: &crate::services::Services,
    principal: &Principal,
    operation: &Operation,
    headers: &HeaderMap,
) -> Arc<RequestMeta> {
    let workflow = match principal.app_key() {
        Some(key) => services.metering.workflow_for(&services.db, key.id).await,
        None => None,
    };
    Arc::new(RequestMeta::new(CallTag {
        app_key_id: principal.app_key().map(|k| k.id),
        user_id: principal.user().map(|u| u.id),
        operation: operation.info.name.clone(),
        workflow,
        request_id: Some(request_id(headers).unwrap_or_default().to_owned()),
        meter: None,
    }))
}

/// `extensions.gatehouse.acceptStaleSeconds`: how old a snapshot the client accepts.
fn accept_stale(request: &async_graphql::Request) -> Option<u64> {
    request
        .extensions
        .get("gatehouse")
        .and_then(|g| match g {
            Value::Object(map) => map.get("acceptStaleSeconds").cloned(),
            _ => None,
        })
        .and_then(|v| match v {
            Value::Number(n) => n.as_u64(),
            _ => None,
        })
}

/// Stores a successful answer of a read-only query on SYNCHRO Perform's entities whose every
/// read was fresh, for as long as the shortest-lived entity it read allows.
fn keep_for_replay(
    services: &crate::services::Services,
    key: String,
    epochs: &Epochs,
    operation: &Operation,
    meta: &RequestMeta,
    response: &async_graphql::Response,
) {
    if !(operation.plan.is_perform()
        && operation.info.kind == OperationKind::Query
        && response.errors.is_empty()
        && meta.all_fresh())
    {
        return;
    }
    let (Some(oldest), Ok(data)) = (
        meta.oldest(),
        serde_json::value::to_raw_value(&response.data),
    ) else {
        return;
    };
    let cache = &services.config.cache;
    let ttl = operation
        .plan
        .touches
        .iter()
        .map(|t| cache.ttl(t.entity))
        .min()
        .unwrap_or_default();
    let age = (services.clock.now() - oldest).to_std().unwrap_or_default();
    services.facade.responses().put(
        key,
        epochs,
        Answer {
            projects: operation.projects(),
            data: Arc::from(data),
            oldest,
            reads: meta.reads(),
            estimated_cost: meta.estimate_json(),
            operation: operation.info.name.clone(),
            lifetime: ttl.saturating_sub(age),
        },
    );
}

/// The executed operation's answer: `extensions.gatehouse`, a code on every error, the
/// metrics, and 400 when it failed before execution (validation), else 200.
fn answer(
    mut response: async_graphql::Response,
    operation: &Operation,
    meta: &RequestMeta,
    media: Media,
    started: Instant,
    now: chrono::DateTime<chrono::Utc>,
    seen: &mut Seen,
) -> Result<Response, ApiError> {
    if let Ok(extension) = Value::from_json(meta.extension(now)) {
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
    let kind = operation.info.kind.as_str();
    record_graphql(&operation.label, kind, &outcome, started.elapsed());
    if outcome != "ok" {
        seen.outcome = Some(if request_failed { "refused" } else { "error" });
        seen.error_code = Some(outcome);
    }
    let status = if request_failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = serde_json::to_vec(&response)
        .map_err(|error| ApiError::internal("graphql response", &error))?;
    Ok((
        status,
        [(CONTENT_TYPE, HeaderValue::from_static(media.content_type()))],
        body,
    )
        .into_response())
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
    let headers = response.headers_mut();
    match status {
        StatusCode::UNAUTHORIZED => {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            headers.insert(ALLOW, HeaderValue::from_static("POST"));
        }
        _ => {}
    }
    if let Some(seconds) = error
        .details
        .as_ref()
        .and_then(|d| d.get("retryAfterSeconds"))
        .and_then(serde_json::Value::as_u64)
    {
        headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
