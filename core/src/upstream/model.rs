//! Typed records of the curated subset of SYNCHRO Perform that Gatehouse serves.
//!
//! These mirror the upstream's JSON (snake_case keys, UUID ids, ISO dates). Unknown fields are
//! ignored so that an upstream which adds fields keeps working; a missing required field or a
//! wrong type makes the response malformed (`UpstreamError::Malformed`). Enumerations have an
//! `Unknown` variant so that a value Gatehouse has not seen yet does not fail a whole page.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use gatehouse_compliance::Entity;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A record of an upstream collection.
pub trait Record: serde::de::DeserializeOwned + Send + Sync + 'static {
    /// The entity it is.
    const ENTITY: Entity;
    /// Its id.
    fn id(&self) -> Uuid;
    /// A rough size in bytes, for cache accounting.
    fn weight(&self) -> usize {
        std::mem::size_of::<Self>() + 64
    }
}

macro_rules! record {
    ($ty:ty, $entity:expr) => {
        impl Record for $ty {
            const ENTITY: Entity = $entity;
            fn id(&self) -> Uuid {
                self.id
            }
        }
    };
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)*
            /// A value this version of Gatehouse does not know.
            #[serde(other)]
            Unknown,
        }

        impl $name {
            /// The upstream's string for this value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Unknown => "unknown",
                }
            }
        }
    };
}

string_enum!(
    /// A project's status.
    ProjectStatus {
        /// In use.
        Active = "active",
        /// A training project.
        Training = "training",
        /// Archived.
        Archive = "archive",
    }
);

string_enum!(
    /// How an activity's progress is measured.
    EarnedValueMethod {
        /// By percentage.
        Percentage = "percentage",
        /// By quantity progress.
        QuantityProgress = "quantity_progress",
        /// By tagged-item labour.
        TaggedItemLabour = "tagged_item_labour",
        /// By tagged-item quantity.
        TaggedItemQuantity = "tagged_item_quantity",
    }
);

string_enum!(
    /// Kind of resource.
    ResourceType {
        /// A person.
        Person = "person",
        /// A piece of equipment.
        Equipment = "equipment",
        /// A material or generic resource.
        OtherResource = "other_resource",
    }
);

string_enum!(
    /// What a usage is booked against.
    WorkReferenceType {
        /// Planned work.
        Activity = "activity",
        /// Unplanned work or a delay.
        Event = "event",
    }
);

string_enum!(
    /// A usage's approval state.
    ApprovalStatus {
        /// Recorded, not submitted.
        Unapproved = "unapproved",
        /// Submitted for approval.
        Submitted = "submitted",
        /// Approved.
        Approved = "approved",
        /// Rejected.
        Rejected = "rejected",
    }
);

string_enum!(
    /// A docket's state.
    DocketStatus {
        /// Submitted by the supplier.
        Submitted = "submitted",
        /// Received.
        Received = "received",
        /// Rejected.
        Rejected = "rejected",
        /// Approved.
        Approved = "approved",
    }
);

string_enum!(
    /// What an attachment hangs off.
    AttachmentParent {
        /// An activity.
        Activity = "activity",
        /// An event.
        Event = "event",
    }
);

/// A project's support contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupportContact {
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Email.
    pub email: String,
}

/// A project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Status.
    pub status_type: ProjectStatus,
    /// External reference.
    pub external_reference: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
    /// Date format.
    pub date_format: Option<String>,
    /// Default cost unit.
    pub default_cost_uom: Option<String>,
    /// Support contact.
    pub support_contact: Option<SupportContact>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}
record!(Project, Entity::Project);

/// Labour hours, quantity and cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
pub struct BudgetFigures {
    /// Labour hours.
    pub labour_hours: f64,
    /// Quantity.
    pub quantity: f64,
    /// Cost.
    pub cost: f64,
}

/// Budgets at complete.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
pub struct BudgetAtComplete {
    /// Original.
    pub original: BudgetFigures,
    /// Revised.
    pub revised: BudgetFigures,
    /// Current estimate.
    pub current_estimate: BudgetFigures,
}

/// Planned dates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
pub struct PlannedDates {
    /// Original start.
    pub original_start: Option<NaiveDate>,
    /// Original finish.
    pub original_finish: Option<NaiveDate>,
    /// Revised start.
    pub revised_start: Option<NaiveDate>,
    /// Revised finish.
    pub revised_finish: Option<NaiveDate>,
    /// Current start.
    pub current_start: NaiveDate,
    /// Current finish.
    pub current_finish: NaiveDate,
}

/// A date with an optional time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "graphql", derive(async_graphql::SimpleObject))]
pub struct DateWithTime {
    /// Date.
    pub date: NaiveDate,
    /// Time, if known.
    pub time: Option<NaiveTime>,
}

/// An activity (planned work).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// Id.
    pub id: Uuid,
    /// Project.
    pub(crate) project_id: Uuid,
    /// Reference code (unique per project).
    pub reference_code: String,
    /// Name.
    pub name: String,
    /// WBS code.
    pub wbs_code: Option<String>,
    /// Quantity unit.
    pub quantity_uom: Option<String>,
    /// Work category.
    pub work_category: Option<String>,
    /// Discipline.
    pub discipline: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Job number.
    pub job_number: Option<String>,
    /// Cost code.
    pub cost_code: Option<String>,
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
    /// Float, in days.
    pub float_days: Option<i32>,
    /// Earned-value method.
    pub earned_value_method: EarnedValueMethod,
    /// Percent complete.
    pub percent_complete: f64,
    /// Excluded from the mobile app.
    #[serde(default)]
    pub exclude_from_mobile: bool,
    /// Bookable for all.
    #[serde(default)]
    pub bookable_for_all: bool,
    /// Not bookable.
    #[serde(default)]
    pub non_bookable: bool,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}
record!(Activity, Entity::Activity);

/// An event (unplanned work or delay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Id.
    pub id: Uuid,
    /// Project.
    pub(crate) project_id: Uuid,
    /// Reference code.
    pub reference_code: String,
    /// Name.
    pub name: String,
    /// Event type.
    pub event_type: Option<String>,
    /// Work category.
    pub work_category: Option<String>,
    /// The one related activity.
    pub activity_id: Uuid,
    /// Raised.
    pub raised_at: DateTime<Utc>,
    /// Classified.
    pub classified_at: Option<DateTime<Utc>>,
    /// Description.
    pub description: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}
record!(Event, Entity::Event);

/// A person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// Id.
    pub id: Uuid,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Attendance reference.
    pub attendance_reference: Option<String>,
    /// Supervisor.
    #[serde(default)]
    pub is_supervisor: bool,
    /// Supervisor code.
    pub supervisor_code: Option<String>,
    /// Created.
    pub(crate) created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}
record!(Person, Entity::Person);

/// A piece of equipment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Equipment {
    /// Id.
    pub id: Uuid,
    /// Project.
    pub(crate) project_id: Uuid,
    /// Name.
    pub name: String,
    /// Type.
    pub equipment_type: Option<String>,
    /// Identifier (plate, serial).
    pub identifier: Option<String>,
    /// Company.
    pub company_id: Option<Uuid>,
    /// Created.
    pub(crate) created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}
record!(Equipment, Entity::Equipment);

/// A material or generic resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtherResource {
    /// Id.
    pub id: Uuid,
    /// Project.
    pub(crate) project_id: Uuid,
    /// Name.
    pub name: String,
    /// Type (material, generic_person, generic_equipment).
    pub resource_type: String,
    /// Default unit.
    pub default_uom: Option<String>,
    /// Created.
    pub(crate) created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}
record!(OtherResource, Entity::OtherResource);

/// A resource tied to a project, company and work role over a date range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceAssignment {
    /// Id.
    pub id: Uuid,
    /// Project.
    pub(crate) project_id: Uuid,
    /// Resource.
    pub resource_id: Uuid,
    /// Resource kind.
    pub resource_type: ResourceType,
    /// Company.
    pub company_id: Option<Uuid>,
    /// Work role.
    pub work_role_id: Option<Uuid>,
    /// From.
    pub start_date: NaiveDate,
    /// To (open when absent).
    pub end_date: Option<NaiveDate>,
    /// Created.
    pub(crate) created_at: DateTime<Utc>,
    /// Updated.
    pub(crate) updated_at: DateTime<Utc>,
}
record!(ResourceAssignment, Entity::ResourceAssignment);

/// Time and usage booked by a resource against a work reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceUsage {
    /// Id.
    pub id: Uuid,
    /// Project.
    pub(crate) project_id: Uuid,
    /// Work date.
    pub work_date: NaiveDate,
    /// Resource.
    pub resource_id: Uuid,
    /// Resource kind.
    pub resource_type: ResourceType,
    /// Company.
    pub company_id: Option<Uuid>,
    /// Work role.
    pub work_role_id: Option<Uuid>,
    /// Work reference (activity or event).
    pub work_reference_id: Uuid,
    /// Work reference kind.
    pub work_reference_type: WorkReferenceType,
    /// Usage code.
    pub usage_code_id: Option<Uuid>,
    /// Docket.
    pub docket_id: Option<Uuid>,
    /// Start time.
    pub start_time: Option<NaiveTime>,
    /// End time.
    pub end_time: Option<NaiveTime>,
    /// Break, in minutes.
    #[serde(default)]
    pub break_minutes: u32,
    /// Quantity.
    pub quantity: f64,
    /// Unit.
    pub uom: Option<String>,
    /// Rate code.
    pub rate_code_id: Option<Uuid>,
    /// Notes.
    pub notes: Option<String>,
    /// Approval status.
    pub approval_status: ApprovalStatus,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}
record!(ResourceUsage, Entity::ResourceUsage);

/// A docket: one supplier's usages grouped for approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Docket {
    /// Id.
    pub id: Uuid,
    /// Project.
    pub(crate) project_id: Uuid,
    /// Reference.
    pub reference: String,
    /// Date.
    pub docket_date: NaiveDate,
    /// Supplying company.
    pub company_id: Option<Uuid>,
    /// Invoice reference.
    pub invoice_reference: Option<String>,
    /// Purchase-order reference.
    pub purchase_order_reference: Option<String>,
    /// Status.
    pub status: DocketStatus,
    /// Created.
    pub(crate) created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}
record!(Docket, Entity::Docket);

/// A person's attendance on site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attendance {
    /// Id.
    pub id: Uuid,
    /// Project.
    pub(crate) project_id: Uuid,
    /// Person.
    pub person_id: Uuid,
    /// Company.
    pub company_id: Option<Uuid>,
    /// Work role.
    pub(crate) work_role_id: Option<Uuid>,
    /// Day.
    pub work_date: NaiveDate,
    /// Start.
    pub start_at: DateTime<Utc>,
    /// End.
    pub end_at: Option<DateTime<Utc>>,
    /// Start area.
    pub start_area: Option<String>,
    /// End area.
    pub end_area: Option<String>,
    /// Comment.
    pub comment: Option<String>,
    /// Time zone.
    pub time_zone: Option<String>,
    /// Duration, in minutes.
    pub duration_minutes: Option<u32>,
    /// Created.
    pub(crate) created_at: DateTime<Utc>,
    /// Updated.
    pub(crate) updated_at: DateTime<Utc>,
}
record!(Attendance, Entity::Attendance);

/// A file on a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// Id.
    pub id: Uuid,
    /// Project.
    pub(crate) project_id: Uuid,
    /// Parent kind.
    pub parent_type: AttachmentParent,
    /// Parent.
    pub parent_id: Uuid,
    /// File name.
    pub file_name: String,
    /// Content type.
    pub content_type: Option<String>,
    /// Size, in bytes.
    pub size_bytes: u64,
    /// SHA-256 of the content, if the upstream computes it.
    pub sha256: Option<String>,
    /// Author.
    pub author: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub(crate) updated_at: DateTime<Utc>,
}
record!(Attachment, Entity::Attachment);

/// A progress entry of an activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressEntry {
    /// Id.
    pub id: Uuid,
    /// Project.
    pub(crate) project_id: Uuid,
    /// Activity.
    pub activity_id: Uuid,
    /// Date.
    pub progress_date: NaiveDate,
    /// Percent complete, if given that way.
    pub percent_complete: Option<f64>,
    /// Quantity delta, if given that way.
    pub quantity_delta: Option<f64>,
    /// Quantity to date, if given that way.
    pub quantity_to_date: Option<f64>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub(crate) updated_at: DateTime<Utc>,
}
record!(ProgressEntry, Entity::ProgressEntry);

/// A company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Company {
    /// Id.
    pub(crate) id: Uuid,
    /// Project.
    pub(crate) project_id: Uuid,
    /// Name.
    pub(crate) name: String,
    /// Supplier reference.
    pub(crate) supplier_reference: Option<String>,
    /// Subcontractor.
    #[serde(default)]
    pub(crate) is_subcontractor: bool,
    /// Created.
    pub(crate) created_at: DateTime<Utc>,
    /// Updated.
    pub(crate) updated_at: DateTime<Utc>,
}
record!(Company, Entity::Company);

/// A work role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkRole {
    /// Id.
    pub(crate) id: Uuid,
    /// Project.
    pub(crate) project_id: Uuid,
    /// Name.
    pub(crate) name: String,
    /// Category.
    pub(crate) category: Option<String>,
    /// Category type.
    pub(crate) category_type: Option<String>,
    /// Created.
    pub(crate) created_at: DateTime<Utc>,
    /// Updated.
    pub(crate) updated_at: DateTime<Utc>,
}
record!(WorkRole, Entity::WorkRole);

/// A usage code (what kind of time or use is booked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageCode {
    /// Id.
    pub id: Uuid,
    /// Project.
    pub(crate) project_id: Uuid,
    /// Code.
    pub(crate) code: String,
    /// Name.
    pub(crate) name: String,
    /// Productive time.
    #[serde(default)]
    pub(crate) productive: bool,
    /// Created.
    pub(crate) created_at: DateTime<Utc>,
    /// Updated.
    pub(crate) updated_at: DateTime<Utc>,
}
record!(UsageCode, Entity::UsageCode);

// ---- Writes ----------------------------------------------------------------------------------

/// Changes to an activity's dates and progress. Only the fields set are sent; `Some(None)`
/// clears an optional date.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ActivityPatch {
    /// Current planned start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_start: Option<NaiveDate>,
    /// Current planned finish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_finish: Option<NaiveDate>,
    /// Actual start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_start: Option<Option<DateWithTime>>,
    /// Actual finish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_finish: Option<Option<DateWithTime>>,
    /// Expected start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_start: Option<Option<DateWithTime>>,
    /// Expected finish.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_finish: Option<Option<DateWithTime>>,
    /// Percent complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent_complete: Option<f64>,
}

/// A progress entry to record (exactly one of the three measures).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewProgressEntry {
    /// Activity.
    pub activity_id: Uuid,
    /// Date.
    pub progress_date: NaiveDate,
    /// Percent complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent_complete: Option<f64>,
    /// Quantity delta.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity_delta: Option<f64>,
    /// Quantity to date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity_to_date: Option<f64>,
}

/// A resource usage to book.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewResourceUsage {
    /// Work date.
    pub work_date: NaiveDate,
    /// Resource.
    pub resource_id: Uuid,
    /// Work reference (activity or event).
    pub work_reference_id: Uuid,
    /// Usage code.
    pub usage_code_id: Uuid,
    /// Rate code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_code_id: Option<Uuid>,
    /// Start time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<NaiveTime>,
    /// End time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<NaiveTime>,
    /// Break, in minutes.
    pub break_minutes: u32,
    /// Quantity.
    pub quantity: f64,
    /// Notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A docket status action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocketAction {
    /// Mark received.
    Receive,
    /// Reject.
    Reject,
    /// Approve.
    Approve,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enum_values_and_extra_fields_do_not_fail_a_record() {
        let json = serde_json::json!({
            "id": "2f0a6a9e-4a51-4d2b-9f0e-5a1c6e8b7d10",
            "project_id": "2f0a6a9e-4a51-4d2b-9f0e-5a1c6e8b7d11",
            "reference": "D-1", "docket_date": "2025-03-01", "company_id": null,
            "invoice_reference": null, "purchase_order_reference": null,
            "status": "escalated", "brand_new_field": 7,
            "created_at": "2025-03-01T00:00:00Z", "updated_at": "2025-03-01T00:00:00Z"
        });
        let docket: Docket = serde_json::from_value(json).expect("parses");
        assert_eq!(docket.status, DocketStatus::Unknown);
    }

    #[test]
    fn a_missing_required_field_is_an_error_not_a_default() {
        let json = serde_json::json!({"id": "2f0a6a9e-4a51-4d2b-9f0e-5a1c6e8b7d10", "name": "x"});
        assert!(serde_json::from_value::<Activity>(json).is_err());
    }

    #[test]
    fn an_activity_patch_sends_only_what_changes_and_can_clear_a_date() {
        let patch = ActivityPatch {
            percent_complete: Some(40.0),
            actual_finish: Some(None),
            ..ActivityPatch::default()
        };
        assert_eq!(
            serde_json::to_value(&patch).expect("serialises"),
            serde_json::json!({"percent_complete": 40.0, "actual_finish": null})
        );
    }
}
