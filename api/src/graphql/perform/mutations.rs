//! Two-way writes of the facade. Each takes an idempotency key; the key's scope must allow
//! writing the entity; upstream validation errors come back per field.

use std::sync::Arc;

use async_graphql::{
    Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject, Upload,
};
use chrono::{NaiveDate, NaiveTime};
use gatehouse_compliance::Entity;
use gatehouse_compliance::model::Access;
use serde_json::json;

use super::enums::DocketActionInput;
use super::nodes::{
    ActivityNode, AttachmentNode, DocketNode, ProgressEntryNode, ResourceUsageNode,
};
use super::{Allowed, allow};
use crate::error::{ApiError, ErrorCode};
use crate::principal::{Principal, parse_id};
use gatehouse_core::facade::writes::{self, UploadFile, WriteContext};
use gatehouse_core::upstream::model as up;

/// A date with an optional time, as input.
#[derive(InputObject, Debug, Clone, Copy)]
pub struct DateWithTimeInput {
    /// Date.
    pub date: NaiveDate,
    /// Time.
    pub time: Option<NaiveTime>,
}

fn maybe_date(value: MaybeUndefined<DateWithTimeInput>) -> Option<Option<up::DateWithTime>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(up::DateWithTime {
            date: v.date,
            time: v.time,
        })),
    }
}

/// Changes to an activity's dates and progress; fields left out are unchanged, `null` clears an
/// optional date.
#[derive(InputObject, Debug)]
pub struct UpdateActivityInput {
    /// The project.
    pub project_id: ID,
    /// The activity.
    pub id: ID,
    /// Current planned start.
    pub current_start: Option<NaiveDate>,
    /// Current planned finish.
    pub current_finish: Option<NaiveDate>,
    /// Actual start.
    pub actual_start: MaybeUndefined<DateWithTimeInput>,
    /// Actual finish.
    pub actual_finish: MaybeUndefined<DateWithTimeInput>,
    /// Expected start.
    pub expected_start: MaybeUndefined<DateWithTimeInput>,
    /// Expected finish.
    pub expected_finish: MaybeUndefined<DateWithTimeInput>,
    /// Percent complete (0 to 100).
    pub percent_complete: Option<f64>,
    /// A key unique to this change (a UUID): a retry with the same key changes nothing twice.
    pub idempotency_key: String,
}

/// A progress entry: exactly one of percentComplete, quantityDelta, quantityToDate.
#[derive(InputObject, Debug)]
pub struct RecordProgressInput {
    /// The project.
    pub project_id: ID,
    /// The activity.
    pub activity_id: ID,
    /// The day the progress is for.
    pub progress_date: NaiveDate,
    /// Percent complete (0 to 100).
    pub percent_complete: Option<f64>,
    /// Quantity done since the last entry.
    pub quantity_delta: Option<f64>,
    /// Quantity done to date.
    pub quantity_to_date: Option<f64>,
    /// A key unique to this entry.
    pub idempotency_key: String,
}

/// A resource usage to book.
#[derive(InputObject, Debug)]
pub struct CreateResourceUsageInput {
    /// The project.
    pub project_id: ID,
    /// The day worked.
    pub work_date: NaiveDate,
    /// The resource.
    pub resource_id: ID,
    /// The activity or event worked on.
    pub work_reference_id: ID,
    /// The usage code.
    pub usage_code_id: ID,
    /// The rate code.
    pub rate_code_id: Option<ID>,
    /// Start time.
    pub start_time: Option<NaiveTime>,
    /// End time.
    pub end_time: Option<NaiveTime>,
    /// Break, in minutes.
    #[graphql(default)]
    pub break_minutes: u32,
    /// Quantity (hours for people and equipment).
    pub quantity: f64,
    /// Notes.
    pub notes: Option<String>,
    /// A key unique to this booking.
    pub idempotency_key: String,
}

/// A deleted usage.
#[derive(SimpleObject, Debug)]
pub struct DeletedResourceUsage {
    /// Its id.
    pub id: ID,
}

fn write_ctx<'a>(
    ctx: &Context<'a>,
    allowed: &'a Allowed<'a>,
    project: &str,
) -> Result<WriteContext<'a>, ApiError> {
    let services = crate::graphql::services(ctx)?;
    let caller = match crate::graphql::principal(ctx)? {
        Principal::AppKey(key) => format!("app_key:{}", key.id),
        Principal::User { user, .. } => format!("user:{}", user.id),
        Principal::Anonymous => return Err(ApiError::unauthenticated()),
    };
    Ok(WriteContext {
        facade: allowed.facade.as_ref(),
        db: &services.db,
        clock: &services.clock,
        meta: &allowed.request.meta,
        caller,
        project: project.to_owned(),
    })
}

fn project_of(ctx: &Context<'_>, id: &ID) -> Result<Arc<str>, ApiError> {
    let _ = ctx;
    Ok(Arc::from(parse_id("projectId", id)?.to_string().as_str()))
}

/// The facade's mutations.
#[derive(Default, Debug)]
pub struct PerformMutation;

#[Object]
impl PerformMutation {
    /// Changes an activity's dates and progress.
    async fn update_activity(
        &self,
        ctx: &Context<'_>,
        input: UpdateActivityInput,
    ) -> Result<ActivityNode> {
        let project = project_of(ctx, &input.project_id)?;
        let allowed = allow(ctx, &project, Entity::Activity, Access::Write)?;
        let id = parse_id("id", &input.id)?;
        if input
            .percent_complete
            .is_some_and(|p| !(0.0..=100.0).contains(&p))
        {
            return Err(
                ApiError::invalid_field("percentComplete", "must be between 0 and 100").into(),
            );
        }
        let patch = up::ActivityPatch {
            current_start: input.current_start,
            current_finish: input.current_finish,
            actual_start: maybe_date(input.actual_start),
            actual_finish: maybe_date(input.actual_finish),
            expected_start: maybe_date(input.expected_start),
            expected_finish: maybe_date(input.expected_finish),
            percent_complete: input.percent_complete,
        };
        if patch == up::ActivityPatch::default() {
            return Err(ApiError::invalid_field("input", "nothing to change").into());
        }
        let wctx = write_ctx(ctx, &allowed, &project)?;
        let activity = writes::update_activity(&wctx, id, patch, &input.idempotency_key)
            .await
            .map_err(ApiError::from)?;
        Ok(ActivityNode::new(project, Arc::new(activity)))
    }

    /// Records a progress entry on an activity (refused upstream while its budget is zero).
    async fn record_progress(
        &self,
        ctx: &Context<'_>,
        input: RecordProgressInput,
    ) -> Result<ProgressEntryNode> {
        let project = project_of(ctx, &input.project_id)?;
        let allowed = allow(ctx, &project, Entity::ProgressEntry, Access::Write)?;
        let given = [
            input.percent_complete,
            input.quantity_delta,
            input.quantity_to_date,
        ]
        .iter()
        .filter(|v| v.is_some())
        .count();
        if given != 1 {
            return Err(ApiError::new(
                ErrorCode::BadUserInput,
                "give exactly one of percentComplete, quantityDelta, quantityToDate",
            )
            .with_details(json!({ "fields": [
                { "field": "percentComplete", "message": "exactly one measure" },
                { "field": "quantityDelta", "message": "exactly one measure" },
                { "field": "quantityToDate", "message": "exactly one measure" },
            ]}))
            .into());
        }
        let entry = up::NewProgressEntry {
            activity_id: parse_id("activityId", &input.activity_id)?,
            progress_date: input.progress_date,
            percent_complete: input.percent_complete,
            quantity_delta: input.quantity_delta,
            quantity_to_date: input.quantity_to_date,
        };
        let wctx = write_ctx(ctx, &allowed, &project)?;
        let created = writes::record_progress(&wctx, entry, &input.idempotency_key)
            .await
            .map_err(ApiError::from)?;
        Ok(ProgressEntryNode(Arc::new(created)))
    }

    /// Books a resource usage.
    async fn create_resource_usage(
        &self,
        ctx: &Context<'_>,
        input: CreateResourceUsageInput,
    ) -> Result<ResourceUsageNode> {
        let project = project_of(ctx, &input.project_id)?;
        let allowed = allow(ctx, &project, Entity::ResourceUsage, Access::Write)?;
        if !(input.quantity.is_finite() && input.quantity >= 0.0) {
            return Err(
                ApiError::invalid_field("quantity", "must be a number of zero or more").into(),
            );
        }
        let usage = up::NewResourceUsage {
            work_date: input.work_date,
            resource_id: parse_id("resourceId", &input.resource_id)?,
            work_reference_id: parse_id("workReferenceId", &input.work_reference_id)?,
            usage_code_id: parse_id("usageCodeId", &input.usage_code_id)?,
            rate_code_id: input
                .rate_code_id
                .as_ref()
                .map(|id| parse_id("rateCodeId", id))
                .transpose()?,
            start_time: input.start_time,
            end_time: input.end_time,
            break_minutes: input.break_minutes,
            quantity: input.quantity,
            notes: input.notes,
        };
        let wctx = write_ctx(ctx, &allowed, &project)?;
        let created = writes::create_usage(&wctx, usage, &input.idempotency_key)
            .await
            .map_err(ApiError::from)?;
        Ok(ResourceUsageNode::new(project, Arc::new(created)))
    }

    /// Deletes a resource usage.
    async fn delete_resource_usage(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        id: ID,
        idempotency_key: String,
    ) -> Result<DeletedResourceUsage> {
        let project = project_of(ctx, &project_id)?;
        let allowed = allow(ctx, &project, Entity::ResourceUsage, Access::Write)?;
        let id = parse_id("id", &id)?;
        let wctx = write_ctx(ctx, &allowed, &project)?;
        let deleted = writes::delete_usage(&wctx, id, &idempotency_key)
            .await
            .map_err(ApiError::from)?;
        Ok(DeletedResourceUsage {
            id: ID(deleted.to_string()),
        })
    }

    /// Receives, rejects or approves a submitted docket.
    async fn set_docket_status(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        id: ID,
        action: DocketActionInput,
        idempotency_key: String,
    ) -> Result<DocketNode> {
        let project = project_of(ctx, &project_id)?;
        let allowed = allow(ctx, &project, Entity::Docket, Access::Write)?;
        let id = parse_id("id", &id)?;
        let wctx = write_ctx(ctx, &allowed, &project)?;
        let docket = writes::docket_action(&wctx, id, action.into(), &idempotency_key)
            .await
            .map_err(ApiError::from)?;
        Ok(DocketNode(Arc::new(docket)))
    }

    /// Uploads a file to an activity's timeline (GraphQL multipart request). The file is
    /// streamed through to SYNCHRO Perform from a temporary file, never held in memory.
    async fn upload_attachment(
        &self,
        ctx: &Context<'_>,
        project_id: ID,
        activity_id: ID,
        file: Upload,
        idempotency_key: String,
    ) -> Result<AttachmentNode> {
        let project = project_of(ctx, &project_id)?;
        let allowed = allow(ctx, &project, Entity::Attachment, Access::Write)?;
        let activity = parse_id("activityId", &activity_id)?;
        let upload = file.value(ctx).map_err(|_| {
            ApiError::invalid_field("file", "no file was sent in the multipart request")
        })?;
        let size = upload
            .size()
            .map_err(|e| ApiError::internal("upload size", &e))?;
        let file = UploadFile {
            file_name: upload.filename.clone(),
            content_type: upload
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            size,
            content: Some(upload.content),
        };
        let wctx = write_ctx(ctx, &allowed, &project)?;
        let attachment = writes::upload_attachment(
            &wctx,
            up::AttachmentParent::Activity,
            activity,
            file,
            &idempotency_key,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(AttachmentNode(Arc::new(attachment)))
    }
}
