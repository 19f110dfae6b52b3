//! Exact counts of the calls the simulator served.
//!
//! Counted: every request that reached the REST API (under the configured prefix) or the
//! dataclip routes, whatever its answer: 2xx, 304, and the 400/401/403/404/409/413/422/429/503
//! answers, fault-injected ones included. A request whose client went away before the answer
//! (e.g. during an injected hang) is counted with status 499 when the server drops it. Not
//! counted: `/_sim/*`, `/api` and `/api/openapi.json`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One line of the counts: calls with the same method, endpoint, status and token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallCount {
    /// HTTP method.
    pub method: String,
    /// Endpoint template, e.g. `/api/v1/projects/{project_id}/activities`.
    pub endpoint: String,
    /// Status answered.
    pub status: u16,
    /// Token label or fingerprint (`tok-1a2b3c4d`), `dataclip:{user}` for dataclip fetches,
    /// `anonymous` without credentials.
    pub token: String,
    /// Number of calls.
    pub count: u64,
}

/// The counts served by `GET /_sim/stats` and [`crate::SimHandle::stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Stats {
    /// All counted calls.
    pub total: u64,
    /// Per method, endpoint, status and token.
    pub calls: Vec<CallCount>,
    /// Per `"{METHOD} {endpoint}"`.
    pub by_endpoint: BTreeMap<String, u64>,
    /// Per token label.
    pub by_token: BTreeMap<String, u64>,
    /// Per status code.
    pub by_status: BTreeMap<String, u64>,
}

impl Stats {
    /// Calls to `"{METHOD} {endpoint}"` (0 when none).
    pub fn count(&self, method: &str, endpoint: &str) -> u64 {
        self.by_endpoint
            .get(&format!("{method} {endpoint}"))
            .copied()
            .unwrap_or(0)
    }

    /// Calls answered with `status`.
    pub fn count_status(&self, status: u16) -> u64 {
        self.by_status
            .get(&status.to_string())
            .copied()
            .unwrap_or(0)
    }

    /// Calls made with the token labelled `token`.
    pub fn count_token(&self, token: &str) -> u64 {
        self.by_token.get(token).copied().unwrap_or(0)
    }
}

type Key = (String, String, u16, String);

/// Thread-safe counter of calls.
#[derive(Debug, Default)]
pub struct StatsRecorder {
    counts: Mutex<BTreeMap<Key, u64>>,
}

impl StatsRecorder {
    /// Counts one call.
    pub fn record(&self, method: &str, endpoint: &str, status: u16, token: &str) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *counts
            .entry((
                method.to_owned(),
                endpoint.to_owned(),
                status,
                token.to_owned(),
            ))
            .or_insert(0) += 1;
    }

    /// Forgets every count.
    pub fn reset(&self) {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// The counts now.
    pub fn snapshot(&self) -> Stats {
        let counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut stats = Stats::default();
        for ((method, endpoint, status, token), count) in counts.iter() {
            stats.total += count;
            *stats
                .by_endpoint
                .entry(format!("{method} {endpoint}"))
                .or_insert(0) += count;
            *stats.by_token.entry(token.clone()).or_insert(0) += count;
            *stats.by_status.entry(status.to_string()).or_insert(0) += count;
            stats.calls.push(CallCount {
                method: method.clone(),
                endpoint: endpoint.clone(),
                status: *status,
                token: token.clone(),
                count: *count,
            });
        }
        stats
    }
}
