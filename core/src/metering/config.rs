//! `[metering]`: the usage ledger, its rollups, findings and alerts.

use gatehouse_compliance::findings::{Declared, DeclaredWorkflow, FindingPolicy};
use serde::Deserialize;
use uuid::Uuid;

/// Usage metering settings (`[metering]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MeteringConfig {
    /// Record GraphQL operations and upstream calls in the usage ledger.
    pub(crate) enabled: bool,
    /// Records waiting to be written, at most; when full, new records are dropped and counted
    /// (`ledger_records_dropped_total`), never waited for.
    pub(crate) queue_capacity: usize,
    /// Most rows the writer commits in one transaction.
    pub(crate) batch_max_records: usize,
    /// Count operations that made no upstream call and did not fail (cache answers,
    /// refusals) into one row per batch, minute, caller, operation, source and outcome,
    /// instead of a row each with its request id.
    pub(crate) count_operations: bool,
    /// Milliseconds between the writer's commits (sooner when the queue is half full or a
    /// flush is asked for).
    pub(crate) flush_interval_ms: u64,
    /// Days raw ledger records are kept; daily rollups are kept for good.
    pub raw_retention_days: u32,
    /// Seconds between runs of the rollup, retention and alert job.
    pub(crate) rollup_interval_secs: u64,
    /// Upstream calls of one project in one day above which an alert is raised (0: off).
    pub(crate) alert_daily_calls: u64,
    /// Thresholds of the declared-versus-observed findings.
    pub(crate) findings: FindingPolicy,
    /// What was declared to Bentley, per project (and app key), for usage that no approved
    /// access request declares (see `metering::declared`).
    pub(crate) declarations: Vec<Declaration>,
}

impl Default for MeteringConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            queue_capacity: 50_000,
            batch_max_records: 500,
            count_operations: true,
            flush_interval_ms: 250,
            raw_retention_days: 35,
            rollup_interval_secs: 300,
            alert_daily_calls: 0,
            findings: FindingPolicy::default(),
            declarations: Vec::new(),
        }
    }
}

/// A declaration for a project, or for one app key in it (`[[metering.declarations]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// The project.
    pub(crate) project_id: String,
    /// The app key it applies to; absent for every key of the project.
    #[serde(default)]
    pub(crate) app_key_id: Option<Uuid>,
    /// The declared workflows (`compliance::findings::DeclaredWorkflow`: name, direction,
    /// entities, daily_calls, peak_calls_per_minute, sync_window).
    pub(crate) workflows: Vec<DeclaredWorkflow>,
}

impl Declaration {
    /// The `compliance` form.
    pub(crate) fn declared(&self) -> Declared {
        Declared {
            workflows: self.workflows.clone(),
        }
    }
}

impl MeteringConfig {
    /// Checks values types cannot; errors name the key.
    pub fn validate(&self) -> Result<(), String> {
        let checks: [(&str, bool, &str); 5] = [
            (
                "metering.queue_capacity",
                self.queue_capacity >= 1,
                "at least 1",
            ),
            (
                "metering.batch_max_records",
                (1..=10_000).contains(&self.batch_max_records),
                "between 1 and 10000",
            ),
            (
                "metering.flush_interval_ms",
                self.flush_interval_ms >= 1,
                "at least 1",
            ),
            (
                "metering.raw_retention_days",
                self.raw_retention_days >= 1,
                "at least 1",
            ),
            (
                "metering.rollup_interval_secs",
                self.rollup_interval_secs >= 1,
                "at least 1",
            ),
        ];
        for (key, ok, expected) in checks {
            if !ok {
                return Err(format!("`{key}` must be {expected}"));
            }
        }
        for (index, declaration) in self.declarations.iter().enumerate() {
            if declaration.project_id.trim().is_empty() {
                return Err(format!(
                    "`metering.declarations[{index}].project_id` must not be empty"
                ));
            }
        }
        Ok(())
    }
}
