//! The tenant's data: seeded collections, the lazy usage generator and the write overlay.
//!
//! Every collection except resource usages is generated once at start-up and held in an
//! `Arc<Vec<_>>`; writes go through `Arc::make_mut`, so a dataclip snapshot (a clone of
//! [`ProjectData`]) costs a few reference counts and stays unchanged while the live data moves
//! on. Resource usages are never materialised: row `i` of a project is a pure function of
//! `(seed, project, i)` ([`usages::UsageGen`]), ordered by work date, and writes live in a small
//! overlay (created rows and a set of deleted indices).

pub mod rng;
pub mod seed;
pub mod snapshot;
pub mod usages;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::model::{
    Activity, ApplicableRate, Attachment, Attendance, Company, Competency, Docket, Equipment,
    Event, OtherResource, Person, ProgressEntry, Project, RateCode, ResourceAssignment,
    ResourceUsage, UsageCode, WorkRole,
};

pub use usages::{UsageCore, UsageGen};

/// Name and id of a seeded project.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProjectInfo {
    /// Project id.
    pub id: Uuid,
    /// Project name.
    pub name: String,
}

/// All data of one project. Cloning is cheap (reference counts only).
#[derive(Debug, Clone)]
pub struct ProjectData {
    /// 0-based position of the project in the tenant.
    pub index: usize,
    /// The project record.
    pub project: Arc<Project>,
    /// Activities.
    pub activities: Arc<Vec<Activity>>,
    /// Events.
    pub events: Arc<Vec<Event>>,
    /// People assigned to the project.
    pub people: Arc<Vec<Person>>,
    /// Equipment.
    pub equipment: Arc<Vec<Equipment>>,
    /// Other resources.
    pub other_resources: Arc<Vec<OtherResource>>,
    /// Resource assignments.
    pub resource_assignments: Arc<Vec<ResourceAssignment>>,
    /// Companies.
    pub companies: Arc<Vec<Company>>,
    /// Work roles.
    pub work_roles: Arc<Vec<WorkRole>>,
    /// Usage codes.
    pub usage_codes: Arc<Vec<UsageCode>>,
    /// Rate codes.
    pub rate_codes: Arc<Vec<RateCode>>,
    /// Applicable rates.
    pub applicable_rates: Arc<Vec<ApplicableRate>>,
    /// Attendance, ordered by work date.
    pub attendance: Arc<Vec<Attendance>>,
    /// Dockets, ordered by docket date.
    pub dockets: Arc<Vec<Docket>>,
    /// Competencies.
    pub competencies: Arc<Vec<Competency>>,
    /// Progress entries, ordered by progress date (created ones appended).
    pub progress_entries: Arc<Vec<ProgressEntry>>,
    /// Attachments.
    pub attachments: Arc<Vec<Attachment>>,
    /// Resource usages: generator plus overlay.
    pub usages: UsageStore,
    /// Bumped on every write (part of dataclip ETags).
    pub version: u64,
}

/// Resource usages of a project: generated rows plus the writes made since start.
#[derive(Debug, Clone)]
pub struct UsageStore {
    /// The generator of the seeded rows.
    pub generator: Arc<UsageGen>,
    /// Indices of deleted seeded rows.
    pub deleted: Arc<BTreeSet<u64>>,
    /// Rows created through the API, in creation order.
    pub created: Arc<Vec<ResourceUsage>>,
}

impl UsageStore {
    /// Number of seeded rows (deleted ones included).
    pub fn seeded_len(&self) -> u64 {
        self.generator.len()
    }

    /// Looks a usage up by id (seeded or created, not deleted).
    pub fn get(&self, id: Uuid) -> Option<ResourceUsage> {
        if let Some(index) = self.generator.index_of(id) {
            if self.deleted.contains(&index) {
                return None;
            }
            return self.generator.row(index);
        }
        self.created.iter().find(|u| u.id == id).cloned()
    }
}

impl ProjectData {
    /// The project's name and id.
    pub fn info(&self) -> ProjectInfo {
        ProjectInfo {
            id: self.project.id,
            name: self.project.name.clone(),
        }
    }

    /// First day of the seeded data.
    pub fn start_date(&self) -> NaiveDate {
        self.project.start_date
    }

    /// Name, kind and identifier of a resource of this project.
    pub fn resource_label(&self, id: Uuid) -> Option<ResourceLabel> {
        use crate::model::ResourceKind;
        if let Some(p) = self.people.iter().find(|p| p.id == id) {
            return Some(ResourceLabel {
                kind: ResourceKind::Person,
                name: format!("{} {}", p.given_name, p.family_name),
                identifier: p.attendance_reference.clone(),
            });
        }
        if let Some(e) = self.equipment.iter().find(|e| e.id == id) {
            return Some(ResourceLabel {
                kind: ResourceKind::Equipment,
                name: e.name.clone(),
                identifier: e.identifier.clone(),
            });
        }
        self.other_resources
            .iter()
            .find(|o| o.id == id)
            .map(|o| ResourceLabel {
                kind: ResourceKind::OtherResource,
                name: o.name.clone(),
                identifier: String::new(),
            })
    }
}

/// What an export shows of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceLabel {
    /// Kind of resource.
    pub kind: crate::model::ResourceKind,
    /// Display name.
    pub name: String,
    /// Identifier (badge for people, fleet number for equipment).
    pub identifier: String,
}
