//! The usage reports page of governance reviewers: a GET form (project, period, optional app
//! key) and the report in the site layout (totals, the cache's effect, findings with their
//! evidence, the charts), the exports, and the project's alerts with their acknowledgement.
//!
//! The report is the one `metering` builds for the exports and the printable report, shown
//! through the same [`ReportView`], so the page and the documents never disagree.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use gatehouse_compliance::findings::Evidence;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::display::when;
use super::fields::{Errors, Field};
use super::handler::{Caller, FormPairs, Layout, PageError, PageResult, see_other, urlencode};
use super::requests::notice_text;
use crate::documents::usage_report::{ReportView, evidence_lines};
use crate::error::ApiError;
use crate::http::AppState;
use crate::http::reports::ReportParams;
use gatehouse_core::auth::Role;
use gatehouse_core::metering::alerts::{self, Alert};
use gatehouse_core::metering::report::{ReportError, ReportRequest};

/// Most alerts the page lists for a project.
const ALERTS_SHOWN: u64 = 100;

/// The page's own query parameters besides the report's.
#[derive(Debug, Deserialize)]
pub struct NoticeParam {
    notice: Option<String>,
}

/// An alert as the page shows it.
#[derive(Debug, Serialize)]
struct AlertRow {
    id: String,
    day: String,
    raised: String,
    caller: String,
    code: String,
    severity: String,
    title: String,
    detail: String,
    evidence: Vec<String>,
    acknowledged: Option<String>,
}

impl From<Alert> for AlertRow {
    fn from(a: Alert) -> Self {
        // Alerts keep their finding's evidence as JSON; an alert of another shape shows none.
        let evidence = serde_json::from_value::<Evidence>(a.evidence)
            .map(|e| evidence_lines(&e))
            .unwrap_or_default();
        Self {
            id: a.id.to_string(),
            day: a.day.to_string(),
            raised: when(a.created_at),
            caller: a.app_key_id.map_or_else(
                || "the whole project".to_owned(),
                |k| format!("app key {k}"),
            ),
            code: a.code,
            severity: a.severity,
            title: a.title,
            detail: a.detail,
            evidence,
            acknowledged: a.acknowledged_at.map(when),
        }
    }
}

#[derive(Debug, Serialize)]
struct ReportsView<'a> {
    fields: Vec<Field>,
    /// The errors of the form, for the summary above it.
    error_count: usize,
    report: Option<ReportView<'a>>,
    /// The report's query string, for the exports and the way back after an acknowledgement.
    query: String,
    alerts: Vec<AlertRow>,
    unacknowledged: usize,
}

fn form_fields(params: &ReportParams, errors: &Errors) -> Vec<Field> {
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        Field::text(
            "project_id",
            "Project id",
            &value(&params.project_id),
            errors,
        )
        .hint("The SYNCHRO Perform project, as in its URL."),
        Field::text("from", "From", &value(&params.from), errors)
            .kind("date")
            .hint("First day (UTC), YYYY-MM-DD. Empty: six days before the last day."),
        Field::text("to", "To", &value(&params.to), errors)
            .kind("date")
            .hint("Last day (UTC), YYYY-MM-DD, included. Empty: today."),
        Field::text(
            "app_key_id",
            "App key (optional)",
            &value(&params.app_key_id),
            errors,
        )
        .hint("One app key's id; empty for every caller."),
    ]
}

/// The query string of a report: what the exports and the printable report take.
fn query_of(request: &ReportRequest) -> String {
    let mut query = format!(
        "project_id={}&from={}&to={}",
        urlencode(&request.project_id),
        request.from,
        request.to
    );
    if let Some(key) = request.app_key_id {
        query.push_str(&format!("&app_key_id={key}"));
    }
    query
}

/// `GET /reports`: the form, and once it names a project, the report and the project's alerts.
/// Wrong input comes back beside its field, as typed, with `422`.
pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ReportParams>,
    Query(notice): Query<NoticeParam>,
) -> PageResult {
    caller.user(Role::Reviewer)?;
    let layout = Layout {
        notice: notice_text(notice.notice.as_deref()),
        ..caller.layout("Usage reports")
    };
    let mut errors = Errors::default();
    // A first visit names no project: the empty form, without complaints.
    if params.project_id.is_none() {
        let view = ReportsView {
            fields: form_fields(&params, &errors),
            error_count: 0,
            report: None,
            query: String::new(),
            alerts: Vec::new(),
            unacknowledged: 0,
        };
        return caller.render(&state, StatusCode::OK, "reports", layout, &view);
    }
    let request = match params.validate() {
        Ok(request) => Some(request),
        Err(fields) => {
            errors.extend(fields);
            None
        }
    };
    let services = &state.services;
    let report = match &request {
        Some(request) => match services.metering.report(&services.db, request).await {
            Ok(report) => Some(report),
            Err(ReportError::Database(error)) => return Err(ApiError::from(error).into()),
            Err(error) => {
                errors.add("to", error.to_string());
                None
            }
        },
        None => None,
    };
    let (alerts, query) = match (&report, &request) {
        (Some(_), Some(request)) => (
            alerts::list(&services.db, Some(&request.project_id), None, ALERTS_SHOWN).await?,
            query_of(request),
        ),
        _ => (Vec::new(), String::new()),
    };
    let view = ReportsView {
        fields: form_fields(&params, &errors),
        error_count: errors.len(),
        report: report
            .as_ref()
            .map(ReportView::new)
            .transpose()
            .map_err(|e| ApiError::internal("usage report view", &std::io::Error::other(e)))?,
        query,
        unacknowledged: alerts
            .iter()
            .filter(|a| a.acknowledged_at.is_none())
            .count(),
        alerts: alerts.into_iter().map(Into::into).collect(),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    caller.render(&state, status, "reports", layout, &view)
}

/// The report's query string posted back with an acknowledgement, kept only when it is
/// plainly a query string (the way back stays on `/reports`).
fn way_back(form: &FormPairs) -> String {
    let back = form.get("back");
    let plain = back
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.=&%+".contains(c));
    if plain && !back.is_empty() {
        format!("/reports?{back}&notice=alert_acknowledged#alerts")
    } else {
        "/reports?notice=alert_acknowledged".to_owned()
    }
}

/// `POST /reports/alerts/{id}/acknowledge`: marks an alert as seen (audited; once), then back
/// to the report it was listed on.
pub async fn acknowledge(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    form: FormPairs,
) -> PageResult {
    let user = caller
        .form_user(&state, &form, "/reports", Role::Reviewer)
        .await?;
    let id = Uuid::parse_str(&id).map_err(|_| PageError::Api(ApiError::not_found("alert")))?;
    alerts::acknowledge(&state.services.db, id, user.id)
        .await?
        .ok_or_else(|| ApiError::not_found("alert"))?;
    Ok(see_other(&way_back(&form), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_way_back_after_an_acknowledgement_stays_on_the_reports_page() {
        let form = |back: &str| FormPairs(vec![("back".into(), back.into())]);
        assert_eq!(
            way_back(&form("project_id=7&from=2026-01-01&to=2026-01-07")),
            "/reports?project_id=7&from=2026-01-01&to=2026-01-07&notice=alert_acknowledged#alerts"
        );
        for hostile in [
            "",
            "x\r\nSet-Cookie: a=b",
            "/evil",
            "a#b",
            "?//evil.example",
        ] {
            assert_eq!(
                way_back(&form(hostile)),
                "/reports?notice=alert_acknowledged",
                "{hostile:?}"
            );
        }
    }
}
