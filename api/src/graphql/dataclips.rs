//! Dataclips in GraphQL: `analytics(projectId)` (analytical questions answered from snapshots),
//! `dataclipStatus` (reviewers) and `refreshDataclip` (admins).
//!
//! The field names under `analytics` are those `gatehouse_compliance::dataclips::
//! analytics_field_for` names in refusal hints: `usageTotals`, `attendanceByDay`,
//! `activityProgress`, `currentRates`; and `usages`, the usage rows themselves, which a live
//! list routed to the snapshots is pointed at.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use gatehouse_compliance::Entity;

use super::guard::RoleGuard;
use super::perform::PerformRequest;
use super::types::EntityName;
use super::{principal, services};
use crate::error::ApiError;
use crate::principal::Principal;
use gatehouse_core::auth::{Access, Role};
use gatehouse_core::dataclips::Freshness;
use gatehouse_core::dataclips::analytics::{
    self, ActivityProgress, AttendanceDay, UsageDimension, UsageRecord, UsageSums,
};
use gatehouse_core::dataclips::clip::{
    USAGES_APPROVED_CLIP, USAGES_CLIP, USAGES_SUBCONTRACTOR_CLIP,
};
use gatehouse_core::dataclips::{self as dc, ClipKind};

/// Who may read analytics about `entity` on `project_id`: reviewers and admins, and app keys
/// whose scopes cover the project and read the entity.
fn authorize(principal: &Principal, project_id: &str, entity: Entity) -> Result<(), ApiError> {
    match principal {
        Principal::Anonymous => Err(ApiError::unauthenticated()),
        Principal::User { .. } => principal.require_role(Role::Reviewer).map(|_| ()),
        Principal::AppKey(key) => {
            if !key.scopes.allows_project(project_id) {
                return Err(ApiError::forbidden(format!(
                    "this app key may not read project {project_id}"
                )));
            }
            if !key.scopes.allows(entity, Access::Read) {
                return Err(ApiError::forbidden(format!(
                    "this app key may not read {}",
                    entity.label()
                )));
            }
            Ok(())
        }
    }
}

/// A resource's type, as the exports name it.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "ExportResourceType")]
pub enum ResourceType {
    /// `People`.
    People,
    /// `Equipment`.
    Equipment,
    /// `Other Resource`.
    OtherResource,
}

impl ResourceType {
    fn label(self) -> String {
        match self {
            Self::People => "People",
            Self::Equipment => "Equipment",
            Self::OtherResource => "Other Resource",
        }
        .to_owned()
    }
}

/// A usage's approval status.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageApprovalStatus {
    /// Not yet submitted.
    Unapproved,
    /// Submitted for approval.
    Submitted,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
}

impl UsageApprovalStatus {
    fn label(self) -> String {
        match self {
            Self::Unapproved => "Unapproved",
            Self::Submitted => "Submitted",
            Self::Approved => "Approved",
            Self::Rejected => "Rejected",
        }
        .to_owned()
    }
}

/// Which usages export answers.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UsageVariant {
    /// Every usage (`resource-usages-export`).
    #[default]
    All,
    /// Subcontractors' usages only (`resource-usages-subcontractor`).
    Subcontractors,
    /// Approved usages only (`resource-usages-approved`).
    Approved,
}

impl UsageVariant {
    fn clip(self) -> &'static str {
        match self {
            Self::All => USAGES_CLIP,
            Self::Subcontractors => USAGES_SUBCONTRACTOR_CLIP,
            Self::Approved => USAGES_APPROVED_CLIP,
        }
    }
}

/// Filters on usages; every list left out or empty does not filter.
#[derive(InputObject, Debug, Default)]
pub struct UsageFilterInput {
    /// First work date, inclusive.
    pub from: Option<NaiveDate>,
    /// Last work date, inclusive.
    pub to: Option<NaiveDate>,
    /// Company names.
    pub companies: Option<Vec<String>>,
    /// Resource types.
    pub resource_types: Option<Vec<ResourceType>>,
    /// Disciplines.
    pub disciplines: Option<Vec<String>>,
    /// Locations.
    pub locations: Option<Vec<String>>,
    /// Approval statuses.
    pub approval_statuses: Option<Vec<UsageApprovalStatus>>,
    /// Activity (work reference) codes.
    pub activity_codes: Option<Vec<String>>,
    /// Cost codes.
    pub cost_codes: Option<Vec<String>>,
}

impl UsageFilterInput {
    fn into_domain(self) -> Result<analytics::UsageFilter, ApiError> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(ApiError::invalid_field(
                "filter.to",
                "is before filter.from",
            ));
        }
        Ok(analytics::UsageFilter {
            from: self.from,
            to: self.to,
            companies: self.companies.unwrap_or_default(),
            resource_types: self
                .resource_types
                .unwrap_or_default()
                .into_iter()
                .map(ResourceType::label)
                .collect(),
            disciplines: self.disciplines.unwrap_or_default(),
            locations: self.locations.unwrap_or_default(),
            approval_statuses: self
                .approval_statuses
                .unwrap_or_default()
                .into_iter()
                .map(UsageApprovalStatus::label)
                .collect(),
            activity_codes: self.activity_codes.unwrap_or_default(),
            cost_codes: self.cost_codes.unwrap_or_default(),
        })
    }
}

/// One group of usage totals. The key fields of the dimensions grouped by are set; the others
/// are null.
#[derive(SimpleObject, Debug, Clone, Default)]
pub struct UsageGroup {
    /// Resource name (RESOURCE).
    pub resource: Option<String>,
    /// Resource identifier (RESOURCE).
    pub resource_identifier: Option<String>,
    /// Resource type (RESOURCE_TYPE).
    pub resource_type: Option<String>,
    /// `Activity` or `Event` (ACTIVITY).
    pub work_reference_type: Option<String>,
    /// Activity or event code (ACTIVITY).
    pub activity_code: Option<String>,
    /// Activity or event name (ACTIVITY).
    pub activity_name: Option<String>,
    /// Cost code (COST_CODE).
    pub cost_code: Option<String>,
    /// Company (COMPANY).
    pub company: Option<String>,
    /// Discipline (DISCIPLINE).
    pub discipline: Option<String>,
    /// Location (LOCATION).
    pub location: Option<String>,
    /// Approval status (APPROVAL_STATUS).
    pub approval_status: Option<String>,
    /// Unit of measure (UNIT).
    pub unit: Option<String>,
    /// Work date (DAY).
    pub day: Option<String>,
    /// Monday of the week (WEEK).
    pub week: Option<String>,
    /// Month, `YYYY-MM` (MONTH).
    pub month: Option<String>,
    /// The sums.
    #[graphql(flatten)]
    pub sums: UsageSums,
}

impl From<analytics::UsageGroup> for UsageGroup {
    fn from(g: analytics::UsageGroup) -> Self {
        let mut out = UsageGroup {
            sums: g.sums,
            ..UsageGroup::default()
        };
        for (dimension, values) in g.key {
            let mut values = values.into_iter();
            let mut next = || values.next();
            match dimension {
                UsageDimension::Resource => {
                    out.resource = next();
                    out.resource_identifier = next();
                }
                UsageDimension::ResourceType => out.resource_type = next(),
                UsageDimension::Activity => {
                    out.work_reference_type = next();
                    out.activity_code = next();
                    out.activity_name = next();
                }
                UsageDimension::CostCode => out.cost_code = next(),
                UsageDimension::Company => out.company = next(),
                UsageDimension::Discipline => out.discipline = next(),
                UsageDimension::Location => out.location = next(),
                UsageDimension::ApprovalStatus => out.approval_status = next(),
                UsageDimension::Unit => out.unit = next(),
                UsageDimension::Day => out.day = next(),
                UsageDimension::Week => out.week = next(),
                UsageDimension::Month => out.month = next(),
            }
        }
        out
    }
}

/// Usage totals.
#[derive(SimpleObject, Debug, Clone)]
pub struct UsageTotals {
    /// The groups, ordered by their key (one grand total when grouped by nothing).
    pub groups: Vec<UsageGroup>,
    /// True when there are more groups than `first`: narrow the filter or group coarser.
    pub truncated: bool,
    /// The sums over every usage the filter selects.
    pub total: UsageSums,
    /// The snapshot that answered.
    pub freshness: Freshness,
}

/// Attendance by day.
#[derive(SimpleObject, Debug, Clone)]
pub struct AttendanceByDay {
    /// Days (and areas), in order.
    pub days: Vec<AttendanceDay>,
    /// True when there are more rows than `first`.
    pub truncated: bool,
    /// The snapshot that answered.
    pub freshness: Freshness,
}

/// Filters on attendance.
#[derive(InputObject, Debug, Default)]
pub struct AttendanceFilterInput {
    /// First day, inclusive.
    pub from: Option<NaiveDate>,
    /// Last day, inclusive.
    pub to: Option<NaiveDate>,
    /// Company names.
    pub companies: Option<Vec<String>>,
    /// Start areas.
    pub areas: Option<Vec<String>>,
}

/// Filters on activities.
#[derive(InputObject, Debug, Default)]
pub struct ActivityFilterInput {
    /// Disciplines.
    pub disciplines: Option<Vec<String>>,
    /// Locations.
    pub locations: Option<Vec<String>>,
    /// Cost codes.
    pub cost_codes: Option<Vec<String>>,
    /// Work categories.
    pub work_categories: Option<Vec<String>>,
}

/// Pagination of a connection.
#[derive(SimpleObject, Debug, Clone)]
pub struct AnalyticsPageInfo {
    /// Whether another page follows.
    pub has_next_page: bool,
    /// Pass as `after` for the next page.
    pub end_cursor: Option<String>,
}

/// A page of resource usages read from the usages snapshot.
#[derive(SimpleObject, Debug, Clone)]
pub struct SnapshotUsageConnection {
    /// Usages by work date, then id.
    pub nodes: Vec<UsageRecord>,
    /// Pagination (a cursor is bound to its snapshot: after a refresh, start again).
    pub page_info: AnalyticsPageInfo,
    /// The snapshot that answered.
    pub freshness: Freshness,
}

/// A page of activity progress.
#[derive(SimpleObject, Debug, Clone)]
pub struct ActivityProgressConnection {
    /// Activities by reference code.
    pub nodes: Vec<ActivityProgress>,
    /// Pagination.
    pub page_info: AnalyticsPageInfo,
    /// The activity snapshot.
    pub freshness: Freshness,
    /// The usages snapshot the actuals come from (null without one).
    pub actuals_freshness: Option<Freshness>,
}

/// A rate in force.
#[derive(SimpleObject, Debug, Clone)]
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
    pub unit: String,
    /// In force from.
    pub effective_from: String,
    /// In force until (empty: open-ended).
    pub effective_to: String,
}

/// Rates in force.
#[derive(SimpleObject, Debug, Clone)]
pub struct CurrentRates {
    /// By resource and rate code.
    pub rates: Vec<CurrentRate>,
    /// True when there are more than `first`.
    pub truncated: bool,
    /// The snapshot that answered.
    pub freshness: Freshness,
}

/// The snapshot cursor inside a client's signed `after` (the snapshot service binds it to its
/// snapshot; the signature binds it to the field and project and keeps it as it was made).
fn open_cursor(
    cursors: &crate::cursor::CursorScope,
    after: Option<&str>,
) -> Result<Option<String>, ApiError> {
    after
        .map(|cursor| {
            cursors
                .open(cursor)
                .and_then(|inner| String::from_utf8(inner).ok())
                .ok_or_else(|| ApiError::invalid_field("after", "is not a cursor of this list"))
        })
        .transpose()
}

/// Analytical questions about one project, answered from its Dataclips snapshots, never from
/// the live API.
#[derive(Debug, Clone)]
pub struct Analytics {
    project_id: String,
}

#[Object]
impl Analytics {
    /// The project.
    async fn project_id(&self) -> &str {
        &self.project_id
    }

    /// Labour hours and quantities of resource usages, grouped by the dimensions asked (none:
    /// one grand total), with approved and unapproved figures.
    async fn usage_totals(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] group_by: Vec<UsageDimension>,
        filter: Option<UsageFilterInput>,
        #[graphql(default)] variant: UsageVariant,
        #[graphql(default = 1000, validator(minimum = 1, maximum = 10000))] first: u64,
    ) -> Result<UsageTotals> {
        authorize(principal(ctx)?, &self.project_id, Entity::ResourceUsage)?;
        let filter = filter.unwrap_or_default().into_domain()?;
        let totals = services(ctx)?
            .dataclips
            .usage_totals(
                &self.project_id,
                Some(variant.clip()),
                &group_by,
                &filter,
                first,
            )
            .await
            .map_err(ApiError::from)?;
        Ok(UsageTotals {
            groups: totals.groups.into_iter().map(Into::into).collect(),
            truncated: totals.truncated,
            total: totals.total,
            freshness: from_snapshot(ctx, totals.freshness),
        })
    }

    /// The resource usages themselves, row by row, from the full usages snapshot: the bulk
    /// read that would otherwise sweep the live API page by page.
    async fn usages(
        &self,
        ctx: &Context<'_>,
        filter: Option<UsageFilterInput>,
        #[graphql(default = 500, validator(minimum = 1, maximum = 5000))] first: u64,
        after: Option<String>,
    ) -> Result<SnapshotUsageConnection> {
        authorize(principal(ctx)?, &self.project_id, Entity::ResourceUsage)?;
        let filter = filter.unwrap_or_default().into_domain()?;
        let services = services(ctx)?;
        let cursors = services
            .cursors
            .scope(&["analytics", "usages", &self.project_id]);
        let after = open_cursor(&cursors, after.as_deref())?;
        let page = services
            .dataclips
            .snapshot_usages(&self.project_id, &filter, first, after.as_deref())
            .await
            .map_err(ApiError::from)?;
        Ok(SnapshotUsageConnection {
            nodes: page.items,
            page_info: AnalyticsPageInfo {
                has_next_page: page.next_cursor.is_some(),
                end_cursor: page.next_cursor.map(|c| cursors.seal(c.as_bytes())),
            },
            freshness: from_snapshot(ctx, page.freshness),
        })
    }

    /// Attendance per day, per start area unless `byArea` is false: records, distinct people
    /// and hours on site.
    async fn attendance_by_day(
        &self,
        ctx: &Context<'_>,
        filter: Option<AttendanceFilterInput>,
        #[graphql(default = true)] by_area: bool,
        #[graphql(default = 1000, validator(minimum = 1, maximum = 10000))] first: u64,
    ) -> Result<AttendanceByDay> {
        authorize(principal(ctx)?, &self.project_id, Entity::Attendance)?;
        let f = filter.unwrap_or_default();
        let filter = analytics::AttendanceFilter {
            from: f.from,
            to: f.to,
            companies: f.companies.unwrap_or_default(),
            areas: f.areas.unwrap_or_default(),
        };
        let (days, truncated, freshness) = services(ctx)?
            .dataclips
            .attendance_by_day(&self.project_id, &filter, by_area, first)
            .await
            .map_err(ApiError::from)?;
        Ok(AttendanceByDay {
            days,
            truncated,
            freshness: from_snapshot(ctx, freshness),
        })
    }

    /// Activities with progress and budget against the actuals booked to them.
    async fn activity_progress(
        &self,
        ctx: &Context<'_>,
        filter: Option<ActivityFilterInput>,
        #[graphql(default = 100, validator(minimum = 1, maximum = 1000))] first: u64,
        after: Option<String>,
    ) -> Result<ActivityProgressConnection> {
        authorize(principal(ctx)?, &self.project_id, Entity::Activity)?;
        let f = filter.unwrap_or_default();
        let filter = analytics::ActivityFilter {
            disciplines: f.disciplines.unwrap_or_default(),
            locations: f.locations.unwrap_or_default(),
            cost_codes: f.cost_codes.unwrap_or_default(),
            work_categories: f.work_categories.unwrap_or_default(),
        };
        let services = services(ctx)?;
        let cursors = services
            .cursors
            .scope(&["analytics", "activityProgress", &self.project_id]);
        let after = open_cursor(&cursors, after.as_deref())?;
        let page = services
            .dataclips
            .activity_progress(&self.project_id, &filter, first, after.as_deref())
            .await
            .map_err(ApiError::from)?;
        Ok(ActivityProgressConnection {
            nodes: page.activities,
            page_info: AnalyticsPageInfo {
                has_next_page: page.next_cursor.is_some(),
                end_cursor: page.next_cursor.map(|c| cursors.seal(c.as_bytes())),
            },
            freshness: from_snapshot(ctx, page.freshness),
            actuals_freshness: page.actuals_freshness.map(|f| from_snapshot(ctx, f)),
        })
    }

    /// The rates in force on `asOf` (today by default), per resource.
    async fn current_rates(
        &self,
        ctx: &Context<'_>,
        as_of: Option<NaiveDate>,
        resource_types: Option<Vec<ResourceType>>,
        resource_names: Option<Vec<String>>,
        #[graphql(default = 1000, validator(minimum = 1, maximum = 10000))] first: u64,
    ) -> Result<CurrentRates> {
        authorize(principal(ctx)?, &self.project_id, Entity::ApplicableRate)?;
        let as_of = as_of.unwrap_or_else(|| Utc::now().date_naive());
        let types: Vec<String> = resource_types
            .unwrap_or_default()
            .into_iter()
            .map(ResourceType::label)
            .collect();
        let rates = services(ctx)?
            .dataclips
            .current_rates(
                &self.project_id,
                as_of,
                &types,
                &resource_names.unwrap_or_default(),
                first,
            )
            .await
            .map_err(ApiError::from)?;
        Ok(CurrentRates {
            rates: rates
                .rates
                .into_iter()
                .map(|r| CurrentRate {
                    resource_name: r.resource_name,
                    resource_type: r.resource_type,
                    rate_code: r.rate_code,
                    rate: r.rate,
                    unit: r.uom,
                    effective_from: r.effective_from,
                    effective_to: r.effective_to,
                })
                .collect(),
            truncated: rates.truncated,
            freshness: from_snapshot(ctx, rates.freshness),
        })
    }
}

/// The freshness of an answer from a snapshot, noted on the request's meta so that the usage
/// ledger and `extensions.gatehouse` say the answer came from a dataclip, and how old it is.
fn from_snapshot(ctx: &Context<'_>, freshness: Freshness) -> Freshness {
    if let Ok(request) = ctx.data::<PerformRequest>() {
        request.meta.record_dataclip(freshness.refreshed_at);
    }
    freshness
}

/// A snapshot's state.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "DataclipSnapshotStatus")]
pub enum SnapshotStatusName {
    /// Being written.
    Building,
    /// Current.
    Ready,
    /// Refused or interrupted; its rows were deleted.
    Failed,
    /// Replaced by a newer one.
    Superseded,
}

impl From<dc::SnapshotStatus> for SnapshotStatusName {
    fn from(s: dc::SnapshotStatus) -> Self {
        match s {
            dc::SnapshotStatus::Building => Self::Building,
            dc::SnapshotStatus::Ready => Self::Ready,
            dc::SnapshotStatus::Failed => Self::Failed,
            dc::SnapshotStatus::Superseded => Self::Superseded,
        }
    }
}

/// One snapshot of a clip.
#[derive(SimpleObject, Debug, Clone)]
pub struct DataclipSnapshot {
    /// Id.
    pub id: ID,
    /// State.
    pub status: SnapshotStatusName,
    /// Fetch started.
    pub started_at: DateTime<Utc>,
    /// Ingest ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The upstream's snapshot time.
    pub upstream_snapshot_at: Option<DateTime<Utc>>,
    /// Rows stored.
    pub rows: i64,
    /// Rows refused.
    pub bad_rows: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// The first refused rows, with their reasons.
    pub bad_row_samples: Vec<dc::BadRow>,
}

fn snapshot_view(snapshot: dc::SnapshotRow, bad: Vec<dc::BadRow>) -> DataclipSnapshot {
    DataclipSnapshot {
        id: ID(snapshot.id.to_string()),
        status: snapshot.status.into(),
        started_at: snapshot.started_at,
        finished_at: snapshot.finished_at,
        upstream_snapshot_at: snapshot.upstream_snapshot_at,
        rows: snapshot.rows,
        bad_rows: snapshot.bad_rows,
        error: snapshot.error,
        bad_row_samples: bad,
    }
}

/// The state of one configured clip.
#[derive(SimpleObject, Debug, Clone)]
pub struct DataclipStatus {
    /// Project.
    pub project_id: String,
    /// Clip slug.
    pub clip: String,
    /// `csv` or `json`.
    pub format: String,
    /// The entity it answers for (null for clips kept as generic rows).
    pub entity: Option<EntityName>,
    /// Whether its rows are typed (queryable by `analytics`) or kept as generic rows.
    pub typed: bool,
    /// Seconds between scheduled fetches.
    pub refresh_interval_secs: u64,
    /// The clip's refresh cycle upstream, in seconds.
    pub cycle_secs: u64,
    /// The snapshot analytics read.
    pub current: Option<DataclipSnapshot>,
    /// Rows of the current snapshot.
    pub rows: Option<i64>,
    /// Seconds since the current snapshot's data was refreshed upstream.
    pub age_seconds: Option<u64>,
    /// Last fetch started.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// Last fetch that succeeded (new snapshot or unchanged).
    pub last_success_at: Option<DateTime<Utc>>,
    /// When the current snapshot was swapped in.
    pub last_changed_at: Option<DateTime<Utc>>,
    /// The last failure (cleared by a success).
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<DateTime<Utc>>,
    /// The last manual refresh.
    pub last_manual_refresh_at: Option<DateTime<Utc>>,
    /// When the next scheduled fetch is due.
    pub next_refresh_at: DateTime<Utc>,
    /// The latest snapshots, newest first.
    pub snapshots: Vec<DataclipSnapshot>,
}

impl From<dc::ClipStatus> for DataclipStatus {
    fn from(s: dc::ClipStatus) -> Self {
        let current_id = s.current.as_ref().map(|c| c.id);
        let snapshots: Vec<DataclipSnapshot> = s
            .snapshots
            .into_iter()
            .map(|(snap, bad)| snapshot_view(snap, bad))
            .collect();
        let current =
            current_id.and_then(|id| snapshots.iter().find(|v| v.id.0 == id.to_string()).cloned());
        let current = current.or_else(|| s.current.clone().map(|c| snapshot_view(c, Vec::new())));
        Self {
            project_id: s.spec.project_id.clone(),
            clip: s.spec.clip.clone(),
            format: s.spec.format.extension().to_owned(),
            entity: ClipKind::entity_of(&s.spec.clip).map(Into::into),
            typed: s.spec.kind != ClipKind::Generic,
            refresh_interval_secs: s.spec.interval.as_secs(),
            cycle_secs: s.spec.cycle.as_secs(),
            rows: s.current.as_ref().map(|c| c.rows),
            current,
            age_seconds: s.age_secs,
            last_attempt_at: s.state.last_attempt_at,
            last_success_at: s.state.last_success_at,
            last_changed_at: s.state.last_changed_at,
            last_error: s.state.last_error,
            last_error_at: s.state.last_error_at,
            last_manual_refresh_at: s.state.last_manual_at,
            next_refresh_at: s.next_refresh_at,
            snapshots,
        }
    }
}

/// Dataclip queries.
#[derive(Default, Debug)]
pub struct DataclipQuery;

#[Object]
impl DataclipQuery {
    /// Analytical questions about a project, answered from its Dataclips snapshots (reviewers,
    /// admins, and app keys that read the entity asked about on the project).
    async fn analytics(&self, ctx: &Context<'_>, project_id: String) -> Result<Analytics> {
        let principal = principal(ctx)?;
        principal.require_authenticated()?;
        if let Principal::AppKey(key) = principal
            && !key.scopes.allows_project(&project_id)
        {
            return Err(ApiError::forbidden(format!(
                "this app key may not read project {project_id}"
            ))
            .into());
        }
        if principal.user().is_some() {
            principal.require_role(Role::Reviewer)?;
        }
        Ok(Analytics { project_id })
    }

    /// The state of every configured dataclip, or of one project's (reviewers and admins).
    #[graphql(guard = "RoleGuard(Role::Reviewer)")]
    async fn dataclip_status(
        &self,
        ctx: &Context<'_>,
        project_id: Option<String>,
    ) -> Result<Vec<DataclipStatus>> {
        let statuses = services(ctx)?
            .dataclips
            .status(project_id.as_deref())
            .await
            .map_err(ApiError::from)?;
        Ok(statuses.into_iter().map(Into::into).collect())
    }
}

/// Dataclip mutations.
#[derive(Default, Debug)]
pub struct DataclipMutation;

#[Object]
impl DataclipMutation {
    /// Fetches a clip now, out of its schedule (admins only; audited). Refused with
    /// `RATE_LIMITED` while the clip was fetched less than `dataclips.manual_refresh_floor_secs`
    /// ago. The fetch runs in the background: poll `dataclipStatus`.
    #[graphql(guard = "RoleGuard(Role::Admin)")]
    async fn refresh_dataclip(
        &self,
        ctx: &Context<'_>,
        project_id: String,
        clip: String,
    ) -> Result<DataclipStatus> {
        let actor = principal(ctx)?.require_actor()?;
        let status = services(ctx)?
            .dataclips
            .request_refresh(&actor, &project_id, &clip)
            .await
            .map_err(ApiError::from)?;
        Ok(status.into())
    }
}
