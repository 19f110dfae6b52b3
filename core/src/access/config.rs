//! `[access]`: the thresholds of an access-request assessment, how much one request may say
//! (`[access.limits]`) and what one user may create per day (`[access.quotas]`).

use gatehouse_compliance::AssessmentPolicy;
use serde::Deserialize;

/// The thresholds of an access-request assessment (`compliance::AssessmentPolicy`). The
/// defaults are the compliance crate's reading of Bentley's criteria.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// Shortest description of a workflow or of the integration's purpose, in characters.
    pub min_description_chars: usize,
    /// Records per day from which a workflow is a large data requirement.
    pub large_records_per_day: u64,
    /// Bytes per day from which a workflow is a large data requirement.
    pub(crate) large_bytes_per_day: u64,
    /// Size of one file from which an upload is large, in bytes.
    pub(crate) large_payload_bytes: u64,
    /// Records per day from which a read-only workflow is bulk reading (→ Dataclips).
    pub bulk_read_records_per_day: u64,
    /// Runs per day above which reading a heavy collection is high-frequency polling.
    pub heavy_poll_max_runs_per_day: u64,
    /// Average size of a record, in bytes, for the bytes-per-day estimate.
    pub average_record_bytes: u64,
    /// Minutes of a day over which on-demand runs spread.
    pub on_demand_active_minutes: u32,
    /// How much one request may say (`[access.limits]`).
    pub limits: super::input::InputLimits,
    /// What one user may create per day (`[access.quotas]`).
    pub(crate) quotas: super::Quotas,
}

impl Default for AccessConfig {
    fn default() -> Self {
        let policy = AssessmentPolicy::default();
        Self {
            min_description_chars: policy.min_description_chars,
            large_records_per_day: policy.large_records_per_day,
            large_bytes_per_day: policy.large_bytes_per_day,
            large_payload_bytes: policy.large_payload_bytes,
            bulk_read_records_per_day: policy.bulk_read_records_per_day,
            heavy_poll_max_runs_per_day: policy.heavy_poll_max_runs_per_day,
            average_record_bytes: policy.average_record_bytes,
            on_demand_active_minutes: policy.on_demand_active_minutes,
            limits: super::input::InputLimits::default(),
            quotas: super::Quotas::default(),
        }
    }
}

impl AccessConfig {
    /// The assessment policy these thresholds make. The upstream facts (page sizes, pace) are
    /// the compliance crate's defaults, which match the simulator.
    pub fn policy(&self) -> AssessmentPolicy {
        AssessmentPolicy {
            min_description_chars: self.min_description_chars,
            large_records_per_day: self.large_records_per_day,
            large_bytes_per_day: self.large_bytes_per_day,
            large_payload_bytes: self.large_payload_bytes,
            bulk_read_records_per_day: self.bulk_read_records_per_day,
            heavy_poll_max_runs_per_day: self.heavy_poll_max_runs_per_day,
            average_record_bytes: self.average_record_bytes,
            on_demand_active_minutes: self.on_demand_active_minutes,
            ..AssessmentPolicy::default()
        }
    }
}
