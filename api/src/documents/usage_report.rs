//! The usage report as HTML: rendered from `templates/usage-report.html.hbs` in strict mode,
//! from a typed context ([`ReportView`], which the web page shares), with the SVG charts inline.
//! The CSV and JSON exports are the metering service's own (`metering::export`).

use handlebars::Handlebars;
use serde::Serialize;

use gatehouse_compliance::findings::Evidence;

use super::charts::{self, Charts};
use gatehouse_core::metering::report::{
    DayUsage, EndpointUsage, KeyUsage, OperationUsage, Totals, UsageReport,
};

/// The name the usage report template is registered under.
pub const USAGE_REPORT_TEMPLATE: &str = "usage-report";

/// The metering templates, registered once at start-up.
#[derive(Debug)]
pub struct ReportTemplates {
    registry: Handlebars<'static>,
}

impl ReportTemplates {
    /// Registers the templates (strict mode: a missing value is an error, not an empty string).
    pub fn load() -> Result<Self, String> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry
            .register_template_string(
                USAGE_REPORT_TEMPLATE,
                include_str!("../../../templates/usage-report.html.hbs"),
            )
            .map_err(|e| format!("templates/usage-report.html.hbs does not compile: {e}"))?;
        Ok(Self { registry })
    }

    /// Renders the HTML report.
    pub fn render_html(&self, report: &UsageReport) -> Result<String, String> {
        let context = ReportView::new(report)?;
        self.registry
            .render(USAGE_REPORT_TEMPLATE, &context)
            .map_err(|e| e.to_string())
    }
}

/// One finding as the HTML report shows it.
#[derive(Debug, Serialize)]
struct FindingRow {
    code: String,
    severity: String,
    title: String,
    detail: String,
    evidence: Vec<String>,
}

/// The report as pages show it: the typed context of `usage-report.html.hbs`, and the report
/// section of the web UI's usage reports page, so that both show the same numbers, findings
/// and charts.
#[derive(Debug, Serialize)]
pub struct ReportView<'a> {
    title: String,
    project_id: &'a str,
    app_key_id: String,
    from: String,
    to: String,
    generated_at: String,
    declared: bool,
    detail_from: String,
    totals: &'a Totals,
    cache_hit_percent: String,
    by_day: &'a [DayUsage],
    by_app_key: Vec<KeyRow<'a>>,
    by_operation: &'a [OperationUsage],
    by_endpoint: &'a [EndpointUsage],
    findings: Vec<FindingRow>,
    charts: Charts,
}

#[derive(Debug, Serialize)]
struct KeyRow<'a> {
    label: String,
    usage: &'a KeyUsage,
}

impl<'a> ReportView<'a> {
    /// The view of `report`, with its charts drawn.
    pub fn new(report: &'a UsageReport) -> Result<Self, String> {
        let charts = charts::draw(report)?;
        let findings = report
            .findings
            .iter()
            .map(|f| {
                let evidence = evidence_lines(&f.evidence);
                FindingRow {
                    code: f.code.as_str().to_owned(),
                    severity: f.severity.as_str().to_owned(),
                    title: f.title.clone(),
                    detail: f.detail.clone(),
                    evidence,
                }
            })
            .collect();
        Ok(Self {
            title: format!(
                "Usage of SYNCHRO Perform project {} from {} to {}",
                report.project_id, report.from, report.to
            ),
            project_id: &report.project_id,
            app_key_id: report
                .app_key_id
                .map_or_else(|| "all callers".to_owned(), |k| k.to_string()),
            from: report.from.to_string(),
            to: report.to.to_string(),
            generated_at: report.generated_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            declared: report.declared,
            detail_from: report.detail_from.to_string(),
            totals: &report.totals,
            cache_hit_percent: report
                .totals
                .cache_hit_ratio
                .map_or_else(|| "n/a".to_owned(), |r| format!("{:.1} %", r * 100.0)),
            by_day: &report.by_day,
            by_app_key: report
                .by_app_key
                .iter()
                .map(|usage| KeyRow {
                    label: match (&usage.name, &usage.app_key_id) {
                        (Some(name), Some(id)) => format!("{name} ({id})"),
                        (None, Some(id)) => id.clone(),
                        _ => "signed-in users".to_owned(),
                    },
                    usage,
                })
                .collect(),
            by_operation: &report.by_operation,
            by_endpoint: &report.by_endpoint,
            findings,
            charts,
        })
    }
}

/// The evidence of a finding (or of an alert raised from one) as lines for people.
pub fn evidence_lines(e: &Evidence) -> Vec<String> {
    let mut evidence = Vec::new();
    if let Some(entity) = e.entity {
        evidence.push(format!("entity: {}", entity.label()));
    }
    if !e.operations.is_empty() {
        let ops: Vec<&str> = e.operations.iter().map(|o| o.as_str()).collect();
        evidence.push(format!("operations: {}", ops.join(", ")));
    }
    if let Some(workflow) = &e.workflow {
        evidence.push(format!("workflow: {workflow}"));
    }
    if let Some(observed) = e.observed {
        evidence.push(format!("observed: {observed}"));
    }
    if let Some(declared) = e.declared {
        evidence.push(format!("declared: {declared}"));
    }
    if let Some(percent) = e.percent {
        evidence.push(format!("{percent} % of declared"));
    }
    if let Some(day) = e.day {
        evidence.push(format!("day: {day}"));
    }
    if !e.hours.is_empty() {
        let hours: Vec<String> = e
            .hours
            .iter()
            .map(|h| format!("{:02}h: {}", h.hour, h.calls))
            .collect();
        evidence.push(format!("hours (UTC): {}", hours.join(", ")));
    }
    if !e.sample_operations.is_empty() {
        evidence.push(format!(
            "operations seen: {}",
            e.sample_operations.join(", ")
        ));
    }
    evidence
}
