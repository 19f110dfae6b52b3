//! The usage report's exports: the per-day rows as CSV, the whole report as JSON.

use super::report::UsageReport;

/// The per-day rows as CSV, one row per day, project, caller, kind and endpoint or operation.
pub fn to_csv(report: &UsageReport) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in &report.rows {
        writer.serialize(row)?;
    }
    if report.rows.is_empty() {
        // Still a header, so that an empty period is a valid, self-describing file.
        writer.write_record([
            "day",
            "project_id",
            "app_key_id",
            "kind",
            "method",
            "name",
            "workflow",
            "entity",
            "action",
            "count",
            "errors",
            "refused",
            "status_4xx",
            "status_429",
            "status_5xx",
            "status_503",
            "retries",
            "bytes_sent",
            "bytes_received",
            "duration_us_sum",
            "cache_hits",
            "cache_misses",
            "upstream_calls",
            "estimated_cost",
        ])?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

/// The report as JSON.
pub fn to_json(report: &UsageReport) -> serde_json::Value {
    serde_json::to_value(report).unwrap_or(serde_json::Value::Null)
}
