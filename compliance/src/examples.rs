//! Example requests: Bentley's own example, a Power BI dashboard, a mobile progress app.
//!
//! The rules' tests use them, and the service uses [`bentley_example`] as the sample context
//! against which it validates its document templates at start-up.

use std::num::NonZeroU32;

use chrono::{TimeZone, Utc};

use crate::model::{
    AccessRequest, ApiDocsConfirmation, ApiDocsUrl, CommercialPermission, Direction, Email, Entity,
    EntityAccess, Integration, Mitigations, Operation, Platform, ProjectContact, ProjectUrl,
    Requester, SyncWindow, TimeOfDay, Trigger, UploadProfile, Workflow, WorkflowPurpose,
};

pub(crate) const MIB: u64 = 1024 * 1024;

pub(crate) fn project(id: &str) -> ProjectUrl {
    ProjectUrl::parse(&format!("https://acme.e7.site/projects/{id}")).expect("a valid fixture URL")
}

pub(crate) fn access(entity: Entity, operations: &[Operation]) -> EntityAccess {
    EntityAccess {
        entity,
        operations: operations.to_vec(),
    }
}

pub(crate) fn every_minutes(minutes: u32) -> Trigger {
    Trigger::Interval {
        every_minutes: NonZeroU32::new(minutes).unwrap_or(NonZeroU32::MIN),
    }
}

pub(crate) fn daily_at(times: &[&str]) -> Trigger {
    Trigger::Daily {
        at: times
            .iter()
            .map(|t| TimeOfDay::parse(t).expect("a valid fixture time"))
            .collect(),
    }
}

pub(crate) fn window(text: &str) -> SyncWindow {
    SyncWindow::parse(text).expect("a valid fixture window")
}

/// A request with every confirmation present and no workflow yet.
pub fn confirmed_request(purpose: &str) -> AccessRequest {
    AccessRequest {
        project_urls: vec![project("1")],
        requester: Requester {
            name: "Jane Doe".to_owned(),
            email: Some(Email::parse("jane.doe@acme-construction.com").expect("valid")),
            organisation: "Acme Construction".to_owned(),
        },
        project_contact: ProjectContact {
            name: "Joe Bloggs".to_owned(),
            role: "Commercial Manager".to_owned(),
            email: Some(Email::parse("joe.bloggs@acme-construction.com").expect("valid")),
        },
        commercial_permission: CommercialPermission {
            confirmed: true,
            confirmed_by: Some("Mary Major, Commercial Director".to_owned()),
            confirmed_at: Utc.with_ymd_and_hms(2026, 3, 2, 9, 30, 0).single(),
        },
        api_documentation: ApiDocsConfirmation {
            reviewed: true,
            url: Some(ApiDocsUrl::parse("https://acme.e7.site/api").expect("valid")),
        },
        integration: Integration {
            name: "Project controls integration".to_owned(),
            purpose: purpose.to_owned(),
        },
        platforms: vec![],
        mitigations: Mitigations {
            caching: true,
            backoff: true,
            off_peak_scheduling: true,
            incremental_sync: true,
        },
        workflows: vec![],
    }
}

/// Bentley's own example: daily schedule loads from several sites with all tasks, budgets and
/// resources, and high-resolution uploads from a document-control system to activities.
pub fn bentley_example() -> AccessRequest {
    let crud = [Operation::Read, Operation::Create, Operation::Update];
    AccessRequest {
        platforms: vec![Platform::Azure, Platform::Erp, Platform::Sap, Platform::Jde],
        workflows: vec![
            Workflow {
                name: "Daily schedule load".to_owned(),
                description: "Loads the schedules of every site from SAP and JDE each night: \
                              all tasks as activities with their budgets, and the people, \
                              equipment and materials assigned to them."
                    .to_owned(),
                direction: Direction::TwoWay,
                entities: vec![
                    access(Entity::Activity, &crud),
                    access(Entity::Person, &crud),
                    access(Entity::Equipment, &crud),
                    access(Entity::OtherResource, &crud),
                    access(Entity::ResourceAssignment, &crud),
                ],
                trigger: Some(daily_at(&["02:00"])),
                records_per_run: Some(20_000),
                uploads: None,
                sync_window: Some(window("01:00-05:00")),
                purpose: WorkflowPurpose::Integration,
            },
            Workflow {
                name: "Document-control uploads".to_owned(),
                description: "Uploads the high-resolution drawings and photographs approved in \
                              the document-control system to the timeline of their activities."
                    .to_owned(),
                direction: Direction::Write,
                entities: vec![access(Entity::Activity, &[Operation::Upload])],
                trigger: Some(daily_at(&["03:00"])),
                records_per_run: Some(400),
                uploads: Some(UploadProfile {
                    files_per_run: 400,
                    average_bytes: 40 * MIB,
                    max_bytes: 500 * MIB,
                }),
                sync_window: Some(window("01:00-05:00")),
                purpose: WorkflowPurpose::Integration,
            },
        ],
        ..confirmed_request(
            "We have a large project where large schedules from multiple sites are loaded every \
             day, with all tasks, budgets and resources, and high-resolution documents are \
             uploaded from our document-control system to activities.",
        )
    }
}

/// A Power BI dashboard that reads all resource usages every hour.
pub fn power_bi_dashboard() -> AccessRequest {
    AccessRequest {
        platforms: vec![Platform::Azure, Platform::Other("Power BI".to_owned())],
        workflows: vec![Workflow {
            name: "Labour hours dashboard".to_owned(),
            description: "Refreshes a Power BI dashboard of labour hours by company, work role \
                          and activity from all resource usages of the project."
                .to_owned(),
            direction: Direction::Read,
            entities: vec![access(Entity::ResourceUsage, &[Operation::Read])],
            trigger: Some(every_minutes(60)),
            records_per_run: Some(50_000),
            uploads: None,
            sync_window: None,
            purpose: WorkflowPurpose::Analytics,
        }],
        ..confirmed_request(
            "Gives the project's managers an hourly Power BI view of labour hours and costs \
             across companies and work roles.",
        )
    }
}

/// A mobile app with which supervisors record progress on activities.
pub fn mobile_progress_app() -> AccessRequest {
    AccessRequest {
        platforms: vec![Platform::Other("iOS and Android app".to_owned())],
        workflows: vec![Workflow {
            name: "Site progress updates".to_owned(),
            description: "A supervisor opens an activity on site, records percent complete \
                          and the app sends a progress entry and updates the activity."
                .to_owned(),
            direction: Direction::TwoWay,
            entities: vec![
                access(Entity::Activity, &[Operation::Read, Operation::Update]),
                access(Entity::ProgressEntry, &[Operation::Create]),
            ],
            trigger: Some(Trigger::OnDemand {
                expected_per_day: 200,
            }),
            records_per_run: Some(5),
            uploads: None,
            sync_window: None,
            purpose: WorkflowPurpose::Integration,
        }],
        ..confirmed_request(
            "Lets site supervisors record the progress of their activities from a phone, so \
             that the programme in SYNCHRO Perform is current every evening.",
        )
    }
}
