//! Whole-response cache for warm read-only facade queries.
//!
//! When the same app key sends the same query text with the same variables, and everything the
//! first answer used was fresh in the [`UpstreamCache`](crate::cache::UpstreamCache), the
//! serialized `data` is served again without parsing, planning or executing the operation: the
//! checks that ran the first time (limits, scopes, cost, route) gave this key this answer, and
//! scopes of a key never change. Entries are per app key (one client never sees another's
//! answer), live no longer than the shortest TTL of the entities they hold minus the data's age,
//! and are dropped by any write to a project they touch (an epoch per project guards against a
//! response computed across a write). Errors, stale data and mutations are never stored.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use moka::Expiry;
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::clock::Clock;

/// The projects an answer depends on (`None`: every project, e.g. the `projects` list).
pub type Projects = BTreeSet<Option<String>>;

/// A stored answer.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    /// The `data` member, serialized.
    pub data: Arc<RawValue>,
    /// When the oldest upstream data in it was fetched.
    pub oldest: DateTime<Utc>,
    /// Cache reads the first execution made (reported as hits on replay).
    pub reads: u32,
    /// The operation's estimated cost, as first reported.
    pub estimated_cost: serde_json::Value,
    /// The operation's name, as the document gives it (a client need not send
    /// `operationName` for a document with one operation).
    pub operation: Option<String>,
    projects: Arc<Projects>,
    lifetime: Duration,
    /// When it stops being served, on the cache's clock (moka drops it by real time too).
    expires: Instant,
}

/// An answer to store: what [`StoredResponse`] keeps, and what it depends on.
#[derive(Debug)]
pub struct Answer {
    /// The projects it depends on.
    pub projects: Projects,
    /// The `data` member, serialized.
    pub data: Arc<RawValue>,
    /// When the oldest upstream data in it was fetched.
    pub oldest: DateTime<Utc>,
    /// Cache reads the execution made.
    pub reads: u32,
    /// The estimated cost, as reported.
    pub estimated_cost: serde_json::Value,
    /// The operation's name, as the document gives it.
    pub operation: Option<String>,
    /// How long it may be served.
    pub lifetime: Duration,
}

impl StoredResponse {
    /// The first project the answer depends on, as the usage ledger records it.
    pub fn project(&self) -> Option<&str> {
        self.projects.iter().find_map(|p| p.as_deref())
    }
}

struct Lifetime;

impl Expiry<String, StoredResponse> for Lifetime {
    fn expire_after_create(
        &self,
        _: &String,
        value: &StoredResponse,
        _: Instant,
    ) -> Option<Duration> {
        Some(value.lifetime)
    }
}

/// The response cache.
pub struct ResponseCache {
    entries: moka::sync::Cache<String, StoredResponse>,
    epochs: Mutex<EpochTable>,
    clock: Clock,
}

/// Writes per project, and in all (what an answer over every project depends on).
#[derive(Default)]
struct EpochTable {
    by_project: HashMap<String, u64>,
    total: u64,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("entries", &self.entries.entry_count())
            .finish()
    }
}

/// What a response depended on when its execution began.
#[derive(Debug, Clone)]
pub struct Epochs(Vec<(Option<String>, u64)>);

impl ResponseCache {
    /// A cache holding at most `max_bytes` of serialized responses, whose answers expire by
    /// `clock`.
    pub(crate) fn new(max_bytes: u64, clock: Clock) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &String, value: &StoredResponse| {
                    u32::try_from(key.len() + value.data.get().len() + 128).unwrap_or(u32::MAX)
                })
                .expire_after(Lifetime)
                .support_invalidation_closures()
                .build(),
            epochs: Mutex::new(EpochTable::default()),
            clock,
        }
    }

    /// The key of a request: the app key, the operation, its text, its variables and the
    /// client's `extensions.gatehouse`.
    pub fn key(
        app_key: Uuid,
        operation: Option<&str>,
        query: &str,
        variables: &str,
        extensions: &str,
    ) -> String {
        format!(
            "{app_key}\u{0}{}\u{0}{query}\u{0}{variables}\u{0}{extensions}",
            operation.unwrap_or("")
        )
    }

    /// A stored answer, if fresh.
    pub fn get(&self, key: &str) -> Option<StoredResponse> {
        self.entries
            .get(key)
            .filter(|stored| self.clock.instant() < stored.expires)
    }

    /// The epochs of `projects` now, before executing.
    pub fn epochs(&self, projects: &Projects) -> Epochs {
        let epochs = self.epochs.lock().unwrap_or_else(PoisonError::into_inner);
        Epochs(
            projects
                .iter()
                .map(|p| {
                    let epoch = match p {
                        Some(project) => epochs.by_project.get(project).copied().unwrap_or(0),
                        None => epochs.total,
                    };
                    (p.clone(), epoch)
                })
                .collect(),
        )
    }

    /// Stores an answer computed since `before`, unless a write intervened.
    pub fn put(&self, key: String, before: &Epochs, answer: Answer) {
        let now = self.epochs(&answer.projects);
        if now.0 != before.0 || answer.lifetime.is_zero() {
            return;
        }
        self.entries.insert(
            key,
            StoredResponse {
                data: answer.data,
                oldest: answer.oldest,
                reads: answer.reads,
                estimated_cost: answer.estimated_cost,
                operation: answer.operation,
                projects: Arc::new(answer.projects),
                lifetime: answer.lifetime,
                expires: self.clock.instant() + answer.lifetime,
            },
        );
    }

    /// Drops every answer that touched `project` (or every project), after a write.
    pub(crate) fn invalidate(&self, project: &str) {
        {
            let mut epochs = self.epochs.lock().unwrap_or_else(PoisonError::into_inner);
            *epochs.by_project.entry(project.to_owned()).or_insert(0) += 1;
            epochs.total += 1;
        }
        let project = Some(project.to_owned());
        let result = self.entries.invalidate_entries_if(move |_, value| {
            value.projects.contains(&project) || value.projects.contains(&None)
        });
        if result.is_err() {
            self.entries.invalidate_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Arc<RawValue> {
        Arc::from(RawValue::from_string(text.to_owned()).expect("json"))
    }

    fn answer(projects: Projects) -> Answer {
        Answer {
            projects,
            data: raw("{}"),
            oldest: Utc::now(),
            reads: 1,
            estimated_cost: serde_json::Value::Null,
            operation: None,
            lifetime: Duration::from_secs(60),
        }
    }

    fn projects(list: &[Option<&str>]) -> Projects {
        list.iter().map(|p| p.map(str::to_owned)).collect()
    }

    #[test]
    fn a_write_drops_the_answers_of_its_project_only() {
        let cache = ResponseCache::new(1 << 20, Clock::system());
        for (key, project) in [("a", "p1"), ("b", "p2")] {
            let touched = projects(&[Some(project)]);
            let before = cache.epochs(&touched);
            cache.put(key.into(), &before, answer(touched));
        }
        cache.invalidate("p1");
        assert!(cache.get("a").is_none());
        assert!(cache.get("b").is_some());
    }

    #[test]
    fn an_answer_computed_across_a_write_is_not_kept() {
        let cache = ResponseCache::new(1 << 20, Clock::system());
        let touched = projects(&[Some("p1")]);
        let before = cache.epochs(&touched);
        cache.invalidate("p1");
        cache.put("a".into(), &before, answer(touched));
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn an_answer_over_every_project_is_dropped_by_any_write() {
        let cache = ResponseCache::new(1 << 20, Clock::system());
        let touched = projects(&[None]);
        let before = cache.epochs(&touched);
        cache.invalidate("p9");
        cache.put("all".into(), &before, answer(touched.clone()));
        assert!(cache.get("all").is_none(), "computed across a write");
        let before = cache.epochs(&touched);
        cache.put("all".into(), &before, answer(touched));
        assert!(cache.get("all").is_some());
        cache.invalidate("p3");
        assert!(cache.get("all").is_none());
    }

    #[test]
    fn keys_separate_clients() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert_ne!(
            ResponseCache::key(a, None, "{x}", "{}", ""),
            ResponseCache::key(b, None, "{x}", "{}", "")
        );
    }
}
