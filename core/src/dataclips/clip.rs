//! The clips Gatehouse knows, their columns, and how one row of a clip becomes one row of a
//! snapshot table.
//!
//! A clip's header row is matched by name (order does not matter, extra columns are ignored);
//! a missing column refuses the whole file. Each data row is then converted cell by cell: a
//! value that does not parse (a date, a number, Yes/No) makes the row *bad*, with its reason.
//! Dates stay ISO text, and the week (its Monday) and month (`YYYY-MM`) are computed here, so
//! that grouping by period is a plain `GROUP BY` on every backend.

use chrono::{Datelike, NaiveDate};
use gatehouse_compliance::Entity;
use sea_orm::sea_query::{DynIden, IntoIden, Value};

use super::tables::{
    DataclipActivities, DataclipAttendance, DataclipRates, DataclipRows, DataclipUsages,
};

/// How a clip is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClipKind {
    /// The resource usages export and its subcontractor-only and approved-only variants.
    Usages,
    /// The attendance export.
    Attendance,
    /// The activity export.
    Activities,
    /// The applicable rates.
    Rates,
    /// Any other clip: rows kept as JSON objects keyed by header.
    Generic,
}

/// The full resource usages export: the clip that answers questions about all usages.
pub const USAGES_CLIP: &str = "resource-usages-export";
/// Resource usages of subcontractors only.
pub const USAGES_SUBCONTRACTOR_CLIP: &str = "resource-usages-subcontractor";
/// Approved resource usages only.
pub const USAGES_APPROVED_CLIP: &str = "resource-usages-approved";
/// The activity export.
pub const ACTIVITIES_CLIP: &str = "activity-export";
/// The attendance export.
pub const ATTENDANCE_CLIP: &str = "attendance-export";
/// The applicable rates.
pub const RATES_CLIP: &str = "applicable-rates";

impl ClipKind {
    /// The kind of a clip slug.
    pub(crate) fn of(slug: &str) -> Self {
        match slug {
            USAGES_CLIP | USAGES_SUBCONTRACTOR_CLIP | USAGES_APPROVED_CLIP => Self::Usages,
            ATTENDANCE_CLIP => Self::Attendance,
            ACTIVITIES_CLIP => Self::Activities,
            RATES_CLIP => Self::Rates,
            _ => Self::Generic,
        }
    }

    /// The headers a file of this kind must have.
    pub(crate) fn headers(self) -> &'static [&'static str] {
        match self {
            Self::Usages => &USAGE_HEADERS,
            Self::Attendance => &ATTENDANCE_HEADERS,
            Self::Activities => &ACTIVITY_HEADERS,
            Self::Rates => &RATE_HEADERS,
            Self::Generic => &[],
        }
    }

    /// The table the rows go to.
    pub(crate) fn table(self) -> DynIden {
        match self {
            Self::Usages => DataclipUsages::Table.into_iden(),
            Self::Attendance => DataclipAttendance::Table.into_iden(),
            Self::Activities => DataclipActivities::Table.into_iden(),
            Self::Rates => DataclipRates::Table.into_iden(),
            Self::Generic => DataclipRows::Table.into_iden(),
        }
    }

    /// The columns written, in the order [`Layout::convert`] produces values; `snapshot_id`
    /// first.
    pub(crate) fn columns(self) -> Vec<DynIden> {
        fn idens<T: IntoIden + Copy>(items: &[T]) -> Vec<DynIden> {
            items.iter().map(|c| c.into_iden()).collect()
        }
        use DataclipActivities as A;
        use DataclipAttendance as T;
        use DataclipRates as R;
        use DataclipUsages as U;
        match self {
            Self::Usages => idens(&[
                U::SnapshotId,
                U::UsageId,
                U::ProjectName,
                U::WorkDate,
                U::WorkWeek,
                U::WorkMonth,
                U::ResourceRole,
                U::WorkRoleCategory,
                U::Company,
                U::ResourceType,
                U::ResourceName,
                U::ResourceIdentifier,
                U::WorkReferenceType,
                U::WorkReferenceCode,
                U::WorkReferenceName,
                U::Discipline,
                U::Location,
                U::JobNumber,
                U::CostCode,
                U::UsageCode,
                U::Docket,
                U::StartTime,
                U::EndTime,
                U::BreakMinutes,
                U::Quantity,
                U::Uom,
                U::RateCode,
                U::ApprovalStatus,
                U::LabourHours,
                U::ApprovedQuantity,
                U::ApprovedLabourHours,
            ]),
            Self::Attendance => idens(&[
                T::SnapshotId,
                T::AttendanceId,
                T::AttendanceReference,
                T::Person,
                T::Company,
                T::WorkRole,
                T::Supervisor,
                T::StartDate,
                T::StartWeek,
                T::StartMonth,
                T::StartTime,
                T::StartArea,
                T::StartLatitude,
                T::StartLongitude,
                T::EndDate,
                T::EndTime,
                T::EndArea,
                T::EndLatitude,
                T::EndLongitude,
                T::TimeZone,
                T::DurationHours,
            ]),
            Self::Activities => idens(&[
                A::SnapshotId,
                A::ActivityId,
                A::ReferenceCode,
                A::Name,
                A::WbsCode,
                A::QuantityUom,
                A::WorkCategory,
                A::Discipline,
                A::Location,
                A::JobNumber,
                A::CostCode,
                A::OriginalBudgetLabour,
                A::OriginalBudgetQuantity,
                A::OriginalBudgetCost,
                A::RevisedBudgetLabour,
                A::RevisedBudgetQuantity,
                A::RevisedBudgetCost,
                A::CurrentEstimateLabour,
                A::CurrentEstimateQuantity,
                A::CurrentEstimateCost,
                A::OriginalStart,
                A::OriginalFinish,
                A::RevisedStart,
                A::RevisedFinish,
                A::PlannedStart,
                A::PlannedFinish,
                A::ActualStart,
                A::ActualFinish,
                A::ExpectedStart,
                A::ExpectedFinish,
                A::FloatDays,
                A::EarnedValueMethod,
                A::PercentComplete,
                A::ExcludeFromMobile,
                A::BookableForAll,
                A::NonBookable,
                A::Tags,
                A::UpdatedAt,
            ]),
            Self::Rates => idens(&[
                R::SnapshotId,
                R::RateId,
                R::ResourceName,
                R::ResourceType,
                R::RateCode,
                R::Rate,
                R::Uom,
                R::EffectiveFrom,
                R::EffectiveTo,
            ]),
            Self::Generic => idens(&[
                DataclipRows::SnapshotId,
                DataclipRows::RowNumber,
                DataclipRows::Data,
            ]),
        }
    }

    /// The entity whose questions a snapshot of this clip answers, for routing. Only the full
    /// usages export stands for resource usages: its variants hold subsets.
    pub fn entity_of(slug: &str) -> Option<Entity> {
        match slug {
            USAGES_CLIP => Some(Entity::ResourceUsage),
            ATTENDANCE_CLIP => Some(Entity::Attendance),
            ACTIVITIES_CLIP => Some(Entity::Activity),
            RATES_CLIP => Some(Entity::ApplicableRate),
            _ => None,
        }
    }
}

/// Resource usages export headers.
pub(crate) const USAGE_HEADERS: [&str; 25] = [
    "Id",
    "Project",
    "Work Date",
    "Resource Role",
    "Work Role Category",
    "Company",
    "Resource Type",
    "Resource Name",
    "Resource Identifier",
    "Work Reference Type",
    "Work Reference Code",
    "Work Reference Name",
    "Discipline",
    "Location",
    "Job Number",
    "Cost Code",
    "Usage Code",
    "Docket",
    "Start Time",
    "End Time",
    "Break Duration",
    "Quantity",
    "Unit of Measure",
    "Rate Code",
    "Approval Status",
];

/// Attendance export headers.
pub(crate) const ATTENDANCE_HEADERS: [&str; 18] = [
    "Id",
    "Attendance Reference",
    "Person",
    "Company",
    "Work Role",
    "Supervisor",
    "Start Date",
    "Start Time",
    "Start Area",
    "Start Location Latitude",
    "Start Location Longitude",
    "End Date",
    "End Time",
    "End Area",
    "End Location Latitude",
    "End Location Longitude",
    "Time Zone",
    "Duration",
];

/// Activity export headers.
pub(crate) const ACTIVITY_HEADERS: [&str; 37] = [
    "Id",
    "Reference Code",
    "Activity Name",
    "WBS Code",
    "Quantity UOM",
    "Work Category",
    "Discipline",
    "Location",
    "Job Number",
    "Cost Code",
    "Original Budget Labour",
    "Original Budget Quantity",
    "Original Budget Cost",
    "Revised Budget Labour",
    "Revised Budget Quantity",
    "Revised Budget Cost",
    "Current Estimate Labour",
    "Current Estimate Quantity",
    "Current Estimate Cost",
    "Original Start",
    "Original Finish",
    "Revised Start",
    "Revised Finish",
    "Planned Start",
    "Planned Finish",
    "Actual Start",
    "Actual Finish",
    "Expected Start",
    "Expected Finish",
    "Float",
    "Earned Value Method",
    "Percent Complete",
    "Exclude From Mobile",
    "Bookable For All",
    "Non Bookable",
    "Tags",
    "Updated At",
];

/// Applicable rates headers.
pub(crate) const RATE_HEADERS: [&str; 8] = [
    "Id",
    "Resource Name",
    "Resource Type",
    "Rate Code",
    "Rate",
    "Unit of Measure",
    "Effective From",
    "Effective To",
];

/// Units of measure that mean hours: a person's usage in one of them is labour.
const HOUR_UNITS: [&str; 5] = ["h", "hr", "hrs", "hour", "hours"];

/// Where each needed column is in a file, from its header row.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    kind: ClipKind,
    /// Position in the file of each of `kind.headers()`.
    positions: Vec<usize>,
    /// Every header of the file (for the generic store).
    names: Vec<String>,
}

impl Layout {
    /// Matches a header row; `Err` names the missing columns.
    pub(crate) fn new<'a>(
        kind: ClipKind,
        header: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, String> {
        let names: Vec<String> = header.into_iter().map(|h| h.trim().to_owned()).collect();
        if names.is_empty() || names.iter().all(String::is_empty) {
            return Err("the header row is empty".to_owned());
        }
        let mut positions = Vec::with_capacity(kind.headers().len());
        let mut missing = Vec::new();
        for wanted in kind.headers() {
            match names.iter().position(|n| n.eq_ignore_ascii_case(wanted)) {
                Some(i) => positions.push(i),
                None => missing.push(*wanted),
            }
        }
        if !missing.is_empty() {
            return Err(format!(
                "the header row lacks the column(s) {}",
                missing.join(", ")
            ));
        }
        Ok(Self {
            kind,
            positions,
            names,
        })
    }

    /// The number of cells every row must have.
    pub(crate) fn width(&self) -> usize {
        self.names.len()
    }

    /// Converts one data row (`cells[i]` is the cell under header `i`; `None` is an empty JSON
    /// value) into the values of [`ClipKind::columns`], `snapshot_id` first. `Err` is the reason
    /// the row is bad.
    pub(crate) fn convert(
        &self,
        snapshot_id: i64,
        row_number: u64,
        cells: &[Option<&str>],
    ) -> Result<Vec<Value>, String> {
        if cells.len() != self.width() {
            return Err(format!(
                "{} cells where the header has {}",
                cells.len(),
                self.width()
            ));
        }
        let row = Cells {
            layout: self,
            cells,
        };
        let mut out = Vec::with_capacity(40);
        out.push(Value::BigInt(Some(snapshot_id)));
        match self.kind {
            ClipKind::Usages => convert_usage(&row, &mut out)?,
            ClipKind::Attendance => convert_attendance(&row, &mut out)?,
            ClipKind::Activities => convert_activity(&row, &mut out)?,
            ClipKind::Rates => convert_rate(&row, &mut out)?,
            ClipKind::Generic => {
                let mut object = serde_json::Map::with_capacity(self.names.len());
                for (name, cell) in self.names.iter().zip(cells) {
                    let value = cell.map_or(serde_json::Value::Null, |c| {
                        serde_json::Value::String(c.to_owned())
                    });
                    object.insert(name.clone(), value);
                }
                out.push(Value::BigInt(Some(
                    i64::try_from(row_number).unwrap_or(i64::MAX),
                )));
                out.push(text(serde_json::Value::Object(object).to_string()));
            }
        }
        Ok(out)
    }
}

/// One row's cells, read by the index of the kind's header.
struct Cells<'a> {
    layout: &'a Layout,
    cells: &'a [Option<&'a str>],
}

impl Cells<'_> {
    fn raw(&self, k: usize) -> &str {
        self.layout
            .positions
            .get(k)
            .and_then(|&i| self.cells.get(i).copied().flatten())
            .unwrap_or("")
            .trim()
    }

    fn name(&self, k: usize) -> &'static str {
        self.layout.kind.headers().get(k).copied().unwrap_or("?")
    }

    fn text(&self, k: usize) -> Value {
        text(self.raw(k).to_owned())
    }

    fn date(&self, k: usize) -> Result<NaiveDate, String> {
        let raw = self.raw(k);
        parse_date(raw)
            .ok_or_else(|| format!("{}: `{raw}` is not a date (YYYY-MM-DD)", self.name(k)))
    }

    /// A date, or empty; a date with a time (`2025-03-01 08:00`) keeps its text.
    fn opt_date_text(&self, k: usize) -> Result<Value, String> {
        let raw = self.raw(k);
        if raw.is_empty() {
            return Ok(text(String::new()));
        }
        let day = raw.get(..10).unwrap_or(raw);
        parse_date(day)
            .ok_or_else(|| format!("{}: `{raw}` is not a date (YYYY-MM-DD)", self.name(k)))?;
        Ok(text(raw.to_owned()))
    }

    fn number(&self, k: usize) -> Result<f64, String> {
        let raw = self.raw(k);
        match raw.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            _ => Err(format!("{}: `{raw}` is not a number", self.name(k))),
        }
    }

    fn opt_number(&self, k: usize) -> Result<Option<f64>, String> {
        if self.raw(k).is_empty() {
            Ok(None)
        } else {
            self.number(k).map(Some)
        }
    }

    fn integer_or_zero(&self, k: usize) -> Result<i32, String> {
        let raw = self.raw(k);
        if raw.is_empty() {
            return Ok(0);
        }
        raw.parse::<i32>()
            .map_err(|_| format!("{}: `{raw}` is not a whole number", self.name(k)))
    }

    fn yes_no(&self, k: usize) -> Result<bool, String> {
        let raw = self.raw(k);
        if raw.eq_ignore_ascii_case("yes") || raw.eq_ignore_ascii_case("true") {
            Ok(true)
        } else if raw.eq_ignore_ascii_case("no")
            || raw.eq_ignore_ascii_case("false")
            || raw.is_empty()
        {
            Ok(false)
        } else {
            Err(format!("{}: `{raw}` is not Yes or No", self.name(k)))
        }
    }
}

fn text(s: String) -> Value {
    Value::String(Some(s))
}

fn double(n: f64) -> Value {
    Value::Double(Some(n))
}

/// Parses `YYYY-MM-DD` (the exports' only date form) without the generic format parser, which
/// is slow enough to show in a million-row ingest.
pub(crate) fn parse_date(raw: &str) -> Option<NaiveDate> {
    let bytes = raw.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = raw.get(..4)?.parse::<i32>().ok()?;
    let month = raw.get(5..7)?.parse::<u32>().ok()?;
    let day = raw.get(8..)?.parse::<u32>().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A date as `YYYY-MM-DD`.
pub(crate) fn iso_date(day: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", day.year(), day.month(), day.day())
}

/// The Monday of a date's ISO week, as `YYYY-MM-DD`.
pub(crate) fn week_of(day: NaiveDate) -> String {
    iso_date(day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday())))
}

/// A date's month, as `YYYY-MM`.
pub(crate) fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

fn convert_usage(row: &Cells<'_>, out: &mut Vec<Value>) -> Result<(), String> {
    let day = row.date(2)?;
    let quantity = row.number(21)?;
    let break_minutes = row.integer_or_zero(20)?;
    let resource_type = row.raw(6);
    let uom = row.raw(22);
    let approved = row.raw(24).eq_ignore_ascii_case("approved");
    let is_labour = resource_type.eq_ignore_ascii_case("people")
        && HOUR_UNITS.iter().any(|u| u.eq_ignore_ascii_case(uom));
    let labour = if is_labour { quantity } else { 0.0 };
    out.push(row.text(0));
    out.push(row.text(1));
    out.push(text(iso_date(day)));
    out.push(text(week_of(day)));
    out.push(text(month_of(day)));
    for k in 3..=19 {
        out.push(row.text(k));
    }
    out.push(Value::Int(Some(break_minutes)));
    out.push(double(quantity));
    out.push(row.text(22));
    out.push(row.text(23));
    out.push(row.text(24));
    out.push(double(labour));
    out.push(double(if approved { quantity } else { 0.0 }));
    out.push(double(if approved { labour } else { 0.0 }));
    Ok(())
}

fn convert_attendance(row: &Cells<'_>, out: &mut Vec<Value>) -> Result<(), String> {
    let day = row.date(6)?;
    let supervisor = row.yes_no(5)?;
    let start_lat = row.opt_number(9)?;
    let start_long = row.opt_number(10)?;
    let end_date = row.opt_date_text(11)?;
    let end_lat = row.opt_number(14)?;
    let end_long = row.opt_number(15)?;
    let duration = row.opt_number(17)?;
    for k in 0..=4 {
        out.push(row.text(k));
    }
    out.push(Value::Bool(Some(supervisor)));
    out.push(text(iso_date(day)));
    out.push(text(week_of(day)));
    out.push(text(month_of(day)));
    out.push(row.text(7));
    out.push(row.text(8));
    out.push(Value::Double(start_lat));
    out.push(Value::Double(start_long));
    out.push(end_date);
    out.push(row.text(12));
    out.push(row.text(13));
    out.push(Value::Double(end_lat));
    out.push(Value::Double(end_long));
    out.push(row.text(16));
    out.push(Value::Double(duration));
    Ok(())
}

fn convert_activity(row: &Cells<'_>, out: &mut Vec<Value>) -> Result<(), String> {
    let mut budgets = [0.0; 9];
    for (i, slot) in budgets.iter_mut().enumerate() {
        *slot = row.number(10 + i)?;
    }
    let mut dates = Vec::with_capacity(10);
    for k in 19..=28 {
        dates.push(row.opt_date_text(k)?);
    }
    let float_days = row.opt_number(29)?.unwrap_or(0.0);
    let percent = row.number(31)?;
    let flags = [row.yes_no(32)?, row.yes_no(33)?, row.yes_no(34)?];
    for k in 0..=9 {
        out.push(row.text(k));
    }
    out.extend(budgets.into_iter().map(double));
    out.extend(dates);
    out.push(double(float_days));
    out.push(row.text(30));
    out.push(double(percent));
    out.extend(flags.into_iter().map(|f| Value::Bool(Some(f))));
    out.push(row.text(35));
    out.push(row.text(36));
    Ok(())
}

fn convert_rate(row: &Cells<'_>, out: &mut Vec<Value>) -> Result<(), String> {
    let rate = row.number(4)?;
    let from = row.date(6)?;
    let to = row.opt_date_text(7)?;
    for k in 0..=3 {
        out.push(row.text(k));
    }
    out.push(double(rate));
    out.push(row.text(5));
    out.push(text(iso_date(from)));
    out.push(to);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage_row(quantity: &str) -> Vec<String> {
        let mut row: Vec<String> = USAGE_HEADERS.iter().map(|_| String::new()).collect();
        row[2] = "2025-03-05".into();
        row[6] = "People".into();
        row[21] = quantity.into();
        row[22] = "h".into();
        row[24] = "Approved".into();
        row
    }

    #[test]
    fn a_usage_row_gets_its_week_month_and_labour_hours() {
        let layout = Layout::new(ClipKind::Usages, USAGE_HEADERS).expect("headers match");
        let row = usage_row("7.5");
        let cells: Vec<Option<&str>> = row.iter().map(|c| Some(c.as_str())).collect();
        let values = layout.convert(9, 1, &cells).expect("a good row");
        assert_eq!(values.len(), ClipKind::Usages.columns().len());
        assert_eq!(values[0], Value::BigInt(Some(9)));
        assert_eq!(
            values[4],
            Value::String(Some("2025-03-03".into())),
            "Monday"
        );
        assert_eq!(values[5], Value::String(Some("2025-03".into())));
        assert_eq!(values[28], Value::Double(Some(7.5)), "labour hours");
        assert_eq!(values[30], Value::Double(Some(7.5)), "approved labour");
    }

    #[test]
    fn a_bad_number_or_a_short_row_is_reported_with_its_column() {
        let layout = Layout::new(ClipKind::Usages, USAGE_HEADERS).expect("headers match");
        let row = usage_row("n/a");
        let cells: Vec<Option<&str>> = row.iter().map(|c| Some(c.as_str())).collect();
        let error = layout.convert(1, 8, &cells).expect_err("bad quantity");
        assert!(
            error.contains("Quantity") && error.contains("n/a"),
            "{error}"
        );
        let error = layout
            .convert(1, 8, &cells[..cells.len() - 1])
            .expect_err("short row");
        assert!(error.contains("24 cells"), "{error}");
    }

    #[test]
    fn a_header_without_a_needed_column_is_refused_naming_it() {
        let error = Layout::new(ClipKind::Rates, ["Id", "Resource Name"]).expect_err("refused");
        assert!(error.contains("Rate Code"), "{error}");
    }

    #[test]
    fn columns_and_values_line_up_for_every_typed_clip() {
        for (kind, headers, sample) in [
            (
                ClipKind::Attendance,
                &ATTENDANCE_HEADERS[..],
                [(6, "2025-01-06"), (17, "8.5")],
            ),
            (
                ClipKind::Rates,
                &RATE_HEADERS[..],
                [(4, "12.50"), (6, "2025-01-01")],
            ),
        ] {
            let layout = Layout::new(kind, headers.iter().copied()).expect("headers");
            let mut row: Vec<String> = headers.iter().map(|_| String::new()).collect();
            for (k, v) in sample {
                row[k] = v.into();
            }
            let cells: Vec<Option<&str>> = row.iter().map(|c| Some(c.as_str())).collect();
            let values = layout.convert(1, 1, &cells).expect("good row");
            assert_eq!(values.len(), kind.columns().len(), "{kind:?}");
        }
        let layout = Layout::new(ClipKind::Activities, ACTIVITY_HEADERS).expect("headers");
        let mut row: Vec<String> = ACTIVITY_HEADERS.iter().map(|_| String::new()).collect();
        for cell in &mut row[10..19] {
            *cell = "1".into();
        }
        row[31] = "50".into();
        let cells: Vec<Option<&str>> = row.iter().map(|c| Some(c.as_str())).collect();
        let values = layout.convert(1, 1, &cells).expect("good row");
        assert_eq!(values.len(), ClipKind::Activities.columns().len());
    }
}
