//! The shared state of a running simulator.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::clips::catalogue_names;
use crate::config::{ProjectRef, Scope, SimConfig};
use crate::data::seed::{IdKind, Ids};
use crate::data::snapshot::Snapshot;
use crate::data::{ProjectData, ProjectInfo};
use crate::faults::FaultBook;
use crate::stats::StatsRecorder;

/// Shared state handed to every handler.
pub type SimState = Arc<Sim>;

/// One project's live data.
#[derive(Debug)]
pub struct ProjectSlot {
    /// Id and name (never change).
    pub info: ProjectInfo,
    data: RwLock<ProjectData>,
    snapshot: RwLock<Arc<Snapshot>>,
}

impl ProjectSlot {
    /// A cheap copy of the current data (reference counts only).
    pub fn read(&self) -> ProjectData {
        read_lock(&self.data).clone()
    }

    /// Write access; the caller bumps `version`.
    pub fn write(&self) -> RwLockWriteGuard<'_, ProjectData> {
        self.data
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current dataclip snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        read_lock(&self.snapshot).clone()
    }

    /// Replaces the dataclip snapshot with the data as it is now.
    pub fn refresh_snapshot(&self, taken_at: DateTime<Utc>) {
        let data = self.read();
        let snapshot = Arc::new(Snapshot::new(data, taken_at));
        *self
            .snapshot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = snapshot;
    }
}

fn read_lock<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The project it is bound to.
    pub project_id: Uuid,
    /// Its scope.
    pub scope: Scope,
    /// Label shown in stats.
    pub label: String,
}

/// A dataclip user (HTTP Basic credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataclipUser {
    /// Password (compared plainly: this is a simulator, not a vault).
    pub password: String,
    /// The project.
    pub project_id: Uuid,
    /// Provisioned clips.
    pub clips: Vec<String>,
}

/// The state of a running simulator.
#[derive(Debug)]
pub struct Sim {
    pub(crate) config: SimConfig,
    pub(crate) projects: Vec<ProjectSlot>,
    pub(crate) tokens: RwLock<HashMap<String, TokenInfo>>,
    pub(crate) dataclip_users: RwLock<HashMap<String, DataclipUser>>,
    pub(crate) stats: StatsRecorder,
    pub(crate) faults: FaultBook,
    pub(crate) limiter: Option<DefaultKeyedRateLimiter<String>>,
    pub(crate) heavy_in_flight: AtomicUsize,
    pub(crate) created: AtomicU64,
    pub(crate) ids: Ids,
    pub(crate) secret: [u8; 16],
}

/// Errors of the state's own operations (token and user creation).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SimError {
    /// The project does not exist.
    #[error("unknown project {0}")]
    UnknownProject(String),
    /// A clip name is not in the catalogue.
    #[error("unknown dataclip {0}")]
    UnknownClip(String),
    /// Empty token, user name or password.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A fault rule with an invalid field.
    #[error("fault rule: `{0}` {1}")]
    InvalidFault(&'static str, String),
}

impl Sim {
    /// Generates the data and builds the state (tokens and users of the config included).
    pub fn new(config: SimConfig) -> Result<Sim, SimError> {
        let projects = crate::data::seed::generate(config.seed, &config.size);
        let now = Utc::now();
        let boundary = crate::data::snapshot::last_boundary(now, config.dataclip_refresh);
        let projects: Vec<ProjectSlot> = projects
            .into_iter()
            .map(|data| {
                let snapshot = Arc::new(Snapshot::new(data.clone(), boundary));
                ProjectSlot {
                    info: data.info(),
                    data: RwLock::new(data),
                    snapshot: RwLock::new(snapshot),
                }
            })
            .collect();
        let limiter = config.rate_limit.map(|limit| {
            let per_second = NonZeroU32::new(limit.per_second).unwrap_or(NonZeroU32::MIN);
            let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
            RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst))
        });
        let mut secret = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut secret);
        let sim = Sim {
            ids: Ids::new(config.seed),
            faults: FaultBook::new(config.seed),
            projects,
            tokens: RwLock::new(HashMap::new()),
            dataclip_users: RwLock::new(HashMap::new()),
            stats: StatsRecorder::default(),
            limiter,
            heavy_in_flight: AtomicUsize::new(0),
            created: AtomicU64::new(0),
            secret,
            config,
        };
        for spec in sim.config.tokens.clone() {
            let project = sim.resolve_project(&spec.project)?;
            sim.add_token(Some(spec.token), project, spec.scope, spec.label)?;
        }
        for spec in sim.config.dataclip_users.clone() {
            let project = sim.resolve_project(&spec.project)?;
            sim.add_dataclip_user(spec.username, spec.password, project, spec.clips)?;
        }
        Ok(sim)
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Seeded projects.
    pub fn projects(&self) -> Vec<ProjectInfo> {
        self.projects.iter().map(|p| p.info.clone()).collect()
    }

    /// The slot of a project.
    pub fn project(&self, id: Uuid) -> Option<&ProjectSlot> {
        self.projects.iter().find(|p| p.info.id == id)
    }

    pub(crate) fn slots(&self) -> &[ProjectSlot] {
        &self.projects
    }

    /// Resolves a project reference to an id.
    pub fn resolve_project(&self, project: &ProjectRef) -> Result<Uuid, SimError> {
        match project {
            ProjectRef::Id(id) => self
                .project(*id)
                .map(|p| p.info.id)
                .ok_or_else(|| SimError::UnknownProject(id.to_string())),
            ProjectRef::Index(i) => self
                .projects
                .get(*i)
                .map(|p| p.info.id)
                .ok_or_else(|| SimError::UnknownProject(format!("#{i}"))),
        }
    }

    /// Registers a token (random when `token` is `None`) and returns its value.
    pub fn add_token(
        &self,
        token: Option<String>,
        project_id: Uuid,
        scope: Scope,
        label: Option<String>,
    ) -> Result<String, SimError> {
        if self.project(project_id).is_none() {
            return Err(SimError::UnknownProject(project_id.to_string()));
        }
        let token = match token {
            Some(t) if t.trim().is_empty() => return Err(SimError::Empty("token")),
            Some(t) => t,
            None => {
                let mut bytes = [0u8; 24];
                rand::thread_rng().fill_bytes(&mut bytes);
                format!("sim_{}", hex::encode(bytes))
            }
        };
        let label = label.unwrap_or_else(|| token_fingerprint(&token));
        self.tokens
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                token.clone(),
                TokenInfo {
                    project_id,
                    scope,
                    label,
                },
            );
        Ok(token)
    }

    /// Looks a token up.
    pub fn token(&self, token: &str) -> Option<TokenInfo> {
        read_lock(&self.tokens).get(token).cloned()
    }

    /// Registers a dataclip user; `clips: None` provisions the whole catalogue.
    pub fn add_dataclip_user(
        &self,
        username: String,
        password: String,
        project_id: Uuid,
        clips: Option<Vec<String>>,
    ) -> Result<(), SimError> {
        if username.is_empty() {
            return Err(SimError::Empty("username"));
        }
        if password.is_empty() {
            return Err(SimError::Empty("password"));
        }
        if self.project(project_id).is_none() {
            return Err(SimError::UnknownProject(project_id.to_string()));
        }
        let known = catalogue_names();
        let clips = match clips {
            None => known.iter().map(|s| (*s).to_owned()).collect(),
            Some(clips) => {
                if let Some(bad) = clips.iter().find(|c| !known.contains(&c.as_str())) {
                    return Err(SimError::UnknownClip(bad.clone()));
                }
                clips
            }
        };
        self.dataclip_users
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                username,
                DataclipUser {
                    password,
                    project_id,
                    clips,
                },
            );
        Ok(())
    }

    /// Looks a dataclip user up.
    pub fn dataclip_user(&self, username: &str) -> Option<DataclipUser> {
        read_lock(&self.dataclip_users).get(username).cloned()
    }

    /// A fresh id for a record created through the API (deterministic: the n-th creation of
    /// a run always gets the same id for a given seed).
    pub fn next_created_id(&self) -> Uuid {
        let n = self.created.fetch_add(1, Ordering::Relaxed);
        self.ids.id(IdKind::Created, 0, n)
    }

    /// Tries to enter the heavy-collection pool; `None` when it is full.
    pub fn enter_heavy(self: &Arc<Self>) -> Option<HeavyGuard> {
        let before = self.heavy_in_flight.fetch_add(1, Ordering::SeqCst);
        if before >= self.config.heavy_concurrency_limit {
            self.heavy_in_flight.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(HeavyGuard {
            sim: Arc::clone(self),
        })
    }

    /// A keyed digest (continuation tokens).
    pub(crate) fn digest(&self, parts: &[&[u8]]) -> [u8; 8] {
        let mut hasher = Sha256::new();
        hasher.update(self.secret);
        for part in parts {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        let full = hasher.finalize();
        let mut out = [0u8; 8];
        out.copy_from_slice(&full[..8]);
        out
    }
}

/// Holds a place in the heavy-collection pool until dropped.
#[derive(Debug)]
pub struct HeavyGuard {
    sim: Arc<Sim>,
}

impl Drop for HeavyGuard {
    fn drop(&mut self) {
        self.sim.heavy_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A short, stable fingerprint of a token for stats: `tok-` and 8 hex digits of its SHA-256.
pub fn token_fingerprint(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    format!("tok-{}", hex::encode(&digest[..4]))
}

/// Records a call when dropped: with the answer's status, or 499 when the request was
/// abandoned before an answer (the client went away).
pub(crate) struct CallRecord {
    sim: SimState,
    method: String,
    endpoint: String,
    token: String,
    status: Option<u16>,
}

impl CallRecord {
    pub(crate) fn new(sim: SimState, method: &str, endpoint: String, token: String) -> Self {
        CallRecord {
            sim,
            method: method.to_owned(),
            endpoint,
            token,
            status: None,
        }
    }

    pub(crate) fn finish(mut self, status: StatusCode) {
        self.status = Some(status.as_u16());
    }
}

impl Drop for CallRecord {
    fn drop(&mut self) {
        self.sim.stats.record(
            &self.method,
            &self.endpoint,
            self.status.unwrap_or(499),
            &self.token,
        );
    }
}
