//! Dataclips: scheduled snapshots of SYNCHRO Perform's exports, and the analytical questions
//! answered from them, so that bulk and analytical reads never touch the live API.
//!
//! - **Sources** are configured per project (`[[dataclips.sources]]`): clips, format, the
//!   dataclip user, and the refresh interval, which is never shorter than the clip's cycle.
//!   Credentials come through [`DataclipCredentials`] (the configuration today, the vault later).
//! - **Scheduler** ([`schedule`]): one task per clip on `services.background`; it fetches when
//!   the clip is due, with a conditional GET (an unchanged clip costs a 304), retries transient
//!   failures with backoff, and claims each fetch in the database first, so that neither a
//!   restart nor a second instance fetches more often than the interval. An admin's manual
//!   refresh is audited and held to `dataclips.manual_refresh_floor_secs`.
//! - **Ingest** ([`ingest`]): the body is parsed as it streams and written in batches into a new
//!   snapshot, swapped in atomically when complete ([`store::swap_in`]); the last
//!   `dataclips.keep_snapshots` are kept. A cut connection, a structurally broken file, or more
//!   bad rows than `dataclips.max_bad_rows` (0 by default) fail the new snapshot and leave the
//!   previous one serving; bad rows are stored with their row numbers and reasons either way.
//! - **Analytics** ([`analytics`]): aggregates computed by the database over the current
//!   snapshot, each answer with its freshness.
//! - **Routing hook**: [`Dataclips::snapshot_ages`] (for `cost::route`'s
//!   `Sources::dataclip_age_secs`), and [`Dataclips::snapshot_usages`] /
//!   [`Dataclips::snapshot_activities`] to answer live-shaped list questions from a snapshot.

pub mod analytics;
pub mod clip;
mod config;
pub mod credentials;
pub(crate) mod fetch;
pub(crate) mod ingest;
pub(crate) mod parse;
mod rows;
pub(crate) mod schedule;
pub(crate) mod store;
mod tables;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::Stream;
use gatehouse_compliance::Entity;
use sea_orm::{DatabaseConnection, DbErr};
use serde_json::json;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::audit::{self, Actor};
use crate::background::Background;
use crate::clock::Clock;
pub use config::{ClipFormat, DataclipSourceConfig, DataclipsConfig};

pub use clip::ClipKind;
pub(crate) use credentials::{ConfigCredentials, DataclipCredentials};
pub(crate) use ingest::{IngestError, IngestSettings};
pub use parse::BadRow;
pub(crate) use schedule::Trigger;
pub use store::{SnapshotRow, SnapshotStatus};

/// One configured clip.
#[derive(Debug, Clone)]
pub struct ClipSpec {
    /// The project.
    pub project_id: String,
    /// The clip's slug.
    pub clip: String,
    /// How it is stored.
    pub kind: ClipKind,
    /// CSV or JSON.
    pub format: ClipFormat,
    /// Time between scheduled fetches (never shorter than `cycle`).
    pub interval: Duration,
    /// The clip's refresh cycle upstream.
    pub cycle: Duration,
}

/// Errors of the dataclips service, each with its place in [`ApiError`].
#[derive(Debug, thiserror::Error)]
pub enum DataclipError {
    /// No source configures this clip for this project.
    #[error("no dataclip `{clip}` is configured for project {project_id}")]
    NotConfigured {
        /// The project.
        project_id: String,
        /// The clip.
        clip: String,
    },
    /// The clip has no complete snapshot yet.
    #[error("the dataclip `{clip}` of project {project_id} has no snapshot yet{}", last_error.as_ref().map(|e| format!(" (last error: {e})")).unwrap_or_default())]
    NoSnapshot {
        /// The project.
        project_id: String,
        /// The clip.
        clip: String,
        /// Why the last fetch failed, if it did.
        last_error: Option<String>,
    },
    /// A manual refresh came too soon after the last fetch.
    #[error(
        "the dataclip was fetched less than {floor_secs} seconds ago; try again in {retry_after_secs} seconds"
    )]
    RefreshTooSoon {
        /// The floor.
        floor_secs: u64,
        /// Seconds until a refresh is allowed.
        retry_after_secs: u64,
    },
    /// A pagination cursor that is not ours, or from a snapshot no longer current.
    #[error("{0}")]
    InvalidCursor(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

/// What one refresh did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// A new snapshot is current.
    Updated {
        /// Its id.
        snapshot_id: i64,
        /// Good rows.
        rows: u64,
        /// Bad rows (accepted within `max_bad_rows`).
        bad_rows: u64,
    },
    /// The upstream answered 304: the current snapshot stands.
    NotModified,
    /// Another fetch (another instance, or a restart) was too recent; nothing was fetched.
    NotDue {
        /// Time until the clip is due.
        wait: Duration,
    },
    /// The fetch failed; the previous snapshot keeps serving.
    Failed(String),
}

/// The freshness of an answer from a snapshot.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(complex)
)]
pub struct Freshness {
    /// The dataclip that answered (e.g. `resource-usages-export`).
    pub source: String,
    /// The snapshot that answered.
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub snapshot_id: i64,
    /// When the data was refreshed upstream (the upstream's snapshot time).
    pub refreshed_at: DateTime<Utc>,
    /// When Gatehouse fetched it.
    pub fetched_at: DateTime<Utc>,
    /// Seconds since `refreshedAt`.
    #[cfg_attr(feature = "graphql", graphql(name = "ageSeconds"))]
    pub age_secs: u64,
    /// When Gatehouse next fetches the clip.
    pub next_refresh_at: DateTime<Utc>,
}

/// A clip's status for reviewers.
#[derive(Debug, Clone)]
pub struct ClipStatus {
    /// The clip.
    pub spec: ClipSpec,
    /// The state stored for it.
    pub state: store::ClipRow,
    /// The current snapshot.
    pub current: Option<SnapshotRow>,
    /// Seconds since the current snapshot's data was refreshed upstream.
    pub age_secs: Option<u64>,
    /// When the next scheduled fetch is due.
    pub next_refresh_at: DateTime<Utc>,
    /// The latest snapshots, newest first, with their first reported bad rows.
    pub snapshots: Vec<(SnapshotRow, Vec<BadRow>)>,
}

#[derive(Debug, Clone)]
struct Current {
    refreshed_at: DateTime<Utc>,
}

/// An attempt that did not produce a snapshot.
#[derive(Debug, Clone)]
struct AttemptError {
    message: String,
    transient: bool,
}

/// The dataclips service.
#[derive(Debug)]
pub struct Dataclips {
    db: DatabaseConnection,
    config: DataclipsConfig,
    credentials: Arc<dyn DataclipCredentials>,
    http: reqwest::Client,
    specs: Vec<ClipSpec>,
    wakers: HashMap<(String, String), Arc<Notify>>,
    current: RwLock<HashMap<(String, String), Current>>,
    /// Permits to ingest (`dataclips.max_concurrent_ingests`).
    ingests: tokio::sync::Semaphore,
    /// The time schedules, floors and ages go by.
    clock: Clock,
}

fn age_secs(since: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((now - since).num_seconds()).unwrap_or(0)
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl Dataclips {
    /// The service over `db`, with the sources of `config` and their configured credentials.
    pub fn new(db: DatabaseConnection, config: &DataclipsConfig) -> Result<Self, reqwest::Error> {
        let specs: Vec<ClipSpec> = config
            .sources
            .iter()
            .flat_map(|source| {
                source.clips.iter().map(move |clip| ClipSpec {
                    project_id: source.project_id.clone(),
                    clip: clip.clone(),
                    kind: ClipKind::of(clip),
                    format: source.format,
                    interval: source.refresh_interval(),
                    cycle: source.cycle(),
                })
            })
            .collect();
        let wakers = specs
            .iter()
            .map(|s| {
                (
                    (s.project_id.clone(), s.clip.clone()),
                    Arc::new(Notify::new()),
                )
            })
            .collect();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
            .read_timeout(Duration::from_secs(config.read_timeout_secs))
            .user_agent(concat!("gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            db,
            credentials: Arc::new(ConfigCredentials::from_config(config)),
            config: config.clone(),
            http,
            specs,
            wakers,
            current: RwLock::new(HashMap::new()),
            ingests: tokio::sync::Semaphore::new(config.max_concurrent_ingests.max(1)),
            clock: Clock::system(),
        })
    }

    /// The same service reading credentials from another store (the vault).
    pub fn with_credentials(mut self, credentials: Arc<dyn DataclipCredentials>) -> Self {
        self.credentials = credentials;
        self
    }

    /// Goes by `clock` (the system clock by default).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn spec(&self, project_id: &str, clip: &str) -> Result<&ClipSpec, DataclipError> {
        self.specs
            .iter()
            .find(|s| s.project_id.eq_ignore_ascii_case(project_id) && s.clip == clip)
            .ok_or_else(|| DataclipError::NotConfigured {
                project_id: project_id.to_owned(),
                clip: clip.to_owned(),
            })
    }

    /// Prepares the tables (marks snapshots interrupted by a crash as failed, creates each clip's
    /// state row, loads the current snapshots) and spawns one scheduler task per clip.
    pub async fn start(self: &Arc<Self>, background: &Background) -> Result<(), DbErr> {
        let interrupted = store::recover_interrupted(&self.db, self.clock.now()).await?;
        if interrupted > 0 {
            tracing::warn!(
                dataclip.snapshots = interrupted,
                "dataclip snapshots interrupted by a stop were marked failed"
            );
        }
        for spec in &self.specs {
            store::ensure_clip(&self.db, &spec.project_id, &spec.clip).await?;
        }
        self.reload_current().await?;
        for spec in self.specs.clone() {
            let state = store::clip_row(&self.db, &spec.project_id, &spec.clip).await?;
            let first_wait = state
                .last_attempt_at
                .map(|at| at + chrono_duration(spec.interval) - self.clock.now())
                .and_then(|d| d.to_std().ok())
                .unwrap_or(Duration::ZERO);
            let stop = background.shutdown_token();
            let wake = self.waker(&spec);
            let me = Arc::clone(self);
            background.spawn(async move {
                let task_stop = stop.clone();
                schedule::run(me.clock.clone(), first_wait, stop, wake, |trigger| {
                    let (me, spec, stop) = (Arc::clone(&me), spec.clone(), task_stop.clone());
                    async move {
                        match me.refresh(&spec, trigger, &stop).await {
                            RefreshOutcome::NotDue { wait } => wait.max(Duration::from_secs(1)),
                            _ => spec.interval,
                        }
                    }
                })
                .await;
            });
        }
        Ok(())
    }

    fn waker(&self, spec: &ClipSpec) -> Arc<Notify> {
        self.wakers
            .get(&(spec.project_id.clone(), spec.clip.clone()))
            .cloned()
            .unwrap_or_default()
    }

    async fn reload_current(&self) -> Result<(), DbErr> {
        let rows = store::current_snapshots(&self.db).await?;
        let mut map = HashMap::new();
        for (project_id, clip, snapshot) in rows {
            map.insert((project_id, clip), current_of(&snapshot));
        }
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = map;
        Ok(())
    }

    fn remember_current(&self, snapshot: &SnapshotRow) {
        self.current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                (snapshot.project_id.clone(), snapshot.clip.clone()),
                current_of(snapshot),
            );
    }

    /// One refresh of a clip: claim it (unless an admin's request already did), fetch with
    /// retries, ingest, swap in. Never panics on any upstream body; failures are recorded on the
    /// clip and returned.
    pub(crate) async fn refresh(
        &self,
        spec: &ClipSpec,
        trigger: Trigger,
        stop: &CancellationToken,
    ) -> RefreshOutcome {
        let now = self.clock.now();
        if trigger == Trigger::Scheduled {
            match store::claim(
                &self.db,
                &spec.project_id,
                &spec.clip,
                now,
                spec.interval,
                false,
            )
            .await
            {
                Ok(true) => {}
                Ok(false) => {
                    // Another instance fetched; pick up its snapshot and wait for the next slot.
                    let _ = self.reload_current().await;
                    let wait = store::clip_row(&self.db, &spec.project_id, &spec.clip)
                        .await
                        .ok()
                        .and_then(|s| s.last_attempt_at)
                        .map(|at| at + chrono_duration(spec.interval) - self.clock.now())
                        .and_then(|d| d.to_std().ok())
                        .unwrap_or(spec.interval);
                    return RefreshOutcome::NotDue { wait };
                }
                Err(error) => {
                    tracing::warn!(dataclip.project_id = %spec.project_id, dataclip.clip = %spec.clip, error.message = %error, "cannot claim a dataclip fetch");
                    return RefreshOutcome::Failed(format!("database: {error}"));
                }
            }
        }
        let result = schedule::with_retries(
            schedule::backoff(&self.config),
            || self.attempt(spec, stop),
            |e: &AttemptError| e.transient && !stop.is_cancelled(),
        )
        .await;
        match result {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::warn!(
                    dataclip.project_id = %spec.project_id,
                    dataclip.clip = %spec.clip,
                    error.message = %error.message,
                    "dataclip refresh failed; the previous snapshot keeps serving"
                );
                let _ = store::record_failure(
                    &self.db,
                    &spec.project_id,
                    &spec.clip,
                    &error.message,
                    self.clock.now(),
                )
                .await;
                RefreshOutcome::Failed(error.message)
            }
        }
    }

    async fn attempt(
        &self,
        spec: &ClipSpec,
        stop: &CancellationToken,
    ) -> Result<RefreshOutcome, AttemptError> {
        let permanent = |message: String| AttemptError {
            message,
            transient: false,
        };
        // One permit covers the fetch and the ingest, so a queued clip holds no open response.
        // The semaphore is never closed; a failure to acquire would be a bug, reported as such.
        let _permit = self
            .ingests
            .acquire()
            .await
            .map_err(|e| permanent(format!("the ingest queue is closed: {e}")))?;
        let credentials = self
            .credentials
            .credentials(&spec.project_id, &spec.clip)
            .await
            .map_err(|e| permanent(e.to_string()))?;
        let state = store::clip_row(&self.db, &spec.project_id, &spec.clip)
            .await
            .map_err(|e| permanent(format!("database: {e}")))?;
        // Validators only make sense while a snapshot stands: without one, a 304 would leave
        // nothing to serve.
        let (etag, last_modified) = if state.current_snapshot_id.is_some() {
            (state.etag.as_deref(), state.last_modified.as_deref())
        } else {
            (None, None)
        };
        let url = fetch::clip_url(
            &self.config.base_url,
            &spec.project_id,
            &spec.clip,
            spec.format,
        )
        .map_err(|e| permanent(e.message))?;
        let fetched = fetch::fetch(&self.http, url, &credentials, etag, last_modified)
            .await
            .map_err(|e| AttemptError {
                message: e.message,
                transient: e.transient,
            })?;
        match fetched {
            fetch::Fetched::NotModified => {
                store::record_not_modified(
                    &self.db,
                    &spec.project_id,
                    &spec.clip,
                    self.clock.now(),
                )
                .await
                .map_err(|e| permanent(format!("database: {e}")))?;
                tracing::info!(dataclip.project_id = %spec.project_id, dataclip.clip = %spec.clip, "dataclip unchanged (304)");
                Ok(RefreshOutcome::NotModified)
            }
            fetch::Fetched::Body {
                etag,
                last_modified,
                snapshot_at,
                body,
            } => {
                let validators = Validators {
                    etag,
                    last_modified,
                    snapshot_at,
                };
                self.ingest_body(spec, validators, body, stop).await
            }
        }
    }

    /// Ingests a clip body into a new snapshot of `spec`'s clip and swaps it in when complete;
    /// on any failure the snapshot is marked failed and the previous one keeps serving. Used by
    /// the scheduler, and directly by the benchmark.
    pub async fn ingest_stream<S>(
        &self,
        spec: &ClipSpec,
        body: S,
        stop: &CancellationToken,
    ) -> RefreshOutcome
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    {
        let _ = store::ensure_clip(&self.db, &spec.project_id, &spec.clip).await;
        let Ok(_permit) = self.ingests.acquire().await else {
            return RefreshOutcome::Failed("the ingest queue is closed".into());
        };
        match self
            .ingest_body(spec, Validators::default(), body, stop)
            .await
        {
            Ok(outcome) => outcome,
            Err(error) => RefreshOutcome::Failed(error.message),
        }
    }

    async fn ingest_body<S>(
        &self,
        spec: &ClipSpec,
        validators: Validators,
        body: S,
        stop: &CancellationToken,
    ) -> Result<RefreshOutcome, AttemptError>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
    {
        let permanent = |message: String| AttemptError {
            message,
            transient: false,
        };
        let started = self.clock.now();
        let id = store::begin_snapshot(
            &self.db,
            &spec.project_id,
            &spec.clip,
            spec.format.extension(),
            started,
            validators.snapshot_at,
            validators.etag.as_deref(),
        )
        .await
        .map_err(|e| permanent(format!("database: {e}")))?;
        let snapshot = SnapshotRow {
            id,
            project_id: spec.project_id.clone(),
            clip: spec.clip.clone(),
            status: SnapshotStatus::Building,
            started_at: started,
            finished_at: None,
            upstream_snapshot_at: validators.snapshot_at,
            rows: 0,
            bad_rows: 0,
            error: None,
        };
        let settings = IngestSettings::new(self.config.batch_rows);
        let result =
            ingest::ingest(&self.db, spec.kind, spec.format, id, body, settings, stop).await;
        let now = self.clock.now();
        let (totals, failure) = match result {
            Ok(totals) if totals.bad_rows <= self.config.max_bad_rows => (totals, None),
            Ok(totals) => {
                let first = store::bad_rows(&self.db, id, 1)
                    .await
                    .ok()
                    .and_then(|b| b.into_iter().next());
                let example = first
                    .map(|b| format!("; first at row {}: {}", b.row, b.reason))
                    .unwrap_or_default();
                let message = format!(
                    "{} bad row(s), more than the {} accepted (dataclips.max_bad_rows){example}",
                    totals.bad_rows, self.config.max_bad_rows
                );
                (totals, Some(permanent(message)))
            }
            Err(error) => {
                let transient = matches!(
                    error,
                    IngestError::Parse(parse::ParseError::Cut { .. }) | IngestError::Db(_)
                );
                (
                    parse::ParseTotals::default(),
                    Some(AttemptError {
                        message: error.to_string(),
                        transient,
                    }),
                )
            }
        };
        if let Some(failure) = failure {
            if let Err(e) = store::fail_snapshot(
                &self.db,
                spec.kind,
                &snapshot,
                totals.rows,
                totals.bad_rows,
                &failure.message,
                now,
            )
            .await
            {
                tracing::error!(dataclip.snapshot_id = id, error.message = %e, "cannot mark a dataclip snapshot failed");
            }
            tracing::warn!(
                dataclip.project_id = %spec.project_id,
                dataclip.clip = %spec.clip,
                dataclip.snapshot_id = id,
                error.message = %failure.message,
                "dataclip snapshot refused"
            );
            return Err(failure);
        }
        let done = store::Completed {
            rows: totals.rows,
            bad_rows: totals.bad_rows,
            etag: validators.etag.as_deref(),
            last_modified: validators.last_modified.as_deref(),
        };
        store::swap_in(&self.db, &snapshot, &done, now)
            .await
            .map_err(|e| permanent(format!("database: {e}")))?;
        let mut swapped = snapshot;
        swapped.status = SnapshotStatus::Ready;
        swapped.finished_at = Some(now);
        self.remember_current(&swapped);
        let keep = usize::try_from(self.config.keep_snapshots).unwrap_or(1);
        if let Err(e) = store::prune(&self.db, &spec.project_id, &spec.clip, spec.kind, keep).await
        {
            tracing::warn!(dataclip.clip = %spec.clip, error.message = %e, "cannot prune old dataclip snapshots");
        }
        tracing::info!(
            dataclip.project_id = %spec.project_id,
            dataclip.clip = %spec.clip,
            dataclip.snapshot_id = id,
            dataclip.rows = totals.rows,
            dataclip.bad_rows = totals.bad_rows,
            duration_ms = u64::try_from((now - started).num_milliseconds()).unwrap_or(0),
            "dataclip snapshot swapped in"
        );
        Ok(RefreshOutcome::Updated {
            snapshot_id: id,
            rows: totals.rows,
            bad_rows: totals.bad_rows,
        })
    }

    /// An admin's manual refresh: refused while the clip was fetched less than
    /// `dataclips.manual_refresh_floor_secs` ago; otherwise claimed, audited (in the same
    /// transaction) and handed to the clip's scheduler task, which fetches at once. Returns the
    /// clip's status as it is when the request is accepted.
    pub async fn request_refresh(
        &self,
        actor: &Actor,
        project_id: &str,
        clip: &str,
    ) -> Result<ClipStatus, DataclipError> {
        let spec = self.spec(project_id, clip)?.clone();
        let floor = Duration::from_secs(self.config.manual_refresh_floor_secs);
        let now = self.clock.now();
        let txn = crate::db::begin_write(&self.db).await?;
        store::ensure_clip(&txn, &spec.project_id, &spec.clip).await?;
        if !store::claim(&txn, &spec.project_id, &spec.clip, now, floor, true).await? {
            let state = store::clip_row(&txn, &spec.project_id, &spec.clip).await?;
            txn.rollback().await?;
            let retry_after_secs = state
                .last_attempt_at
                .map(|at| at + chrono_duration(floor) - now)
                .map_or(0, |d| u64::try_from(d.num_seconds()).unwrap_or(0))
                .max(1);
            return Err(DataclipError::RefreshTooSoon {
                floor_secs: floor.as_secs(),
                retry_after_secs,
            });
        }
        audit::record(
            &txn,
            actor,
            "dataclip.refresh",
            "dataclip",
            &format!("{}/{}", spec.project_id, spec.clip),
            json!({ "project_id": spec.project_id, "clip": spec.clip, "floor_secs": floor.as_secs() }),
        )
        .await?;
        txn.commit().await?;
        self.waker(&spec).notify_one();
        self.status_of(&spec).await
    }

    /// The status of every configured clip, or of one project's.
    pub async fn status(&self, project_id: Option<&str>) -> Result<Vec<ClipStatus>, DataclipError> {
        let mut out = Vec::new();
        for spec in &self.specs {
            if project_id.is_some_and(|p| !p.eq_ignore_ascii_case(&spec.project_id)) {
                continue;
            }
            out.push(self.status_of(spec).await?);
        }
        Ok(out)
    }

    async fn status_of(&self, spec: &ClipSpec) -> Result<ClipStatus, DataclipError> {
        let now = self.clock.now();
        let state = store::clip_row(&self.db, &spec.project_id, &spec.clip).await?;
        let recent = store::snapshots(&self.db, &spec.project_id, &spec.clip, 10).await?;
        let mut snapshots = Vec::with_capacity(recent.len());
        for snapshot in recent {
            let bad = if snapshot.bad_rows > 0 {
                store::bad_rows(&self.db, snapshot.id, 20).await?
            } else {
                Vec::new()
            };
            snapshots.push((snapshot, bad));
        }
        let current = state.current_snapshot_id.and_then(|id| {
            snapshots
                .iter()
                .find(|(s, _)| s.id == id)
                .map(|(s, _)| s.clone())
        });
        let current = match (current, state.current_snapshot_id) {
            (Some(c), _) => Some(c),
            (None, Some(id)) => store::snapshot(&self.db, id).await?,
            (None, None) => None,
        };
        let age_secs = current
            .as_ref()
            .map(|c| age_secs(current_of(c).refreshed_at, now));
        Ok(ClipStatus {
            spec: spec.clone(),
            next_refresh_at: next_refresh(&state, spec, now),
            state,
            current,
            age_secs,
            snapshots,
        })
    }

    /// For routing (`compliance::cost::Sources::dataclip_age_secs`): the age in seconds of the
    /// current snapshot of each entity's clip for a project, from memory (no database call).
    /// Only the clips whose snapshots answer that entity's questions are listed: the full
    /// resource usages export (not its variants), the activity export, the attendance export
    /// and the applicable rates.
    pub fn snapshot_ages(&self, project_id: &str) -> BTreeMap<Entity, u64> {
        let now = self.clock.now();
        let current = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut ages = BTreeMap::new();
        for ((project, clip), snapshot) in current.iter() {
            if !project.eq_ignore_ascii_case(project_id) {
                continue;
            }
            if let Some(entity) = ClipKind::entity_of(clip) {
                ages.insert(entity, age_secs(snapshot.refreshed_at, now));
            }
        }
        ages
    }

    /// The current snapshot of a clip and its freshness, or why there is none.
    pub(crate) async fn current(
        &self,
        project_id: &str,
        clip: &str,
    ) -> Result<Freshness, DataclipError> {
        let spec = self.spec(project_id, clip)?;
        let state = store::clip_row(&self.db, &spec.project_id, &spec.clip).await?;
        let snapshot = match state.current_snapshot_id {
            Some(id) => store::snapshot(&self.db, id).await?,
            None => None,
        };
        let Some(snapshot) = snapshot else {
            return Err(DataclipError::NoSnapshot {
                project_id: spec.project_id.clone(),
                clip: spec.clip.clone(),
                last_error: state.last_error,
            });
        };
        let now = self.clock.now();
        let fetched_at = snapshot.finished_at.unwrap_or(snapshot.started_at);
        let refreshed_at = snapshot.upstream_snapshot_at.unwrap_or(fetched_at);
        Ok(Freshness {
            source: spec.clip.clone(),
            snapshot_id: snapshot.id,
            refreshed_at,
            fetched_at,
            age_secs: age_secs(refreshed_at, now),
            next_refresh_at: next_refresh(&state, spec, now),
        })
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }
}

#[derive(Debug, Default)]
struct Validators {
    etag: Option<String>,
    last_modified: Option<String>,
    snapshot_at: Option<DateTime<Utc>>,
}

fn current_of(snapshot: &SnapshotRow) -> Current {
    let fetched = snapshot.finished_at.unwrap_or(snapshot.started_at);
    Current {
        refreshed_at: snapshot.upstream_snapshot_at.unwrap_or(fetched),
    }
}

fn next_refresh(state: &store::ClipRow, spec: &ClipSpec, now: DateTime<Utc>) -> DateTime<Utc> {
    state
        .last_attempt_at
        .map_or(now, |at| (at + chrono_duration(spec.interval)).max(now))
}
