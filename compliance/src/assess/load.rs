//! The load estimate of a request: upstream calls per day and at the peak minute, records and
//! bytes per day, by direction, per workflow and in total.
//!
//! The model, an upper bound that a reviewer can check by hand:
//!
//! - **Runs per day** come from the trigger ([`Trigger::runs_per_day`]): an interval inside the
//!   sync window only, the listed times of a daily schedule, the expected count of an on-demand
//!   workflow.
//! - **Records per run** `r` are read if the workflow reads anything and written if it creates,
//!   updates or deletes anything (a two-way sync reads what it compares and writes what it
//!   changes: counting both is the upper bound).
//! - **Read calls per run** are the pages of `r` records spread over the `k` entities read:
//!   `ceil(r / page) + k - 1` (each further collection can cost one more partly filled page), at
//!   least one page per entity. The page is the profile's default page size.
//! - **Write calls per run** are one per record written (the REST API has no bulk writes) plus
//!   one per uploaded file.
//! - **Bytes** are records × the policy's average record size, plus uploaded files × their
//!   average size.
//! - **Peak per minute**: a run paces itself to the profile's calls per minute, so a run adds
//!   `min(calls per run, pace)` calls to its busiest minute; on-demand runs may start in the same
//!   minute when more are expected than the active minutes of a day
//!   (`ceil(expected / active minutes)`). Totals add up the workflows' peaks (they may coincide).
//!
//! Every quantity grows (never shrinks) when a workflow runs more often or moves more.

use serde::{Deserialize, Serialize};

use crate::model::{Operation, Trigger, Workflow};
use crate::profile::UpstreamProfile;

use super::AssessmentPolicy;

/// Load in one direction (or in total).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Load {
    /// Upstream calls per day.
    pub calls_per_day: u64,
    /// Upstream calls in the busiest minute.
    pub peak_calls_per_minute: u64,
    /// Records moved per day.
    pub records_per_day: u64,
    /// Bytes moved per day (records and files).
    pub bytes_per_day: u64,
}

impl Load {
    /// The sum of two loads (peaks add up: the worst case is that they coincide).
    pub fn plus(self, other: Load) -> Load {
        Load {
            calls_per_day: self.calls_per_day.saturating_add(other.calls_per_day),
            peak_calls_per_minute: self
                .peak_calls_per_minute
                .saturating_add(other.peak_calls_per_minute),
            records_per_day: self.records_per_day.saturating_add(other.records_per_day),
            bytes_per_day: self.bytes_per_day.saturating_add(other.bytes_per_day),
        }
    }
}

/// The estimated load of one workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowLoad {
    /// The workflow's name.
    pub workflow: String,
    /// Runs per day.
    pub runs_per_day: u64,
    /// Upstream calls per run (read and write).
    pub calls_per_run: u64,
    /// Minutes a run takes at the profile's pace.
    pub run_minutes: u64,
    /// Reading from SYNCHRO Perform.
    pub read: Load,
    /// Writing to SYNCHRO Perform (records and uploads).
    pub write: Load,
    /// Both directions.
    pub total: Load,
    /// The inputs the estimate lacks (counted as zero), as phrases for people.
    pub missing: Vec<String>,
}

/// The estimated load of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadEstimate {
    /// Per workflow, in the request's order.
    pub workflows: Vec<WorkflowLoad>,
    /// Reading, all workflows.
    pub read: Load,
    /// Writing, all workflows.
    pub write: Load,
    /// Both directions, all workflows.
    pub total: Load,
    /// Whether every workflow gave what the estimate needs.
    pub complete: bool,
}

/// Estimates the load of `workflows` under `policy` (see the module's documentation).
pub fn estimate_load(workflows: &[Workflow], policy: &AssessmentPolicy) -> LoadEstimate {
    let per_workflow: Vec<WorkflowLoad> = workflows
        .iter()
        .map(|workflow| estimate_workflow(workflow, policy))
        .collect();
    let sum = |pick: fn(&WorkflowLoad) -> Load| {
        per_workflow
            .iter()
            .map(pick)
            .fold(Load::default(), Load::plus)
    };
    LoadEstimate {
        read: sum(|w| w.read),
        write: sum(|w| w.write),
        total: sum(|w| w.total),
        complete: per_workflow.iter().all(|w| w.missing.is_empty()),
        workflows: per_workflow,
    }
}

/// Estimates the load of one workflow.
pub fn estimate_workflow(workflow: &Workflow, policy: &AssessmentPolicy) -> WorkflowLoad {
    let profile: &UpstreamProfile = &policy.upstream;
    let mut missing = Vec::new();

    let runs_per_day = match &workflow.trigger {
        Some(trigger) => trigger.runs_per_day(workflow.sync_window),
        None => {
            missing.push("trigger and frequency".to_owned());
            0
        }
    };
    let records = workflow.records_per_run.unwrap_or_else(|| {
        missing.push("records per run".to_owned());
        0
    });
    let (files, average_file_bytes) = match (workflow.uploads_files(), workflow.uploads) {
        (true, Some(uploads)) => (uploads.files_per_run, uploads.average_bytes),
        (true, None) => {
            missing.push("upload count and sizes".to_owned());
            (0, 0)
        }
        (false, _) => (0, 0),
    };

    let read_entities = workflow.read_entities().len() as u64;
    let writes_records = workflow.entities.iter().any(|access| {
        access
            .operations
            .iter()
            .any(|op| op.is_write() && *op != Operation::Upload)
    });

    let read_records = if read_entities > 0 { records } else { 0 };
    let read_calls = if read_entities == 0 {
        0
    } else {
        (UpstreamProfile::pages(records, profile.default_page_size) + read_entities - 1)
            .max(read_entities)
    };
    let write_records = if writes_records { records } else { 0 };
    let write_calls = write_records.saturating_add(files);

    let record_bytes = policy.average_record_bytes;
    let read_bytes = read_records.saturating_mul(record_bytes);
    let write_bytes = write_records
        .saturating_mul(record_bytes)
        .saturating_add(files.saturating_mul(average_file_bytes));

    let concurrency = concurrent_runs(workflow.trigger.as_ref(), policy);
    let pace = u64::from(profile.calls_per_minute.max(1));
    let peak = |calls_per_run: u64| {
        if runs_per_day == 0 {
            0
        } else {
            calls_per_run.min(pace).saturating_mul(concurrency)
        }
    };
    let per_day = |per_run: u64| per_run.saturating_mul(runs_per_day);

    let read = Load {
        calls_per_day: per_day(read_calls),
        peak_calls_per_minute: peak(read_calls),
        records_per_day: per_day(read_records),
        bytes_per_day: per_day(read_bytes),
    };
    let write = Load {
        calls_per_day: per_day(write_calls),
        peak_calls_per_minute: peak(write_calls),
        records_per_day: per_day(write_records),
        bytes_per_day: per_day(write_bytes),
    };
    let calls_per_run = read_calls.saturating_add(write_calls);
    let total = Load {
        peak_calls_per_minute: peak(calls_per_run),
        ..read.plus(write)
    };

    WorkflowLoad {
        workflow: workflow.name.clone(),
        runs_per_day,
        calls_per_run,
        run_minutes: calls_per_run.div_ceil(pace),
        read,
        write,
        total,
        missing,
    }
}

/// Runs that may start in the same minute.
fn concurrent_runs(trigger: Option<&Trigger>, policy: &AssessmentPolicy) -> u64 {
    match trigger {
        Some(Trigger::OnDemand { expected_per_day }) => u64::from(*expected_per_day)
            .div_ceil(u64::from(policy.on_demand_active_minutes.max(1)))
            .max(1),
        Some(Trigger::Daily { at }) => at
            .iter()
            .map(|time| at.iter().filter(|other| *other == time).count() as u64)
            .max()
            .unwrap_or(1),
        Some(Trigger::Interval { .. }) | None => 1,
    }
}
