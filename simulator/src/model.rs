//! The JSON shapes the simulator serves.
//!
//! These types are the contract of the simulated SYNCHRO Perform REST API: keys are snake_case,
//! ids are UUIDs, dates are `YYYY-MM-DD`, times of day `HH:MM:SS`, instants RFC 3339 in UTC, and
//! every record carries `created_at` / `updated_at`. Optional values are serialised as `null`
//! (never omitted), so every key is always present.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The error body of every non-2xx answer: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// The content of an [`ErrorBody`].
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable snake_case code, e.g. `validation_failed`, `rate_limited`.
    pub code: String,
    /// A readable message.
    pub message: String,
    /// Structured details (field names, limits); `null` when there are none.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// Lifecycle of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    /// A live project.
    Active,
    /// A project used for training.
    Training,
    /// A closed, read-mostly project.
    Archive,
}

/// Who to call about a project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SupportContact {
    /// Contact's full name.
    pub name: String,
    /// Phone number.
    pub phone: String,
    /// E-mail address.
    pub email: String,
}

/// A SYNCHRO Perform project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Project {
    /// Project id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// `active`, `training` or `archive`.
    pub status_type: ProjectStatus,
    /// The customer's own reference for the project.
    pub external_reference: String,
    /// Site location (free text).
    pub location: String,
    /// Site latitude, degrees.
    pub latitude: f64,
    /// Site longitude, degrees.
    pub longitude: f64,
    /// Date format used by the project's UI, e.g. `dd/MM/yyyy`.
    pub date_format: String,
    /// Default currency/unit of cost, e.g. `GBP`.
    pub default_cost_uom: String,
    /// Support contact.
    pub support_contact: SupportContact,
    /// Free tags.
    pub tags: Vec<String>,
    /// First day of the project's seeded data (usages, attendance and dockets start here).
    pub start_date: NaiveDate,
    /// Last day of the project's seeded data.
    pub end_date: NaiveDate,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// How an activity earns value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EarnedValueMethod {
    /// Progress is entered as a percentage.
    Percentage,
    /// Progress is entered as installed quantity.
    QuantityProgress,
    /// Progress from tagged items, weighted by labour.
    TaggedItemLabour,
    /// Progress from tagged items, weighted by quantity.
    TaggedItemQuantity,
}

/// One budget figure set (labour hours, quantity, cost).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BudgetFigures {
    /// Labour hours.
    pub labour_hours: f64,
    /// Quantity, in the activity's `quantity_uom`.
    pub quantity: f64,
    /// Cost, in the project's `default_cost_uom`.
    pub cost: f64,
}

impl BudgetFigures {
    /// True when labour, quantity and cost are all zero.
    pub fn is_zero(&self) -> bool {
        self.labour_hours == 0.0 && self.quantity == 0.0 && self.cost == 0.0
    }
}

/// Budgets at complete: original, revised and current estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BudgetAtComplete {
    /// The original budget.
    pub original: BudgetFigures,
    /// The revised budget.
    pub revised: BudgetFigures,
    /// The current estimate at complete; an activity whose current estimate is all zero has
    /// "zero budget" and refuses progress entries.
    pub current_estimate: BudgetFigures,
}

/// Planned start and finish dates: original, revised and current (current is mandatory).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlannedDates {
    /// Original planned start.
    pub original_start: Option<NaiveDate>,
    /// Original planned finish.
    pub original_finish: Option<NaiveDate>,
    /// Revised planned start.
    pub revised_start: Option<NaiveDate>,
    /// Revised planned finish.
    pub revised_finish: Option<NaiveDate>,
    /// Current planned start (mandatory).
    pub current_start: NaiveDate,
    /// Current planned finish (mandatory, not before `current_start`).
    pub current_finish: NaiveDate,
}

/// A date with an optional time of day (actual and expected starts and finishes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DateWithTime {
    /// The date.
    pub date: NaiveDate,
    /// The time of day, when known.
    #[schema(value_type = Option<String>, example = "07:30:00")]
    pub time: Option<NaiveTime>,
}

/// An activity: planned work, one kind of *work reference*.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    /// Activity id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Unique per project.
    pub reference_code: String,
    /// Activity name.
    pub name: String,
    /// Work breakdown structure code, e.g. `1.2.3`.
    pub wbs_code: String,
    /// Unit of measure of quantities, e.g. `m3`.
    pub quantity_uom: String,
    /// Work category.
    pub work_category: String,
    /// Discipline, e.g. `Civils`.
    pub discipline: String,
    /// Location on site.
    pub location: String,
    /// Job number.
    pub job_number: String,
    /// Cost code.
    pub cost_code: String,
    /// Budgets at complete.
    pub budget_at_complete: BudgetAtComplete,
    /// Planned dates.
    pub planned: PlannedDates,
    /// Actual start.
    pub actual_start: Option<DateWithTime>,
    /// Actual finish.
    pub actual_finish: Option<DateWithTime>,
    /// Expected start.
    pub expected_start: Option<DateWithTime>,
    /// Expected finish.
    pub expected_finish: Option<DateWithTime>,
    /// Total float, days.
    pub float_days: i32,
    /// Earned-value method.
    pub earned_value_method: EarnedValueMethod,
    /// Percent complete, 0 to 100.
    pub percent_complete: f64,
    /// Hidden from the mobile app.
    pub exclude_from_mobile: bool,
    /// Every resource may book time to it.
    pub bookable_for_all: bool,
    /// No time may be booked to it.
    pub non_bookable: bool,
    /// Free tags.
    pub tags: Vec<String>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

impl Activity {
    /// True when the current estimate at complete is zero (progress is then refused).
    pub fn has_zero_budget(&self) -> bool {
        self.budget_at_complete.current_estimate.is_zero()
    }
}

/// An event: unplanned work or a delay, tied to exactly one activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Event id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Unique per project.
    pub reference_code: String,
    /// Event name.
    pub name: String,
    /// Event type, e.g. `Delay`, `Variation`, `Rework`.
    pub event_type: String,
    /// Work category.
    pub work_category: String,
    /// The one related activity.
    pub activity_id: Uuid,
    /// When the event was raised.
    pub raised_at: DateTime<Utc>,
    /// When it was classified, if it has been.
    pub classified_at: Option<DateTime<Utc>>,
    /// Description.
    pub description: String,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// A person (instance-wide in the product; the project collection lists the people assigned
/// to the project).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Person {
    /// Person id.
    pub id: Uuid,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Reference used by the attendance system (badge number).
    pub attendance_reference: String,
    /// Whether the person is a supervisor.
    pub is_supervisor: bool,
    /// Supervisor code, at most 5 of A–Z0–9 (supervisors only).
    pub supervisor_code: Option<String>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// A piece of equipment (project-scoped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Equipment {
    /// Equipment id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Display name.
    pub name: String,
    /// Equipment type, e.g. `Excavator`.
    pub equipment_type: String,
    /// Fleet or plate identifier.
    pub identifier: String,
    /// Owning company.
    pub company_id: Uuid,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// Kind of an "other resource".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OtherResourceType {
    /// A material (concrete, rebar...).
    Material,
    /// A generic, unnamed person (e.g. "Labourer").
    GenericPerson,
    /// A generic, unnamed piece of equipment.
    GenericEquipment,
}

/// Materials and generic people/equipment (project-scoped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OtherResource {
    /// Resource id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Display name.
    pub name: String,
    /// `material`, `generic_person` or `generic_equipment`.
    pub resource_type: OtherResourceType,
    /// Default unit of measure, e.g. `m3`, `t`, `h`.
    pub default_uom: String,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// The kind of resource a usage, rate or assignment refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// A [`Person`].
    Person,
    /// An [`Equipment`].
    Equipment,
    /// An [`OtherResource`].
    OtherResource,
}

impl ResourceKind {
    /// The label used in exports: `People`, `Equipment`, `Other Resource`.
    pub fn export_label(self) -> &'static str {
        match self {
            ResourceKind::Person => "People",
            ResourceKind::Equipment => "Equipment",
            ResourceKind::OtherResource => "Other Resource",
        }
    }
}

/// Ties a resource to the project, a company and a work role over a date range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResourceAssignment {
    /// Assignment id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// The resource assigned.
    pub resource_id: Uuid,
    /// Kind of the resource.
    pub resource_type: ResourceKind,
    /// Supplying company.
    pub company_id: Uuid,
    /// Work role.
    pub work_role_id: Uuid,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day; `null` while open (one open assignment per resource).
    pub end_date: Option<NaiveDate>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// A company: the main contractor or a supplier/subcontractor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Company {
    /// Company id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Company name.
    pub name: String,
    /// The supplier reference in the customer's ERP.
    pub supplier_reference: String,
    /// True for subcontractors (whose usages are grouped in dockets).
    pub is_subcontractor: bool,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// A work role, e.g. "Carpenter" in category "Trades".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkRole {
    /// Work role id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Role name.
    pub name: String,
    /// Category, e.g. `Trades`, `Plant`, `Management`.
    pub category: String,
    /// Category type: `labour`, `plant` or `material`.
    pub category_type: String,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// A usage code, e.g. `WORK`, `STANDBY`, `TRAVEL`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UsageCode {
    /// Usage code id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Short code.
    pub code: String,
    /// Description.
    pub name: String,
    /// Whether time under this code counts as productive.
    pub productive: bool,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// A rate code, e.g. `STD`, `OT1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RateCode {
    /// Rate code id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Short code.
    pub code: String,
    /// Description.
    pub name: String,
    /// Multiplier applied to the base rate.
    pub multiplier: f64,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// A rate currently applied to a resource under a rate code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApplicableRate {
    /// Rate id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// The resource.
    pub resource_id: Uuid,
    /// Kind of the resource.
    pub resource_type: ResourceKind,
    /// The rate code.
    pub rate_code_id: Uuid,
    /// Rate per unit, in the project's cost currency.
    pub rate: f64,
    /// Unit of measure of the rate, e.g. `h`.
    pub uom: String,
    /// First day the rate applies.
    pub effective_from: NaiveDate,
    /// Last day, `null` when open-ended.
    pub effective_to: Option<NaiveDate>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// What a usage is booked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkReferenceKind {
    /// An [`Activity`].
    Activity,
    /// An [`Event`].
    Event,
}

/// Approval status of a resource usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Entered, not submitted.
    Unapproved,
    /// Submitted for approval.
    Submitted,
    /// Approved.
    Approved,
    /// Rejected.
    Rejected,
}

impl ApprovalStatus {
    /// All values, in lifecycle order.
    pub const ALL: [ApprovalStatus; 4] = [
        ApprovalStatus::Unapproved,
        ApprovalStatus::Submitted,
        ApprovalStatus::Approved,
        ApprovalStatus::Rejected,
    ];

    /// The snake_case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Unapproved => "unapproved",
            ApprovalStatus::Submitted => "submitted",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Rejected => "rejected",
        }
    }

    /// The label used in exports (`Approved`, ...).
    pub fn export_label(self) -> &'static str {
        match self {
            ApprovalStatus::Unapproved => "Unapproved",
            ApprovalStatus::Submitted => "Submitted",
            ApprovalStatus::Approved => "Approved",
            ApprovalStatus::Rejected => "Rejected",
        }
    }
}

/// Time and usage of one resource on one day against one work reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResourceUsage {
    /// Usage id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Day worked.
    pub work_date: NaiveDate,
    /// The resource.
    pub resource_id: Uuid,
    /// Kind of the resource.
    pub resource_type: ResourceKind,
    /// The company supplying the resource on that day.
    pub company_id: Uuid,
    /// The resource's work role.
    pub work_role_id: Uuid,
    /// The activity or event booked against.
    pub work_reference_id: Uuid,
    /// `activity` or `event`.
    pub work_reference_type: WorkReferenceKind,
    /// Usage code.
    pub usage_code_id: Uuid,
    /// Docket grouping this usage (subcontractor usages), if any.
    pub docket_id: Option<Uuid>,
    /// Start time.
    #[schema(value_type = Option<String>, example = "07:00:00")]
    pub start_time: Option<NaiveTime>,
    /// End time.
    #[schema(value_type = Option<String>, example = "16:30:00")]
    pub end_time: Option<NaiveTime>,
    /// Break, minutes.
    pub break_minutes: u32,
    /// Quantity (hours for people and equipment).
    pub quantity: f64,
    /// Unit of measure of `quantity`.
    pub uom: String,
    /// Rate code.
    pub rate_code_id: Uuid,
    /// Notes.
    pub notes: Option<String>,
    /// `unapproved`, `submitted`, `approved` or `rejected`.
    pub approval_status: ApprovalStatus,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// Status of a docket: `submitted → received | rejected | approved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocketStatus {
    /// Submitted by the supplier (the only state with outgoing transitions).
    Submitted,
    /// Received on site.
    Received,
    /// Rejected.
    Rejected,
    /// Approved.
    Approved,
}

impl DocketStatus {
    /// The snake_case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DocketStatus::Submitted => "submitted",
            DocketStatus::Received => "received",
            DocketStatus::Rejected => "rejected",
            DocketStatus::Approved => "approved",
        }
    }
}

/// Groups one supplying company's usages (typically a subcontractor's week).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Docket {
    /// Docket id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// Docket reference.
    pub reference: String,
    /// Docket date.
    pub docket_date: NaiveDate,
    /// Supplying company.
    pub company_id: Uuid,
    /// Supplier's invoice reference.
    pub invoice_reference: Option<String>,
    /// Purchase-order reference.
    pub purchase_order_reference: Option<String>,
    /// Status.
    pub status: DocketStatus,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// A person's attendance on site (one sign-in/sign-out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attendance {
    /// Attendance id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// The person.
    pub person_id: Uuid,
    /// The person's company on that day.
    pub company_id: Uuid,
    /// The person's work role on that day.
    pub work_role_id: Uuid,
    /// Day of sign-in (local).
    pub work_date: NaiveDate,
    /// Sign-in instant.
    pub start_at: DateTime<Utc>,
    /// Sign-out instant (`null` while on site).
    pub end_at: Option<DateTime<Utc>>,
    /// Area of sign-in, e.g. `Gate A`.
    pub start_area: String,
    /// Area of sign-out.
    pub end_area: Option<String>,
    /// Sign-in latitude.
    pub start_latitude: f64,
    /// Sign-in longitude.
    pub start_longitude: f64,
    /// Sign-out latitude.
    pub end_latitude: Option<f64>,
    /// Sign-out longitude.
    pub end_longitude: Option<f64>,
    /// Comment.
    pub comment: Option<String>,
    /// IANA time zone of the site.
    pub time_zone: String,
    /// Minutes on site (`null` while on site).
    pub duration_minutes: Option<u32>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// A person's competency (ticket, licence, induction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Competency {
    /// Competency id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// The person holding it.
    pub person_id: Uuid,
    /// Competency name, e.g. `CSCS Card`.
    pub name: String,
    /// Issue date (before `expires_on`).
    pub issued_on: NaiveDate,
    /// Expiry date.
    pub expires_on: NaiveDate,
    /// Whether an expired competency blocks site access.
    pub blocks_access: bool,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// A progress entry on an activity: exactly one of the three measures is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProgressEntry {
    /// Entry id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// The activity progressed.
    pub activity_id: Uuid,
    /// Day of the progress.
    pub progress_date: NaiveDate,
    /// Percent complete to date, 0 to 100.
    pub percent_complete: Option<f64>,
    /// Quantity installed since the previous entry.
    pub quantity_delta: Option<f64>,
    /// Quantity installed to date.
    pub quantity_to_date: Option<f64>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// The kind of record an attachment hangs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentParent {
    /// An [`Activity`].
    Activity,
    /// An [`Event`].
    Event,
}

/// A file on a record's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attachment {
    /// Attachment id.
    pub id: Uuid,
    /// Owning project.
    pub project_id: Uuid,
    /// `activity` or `event`.
    pub parent_type: AttachmentParent,
    /// The activity or event.
    pub parent_id: Uuid,
    /// File name.
    pub file_name: String,
    /// MIME type.
    pub content_type: String,
    /// Size, bytes.
    pub size_bytes: u64,
    /// SHA-256 of the content, hex (`null` for seeded attachments).
    pub sha256: Option<String>,
    /// Uploader.
    pub author: String,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change instant.
    pub updated_at: DateTime<Utc>,
}

/// The continuation-style page envelope (`PaginationStyle::Continuation`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContinuationPage {
    /// The records of this page.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
    /// Links; `next` is absent on the last page.
    #[serde(rename = "_links")]
    pub links: PageLinks,
}

/// Links of a [`ContinuationPage`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct PageLinks {
    /// The next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Link>,
}

/// A hypermedia link.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Link {
    /// Root-relative URL.
    pub href: String,
}
