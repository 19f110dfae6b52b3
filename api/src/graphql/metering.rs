//! Usage reports and alerts in GraphQL, for governance reviewers and admins:
//! `usageReport(from, to, projectId, appKeyId)`, `alerts(projectId, acknowledged)` and
//! `acknowledgeAlert(id)`.

use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use gatehouse_compliance::findings::Finding;

use super::guard::RoleGuard;
use super::types::EntityName;
use super::{principal, services};
use crate::error::ApiError;
use crate::principal::parse_id;
use gatehouse_core::auth::Role;
use gatehouse_core::metering::alerts::{self, Alert};
use gatehouse_core::metering::report::{self, ReportError, ReportRequest};

/// How much a finding matters.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "gatehouse_compliance::findings::Severity")]
pub enum FindingSeverity {
    /// Worth knowing.
    Info,
    /// Worth acting on.
    Warning,
    /// Act now.
    Critical,
}

/// Calls in one hour of the day (UTC).
#[derive(SimpleObject, Debug, Clone)]
pub struct HourCalls {
    /// The hour, 0 to 23.
    pub hour: i32,
    /// Calls in it.
    pub calls: u64,
}

/// The evidence behind a finding; only the fields that apply are set.
#[derive(SimpleObject, Debug, Clone)]
pub struct FindingEvidence {
    /// Start of the period observed.
    pub period_start: DateTime<Utc>,
    /// End of the period observed (exclusive).
    pub period_end: DateTime<Utc>,
    /// The entity concerned.
    pub entity: Option<EntityName>,
    /// The operations concerned (`read`, `create`, ...).
    pub operations: Vec<String>,
    /// The workflow concerned.
    pub workflow: Option<String>,
    /// The count observed.
    pub observed: Option<u64>,
    /// The count declared.
    pub declared: Option<u64>,
    /// Observed in percent of declared (or the cache hit ratio).
    pub percent: Option<u64>,
    /// The day concerned.
    pub day: Option<NaiveDate>,
    /// Calls by hour, for the hours concerned.
    pub hours: Vec<HourCalls>,
    /// GraphQL operations concerned.
    pub sample_operations: Vec<String>,
}

/// A declared-versus-observed finding.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "UsageFinding")]
pub struct FindingView {
    /// The stable snake_case code (`undeclared_entity`, `write_under_read_only_workflow`, ...).
    pub code: String,
    /// How much it matters.
    pub severity: FindingSeverity,
    /// A one-line title.
    pub title: String,
    /// What was seen and what to do.
    pub detail: String,
    /// The evidence.
    pub evidence: FindingEvidence,
}

impl From<&Finding> for FindingView {
    fn from(f: &Finding) -> Self {
        let e = &f.evidence;
        Self {
            code: f.code.as_str().to_owned(),
            severity: f.severity.into(),
            title: f.title.clone(),
            detail: f.detail.clone(),
            evidence: FindingEvidence {
                period_start: e.period.start,
                period_end: e.period.end,
                entity: e.entity.map(Into::into),
                operations: e.operations.iter().map(|o| o.as_str().to_owned()).collect(),
                workflow: e.workflow.clone(),
                observed: e.observed,
                declared: e.declared,
                percent: e.percent,
                day: e.day,
                hours: e
                    .hours
                    .iter()
                    .map(|h| HourCalls {
                        hour: i32::from(h.hour),
                        calls: h.calls,
                    })
                    .collect(),
                sample_operations: e.sample_operations.clone(),
            },
        }
    }
}

/// Totals of a usage report (`UsageTotals` is the Dataclips analytics type).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "UsageReportTotals")]
pub struct UsageTotals {
    /// GraphQL operations.
    pub operations: u64,
    /// Operations that failed during execution.
    pub operations_failed: u64,
    /// Operations refused before execution.
    pub operations_refused: u64,
    /// Upstream call attempts.
    pub upstream_calls: u64,
    /// Upstream calls that failed.
    pub upstream_errors: u64,
    /// Retries.
    pub upstream_retries: u64,
    /// Upstream 429 answers.
    pub upstream_429: u64,
    /// Upstream 503 answers.
    pub upstream_503: u64,
    /// Bytes sent upstream.
    pub bytes_sent: u64,
    /// Bytes received from upstream.
    pub bytes_received: u64,
    /// Cache hits.
    pub cache_hits: u64,
    /// Cache misses.
    pub cache_misses: u64,
    /// Hits over lookups, 0 to 1.
    pub cache_hit_ratio: Option<f64>,
    /// Upstream calls avoided by the cache (one per hit).
    pub upstream_calls_avoided: u64,
    /// Mean upstream latency, in milliseconds.
    pub mean_latency_ms: Option<f64>,
}

/// One day of a usage report.
#[derive(SimpleObject, Debug, Clone)]
pub struct UsageByDay {
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
#[derive(SimpleObject, Debug, Clone)]
pub struct UsageByAppKey {
    /// The app key (null for signed-in users).
    pub app_key_id: Option<ID>,
    /// The key's name.
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
#[derive(SimpleObject, Debug, Clone)]
pub struct UsageByOperation {
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
    /// Upstream calls.
    pub upstream_calls: u64,
    /// Mean duration, in milliseconds.
    pub mean_duration_ms: f64,
    /// Estimated cost, summed.
    pub estimated_cost: u64,
}

/// One upstream endpoint of a usage report.
#[derive(SimpleObject, Debug, Clone)]
pub struct UsageByEndpoint {
    /// HTTP method.
    pub method: String,
    /// The endpoint template.
    pub endpoint: String,
    /// The entity it serves, when known.
    pub entity: Option<EntityName>,
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
    /// Bytes received.
    pub bytes_received: u64,
    /// Mean latency, in milliseconds.
    pub mean_latency_ms: f64,
}

/// Who used SYNCHRO Perform through Gatehouse, how much, for what, and whether it matched what
/// was declared.
#[derive(SimpleObject, Debug, Clone)]
pub struct UsageReport {
    /// The project.
    pub project_id: ID,
    /// The app key reported on, when one.
    pub app_key_id: Option<ID>,
    /// First day (UTC).
    pub from: NaiveDate,
    /// Last day, included.
    pub to: NaiveDate,
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// Whether a declaration was on record to compare with.
    pub declared: bool,
    /// The first day with raw records (minute, hour and sweep evidence starts there).
    pub detail_from: NaiveDate,
    /// Totals.
    pub totals: UsageTotals,
    /// Every day of the period.
    pub by_day: Vec<UsageByDay>,
    /// Per app key.
    pub by_app_key: Vec<UsageByAppKey>,
    /// Per GraphQL operation.
    pub by_operation: Vec<UsageByOperation>,
    /// Per upstream endpoint.
    pub by_endpoint: Vec<UsageByEndpoint>,
    /// Declared against observed, most severe first.
    pub findings: Vec<FindingView>,
}

impl From<report::UsageReport> for UsageReport {
    fn from(r: report::UsageReport) -> Self {
        let t = r.totals;
        Self {
            project_id: ID(r.project_id),
            app_key_id: r.app_key_id.map(|k| ID(k.to_string())),
            from: r.from,
            to: r.to,
            generated_at: r.generated_at,
            declared: r.declared,
            detail_from: r.detail_from,
            totals: UsageTotals {
                operations: t.operations,
                operations_failed: t.operations_failed,
                operations_refused: t.operations_refused,
                upstream_calls: t.upstream_calls,
                upstream_errors: t.upstream_errors,
                upstream_retries: t.upstream_retries,
                upstream_429: t.upstream_429,
                upstream_503: t.upstream_503,
                bytes_sent: t.bytes_sent,
                bytes_received: t.bytes_received,
                cache_hits: t.cache_hits,
                cache_misses: t.cache_misses,
                cache_hit_ratio: t.cache_hit_ratio,
                upstream_calls_avoided: t.upstream_calls_avoided,
                mean_latency_ms: t.mean_latency_ms,
            },
            by_day: r
                .by_day
                .into_iter()
                .map(|d| UsageByDay {
                    day: d.day,
                    operations: d.operations,
                    upstream_calls: d.upstream_calls,
                    cache_hits: d.cache_hits,
                    cache_misses: d.cache_misses,
                    upstream_errors: d.upstream_errors,
                })
                .collect(),
            by_app_key: r
                .by_app_key
                .into_iter()
                .map(|k| UsageByAppKey {
                    app_key_id: k.app_key_id.map(ID),
                    name: k.name,
                    operations: k.operations,
                    refused: k.refused,
                    upstream_calls: k.upstream_calls,
                    cache_hits: k.cache_hits,
                    cache_misses: k.cache_misses,
                })
                .collect(),
            by_operation: r
                .by_operation
                .into_iter()
                .map(|o| UsageByOperation {
                    operation: o.operation,
                    kind: o.kind,
                    count: o.count,
                    errors: o.errors,
                    refused: o.refused,
                    cache_hits: o.cache_hits,
                    cache_misses: o.cache_misses,
                    upstream_calls: o.upstream_calls,
                    mean_duration_ms: o.mean_duration_ms,
                    estimated_cost: o.estimated_cost,
                })
                .collect(),
            by_endpoint: r
                .by_endpoint
                .into_iter()
                .map(|e| UsageByEndpoint {
                    entity: e
                        .entity
                        .parse::<gatehouse_compliance::Entity>()
                        .ok()
                        .map(Into::into),
                    method: e.method,
                    endpoint: e.endpoint,
                    calls: e.calls,
                    errors: e.errors,
                    retries: e.retries,
                    status_429: e.status_429,
                    status_503: e.status_503,
                    bytes_received: e.bytes_received,
                    mean_latency_ms: e.mean_latency_ms,
                })
                .collect(),
            findings: r.findings.iter().map(Into::into).collect(),
        }
    }
}

/// A usage alert: a threshold crossed, raised once per project, app key, finding and day.
#[derive(SimpleObject, Debug, Clone)]
pub struct UsageAlert {
    /// Id.
    pub id: ID,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// The day it concerns (UTC).
    pub day: NaiveDate,
    /// The project.
    pub project_id: ID,
    /// The app key, when it concerns one.
    pub app_key_id: Option<ID>,
    /// The finding code, or `daily_volume_over_threshold`.
    pub code: String,
    /// `warning` or `critical`.
    pub severity: String,
    /// Title.
    pub title: String,
    /// Detail.
    pub detail: String,
    /// The evidence, as in the finding.
    pub evidence: Json<serde_json::Value>,
    /// Whether a reviewer acknowledged it.
    pub acknowledged: bool,
    /// When.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who.
    pub acknowledged_by: Option<ID>,
}

impl From<Alert> for UsageAlert {
    fn from(a: Alert) -> Self {
        Self {
            id: ID(a.id.to_string()),
            created_at: a.created_at,
            day: a.day,
            project_id: ID(a.project_id),
            app_key_id: a.app_key_id.map(|k| ID(k.to_string())),
            code: a.code,
            severity: a.severity,
            title: a.title,
            detail: a.detail,
            evidence: Json(a.evidence),
            acknowledged: a.acknowledged_at.is_some(),
            acknowledged_at: a.acknowledged_at,
            acknowledged_by: a.acknowledged_by.map(|u| ID(u.to_string())),
        }
    }
}

/// A report error at the boundary.
pub fn report_error(error: ReportError) -> ApiError {
    match error {
        ReportError::Reversed { .. } | ReportError::TooLong { .. } => {
            ApiError::invalid_field("to", error.to_string())
        }
        ReportError::Database(error) => ApiError::from(error),
    }
}

/// Most alerts one query returns.
const MAX_ALERTS: u64 = 500;

/// Metering queries.
#[derive(Default, Debug)]
pub struct MeteringQuery;

#[Object]
impl MeteringQuery {
    /// Usage of a project over whole days `from` to `to` (UTC, both included), optionally of
    /// one app key: totals, by day, app key, operation and endpoint, the cache's effect, and the
    /// findings of declared against observed. Reviewers and admins.
    #[graphql(guard = "RoleGuard(Role::Reviewer)")]
    async fn usage_report(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
        project_id: ID,
        app_key_id: Option<ID>,
    ) -> Result<UsageReport> {
        let services = services(ctx)?;
        let request = ReportRequest {
            project_id: project_id.0,
            app_key_id: app_key_id.map(|k| parse_id("appKeyId", &k)).transpose()?,
            from,
            to,
        };
        let report = services
            .metering
            .report(&services.db, &request)
            .await
            .map_err(report_error)?;
        Ok(report.into())
    }

    /// Usage alerts, newest first (at most 500): of one project or all, and acknowledged or
    /// not (both when `acknowledged` is absent). Reviewers and admins.
    #[graphql(guard = "RoleGuard(Role::Reviewer)")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        project_id: Option<ID>,
        acknowledged: Option<bool>,
    ) -> Result<Vec<UsageAlert>> {
        let services = services(ctx)?;
        let alerts = alerts::list(
            &services.db,
            project_id.as_ref().map(|p| p.as_str()),
            acknowledged,
            MAX_ALERTS,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(alerts.into_iter().map(Into::into).collect())
    }
}

/// Metering mutations.
#[derive(Default, Debug)]
pub struct MeteringMutation;

#[Object]
impl MeteringMutation {
    /// Marks an alert as seen (recorded in the audit log). Acknowledging it again changes
    /// nothing. Reviewers and admins.
    #[graphql(guard = "RoleGuard(Role::Reviewer)")]
    async fn acknowledge_alert(&self, ctx: &Context<'_>, id: ID) -> Result<UsageAlert> {
        let services = services(ctx)?;
        let user = principal(ctx)?.require_role(Role::Reviewer)?;
        let id = parse_id("id", &id)?;
        let alert = alerts::acknowledge(&services.db, id, user.id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::not_found("alert"))?;
        Ok(alert.into())
    }
}

#[cfg(test)]
mod tests {
    use gatehouse_compliance::findings::Severity;

    use super::*;

    #[test]
    fn severities_map_one_to_one() {
        for (severity, view) in [
            (Severity::Info, FindingSeverity::Info),
            (Severity::Warning, FindingSeverity::Warning),
            (Severity::Critical, FindingSeverity::Critical),
        ] {
            assert_eq!(FindingSeverity::from(severity), view);
        }
    }
}
