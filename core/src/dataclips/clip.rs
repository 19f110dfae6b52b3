//! The clips Gatehouse knows, their columns, and how one row of a clip becomes one row of a
//! snapshot table.
//!
//! A clip's header row is matched by name against the names its row struct reads (`rows.rs`;
//! order and case do not matter, extra columns are ignored); a missing column refuses the whole
//! file. Each data row is then read into that struct by name: a value that does not parse (a
//! date, a number, Yes/No) makes the row *bad*, with the column and the value.
//! Dates stay ISO text, and the week (its Monday) and month (`YYYY-MM`) are computed here, so
//! that grouping by period is a plain `GROUP BY` on every backend.

use chrono::{Datelike, NaiveDate};
use gatehouse_compliance::Entity;
use sea_orm::sea_query::{DynIden, IntoIden, Value};
use serde::Deserialize;

use super::rows::{
    ActivityRow, AttendanceRow, RateRow, RowDeserializer, RowError, UsageRow, fields_of,
};
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

    /// The headers a file of this kind must have: the names its row struct reads.
    pub(crate) fn headers(self) -> &'static [&'static str] {
        match self {
            Self::Usages => fields_of::<UsageRow<'_>>(),
            Self::Attendance => fields_of::<AttendanceRow<'_>>(),
            Self::Activities => fields_of::<ActivityRow<'_>>(),
            Self::Rates => fields_of::<RateRow<'_>>(),
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

/// Units of measure that mean hours: a person's usage in one of them is labour.
const HOUR_UNITS: [&str; 5] = ["h", "hr", "hrs", "hour", "hours"];

/// Where each needed column is in a file, from its header row.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    kind: ClipKind,
    /// The names the kind's row struct reads.
    fields: &'static [&'static str],
    /// Position in the file of each of `fields`.
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
        let fields = kind.headers();
        let mut positions = Vec::with_capacity(fields.len());
        let mut missing = Vec::new();
        for wanted in fields {
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
            fields,
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
        let mut out = Vec::with_capacity(40);
        out.push(Value::BigInt(Some(snapshot_id)));
        match self.kind {
            ClipKind::Usages => push_usage(self.read(cells)?, &mut out),
            ClipKind::Attendance => push_attendance(self.read(cells)?, &mut out),
            ClipKind::Activities => push_activity(self.read(cells)?, &mut out),
            ClipKind::Rates => push_rate(self.read(cells)?, &mut out),
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

    /// Reads a row as the kind's row struct, by header name.
    fn read<'de, T: Deserialize<'de>>(&self, cells: &[Option<&'de str>]) -> Result<T, String> {
        T::deserialize(RowDeserializer {
            fields: self.fields,
            positions: &self.positions,
            cells,
        })
        .map_err(|RowError(why)| why)
    }
}

fn text(s: String) -> Value {
    Value::String(Some(s))
}

fn str(s: &str) -> Value {
    text(s.to_owned())
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

fn push_usage(row: UsageRow<'_>, out: &mut Vec<Value>) {
    let day = row.work_date.0;
    let quantity = row.quantity.0;
    let approved = row.approval_status.eq_ignore_ascii_case("approved");
    let is_labour = row.resource_type.eq_ignore_ascii_case("people")
        && HOUR_UNITS
            .iter()
            .any(|u| u.eq_ignore_ascii_case(row.unit_of_measure));
    let labour = if is_labour { quantity } else { 0.0 };
    out.extend([
        str(row.id),
        str(row.project),
        text(iso_date(day)),
        text(week_of(day)),
        text(month_of(day)),
        str(row.resource_role),
        str(row.work_role_category),
        str(row.company),
        str(row.resource_type),
        str(row.resource_name),
        str(row.resource_identifier),
        str(row.work_reference_type),
        str(row.work_reference_code),
        str(row.work_reference_name),
        str(row.discipline),
        str(row.location),
        str(row.job_number),
        str(row.cost_code),
        str(row.usage_code),
        str(row.docket),
        str(row.start_time),
        str(row.end_time),
        Value::Int(Some(row.break_duration.0)),
        double(quantity),
        str(row.unit_of_measure),
        str(row.rate_code),
        str(row.approval_status),
        double(labour),
        double(if approved { quantity } else { 0.0 }),
        double(if approved { labour } else { 0.0 }),
    ]);
}

fn push_attendance(row: AttendanceRow<'_>, out: &mut Vec<Value>) {
    let day = row.start_date.0;
    out.extend([
        str(row.id),
        str(row.attendance_reference),
        str(row.person),
        str(row.company),
        str(row.work_role),
        Value::Bool(Some(row.supervisor.0)),
        text(iso_date(day)),
        text(week_of(day)),
        text(month_of(day)),
        str(row.start_time),
        str(row.start_area),
        Value::Double(row.start_latitude.0),
        Value::Double(row.start_longitude.0),
        str(row.end_date.0),
        str(row.end_time),
        str(row.end_area),
        Value::Double(row.end_latitude.0),
        Value::Double(row.end_longitude.0),
        str(row.time_zone),
        Value::Double(row.duration.0),
    ]);
}

fn push_activity(row: ActivityRow<'_>, out: &mut Vec<Value>) {
    out.extend([
        str(row.id),
        str(row.reference_code),
        str(row.name),
        str(row.wbs_code),
        str(row.quantity_uom),
        str(row.work_category),
        str(row.discipline),
        str(row.location),
        str(row.job_number),
        str(row.cost_code),
        double(row.original_budget_labour.0),
        double(row.original_budget_quantity.0),
        double(row.original_budget_cost.0),
        double(row.revised_budget_labour.0),
        double(row.revised_budget_quantity.0),
        double(row.revised_budget_cost.0),
        double(row.current_estimate_labour.0),
        double(row.current_estimate_quantity.0),
        double(row.current_estimate_cost.0),
        str(row.original_start.0),
        str(row.original_finish.0),
        str(row.revised_start.0),
        str(row.revised_finish.0),
        str(row.planned_start.0),
        str(row.planned_finish.0),
        str(row.actual_start.0),
        str(row.actual_finish.0),
        str(row.expected_start.0),
        str(row.expected_finish.0),
        double(row.float.0.unwrap_or(0.0)),
        str(row.earned_value_method),
        double(row.percent_complete.0),
        Value::Bool(Some(row.exclude_from_mobile.0)),
        Value::Bool(Some(row.bookable_for_all.0)),
        Value::Bool(Some(row.non_bookable.0)),
        str(row.tags),
        str(row.updated_at),
    ]);
}

fn push_rate(row: RateRow<'_>, out: &mut Vec<Value>) {
    out.extend([
        str(row.id),
        str(row.resource_name),
        str(row.resource_type),
        str(row.rate_code),
        double(row.rate.0),
        str(row.unit_of_measure),
        text(iso_date(row.effective_from.0)),
        str(row.effective_to.0),
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row of `kind` in its own header order: `cells` by header name, the rest empty.
    fn row(kind: ClipKind, cells: &[(&str, &str)]) -> Vec<String> {
        kind.headers()
            .iter()
            .map(|h| {
                cells
                    .iter()
                    .find(|(name, _)| name == h)
                    .map_or_else(String::new, |(_, v)| (*v).to_owned())
            })
            .collect()
    }

    fn convert(layout: &Layout, row: &[String]) -> Result<Vec<Value>, String> {
        let cells: Vec<Option<&str>> = row.iter().map(|c| Some(c.as_str())).collect();
        layout.convert(9, 1, &cells)
    }

    /// The value written to `column` of `kind`.
    fn value(kind: ClipKind, values: &[Value], column: impl IntoIden) -> Value {
        let column = column.into_iden().to_string();
        let at = kind
            .columns()
            .iter()
            .position(|c| c.to_string() == column)
            .expect("a column of the kind");
        values[at].clone()
    }

    fn usage_row(quantity: &str) -> Vec<String> {
        row(
            ClipKind::Usages,
            &[
                ("Work Date", "2025-03-05"),
                ("Resource Type", "People"),
                ("Quantity", quantity),
                ("Unit of Measure", "h"),
                ("Approval Status", "Approved"),
            ],
        )
    }

    #[test]
    fn a_usage_row_gets_its_week_month_and_labour_hours() {
        let layout = Layout::new(ClipKind::Usages, ClipKind::Usages.headers().iter().copied())
            .expect("headers match");
        let values = convert(&layout, &usage_row("7.5")).expect("a good row");
        assert_eq!(values.len(), ClipKind::Usages.columns().len());
        let at = |c: DataclipUsages| value(ClipKind::Usages, &values, c);
        assert_eq!(at(DataclipUsages::SnapshotId), Value::BigInt(Some(9)));
        assert_eq!(
            at(DataclipUsages::WorkWeek),
            text("2025-03-03".into()),
            "Monday"
        );
        assert_eq!(at(DataclipUsages::WorkMonth), text("2025-03".into()));
        assert_eq!(at(DataclipUsages::LabourHours), double(7.5), "labour hours");
        assert_eq!(at(DataclipUsages::ApprovedLabourHours), double(7.5));
    }

    #[test]
    fn columns_are_matched_by_name_in_any_order_and_case() {
        let headers = ClipKind::Rates.headers();
        let mut shuffled: Vec<String> = headers.iter().rev().map(|h| h.to_uppercase()).collect();
        shuffled.push("Something Else".into());
        let layout = Layout::new(ClipKind::Rates, shuffled.iter().map(String::as_str))
            .expect("same names, other order and case");
        let mut cells: Vec<String> = vec![String::new(); shuffled.len()];
        for (name, v) in [
            ("RATE CODE", "R-7"),
            ("RATE", "12.5"),
            ("EFFECTIVE FROM", "2025-01-01"),
            ("SOMETHING ELSE", "ignored"),
        ] {
            let at = shuffled
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
                .expect("header");
            cells[at] = v.into();
        }
        let values = convert(&layout, &cells).expect("a good row");
        let at = |c: DataclipRates| value(ClipKind::Rates, &values, c);
        assert_eq!(at(DataclipRates::RateCode), text("R-7".into()));
        assert_eq!(at(DataclipRates::Rate), double(12.5));
        assert_eq!(at(DataclipRates::EffectiveFrom), text("2025-01-01".into()));
    }

    #[test]
    fn a_bad_number_or_a_short_row_is_reported_with_its_column() {
        let layout = Layout::new(ClipKind::Usages, ClipKind::Usages.headers().iter().copied())
            .expect("headers match");
        let row = usage_row("n/a");
        let error = convert(&layout, &row).expect_err("bad quantity");
        assert_eq!(error, "Quantity: `n/a` is not a number");
        let error = convert(&layout, &row[..row.len() - 1]).expect_err("short row");
        assert!(error.contains("24 cells"), "{error}");
        let bad_day = row
            .iter()
            .zip(ClipKind::Usages.headers())
            .map(|(c, h)| {
                if *h == "Work Date" {
                    "5/3/2025".into()
                } else {
                    c.clone()
                }
            })
            .collect::<Vec<_>>();
        assert_eq!(
            convert(&layout, &bad_day).expect_err("bad date"),
            "Work Date: `5/3/2025` is not a date (YYYY-MM-DD)"
        );
    }

    #[test]
    fn a_header_without_a_needed_column_is_refused_naming_it() {
        let error = Layout::new(ClipKind::Rates, ["Id", "Resource Name"]).expect_err("refused");
        assert!(error.contains("Rate Code"), "{error}");
    }

    #[test]
    fn every_typed_clip_reads_its_headers_and_writes_every_column() {
        for (kind, sample) in [
            (
                ClipKind::Usages,
                &[("Work Date", "2025-01-06"), ("Quantity", "1")][..],
            ),
            (
                ClipKind::Attendance,
                &[("Start Date", "2025-01-06"), ("Duration", "8.5")][..],
            ),
            (
                ClipKind::Rates,
                &[("Rate", "12.50"), ("Effective From", "2025-01-01")][..],
            ),
            (
                ClipKind::Activities,
                &[
                    ("Original Budget Labour", "1"),
                    ("Original Budget Quantity", "1"),
                    ("Original Budget Cost", "1"),
                    ("Revised Budget Labour", "1"),
                    ("Revised Budget Quantity", "1"),
                    ("Revised Budget Cost", "1"),
                    ("Current Estimate Labour", "1"),
                    ("Current Estimate Quantity", "1"),
                    ("Current Estimate Cost", "1"),
                    ("Percent Complete", "50"),
                ][..],
            ),
        ] {
            let headers = kind.headers();
            assert!(
                headers.len() > 5 && headers[0] == "Id",
                "{kind:?}: {headers:?}"
            );
            let layout = Layout::new(kind, headers.iter().copied()).expect("headers");
            let values = convert(&layout, &row(kind, sample)).expect("good row");
            assert_eq!(values.len(), kind.columns().len(), "{kind:?}");
        }
    }
}
