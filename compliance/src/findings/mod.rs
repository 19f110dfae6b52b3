//! What an approved request declared against what was observed, for governance reports.
//!
//! [`Declared`] comes from the approved request and its load estimate; [`Observed`] is the
//! usage ledger aggregated over a period by the service. [`evaluate`] compares them and returns
//! [`Finding`]s, each with a stable `code`, a severity, a title, a detail for people and the
//! evidence behind it.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::assess::LoadEstimate;
use crate::dataclips::{analytics_field_for, dataclip_for};
use crate::model::{AccessRequest, Direction, Entity, EntityAccess, Operation, SyncWindow};

/// A period of observation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    /// The first instant (inclusive).
    pub start: DateTime<Utc>,
    /// The last instant (exclusive).
    pub end: DateTime<Utc>,
}

impl Period {
    /// Whole or started days in the period (at least 1).
    pub fn days(self) -> u64 {
        let seconds = u64::try_from((self.end - self.start).num_seconds()).unwrap_or(0);
        seconds.div_ceil(86_400).max(1)
    }
}

/// One workflow of an approved request, as declared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredWorkflow {
    /// The workflow's name (the usage ledger attributes calls to it).
    pub name: String,
    /// The declared direction.
    pub direction: Direction,
    /// The entities and operations declared.
    pub entities: Vec<EntityAccess>,
    /// Upstream calls per day, from the load estimate.
    pub daily_calls: u64,
    /// Upstream calls at the peak minute, from the load estimate.
    pub peak_calls_per_minute: u64,
    /// The declared sync window, if any.
    pub sync_window: Option<SyncWindow>,
}

impl DeclaredWorkflow {
    /// Whether the workflow only reads.
    pub fn is_read_only(&self) -> bool {
        !self.direction.writes() && !self.entities.iter().any(EntityAccess::writes)
    }

    /// Whether the workflow declares `operation` on `entity`. Reading an entity the workflow
    /// touches in any way is declared (write scopes include reading), and so is creating an
    /// attachment by a workflow that uploads.
    pub fn declares(&self, entity: Entity, operation: Operation) -> bool {
        let uploads = self
            .entities
            .iter()
            .any(|a| a.operations.contains(&Operation::Upload));
        if entity == Entity::Attachment
            && uploads
            && matches!(
                operation,
                Operation::Read | Operation::Create | Operation::Upload
            )
        {
            return true;
        }
        self.entities.iter().any(|access| {
            access.entity == entity
                && (access.operations.contains(&operation)
                    || (operation == Operation::Read && !access.operations.is_empty()))
        })
    }

    /// Whether the workflow touches `entity` at all.
    pub fn touches(&self, entity: Entity) -> bool {
        self.declares(entity, Operation::Read)
    }
}

/// What an approved request declared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declared {
    /// The declared workflows.
    pub workflows: Vec<DeclaredWorkflow>,
}

impl Declared {
    /// The declaration of an approved request with its load estimate (as returned by
    /// [`crate::assess::assess`] for that request).
    pub fn from_request(request: &AccessRequest, load: &LoadEstimate) -> Declared {
        let workflows = request
            .workflows
            .iter()
            .enumerate()
            .map(|(index, workflow)| {
                // The estimate lists workflows in the request's order; by name as a fallback.
                let estimate = load
                    .workflows
                    .get(index)
                    .filter(|w| w.workflow == workflow.name)
                    .or_else(|| load.workflows.iter().find(|w| w.workflow == workflow.name));
                DeclaredWorkflow {
                    name: workflow.name.clone(),
                    direction: workflow.direction,
                    entities: workflow.entities.clone(),
                    daily_calls: estimate.map_or(0, |e| e.total.calls_per_day),
                    peak_calls_per_minute: estimate.map_or(0, |e| e.total.peak_calls_per_minute),
                    sync_window: workflow.sync_window,
                }
            })
            .collect();
        Declared { workflows }
    }

    /// Upstream calls per day, all workflows.
    pub fn daily_calls(&self) -> u64 {
        self.workflows.iter().map(|w| w.daily_calls).sum()
    }

    /// Upstream calls at the peak minute, all workflows (their peaks may coincide).
    pub fn peak_calls_per_minute(&self) -> u64 {
        self.workflows.iter().map(|w| w.peak_calls_per_minute).sum()
    }

    fn workflow(&self, name: &str) -> Option<&DeclaredWorkflow> {
        self.workflows.iter().find(|w| w.name == name)
    }
}

/// Calls to one entity with one operation, optionally attributed to a declared workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedCalls {
    /// The entity.
    pub entity: Entity,
    /// The operation.
    pub operation: Operation,
    /// The workflow the calls were made under, if the app key is bound to one.
    pub workflow: Option<String>,
    /// Upstream calls.
    pub calls: u64,
    /// Names of GraphQL operations that made them.
    #[serde(default)]
    pub sample_operations: Vec<String>,
}

/// Upstream calls on one day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DailyCalls {
    /// The day (UTC).
    pub date: NaiveDate,
    /// Upstream calls.
    pub calls: u64,
}

/// What made an operation a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SweepKind {
    /// It read more than `over` pages.
    Pages {
        /// The page threshold.
        over: u32,
    },
    /// It asked for a date window longer than `over_days`.
    DateWindow {
        /// The window threshold in days.
        over_days: u32,
    },
}

/// Operations that swept an entity, counted over the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepPattern {
    /// The entity swept.
    pub entity: Entity,
    /// What made them sweeps.
    pub kind: SweepKind,
    /// How many operations swept.
    pub count: u64,
    /// Names of the operations.
    #[serde(default)]
    pub sample_operations: Vec<String>,
}

/// Usage aggregated over a period, from the usage ledger.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// The period.
    pub period: Period,
    /// Calls per entity and operation (and workflow).
    #[serde(default)]
    pub calls: Vec<ObservedCalls>,
    /// Calls per day.
    #[serde(default)]
    pub calls_per_day: Vec<DailyCalls>,
    /// Calls in the busiest minute.
    pub peak_calls_per_minute: u64,
    /// Calls by hour of day (UTC), 0 to 23.
    pub calls_by_hour: [u64; 24],
    /// Upstream 429 (rate limited) responses.
    pub upstream_429: u64,
    /// Upstream 503 (overloaded) responses.
    pub upstream_503: u64,
    /// Cache hits.
    pub cache_hits: u64,
    /// Cache misses.
    pub cache_misses: u64,
    /// Sweeps through the live API.
    #[serde(default)]
    pub sweeps: Vec<SweepPattern>,
}

impl Observed {
    /// Writes per entity over the period.
    pub fn writes_per_entity(&self) -> BTreeMap<Entity, u64> {
        let mut writes = BTreeMap::new();
        for row in self.calls.iter().filter(|row| row.operation.is_write()) {
            *writes.entry(row.entity).or_insert(0) += row.calls;
        }
        writes
    }

    /// The busiest day, if any call was made.
    pub fn busiest_day(&self) -> Option<DailyCalls> {
        self.calls_per_day
            .iter()
            .copied()
            .filter(|day| day.calls > 0)
            .max_by_key(|day| (day.calls, std::cmp::Reverse(day.date)))
    }
}

/// The thresholds of [`evaluate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct FindingPolicy {
    /// Percent of the declared load reported as near it (info).
    pub near_percent: u64,
    /// Percent of the declared load reported as over it (warning).
    pub over_percent: u64,
    /// Percent of the declared load reported as far over it (critical).
    pub critical_percent: u64,
    /// Cache lookups below which the hit ratio is not judged.
    pub min_cache_lookups: u64,
    /// The hit ratio, in percent, below which the cache saves little.
    pub min_cache_hit_percent: u64,
    /// Upstream 429s or 503s from which the finding is critical.
    pub upstream_errors_critical: u64,
}

impl Default for FindingPolicy {
    fn default() -> Self {
        FindingPolicy {
            near_percent: 80,
            over_percent: 100,
            critical_percent: 200,
            min_cache_lookups: 1_000,
            min_cache_hit_percent: 30,
            upstream_errors_critical: 100,
        }
    }
}

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Worth acting on.
    Warning,
    /// Act now: the use does not match what was approved, or harms the project.
    Critical,
}

impl Severity {
    /// Every severity, in declaration order (least to most severe).
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    /// The stable snake_case name (the same as the serde form; the usage report uses it as a
    /// CSS class and prints it).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// The short label for people: `info`, `warning`, `critical`. The same words as
    /// [`Severity::as_str`] today (what the usage report prints), but for people: `as_str` is
    /// stored and used as a CSS class and never changes, this may.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stable code of a finding (its snake_case form is what clients translate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingCode {
    /// Calls to an entity no workflow declares.
    UndeclaredEntity,
    /// An operation on a declared entity that its workflow does not declare.
    UndeclaredOperation,
    /// Writes under a read-only workflow.
    WriteUnderReadOnlyWorkflow,
    /// The busiest day reached 80 % of the declared daily calls.
    DailyCallsNearDeclared,
    /// The busiest day exceeded the declared daily calls.
    DailyCallsOverDeclared,
    /// The busiest day reached twice the declared daily calls.
    DailyCallsOverDoubleDeclared,
    /// The busiest minute reached 80 % of the declared peak.
    PeakRateNearDeclared,
    /// The busiest minute exceeded the declared peak.
    PeakRateOverDeclared,
    /// The busiest minute reached twice the declared peak.
    PeakRateOverDoubleDeclared,
    /// Analytical sweeps through the live API that belong on Dataclips.
    AnalyticalPatternOnLiveApi,
    /// Calls outside the declared sync windows.
    CallsOutsideSyncWindow,
    /// The upstream answered 429 (rate limited).
    UpstreamRateLimited,
    /// The upstream answered 503 (overloaded).
    UpstreamOverloaded,
    /// The cache saves little.
    CacheIneffective,
}

impl FindingCode {
    /// The stable snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::UndeclaredEntity => "undeclared_entity",
            FindingCode::UndeclaredOperation => "undeclared_operation",
            FindingCode::WriteUnderReadOnlyWorkflow => "write_under_read_only_workflow",
            FindingCode::DailyCallsNearDeclared => "daily_calls_near_declared",
            FindingCode::DailyCallsOverDeclared => "daily_calls_over_declared",
            FindingCode::DailyCallsOverDoubleDeclared => "daily_calls_over_double_declared",
            FindingCode::PeakRateNearDeclared => "peak_rate_near_declared",
            FindingCode::PeakRateOverDeclared => "peak_rate_over_declared",
            FindingCode::PeakRateOverDoubleDeclared => "peak_rate_over_double_declared",
            FindingCode::AnalyticalPatternOnLiveApi => "analytical_pattern_on_live_api",
            FindingCode::CallsOutsideSyncWindow => "calls_outside_sync_window",
            FindingCode::UpstreamRateLimited => "upstream_rate_limited",
            FindingCode::UpstreamOverloaded => "upstream_overloaded",
            FindingCode::CacheIneffective => "cache_ineffective",
        }
    }
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Calls in one hour of the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HourCount {
    /// The hour (UTC), 0 to 23.
    pub hour: u8,
    /// Calls in that hour over the period.
    pub calls: u64,
}

/// The evidence behind a finding. Only the fields that apply are set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The period observed.
    pub period: Period,
    /// The entity concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<Entity>,
    /// The operations concerned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<Operation>,
    /// The workflow concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// The count observed (calls, writes, responses, sweeps, lookups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<u64>,
    /// The count declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<u64>,
    /// The observed count in percent of the declared one (or the cache hit ratio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u64>,
    /// The day concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<NaiveDate>,
    /// Calls by hour, for the hours concerned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<HourCount>,
    /// Names of GraphQL operations concerned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample_operations: Vec<String>,
}

impl Evidence {
    fn of(period: Period) -> Evidence {
        Evidence {
            period,
            entity: None,
            operations: Vec::new(),
            workflow: None,
            observed: None,
            declared: None,
            percent: None,
            day: None,
            hours: Vec::new(),
            sample_operations: Vec::new(),
        }
    }
}

/// One finding of a governance report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The stable code.
    pub code: FindingCode,
    /// How much it matters.
    pub severity: Severity,
    /// A one-line title.
    pub title: String,
    /// What was seen and what to do, for people.
    pub detail: String,
    /// The evidence.
    pub evidence: Evidence,
}

/// Compares what was observed with what was declared. Findings come most severe first, in a
/// stable order; a usage that matches its declaration gives none.
pub fn evaluate(declared: &Declared, observed: &Observed, policy: &FindingPolicy) -> Vec<Finding> {
    let mut findings = Vec::new();
    undeclared_use(declared, observed, &mut findings);
    volume(declared, observed, policy, &mut findings);
    analytical_patterns(observed, &mut findings);
    outside_sync_window(declared, observed, &mut findings);
    upstream_errors(observed, policy, &mut findings);
    cache(observed, policy, &mut findings);
    findings.sort_by_key(|finding| std::cmp::Reverse(finding.severity));
    findings
}

/// Accumulates calls and sample operations of one kind of undeclared use.
#[derive(Default)]
struct Tally {
    calls: u64,
    operations: Vec<Operation>,
    samples: Vec<String>,
}

impl Tally {
    fn add(&mut self, row: &ObservedCalls) {
        self.calls = self.calls.saturating_add(row.calls);
        if !self.operations.contains(&row.operation) {
            self.operations.push(row.operation);
            self.operations.sort();
        }
        for sample in &row.sample_operations {
            if !self.samples.contains(sample) && self.samples.len() < 5 {
                self.samples.push(sample.clone());
            }
        }
    }
}

fn undeclared_use(declared: &Declared, observed: &Observed, findings: &mut Vec<Finding>) {
    let mut entities: BTreeMap<Entity, Tally> = BTreeMap::new();
    let mut read_only_writes: BTreeMap<(Entity, Option<String>), Tally> = BTreeMap::new();
    let mut operations: BTreeMap<(Entity, Option<String>), Tally> = BTreeMap::new();

    for row in observed.calls.iter().filter(|row| row.calls > 0) {
        let (entity, operation) = (row.entity, row.operation);
        if !declared.workflows.iter().any(|w| w.touches(entity)) {
            entities.entry(entity).or_default().add(row);
            continue;
        }
        let attributed = row
            .workflow
            .as_deref()
            .and_then(|name| declared.workflow(name));
        let key = (entity, attributed.map(|w| w.name.clone()));
        match attributed {
            Some(workflow) if operation.is_write() && workflow.is_read_only() => {
                read_only_writes.entry(key).or_default().add(row);
            }
            Some(workflow) if !workflow.declares(entity, operation) => {
                operations.entry(key).or_default().add(row);
            }
            Some(_) => {}
            None if declared
                .workflows
                .iter()
                .any(|w| w.declares(entity, operation)) => {}
            None if operation.is_write()
                && declared
                    .workflows
                    .iter()
                    .filter(|w| w.touches(entity))
                    .all(DeclaredWorkflow::is_read_only) =>
            {
                read_only_writes.entry(key).or_default().add(row);
            }
            None => {
                operations.entry(key).or_default().add(row);
            }
        }
    }

    for (entity, tally) in entities {
        let writes = tally.operations.iter().any(|op| op.is_write());
        findings.push(Finding {
            code: FindingCode::UndeclaredEntity,
            severity: if writes {
                Severity::Critical
            } else {
                Severity::Warning
            },
            title: format!("Undeclared entity: {}", entity.label()),
            detail: format!(
                "{} upstream calls ({}) touched {}, which no approved workflow declares. Declare \
                 a workflow for them in an amended request, or stop the calls.",
                tally.calls,
                op_list(&tally.operations),
                entity.label()
            ),
            evidence: Evidence {
                entity: Some(entity),
                operations: tally.operations,
                observed: Some(tally.calls),
                declared: Some(0),
                sample_operations: tally.samples,
                ..Evidence::of(observed.period)
            },
        });
    }
    for ((entity, workflow), tally) in read_only_writes {
        let under = workflow
            .as_deref()
            .map_or("read-only workflows".to_owned(), |w| {
                format!("the read-only workflow '{w}'")
            });
        findings.push(Finding {
            code: FindingCode::WriteUnderReadOnlyWorkflow,
            severity: Severity::Critical,
            title: format!("Writes to {} under a read-only workflow", entity.label()),
            detail: format!(
                "{} writes ({}) to {} were made under {under}. The token was approved for \
                 reading only: stop the writes or amend the request.",
                tally.calls,
                op_list(&tally.operations),
                entity.label()
            ),
            evidence: Evidence {
                entity: Some(entity),
                operations: tally.operations,
                workflow,
                observed: Some(tally.calls),
                declared: Some(0),
                sample_operations: tally.samples,
                ..Evidence::of(observed.period)
            },
        });
    }
    for ((entity, workflow), tally) in operations {
        let writes = tally.operations.iter().any(|op| op.is_write());
        let within = workflow
            .as_deref()
            .map_or("any workflow".to_owned(), |w| format!("the workflow '{w}'"));
        findings.push(Finding {
            code: FindingCode::UndeclaredOperation,
            severity: if writes {
                Severity::Critical
            } else {
                Severity::Warning
            },
            title: format!(
                "Undeclared {} on {}",
                op_list(&tally.operations),
                entity.label()
            ),
            detail: format!(
                "{} calls ({}) on {} are not declared by {within}.",
                tally.calls,
                op_list(&tally.operations),
                entity.label()
            ),
            evidence: Evidence {
                entity: Some(entity),
                operations: tally.operations,
                workflow,
                observed: Some(tally.calls),
                declared: Some(0),
                sample_operations: tally.samples,
                ..Evidence::of(observed.period)
            },
        });
    }
}

fn op_list(operations: &[Operation]) -> String {
    operations
        .iter()
        .map(|op| op.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The code and severity of a ratio crossing the policy's thresholds, if it crosses one.
fn crossing(
    percent: u64,
    policy: &FindingPolicy,
    codes: [FindingCode; 3],
) -> Option<(FindingCode, Severity)> {
    let [near, over, double] = codes;
    if percent >= policy.critical_percent {
        Some((double, Severity::Critical))
    } else if percent > policy.over_percent {
        Some((over, Severity::Warning))
    } else if percent >= policy.near_percent {
        Some((near, Severity::Info))
    } else {
        None
    }
}

/// `observed` in percent of `declared`; `None` when nothing was declared.
fn percent_of(observed: u64, declared: u64) -> Option<u64> {
    (declared > 0).then(|| {
        u64::try_from(u128::from(observed) * 100 / u128::from(declared)).unwrap_or(u64::MAX)
    })
}

fn volume(
    declared: &Declared,
    observed: &Observed,
    policy: &FindingPolicy,
    findings: &mut Vec<Finding>,
) {
    if let Some(day) = observed.busiest_day() {
        let limit = declared.daily_calls();
        let percent = percent_of(day.calls, limit);
        let codes = [
            FindingCode::DailyCallsNearDeclared,
            FindingCode::DailyCallsOverDeclared,
            FindingCode::DailyCallsOverDoubleDeclared,
        ];
        if let Some((code, severity)) = crossing(percent.unwrap_or(u64::MAX), policy, codes) {
            findings.push(Finding {
                code,
                severity,
                title: format!(
                    "Daily calls at {} of the declared load",
                    show_percent(percent)
                ),
                detail: format!(
                    "On {} the integration made {} upstream calls; the approved request declared \
                     {limit} a day.{}",
                    day.date,
                    day.calls,
                    advice(severity)
                ),
                evidence: Evidence {
                    observed: Some(day.calls),
                    declared: Some(limit),
                    percent,
                    day: Some(day.date),
                    ..Evidence::of(observed.period)
                },
            });
        }
    }
    if observed.peak_calls_per_minute > 0 {
        let limit = declared.peak_calls_per_minute();
        let percent = percent_of(observed.peak_calls_per_minute, limit);
        let codes = [
            FindingCode::PeakRateNearDeclared,
            FindingCode::PeakRateOverDeclared,
            FindingCode::PeakRateOverDoubleDeclared,
        ];
        if let Some((code, severity)) = crossing(percent.unwrap_or(u64::MAX), policy, codes) {
            findings.push(Finding {
                code,
                severity,
                title: format!(
                    "Peak rate at {} of the declared peak",
                    show_percent(percent)
                ),
                detail: format!(
                    "The busiest minute had {} upstream calls; the approved request declared at \
                     most {limit} a minute.{}",
                    observed.peak_calls_per_minute,
                    advice(severity)
                ),
                evidence: Evidence {
                    observed: Some(observed.peak_calls_per_minute),
                    declared: Some(limit),
                    percent,
                    ..Evidence::of(observed.period)
                },
            });
        }
    }
}

fn show_percent(percent: Option<u64>) -> String {
    match percent {
        Some(percent) => format!("{percent} %"),
        None => "over 200 % (none was declared)".to_owned(),
    }
}

fn advice(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => " It is close to its declaration: watch it.",
        Severity::Warning => " Reduce the load or amend the request with the real volume.",
        Severity::Critical => {
            " This is far beyond what Bentley approved: reduce the load now and amend the request."
        }
    }
}

fn analytical_patterns(observed: &Observed, findings: &mut Vec<Finding>) {
    for sweep in observed.sweeps.iter().filter(|s| s.count > 0) {
        let entity = sweep.entity;
        let what = match sweep.kind {
            SweepKind::Pages { over } => format!("read more than {over} pages"),
            SweepKind::DateWindow { over_days } => {
                format!("asked for windows longer than {over_days} days")
            }
        };
        let instead = match (dataclip_for(entity), analytics_field_for(entity)) {
            (Some(clip), Some(field)) => format!(
                "Use the {} dataclip (ask `analytics(projectId) {{ {field}(...) }}`).",
                clip.slug
            ),
            (Some(clip), None) => format!("Use the {} dataclip.", clip.slug),
            _ => "Narrow the queries, or request a dataclip for them.".to_owned(),
        };
        let per_day = sweep.count.div_ceil(observed.period.days());
        findings.push(Finding {
            code: FindingCode::AnalyticalPatternOnLiveApi,
            severity: Severity::Warning,
            title: format!(
                "Analytical sweeps of {} through the live API",
                entity.label()
            ),
            detail: format!(
                "{} operations ({per_day} a day) on {} {what}: analytical reading belongs on \
                 Dataclips, not the live API. {instead}",
                sweep.count,
                entity.label()
            ),
            evidence: Evidence {
                entity: Some(entity),
                observed: Some(sweep.count),
                sample_operations: sweep.sample_operations.clone(),
                ..Evidence::of(observed.period)
            },
        });
    }
}

fn outside_sync_window(declared: &Declared, observed: &Observed, findings: &mut Vec<Finding>) {
    let windows: Option<Vec<SyncWindow>> =
        declared.workflows.iter().map(|w| w.sync_window).collect();
    let Some(windows) = windows.filter(|w| !w.is_empty()) else {
        return;
    };
    let hours: Vec<HourCount> = (0u8..24)
        .zip(observed.calls_by_hour)
        .filter(|(hour, calls)| *calls > 0 && !windows.iter().any(|w| w.overlaps_hour(*hour)))
        .map(|(hour, calls)| HourCount { hour, calls })
        .collect();
    if hours.is_empty() {
        return;
    }
    let calls: u64 = hours.iter().map(|h| h.calls).sum();
    let listed: Vec<String> = windows.iter().map(ToString::to_string).collect();
    findings.push(Finding {
        code: FindingCode::CallsOutsideSyncWindow,
        severity: Severity::Warning,
        title: "Calls outside the declared sync window".to_owned(),
        detail: format!(
            "{calls} upstream calls were made outside the declared window ({}), in {} hours of \
             the day: keep bulk work inside the window, or amend the request.",
            listed.join(", "),
            hours.len()
        ),
        evidence: Evidence {
            observed: Some(calls),
            hours,
            ..Evidence::of(observed.period)
        },
    });
}

fn upstream_errors(observed: &Observed, policy: &FindingPolicy, findings: &mut Vec<Finding>) {
    let severity = |count: u64| {
        if count >= policy.upstream_errors_critical {
            Severity::Critical
        } else {
            Severity::Warning
        }
    };
    if observed.upstream_429 > 0 {
        findings.push(Finding {
            code: FindingCode::UpstreamRateLimited,
            severity: severity(observed.upstream_429),
            title: "The upstream rate-limited the integration".to_owned(),
            detail: format!(
                "SYNCHRO Perform answered 429 Too Many Requests {} times: the integration goes \
                 faster than the project allows. Spread the work, cache more, or lower the rate \
                 budget.",
                observed.upstream_429
            ),
            evidence: Evidence {
                observed: Some(observed.upstream_429),
                ..Evidence::of(observed.period)
            },
        });
    }
    if observed.upstream_503 > 0 {
        findings.push(Finding {
            code: FindingCode::UpstreamOverloaded,
            severity: severity(observed.upstream_503),
            title: "The upstream was overloaded".to_owned(),
            detail: format!(
                "SYNCHRO Perform answered 503 Service Unavailable {} times: the project was \
                 overloaded, and its users felt it too. Move bulk work off-peak or to \
                 Dataclips.",
                observed.upstream_503
            ),
            evidence: Evidence {
                observed: Some(observed.upstream_503),
                ..Evidence::of(observed.period)
            },
        });
    }
}

fn cache(observed: &Observed, policy: &FindingPolicy, findings: &mut Vec<Finding>) {
    let lookups = observed.cache_hits.saturating_add(observed.cache_misses);
    if lookups < policy.min_cache_lookups.max(1) {
        return;
    }
    let percent = percent_of(observed.cache_hits, lookups).unwrap_or(0);
    if percent >= policy.min_cache_hit_percent {
        return;
    }
    findings.push(Finding {
        code: FindingCode::CacheIneffective,
        severity: Severity::Info,
        title: format!("The cache answers only {percent} % of lookups"),
        detail: format!(
            "{} of {lookups} cache lookups were hits: most queries reach the upstream. Ask \
             clients to repeat queries in the same shape, accept older data, or lengthen the \
             cache's time to live.",
            observed.cache_hits
        ),
        evidence: Evidence {
            observed: Some(observed.cache_hits),
            declared: Some(lookups),
            percent: Some(percent),
            ..Evidence::of(observed.period)
        },
    });
}

#[cfg(test)]
mod tests;
