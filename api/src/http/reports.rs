//! Usage report exports for signed-in reviewers and admins (session cookie; app keys are
//! refused): `GET /reports/usage.csv`, `/reports/usage.json` and the printable HTML report
//! `/reports/usage`, each with `?project_id=&from=&to=&app_key_id=` (days are `YYYY-MM-DD`,
//! UTC, both included; `to` defaults to today and `from` to six days before `to`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Duration as Days, NaiveDate};
use serde::Deserialize;

use super::AppState;
use super::principal::Resolved;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::principal::{Principal, parse_id};
use gatehouse_core::auth::Role;
use gatehouse_core::metering::export;
use gatehouse_core::metering::report::{ReportRequest, UsageReport};

/// The query string of the report routes, and of the web UI's usage reports form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportParams {
    /// The project.
    pub project_id: Option<String>,
    /// The first day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// The last day, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// One app key's id, or empty for every caller.
    pub app_key_id: Option<String>,
}

/// A day typed as `YYYY-MM-DD`, or `None` when left empty.
fn parse_day(field: &str, value: Option<&str>, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    match NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(day) => Some(day),
        Err(_) => {
            errors.push(FieldError::new(field, "must be a day as YYYY-MM-DD"));
            None
        }
    }
}

impl ReportParams {
    /// The report asked for, or every field that is wrong (the period's length and order are
    /// the report's own checks: see [`gatehouse_core::metering::report::ReportError`]).
    pub fn validate(&self) -> Result<ReportRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let project_id = self
            .project_id
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        if project_id.is_none() {
            errors.push(FieldError::new("project_id", "is required"));
        }
        let from = parse_day("from", self.from.as_deref(), &mut errors);
        let to = parse_day("to", self.to.as_deref(), &mut errors);
        let app_key_id = self
            .app_key_id
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .and_then(|k| match parse_id("app_key_id", k) {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.push(FieldError::new("app_key_id", "is not a valid app key id"));
                    None
                }
            });
        match project_id {
            Some(project_id) if errors.is_empty() => {
                let to = to.unwrap_or_else(gatehouse_core::metering::store::today);
                Ok(ReportRequest {
                    project_id: project_id.to_owned(),
                    app_key_id,
                    from: from.unwrap_or(to - Days::days(6)),
                    to,
                })
            }
            _ => Err(errors),
        }
    }

    fn request(&self) -> Result<ReportRequest, ApiError> {
        self.validate().map_err(ApiError::invalid_fields)
    }
}

/// The caller, who must be a signed-in reviewer or admin.
fn reviewer(caller: Resolved) -> Result<Principal, ApiError> {
    let principal = caller.0?;
    principal.require_role(Role::Reviewer)?;
    Ok(principal)
}

async fn load(
    state: &AppState,
    caller: Resolved,
    params: &ReportParams,
) -> Result<UsageReport, ApiError> {
    reviewer(caller)?;
    let request = params.request()?;
    let services = &state.services;
    services
        .metering
        .report(&services.db, &request)
        .await
        .map_err(crate::graphql::metering::report_error)
}

fn file_name(report: &UsageReport, extension: &str) -> String {
    format!(
        "attachment; filename=\"usage-{}-{}-{}.{extension}\"",
        report.project_id, report.from, report.to
    )
}

/// `GET /reports/usage.csv`: the per-day rows.
pub async fn csv(
    State(state): State<AppState>,
    caller: Resolved,
    Query(params): Query<ReportParams>,
) -> Response {
    let report = match load(&state, caller, &params).await {
        Ok(report) => report,
        Err(error) => return error.into_response(),
    };
    match export::to_csv(&report) {
        Ok(body) => (
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (CONTENT_DISPOSITION, file_name(&report, "csv")),
                (CACHE_CONTROL, "no-store".to_owned()),
            ],
            body,
        )
            .into_response(),
        Err(error) => ApiError::internal("usage report csv", &error).into_response(),
    }
}

/// `GET /reports/usage.json`: the whole report.
pub async fn json(
    State(state): State<AppState>,
    caller: Resolved,
    Query(params): Query<ReportParams>,
) -> Response {
    match load(&state, caller, &params).await {
        Ok(report) => (
            [
                (CONTENT_DISPOSITION, file_name(&report, "json")),
                (CACHE_CONTROL, "no-store".to_owned()),
            ],
            axum::Json(export::to_json(&report)),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /reports/usage`: the printable HTML report. Anonymous visitors are sent to sign in.
pub async fn html(
    State(state): State<AppState>,
    caller: Resolved,
    Query(params): Query<ReportParams>,
    uri: axum::http::Uri,
) -> Response {
    let report = match load(&state, caller, &params).await {
        Ok(report) => report,
        Err(error) if error.code == ErrorCode::Unauthenticated => {
            let next = uri
                .path_and_query()
                .map_or("/reports/usage", |p| p.as_str());
            let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
            return Redirect::to(&format!("/login?next={next}")).into_response();
        }
        Err(error) => {
            let status = crate::error::status(error.code);
            return (status, Html(format!("<p>{}</p>", escape(&error.message)))).into_response();
        }
    };
    match state.services.report_templates.render_html(&report) {
        // A standalone document (it is also saved and printed): its styles are inline, so its
        // policy allows inline styles, and still no script at all.
        Ok(page) => (
            StatusCode::OK,
            [
                (CACHE_CONTROL, "no-store"),
                (
                    CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                     base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                ),
            ],
            Html(page),
        )
            .into_response(),
        Err(error) => {
            ApiError::internal("usage report html", &std::io::Error::other(error)).into_response()
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
