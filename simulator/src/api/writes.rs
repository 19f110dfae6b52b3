//! Write endpoints: activities, events, progress entries, resource usages, docket actions.
//!
//! Bodies are JSON; unknown fields and wrong types are 422 `invalid_body`. An
//! `Idempotency-Key` header is accepted and ignored (Gatehouse handles idempotency).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::parse_id;
use crate::data::ProjectData;
use crate::data::rng::round_to;
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::state::{ProjectSlot, SimState};

fn parse_body<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_body(&e))
}

fn slot<'a>(sim: &'a SimState, project_id: &str) -> ApiResult<&'a ProjectSlot> {
    let id = parse_id(project_id, "project")?;
    sim.project(id)
        .ok_or_else(|| ApiError::not_found("project"))
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::validation(format!("`{field}` {message}"), json!({"field": field}))
}

fn check_percent(field: &str, value: f64) -> ApiResult<()> {
    if value.is_finite() && (0.0..=100.0).contains(&value) {
        Ok(())
    } else {
        Err(invalid(field, "must be between 0 and 100"))
    }
}

fn created<T: Serialize>(value: &T) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

/// Changes to the planned dates (absent: unchanged; `null` clears an optional date).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlannedPatch {
    /// Original planned start.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub original_start: Option<Option<NaiveDate>>,
    /// Original planned finish.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub original_finish: Option<Option<NaiveDate>>,
    /// Revised planned start.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub revised_start: Option<Option<NaiveDate>>,
    /// Revised planned finish.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub revised_finish: Option<Option<NaiveDate>>,
    /// Current planned start (cannot be cleared).
    #[serde(default)]
    pub current_start: Option<NaiveDate>,
    /// Current planned finish (cannot be cleared).
    #[serde(default)]
    pub current_finish: Option<NaiveDate>,
}

/// `PATCH .../activities/{id}`: planned, expected and actual dates and percent complete.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityPatch {
    /// Planned dates to change.
    #[serde(default)]
    pub planned: Option<PlannedPatch>,
    /// Actual start (`null` clears it).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateWithTime>)]
    pub actual_start: Option<Option<DateWithTime>>,
    /// Actual finish (`null` clears it); needs an actual start not after it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateWithTime>)]
    pub actual_finish: Option<Option<DateWithTime>>,
    /// Expected start (`null` clears it).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateWithTime>)]
    pub expected_start: Option<Option<DateWithTime>>,
    /// Expected finish (`null` clears it).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateWithTime>)]
    pub expected_finish: Option<Option<DateWithTime>>,
    /// Percent complete, 0 to 100.
    #[serde(default)]
    pub percent_complete: Option<f64>,
}

/// Updates an activity's dates or percent complete.
#[utoipa::path(
    patch,
    path = "/projects/{project_id}/activities/{id}",
    tag = "activities",
    params(("project_id" = Uuid, Path, description = "Project id"), ("id" = Uuid, Path, description = "Activity id")),
    request_body = ActivityPatch,
    responses(
        (status = 200, description = "The updated activity", body = Activity),
        (status = 403, description = "Read-only token", body = ErrorBody),
        (status = 404, description = "No such activity", body = ErrorBody),
        (status = 422, description = "Invalid body or dates", body = ErrorBody),
    ),
    security(("bearer_token" = []))
)]
pub(crate) async fn patch_activity(
    State(sim): State<SimState>,
    Path((project_id, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Activity>> {
    let slot = slot(&sim, &project_id)?;
    let id = parse_id(&id, "activity")?;
    let patch: ActivityPatch = parse_body(&body)?;
    let mut data = slot.write();
    let position = data
        .activities
        .iter()
        .position(|a| a.id == id)
        .ok_or_else(|| ApiError::not_found("activity"))?;
    let mut activity = data.activities[position].clone();
    let mut changed = false;
    if let Some(planned) = patch.planned {
        let p = &mut activity.planned;
        let mut set = |target: &mut Option<NaiveDate>, value: Option<Option<NaiveDate>>| {
            if let Some(v) = value {
                *target = v;
                changed = true;
            }
        };
        set(&mut p.original_start, planned.original_start);
        set(&mut p.original_finish, planned.original_finish);
        set(&mut p.revised_start, planned.revised_start);
        set(&mut p.revised_finish, planned.revised_finish);
        if let Some(d) = planned.current_start {
            p.current_start = d;
            changed = true;
        }
        if let Some(d) = planned.current_finish {
            p.current_finish = d;
            changed = true;
        }
    }
    for (target, value) in [
        (&mut activity.actual_start, patch.actual_start),
        (&mut activity.actual_finish, patch.actual_finish),
        (&mut activity.expected_start, patch.expected_start),
        (&mut activity.expected_finish, patch.expected_finish),
    ] {
        if let Some(v) = value {
            *target = v;
            changed = true;
        }
    }
    if let Some(percent) = patch.percent_complete {
        check_percent("percent_complete", percent)?;
        activity.percent_complete = percent;
        changed = true;
    }
    if !changed {
        return Err(ApiError::validation("the patch changes nothing", json!({})));
    }
    validate_dates(&activity)?;
    activity.updated_at = Utc::now();
    Arc::make_mut(&mut data.activities)[position] = activity.clone();
    data.version += 1;
    Ok(Json(activity))
}

fn validate_dates(activity: &Activity) -> ApiResult<()> {
    let p = &activity.planned;
    if p.current_finish < p.current_start {
        return Err(invalid(
            "planned.current_finish",
            "is before planned.current_start",
        ));
    }
    let pairs = [
        (
            "planned.original_finish",
            p.original_start,
            p.original_finish,
        ),
        ("planned.revised_finish", p.revised_start, p.revised_finish),
    ];
    for (field, start, finish) in pairs {
        if let (Some(s), Some(f)) = (start, finish)
            && f < s
        {
            return Err(invalid(field, "is before its start"));
        }
    }
    match (activity.actual_start, activity.actual_finish) {
        (None, Some(_)) => Err(invalid("actual_finish", "needs an actual_start")),
        (Some(s), Some(f)) if f.date < s.date => {
            Err(invalid("actual_finish", "is before actual_start"))
        }
        _ => Ok(()),
    }
}

/// `POST .../activities`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewActivity {
    /// Unique per project (409 when taken).
    pub reference_code: String,
    /// Name.
    pub name: String,
    /// WBS code.
    #[serde(default)]
    pub wbs_code: Option<String>,
    /// Quantity unit (default `nr`).
    #[serde(default)]
    pub quantity_uom: Option<String>,
    /// Work category.
    #[serde(default)]
    pub work_category: Option<String>,
    /// Discipline.
    #[serde(default)]
    pub discipline: Option<String>,
    /// Location.
    #[serde(default)]
    pub location: Option<String>,
    /// Job number.
    #[serde(default)]
    pub job_number: Option<String>,
    /// Cost code.
    #[serde(default)]
    pub cost_code: Option<String>,
    /// Current planned start (mandatory).
    pub planned_start: NaiveDate,
    /// Current planned finish (mandatory).
    pub planned_finish: NaiveDate,
    /// Budget at complete (used for original, revised and current estimate); zero when absent.
    #[serde(default)]
    pub budget: Option<BudgetFigures>,
    /// Earned-value method (default `percentage`).
    #[serde(default)]
    pub earned_value_method: Option<EarnedValueMethod>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Creates an activity.
#[utoipa::path(
    post,
    path = "/projects/{project_id}/activities",
    tag = "activities",
    params(("project_id" = Uuid, Path, description = "Project id")),
    request_body = NewActivity,
    responses(
        (status = 201, description = "The new activity", body = Activity),
        (status = 403, description = "Read-only token", body = ErrorBody),
        (status = 409, description = "Duplicate reference code", body = ErrorBody),
        (status = 422, description = "Invalid body", body = ErrorBody),
    ),
    security(("bearer_token" = []))
)]
pub(crate) async fn create_activity(
    State(sim): State<SimState>,
    Path(project_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let slot = slot(&sim, &project_id)?;
    let new: NewActivity = parse_body(&body)?;
    let reference_code = new.reference_code.trim().to_owned();
    if reference_code.is_empty() || reference_code.len() > 40 {
        return Err(invalid("reference_code", "must be 1 to 40 characters"));
    }
    if new.name.trim().is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    if new.planned_finish < new.planned_start {
        return Err(invalid("planned_finish", "is before planned_start"));
    }
    let budget = new.budget.unwrap_or(BudgetFigures {
        labour_hours: 0.0,
        quantity: 0.0,
        cost: 0.0,
    });
    if ![budget.labour_hours, budget.quantity, budget.cost]
        .iter()
        .all(|v| v.is_finite() && *v >= 0.0)
    {
        return Err(invalid("budget", "figures must be finite and not negative"));
    }
    let now = Utc::now();
    let mut data = slot.write();
    if data
        .activities
        .iter()
        .any(|a| a.reference_code == reference_code)
    {
        return Err(duplicate(&reference_code));
    }
    let activity = Activity {
        id: sim.next_created_id(),
        project_id: data.project.id,
        reference_code,
        name: new.name.trim().to_owned(),
        wbs_code: new.wbs_code.unwrap_or_default(),
        quantity_uom: new.quantity_uom.unwrap_or_else(|| "nr".into()),
        work_category: new.work_category.unwrap_or_default(),
        discipline: new.discipline.unwrap_or_default(),
        location: new.location.unwrap_or_default(),
        job_number: new.job_number.unwrap_or_default(),
        cost_code: new.cost_code.unwrap_or_default(),
        budget_at_complete: BudgetAtComplete {
            original: budget,
            revised: budget,
            current_estimate: budget,
        },
        planned: PlannedDates {
            original_start: Some(new.planned_start),
            original_finish: Some(new.planned_finish),
            revised_start: None,
            revised_finish: None,
            current_start: new.planned_start,
            current_finish: new.planned_finish,
        },
        actual_start: None,
        actual_finish: None,
        expected_start: None,
        expected_finish: None,
        float_days: 0,
        earned_value_method: new
            .earned_value_method
            .unwrap_or(EarnedValueMethod::Percentage),
        percent_complete: 0.0,
        exclude_from_mobile: false,
        bookable_for_all: false,
        non_bookable: false,
        tags: new.tags,
        created_at: now,
        updated_at: now,
    };
    Arc::make_mut(&mut data.activities).push(activity.clone());
    data.version += 1;
    Ok(created(&activity))
}

fn duplicate(reference_code: &str) -> ApiError {
    ApiError::conflict(
        "duplicate_reference_code",
        format!("reference code `{reference_code}` is taken"),
    )
    .with_details(json!({"field": "reference_code", "value": reference_code}))
}

/// `POST .../events`: exactly one activity, given as `activity_id` or a one-element
/// `activity_ids`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// Unique per project (409 when taken).
    pub reference_code: String,
    /// Name.
    pub name: String,
    /// Event type (default `Delay`).
    #[serde(default)]
    pub event_type: Option<String>,
    /// Work category.
    #[serde(default)]
    pub work_category: Option<String>,
    /// The related activity.
    #[serde(default)]
    pub activity_id: Option<Uuid>,
    /// The related activities (must hold exactly one; an alternative to `activity_id`).
    #[serde(default)]
    pub activity_ids: Option<Vec<Uuid>>,
    /// When the event was raised (default now).
    #[serde(default)]
    pub raised_at: Option<DateTime<Utc>>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// Creates an event.
#[utoipa::path(
    post,
    path = "/projects/{project_id}/events",
    tag = "events",
    params(("project_id" = Uuid, Path, description = "Project id")),
    request_body = NewEvent,
    responses(
        (status = 201, description = "The new event", body = Event),
        (status = 403, description = "Read-only token", body = ErrorBody),
        (status = 409, description = "Duplicate reference code", body = ErrorBody),
        (status = 422, description = "Not exactly one (existing) activity, or invalid body", body = ErrorBody),
    ),
    security(("bearer_token" = []))
)]
pub(crate) async fn create_event(
    State(sim): State<SimState>,
    Path(project_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let slot = slot(&sim, &project_id)?;
    let new: NewEvent = parse_body(&body)?;
    let mut activities: Vec<Uuid> = new.activity_ids.clone().unwrap_or_default();
    activities.extend(new.activity_id);
    let [activity_id] = activities[..] else {
        return Err(ApiError::validation(
            format!(
                "an event relates to exactly one activity; {} given",
                activities.len()
            ),
            json!({"field": "activity_id", "given": activities.len()}),
        ));
    };
    let reference_code = new.reference_code.trim().to_owned();
    if reference_code.is_empty() || reference_code.len() > 40 {
        return Err(invalid("reference_code", "must be 1 to 40 characters"));
    }
    if new.name.trim().is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    let now = Utc::now();
    let mut data = slot.write();
    let Some(activity) = data.activities.iter().find(|a| a.id == activity_id) else {
        return Err(ApiError::validation(
            "the activity does not exist in this project",
            json!({"field": "activity_id", "value": activity_id}),
        ));
    };
    if data
        .events
        .iter()
        .any(|e| e.reference_code == reference_code)
    {
        return Err(duplicate(&reference_code));
    }
    let event = Event {
        id: sim.next_created_id(),
        project_id: data.project.id,
        reference_code,
        name: new.name.trim().to_owned(),
        event_type: new.event_type.unwrap_or_else(|| "Delay".into()),
        work_category: new
            .work_category
            .unwrap_or_else(|| activity.work_category.clone()),
        activity_id,
        raised_at: new.raised_at.unwrap_or(now),
        classified_at: None,
        description: new.description.unwrap_or_default(),
        created_at: now,
        updated_at: now,
    };
    Arc::make_mut(&mut data.events).push(event.clone());
    data.version += 1;
    Ok(created(&event))
}

/// `POST .../progress_entries`: exactly one of the three measures.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgressEntry {
    /// The activity.
    pub activity_id: Uuid,
    /// Day of the progress.
    pub progress_date: NaiveDate,
    /// Percent complete to date (0 to 100).
    #[serde(default)]
    pub percent_complete: Option<f64>,
    /// Quantity since the previous entry.
    #[serde(default)]
    pub quantity_delta: Option<f64>,
    /// Quantity to date.
    #[serde(default)]
    pub quantity_to_date: Option<f64>,
}

/// Records progress on an activity (refused while its budget is zero).
#[utoipa::path(
    post,
    path = "/projects/{project_id}/progress_entries",
    tag = "progress_entries",
    params(("project_id" = Uuid, Path, description = "Project id")),
    request_body = NewProgressEntry,
    responses(
        (status = 201, description = "The new entry", body = ProgressEntry),
        (status = 403, description = "Read-only token", body = ErrorBody),
        (status = 422, description = "Not exactly one measure, unknown activity, or the activity's budget is zero (`activity_budget_zero`)", body = ErrorBody),
    ),
    security(("bearer_token" = []))
)]
pub(crate) async fn create_progress_entry(
    State(sim): State<SimState>,
    Path(project_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let slot = slot(&sim, &project_id)?;
    let new: NewProgressEntry = parse_body(&body)?;
    let measures = [
        new.percent_complete,
        new.quantity_delta,
        new.quantity_to_date,
    ];
    let given = measures.iter().filter(|m| m.is_some()).count();
    if given != 1 {
        return Err(ApiError::validation(
            "exactly one of percent_complete, quantity_delta, quantity_to_date is required",
            json!({"fields": ["percent_complete", "quantity_delta", "quantity_to_date"], "given": given}),
        ));
    }
    if let Some(p) = new.percent_complete {
        check_percent("percent_complete", p)?;
    }
    if measures.iter().flatten().any(|m| !m.is_finite()) {
        return Err(invalid("quantity", "must be a finite number"));
    }
    let now = Utc::now();
    let mut data = slot.write();
    let Some(position) = data.activities.iter().position(|a| a.id == new.activity_id) else {
        return Err(ApiError::validation(
            "the activity does not exist in this project",
            json!({"field": "activity_id", "value": new.activity_id}),
        ));
    };
    let activity = &data.activities[position];
    if activity.has_zero_budget() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "activity_budget_zero",
            "progress cannot be recorded while the activity's budget is zero",
        )
        .with_details(
            json!({"activity_id": activity.id, "reference_code": activity.reference_code}),
        ));
    }
    let budget = activity.budget_at_complete.current_estimate.quantity;
    let percent = match (
        new.percent_complete,
        new.quantity_delta,
        new.quantity_to_date,
    ) {
        (Some(p), _, _) => p,
        (_, Some(delta), _) if budget > 0.0 => activity.percent_complete + delta / budget * 100.0,
        (_, _, Some(to_date)) if budget > 0.0 => to_date / budget * 100.0,
        _ => activity.percent_complete,
    };
    let entry = ProgressEntry {
        id: sim.next_created_id(),
        project_id: data.project.id,
        activity_id: new.activity_id,
        progress_date: new.progress_date,
        percent_complete: new.percent_complete,
        quantity_delta: new.quantity_delta,
        quantity_to_date: new.quantity_to_date,
        created_at: now,
        updated_at: now,
    };
    let activity = &mut Arc::make_mut(&mut data.activities)[position];
    activity.percent_complete = round_to(percent.clamp(0.0, 100.0), 2);
    activity.updated_at = now;
    Arc::make_mut(&mut data.progress_entries).push(entry.clone());
    data.version += 1;
    Ok(created(&entry))
}

/// `POST .../resource_usages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResourceUsage {
    /// Day worked.
    pub work_date: NaiveDate,
    /// A person, equipment or other resource of the project.
    pub resource_id: Uuid,
    /// An activity or event of the project.
    pub work_reference_id: Uuid,
    /// A usage code of the project.
    pub usage_code_id: Uuid,
    /// A rate code of the project (default: the first, `STD`).
    #[serde(default)]
    pub rate_code_id: Option<Uuid>,
    /// A docket of the project.
    #[serde(default)]
    pub docket_id: Option<Uuid>,
    /// Start time.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "07:00:00")]
    pub start_time: Option<NaiveTime>,
    /// End time (not before the start).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "15:30:00")]
    pub end_time: Option<NaiveTime>,
    /// Break, minutes.
    #[serde(default)]
    pub break_minutes: u32,
    /// Quantity (not negative).
    pub quantity: f64,
    /// Unit (default: the resource's).
    #[serde(default)]
    pub uom: Option<String>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
}

fn resource_of(data: &ProjectData, id: Uuid) -> Option<(ResourceKind, String)> {
    if data.people.iter().any(|p| p.id == id) {
        return Some((ResourceKind::Person, "h".into()));
    }
    if data.equipment.iter().any(|e| e.id == id) {
        return Some((ResourceKind::Equipment, "h".into()));
    }
    data.other_resources
        .iter()
        .find(|o| o.id == id)
        .map(|o| (ResourceKind::OtherResource, o.default_uom.clone()))
}

fn missing(field: &str, value: Uuid) -> ApiError {
    ApiError::validation(
        format!("`{field}` does not name a record of this project"),
        json!({"field": field, "value": value}),
    )
}

/// Books a resource usage.
#[utoipa::path(
    post,
    path = "/projects/{project_id}/resource_usages",
    tag = "resource_usages",
    params(("project_id" = Uuid, Path, description = "Project id")),
    request_body = NewResourceUsage,
    responses(
        (status = 201, description = "The new usage (status `unapproved`)", body = ResourceUsage),
        (status = 403, description = "Read-only token", body = ErrorBody),
        (status = 422, description = "Invalid body or unknown references", body = ErrorBody),
    ),
    security(("bearer_token" = []))
)]
pub(crate) async fn create_resource_usage(
    State(sim): State<SimState>,
    Path(project_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let slot = slot(&sim, &project_id)?;
    let new: NewResourceUsage = parse_body(&body)?;
    if !new.quantity.is_finite() || new.quantity < 0.0 {
        return Err(invalid("quantity", "must be a finite number, not negative"));
    }
    if let (Some(s), Some(e)) = (new.start_time, new.end_time)
        && e < s
    {
        return Err(invalid("end_time", "is before start_time"));
    }
    let now = Utc::now();
    let mut data = slot.write();
    let (kind, default_uom) = resource_of(&data, new.resource_id)
        .ok_or_else(|| missing("resource_id", new.resource_id))?;
    let work_reference_type = if data
        .activities
        .iter()
        .any(|a| a.id == new.work_reference_id)
    {
        WorkReferenceKind::Activity
    } else if data.events.iter().any(|e| e.id == new.work_reference_id) {
        WorkReferenceKind::Event
    } else {
        return Err(missing("work_reference_id", new.work_reference_id));
    };
    if !data.usage_codes.iter().any(|u| u.id == new.usage_code_id) {
        return Err(missing("usage_code_id", new.usage_code_id));
    }
    let rate_code_id = match new.rate_code_id {
        Some(id) if data.rate_codes.iter().any(|r| r.id == id) => id,
        Some(id) => return Err(missing("rate_code_id", id)),
        None => data
            .rate_codes
            .first()
            .map(|r| r.id)
            .ok_or_else(|| missing("rate_code_id", Uuid::nil()))?,
    };
    if let Some(docket) = new.docket_id
        && !data.dockets.iter().any(|d| d.id == docket)
    {
        return Err(missing("docket_id", docket));
    }
    let assignment = data
        .resource_assignments
        .iter()
        .filter(|a| a.resource_id == new.resource_id)
        .max_by_key(|a| (a.end_date.is_none(), a.start_date));
    let (company_id, work_role_id) = match assignment {
        Some(a) => (a.company_id, a.work_role_id),
        None => (
            data.companies.first().map(|c| c.id).unwrap_or_default(),
            data.work_roles.first().map(|w| w.id).unwrap_or_default(),
        ),
    };
    let usage = ResourceUsage {
        id: sim.next_created_id(),
        project_id: data.project.id,
        work_date: new.work_date,
        resource_id: new.resource_id,
        resource_type: kind,
        company_id,
        work_role_id,
        work_reference_id: new.work_reference_id,
        work_reference_type,
        usage_code_id: new.usage_code_id,
        docket_id: new.docket_id,
        start_time: new.start_time,
        end_time: new.end_time,
        break_minutes: new.break_minutes,
        quantity: new.quantity,
        uom: new.uom.unwrap_or(default_uom),
        rate_code_id,
        notes: new.notes,
        approval_status: ApprovalStatus::Unapproved,
        created_at: now,
        updated_at: now,
    };
    Arc::make_mut(&mut data.usages.created).push(usage.clone());
    data.version += 1;
    Ok(created(&usage))
}

/// Deletes a resource usage.
#[utoipa::path(
    delete,
    path = "/projects/{project_id}/resource_usages/{id}",
    tag = "resource_usages",
    params(("project_id" = Uuid, Path, description = "Project id"), ("id" = Uuid, Path, description = "Usage id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Read-only token", body = ErrorBody),
        (status = 404, description = "No such usage", body = ErrorBody),
    ),
    security(("bearer_token" = []))
)]
pub(crate) async fn delete_resource_usage(
    State(sim): State<SimState>,
    Path((project_id, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let slot = slot(&sim, &project_id)?;
    let id = parse_id(&id, "resource usage")?;
    let mut data = slot.write();
    if let Some(index) = data.usages.generator.index_of(id) {
        if !Arc::make_mut(&mut data.usages.deleted).insert(index) {
            return Err(ApiError::not_found("resource usage"));
        }
    } else {
        let Some(position) = data.usages.created.iter().position(|u| u.id == id) else {
            return Err(ApiError::not_found("resource usage"));
        };
        Arc::make_mut(&mut data.usages.created).remove(position);
    }
    data.version += 1;
    Ok(StatusCode::NO_CONTENT)
}

/// An action on a docket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocketActionKind {
    /// `submitted → received`.
    Receive,
    /// `submitted → rejected`.
    Reject,
    /// `submitted → approved`.
    Approve,
}

/// `POST .../dockets/{id}/actions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocketAction {
    /// `receive`, `reject` or `approve`.
    pub action: DocketActionKind,
}

/// Moves a docket along `submitted → received | rejected | approved`.
#[utoipa::path(
    post,
    path = "/projects/{project_id}/dockets/{id}/actions",
    tag = "dockets",
    params(("project_id" = Uuid, Path, description = "Project id"), ("id" = Uuid, Path, description = "Docket id")),
    request_body = DocketAction,
    responses(
        (status = 200, description = "The docket in its new status", body = Docket),
        (status = 403, description = "Read-only token", body = ErrorBody),
        (status = 404, description = "No such docket", body = ErrorBody),
        (status = 409, description = "The docket is not `submitted` (`invalid_transition`)", body = ErrorBody),
        (status = 422, description = "Unknown action", body = ErrorBody),
    ),
    security(("bearer_token" = []))
)]
pub(crate) async fn docket_action(
    State(sim): State<SimState>,
    Path((project_id, id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Docket>> {
    let slot = slot(&sim, &project_id)?;
    let id = parse_id(&id, "docket")?;
    let action: DocketAction = parse_body(&body)?;
    let mut data = slot.write();
    let position = data
        .dockets
        .iter()
        .position(|d| d.id == id)
        .ok_or_else(|| ApiError::not_found("docket"))?;
    let current = data.dockets[position].status;
    if current != DocketStatus::Submitted {
        return Err(ApiError::conflict(
            "invalid_transition",
            format!(
                "a {} docket cannot be acted on; only submitted ones can",
                current.as_str()
            ),
        )
        .with_details(json!({"from": current, "action": action.action})));
    }
    let docket = &mut Arc::make_mut(&mut data.dockets)[position];
    docket.status = match action.action {
        DocketActionKind::Receive => DocketStatus::Received,
        DocketActionKind::Reject => DocketStatus::Rejected,
        DocketActionKind::Approve => DocketStatus::Approved,
    };
    docket.updated_at = Utc::now();
    let docket = docket.clone();
    data.version += 1;
    Ok(Json(docket))
}
