//! The report's charts, drawn server-side as SVG with plotters: upstream calls and cache hits
//! per day (stacked), and upstream calls by endpoint. Plain colours and text, so they print.

use plotters::prelude::*;

use gatehouse_core::metering::report::UsageReport;

/// Legend of the live part of the daily chart.
pub const LIVE_SERIES: &str = "upstream calls (live)";
/// Legend of the cached part of the daily chart.
pub const CACHE_SERIES: &str = "cache hits (calls avoided)";
/// Legend of the endpoint chart.
pub const ENDPOINT_SERIES: &str = "upstream calls";

const LIVE: RGBColor = RGBColor(0x2b, 0x59, 0xc3);
const CACHED: RGBColor = RGBColor(0x9c, 0xc5, 0xa1);

/// The charts of a report, as SVG documents.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Charts {
    /// Upstream calls and cache hits per day, stacked.
    pub calls_per_day: String,
    /// Upstream calls per endpoint.
    pub calls_by_endpoint: String,
}

/// Draws both charts.
pub fn draw(report: &UsageReport) -> Result<Charts, String> {
    Ok(Charts {
        calls_per_day: calls_per_day(report)?,
        calls_by_endpoint: calls_by_endpoint(report)?,
    })
}

fn calls_per_day(report: &UsageReport) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (760, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let days = &report.by_day;
        let count = u32::try_from(days.len()).unwrap_or(u32::MAX).max(1);
        let top = days
            .iter()
            .map(|d| d.upstream_calls + d.cache_hits)
            .max()
            .unwrap_or(0)
            .max(1);
        let top = top + top / 10 + 1;
        let mut chart = ChartBuilder::on(&root)
            .caption("Calls per day", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d((0u32..count).into_segmented(), 0u64..top)
            .map_err(|e| e.to_string())?;
        let labels = days.clone();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(days.len().clamp(1, 10))
            .x_label_formatter(&|value| match value {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => labels
                    .get(*i as usize)
                    .map(|d| d.day.format("%m-%d").to_string())
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .y_desc("calls")
            .draw()
            .map_err(|e| e.to_string())?;
        let bar = |i: u32, from: u64, to: u64, color: RGBColor| {
            Rectangle::new(
                [
                    (SegmentValue::Exact(i), from),
                    (SegmentValue::Exact(i + 1), to),
                ],
                color.filled(),
            )
        };
        chart
            .draw_series(
                days.iter()
                    .zip(0u32..)
                    .map(|(d, i)| bar(i, 0, d.upstream_calls, LIVE)),
            )
            .map_err(|e| e.to_string())?
            .label(LIVE_SERIES)
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], LIVE.filled()));
        chart
            .draw_series(
                days.iter().zip(0u32..).map(|(d, i)| {
                    bar(i, d.upstream_calls, d.upstream_calls + d.cache_hits, CACHED)
                }),
            )
            .map_err(|e| e.to_string())?
            .label(CACHE_SERIES)
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], CACHED.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// `GET resource_usages` from `GET /api/v1/projects/{project_id}/resource_usages`.
fn short_endpoint(method: &str, endpoint: &str) -> String {
    let tail = endpoint
        .split("{project_id}")
        .nth(1)
        .map(|t| t.trim_start_matches('/'))
        .filter(|t| !t.is_empty())
        .unwrap_or("project");
    format!("{method} {tail}")
}

fn calls_by_endpoint(report: &UsageReport) -> Result<String, String> {
    let mut svg = String::new();
    let rows: Vec<(String, u64)> = report
        .by_endpoint
        .iter()
        .take(12)
        .map(|e| (short_endpoint(&e.method, &e.endpoint), e.calls))
        .collect();
    let height = 90 + 26 * u32::try_from(rows.len()).unwrap_or(12).max(1);
    {
        let root = SVGBackend::with_string(&mut svg, (760, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let count = u32::try_from(rows.len()).unwrap_or(u32::MAX).max(1);
        let top = rows.iter().map(|(_, c)| *c).max().unwrap_or(0).max(1);
        let top = top + top / 10 + 1;
        let mut chart = ChartBuilder::on(&root)
            .caption("Upstream calls by endpoint", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(240)
            .build_cartesian_2d(0u64..top, (0u32..count).into_segmented())
            .map_err(|e| e.to_string())?;
        let labels = rows.clone();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows.len().max(1))
            .y_label_formatter(&|value| match value {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => labels
                    .get(*i as usize)
                    .map(|(name, _)| name.clone())
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .x_desc("calls")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(rows.iter().zip(0u32..).map(|((_, calls), i)| {
                Rectangle::new(
                    [
                        (0, SegmentValue::Exact(i)),
                        (*calls, SegmentValue::Exact(i + 1)),
                    ],
                    LIVE.filled(),
                )
            }))
            .map_err(|e| e.to_string())?
            .label(ENDPOINT_SERIES)
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], LIVE.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_shortened_to_their_collection() {
        assert_eq!(
            short_endpoint("GET", "/api/v1/projects/{project_id}/resource_usages"),
            "GET resource_usages"
        );
        assert_eq!(
            short_endpoint("GET", "/api/v1/projects/{project_id}"),
            "GET project"
        );
    }
}
