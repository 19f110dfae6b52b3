//! The hook where every upstream call is reported (endpoint template, method, status, latency,
//! bytes, retry), so that metrics and the usage ledger can record it.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

/// Counts the upstream call attempts made for one request.
#[derive(Debug, Default)]
pub struct CallMeter {
    calls: std::sync::atomic::AtomicU64,
}

impl CallMeter {
    /// Attempts so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts one attempt.
    pub fn count(&self) {
        self.calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Who and what a call serves, carried from the GraphQL request down to the upstream call.
#[derive(Debug, Clone, Default)]
pub struct CallTag {
    /// The app key that asked, if any.
    pub app_key_id: Option<Uuid>,
    /// The signed-in user that asked, if any.
    pub user_id: Option<Uuid>,
    /// The GraphQL operation name.
    pub operation: Option<String>,
    /// The declared workflow the key is bound to, if any.
    pub workflow: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
    /// Counts the request's upstream calls (for `extensions.gatehouse.upstreamCalls`).
    pub meter: Option<Arc<CallMeter>>,
}

/// One attempt of one upstream call.
#[derive(Debug, Clone)]
pub struct CallEvent {
    /// The project whose token was used.
    pub project_id: String,
    /// First 12 hex characters of the token's SHA-256 (never the token).
    pub token_fingerprint: String,
    /// The endpoint template, e.g. `/projects/{project_id}/activities`.
    pub endpoint: String,
    /// HTTP method.
    pub method: String,
    /// HTTP status, or `None` when no response arrived (timeout, connection failure).
    pub status: Option<u16>,
    /// Failure kind when the attempt failed (`timeout`, `unavailable`, ...).
    pub error: Option<&'static str>,
    /// Time the attempt took.
    pub latency: Duration,
    /// Bytes sent in the request body.
    pub bytes_sent: u64,
    /// Bytes received in the response body.
    pub bytes_received: u64,
    /// 0 for the first attempt, 1 for the first retry, ...
    pub attempt: u32,
    /// Who and what the call serves.
    pub tag: CallTag,
}

/// Receives every upstream call attempt. Implementations must not block: hand the event to a
/// channel or a counter.
pub trait CallObserver: Send + Sync + std::fmt::Debug {
    /// One attempt finished.
    fn observe(&self, event: &CallEvent);
}

/// Observers in turn.
#[derive(Debug, Clone, Default)]
pub struct Observers(pub Vec<Arc<dyn CallObserver>>);

impl CallObserver for Observers {
    fn observe(&self, event: &CallEvent) {
        for observer in &self.0 {
            observer.observe(event);
        }
    }
}

/// Counts upstream calls in Prometheus metrics (`upstream_calls_total`,
/// `upstream_call_duration_seconds`).
#[derive(Debug, Default, Clone, Copy)]
pub struct MetricsObserver;

impl CallObserver for MetricsObserver {
    fn observe(&self, event: &CallEvent) {
        let status = event.status.map_or_else(
            || event.error.unwrap_or("none").to_owned(),
            |s| s.to_string(),
        );
        metrics::counter!(
            "upstream_calls_total",
            "endpoint" => event.endpoint.clone(),
            "method" => event.method.clone(),
            "status" => status
        )
        .increment(1);
        metrics::histogram!(
            "upstream_call_duration_seconds",
            "endpoint" => event.endpoint.clone(),
            "method" => event.method.clone()
        )
        .record(event.latency.as_secs_f64());
    }
}
