//! Usage reports and alerts in GraphQL, for governance reviewers and admins:
//! `usageReport(from, to, projectId, appKeyId)`, `alerts(projectId, acknowledged)` and
//! `acknowledgeAlert(id)`.

use async_graphql::{Context, ID, Object, Result};
use chrono::NaiveDate;

use super::guard::RoleGuard;
use super::{principal, services};
use crate::error::ApiError;
use crate::principal::parse_id;
use gatehouse_core::auth::Role;
use gatehouse_core::metering::alerts::{self, Alert};
use gatehouse_core::metering::report::{ReportError, ReportRequest, UsageReport};

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
        Ok(report)
    }

    /// Usage alerts, newest first (at most 500): of one project or all, and acknowledged or
    /// not (both when `acknowledged` is absent). Reviewers and admins.
    #[graphql(guard = "RoleGuard(Role::Reviewer)")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        project_id: Option<ID>,
        acknowledged: Option<bool>,
    ) -> Result<Vec<Alert>> {
        let services = services(ctx)?;
        let alerts = alerts::list(
            &services.db,
            project_id.as_ref().map(|p| p.as_str()),
            acknowledged,
            MAX_ALERTS,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(alerts)
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
    async fn acknowledge_alert(&self, ctx: &Context<'_>, id: ID) -> Result<Alert> {
        let services = services(ctx)?;
        let user = principal(ctx)?.require_role(Role::Reviewer)?;
        let id = parse_id("id", &id)?;
        let alert = alerts::acknowledge(&services.db, id, user.id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::not_found("alert"))?;
        Ok(alert)
    }
}
