//! The reqwest implementation of [`Upstream`]: auth from the token source, a fair per-token rate
//! limiter (the declared load budget), timeouts, retries with backoff for idempotent calls that
//! honour `Retry-After`, and a report of every attempt to the observer.
//!
//! The upstream is trusted with data, not with Gatehouse's memory or its clients' screens: an
//! answer's body is read as a stream and the call fails as soon as it passes
//! `upstream.max_response_bytes`, and an error answer's own text is logged here, once per
//! attempt, never passed on in the typed error.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::{Bytes, BytesMut};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::Value;

use super::error::UpstreamError;
use super::observer::{CallEvent, CallObserver, CallTag};
use super::profile::UpstreamProfile;
use super::tokens::{BoxFuture, TokenSource};
use crate::auth::secrets::sha256_hex;

/// A request body.
#[derive(Debug)]
pub(crate) enum CallBody {
    /// No body.
    Empty,
    /// A JSON body.
    Json(Value),
    /// A streamed file (uploads): sent once, never retried, never buffered whole.
    Stream {
        /// The bytes.
        body: reqwest::Body,
        /// Its media type.
        content_type: String,
        /// Its file name.
        file_name: String,
        /// Its length, when known.
        length: Option<u64>,
    },
}

/// One call to the upstream.
#[derive(Debug)]
pub(crate) struct Call {
    /// HTTP method.
    pub(crate) method: Method,
    /// The endpoint template (prefix included), e.g. `/api/v1/projects/{project_id}/activities`.
    pub(crate) endpoint: String,
    /// The concrete path after the prefix, e.g. `/projects/3f…/activities`.
    pub(crate) path: String,
    /// Query parameters.
    pub(crate) query: Vec<(String, String)>,
    /// The project whose token is used.
    pub(crate) project_id: String,
    /// The body.
    pub(crate) body: CallBody,
    /// Extra headers (e.g. `Idempotency-Key`).
    pub(crate) headers: Vec<(&'static str, String)>,
    /// Who and what the call serves.
    pub(crate) tag: CallTag,
}

/// A successful (2xx or 304) answer.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// Headers.
    pub(crate) headers: HeaderMap,
    /// The whole body.
    pub(crate) body: Bytes,
}

/// What Gatehouse asks of the upstream: one call, answered or failed with a typed error.
pub(crate) trait Upstream: Send + Sync + std::fmt::Debug {
    /// Makes the call (with the transport's retries, pacing and timeouts).
    fn call(&self, call: Call) -> BoxFuture<'_, Result<Reply, UpstreamError>>;
}

/// The reqwest transport.
#[derive(Debug)]
pub(crate) struct HttpUpstream {
    client: reqwest::Client,
    profile: Arc<UpstreamProfile>,
    tokens: Arc<dyn TokenSource>,
    observer: Arc<dyn CallObserver>,
    limiter: DefaultKeyedRateLimiter<String>,
    /// One FIFO queue per token, so that waiting callers are served in order.
    queues: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl HttpUpstream {
    /// A transport for `profile`, taking tokens from `tokens` and reporting to `observer`.
    pub(crate) fn new(
        profile: Arc<UpstreamProfile>,
        tokens: Arc<dyn TokenSource>,
        observer: Arc<dyn CallObserver>,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(profile.connect_timeout_ms))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let per_minute = NonZeroU32::new(profile.calls_per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(profile.burst).unwrap_or(NonZeroU32::MIN);
        Ok(Self {
            client,
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            queues: Mutex::new(HashMap::new()),
            profile,
            tokens,
            observer,
        })
    }

    /// Waits for this token's turn under the budget, first come first served.
    async fn pace(&self, fingerprint: &str) {
        let queue = {
            let mut queues = self
                .queues
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            queues
                .entry(fingerprint.to_owned())
                .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(())))
                .clone()
        };
        let _turn = queue.lock().await;
        self.limiter.until_key_ready(&fingerprint.to_owned()).await;
    }

    fn url(&self, call: &Call) -> Result<reqwest::Url, UpstreamError> {
        let mut url = self.profile.base_url.clone();
        let base_path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!(
            "{base_path}{}{}",
            self.profile.api_prefix.trim_end_matches('/'),
            call.path
        ));
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter());
        }
        Ok(url)
    }

    async fn run(&self, mut call: Call) -> Result<Reply, UpstreamError> {
        let token = self
            .tokens
            .token_for(&call.project_id)
            .await
            .ok_or_else(|| UpstreamError::NoToken {
                project_id: call.project_id.clone(),
            })?;
        let fingerprint = sha256_hex(token.expose_secret())[..12].to_owned();
        let url = self.url(&call)?;
        let list = (call.method == Method::GET)
            .then(|| super::observer::ListShape::of(&call.query, &self.profile.pagination_names))
            .flatten();
        let retry = &self.profile.retry;
        let idempotent = call.method == Method::GET || call.method == Method::HEAD;
        let started = Instant::now();
        let deadline = started + Duration::from_millis(retry.max_total_ms);
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(retry.initial_backoff_ms))
            .with_max_delay(Duration::from_millis(retry.max_backoff_ms))
            .with_max_times(retry.max_retries as usize)
            .with_jitter()
            .build();
        let auth_name = HeaderName::from_bytes(self.profile.auth.header.as_bytes())
            .map_err(|_| UpstreamError::malformed("invalid auth header name in profile"))?;
        let mut auth_value = HeaderValue::from_str(&format!(
            "{}{}",
            self.profile.auth.prefix,
            token.expose_secret()
        ))
        .map_err(|_| UpstreamError::Unauthorized)?;
        auth_value.set_sensitive(true);

        let mut attempt = 0u32;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(UpstreamError::Timeout(started.elapsed()));
            }
            // Waiting for the budget counts against the call's total time, and a caller that
            // gives up (drops the future) leaves the queue.
            if tokio::time::timeout(remaining, self.pace(&fingerprint))
                .await
                .is_err()
            {
                return Err(UpstreamError::Timeout(started.elapsed()));
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let per_attempt = remaining.min(Duration::from_millis(self.profile.request_timeout_ms));

            let mut request = self
                .client
                .request(call.method.clone(), url.clone())
                .timeout(per_attempt)
                .header(auth_name.clone(), auth_value.clone())
                .header(reqwest::header::ACCEPT, "application/json");
            for (name, value) in &call.headers {
                request = request.header(*name, value);
            }
            let mut bytes_sent = 0u64;
            match std::mem::replace(&mut call.body, CallBody::Empty) {
                CallBody::Empty => {}
                CallBody::Json(value) => {
                    let body = serde_json::to_vec(&value).map_err(|e| {
                        UpstreamError::Malformed(format!("cannot encode body: {e}"))
                    })?;
                    bytes_sent = body.len() as u64;
                    request = request
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.clone());
                    // Keep the JSON for a retry.
                    call.body = CallBody::Json(value);
                }
                CallBody::Stream {
                    body,
                    content_type,
                    file_name,
                    length,
                } => {
                    bytes_sent = length.unwrap_or(0);
                    request = request
                        .header(reqwest::header::CONTENT_TYPE, content_type)
                        .header("X-File-Name", file_name)
                        .body(body);
                    if let Some(length) = length {
                        request = request.header(reqwest::header::CONTENT_LENGTH, length);
                    }
                }
            }

            if let Some(meter) = &call.tag.meter {
                meter.count();
            }
            let sent_at = Instant::now();
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let (body, received) =
                        read_capped(response, self.profile.max_response_bytes, per_attempt).await;
                    Ok((status, headers, body, received))
                }
                Err(e) => Err(transport_error(&e, per_attempt)),
            };
            let latency = sent_at.elapsed();
            let observe = |status: Option<StatusCode>, error: Option<&'static str>, received| {
                self.observer.observe(&CallEvent {
                    project_id: call.project_id.clone(),
                    token_fingerprint: fingerprint.clone(),
                    endpoint: call.endpoint.clone(),
                    method: call.method.to_string(),
                    status: status.map(|s| s.as_u16()),
                    error,
                    latency,
                    bytes_sent,
                    bytes_received: received,
                    attempt,
                    tag: call.tag.clone(),
                    list: list.clone(),
                });
            };

            let (error, retry_after, said) = match outcome {
                Ok((status, headers, Ok(body), received)) => {
                    observe(Some(status), None, received);
                    if status.is_success() || status == StatusCode::NOT_MODIFIED {
                        return Ok(Reply { headers, body });
                    }
                    let retry_after = parse_retry_after(&headers);
                    let said = upstream_said(&body, token.expose_secret());
                    (classify(status, &body, retry_after), retry_after, said)
                }
                // No usable answer arrived (cut off, or past the cap): the ledger counts it as
                // an error with the bytes that were read.
                Ok((_, _, Err(error), received)) => {
                    observe(None, Some(error.kind()), received);
                    (error, None, None)
                }
                Err(error) => {
                    observe(None, Some(error.kind()), 0);
                    (error, None, None)
                }
            };
            let retryable = idempotent
                && matches!(
                    error,
                    UpstreamError::RateLimited { .. }
                        | UpstreamError::Unavailable { .. }
                        | UpstreamError::Timeout(_)
                );
            let delay = backoff
                .next()
                .filter(|_| retryable)
                .map(|delay| retry_after.map_or(delay, |hint| hint.max(delay)))
                .filter(|delay| Instant::now() + *delay < deadline);
            let Some(delay) = delay else {
                report_failure(&call, &error, said.as_deref(), attempt);
                return Err(error);
            };
            tracing::debug!(
                upstream.endpoint = %call.endpoint,
                upstream.error = error.kind(),
                upstream.said = said.as_deref(),
                retry.attempt = attempt + 1,
                retry.delay_ms = delay.as_millis() as u64,
                "retrying upstream call"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

impl Upstream for HttpUpstream {
    fn call(&self, call: Call) -> BoxFuture<'_, Result<Reply, UpstreamError>> {
        Box::pin(self.run(call))
    }
}

/// Reads an answer's body as a stream, stopping as soon as it passes `limit` bytes (the rest is
/// never read: dropping the response closes the connection). Returns the body or why there is
/// none, and the bytes received either way.
async fn read_capped(
    mut response: reqwest::Response,
    limit: u64,
    timeout: Duration,
) -> (Result<Bytes, UpstreamError>, u64) {
    let declared = response.content_length();
    if declared.is_some_and(|length| length > limit) {
        return (Err(UpstreamError::TooLarge { limit }), 0);
    }
    // A declared length within the cap sizes the buffer once; it is only a hint.
    let capacity = declared.unwrap_or(0).min(limit);
    let mut body = BytesMut::with_capacity(usize::try_from(capacity).unwrap_or(0));
    let mut received = 0u64;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                received = received.saturating_add(chunk.len() as u64);
                if received > limit {
                    return (Err(UpstreamError::TooLarge { limit }), received);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return (Ok(body.freeze()), received),
            Err(e) => return (Err(transport_error(&e, timeout)), received),
        }
    }
}

/// Logs a call's final failure once, with what the upstream said (if it answered): a refusal of
/// the caller's input at debug, anything an operator should look at at warn.
fn report_failure(call: &Call, error: &UpstreamError, said: Option<&str>, attempt: u32) {
    if matches!(
        error,
        UpstreamError::NotFound | UpstreamError::Validation { .. } | UpstreamError::Conflict { .. }
    ) {
        tracing::debug!(
            upstream.endpoint = %call.endpoint,
            upstream.method = %call.method,
            upstream.error = error.kind(),
            upstream.said = said,
            retry.attempt = attempt,
            "SYNCHRO Perform refused the call"
        );
    } else {
        tracing::warn!(
            upstream.endpoint = %call.endpoint,
            upstream.method = %call.method,
            upstream.error = error.kind(),
            upstream.said = said,
            retry.attempt = attempt,
            error.message = %error,
            "an upstream call failed"
        );
    }
}

/// The most characters of an upstream error answer kept for the log.
const SAID_MAX_CHARS: usize = 300;

/// What an error answer says, for the log only: `code: message` when the body has the
/// `{"error": {"code", "message"}}` shape, else the start of the body as text. The token is
/// replaced by `[token]` wherever the answer echoes it, control characters become spaces (one
/// answer, one log line) and the text is cut at [`SAID_MAX_CHARS`]. `None` for an empty body.
pub(crate) fn upstream_said(body: &[u8], token: &str) -> Option<String> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let text = match error.and_then(|e| e.get("message")).and_then(Value::as_str) {
        Some(message) => {
            let code = error
                .and_then(|e| e.get("code"))
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            format!("{code}: {message}")
        }
        // Only the start is kept, so only the start (and a token's length more) is decoded.
        None => String::from_utf8_lossy(&body[..body.len().min(4 * SAID_MAX_CHARS + token.len())])
            .into_owned(),
    };
    let text = if token.is_empty() {
        text
    } else {
        text.replace(token, "[token]")
    };
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(SAID_MAX_CHARS)
        .collect();
    let out_trimmed = out.trim_end().len();
    out.truncate(out_trimmed);
    if text.chars().count() > SAID_MAX_CHARS {
        out.push('…');
    }
    (!out.is_empty()).then_some(out)
}

fn transport_error(error: &reqwest::Error, timeout: Duration) -> UpstreamError {
    if error.is_timeout() {
        UpstreamError::Timeout(timeout)
    } else if error.is_decode() || error.is_body() {
        UpstreamError::Unavailable {
            status: None,
            reason: "the response body was cut off".into(),
        }
    } else {
        UpstreamError::Unavailable {
            status: None,
            reason: if error.is_connect() {
                "cannot connect".into()
            } else {
                "the connection failed".into()
            },
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds.min(3600)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(
        delta
            .to_std()
            .unwrap_or_default()
            .min(Duration::from_secs(3600)),
    )
}

/// Maps an error status and body to a typed error. Only the upstream's machine code and the
/// names of the fields it refuses are kept, and only when they are plain names
/// ([`super::error::is_plain_name`]); its messages and details are for the log ([`upstream_said`]).
pub(crate) fn classify(
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> UpstreamError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .filter(|code| super::error::is_plain_name(code))
        .unwrap_or("unknown")
        .to_owned();
    let fields = error
        .and_then(|e| e.get("details"))
        .map(super::error::refused_fields)
        .unwrap_or_default();
    match status.as_u16() {
        401 => UpstreamError::Unauthorized,
        403 => UpstreamError::Forbidden,
        404 => UpstreamError::NotFound,
        409 => UpstreamError::Conflict { code },
        429 => UpstreamError::RateLimited { retry_after },
        400 | 413 | 422 => UpstreamError::Validation {
            status: status.as_u16(),
            code,
            fields,
        },
        s if s >= 500 => UpstreamError::Unavailable {
            status: Some(s),
            reason: format!("it answered HTTP {s}"),
        },
        s => UpstreamError::Malformed(format!("unexpected status {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_typed_errors_whatever_the_body() {
        let body = br#"{"error": {"code": "duplicate_reference_code", "message": "taken", "details": {"field": "reference_code"}}}"#;
        assert!(
            matches!(classify(StatusCode::CONFLICT, body, None), UpstreamError::Conflict { code } if code == "duplicate_reference_code")
        );
        assert!(matches!(
            classify(StatusCode::UNPROCESSABLE_ENTITY, b"not json", None),
            UpstreamError::Validation { status: 422, .. }
        ));
        assert!(matches!(
            classify(StatusCode::SERVICE_UNAVAILABLE, b"", None),
            UpstreamError::Unavailable {
                status: Some(503),
                ..
            }
        ));
        assert!(
            matches!(classify(StatusCode::TOO_MANY_REQUESTS, b"{", Some(Duration::from_secs(2))), UpstreamError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(2))
        );
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, b"\xff\xfe", None),
            UpstreamError::Unauthorized
        ));
    }

    #[test]
    fn an_error_answer_keeps_only_plain_names_of_the_upstreams_words() {
        let body = br#"{"error": {"code": "LEAK 4f1d: see db-07", "message": "LEAK 4f1d", "details": {"fields": {"percent_complete": "LEAK 4f1d"}}}}"#;
        let error = classify(StatusCode::UNPROCESSABLE_ENTITY, body, None);
        let UpstreamError::Validation { code, fields, .. } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(code, "unknown");
        assert_eq!(fields, &["percent_complete"]);
        assert!(!format!("{error} {error:?}").contains("LEAK"), "{error:?}");
        let error = classify(StatusCode::BAD_GATEWAY, b"<html>LEAK 4f1d</html>", None);
        assert!(!format!("{error} {error:?}").contains("LEAK"), "{error:?}");
    }

    #[test]
    fn what_the_upstream_said_is_logged_bounded_on_one_line_and_without_the_token() {
        let token = "sp-token-9f8e7d6c";
        let body = format!(
            r#"{{"error": {{"code": "unauthorized", "message": "token {token} expired\nat line 2"}}}}"#
        );
        let text = upstream_said(body.as_bytes(), token).expect("said");
        assert_eq!(text, "unauthorized: token [token] expired at line 2");
        let long = format!("{token} {}", "x".repeat(10_000));
        let text = upstream_said(long.as_bytes(), token).expect("said");
        assert!(!text.contains(token), "{text}");
        assert!(text.starts_with("[token] xxx"), "{text}");
        assert_eq!(
            text.chars().count(),
            SAID_MAX_CHARS + 1,
            "cut, with an ellipsis"
        );
        assert_eq!(upstream_said(b"", token), None);
    }

    #[tokio::test]
    async fn an_answer_past_the_cap_fails_unread_and_unretried_and_is_observed() {
        use axum::routing::get;
        #[derive(Debug, Default)]
        struct Seen(Mutex<Vec<CallEvent>>);
        impl CallObserver for Seen {
            fn observe(&self, event: &CallEvent) {
                self.0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(event.clone());
            }
        }
        let served = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counter = served.clone();
        // A declared length past the cap: refused before a byte of the body is read.
        let router = axum::Router::new().route(
            "/api/v1/big",
            get(move || {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                async { vec![b' '; 4096] }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        let profile = UpstreamProfile {
            base_url: format!("http://{address}").parse().expect("url"),
            max_response_bytes: 1024,
            ..UpstreamProfile::default()
        };
        let tokens = super::super::tokens::ConfigTokens::new(std::collections::BTreeMap::from([(
            "p".to_owned(),
            secrecy::SecretString::from("token"),
        )]));
        let seen = Arc::new(Seen::default());
        let upstream =
            HttpUpstream::new(Arc::new(profile), Arc::new(tokens), seen.clone()).expect("client");
        let error = upstream
            .call(Call {
                method: Method::GET,
                endpoint: "/api/v1/big".into(),
                path: "/big".into(),
                query: Vec::new(),
                project_id: "p".into(),
                body: CallBody::Empty,
                headers: Vec::new(),
                tag: CallTag::default(),
            })
            .await
            .expect_err("too large");
        assert!(
            matches!(error, UpstreamError::TooLarge { limit: 1024 }),
            "{error:?}"
        );
        assert_eq!(
            served.load(std::sync::atomic::Ordering::Relaxed),
            1,
            "not retried"
        );
        let events = seen
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        assert_eq!(events.len(), 1);
        assert_eq!(
            (events[0].status, events[0].error, events[0].bytes_received),
            (None, Some("too_large"), 0)
        );
        server.abort();
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(parse_retry_after(&headers), None);
    }
}
