//! Analytical questions answered from the current snapshots, with the aggregation done by the
//! database (`GROUP BY` built with sea-query, the same on SQLite and PostgreSQL), and the
//! live-shaped list reads the routing facade uses.
//!
//! Labour hours are the quantities of `People` usages in hours (`h`, `hr`, `hours`); quantities
//! are summed as they are, so group by unit or resource to keep units apart. Approved figures
//! count only rows whose approval status is `Approved`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, Func, IntoColumnRef, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr, QueryResult};

use super::clip::{ACTIVITIES_CLIP, ATTENDANCE_CLIP, RATES_CLIP, USAGES_CLIP};
use super::tables::{
    DataclipActivities as A, DataclipAttendance as T, DataclipRates as R, DataclipUsages as U,
};
use super::{DataclipError, Dataclips, Freshness};

/// A dimension to group usage totals by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::Enum),
    graphql(name = "UsageGroupBy")
)]
pub enum UsageDimension {
    /// The resource (name and identifier).
    Resource,
    /// People, Equipment, Other Resource.
    ResourceType,
    /// The work reference (activity or event) by code and name.
    Activity,
    /// The activity's cost code.
    CostCode,
    /// The company.
    Company,
    /// The activity's discipline.
    Discipline,
    /// The activity's location.
    Location,
    /// The approval status.
    ApprovalStatus,
    /// The unit of measure.
    Unit,
    /// The work date.
    Day,
    /// The week (its Monday).
    Week,
    /// The month (`YYYY-MM`).
    Month,
}

impl UsageDimension {
    fn columns(self) -> &'static [U] {
        match self {
            Self::Resource => &[U::ResourceName, U::ResourceIdentifier],
            Self::ResourceType => &[U::ResourceType],
            Self::Activity => &[
                U::WorkReferenceType,
                U::WorkReferenceCode,
                U::WorkReferenceName,
            ],
            Self::CostCode => &[U::CostCode],
            Self::Company => &[U::Company],
            Self::Discipline => &[U::Discipline],
            Self::Location => &[U::Location],
            Self::ApprovalStatus => &[U::ApprovalStatus],
            Self::Unit => &[U::Uom],
            Self::Day => &[U::WorkDate],
            Self::Week => &[U::WorkWeek],
            Self::Month => &[U::WorkMonth],
        }
    }
}

/// Filters on usages; empty lists do not filter.
#[derive(Debug, Clone, Default)]
pub struct UsageFilter {
    /// First work date, inclusive.
    pub from: Option<NaiveDate>,
    /// Last work date, inclusive.
    pub to: Option<NaiveDate>,
    /// Companies.
    pub companies: Vec<String>,
    /// Resource types as exported (`People`, `Equipment`, `Other Resource`).
    pub resource_types: Vec<String>,
    /// Disciplines.
    pub disciplines: Vec<String>,
    /// Locations.
    pub locations: Vec<String>,
    /// Approval statuses as exported (`Approved`, `Submitted`, ...).
    pub approval_statuses: Vec<String>,
    /// Work reference codes.
    pub activity_codes: Vec<String>,
    /// Cost codes.
    pub cost_codes: Vec<String>,
}

fn in_list(select: &mut SelectStatement, column: impl IntoColumnRef, values: &[String]) {
    if !values.is_empty() {
        select.and_where(Expr::col(column).is_in(values.iter().cloned()));
    }
}

fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

impl UsageFilter {
    fn apply(&self, select: &mut SelectStatement) {
        if let Some(from) = self.from {
            select.and_where(Expr::col(U::WorkDate).gte(date_text(from)));
        }
        if let Some(to) = self.to {
            select.and_where(Expr::col(U::WorkDate).lte(date_text(to)));
        }
        in_list(select, U::Company, &self.companies);
        in_list(select, U::ResourceType, &self.resource_types);
        in_list(select, U::Discipline, &self.disciplines);
        in_list(select, U::Location, &self.locations);
        in_list(select, U::ApprovalStatus, &self.approval_statuses);
        in_list(select, U::WorkReferenceCode, &self.activity_codes);
        in_list(select, U::CostCode, &self.cost_codes);
    }
}

/// The sums of one group.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(complex)
)]
pub struct UsageSums {
    /// Usage rows.
    pub rows: i64,
    /// Quantity (in the rows' units: group by UNIT or RESOURCE to keep units apart).
    pub quantity: f64,
    /// Labour hours (people's usages in hours).
    pub labour_hours: f64,
    /// Quantity of approved usages.
    pub approved_quantity: f64,
    /// Labour hours of approved usages.
    pub approved_labour_hours: f64,
}

/// One group of usage totals: the values of the grouped dimensions, in the order asked, and
/// the sums.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageGroup {
    /// `(dimension, value)` per grouped column (the resource gives its name and identifier,
    /// the activity its type, code and name).
    pub key: Vec<(UsageDimension, Vec<String>)>,
    /// The sums.
    pub sums: UsageSums,
}

/// Usage totals.
#[derive(Debug, Clone)]
pub struct UsageTotals {
    /// The groups, ordered by their key.
    pub groups: Vec<UsageGroup>,
    /// Whether more groups exist than the limit let through.
    pub truncated: bool,
    /// The sums over every row the filter selects.
    pub total: UsageSums,
    /// The snapshot that answered.
    pub freshness: Freshness,
}

/// Attendance on one day (and in one area).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
pub struct AttendanceDay {
    /// The day.
    pub day: String,
    /// The start area (null when not grouped by area).
    pub area: Option<String>,
    /// Attendance records.
    pub records: i64,
    /// Distinct people (by attendance reference).
    pub people: i64,
    /// Hours on site (records with a duration).
    pub hours: f64,
}

/// Filters on attendance.
#[derive(Debug, Clone, Default)]
pub struct AttendanceFilter {
    /// First start date, inclusive.
    pub from: Option<NaiveDate>,
    /// Last start date, inclusive.
    pub to: Option<NaiveDate>,
    /// Companies.
    pub companies: Vec<String>,
    /// Start areas.
    pub areas: Vec<String>,
}

/// Filters on activities.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    /// Disciplines.
    pub disciplines: Vec<String>,
    /// Locations.
    pub locations: Vec<String>,
    /// Cost codes.
    pub cost_codes: Vec<String>,
    /// Work categories.
    pub work_categories: Vec<String>,
}

/// An activity's progress with its budget against the actuals booked to it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
pub struct ActivityProgress {
    /// Reference code.
    pub reference_code: String,
    /// Name.
    pub name: String,
    /// Cost code.
    pub cost_code: String,
    /// Discipline.
    pub discipline: String,
    /// Location.
    pub location: String,
    /// Percent complete.
    pub percent_complete: f64,
    /// Budget labour hours (current estimate at complete).
    pub budget_labour_hours: f64,
    /// Budget quantity (current estimate at complete).
    pub budget_quantity: f64,
    /// Budget cost (current estimate at complete).
    pub budget_cost: f64,
    /// Planned start.
    pub planned_start: String,
    /// Planned finish.
    pub planned_finish: String,
    /// Actual start (empty until started).
    pub actual_start: String,
    /// Actual finish (empty until finished).
    pub actual_finish: String,
    /// Labour hours booked, from the usages snapshot (null without one).
    pub actual_labour_hours: Option<f64>,
    /// Quantity booked, from the usages snapshot (null without one).
    pub actual_quantity: Option<f64>,
}

/// Activity progress.
#[derive(Debug, Clone)]
pub struct ActivityProgressPage {
    /// Activities ordered by reference code.
    pub activities: Vec<ActivityProgress>,
    /// Cursor of the next page, if any.
    pub next_cursor: Option<String>,
    /// The activity snapshot.
    pub freshness: Freshness,
    /// The usages snapshot the actuals come from, if there is one.
    pub actuals_freshness: Option<Freshness>,
}

/// A rate in force.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrentRate {
    /// Resource.
    pub resource_name: String,
    /// Resource type.
    pub resource_type: String,
    /// Rate code.
    pub rate_code: String,
    /// Rate.
    pub rate: f64,
    /// Unit.
    pub uom: String,
    /// Effective from.
    pub effective_from: String,
    /// Effective to (empty: open).
    pub effective_to: String,
}

/// Rates in force on a date.
#[derive(Debug, Clone)]
pub struct CurrentRates {
    /// Ordered by resource and rate code.
    pub rates: Vec<CurrentRate>,
    /// Whether more existed than the limit.
    pub truncated: bool,
    /// The snapshot that answered.
    pub freshness: Freshness,
}

/// A resource usage as the usages export has it: names where the REST API has ids.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(complex, name = "SnapshotUsage")
)]
pub struct UsageRecord {
    /// The usage's id (the export's `Id`, the same as the REST API's).
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub id: String,
    /// Work date.
    pub work_date: NaiveDate,
    /// Resource name.
    pub resource_name: String,
    /// Resource type as exported (`People`, `Equipment`, `Other Resource`).
    pub resource_type: String,
    /// Company.
    pub company: String,
    /// `Activity` or `Event`.
    pub work_reference_type: String,
    /// The activity's or event's reference code.
    pub work_reference_code: String,
    /// Cost code.
    pub cost_code: String,
    /// Discipline.
    pub discipline: String,
    /// Location.
    pub location: String,
    /// Usage code.
    pub usage_code: String,
    /// Quantity.
    pub quantity: f64,
    /// Unit of measure.
    pub uom: String,
    /// Rate code.
    pub rate_code: String,
    /// Approval status as exported.
    pub approval_status: String,
}

/// A page of a live-shaped list answered from a snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotPage<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Cursor of the next page (pass as `after`), if any.
    pub next_cursor: Option<String>,
    /// The snapshot that answered.
    pub freshness: Freshness,
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> Result<T, DbErr> {
    row.try_get("", column)
}

/// A `YYYY-MM-DD` date as the snapshot tables store it.
fn stored_date(text: &str) -> Result<NaiveDate, DbErr> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| DbErr::Type(format!("a stored work date `{text}`: {e}")))
}

fn sum_or_zero(row: &QueryResult, column: &str) -> Result<f64, DbErr> {
    Ok(get::<Option<f64>>(row, column)?.unwrap_or(0.0))
}

fn usage_sums(select: &mut SelectStatement) {
    select
        .expr_as(Expr::col(U::Id).count(), "row_count")
        .expr_as(Func::sum(Expr::col(U::Quantity)), "sum_quantity")
        .expr_as(Func::sum(Expr::col(U::LabourHours)), "sum_labour_hours")
        .expr_as(
            Func::sum(Expr::col(U::ApprovedQuantity)),
            "sum_approved_quantity",
        )
        .expr_as(
            Func::sum(Expr::col(U::ApprovedLabourHours)),
            "sum_approved_labour_hours",
        );
}

fn read_sums(row: &QueryResult) -> Result<UsageSums, DbErr> {
    Ok(UsageSums {
        rows: get(row, "row_count")?,
        quantity: sum_or_zero(row, "sum_quantity")?,
        labour_hours: sum_or_zero(row, "sum_labour_hours")?,
        approved_quantity: sum_or_zero(row, "sum_approved_quantity")?,
        approved_labour_hours: sum_or_zero(row, "sum_approved_labour_hours")?,
    })
}

/// Cursors are `{snapshot_id}:{position}`, base64url: opaque to clients, and refused once the
/// snapshot they were made on is no longer current.
fn encode_cursor(snapshot_id: i64, position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{snapshot_id}:{position}"))
}

fn decode_cursor(cursor: &str, snapshot_id: i64) -> Result<String, DataclipError> {
    let invalid = || DataclipError::InvalidCursor("the cursor is not valid".to_owned());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (id, position) = text.split_once(':').ok_or_else(invalid)?;
    if id.parse::<i64>().map_err(|_| invalid())? != snapshot_id {
        return Err(DataclipError::InvalidCursor(
            "the snapshot this cursor was made on is no longer current; start again".to_owned(),
        ));
    }
    Ok(position.to_owned())
}

/// The usages clip that answers, by variant.
pub(crate) fn usages_clip(variant: Option<&str>) -> &str {
    variant.unwrap_or(USAGES_CLIP)
}

impl Dataclips {
    /// Labour hours, quantities and row counts of usages, grouped by `group_by` (none: one
    /// grand total), at most `limit` groups. `clip` picks the usages export (default) or one of
    /// its variants.
    pub async fn usage_totals(
        &self,
        project_id: &str,
        clip: Option<&str>,
        group_by: &[UsageDimension],
        filter: &UsageFilter,
        limit: u64,
    ) -> Result<UsageTotals, DataclipError> {
        let freshness = self.current(project_id, usages_clip(clip)).await?;
        let mut select = Query::select();
        select
            .from(U::Table)
            .and_where(Expr::col(U::SnapshotId).eq(freshness.snapshot_id));
        filter.apply(&mut select);
        let mut total_select = select.clone();
        usage_sums(&mut total_select);
        let total = match self.db().query_one(&total_select).await? {
            Some(row) => read_sums(&row)?,
            None => UsageSums::default(),
        };

        let mut dims: Vec<UsageDimension> = Vec::new();
        for d in group_by {
            if !dims.contains(d) {
                dims.push(*d);
            }
        }
        for d in &dims {
            for column in d.columns() {
                select.column(*column);
                select.add_group_by([Expr::col(*column)]);
                select.order_by(*column, Order::Asc);
            }
        }
        usage_sums(&mut select);
        select.limit(limit.saturating_add(1));
        let rows = if dims.is_empty() {
            Vec::new()
        } else {
            self.db().query_all(&select).await?
        };
        let truncated = rows.len() as u64 > limit;
        let mut groups = Vec::with_capacity(rows.len());
        for row in rows
            .iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
        {
            let mut key = Vec::with_capacity(dims.len());
            for d in &dims {
                let mut values = Vec::with_capacity(d.columns().len());
                for column in d.columns() {
                    values.push(get::<String>(row, &sea_orm::Iden::to_string(column))?);
                }
                key.push((*d, values));
            }
            groups.push(UsageGroup {
                key,
                sums: read_sums(row)?,
            });
        }
        if dims.is_empty() {
            groups.push(UsageGroup {
                key: Vec::new(),
                sums: total.clone(),
            });
        }
        Ok(UsageTotals {
            groups,
            truncated,
            total,
            freshness,
        })
    }

    /// Attendance per day, and per start area unless `by_area` is false.
    pub async fn attendance_by_day(
        &self,
        project_id: &str,
        filter: &AttendanceFilter,
        by_area: bool,
        limit: u64,
    ) -> Result<(Vec<AttendanceDay>, bool, Freshness), DataclipError> {
        let freshness = self.current(project_id, ATTENDANCE_CLIP).await?;
        let mut select = Query::select();
        select
            .from(T::Table)
            .column(T::StartDate)
            .expr_as(Expr::col(T::Id).count(), "records")
            .expr_as(Expr::col(T::AttendanceReference).count_distinct(), "people")
            .expr_as(Func::sum(Expr::col(T::DurationHours)), "hours")
            .and_where(Expr::col(T::SnapshotId).eq(freshness.snapshot_id))
            .add_group_by([Expr::col(T::StartDate)])
            .order_by(T::StartDate, Order::Asc);
        if by_area {
            select
                .column(T::StartArea)
                .add_group_by([Expr::col(T::StartArea)])
                .order_by(T::StartArea, Order::Asc);
        }
        if let Some(from) = filter.from {
            select.and_where(Expr::col(T::StartDate).gte(date_text(from)));
        }
        if let Some(to) = filter.to {
            select.and_where(Expr::col(T::StartDate).lte(date_text(to)));
        }
        in_list(&mut select, T::Company, &filter.companies);
        in_list(&mut select, T::StartArea, &filter.areas);
        select.limit(limit.saturating_add(1));
        let rows = self.db().query_all(&select).await?;
        let truncated = rows.len() as u64 > limit;
        let mut days = Vec::new();
        for row in rows
            .iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
        {
            days.push(AttendanceDay {
                day: get(row, "start_date")?,
                area: if by_area {
                    Some(get(row, "start_area")?)
                } else {
                    None
                },
                records: get(row, "records")?,
                people: get(row, "people")?,
                hours: sum_or_zero(row, "hours")?,
            });
        }
        Ok((days, truncated, freshness))
    }

    /// Activities with their progress and budget, and the labour hours and quantities booked to
    /// them in the usages snapshot (when one exists), ordered by reference code.
    pub async fn activity_progress(
        &self,
        project_id: &str,
        filter: &ActivityFilter,
        first: u64,
        after: Option<&str>,
    ) -> Result<ActivityProgressPage, DataclipError> {
        let freshness = self.current(project_id, ACTIVITIES_CLIP).await?;
        let mut select = Query::select();
        select
            .from(A::Table)
            .columns([
                A::ReferenceCode,
                A::Name,
                A::CostCode,
                A::Discipline,
                A::Location,
                A::PercentComplete,
                A::CurrentEstimateLabour,
                A::CurrentEstimateQuantity,
                A::CurrentEstimateCost,
                A::PlannedStart,
                A::PlannedFinish,
                A::ActualStart,
                A::ActualFinish,
            ])
            .and_where(Expr::col(A::SnapshotId).eq(freshness.snapshot_id))
            .order_by(A::ReferenceCode, Order::Asc)
            .limit(first.saturating_add(1));
        if let Some(after) = after {
            let position = decode_cursor(after, freshness.snapshot_id)?;
            select.and_where(Expr::col(A::ReferenceCode).gt(position));
        }
        in_list(&mut select, A::Discipline, &filter.disciplines);
        in_list(&mut select, A::Location, &filter.locations);
        in_list(&mut select, A::CostCode, &filter.cost_codes);
        in_list(&mut select, A::WorkCategory, &filter.work_categories);
        let rows = self.db().query_all(&select).await?;
        let more = rows.len() as u64 > first;
        let mut activities = Vec::new();
        for row in rows
            .iter()
            .take(usize::try_from(first).unwrap_or(usize::MAX))
        {
            activities.push(ActivityProgress {
                reference_code: get(row, "reference_code")?,
                name: get(row, "name")?,
                cost_code: get(row, "cost_code")?,
                discipline: get(row, "discipline")?,
                location: get(row, "location")?,
                percent_complete: get(row, "percent_complete")?,
                budget_labour_hours: get(row, "current_estimate_labour")?,
                budget_quantity: get(row, "current_estimate_quantity")?,
                budget_cost: get(row, "current_estimate_cost")?,
                planned_start: get(row, "planned_start")?,
                planned_finish: get(row, "planned_finish")?,
                actual_start: get(row, "actual_start")?,
                actual_finish: get(row, "actual_finish")?,
                actual_labour_hours: None,
                actual_quantity: None,
            });
        }
        let next_cursor = if more {
            activities
                .last()
                .map(|a| encode_cursor(freshness.snapshot_id, &a.reference_code))
        } else {
            None
        };
        let actuals_freshness = match self.current(project_id, USAGES_CLIP).await {
            Ok(usages) => Some(usages),
            Err(DataclipError::NoSnapshot { .. } | DataclipError::NotConfigured { .. }) => None,
            Err(other) => return Err(other),
        };
        if let Some(usages) = &actuals_freshness
            && !activities.is_empty()
        {
            let codes: Vec<String> = activities
                .iter()
                .map(|a| a.reference_code.clone())
                .collect();
            let mut sums = Query::select();
            sums.from(U::Table)
                .column(U::WorkReferenceCode)
                .expr_as(Func::sum(Expr::col(U::LabourHours)), "sum_labour_hours")
                .expr_as(Func::sum(Expr::col(U::Quantity)), "sum_quantity")
                .and_where(Expr::col(U::SnapshotId).eq(usages.snapshot_id))
                .and_where(Expr::col(U::WorkReferenceType).eq("Activity"))
                .and_where(Expr::col(U::WorkReferenceCode).is_in(codes))
                .add_group_by([Expr::col(U::WorkReferenceCode)]);
            let mut by_code = std::collections::HashMap::new();
            for row in self.db().query_all(&sums).await? {
                by_code.insert(
                    get::<String>(&row, "work_reference_code")?,
                    (
                        sum_or_zero(&row, "sum_labour_hours")?,
                        sum_or_zero(&row, "sum_quantity")?,
                    ),
                );
            }
            for activity in &mut activities {
                let (hours, quantity) = by_code
                    .get(&activity.reference_code)
                    .copied()
                    .unwrap_or((0.0, 0.0));
                activity.actual_labour_hours = Some(hours);
                activity.actual_quantity = Some(quantity);
            }
        }
        Ok(ActivityProgressPage {
            activities,
            next_cursor,
            freshness,
            actuals_freshness,
        })
    }

    /// The rates in force on `as_of`, ordered by resource and rate code.
    pub async fn current_rates(
        &self,
        project_id: &str,
        as_of: NaiveDate,
        resource_types: &[String],
        resource_names: &[String],
        limit: u64,
    ) -> Result<CurrentRates, DataclipError> {
        let freshness = self.current(project_id, RATES_CLIP).await?;
        let day = date_text(as_of);
        let mut select = Query::select();
        select
            .from(R::Table)
            .columns([
                R::ResourceName,
                R::ResourceType,
                R::RateCode,
                R::Rate,
                R::Uom,
                R::EffectiveFrom,
                R::EffectiveTo,
            ])
            .and_where(Expr::col(R::SnapshotId).eq(freshness.snapshot_id))
            .and_where(Expr::col(R::EffectiveFrom).lte(day.clone()))
            .and_where(
                Expr::col(R::EffectiveTo)
                    .eq("")
                    .or(Expr::col(R::EffectiveTo).gte(day)),
            )
            .order_by(R::ResourceName, Order::Asc)
            .order_by(R::RateCode, Order::Asc)
            .limit(limit.saturating_add(1));
        in_list(&mut select, R::ResourceType, resource_types);
        in_list(&mut select, R::ResourceName, resource_names);
        let rows = self.db().query_all(&select).await?;
        let truncated = rows.len() as u64 > limit;
        let mut rates = Vec::new();
        for row in rows
            .iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
        {
            rates.push(CurrentRate {
                resource_name: get(row, "resource_name")?,
                resource_type: get(row, "resource_type")?,
                rate_code: get(row, "rate_code")?,
                rate: get(row, "rate")?,
                uom: get(row, "uom")?,
                effective_from: get(row, "effective_from")?,
                effective_to: get(row, "effective_to")?,
            });
        }
        Ok(CurrentRates {
            rates,
            truncated,
            freshness,
        })
    }

    /// Routing hook: resource usages as a live list would return them (`from`/`to` on the work
    /// date, the filters of [`UsageFilter`], `first` rows after the cursor `after`), answered
    /// from the current snapshot of the usages export. Rows come in export order (by work date).
    pub async fn snapshot_usages(
        &self,
        project_id: &str,
        filter: &UsageFilter,
        first: u64,
        after: Option<&str>,
    ) -> Result<SnapshotPage<UsageRecord>, DataclipError> {
        let freshness = self.current(project_id, USAGES_CLIP).await?;
        let mut select = Query::select();
        select
            .from(U::Table)
            .columns([
                U::Id,
                U::UsageId,
                U::WorkDate,
                U::ResourceName,
                U::ResourceType,
                U::Company,
                U::WorkReferenceType,
                U::WorkReferenceCode,
                U::CostCode,
                U::Discipline,
                U::Location,
                U::UsageCode,
                U::Quantity,
                U::Uom,
                U::RateCode,
                U::ApprovalStatus,
            ])
            .and_where(Expr::col(U::SnapshotId).eq(freshness.snapshot_id))
            .order_by(U::Id, Order::Asc)
            .limit(first.saturating_add(1));
        if let Some(after) = after {
            let position = decode_cursor(after, freshness.snapshot_id)?;
            let id: i64 = position
                .parse()
                .map_err(|_| DataclipError::InvalidCursor("the cursor is not valid".to_owned()))?;
            select.and_where(Expr::col(U::Id).gt(id));
        }
        filter.apply(&mut select);
        let rows = self.db().query_all(&select).await?;
        let more = rows.len() as u64 > first;
        let mut items = Vec::new();
        let mut last_id = 0i64;
        for row in rows
            .iter()
            .take(usize::try_from(first).unwrap_or(usize::MAX))
        {
            last_id = get(row, "id")?;
            items.push(UsageRecord {
                id: get(row, "usage_id")?,
                work_date: stored_date(&get::<String>(row, "work_date")?)?,
                resource_name: get(row, "resource_name")?,
                resource_type: get(row, "resource_type")?,
                company: get(row, "company")?,
                work_reference_type: get(row, "work_reference_type")?,
                work_reference_code: get(row, "work_reference_code")?,
                cost_code: get(row, "cost_code")?,
                discipline: get(row, "discipline")?,
                location: get(row, "location")?,
                usage_code: get(row, "usage_code")?,
                quantity: get(row, "quantity")?,
                uom: get(row, "uom")?,
                rate_code: get(row, "rate_code")?,
                approval_status: get(row, "approval_status")?,
            });
        }
        Ok(SnapshotPage {
            next_cursor: more.then(|| encode_cursor(freshness.snapshot_id, &last_id.to_string())),
            items,
            freshness,
        })
    }

    /// Routing hook: activities as a live list would return them, from the current snapshot of
    /// the activity export, ordered by reference code (without actuals).
    pub async fn snapshot_activities(
        &self,
        project_id: &str,
        filter: &ActivityFilter,
        first: u64,
        after: Option<&str>,
    ) -> Result<SnapshotPage<ActivityProgress>, DataclipError> {
        let freshness = self.current(project_id, ACTIVITIES_CLIP).await?;
        // The same read as `activity_progress`, without joining the usages.
        let page = self
            .activity_progress_rows(project_id, filter, first, after, &freshness)
            .await?;
        Ok(SnapshotPage {
            items: page.0,
            next_cursor: page.1,
            freshness,
        })
    }

    async fn activity_progress_rows(
        &self,
        project_id: &str,
        filter: &ActivityFilter,
        first: u64,
        after: Option<&str>,
        freshness: &Freshness,
    ) -> Result<(Vec<ActivityProgress>, Option<String>), DataclipError> {
        let page = self
            .activity_progress(project_id, filter, first, after)
            .await?;
        if page.freshness.snapshot_id != freshness.snapshot_id {
            return Err(DataclipError::InvalidCursor(
                "the snapshot changed while reading; start again".to_owned(),
            ));
        }
        let items = page
            .activities
            .into_iter()
            .map(|mut a| {
                a.actual_labour_hours = None;
                a.actual_quantity = None;
                a
            })
            .collect();
        Ok((items, page.next_cursor))
    }
}
