//! The entity types of the facade: GraphQL types of their own, each wrapping a shared upstream
//! record, with relations loaded through the request's DataLoader.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Result, SimpleObject, Union};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use gatehouse_compliance::Entity;
use gatehouse_compliance::model::Access;
use uuid::Uuid;

use super::connection::{Conn, from_children, page_size};
use super::enums::{
    ApprovalStatus, AttachmentParentType, DocketStatus, EarnedValueMethod, ProjectStatus,
    ResourceType, WorkReferenceType,
};
use super::inputs::{
    ActivityFilter, AttendanceFilter, DocketFilter, EventFilter, UpdatedFilter, UsageFilter,
};
use super::{Allowed, allow, list_connection};
use crate::error::ApiError;
use gatehouse_core::facade::loaders::{ById, ChildrenOf};
use gatehouse_core::upstream::model as up;

fn id(uuid: Uuid) -> ID {
    ID(uuid.to_string())
}

async fn load_one<R: up::Record>(
    allowed: &Allowed<'_>,
    project: &Arc<str>,
    id: Uuid,
) -> Result<Option<Arc<R>>, ApiError> {
    allowed
        .request
        .loader
        .load_one(ById::<R>::new(project.clone(), id))
        .await
        .map_err(|e| (*e).clone())
}

async fn load_children<R: gatehouse_core::facade::Child>(
    allowed: &Allowed<'_>,
    project: &Arc<str>,
    parent: Uuid,
) -> Result<Arc<Vec<Arc<R>>>, ApiError> {
    Ok(allowed
        .request
        .loader
        .load_one(ChildrenOf::<R>::new(project.clone(), parent))
        .await
        .map_err(|e| (*e).clone())?
        .unwrap_or_default())
}

async fn children_connection<R: gatehouse_core::facade::Child, N: async_graphql::OutputType>(
    ctx: &Context<'_>,
    project: &Arc<str>,
    parent: Uuid,
    first: Option<i32>,
    after: Option<String>,
    wrap: impl Fn(Arc<R>) -> N,
) -> Result<Conn<N>> {
    let allowed = allow(ctx, project, R::ENTITY, Access::Read)?;
    let first = page_size(first, allowed.default_page_size, allowed.max_page_size)?;
    // Bound to the parent: a cursor among one record's children is refused under another's.
    let parent_id = parent.to_string();
    let cursors = allowed
        .cursors
        .scope(&["children", R::ENTITY.as_str(), project, &parent_id]);
    let children = load_children::<R>(&allowed, project, parent).await?;
    Ok(from_children(
        &children,
        first,
        after.as_deref(),
        &cursors,
        wrap,
    )?)
}

// ---- Project ---------------------------------------------------------------------------------

/// A project's support contact.
#[derive(SimpleObject, Debug, Clone)]
pub struct SupportContact {
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Email.
    pub email: String,
}

/// A SYNCHRO Perform project.
#[derive(Debug, Clone)]
pub struct ProjectNode {
    project: Arc<str>,
    record: Arc<up::Project>,
}

impl ProjectNode {
    /// Wraps a record.
    pub fn new(project: Arc<str>, record: Arc<up::Project>) -> Self {
        Self { project, record }
    }
}

#[Object(name = "Project")]
impl ProjectNode {
    async fn id(&self) -> ID {
        id(self.record.id)
    }
    async fn name(&self) -> &str {
        &self.record.name
    }
    async fn status_type(&self) -> ProjectStatus {
        self.record.status_type.into()
    }
    async fn external_reference(&self) -> Option<&str> {
        self.record.external_reference.as_deref()
    }
    async fn location(&self) -> Option<&str> {
        self.record.location.as_deref()
    }
    async fn latitude(&self) -> Option<f64> {
        self.record.latitude
    }
    async fn longitude(&self) -> Option<f64> {
        self.record.longitude
    }
    async fn date_format(&self) -> Option<&str> {
        self.record.date_format.as_deref()
    }
    async fn default_cost_uom(&self) -> Option<&str> {
        self.record.default_cost_uom.as_deref()
    }
    async fn support_contact(&self) -> Option<SupportContact> {
        self.record
            .support_contact
            .as_ref()
            .map(|c| SupportContact {
                name: c.name.clone(),
                phone: c.phone.clone(),
                email: c.email.clone(),
            })
    }
    async fn tags(&self) -> &[String] {
        &self.record.tags
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.record.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.record.updated_at
    }

    /// The project's activities (planned work).
    async fn activities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] filter: ActivityFilter,
    ) -> Result<Conn<ActivityNode>> {
        let allowed = allow(ctx, &self.project, Entity::Activity, Access::Read)?;
        let p = self.project.clone();
        Ok(list_connection(
            &allowed,
            &self.project,
            filter.params()?,
            first,
            after,
            |r| ActivityNode::new(p.clone(), r),
        )
        .await?)
    }

    /// One activity.
    async fn activity(&self, ctx: &Context<'_>, id: ID) -> Result<ActivityNode> {
        let allowed = allow(ctx, &self.project, Entity::Activity, Access::Read)?;
        let id = crate::principal::parse_id("id", &id)?;
        let record = allowed
            .facade
            .get::<up::Activity>(&allowed.request.meta, &self.project, id)
            .await
            .map_err(ApiError::from)?;
        Ok(ActivityNode::new(self.project.clone(), record))
    }

    /// The project's events (unplanned work and delays).
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] filter: EventFilter,
    ) -> Result<Conn<EventNode>> {
        let allowed = allow(ctx, &self.project, Entity::Event, Access::Read)?;
        let p = self.project.clone();
        Ok(list_connection(
            &allowed,
            &self.project,
            filter.params()?,
            first,
            after,
            |r| EventNode::new(p.clone(), r),
        )
        .await?)
    }

    /// One event.
    async fn event(&self, ctx: &Context<'_>, id: ID) -> Result<EventNode> {
        let allowed = allow(ctx, &self.project, Entity::Event, Access::Read)?;
        let id = crate::principal::parse_id("id", &id)?;
        let record = allowed
            .facade
            .get::<up::Event>(&allowed.request.meta, &self.project, id)
            .await
            .map_err(ApiError::from)?;
        Ok(EventNode::new(self.project.clone(), record))
    }

    /// People assigned to the project.
    async fn people(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] filter: UpdatedFilter,
    ) -> Result<Conn<PersonNode>> {
        let allowed = allow(ctx, &self.project, Entity::Person, Access::Read)?;
        Ok(list_connection(
            &allowed,
            &self.project,
            filter.params()?,
            first,
            after,
            PersonNode,
        )
        .await?)
    }

    /// The project's equipment.
    async fn equipment(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] filter: UpdatedFilter,
    ) -> Result<Conn<EquipmentNode>> {
        let allowed = allow(ctx, &self.project, Entity::Equipment, Access::Read)?;
        Ok(list_connection(
            &allowed,
            &self.project,
            filter.params()?,
            first,
            after,
            EquipmentNode,
        )
        .await?)
    }

    /// The project's materials and generic resources.
    async fn other_resources(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] filter: UpdatedFilter,
    ) -> Result<Conn<OtherResourceNode>> {
        let allowed = allow(ctx, &self.project, Entity::OtherResource, Access::Read)?;
        Ok(list_connection(
            &allowed,
            &self.project,
            filter.params()?,
            first,
            after,
            OtherResourceNode,
        )
        .await?)
    }

    /// Resources assigned to the project.
    async fn resource_assignments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] filter: UpdatedFilter,
    ) -> Result<Conn<ResourceAssignmentNode>> {
        let allowed = allow(ctx, &self.project, Entity::ResourceAssignment, Access::Read)?;
        let p = self.project.clone();
        Ok(list_connection(
            &allowed,
            &self.project,
            filter.params()?,
            first,
            after,
            |r| ResourceAssignmentNode::new(p.clone(), r),
        )
        .await?)
    }

    /// Time and usage booked on the project. Long windows and sweeps belong to Dataclips.
    async fn resource_usages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] filter: UsageFilter,
    ) -> Result<Conn<ResourceUsageNode>> {
        let allowed = allow(ctx, &self.project, Entity::ResourceUsage, Access::Read)?;
        let p = self.project.clone();
        Ok(list_connection(
            &allowed,
            &self.project,
            filter.params()?,
            first,
            after,
            |r| ResourceUsageNode::new(p.clone(), r),
        )
        .await?)
    }

    /// One resource usage.
    async fn resource_usage(&self, ctx: &Context<'_>, id: ID) -> Result<ResourceUsageNode> {
        let allowed = allow(ctx, &self.project, Entity::ResourceUsage, Access::Read)?;
        let id = crate::principal::parse_id("id", &id)?;
        let record = allowed
            .facade
            .get::<up::ResourceUsage>(&allowed.request.meta, &self.project, id)
            .await
            .map_err(ApiError::from)?;
        Ok(ResourceUsageNode::new(self.project.clone(), record))
    }

    /// Attendance on site.
    async fn attendance(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] filter: AttendanceFilter,
    ) -> Result<Conn<AttendanceNode>> {
        let allowed = allow(ctx, &self.project, Entity::Attendance, Access::Read)?;
        let p = self.project.clone();
        Ok(list_connection(
            &allowed,
            &self.project,
            filter.params()?,
            first,
            after,
            |r| AttendanceNode::new(p.clone(), r),
        )
        .await?)
    }

    /// Dockets (one supplier's usages grouped for approval).
    async fn dockets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] filter: DocketFilter,
    ) -> Result<Conn<DocketNode>> {
        let allowed = allow(ctx, &self.project, Entity::Docket, Access::Read)?;
        Ok(list_connection(
            &allowed,
            &self.project,
            filter.params()?,
            first,
            after,
            DocketNode,
        )
        .await?)
    }

    /// One docket.
    async fn docket(&self, ctx: &Context<'_>, id: ID) -> Result<DocketNode> {
        let allowed = allow(ctx, &self.project, Entity::Docket, Access::Read)?;
        let id = crate::principal::parse_id("id", &id)?;
        let record = allowed
            .facade
            .get::<up::Docket>(&allowed.request.meta, &self.project, id)
            .await
            .map_err(ApiError::from)?;
        Ok(DocketNode(record))
    }
}

// ---- Activity --------------------------------------------------------------------------------

/// An activity: planned work, a work reference for usages.
#[derive(Debug, Clone)]
pub struct ActivityNode {
    project: Arc<str>,
    record: Arc<up::Activity>,
}

impl ActivityNode {
    /// Wraps a record.
    pub fn new(project: Arc<str>, record: Arc<up::Activity>) -> Self {
        Self { project, record }
    }
}

#[Object(name = "Activity")]
impl ActivityNode {
    async fn id(&self) -> ID {
        id(self.record.id)
    }
    /// Unique per project.
    async fn reference_code(&self) -> &str {
        &self.record.reference_code
    }
    async fn name(&self) -> &str {
        &self.record.name
    }
    async fn wbs_code(&self) -> Option<&str> {
        self.record.wbs_code.as_deref()
    }
    async fn quantity_uom(&self) -> Option<&str> {
        self.record.quantity_uom.as_deref()
    }
    async fn work_category(&self) -> Option<&str> {
        self.record.work_category.as_deref()
    }
    async fn discipline(&self) -> Option<&str> {
        self.record.discipline.as_deref()
    }
    async fn location(&self) -> Option<&str> {
        self.record.location.as_deref()
    }
    async fn job_number(&self) -> Option<&str> {
        self.record.job_number.as_deref()
    }
    async fn cost_code(&self) -> Option<&str> {
        self.record.cost_code.as_deref()
    }
    async fn budget_at_complete(&self) -> up::BudgetAtComplete {
        self.record.budget_at_complete
    }
    async fn planned(&self) -> up::PlannedDates {
        self.record.planned
    }
    async fn actual_start(&self) -> Option<up::DateWithTime> {
        self.record.actual_start
    }
    async fn actual_finish(&self) -> Option<up::DateWithTime> {
        self.record.actual_finish
    }
    async fn expected_start(&self) -> Option<up::DateWithTime> {
        self.record.expected_start
    }
    async fn expected_finish(&self) -> Option<up::DateWithTime> {
        self.record.expected_finish
    }
    async fn float_days(&self) -> Option<i32> {
        self.record.float_days
    }
    async fn earned_value_method(&self) -> EarnedValueMethod {
        self.record.earned_value_method.into()
    }
    async fn percent_complete(&self) -> f64 {
        self.record.percent_complete
    }
    async fn exclude_from_mobile(&self) -> bool {
        self.record.exclude_from_mobile
    }
    async fn bookable_for_all(&self) -> bool {
        self.record.bookable_for_all
    }
    async fn non_bookable(&self) -> bool {
        self.record.non_bookable
    }
    async fn tags(&self) -> &[String] {
        &self.record.tags
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.record.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.record.updated_at
    }

    /// Events related to this activity.
    async fn events(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<EventNode>> {
        let p = self.project.clone();
        children_connection::<up::Event, _>(ctx, &self.project, self.record.id, first, after, |r| {
            EventNode::new(p.clone(), r)
        })
        .await
    }

    /// Usages booked against this activity.
    async fn resource_usages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<ResourceUsageNode>> {
        let p = self.project.clone();
        children_connection::<up::ResourceUsage, _>(
            ctx,
            &self.project,
            self.record.id,
            first,
            after,
            |r| ResourceUsageNode::new(p.clone(), r),
        )
        .await
    }

    /// Files on this activity's timeline.
    async fn attachments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<AttachmentNode>> {
        children_connection::<up::Attachment, _>(
            ctx,
            &self.project,
            self.record.id,
            first,
            after,
            AttachmentNode,
        )
        .await
    }

    /// Progress entries of this activity.
    async fn progress_entries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<ProgressEntryNode>> {
        children_connection::<up::ProgressEntry, _>(
            ctx,
            &self.project,
            self.record.id,
            first,
            after,
            ProgressEntryNode,
        )
        .await
    }
}

// ---- Event -----------------------------------------------------------------------------------

/// An event: unplanned work or a delay, tied to exactly one activity.
#[derive(Debug, Clone)]
pub struct EventNode {
    project: Arc<str>,
    record: Arc<up::Event>,
}

impl EventNode {
    /// Wraps a record.
    pub fn new(project: Arc<str>, record: Arc<up::Event>) -> Self {
        Self { project, record }
    }
}

#[Object(name = "Event")]
impl EventNode {
    async fn id(&self) -> ID {
        id(self.record.id)
    }
    async fn reference_code(&self) -> &str {
        &self.record.reference_code
    }
    async fn name(&self) -> &str {
        &self.record.name
    }
    async fn event_type(&self) -> Option<&str> {
        self.record.event_type.as_deref()
    }
    async fn work_category(&self) -> Option<&str> {
        self.record.work_category.as_deref()
    }
    async fn raised_at(&self) -> DateTime<Utc> {
        self.record.raised_at
    }
    async fn classified_at(&self) -> Option<DateTime<Utc>> {
        self.record.classified_at
    }
    async fn description(&self) -> Option<&str> {
        self.record.description.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.record.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.record.updated_at
    }
    /// The related activity's id.
    async fn activity_id(&self) -> ID {
        id(self.record.activity_id)
    }
    /// The related activity.
    async fn activity(&self, ctx: &Context<'_>) -> Result<Option<ActivityNode>> {
        let allowed = allow(ctx, &self.project, Entity::Activity, Access::Read)?;
        let record =
            load_one::<up::Activity>(&allowed, &self.project, self.record.activity_id).await?;
        Ok(record.map(|r| ActivityNode::new(self.project.clone(), r)))
    }
    /// Usages booked against this event.
    async fn resource_usages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<ResourceUsageNode>> {
        let p = self.project.clone();
        children_connection::<up::ResourceUsage, _>(
            ctx,
            &self.project,
            self.record.id,
            first,
            after,
            |r| ResourceUsageNode::new(p.clone(), r),
        )
        .await
    }
    /// Files on this event's timeline.
    async fn attachments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Conn<AttachmentNode>> {
        children_connection::<up::Attachment, _>(
            ctx,
            &self.project,
            self.record.id,
            first,
            after,
            AttachmentNode,
        )
        .await
    }
}

// ---- Resources -------------------------------------------------------------------------------

/// A person.
#[derive(Debug, Clone)]
pub struct PersonNode(pub Arc<up::Person>);

#[Object(name = "Person")]
impl PersonNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn given_name(&self) -> &str {
        &self.0.given_name
    }
    async fn family_name(&self) -> &str {
        &self.0.family_name
    }
    async fn attendance_reference(&self) -> Option<&str> {
        self.0.attendance_reference.as_deref()
    }
    async fn is_supervisor(&self) -> bool {
        self.0.is_supervisor
    }
    /// Up to five of A–Z and 0–9.
    async fn supervisor_code(&self) -> Option<&str> {
        self.0.supervisor_code.as_deref()
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A piece of equipment.
#[derive(Debug, Clone)]
pub struct EquipmentNode(pub Arc<up::Equipment>);

#[Object(name = "Equipment")]
impl EquipmentNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn equipment_type(&self) -> Option<&str> {
        self.0.equipment_type.as_deref()
    }
    async fn identifier(&self) -> Option<&str> {
        self.0.identifier.as_deref()
    }
    async fn company_id(&self) -> Option<ID> {
        self.0.company_id.map(id)
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A material or a generic person or piece of equipment.
#[derive(Debug, Clone)]
pub struct OtherResourceNode(pub Arc<up::OtherResource>);

#[Object(name = "OtherResource")]
impl OtherResourceNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// material, generic_person or generic_equipment.
    async fn resource_type(&self) -> &str {
        &self.0.resource_type
    }
    async fn default_uom(&self) -> Option<&str> {
        self.0.default_uom.as_deref()
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A person, a piece of equipment or another resource.
#[derive(Union, Debug, Clone)]
pub enum Resource {
    /// A person.
    Person(PersonNode),
    /// Equipment.
    Equipment(EquipmentNode),
    /// Another resource.
    OtherResource(OtherResourceNode),
}

async fn resource(
    ctx: &Context<'_>,
    project: &Arc<str>,
    kind: up::ResourceType,
    resource_id: Uuid,
) -> Result<Option<Resource>> {
    Ok(match kind {
        up::ResourceType::Person => {
            let allowed = allow(ctx, project, Entity::Person, Access::Read)?;
            load_one::<up::Person>(&allowed, project, resource_id)
                .await?
                .map(|r| Resource::Person(PersonNode(r)))
        }
        up::ResourceType::Equipment => {
            let allowed = allow(ctx, project, Entity::Equipment, Access::Read)?;
            load_one::<up::Equipment>(&allowed, project, resource_id)
                .await?
                .map(|r| Resource::Equipment(EquipmentNode(r)))
        }
        up::ResourceType::OtherResource => {
            let allowed = allow(ctx, project, Entity::OtherResource, Access::Read)?;
            load_one::<up::OtherResource>(&allowed, project, resource_id)
                .await?
                .map(|r| Resource::OtherResource(OtherResourceNode(r)))
        }
        up::ResourceType::Unknown => None,
    })
}

/// A resource tied to the project, a company and a work role over a date range.
#[derive(Debug, Clone)]
pub struct ResourceAssignmentNode {
    project: Arc<str>,
    record: Arc<up::ResourceAssignment>,
}

impl ResourceAssignmentNode {
    /// Wraps a record.
    pub fn new(project: Arc<str>, record: Arc<up::ResourceAssignment>) -> Self {
        Self { project, record }
    }
}

#[Object(name = "ResourceAssignment")]
impl ResourceAssignmentNode {
    async fn id(&self) -> ID {
        id(self.record.id)
    }
    async fn resource_type(&self) -> ResourceType {
        self.record.resource_type.into()
    }
    async fn resource_id(&self) -> ID {
        id(self.record.resource_id)
    }
    /// The resource assigned.
    async fn resource(&self, ctx: &Context<'_>) -> Result<Option<Resource>> {
        resource(
            ctx,
            &self.project,
            self.record.resource_type,
            self.record.resource_id,
        )
        .await
    }
    async fn company_id(&self) -> Option<ID> {
        self.record.company_id.map(id)
    }
    async fn work_role_id(&self) -> Option<ID> {
        self.record.work_role_id.map(id)
    }
    async fn start_date(&self) -> NaiveDate {
        self.record.start_date
    }
    /// Open when null.
    async fn end_date(&self) -> Option<NaiveDate> {
        self.record.end_date
    }
}

// ---- Usage, attendance, dockets ----------------------------------------------------------------

/// An activity or an event.
#[derive(Union, Debug, Clone)]
pub enum WorkReference {
    /// An activity.
    Activity(ActivityNode),
    /// An event.
    Event(EventNode),
}

/// Time and usage booked by a resource against a work reference.
#[derive(Debug, Clone)]
pub struct ResourceUsageNode {
    project: Arc<str>,
    record: Arc<up::ResourceUsage>,
}

impl ResourceUsageNode {
    /// Wraps a record.
    pub fn new(project: Arc<str>, record: Arc<up::ResourceUsage>) -> Self {
        Self { project, record }
    }
}

#[Object(name = "ResourceUsage")]
impl ResourceUsageNode {
    async fn id(&self) -> ID {
        id(self.record.id)
    }
    async fn work_date(&self) -> NaiveDate {
        self.record.work_date
    }
    async fn resource_type(&self) -> ResourceType {
        self.record.resource_type.into()
    }
    async fn resource_id(&self) -> ID {
        id(self.record.resource_id)
    }
    /// The resource that did the work.
    async fn resource(&self, ctx: &Context<'_>) -> Result<Option<Resource>> {
        resource(
            ctx,
            &self.project,
            self.record.resource_type,
            self.record.resource_id,
        )
        .await
    }
    async fn work_reference_type(&self) -> WorkReferenceType {
        self.record.work_reference_type.into()
    }
    async fn work_reference_id(&self) -> ID {
        id(self.record.work_reference_id)
    }
    /// The activity or event the usage is booked against.
    async fn work_reference(&self, ctx: &Context<'_>) -> Result<Option<WorkReference>> {
        let project = &self.project;
        Ok(match self.record.work_reference_type {
            up::WorkReferenceType::Activity => {
                let allowed = allow(ctx, project, Entity::Activity, Access::Read)?;
                load_one::<up::Activity>(&allowed, project, self.record.work_reference_id)
                    .await?
                    .map(|r| WorkReference::Activity(ActivityNode::new(project.clone(), r)))
            }
            up::WorkReferenceType::Event => {
                let allowed = allow(ctx, project, Entity::Event, Access::Read)?;
                load_one::<up::Event>(&allowed, project, self.record.work_reference_id)
                    .await?
                    .map(|r| WorkReference::Event(EventNode::new(project.clone(), r)))
            }
            up::WorkReferenceType::Unknown => None,
        })
    }
    async fn company_id(&self) -> Option<ID> {
        self.record.company_id.map(id)
    }
    async fn work_role_id(&self) -> Option<ID> {
        self.record.work_role_id.map(id)
    }
    async fn usage_code_id(&self) -> Option<ID> {
        self.record.usage_code_id.map(id)
    }
    async fn rate_code_id(&self) -> Option<ID> {
        self.record.rate_code_id.map(id)
    }
    async fn docket_id(&self) -> Option<ID> {
        self.record.docket_id.map(id)
    }
    /// The docket grouping this usage, if any.
    async fn docket(&self, ctx: &Context<'_>) -> Result<Option<DocketNode>> {
        let Some(docket) = self.record.docket_id else {
            return Ok(None);
        };
        let allowed = allow(ctx, &self.project, Entity::Docket, Access::Read)?;
        Ok(load_one::<up::Docket>(&allowed, &self.project, docket)
            .await?
            .map(DocketNode))
    }
    async fn start_time(&self) -> Option<NaiveTime> {
        self.record.start_time
    }
    async fn end_time(&self) -> Option<NaiveTime> {
        self.record.end_time
    }
    async fn break_minutes(&self) -> u32 {
        self.record.break_minutes
    }
    async fn quantity(&self) -> f64 {
        self.record.quantity
    }
    async fn uom(&self) -> Option<&str> {
        self.record.uom.as_deref()
    }
    async fn notes(&self) -> Option<&str> {
        self.record.notes.as_deref()
    }
    async fn approval_status(&self) -> ApprovalStatus {
        self.record.approval_status.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.record.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.record.updated_at
    }
}

/// A person's attendance on site.
#[derive(Debug, Clone)]
pub struct AttendanceNode {
    project: Arc<str>,
    record: Arc<up::Attendance>,
}

impl AttendanceNode {
    /// Wraps a record.
    pub fn new(project: Arc<str>, record: Arc<up::Attendance>) -> Self {
        Self { project, record }
    }
}

#[Object(name = "Attendance")]
impl AttendanceNode {
    async fn id(&self) -> ID {
        id(self.record.id)
    }
    async fn person_id(&self) -> ID {
        id(self.record.person_id)
    }
    /// The person.
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<PersonNode>> {
        let allowed = allow(ctx, &self.project, Entity::Person, Access::Read)?;
        Ok(
            load_one::<up::Person>(&allowed, &self.project, self.record.person_id)
                .await?
                .map(PersonNode),
        )
    }
    async fn company_id(&self) -> Option<ID> {
        self.record.company_id.map(id)
    }
    async fn work_date(&self) -> NaiveDate {
        self.record.work_date
    }
    async fn start_at(&self) -> DateTime<Utc> {
        self.record.start_at
    }
    async fn end_at(&self) -> Option<DateTime<Utc>> {
        self.record.end_at
    }
    async fn start_area(&self) -> Option<&str> {
        self.record.start_area.as_deref()
    }
    async fn end_area(&self) -> Option<&str> {
        self.record.end_area.as_deref()
    }
    async fn comment(&self) -> Option<&str> {
        self.record.comment.as_deref()
    }
    async fn time_zone(&self) -> Option<&str> {
        self.record.time_zone.as_deref()
    }
    async fn duration_minutes(&self) -> Option<u32> {
        self.record.duration_minutes
    }
}

/// A docket: one supplier's usages grouped for approval.
#[derive(Debug, Clone)]
pub struct DocketNode(pub Arc<up::Docket>);

#[Object(name = "Docket")]
impl DocketNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    async fn docket_date(&self) -> NaiveDate {
        self.0.docket_date
    }
    async fn company_id(&self) -> Option<ID> {
        self.0.company_id.map(id)
    }
    async fn invoice_reference(&self) -> Option<&str> {
        self.0.invoice_reference.as_deref()
    }
    async fn purchase_order_reference(&self) -> Option<&str> {
        self.0.purchase_order_reference.as_deref()
    }
    async fn status(&self) -> DocketStatus {
        self.0.status.into()
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A file on an activity's or event's timeline.
#[derive(Debug, Clone)]
pub struct AttachmentNode(pub Arc<up::Attachment>);

#[Object(name = "Attachment")]
impl AttachmentNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn parent_type(&self) -> AttachmentParentType {
        self.0.parent_type.into()
    }
    async fn parent_id(&self) -> ID {
        id(self.0.parent_id)
    }
    async fn file_name(&self) -> &str {
        &self.0.file_name
    }
    async fn content_type(&self) -> Option<&str> {
        self.0.content_type.as_deref()
    }
    /// Size in bytes (a string: files can exceed 2 GiB).
    async fn size_bytes(&self) -> String {
        self.0.size_bytes.to_string()
    }
    async fn sha256(&self) -> Option<&str> {
        self.0.sha256.as_deref()
    }
    async fn author(&self) -> Option<&str> {
        self.0.author.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A progress entry of an activity.
#[derive(Debug, Clone)]
pub struct ProgressEntryNode(pub Arc<up::ProgressEntry>);

#[Object(name = "ProgressEntry")]
impl ProgressEntryNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn activity_id(&self) -> ID {
        id(self.0.activity_id)
    }
    async fn progress_date(&self) -> NaiveDate {
        self.0.progress_date
    }
    async fn percent_complete(&self) -> Option<f64> {
        self.0.percent_complete
    }
    async fn quantity_delta(&self) -> Option<f64> {
        self.0.quantity_delta
    }
    async fn quantity_to_date(&self) -> Option<f64> {
        self.0.quantity_to_date
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
