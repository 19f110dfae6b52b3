//! Prometheus metrics: requests and latency by route, GraphQL operations by name.
//!
//! Labels stay low-cardinality: routes are axum's matched path templates (never raw paths),
//! and GraphQL operation names are kept only when well-formed and among the first
//! [`MAX_OPERATION_NAMES`] seen; others count as `other`.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Distinct GraphQL operation names kept as labels.
pub const MAX_OPERATION_NAMES: usize = 200;

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus recorder (metrics macros are global, so one per process).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("duration_seconds".to_owned()),
                    LATENCY_BUCKETS,
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first, in which case our handle
            // renders an empty page rather than crashing the server.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        "http_requests_total",
        "HTTP requests by route, method and status"
    );
    metrics::describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency by route and method"
    );
    metrics::describe_counter!(
        "graphql_operations_total",
        "GraphQL operations by name, type and outcome (an error code or ok)"
    );
    metrics::describe_counter!(
        "ledger_records_written_total",
        "Usage ledger records committed to the database"
    );
    metrics::describe_counter!(
        "ledger_records_dropped_total",
        "Usage ledger records dropped, by reason (queue_full, write_failed, shut_down)"
    );
    metrics::describe_histogram!(
        "ledger_batch_duration_seconds",
        metrics::Unit::Seconds,
        "Time to commit one usage ledger batch"
    );
    metrics::describe_gauge!(
        "http_connections_open",
        "Connections open, by listener (main, metrics); at most http.max_connections each"
    );
    metrics::describe_counter!(
        "http_connections_timed_out_total",
        "Connections closed by the server, by listener and reason (header_timeout, idle_timeout)"
    );
    metrics::describe_histogram!(
        "graphql_operation_duration_seconds",
        metrics::Unit::Seconds,
        "GraphQL operation latency by name and type"
    );
}

/// Middleware counting requests and their latency by matched route.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let elapsed = started.elapsed().as_secs_f64();
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route, "method" => method)
        .record(elapsed);
    response
}

/// The label for an operation name: the name itself while the set of names stays small and
/// the name looks like a GraphQL name; `anonymous` or `other` otherwise.
pub fn operation_label(name: Option<&str>) -> String {
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let Some(name) = name else {
        return "anonymous".to_owned();
    };
    let well_formed = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if !well_formed {
        return "other".to_owned();
    }
    let seen = SEEN.get_or_init(|| Mutex::new(HashSet::new()));
    let Ok(mut seen) = seen.lock() else {
        return "other".to_owned();
    };
    if seen.contains(name) || seen.len() < MAX_OPERATION_NAMES {
        seen.insert(name.to_owned());
        name.to_owned()
    } else {
        "other".to_owned()
    }
}

/// Records one GraphQL operation.
pub fn record_graphql(operation: &str, kind: &str, outcome: &str, elapsed: Duration) {
    metrics::counter!(
        "graphql_operations_total",
        "operation" => operation.to_owned(),
        "type" => kind.to_owned(),
        "outcome" => outcome.to_owned()
    )
    .increment(1);
    metrics::histogram!(
        "graphql_operation_duration_seconds",
        "operation" => operation.to_owned(),
        "type" => kind.to_owned()
    )
    .record(elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_refuse_odd_names() {
        assert_eq!(operation_label(None), "anonymous");
        assert_eq!(operation_label(Some("ProjectList")), "ProjectList");
        assert_eq!(operation_label(Some("drop table; --")), "other");
        assert_eq!(operation_label(Some(&"x".repeat(65))), "other");
    }
}
