//! Configuration of a simulated tenant.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How big the seeded data set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSize {
    /// Preset for the counts of every collection.
    pub preset: SizePreset,
    /// Overrides the number of resource usages per project (generated lazily, so any number,
    /// e.g. 1,000,000, costs no memory per row).
    pub usages_per_project: Option<u64>,
}

impl DataSize {
    /// A preset with its default number of usages.
    pub fn preset(preset: SizePreset) -> Self {
        DataSize {
            preset,
            usages_per_project: None,
        }
    }

    /// The same preset with a given number of usages per project.
    pub fn with_usages(mut self, usages_per_project: u64) -> Self {
        self.usages_per_project = Some(usages_per_project);
        self
    }

    /// The effective counts of every collection.
    pub fn counts(&self) -> SizeCounts {
        let mut counts = self.preset.counts();
        if let Some(usages) = self.usages_per_project {
            counts.usages = usages;
        }
        counts
    }
}

impl Default for DataSize {
    fn default() -> Self {
        DataSize::preset(SizePreset::Small)
    }
}

/// Size presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum SizePreset {
    /// Fast to start (for tests): hundreds of activities, 5,000 usages per project.
    Small,
    /// Realistic: thousands of activities, hundreds of resources, 60,000 usages per project.
    Medium,
    /// Medium, with 1,000,000 usages per project (generated lazily) and more attendance.
    Large,
}

/// Counts of the seeded collections, per project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SizeCounts {
    /// Number of projects.
    pub projects: usize,
    /// Days of data (usages, attendance, dockets, progress) per project.
    pub days: u32,
    /// Activities.
    pub activities: usize,
    /// Events.
    pub events: usize,
    /// People assigned to the project.
    pub people: usize,
    /// Equipment.
    pub equipment: usize,
    /// Other resources.
    pub other_resources: usize,
    /// Companies (the first is the main contractor).
    pub companies: usize,
    /// Resource usages (lazy).
    pub usages: u64,
    /// Attendance records.
    pub attendance: usize,
    /// Progress entries.
    pub progress_entries: usize,
    /// Attachments.
    pub attachments: usize,
}

impl SizePreset {
    /// The counts of this preset.
    pub fn counts(self) -> SizeCounts {
        match self {
            SizePreset::Small => SizeCounts {
                projects: 3,
                days: 120,
                activities: 400,
                events: 40,
                people: 60,
                equipment: 20,
                other_resources: 12,
                companies: 8,
                usages: 5_000,
                attendance: 2_000,
                progress_entries: 300,
                attachments: 40,
            },
            SizePreset::Medium => SizeCounts {
                projects: 3,
                days: 240,
                activities: 3_000,
                events: 400,
                people: 400,
                equipment: 120,
                other_resources: 60,
                companies: 25,
                usages: 60_000,
                attendance: 30_000,
                progress_entries: 4_000,
                attachments: 300,
            },
            SizePreset::Large => SizeCounts {
                usages: 1_000_000,
                attendance: 60_000,
                ..SizePreset::Medium.counts()
            },
        }
    }
}

/// The pagination style the REST API speaks (chosen at startup).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum PaginationStyle {
    /// `?page=&per_page=`, `Link: <...>; rel="next"`, `X-Total-Count`, a JSON array body.
    #[default]
    PageNumber,
    /// `?pageSize=&continuationToken=`, body `{"items": [...], "_links": {"next": {"href"}}}`.
    Continuation,
}

/// A per-token rate limit (token bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: u32,
    /// Burst size.
    pub burst: u32,
}

/// Latency added to answers: `base + rows × per_row + days × per_day`.
///
/// All zero (the default) adds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LatencyModel {
    /// Added to every API answer.
    pub base: Duration,
    /// Added per row returned by a list.
    pub per_row: Duration,
    /// Added per day of the `from`/`to` window of a dated list.
    pub per_day: Duration,
}

impl LatencyModel {
    /// No added latency.
    pub fn none() -> Self {
        LatencyModel::default()
    }

    /// Something like a busy tenant: 40 ms base, 0.2 ms per row, 2 ms per day of window.
    pub fn realistic() -> Self {
        LatencyModel {
            base: Duration::from_millis(40),
            per_row: Duration::from_micros(200),
            per_day: Duration::from_millis(2),
        }
    }

    /// The latency of an answer of `rows` rows over a window of `days` days.
    pub fn for_answer(&self, rows: usize, days: u32) -> Duration {
        let rows = u32::try_from(rows).unwrap_or(u32::MAX);
        self.base
            .saturating_add(self.per_row.saturating_mul(rows))
            .saturating_add(self.per_day.saturating_mul(days))
    }
}

/// The scope of an API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// `read`: GET only.
    #[serde(rename = "read")]
    Read,
    /// `read write`: GET and writes.
    #[serde(rename = "read write")]
    ReadWrite,
}

impl Scope {
    /// Parses `read` or `read write` (also `read_write`, `write`).
    pub fn parse(text: &str) -> Option<Scope> {
        match text.trim() {
            "read" => Some(Scope::Read),
            "read write" | "read_write" | "write read" | "write" | "readwrite" => {
                Some(Scope::ReadWrite)
            }
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::ReadWrite => "read write",
        }
    }

    /// Whether the scope allows writes.
    pub fn can_write(self) -> bool {
        self == Scope::ReadWrite
    }
}

/// Which project a token or dataclip user is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectRef {
    /// A project by id.
    Id(Uuid),
    /// The n-th seeded project (0-based), handy when ids are not known before start.
    Index(usize),
}

/// A token to create at startup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSpec {
    /// The token's value.
    pub token: String,
    /// The project it is bound to.
    pub project: ProjectRef,
    /// Its scope.
    pub scope: Scope,
    /// Label shown in `/_sim/stats` instead of a fingerprint of the token.
    pub label: Option<String>,
}

/// A simulated tenant's configuration. `Default` is test-friendly: small data, no latency, no
/// rate limit, page-number pagination, prefix `/api/v1`.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of every generated value.
    pub seed: u64,
    /// Data size.
    pub size: DataSize,
    /// Pagination style of the REST API.
    pub pagination: PaginationStyle,
    /// Version prefix of the REST API, e.g. `/api/v1`.
    pub api_prefix: String,
    /// Per-token rate limit; `None` for none.
    pub rate_limit: Option<RateLimit>,
    /// Requests in flight on heavy collections (resource_usages, attendance lists) above which
    /// the simulator answers 503.
    pub heavy_concurrency_limit: usize,
    /// Added latency.
    pub latency: LatencyModel,
    /// Dataclip refresh period (4 hours in the product).
    pub dataclip_refresh: Duration,
    /// Where uploaded attachments are written; `None` discards them (bytes are still counted
    /// and hashed).
    pub upload_dir: Option<PathBuf>,
    /// Largest accepted upload; larger ones get 413.
    pub upload_limit_bytes: u64,
    /// Tokens created at startup.
    pub tokens: Vec<TokenSpec>,
    /// Dataclip users created at startup.
    pub dataclip_users: Vec<DataclipUserSpec>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            size: DataSize::default(),
            pagination: PaginationStyle::PageNumber,
            api_prefix: "/api/v1".to_owned(),
            rate_limit: None,
            heavy_concurrency_limit: 8,
            latency: LatencyModel::none(),
            dataclip_refresh: Duration::from_secs(4 * 60 * 60),
            upload_dir: None,
            upload_limit_bytes: 5 * 1024 * 1024 * 1024,
            tokens: Vec::new(),
            dataclip_users: Vec::new(),
        }
    }
}

/// A dataclip user to create (HTTP Basic credentials bound to one project).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataclipUserSpec {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// The project.
    pub project: ProjectRef,
    /// The clips provisioned for the user; `None` provisions every clip of the catalogue.
    pub clips: Option<Vec<String>>,
}
