//! The read cache in front of the upstream (moka).
//!
//! - **Partitioned by project.** Each project has one upstream token, and every key starts with
//!   the project: an entry can only be read by a request that passed the scope check for that
//!   project and entity (app-key scopes are checked before any cache or upstream access).
//! - **Time to live per entity type**, from `[cache]`.
//! - **Stale-while-revalidate:** an entry past its TTL but within `stale_while_revalidate_secs`
//!   is served at once and refreshed in the background.
//! - **Coalescing:** concurrent identical misses make one upstream call; every waiter gets its
//!   answer or its error. The fetch runs in its own task, so a caller that goes away does not
//!   cancel it for the others.
//! - **Invalidation:** a write invalidates every entry of the entities it touches in its
//!   project; a fetch that started before the write does not put its (older) answer back.
//! - **Bounded by size:** entries weigh their response bytes; `max_bytes` caps the total.
//! - **Stale-if-error:** when the upstream is down (5xx, timeout, 429, malformed), an entry
//!   within `stale_if_error_secs` past its TTL is served and marked stale; otherwise the error
//!   stands.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use gatehouse_compliance::Entity;
use moka::Expiry;
use serde::Deserialize;

use crate::clock::Clock;
use crate::upstream::UpstreamError;

/// Cache settings (`[cache]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// The most the cache holds, in bytes of upstream responses.
    pub max_bytes: u64,
    /// Time to live of entities without their own entry in `ttl_secs`.
    pub default_ttl_secs: u64,
    /// Time to live by entity (`activity = 120`).
    pub(crate) ttl_secs: BTreeMap<Entity, u64>,
    /// How long past its TTL an entry is still served while it is refreshed in the background.
    pub(crate) stale_while_revalidate_secs: u64,
    /// How long past its TTL an entry may stand in when the upstream is down.
    pub(crate) stale_if_error_secs: u64,
    /// The most the whole-response cache of warm queries holds, in bytes (0 turns it off).
    pub(crate) response_max_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024 * 1024,
            default_ttl_secs: 60,
            ttl_secs: BTreeMap::from([
                (Entity::Project, 600),
                (Entity::Person, 600),
                (Entity::Company, 600),
                (Entity::WorkRole, 3600),
                (Entity::UsageCode, 3600),
                (Entity::RateCode, 3600),
            ]),
            stale_while_revalidate_secs: 30,
            stale_if_error_secs: 900,
            response_max_bytes: 64 * 1024 * 1024,
        }
    }
}

impl CacheConfig {
    /// The TTL of an entity.
    pub fn ttl(&self, entity: Entity) -> Duration {
        Duration::from_secs(
            self.ttl_secs
                .get(&entity)
                .copied()
                .unwrap_or(self.default_ttl_secs),
        )
    }
}

/// A cache key: the project (the upstream token's scope), the entity, and the canonical request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    /// The project.
    pub(crate) project: Arc<str>,
    /// The entity loaded.
    pub(crate) entity: Entity,
    /// The request, canonical (sorted filters, page size, cursor).
    pub(crate) request: Arc<str>,
}

impl CacheKey {
    /// A key.
    pub(crate) fn new(project: &str, entity: Entity, request: String) -> Self {
        Self {
            project: Arc::from(project),
            entity,
            request: Arc::from(request),
        }
    }
}

/// A cached answer.
#[derive(Clone)]
struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    fetched_at: Instant,
    fetched_wall: DateTime<Utc>,
    weight: u32,
    lifetime: Duration,
}

/// How a read was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A fresh entry.
    Hit,
    /// A stale entry, served while a refresh runs.
    Stale,
    /// A stale entry served because the upstream is down.
    StaleIfError,
    /// Fetched from the upstream (by this caller or one it waited for).
    Miss,
}

/// A read's answer and how it was made.
#[derive(Debug)]
pub(crate) struct Lookup<T> {
    /// The value.
    pub(crate) value: Arc<T>,
    /// How it was answered.
    pub(crate) outcome: Outcome,
    /// When it was fetched from the upstream.
    pub(crate) fetched_at: DateTime<Utc>,
}

type Flight = Shared<BoxFuture<'static, Result<Entry, Arc<UpstreamError>>>>;

struct Lifetime;

impl Expiry<CacheKey, Entry> for Lifetime {
    fn expire_after_create(&self, _: &CacheKey, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.lifetime)
    }
}

struct Inner {
    config: CacheConfig,
    /// The time ages are measured by. Entries also expire in moka by real time, after their
    /// whole lifetime (TTL and the longest stale window).
    clock: Clock,
    entries: moka::future::Cache<CacheKey, Entry>,
    flights: Mutex<HashMap<CacheKey, Flight>>,
    generations: Mutex<HashMap<(Arc<str>, Entity), u64>>,
}

/// The upstream read cache. Cheap to clone.
#[derive(Clone)]
pub struct UpstreamCache {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for UpstreamCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamCache")
            .field("entries", &self.inner.entries.entry_count())
            .field("bytes", &self.inner.entries.weighted_size())
            .finish()
    }
}

impl UpstreamCache {
    /// A cache with these settings, on the system clock.
    pub fn new(config: CacheConfig) -> Self {
        Self::with_clock(config, Clock::system())
    }

    /// A cache with these settings whose ages go by `clock`.
    pub fn with_clock(config: CacheConfig, clock: Clock) -> Self {
        let entries = moka::future::Cache::builder()
            .max_capacity(config.max_bytes)
            .weigher(|_: &CacheKey, entry: &Entry| entry.weight)
            .expire_after(Lifetime)
            .support_invalidation_closures()
            .build();
        Self {
            inner: Arc::new(Inner {
                config,
                clock,
                entries,
                flights: Mutex::new(HashMap::new()),
                generations: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The settings.
    pub(crate) fn config(&self) -> &CacheConfig {
        &self.inner.config
    }

    /// The clock ages go by.
    pub(crate) fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// How long ago `entry` was fetched.
    fn age(&self, entry: &Entry) -> Duration {
        self.inner
            .clock
            .instant()
            .saturating_duration_since(entry.fetched_at)
    }

    /// Bytes held (approximate, updated asynchronously).
    #[cfg(test)]
    fn weighted_size(&self) -> u64 {
        self.inner.entries.weighted_size()
    }

    fn generation(&self, key: &CacheKey) -> u64 {
        self.inner
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(key.project.clone(), key.entity))
            .copied()
            .unwrap_or(0)
    }

    /// Reads through the cache. `fetch` returns the value and its size in bytes; it runs at
    /// most once for concurrent identical misses.
    pub(crate) async fn get_or_fetch<T, F, Fut>(
        &self,
        key: CacheKey,
        fetch: F,
    ) -> Result<Lookup<T>, UpstreamError>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(T, usize), UpstreamError>> + Send + 'static,
    {
        let ttl = self.inner.config.ttl(key.entity);
        let swr = Duration::from_secs(self.inner.config.stale_while_revalidate_secs);
        let sie = Duration::from_secs(self.inner.config.stale_if_error_secs);
        let existing = self.inner.entries.get(&key).await;
        if let Some(entry) = &existing {
            let age = self.age(entry);
            if age <= ttl {
                if let Some(lookup) = downcast(entry, Outcome::Hit) {
                    return Ok(lookup);
                }
            } else if age <= ttl + swr
                && let Some(lookup) = downcast(entry, Outcome::Stale)
            {
                // Refresh in the background; the flight runs in its own task.
                drop(self.flight(key, ttl, fetch));
                return Ok(lookup);
            }
        }
        let flight = self.flight(key, ttl, fetch);
        match flight.await {
            Ok(entry) => downcast(&entry, Outcome::Miss).ok_or_else(|| {
                UpstreamError::Malformed("cache entry of an unexpected type".into())
            }),
            Err(error) => {
                if let Some(entry) = existing
                    && error.is_outage()
                    && self.age(&entry) <= ttl + sie
                    && let Some(lookup) = downcast(&entry, Outcome::StaleIfError)
                {
                    return Ok(lookup);
                }
                Err((*error).clone())
            }
        }
    }

    /// Joins the in-flight fetch of `key`, or starts one.
    fn flight<T, F, Fut>(&self, key: CacheKey, ttl: Duration, fetch: F) -> Flight
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(T, usize), UpstreamError>> + Send + 'static,
    {
        let mut flights = self
            .inner
            .flights
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(flight) = flights.get(&key) {
            return flight.clone();
        }
        let generation = self.generation(&key);
        let lifetime = ttl
            + Duration::from_secs(
                self.inner
                    .config
                    .stale_while_revalidate_secs
                    .max(self.inner.config.stale_if_error_secs),
            );
        let cache = self.clone();
        let task_key = key.clone();
        let task = tokio::spawn(async move {
            let result = fetch().await;
            let outcome = match result {
                Ok((value, bytes)) => {
                    let entry = Entry {
                        value: Arc::new(value),
                        fetched_at: cache.inner.clock.instant(),
                        fetched_wall: cache.inner.clock.now(),
                        weight: u32::try_from(bytes.saturating_add(256)).unwrap_or(u32::MAX),
                        lifetime,
                    };
                    // A write since the fetch began makes this answer older than the cache
                    // should hold; the callers that asked still get it.
                    if cache.generation(&task_key) == generation {
                        cache
                            .inner
                            .entries
                            .insert(task_key.clone(), entry.clone())
                            .await;
                    }
                    Ok(entry)
                }
                Err(error) => Err(Arc::new(error)),
            };
            cache
                .inner
                .flights
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&task_key);
            outcome
        });
        let flight: Flight = async move {
            task.await.unwrap_or_else(|_| {
                Err(Arc::new(UpstreamError::Unavailable {
                    status: None,
                    reason: "the fetch task failed".into(),
                }))
            })
        }
        .boxed()
        .shared();
        flights.insert(key, flight.clone());
        flight
    }

    /// Drops every entry of `entity` in `project` (after a write).
    pub fn invalidate(&self, project: &str, entity: Entity) {
        let project: Arc<str> = Arc::from(project);
        *self
            .inner
            .generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((project.clone(), entity))
            .or_insert(0) += 1;
        let result = self
            .inner
            .entries
            .invalidate_entries_if(move |key, _| key.project == project && key.entity == entity);
        if let Err(error) = result {
            tracing::warn!(error.message = %error, "cache invalidation by predicate failed; clearing the cache");
            self.inner.entries.invalidate_all();
        }
    }
}

fn downcast<T: Send + Sync + 'static>(entry: &Entry, outcome: Outcome) -> Option<Lookup<T>> {
    let value = entry.value.clone().downcast::<T>().ok()?;
    Some(Lookup {
        value,
        outcome,
        fetched_at: entry.fetched_wall,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn config(ttl: u64, swr: u64, sie: u64) -> CacheConfig {
        CacheConfig {
            default_ttl_secs: ttl,
            ttl_secs: BTreeMap::new(),
            stale_while_revalidate_secs: swr,
            stale_if_error_secs: sie,
            ..CacheConfig::default()
        }
    }

    fn key(request: &str) -> CacheKey {
        CacheKey::new("p1", Entity::Activity, request.to_owned())
    }

    #[tokio::test]
    async fn concurrent_identical_misses_fetch_once_and_share_the_answer() {
        let cache = UpstreamCache::new(config(60, 0, 0));
        let calls = Arc::new(AtomicU32::new(0));
        let reads = (0..50).map(|_| {
            let calls = calls.clone();
            cache.get_or_fetch(key("list"), move || async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok((7u32, 10))
            })
        });
        let results = futures::future::join_all(reads).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(
            results
                .iter()
                .all(|r| r.as_ref().is_ok_and(|l| *l.value == 7))
        );
        let again = cache
            .get_or_fetch(key("list"), || async { Ok((8u32, 10)) })
            .await
            .expect("hit");
        assert_eq!((*again.value, again.outcome), (7, Outcome::Hit));
    }

    #[tokio::test]
    async fn concurrent_misses_share_an_error_too() {
        let cache = UpstreamCache::new(config(60, 0, 0));
        let calls = Arc::new(AtomicU32::new(0));
        let reads = (0..10).map(|_| {
            let calls = calls.clone();
            cache.get_or_fetch::<u32, _, _>(key("x"), move || async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err(UpstreamError::NotFound)
            })
        });
        let results = futures::future::join_all(reads).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(
            results
                .iter()
                .all(|r| matches!(r, Err(UpstreamError::NotFound)))
        );
    }

    #[tokio::test]
    async fn a_stale_entry_is_served_at_once_and_refreshed_behind() {
        let cache = UpstreamCache::new(config(0, 60, 0));
        cache
            .get_or_fetch(key("k"), || async { Ok((1u32, 1)) })
            .await
            .expect("first");
        tokio::time::sleep(Duration::from_millis(5)).await;
        let stale = cache
            .get_or_fetch(key("k"), || async {
                tokio::time::sleep(Duration::from_millis(30)).await;
                Ok((2u32, 1))
            })
            .await
            .expect("stale");
        assert_eq!((*stale.value, stale.outcome), (1, Outcome::Stale));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let refreshed = cache.inner.entries.get(&key("k")).await.expect("entry");
        assert_eq!(*refreshed.value.downcast::<u32>().expect("u32"), 2);
    }

    #[tokio::test]
    async fn an_outage_serves_stale_data_within_the_bound_and_errors_past_it() {
        let clock = Clock::manual(Utc::now());
        let cache = UpstreamCache::with_clock(config(0, 0, 1), clock.clone());
        cache
            .get_or_fetch(key("k"), || async { Ok((1u32, 1)) })
            .await
            .expect("first");
        assert!(clock.advance(Duration::from_millis(500)));
        let down = || async {
            Err::<(u32, usize), _>(UpstreamError::Unavailable {
                status: Some(503),
                reason: "down".into(),
            })
        };
        let served = cache
            .get_or_fetch(key("k"), down)
            .await
            .expect("stale-if-error");
        assert_eq!((*served.value, served.outcome), (1, Outcome::StaleIfError));
        let refused = cache
            .get_or_fetch::<u32, _, _>(key("k"), || async { Err(UpstreamError::NotFound) })
            .await;
        assert!(
            matches!(refused, Err(UpstreamError::NotFound)),
            "a refusal is not an outage"
        );
        assert!(clock.advance(Duration::from_millis(600)));
        assert!(
            cache.get_or_fetch(key("k"), down).await.is_err(),
            "past the bound"
        );
    }

    #[tokio::test]
    async fn invalidation_drops_entries_and_refuses_an_older_fetch() {
        let cache = UpstreamCache::new(config(60, 0, 0));
        cache
            .get_or_fetch(key("a"), || async { Ok((1u32, 1)) })
            .await
            .expect("a");
        cache.invalidate("p1", Entity::Activity);
        let after = cache
            .get_or_fetch(key("a"), || async { Ok((2u32, 1)) })
            .await
            .expect("refetched");
        assert_eq!((*after.value, after.outcome), (2, Outcome::Miss));

        // A fetch in flight across a write answers its callers but is not kept.
        let slow = cache.get_or_fetch(key("b"), || async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok((10u32, 1))
        });
        let write = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            cache.invalidate("p1", Entity::Activity);
        };
        let (old, ()) = tokio::join!(slow, write);
        assert_eq!(*old.expect("answered").value, 10);
        let fresh = cache
            .get_or_fetch(key("b"), || async { Ok((11u32, 1)) })
            .await
            .expect("b");
        assert_eq!(*fresh.value, 11);
    }

    #[tokio::test]
    async fn memory_is_bounded_by_bytes_not_entries() {
        let cache = UpstreamCache::new(CacheConfig {
            max_bytes: 100_000,
            ..config(600, 0, 0)
        });
        for i in 0..50 {
            cache
                .get_or_fetch(key(&format!("k{i}")), || async { Ok((0u8, 10_000)) })
                .await
                .expect("stored");
        }
        cache.inner.entries.run_pending_tasks().await;
        assert!(
            cache.weighted_size() <= 100_000,
            "{}",
            cache.weighted_size()
        );
        assert!(cache.inner.entries.entry_count() < 50);
    }
}
