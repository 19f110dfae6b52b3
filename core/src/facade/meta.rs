//! What one GraphQL request learned about where its data came from, reported in
//! `extensions.gatehouse`.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use gatehouse_compliance::cost::CostEstimate;
use serde_json::{Value, json};

use crate::cache::Outcome;
use crate::upstream::CallTag;
use crate::upstream::observer::CallMeter;

/// Per-request bookkeeping of sources, cache outcomes and upstream calls.
#[derive(Debug, Default)]
pub struct RequestMeta {
    /// Carried to every upstream call this request makes (with its meter).
    pub(crate) tag: CallTag,
    hits: AtomicU32,
    stale: AtomicU32,
    misses: AtomicU32,
    dataclip: AtomicBool,
    oldest: Mutex<Option<DateTime<Utc>>>,
    estimate: Mutex<Option<CostEstimate>>,
}

impl RequestMeta {
    /// Meta for a request tagged `tag`; a meter is attached to count upstream calls.
    pub fn new(mut tag: CallTag) -> Self {
        tag.meter = Some(Arc::new(CallMeter::default()));
        Self {
            tag,
            ..Self::default()
        }
    }

    /// Records one cache read.
    pub(crate) fn record(&self, outcome: Outcome, fetched_at: DateTime<Utc>) {
        let counter = match outcome {
            Outcome::Hit => &self.hits,
            Outcome::Stale | Outcome::StaleIfError => &self.stale,
            Outcome::Miss => &self.misses,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.note_age(fetched_at);
    }

    /// Records an answer from a dataclip snapshot taken at `snapshot_at`.
    pub fn record_dataclip(&self, snapshot_at: DateTime<Utc>) {
        self.dataclip.store(true, Ordering::Relaxed);
        self.note_age(snapshot_at);
    }

    fn note_age(&self, at: DateTime<Utc>) {
        let mut oldest = self.oldest.lock().unwrap_or_else(PoisonError::into_inner);
        if oldest.is_none_or(|o| at < o) {
            *oldest = Some(at);
        }
    }

    /// Records the operation's estimated cost.
    pub fn set_estimate(&self, estimate: CostEstimate) {
        *self.estimate.lock().unwrap_or_else(PoisonError::into_inner) = Some(estimate);
    }

    /// Cache reads made (hits, stale and misses).
    pub fn reads(&self) -> u32 {
        self.hits.load(Ordering::Relaxed)
            + self.stale.load(Ordering::Relaxed)
            + self.misses.load(Ordering::Relaxed)
    }

    /// When the oldest data used was fetched.
    pub fn oldest(&self) -> Option<DateTime<Utc>> {
        *self.oldest.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the whole answer may be stored: every read fresh from the cache or the upstream.
    pub fn all_fresh(&self) -> bool {
        self.stale.load(Ordering::Relaxed) == 0 && !self.dataclip.load(Ordering::Relaxed)
    }

    /// The estimated cost as reported in `extensions.gatehouse.estimatedCost`.
    pub fn estimate_json(&self) -> Value {
        let estimate = *self.estimate.lock().unwrap_or_else(PoisonError::into_inner);
        estimate.map_or(
            Value::Null,
            |e| json!({ "upstreamCalls": e.upstream_calls, "rows": e.rows, "score": e.score }),
        )
    }

    /// Cache reads so far: fresh hits, stale answers, misses.
    pub fn cache_counts(&self) -> (u32, u32, u32) {
        (
            self.hits.load(Ordering::Relaxed),
            self.stale.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// The estimated cost (score), once estimated.
    pub fn estimated_score(&self) -> Option<u64> {
        self.estimate
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map(|e| e.score)
    }

    /// Upstream call attempts made so far.
    pub fn upstream_calls(&self) -> u64 {
        self.tag.meter.as_ref().map_or(0, |m| m.calls())
    }

    /// The source that answered: `cache`, `live`, `dataclip`, `mixed` or `none`.
    pub fn source(&self) -> &'static str {
        let cached = self.hits.load(Ordering::Relaxed) + self.stale.load(Ordering::Relaxed) > 0;
        let live = self.misses.load(Ordering::Relaxed) > 0 || self.upstream_calls() > 0;
        let dataclip = self.dataclip.load(Ordering::Relaxed);
        match (cached, live, dataclip) {
            (false, false, false) => "none",
            (true, false, false) => "cache",
            (false, true, false) => "live",
            (false, false, true) => "dataclip",
            _ => "mixed",
        }
    }

    /// The `extensions.gatehouse` object, with data ages at `now`.
    pub fn extension(&self, now: DateTime<Utc>) -> Value {
        let oldest = *self.oldest.lock().unwrap_or_else(PoisonError::into_inner);
        let stale = self.stale.load(Ordering::Relaxed);
        json!({
            "source": self.source(),
            "cache": {
                "hits": self.hits.load(Ordering::Relaxed),
                "stale": stale,
                "misses": self.misses.load(Ordering::Relaxed),
            },
            "upstreamCalls": self.upstream_calls(),
            "dataAgeSeconds": oldest.map(|at| (now - at).num_seconds().max(0)),
            "stale": stale > 0,
            "estimatedCost": self.estimate_json(),
        })
    }
}
