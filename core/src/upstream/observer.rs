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
    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts one attempt.
    pub(crate) fn count(&self) {
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
    pub(crate) project_id: String,
    /// First 12 hex characters of the token's SHA-256 (never the token).
    pub(crate) token_fingerprint: String,
    /// The endpoint template, e.g. `/projects/{project_id}/activities`.
    pub endpoint: String,
    /// HTTP method.
    pub(crate) method: String,
    /// HTTP status, or `None` when no response arrived (timeout, connection failure).
    pub status: Option<u16>,
    /// Failure kind when the attempt failed (`timeout`, `unavailable`, ...).
    pub error: Option<&'static str>,
    /// Time the attempt took.
    pub(crate) latency: Duration,
    /// Bytes sent in the request body.
    pub(crate) bytes_sent: u64,
    /// Bytes received in the response body.
    pub bytes_received: u64,
    /// 0 for the first attempt, 1 for the first retry, ...
    pub attempt: u32,
    /// Who and what the call serves.
    pub(crate) tag: CallTag,
    /// What a list call asked for (`None` for other calls): the usage ledger spots sweeps
    /// and long windows with it.
    pub(crate) list: Option<ListShape>,
}

/// The shape of one page request of a list, without the filter values themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListShape {
    /// The page asked for, when the pagination style says (always 1 for a first page).
    pub page: Option<u64>,
    /// Whether the call continues a list from a cursor (a page after the first).
    pub continues: bool,
    /// First 12 hex characters of the SHA-256 of the sorted filters, paging excluded: the
    /// pages of one list share it.
    pub signature: String,
    /// Days between the `from` and `to` filters, both included, when both are given.
    pub window_days: Option<u32>,
}

impl ListShape {
    /// The shape of a GET with `query`, if it asks for a page of a list (it carries the
    /// profile's page-size parameter).
    pub(crate) fn of(
        query: &[(String, String)],
        names: &super::profile::PaginationNames,
    ) -> Option<ListShape> {
        let paging = [
            names.page_param.as_str(),
            names.per_page_param.as_str(),
            names.page_size_param.as_str(),
            names.continuation_param.as_str(),
        ];
        let is_list = query
            .iter()
            .any(|(k, _)| *k == names.per_page_param || *k == names.page_size_param);
        if !is_list {
            return None;
        }
        let value = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let page = value(&names.page_param).and_then(|p| p.parse::<u64>().ok());
        let cursor = value(&names.continuation_param).is_some();
        let page = page.or((!cursor).then_some(1));
        let mut filters: Vec<String> = query
            .iter()
            .filter(|(k, _)| !paging.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        filters.sort();
        let signature = crate::auth::secrets::sha256_hex(&filters.join("&"))[..12].to_owned();
        let window_days = match (value("from"), value("to")) {
            (Some(from), Some(to)) => {
                let from = chrono::NaiveDate::parse_from_str(from, "%Y-%m-%d").ok();
                let to = chrono::NaiveDate::parse_from_str(to, "%Y-%m-%d").ok();
                from.zip(to)
                    .and_then(|(f, t)| u32::try_from((t - f).num_days() + 1).ok())
            }
            _ => None,
        };
        Some(ListShape {
            page,
            continues: cursor || page.is_some_and(|p| p > 1),
            signature,
            window_days,
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::profile::PaginationNames;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn pages_of_one_list_share_a_signature_and_say_where_they_are() {
        let names = PaginationNames::default();
        let first = ListShape::of(
            &q(&[
                ("from", "2025-01-01"),
                ("to", "2025-01-31"),
                ("page", "1"),
                ("per_page", "200"),
            ]),
            &names,
        )
        .expect("a list");
        let third = ListShape::of(
            &q(&[
                ("to", "2025-01-31"),
                ("from", "2025-01-01"),
                ("page", "3"),
                ("per_page", "200"),
            ]),
            &names,
        )
        .expect("a list");
        assert_eq!(first.signature, third.signature);
        assert_eq!((first.page, first.continues), (Some(1), false));
        assert_eq!((third.page, third.continues), (Some(3), true));
        assert_eq!(first.window_days, Some(31));
        let other = ListShape::of(
            &q(&[("tag", "x"), ("page", "1"), ("per_page", "200")]),
            &names,
        )
        .expect("a list");
        assert_ne!(other.signature, first.signature);
        assert_eq!(other.window_days, None);
    }

    #[test]
    fn continuation_pages_continue_and_single_reads_are_not_lists() {
        let names = PaginationNames::default();
        let first = ListShape::of(&q(&[("pageSize", "50")]), &names).expect("a list");
        assert_eq!((first.page, first.continues), (Some(1), false));
        let next = ListShape::of(
            &q(&[("pageSize", "50"), ("continuationToken", "abc")]),
            &names,
        )
        .expect("a list");
        assert_eq!((next.page, next.continues), (None, true));
        assert_eq!(ListShape::of(&[], &names), None);
    }
}
