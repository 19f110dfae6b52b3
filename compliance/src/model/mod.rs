//! The plain types of an access request: entities and operations, validated values (project
//! URL, API-documentation URL, email), schedules, workflows and the request itself.

mod entity;
mod request;
mod schedule;
mod validated;

pub use entity::{Access, Direction, Entity, Operation, UnknownDirection, UnknownEntity};
pub use request::{
    AccessRequest, ApiDocsConfirmation, CommercialPermission, EntityAccess, Integration,
    Mitigations, Platform, ProjectContact, Requester, UnknownWorkflowPurpose, UploadProfile,
    Workflow, WorkflowPurpose,
};
pub use schedule::{MINUTES_PER_DAY, SyncWindow, TimeError, TimeOfDay, Trigger};
pub use validated::{
    ApiDocsUrl, Email, EmailError, MAX_PROJECT_ID_LEN, ProjectUrl, TENANT_DOMAIN, UrlError,
    is_project_id,
};
