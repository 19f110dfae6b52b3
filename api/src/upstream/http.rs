//! The reqwest implementation of [`Upstream`]: auth from the token source, a fair per-token rate
//! limiter (the declared load budget), timeouts, retries with backoff for idempotent calls that
//! honour `Retry-After`, and a report of every attempt to the observer.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::Bytes;
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
pub enum CallBody {
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
pub struct Call {
    /// HTTP method.
    pub method: Method,
    /// The endpoint template (prefix included), e.g. `/api/v1/projects/{project_id}/activities`.
    pub endpoint: String,
    /// The concrete path after the prefix, e.g. `/projects/3f…/activities`.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// The project whose token is used.
    pub project_id: String,
    /// The body.
    pub body: CallBody,
    /// Extra headers (e.g. `Idempotency-Key`).
    pub headers: Vec<(&'static str, String)>,
    /// Who and what the call serves.
    pub tag: CallTag,
}

/// A successful (2xx or 304) answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

/// What Gatehouse asks of the upstream: one call, answered or failed with a typed error.
pub trait Upstream: Send + Sync + std::fmt::Debug {
    /// Makes the call (with the transport's retries, pacing and timeouts).
    fn call(&self, call: Call) -> BoxFuture<'_, Result<Reply, UpstreamError>>;
}

/// The reqwest transport.
#[derive(Debug)]
pub struct HttpUpstream {
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
    pub fn new(
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
            .map_err(|_| UpstreamError::Malformed("invalid auth header name in profile".into()))?;
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
                    match response.bytes().await {
                        Ok(body) => Ok((status, headers, body)),
                        Err(e) => Err(transport_error(&e, per_attempt)),
                    }
                }
                Err(e) => Err(transport_error(&e, per_attempt)),
            };
            let latency = sent_at.elapsed();

            let (result, retry_after) = match outcome {
                Ok((status, headers, body)) => {
                    self.observer.observe(&CallEvent {
                        project_id: call.project_id.clone(),
                        token_fingerprint: fingerprint.clone(),
                        endpoint: call.endpoint.clone(),
                        method: call.method.to_string(),
                        status: Some(status.as_u16()),
                        error: None,
                        latency,
                        bytes_sent,
                        bytes_received: body.len() as u64,
                        attempt,
                        tag: call.tag.clone(),
                        list: list.clone(),
                    });
                    if status.is_success() || status == StatusCode::NOT_MODIFIED {
                        return Ok(Reply {
                            status,
                            headers,
                            body,
                        });
                    }
                    let retry_after = parse_retry_after(&headers);
                    (Err(classify(status, &body, retry_after)), retry_after)
                }
                Err(error) => {
                    self.observer.observe(&CallEvent {
                        project_id: call.project_id.clone(),
                        token_fingerprint: fingerprint.clone(),
                        endpoint: call.endpoint.clone(),
                        method: call.method.to_string(),
                        status: None,
                        error: Some(error.kind()),
                        latency,
                        bytes_sent,
                        bytes_received: 0,
                        attempt,
                        tag: call.tag.clone(),
                        list: list.clone(),
                    });
                    (Err(error), None)
                }
            };
            let error = match result {
                Ok(reply) => return Ok(reply),
                Err(error) => error,
            };
            let retryable = idempotent
                && matches!(
                    error,
                    UpstreamError::RateLimited { .. }
                        | UpstreamError::Unavailable { .. }
                        | UpstreamError::Timeout(_)
                );
            let Some(delay) = backoff.next().filter(|_| retryable) else {
                return Err(error);
            };
            let delay = retry_after.map_or(delay, |hint| hint.max(delay));
            if Instant::now() + delay >= deadline {
                return Err(error);
            }
            tracing::debug!(
                upstream.endpoint = %call.endpoint,
                upstream.error = error.kind(),
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
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
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

/// Maps an error status and body to a typed error.
pub fn classify(status: StatusCode, body: &[u8], retry_after: Option<Duration>) -> UpstreamError {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map_or_else(|| format!("HTTP {}", status.as_u16()), ToOwned::to_owned);
    let details = error
        .and_then(|e| e.get("details"))
        .cloned()
        .unwrap_or(Value::Null);
    match status.as_u16() {
        401 => UpstreamError::Unauthorized,
        403 => UpstreamError::Forbidden,
        404 => UpstreamError::NotFound,
        409 => UpstreamError::Conflict {
            code,
            message,
            details,
        },
        429 => UpstreamError::RateLimited { retry_after },
        400 | 413 | 422 => UpstreamError::Validation {
            status: status.as_u16(),
            code,
            message,
            details,
        },
        s if s >= 500 => UpstreamError::Unavailable {
            status: Some(s),
            reason: message,
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
            matches!(classify(StatusCode::CONFLICT, body, None), UpstreamError::Conflict { code, .. } if code == "duplicate_reference_code")
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
    fn retry_after_is_read_as_seconds_or_a_date() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(parse_retry_after(&headers), None);
    }
}
