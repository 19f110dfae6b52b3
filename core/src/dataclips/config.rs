//! `[dataclips]`: where Gatehouse fetches dataclips, which clips of which projects, and how it
//! keeps them.

use secrecy::SecretString;
use serde::Deserialize;

/// Dataclips: where Gatehouse fetches them, which clips of which projects, and how it keeps them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataclipsConfig {
    /// Base URL clips are fetched from: `{base_url}/dataclips/{project_id}/{clip}.csv|.json`
    /// (a tenant's `https://{company}.e7.site`; the default is the simulator's default address).
    pub base_url: String,
    /// Snapshots kept per clip, the current one included; older ones are deleted.
    pub keep_snapshots: u32,
    /// The shortest gap, in seconds, between an admin's manual refresh and any earlier fetch of
    /// the same clip.
    pub manual_refresh_floor_secs: u64,
    /// Rows a snapshot may refuse (unreadable values, wrong column count) and still be accepted;
    /// each is reported with its row number and reason either way. 0 (the default) refuses any
    /// snapshot with a bad row, so that totals are never silently short.
    pub max_bad_rows: u64,
    /// Rows written per multi-row INSERT during ingest.
    pub batch_rows: usize,
    /// Clips ingested at once; the others wait their turn. Each ingest holds a database
    /// connection and, on SQLite, competes for the one writer.
    pub max_concurrent_ingests: usize,
    /// Seconds to wait for a connection to the dataclip server.
    pub connect_timeout_secs: u64,
    /// Seconds a response may stay silent (headers or between body chunks) before the fetch
    /// fails.
    pub read_timeout_secs: u64,
    /// Attempts per fetch when it fails for a reason that may pass (network, 5xx, 429, a cut
    /// body); the first one included.
    pub retry_attempts: u32,
    /// Delay before the first retry, in milliseconds; doubled for each further retry.
    pub retry_min_delay_ms: u64,
    /// The longest delay between retries, in seconds.
    pub retry_max_delay_secs: u64,
    /// The clips to pull, per project.
    pub sources: Vec<DataclipSourceConfig>,
}

impl Default for DataclipsConfig {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8900".to_owned(),
            keep_snapshots: 3,
            manual_refresh_floor_secs: 15 * 60,
            max_bad_rows: 0,
            batch_rows: 1000,
            max_concurrent_ingests: 2,
            connect_timeout_secs: 10,
            read_timeout_secs: 120,
            retry_attempts: 3,
            retry_min_delay_ms: 1000,
            retry_max_delay_secs: 60,
            sources: Vec::new(),
        }
    }
}

/// The format a clip is fetched in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ClipFormat {
    /// `{clip}.csv`: a header row, then one line per row (the default).
    #[default]
    Csv,
    /// `{clip}.json`: `{"fields": [...], "values": [[...], ...]}`.
    Json,
}

impl ClipFormat {
    /// The file extension (`csv` or `json`).
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }
}

/// The clips of one project, read with one dataclip user's credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataclipSourceConfig {
    /// The SYNCHRO Perform project id.
    pub project_id: String,
    /// Clip slugs, e.g. `resource-usages-export`, `activity-export`.
    pub clips: Vec<String>,
    /// `csv` (default) or `json`.
    #[serde(default)]
    pub format: ClipFormat,
    /// The dataclip user's name.
    pub username: String,
    /// The dataclip user's password (never logged; redacted in `Debug`).
    pub password: SecretString,
    /// Seconds between fetches of each clip; defaults to the clip's refresh cycle and may never
    /// be shorter than it.
    #[serde(default)]
    pub refresh_secs: Option<u64>,
    /// The clips' refresh cycle upstream, in seconds: 4 hours unless the project asked Bentley
    /// for more frequent refreshes (and for tests against a simulator refreshing in seconds).
    #[serde(default)]
    pub cycle_secs: Option<u64>,
}

impl DataclipSourceConfig {
    /// The upstream refresh cycle of these clips.
    pub fn cycle(&self) -> std::time::Duration {
        std::time::Duration::from_secs(
            self.cycle_secs.unwrap_or(
                u64::from(gatehouse_compliance::dataclips::DEFAULT_REFRESH_HOURS) * 3600,
            ),
        )
    }

    /// The time between two scheduled fetches: `refresh_secs`, or the cycle.
    pub fn refresh_interval(&self) -> std::time::Duration {
        self.refresh_secs
            .map_or_else(|| self.cycle(), std::time::Duration::from_secs)
    }
}
