//! The usage report of a project over a period: totals; usage by day, app key, GraphQL
//! operation and upstream endpoint; the cache's hit ratio and the upstream calls it avoided;
//! and the findings of what was declared against what was observed.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use gatehouse_compliance::findings::{self, Declared, Finding, FindingCode};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use uuid::Uuid;

use super::observed::{SweepLimits, observe};
use super::store::{DailyRow, Scope, daily_rows, raw_cutoff};
use super::{MeteringConfig, declared};
use crate::db::entities::app_keys;

/// The longest period a report covers, in days.
pub(crate) const MAX_REPORT_DAYS: i64 = 366;

/// What a report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRequest {
    /// The project.
    pub project_id: String,
    /// One app key, or every caller.
    pub app_key_id: Option<Uuid>,
    /// First day (UTC).
    pub from: NaiveDate,
    /// Last day, included.
    pub to: NaiveDate,
}

/// Why a report request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// `to` is before `from`.
    #[error("`to` ({to}) is before `from` ({from})")]
    Reversed {
        /// From.
        from: NaiveDate,
        /// To.
        to: NaiveDate,
    },
    /// The period is too long.
    #[error("the period is {days} days; at most {MAX_REPORT_DAYS} are reported at once")]
    TooLong {
        /// Days asked for.
        days: i64,
    },
    /// The database failed.
    #[error("the ledger could not be read: {0}")]
    Database(#[from] DbErr),
}

impl ReportRequest {
    /// Checks the period.
    pub(crate) fn validate(&self) -> Result<(), ReportError> {
        if self.to < self.from {
            return Err(ReportError::Reversed {
                from: self.from,
                to: self.to,
            });
        }
        let days = (self.to - self.from).num_days() + 1;
        if days > MAX_REPORT_DAYS {
            return Err(ReportError::TooLong { days });
        }
        Ok(())
    }
}

/// Who used SYNCHRO Perform through Gatehouse, how much, for what, and whether it matched what
/// was declared.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(complex)
)]
pub struct UsageReport {
    /// The project.
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub project_id: String,
    /// The app key reported on, if one.
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub app_key_id: Option<Uuid>,
    /// First day (UTC).
    pub from: NaiveDate,
    /// Last day, included.
    pub to: NaiveDate,
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// Whether a declaration was on record to compare with.
    pub declared: bool,
    /// The first day with raw records: minute, hour and sweep evidence covers days from it.
    pub detail_from: NaiveDate,
    /// Totals.
    pub totals: Totals,
    /// Every day of the period.
    pub by_day: Vec<DayUsage>,
    /// Per app key (or signed-in users).
    pub by_app_key: Vec<KeyUsage>,
    /// Per GraphQL operation.
    pub by_operation: Vec<OperationUsage>,
    /// Per upstream endpoint and method.
    pub by_endpoint: Vec<EndpointUsage>,
    /// Declared against observed, most severe first.
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub findings: Vec<Finding>,
    /// The per-day rows behind it (the CSV export).
    #[cfg_attr(feature = "graphql", graphql(skip))]
    #[serde(skip)]
    pub(crate) rows: Vec<DailyRow>,
}

/// Totals of a usage report.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "UsageReportTotals")
)]
pub struct Totals {
    /// GraphQL operations.
    pub operations: u64,
    /// Operations that failed during execution.
    pub operations_failed: u64,
    /// Operations refused before execution.
    pub operations_refused: u64,
    /// Upstream call attempts.
    pub upstream_calls: u64,
    /// Upstream calls that failed (no answer or status ≥ 400).
    pub upstream_errors: u64,
    /// Retries among them.
    pub upstream_retries: u64,
    /// 429 answers.
    pub upstream_429: u64,
    /// 503 answers.
    pub upstream_503: u64,
    /// Request bytes sent upstream.
    pub bytes_sent: u64,
    /// Response bytes received from upstream.
    pub bytes_received: u64,
    /// Cache hits (fresh or stale).
    pub cache_hits: u64,
    /// Cache misses.
    pub cache_misses: u64,
    /// Hits over lookups, 0 to 1; absent without lookups.
    pub cache_hit_ratio: Option<f64>,
    /// Upstream calls the cache avoided: one per hit.
    pub upstream_calls_avoided: u64,
    /// Mean upstream latency, in milliseconds.
    pub mean_latency_ms: Option<f64>,
}

/// One day of a usage report.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "UsageByDay")
)]
pub struct DayUsage {
    /// The day (UTC).
    pub day: NaiveDate,
    /// GraphQL operations.
    pub operations: u64,
    /// Upstream calls.
    pub upstream_calls: u64,
    /// Cache hits.
    pub cache_hits: u64,
    /// Cache misses.
    pub cache_misses: u64,
    /// Failed upstream calls.
    pub upstream_errors: u64,
}

/// One caller of a usage report.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(complex, name = "UsageByAppKey")
)]
pub struct KeyUsage {
    /// The app key; `None` for signed-in users.
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub app_key_id: Option<String>,
    /// The key's name, when it still exists.
    pub name: Option<String>,
    /// GraphQL operations.
    pub operations: u64,
    /// Refused operations.
    pub refused: u64,
    /// Upstream calls.
    pub upstream_calls: u64,
    /// Cache hits.
    pub cache_hits: u64,
    /// Cache misses.
    pub cache_misses: u64,
}

/// One GraphQL operation of a usage report.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(name = "UsageByOperation")
)]
pub struct OperationUsage {
    /// The operation name (`(anonymous)` for unnamed ones).
    pub operation: String,
    /// `query` or `mutation`.
    pub kind: String,
    /// Times it ran or was refused.
    pub count: u64,
    /// Failed in execution.
    pub errors: u64,
    /// Refused before execution.
    pub refused: u64,
    /// Cache hits.
    pub cache_hits: u64,
    /// Cache misses.
    pub cache_misses: u64,
    /// Upstream calls it made.
    pub upstream_calls: u64,
    /// Mean duration, in milliseconds.
    pub mean_duration_ms: f64,
    /// Estimated cost, summed.
    pub estimated_cost: u64,
}

/// One upstream endpoint of a usage report.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(complex, name = "UsageByEndpoint")
)]
pub struct EndpointUsage {
    /// HTTP method.
    pub method: String,
    /// The endpoint template.
    pub endpoint: String,
    /// The entity it serves ('' when unknown).
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub entity: String,
    /// Call attempts.
    pub calls: u64,
    /// Failed.
    pub errors: u64,
    /// Retries.
    pub retries: u64,
    /// 429 answers.
    pub status_429: u64,
    /// 503 answers.
    pub status_503: u64,
    /// Response bytes.
    pub bytes_received: u64,
    /// Mean latency, in milliseconds.
    pub mean_latency_ms: f64,
}

fn n(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn mean_ms(sum_us: u64, count: u64) -> f64 {
    if count == 0 {
        0.0
    } else {
        // Rounded to a tenth of a millisecond: reports show no more.
        ((sum_us as f64 / count as f64) / 100.0).round() / 10.0
    }
}

/// Findings that stand without a declaration.
fn needs_no_declaration(code: FindingCode) -> bool {
    matches!(
        code,
        FindingCode::AnalyticalPatternOnLiveApi
            | FindingCode::UpstreamRateLimited
            | FindingCode::UpstreamOverloaded
            | FindingCode::CacheIneffective
    )
}

/// Builds the report of `request` from the ledger.
pub async fn build<C: ConnectionTrait>(
    db: &C,
    config: &MeteringConfig,
    declarations: &declared::Declarations,
    limits: SweepLimits,
    request: &ReportRequest,
) -> Result<UsageReport, ReportError> {
    request.validate()?;
    let today = super::store::today();
    let cutoff = raw_cutoff(today, config.raw_retention_days);
    let scope = Scope {
        project_id: Some(request.project_id.clone()),
        app_key_id: request.app_key_id,
        from: request.from,
        to: request.to,
    };
    let rows = daily_rows(db, &scope, cutoff).await?;
    let observed = observe(db, &scope, &rows, limits).await?;
    let declaration = declarations
        .declared_for(db, &request.project_id, request.app_key_id)
        .await?;
    let findings = match &declaration {
        Some(declared) => findings::evaluate(declared, &observed, &config.findings),
        None => findings::evaluate(&Declared::default(), &observed, &config.findings)
            .into_iter()
            .filter(|f| needs_no_declaration(f.code))
            .collect(),
    };

    let mut totals = Totals::default();
    let mut latency_us = 0u64;
    let mut days: BTreeMap<NaiveDate, DayUsage> = BTreeMap::new();
    let mut day = request.from;
    while day <= request.to {
        days.insert(
            day,
            DayUsage {
                day,
                ..DayUsage::default()
            },
        );
        day += Days::days(1);
    }
    let mut keys: BTreeMap<String, KeyUsage> = BTreeMap::new();
    let mut operations: BTreeMap<(String, String), (OperationUsage, u64)> = BTreeMap::new();
    let mut endpoints: BTreeMap<(String, String), (EndpointUsage, u64)> = BTreeMap::new();
    for row in &rows {
        let date = NaiveDate::parse_from_str(&row.day, "%Y-%m-%d").ok();
        let day = date.and_then(|d| days.get_mut(&d));
        let key = keys
            .entry(row.app_key_id.clone())
            .or_insert_with(|| KeyUsage {
                app_key_id: (!row.app_key_id.is_empty()).then(|| row.app_key_id.clone()),
                ..KeyUsage::default()
            });
        if row.kind == "call" {
            totals.upstream_calls += n(row.count);
            totals.upstream_errors += n(row.errors);
            totals.upstream_retries += n(row.retries);
            totals.upstream_429 += n(row.status_429);
            totals.upstream_503 += n(row.status_503);
            totals.bytes_sent += n(row.bytes_sent);
            totals.bytes_received += n(row.bytes_received);
            latency_us += n(row.duration_us_sum);
            key.upstream_calls += n(row.count);
            if let Some(day) = day {
                day.upstream_calls += n(row.count);
                day.upstream_errors += n(row.errors);
            }
            let (endpoint, sum) = endpoints
                .entry((row.name.clone(), row.method.clone()))
                .or_insert_with(|| {
                    (
                        EndpointUsage {
                            method: row.method.clone(),
                            endpoint: row.name.clone(),
                            entity: row.entity.clone(),
                            ..EndpointUsage::default()
                        },
                        0,
                    )
                });
            endpoint.calls += n(row.count);
            endpoint.errors += n(row.errors);
            endpoint.retries += n(row.retries);
            endpoint.status_429 += n(row.status_429);
            endpoint.status_503 += n(row.status_503);
            endpoint.bytes_received += n(row.bytes_received);
            *sum += n(row.duration_us_sum);
        } else {
            totals.operations += n(row.count);
            totals.operations_failed += n(row.errors);
            totals.operations_refused += n(row.refused);
            totals.cache_hits += n(row.cache_hits);
            totals.cache_misses += n(row.cache_misses);
            key.operations += n(row.count);
            key.refused += n(row.refused);
            key.cache_hits += n(row.cache_hits);
            key.cache_misses += n(row.cache_misses);
            if let Some(day) = day {
                day.operations += n(row.count);
                day.cache_hits += n(row.cache_hits);
                day.cache_misses += n(row.cache_misses);
            }
            let name = if row.name.is_empty() {
                "(anonymous)".to_owned()
            } else {
                row.name.clone()
            };
            let (operation, sum) = operations
                .entry((name.clone(), row.method.clone()))
                .or_insert_with(|| {
                    (
                        OperationUsage {
                            operation: name,
                            kind: row.method.clone(),
                            ..OperationUsage::default()
                        },
                        0,
                    )
                });
            operation.count += n(row.count);
            operation.errors += n(row.errors);
            operation.refused += n(row.refused);
            operation.cache_hits += n(row.cache_hits);
            operation.cache_misses += n(row.cache_misses);
            operation.upstream_calls += n(row.upstream_calls);
            operation.estimated_cost += n(row.estimated_cost);
            *sum += n(row.duration_us_sum);
        }
    }
    let lookups = totals.cache_hits + totals.cache_misses;
    totals.cache_hit_ratio = (lookups > 0)
        .then(|| ((totals.cache_hits as f64 / lookups as f64) * 1000.0).round() / 1000.0);
    totals.upstream_calls_avoided = totals.cache_hits;
    totals.mean_latency_ms =
        (totals.upstream_calls > 0).then(|| mean_ms(latency_us, totals.upstream_calls));

    let ids: Vec<Uuid> = keys
        .keys()
        .filter_map(|k| Uuid::parse_str(k).ok())
        .collect();
    if !ids.is_empty() {
        for key in app_keys::Entity::find()
            .filter(app_keys::Column::Id.is_in(ids))
            .all(db)
            .await?
        {
            if let Some(usage) = keys.get_mut(&key.id.to_string()) {
                usage.name = Some(key.name);
            }
        }
    }
    let mut by_operation: Vec<OperationUsage> = operations
        .into_values()
        .map(|(mut usage, sum)| {
            usage.mean_duration_ms = mean_ms(sum, usage.count);
            usage
        })
        .collect();
    by_operation.sort_by(|a, b| b.count.cmp(&a.count).then(a.operation.cmp(&b.operation)));
    let mut by_endpoint: Vec<EndpointUsage> = endpoints
        .into_values()
        .map(|(mut usage, sum)| {
            usage.mean_latency_ms = mean_ms(sum, usage.calls);
            usage
        })
        .collect();
    by_endpoint.sort_by(|a, b| b.calls.cmp(&a.calls).then(a.endpoint.cmp(&b.endpoint)));
    let mut by_app_key: Vec<KeyUsage> = keys.into_values().collect();
    by_app_key.sort_by(|a, b| {
        (b.operations + b.upstream_calls)
            .cmp(&(a.operations + a.upstream_calls))
            .then(a.app_key_id.cmp(&b.app_key_id))
    });

    Ok(UsageReport {
        project_id: request.project_id.clone(),
        app_key_id: request.app_key_id,
        from: request.from,
        to: request.to,
        generated_at: Utc::now(),
        declared: declaration.is_some(),
        detail_from: cutoff.max(request.from),
        totals,
        by_day: days.into_values().collect(),
        by_app_key,
        by_operation,
        by_endpoint,
        findings,
        rows,
    })
}
