//! Seeded generation of a tenant's projects.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::rng::{Rng64, Scramble62, hash, round_to};
use super::usages::{PoolResource, UsageGen, midnight};
use super::{ProjectData, UsageStore};
use crate::config::{DataSize, SizeCounts};
use crate::model::*;

/// Which collection an id belongs to (part of the id's v5 name).
#[derive(Debug, Clone, Copy)]
#[repr(u8)]
pub(crate) enum IdKind {
    Project = 1,
    Activity,
    Event,
    Person,
    Equipment,
    OtherResource,
    Assignment,
    Company,
    WorkRole,
    UsageCode,
    RateCode,
    ApplicableRate,
    Attendance,
    Docket,
    Competency,
    Progress,
    Attachment,
    Created,
}

/// Derives the deterministic ids of a tenant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ids {
    namespace: Uuid,
}

impl Ids {
    pub(crate) fn new(seed: u64) -> Self {
        Ids {
            namespace: Uuid::new_v5(&Uuid::NAMESPACE_OID, &seed.to_be_bytes()),
        }
    }

    /// The id of item `index` of a collection of project `project`.
    pub(crate) fn id(&self, kind: IdKind, project: usize, index: u64) -> Uuid {
        let mut name = [0u8; 17];
        name[0] = kind as u8;
        name[1..9].copy_from_slice(&(project as u64).to_be_bytes());
        name[9..17].copy_from_slice(&index.to_be_bytes());
        Uuid::new_v5(&self.namespace, &name)
    }
}

const PROJECTS: [(&str, &str, f64, f64); 5] = [
    (
        "Riverside Hospital Extension",
        "Leeds, UK",
        53.8008,
        -1.5491,
    ),
    (
        "Northern Line Viaduct Renewal",
        "Manchester, UK",
        53.4808,
        -2.2426,
    ),
    (
        "Harbour Quay Residential Tower",
        "Bristol, UK",
        51.4545,
        -2.5879,
    ),
    ("Westgate Data Centre", "Slough, UK", 51.5105, -0.5950),
    (
        "Eastfield Water Treatment Works",
        "Norwich, UK",
        52.6309,
        1.2974,
    ),
];

const GIVEN: [&str; 32] = [
    "James", "Olivia", "Mohammed", "Amelia", "Jack", "Isla", "Harry", "Ava", "George", "Emily",
    "Noah", "Sophia", "Leo", "Grace", "Oscar", "Freya", "Arthur", "Lily", "Charlie", "Mia",
    "Thomas", "Ella", "Liam", "Chloe", "Ryan", "Aoife", "Daniel", "Priya", "Tomasz", "Ana",
    "Kwame", "Zofia",
];
const FAMILY: [&str; 32] = [
    "Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Evans", "Wilson", "Thomas",
    "Roberts", "Johnson", "Lewis", "Walker", "Robinson", "Wood", "Thompson", "White", "Watson",
    "Jackson", "Wright", "Green", "Harris", "Cooper", "King", "Lee", "Martin", "Clarke", "Patel",
    "Nowak", "Murphy", "Kowalski", "Mensah",
];
const COMPANY_NAMES: [&str; 30] = [
    "Northgate Construction Ltd",
    "Apex Groundworks",
    "Keystone Formwork",
    "Brightline Electrical",
    "Castle Steelfixing",
    "Meridian Plant Hire",
    "Summit Scaffolding",
    "Riverbank Civils",
    "Ironbridge Structures",
    "Clearwater Drainage",
    "Oakfield Joinery",
    "Beacon Mechanical",
    "Granite Concrete Pumping",
    "Harbour Cranes",
    "Crestline Roofing",
    "Vanguard Surveying",
    "Redwood Dryline",
    "Pinnacle Glazing",
    "Stonebridge Masonry",
    "Bluebell Landscapes",
    "Atlas Piling",
    "Sterling Fire Protection",
    "Fenwick Demolition",
    "Lakeside Asphalt",
    "Thornbury Rebar",
    "Quayside Logistics",
    "Elmstead Plastering",
    "Kingfisher M&E",
    "Ashdown Waterproofing",
    "Millbrook Traffic Management",
];
/// (name, category, category type)
const WORK_ROLES: [(&str, &str, &str); 14] = [
    ("Site Manager", "Management", "labour"),
    ("Supervisor", "Management", "labour"),
    ("Carpenter", "Trades", "labour"),
    ("Steel Fixer", "Trades", "labour"),
    ("Electrician", "Trades", "labour"),
    ("Bricklayer", "Trades", "labour"),
    ("Labourer", "General Operatives", "labour"),
    ("Banksman", "General Operatives", "labour"),
    ("Plant Operator", "Plant", "labour"),
    ("Excavator", "Plant", "plant"),
    ("Crane", "Plant", "plant"),
    ("Dumper", "Plant", "plant"),
    ("Concrete", "Materials", "material"),
    ("Aggregates", "Materials", "material"),
];
const LABOUR_ROLES: [u32; 9] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const PLANT_ROLES: [u32; 3] = [9, 10, 11];
const MATERIAL_ROLES: [u32; 2] = [12, 13];
const USAGE_CODES: [(&str, &str, bool); 6] = [
    ("WORK", "Productive work", true),
    ("STANDBY", "Standby", false),
    ("TRAVEL", "Travel", false),
    ("TRAINING", "Training", false),
    ("BREAKDOWN", "Breakdown", false),
    ("WEATHER", "Weather delay", false),
];
const RATE_CODES: [(&str, &str, f64); 4] = [
    ("STD", "Standard", 1.0),
    ("OT1", "Overtime (time and a half)", 1.5),
    ("OT2", "Overtime (double time)", 2.0),
    ("NIGHT", "Night shift", 1.3),
];
const EQUIPMENT_TYPES: [(&str, &str); 8] = [
    ("Excavator", "20t Excavator"),
    ("Crane", "Mobile Crane 50t"),
    ("Dumper", "6t Forward Tipping Dumper"),
    ("Telehandler", "Telehandler 14m"),
    ("Roller", "Twin Drum Roller"),
    ("Generator", "100kVA Generator"),
    ("Pump", "Concrete Pump"),
    ("MEWP", "Scissor Lift"),
];
/// (name, type, uom)
const OTHER_RESOURCES: [(&str, OtherResourceType, &str); 10] = [
    ("Concrete C32/40", OtherResourceType::Material, "m3"),
    ("Rebar B500B", OtherResourceType::Material, "t"),
    ("Type 1 Aggregate", OtherResourceType::Material, "t"),
    ("Formwork Ply", OtherResourceType::Material, "m2"),
    ("Blockwork 140mm", OtherResourceType::Material, "m2"),
    ("Generic Labourer", OtherResourceType::GenericPerson, "h"),
    ("Agency Operative", OtherResourceType::GenericPerson, "h"),
    ("Welfare Unit", OtherResourceType::GenericEquipment, "h"),
    ("Skip 8yd", OtherResourceType::GenericEquipment, "h"),
    ("Tower Light", OtherResourceType::GenericEquipment, "h"),
];
const DISCIPLINES: [&str; 7] = [
    "Civils",
    "Structures",
    "Architectural",
    "Mechanical",
    "Electrical",
    "Drainage",
    "Landscaping",
];
const AREAS: [&str; 8] = [
    "Zone A",
    "Zone B",
    "Zone C",
    "Core 1",
    "Core 2",
    "Basement",
    "Podium",
    "External Works",
];
const WORK: [(&str, &str); 12] = [
    ("Excavate", "m3"),
    ("Pour slab", "m3"),
    ("Fix rebar", "t"),
    ("Erect formwork", "m2"),
    ("Strike formwork", "m2"),
    ("Lay blockwork", "m2"),
    ("Install ductwork", "m"),
    ("Pull cables", "m"),
    ("Lay drainage", "m"),
    ("Backfill", "m3"),
    ("Install windows", "nr"),
    ("Screed floor", "m2"),
];
const TAGS: [&str; 6] = [
    "critical",
    "night-works",
    "client-hold",
    "phase-1",
    "phase-2",
    "temporary-works",
];
const EVENT_TYPES: [&str; 5] = ["Delay", "Variation", "Rework", "Weather", "Access"];
const COMPETENCIES: [&str; 8] = [
    "CSCS Card",
    "CPCS Excavator",
    "IPAF",
    "PASMA",
    "First Aid at Work",
    "SMSTS",
    "Confined Space",
    "Site Induction",
];
const GATES: [&str; 3] = ["Gate A", "Gate B", "North Turnstile"];

/// Generates every project of a tenant.
pub fn generate(seed: u64, size: &DataSize) -> Vec<ProjectData> {
    let counts = size.counts();
    (0..counts.projects)
        .map(|p| generate_project(seed, p, &counts))
        .collect()
}

fn at(date: NaiveDate, minutes: i64) -> DateTime<Utc> {
    midnight(date) + Duration::minutes(minutes)
}

fn generate_project(seed: u64, p: usize, counts: &SizeCounts) -> ProjectData {
    let ids = Ids::new(seed);
    let pi = p as u64;
    let base = NaiveDate::from_ymd_opt(2025, 1, 6).unwrap_or(NaiveDate::MIN);
    let start = base + Duration::days(21 * p as i64);
    let days = counts.days.max(7);
    let end = start + Duration::days(i64::from(days) - 1);
    let setup = start - Duration::days(30);
    let project_id = ids.id(IdKind::Project, p, 0);
    let rng = |stream: u64, i: u64| Rng64::at(&[seed, stream, pi, i]);

    let (name, location, lat, lon) = PROJECTS[p % PROJECTS.len()];
    let name = if p < PROJECTS.len() {
        name.to_owned()
    } else {
        format!("{name} {}", p + 1)
    };
    let project = Project {
        id: project_id,
        name,
        status_type: if p == 2 {
            ProjectStatus::Training
        } else {
            ProjectStatus::Active
        },
        external_reference: format!("PRJ-{:04}", 1001 + p),
        location: location.to_owned(),
        latitude: lat,
        longitude: lon,
        date_format: "dd/MM/yyyy".to_owned(),
        default_cost_uom: "GBP".to_owned(),
        support_contact: SupportContact {
            name: format!(
                "{} {}",
                GIVEN[p % GIVEN.len()],
                FAMILY[(p * 7) % FAMILY.len()]
            ),
            phone: format!("+44 20 7946 {:04}", 100 + p),
            email: format!("site.office{}@northgate.example", p + 1),
        },
        tags: vec!["gatehouse-sim".to_owned(), format!("region-{}", p % 3 + 1)],
        start_date: start,
        end_date: end,
        created_at: at(setup, 9 * 60),
        updated_at: at(start, 8 * 60),
    };

    // Companies: the first is the main contractor, about two thirds of the rest subcontract.
    let companies: Vec<Company> = (0..counts.companies)
        .map(|i| {
            // The main contractor is always the first name; the others rotate per project.
            let others = COMPANY_NAMES.len() - 1;
            let name = if i == 0 {
                COMPANY_NAMES[0]
            } else {
                COMPANY_NAMES[1 + (i - 1 + p * 3) % others]
            };
            Company {
                id: ids.id(IdKind::Company, p, i as u64),
                project_id,
                name: if i >= COMPANY_NAMES.len() {
                    format!("{name} ({i})")
                } else {
                    name.into()
                },
                supplier_reference: format!("SUP{:05}", 10_000 + i * 37 + p),
                is_subcontractor: i > 0 && i % 3 != 0,
                created_at: at(setup, 10 * 60 + i as i64),
                updated_at: at(setup, 10 * 60 + i as i64),
            }
        })
        .collect();
    let subcontractors: Vec<u32> = (0..companies.len() as u32)
        .filter(|&i| companies[i as usize].is_subcontractor)
        .collect();
    let mut subcontractor_of = vec![None; companies.len()];
    for (position, company) in subcontractors.iter().enumerate() {
        subcontractor_of[*company as usize] = Some(position as u32);
    }
    let pick_company = |r: &mut Rng64, main_share: f64| -> u32 {
        if subcontractors.is_empty() || r.chance(main_share) {
            0
        } else {
            *r.pick(&subcontractors)
        }
    };

    let work_roles: Vec<WorkRole> = WORK_ROLES
        .iter()
        .enumerate()
        .map(|(i, (name, category, kind))| WorkRole {
            id: ids.id(IdKind::WorkRole, p, i as u64),
            project_id,
            name: (*name).into(),
            category: (*category).into(),
            category_type: (*kind).into(),
            created_at: at(setup, 11 * 60),
            updated_at: at(setup, 11 * 60),
        })
        .collect();
    let usage_codes: Vec<UsageCode> = USAGE_CODES
        .iter()
        .enumerate()
        .map(|(i, (code, name, productive))| UsageCode {
            id: ids.id(IdKind::UsageCode, p, i as u64),
            project_id,
            code: (*code).into(),
            name: (*name).into(),
            productive: *productive,
            created_at: at(setup, 11 * 60),
            updated_at: at(setup, 11 * 60),
        })
        .collect();
    let rate_codes: Vec<RateCode> = RATE_CODES
        .iter()
        .enumerate()
        .map(|(i, (code, name, multiplier))| RateCode {
            id: ids.id(IdKind::RateCode, p, i as u64),
            project_id,
            code: (*code).into(),
            name: (*name).into(),
            multiplier: *multiplier,
            created_at: at(setup, 11 * 60),
            updated_at: at(setup, 11 * 60),
        })
        .collect();

    let activities = generate_activities(&ids, seed, p, counts, project_id, start, days);
    let events: Vec<Event> = (0..counts.events)
        .map(|i| {
            let mut r = rng(0xE7, i as u64);
            let day = r.between(0, i64::from(days) - 1);
            let raised_at = at(start + Duration::days(day), r.between(7 * 60, 17 * 60));
            let classified = r.chance(0.7);
            let activity = &activities[r.index(activities.len())];
            let event_type = *r.pick(&EVENT_TYPES);
            Event {
                id: ids.id(IdKind::Event, p, i as u64),
                project_id,
                reference_code: format!("EV-{:04}", i + 1),
                name: format!("{event_type}: {}", activity.name),
                event_type: event_type.into(),
                work_category: activity.work_category.clone(),
                activity_id: activity.id,
                raised_at,
                classified_at: classified.then(|| raised_at + Duration::hours(r.between(2, 72))),
                description: format!(
                    "{event_type} affecting {} in {}",
                    activity.reference_code, activity.location
                ),
                created_at: raised_at,
                updated_at: raised_at + Duration::hours(if classified { 80 } else { 0 }),
            }
        })
        .collect();

    let people: Vec<Person> = (0..counts.people)
        .map(|i| {
            let mut r = rng(0x9E0, i as u64);
            let given = *r.pick(&GIVEN);
            let family = *r.pick(&FAMILY);
            let supervisor = i % 10 == 0;
            let created = at(
                setup + Duration::days(r.between(0, 40)),
                8 * 60 + i as i64 % 600,
            );
            Person {
                id: ids.id(IdKind::Person, p, i as u64),
                given_name: given.into(),
                family_name: family.into(),
                attendance_reference: format!("B{}{:05}", p + 1, i + 1),
                is_supervisor: supervisor,
                supervisor_code: supervisor.then(|| {
                    let initials: String = [given, family]
                        .iter()
                        .filter_map(|s| s.chars().next())
                        .collect();
                    format!("{}{:02}", initials.to_uppercase(), (i / 10) % 100)
                }),
                created_at: created,
                updated_at: created,
            }
        })
        .collect();

    let equipment: Vec<Equipment> = (0..counts.equipment)
        .map(|i| {
            let mut r = rng(0xE0, i as u64);
            let (kind, name) = *r.pick(&EQUIPMENT_TYPES);
            let company = pick_company(&mut r, 0.2);
            let created = at(setup + Duration::days(r.between(0, 40)), 9 * 60);
            Equipment {
                id: ids.id(IdKind::Equipment, p, i as u64),
                project_id,
                name: format!("{name} #{}", i + 1),
                equipment_type: kind.into(),
                identifier: format!("PLT-{}{:04}", p + 1, i + 1),
                company_id: companies[company as usize].id,
                created_at: created,
                updated_at: created,
            }
        })
        .collect();

    let other_resources: Vec<OtherResource> = (0..counts.other_resources)
        .map(|i| {
            let (name, kind, uom) = OTHER_RESOURCES[i % OTHER_RESOURCES.len()];
            let name = if i < OTHER_RESOURCES.len() {
                name.to_owned()
            } else {
                format!("{name} ({})", i / OTHER_RESOURCES.len() + 1)
            };
            OtherResource {
                id: ids.id(IdKind::OtherResource, p, i as u64),
                project_id,
                name,
                resource_type: kind,
                default_uom: uom.into(),
                created_at: at(setup, 12 * 60),
                updated_at: at(setup, 12 * 60),
            }
        })
        .collect();

    // Assignments: one open assignment per resource; a tenth of the people also have an
    // earlier, closed one.
    let mut resource_assignments = Vec::new();
    let mut pool = Vec::new();
    let mut assign = |kind: ResourceKind,
                      position: usize,
                      id: Uuid,
                      company: u32,
                      role: u32,
                      uom: &str,
                      r: &mut Rng64| {
        let index = resource_assignments.len() as u64;
        let open_from = setup + Duration::days(r.between(0, 25));
        if kind == ResourceKind::Person && position % 10 == 3 {
            let closed_from = open_from - Duration::days(200);
            resource_assignments.push(ResourceAssignment {
                id: ids.id(IdKind::Assignment, p, index + 1_000_000),
                project_id,
                resource_id: id,
                resource_type: kind,
                company_id: companies[0].id,
                work_role_id: work_roles[LABOUR_ROLES[6] as usize].id,
                start_date: closed_from,
                end_date: Some(open_from - Duration::days(1)),
                created_at: at(closed_from, 8 * 60),
                updated_at: at(open_from, 8 * 60),
            });
        }
        resource_assignments.push(ResourceAssignment {
            id: ids.id(IdKind::Assignment, p, index),
            project_id,
            resource_id: id,
            resource_type: kind,
            company_id: companies[company as usize].id,
            work_role_id: work_roles[role as usize].id,
            start_date: open_from,
            end_date: None,
            created_at: at(open_from, 8 * 60),
            updated_at: at(open_from, 8 * 60),
        });
        pool.push(PoolResource {
            kind,
            position: position as u32,
            id,
            company,
            work_role: role,
            uom: uom.to_owned(),
        });
    };
    for (i, person) in people.iter().enumerate() {
        let mut r = rng(0xA551, i as u64);
        let company = pick_company(&mut r, 0.4);
        let role = if person.is_supervisor {
            1
        } else {
            *r.pick(&LABOUR_ROLES[2..])
        };
        assign(
            ResourceKind::Person,
            i,
            person.id,
            company,
            role,
            "h",
            &mut r,
        );
    }
    for (i, item) in equipment.iter().enumerate() {
        let mut r = rng(0xA552, i as u64);
        let company = companies
            .iter()
            .position(|c| c.id == item.company_id)
            .unwrap_or(0) as u32;
        let role = *r.pick(&PLANT_ROLES);
        assign(
            ResourceKind::Equipment,
            i,
            item.id,
            company,
            role,
            "h",
            &mut r,
        );
    }
    for (i, item) in other_resources.iter().enumerate() {
        let mut r = rng(0xA553, i as u64);
        let company = pick_company(&mut r, 0.3);
        let role = match item.resource_type {
            OtherResourceType::Material => *r.pick(&MATERIAL_ROLES),
            OtherResourceType::GenericPerson => 6,
            OtherResourceType::GenericEquipment => *r.pick(&PLANT_ROLES),
        };
        assign(
            ResourceKind::OtherResource,
            i,
            item.id,
            company,
            role,
            &item.default_uom,
            &mut r,
        );
    }

    // Applicable rates: standard rate for everything, overtime for people; a fifth of the
    // resources also have a superseded earlier rate.
    let mut applicable_rates = Vec::new();
    for (i, res) in pool.iter().enumerate() {
        let mut r = rng(0x4A7E, i as u64);
        let base = match res.kind {
            ResourceKind::Person => r.float(22.0, 65.0, 2),
            ResourceKind::Equipment => r.float(35.0, 180.0, 2),
            ResourceKind::OtherResource => r.float(8.0, 140.0, 2),
        };
        let from = setup;
        let codes: &[usize] = if res.kind == ResourceKind::Person {
            &[0, 1]
        } else {
            &[0]
        };
        for &code in codes {
            let mut push = |rate: f64, from: NaiveDate, to: Option<NaiveDate>| {
                let n = applicable_rates.len() as u64;
                applicable_rates.push(ApplicableRate {
                    id: ids.id(IdKind::ApplicableRate, p, n),
                    project_id,
                    resource_id: res.id,
                    resource_type: res.kind,
                    rate_code_id: rate_codes[code].id,
                    rate: round_to(rate * RATE_CODES[code].2, 2),
                    uom: res.uom.clone(),
                    effective_from: from,
                    effective_to: to,
                    created_at: at(from, 9 * 60),
                    updated_at: at(to.map_or(from, |t| t + Duration::days(1)), 9 * 60),
                });
            };
            if i % 5 == 2 {
                push(
                    base * 0.95,
                    from - Duration::days(365),
                    Some(from - Duration::days(1)),
                );
            }
            push(base, from, None);
        }
    }

    // Dockets: one per subcontractor and week.
    let weeks = days.div_ceil(7);
    let mut dockets = Vec::with_capacity(subcontractors.len() * weeks as usize);
    for (sub, &company) in subcontractors.iter().enumerate() {
        for week in 0..weeks {
            let index = sub as u64 * u64::from(weeks) + u64::from(week);
            let mut r = rng(0xD0C, index);
            let date = (start + Duration::days(i64::from(week) * 7 + 4)).min(end);
            let progress = f64::from(week) / f64::from(weeks);
            let status = if progress < 0.6 {
                match r.below(10) {
                    0..7 => DocketStatus::Approved,
                    7 => DocketStatus::Rejected,
                    _ => DocketStatus::Received,
                }
            } else if progress < 0.7 && r.chance(0.5) {
                DocketStatus::Received
            } else {
                DocketStatus::Submitted
            };
            let created = at(date, 17 * 60);
            dockets.push(Docket {
                id: ids.id(IdKind::Docket, p, index),
                project_id,
                reference: format!("DKT-{}-{:03}-{:02}", p + 1, company, week + 1),
                docket_date: date,
                company_id: companies[company as usize].id,
                invoice_reference: (status == DocketStatus::Approved)
                    .then(|| format!("INV-{:06}", hash(&[seed, index, 5]) % 1_000_000)),
                purchase_order_reference: Some(format!("PO-{}-{:04}", p + 1, 100 + company)),
                status,
                created_at: created,
                updated_at: if status == DocketStatus::Submitted {
                    created
                } else {
                    created + Duration::hours(r.between(20, 120))
                },
            });
        }
    }
    // Keep dockets ordered by date, as the product lists them; usages address them by
    // (subcontractor, week) so remember the ids in that order first.
    let docket_ids: Vec<Uuid> = dockets.iter().map(|d| d.id).collect();
    dockets.sort_by_key(|d| (d.docket_date, d.reference.clone()));

    let attendance = generate_attendance(&ids, seed, p, counts, &project, &people, &pool, days);

    let competencies: Vec<Competency> = people
        .iter()
        .enumerate()
        .flat_map(|(i, person)| {
            let mut r = rng(0xC0, i as u64);
            let n = 1 + r.below(3) as usize;
            (0..n)
                .map(|k| {
                    let issued = start - Duration::days(r.between(30, 1500));
                    let expires = issued + Duration::days(r.between(365, 1825));
                    let index = i as u64 * 4 + k as u64;
                    Competency {
                        id: ids.id(IdKind::Competency, p, index),
                        project_id,
                        person_id: person.id,
                        name: COMPETENCIES[(i + k * 3) % COMPETENCIES.len()].into(),
                        issued_on: issued,
                        expires_on: expires,
                        blocks_access: k == 0,
                        created_at: at(issued.max(setup), 10 * 60),
                        updated_at: at(issued.max(setup), 10 * 60),
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect();

    let progress_entries = generate_progress(&ids, seed, p, counts, project_id, &activities, start);

    let attachments: Vec<Attachment> = (0..counts.attachments)
        .map(|i| {
            let mut r = rng(0xA77, i as u64);
            let on_event = !events.is_empty() && i % 4 == 3;
            let (parent_type, parent_id) = if on_event {
                (AttachmentParent::Event, events[r.index(events.len())].id)
            } else {
                (
                    AttachmentParent::Activity,
                    activities[r.index(activities.len())].id,
                )
            };
            let photo = r.chance(0.6);
            let created = at(
                start + Duration::days(r.between(0, i64::from(days) - 1)),
                12 * 60,
            );
            Attachment {
                id: ids.id(IdKind::Attachment, p, i as u64),
                project_id,
                parent_type,
                parent_id,
                file_name: if photo {
                    format!("IMG_{:04}.jpg", 1000 + i)
                } else {
                    format!("drawing-{:03}-rev{}.pdf", i + 1, r.below(4))
                },
                content_type: if photo {
                    "image/jpeg"
                } else {
                    "application/pdf"
                }
                .into(),
                size_bytes: r.below(8_000_000) + 40_000,
                sha256: None,
                author: format!("{} {}", r.pick(&GIVEN), r.pick(&FAMILY)),
                created_at: created,
                updated_at: created,
            }
        })
        .collect();

    let people_n = people.len() as u32;
    let equipment_n = equipment.len() as u32;
    let others_n = other_resources.len() as u32;
    let bookable: Vec<u32> = activities
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.non_bookable)
        .map(|(i, _)| i as u32)
        .collect();
    let generator = UsageGen {
        seed,
        project_index: pi,
        project_id,
        rows: counts.usages,
        days,
        start,
        id_high: (hash(&[seed, pi, 0x1D]) & !0xF000) | 0x8000,
        scramble: Scramble62::new(hash(&[seed, pi, 0x5C])),
        resources: pool,
        people: people_n,
        equipment: equipment_n,
        others: others_n,
        activities: bookable,
        activity_ids: activities.iter().map(|a| a.id).collect(),
        event_ids: events.iter().map(|e| e.id).collect(),
        usage_code_ids: usage_codes.iter().map(|u| u.id).collect(),
        rate_code_ids: rate_codes.iter().map(|r| r.id).collect(),
        company_ids: companies.iter().map(|c| c.id).collect(),
        subcontractor_of,
        work_role_ids: work_roles.iter().map(|w| w.id).collect(),
        weeks,
        docket_ids,
    };

    ProjectData {
        index: p,
        project: Arc::new(project),
        activities: Arc::new(activities),
        events: Arc::new(events),
        people: Arc::new(people),
        equipment: Arc::new(equipment),
        other_resources: Arc::new(other_resources),
        resource_assignments: Arc::new(resource_assignments),
        companies: Arc::new(companies),
        work_roles: Arc::new(work_roles),
        usage_codes: Arc::new(usage_codes),
        rate_codes: Arc::new(rate_codes),
        applicable_rates: Arc::new(applicable_rates),
        attendance: Arc::new(attendance),
        dockets: Arc::new(dockets),
        competencies: Arc::new(competencies),
        progress_entries: Arc::new(progress_entries),
        attachments: Arc::new(attachments),
        usages: UsageStore {
            generator: Arc::new(generator),
            deleted: Arc::new(BTreeSet::new()),
            created: Arc::new(Vec::new()),
        },
        version: 0,
    }
}

fn generate_activities(
    ids: &Ids,
    seed: u64,
    p: usize,
    counts: &SizeCounts,
    project_id: Uuid,
    start: NaiveDate,
    days: u32,
) -> Vec<Activity> {
    let status_day = i64::from(days) * 6 / 10;
    let status_date = start + Duration::days(status_day);
    let n = counts.activities.max(1);
    (0..n)
        .map(|i| {
            let mut r = Rng64::at(&[seed, 0xAC7, p as u64, i as u64]);
            let (verb, uom) = *r.pick(&WORK);
            let area = AREAS[(i / 25) % AREAS.len()];
            let discipline = *r.pick(&DISCIPLINES);
            // Activities are spread along the programme in WBS order.
            let centre = (i as i64 * i64::from(days)) / n as i64;
            let duration = r.between(3, 45);
            let current_start = start + Duration::days((centre - duration / 2).max(-20));
            let current_finish = current_start + Duration::days(duration);
            let slip = r.between(-5, 10);
            let zero_budget = i % 20 == 7;
            let quantity = if zero_budget {
                0.0
            } else {
                r.float(5.0, 2_500.0, 1)
            };
            let labour = if zero_budget {
                0.0
            } else {
                r.float(16.0, 1_800.0, 1)
            };
            let cost = if zero_budget {
                0.0
            } else {
                round_to(labour * r.float(35.0, 80.0, 2), 2)
            };
            let figures = |factor: f64| BudgetFigures {
                labour_hours: round_to(labour * factor, 1),
                quantity: round_to(quantity * factor, 1),
                cost: round_to(cost * factor, 2),
            };
            let started = current_start <= status_date;
            let finished = current_finish < status_date;
            let with_time = |d: NaiveDate, r: &mut Rng64| DateWithTime {
                date: d,
                time: r
                    .chance(0.5)
                    .then(|| chrono::NaiveTime::from_hms_opt(7 + r.below(3) as u32, 0, 0))
                    .flatten(),
            };
            let actual_start = started.then(|| with_time(current_start, &mut r));
            let actual_finish = finished.then(|| with_time(current_finish, &mut r));
            let percent = if finished {
                100.0
            } else if started {
                let done = (status_date - current_start).num_days() as f64;
                round_to((done / duration as f64 * 100.0).clamp(0.0, 99.0), 1)
            } else {
                0.0
            };
            let methods = [
                EarnedValueMethod::Percentage,
                EarnedValueMethod::QuantityProgress,
                EarnedValueMethod::TaggedItemLabour,
                EarnedValueMethod::TaggedItemQuantity,
            ];
            let method = if r.chance(0.6) {
                methods[0]
            } else {
                *r.pick(&methods)
            };
            let tags: Vec<String> = TAGS
                .iter()
                .enumerate()
                .filter(|(k, _)| hash(&[seed, p as u64, i as u64, *k as u64]).is_multiple_of(7))
                .map(|(_, t)| (*t).to_owned())
                .collect();
            let created = midnight(start - Duration::days(28)) + Duration::minutes(i as i64);
            let updated = if started {
                midnight(current_start.min(status_date)) + Duration::hours(18)
            } else {
                created
            };
            Activity {
                id: ids.id(IdKind::Activity, p, i as u64),
                project_id,
                reference_code: format!("A{:05}", (i + 1) * 10),
                name: format!("{verb} - {area} - {:03}", i % 1000 + 1),
                wbs_code: format!("{}.{}.{}", p + 1, (i / 25) % AREAS.len() + 1, i % 25 + 1),
                quantity_uom: uom.into(),
                work_category: format!("{discipline} works"),
                discipline: discipline.into(),
                location: area.into(),
                job_number: format!("J{}-{:03}", p + 1, i / 100 + 1),
                cost_code: format!("CC-{:02}-{:03}", i % 17 + 1, (i * 7) % 997),
                budget_at_complete: BudgetAtComplete {
                    original: figures(1.0),
                    revised: figures(1.05),
                    current_estimate: figures(1.1),
                },
                planned: PlannedDates {
                    original_start: Some(current_start - Duration::days(slip.max(0))),
                    original_finish: Some(current_finish - Duration::days(slip.max(0))),
                    revised_start: (slip != 0).then_some(current_start),
                    revised_finish: (slip != 0).then_some(current_finish),
                    current_start,
                    current_finish,
                },
                actual_start,
                actual_finish,
                expected_start: (!started).then(|| DateWithTime {
                    date: current_start + Duration::days(slip.max(0)),
                    time: None,
                }),
                expected_finish: (!finished).then(|| DateWithTime {
                    date: current_finish + Duration::days(slip.max(0)),
                    time: None,
                }),
                float_days: r.between(0, 30) as i32,
                earned_value_method: method,
                percent_complete: percent,
                exclude_from_mobile: i % 50 == 11,
                bookable_for_all: i % 9 == 0,
                non_bookable: i % 97 == 13,
                tags,
                created_at: created,
                updated_at: updated,
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn generate_attendance(
    ids: &Ids,
    seed: u64,
    p: usize,
    counts: &SizeCounts,
    project: &Project,
    people: &[Person],
    pool: &[PoolResource],
    days: u32,
) -> Vec<Attendance> {
    if people.is_empty() {
        return Vec::new();
    }
    let n = counts.attendance as u64;
    (0..n)
        .map(|k| {
            let mut r = Rng64::at(&[seed, 0xA77E, p as u64, k]);
            let day = (u128::from(k) * u128::from(days) / u128::from(n.max(1))) as i64;
            let date = project.start_date + Duration::days(day);
            let person_index = r.index(people.len());
            let person = &people[person_index];
            let res = &pool[person_index];
            let start_at = at(date, 6 * 60 + r.between(0, 120));
            let last_day = day == i64::from(days) - 1;
            let on_site = last_day && r.chance(0.3);
            let minutes = r.between(6 * 60, 11 * 60) as u32;
            let end_at = (!on_site).then(|| start_at + Duration::minutes(i64::from(minutes)));
            let jitter = |r: &mut Rng64| r.float(-0.0015, 0.0015, 6);
            let gate = (*r.pick(&GATES)).to_owned();
            Attendance {
                id: ids.id(IdKind::Attendance, p, k),
                project_id: project.id,
                person_id: person.id,
                company_id: ids.id(IdKind::Company, p, u64::from(res.company)),
                work_role_id: ids.id(IdKind::WorkRole, p, u64::from(res.work_role)),
                work_date: date,
                start_at,
                end_at,
                start_area: gate.clone(),
                end_area: (!on_site).then_some(gate),
                start_latitude: round_to(project.latitude + jitter(&mut r), 6),
                start_longitude: round_to(project.longitude + jitter(&mut r), 6),
                end_latitude: (!on_site).then(|| round_to(project.latitude + jitter(&mut r), 6)),
                end_longitude: (!on_site).then(|| round_to(project.longitude + jitter(&mut r), 6)),
                comment: (k % 23 == 0).then(|| "Signed in by supervisor".to_owned()),
                time_zone: "UTC".into(),
                duration_minutes: (!on_site).then_some(minutes),
                created_at: start_at,
                updated_at: end_at.unwrap_or(start_at),
            }
        })
        .collect()
}

fn generate_progress(
    ids: &Ids,
    seed: u64,
    p: usize,
    counts: &SizeCounts,
    project_id: Uuid,
    activities: &[Activity],
    start: NaiveDate,
) -> Vec<ProgressEntry> {
    let started: Vec<&Activity> = activities
        .iter()
        .filter(|a| a.actual_start.is_some() && !a.has_zero_budget())
        .collect();
    if started.is_empty() {
        return Vec::new();
    }
    let mut entries: Vec<ProgressEntry> = (0..counts.progress_entries)
        .map(|k| {
            let mut r = Rng64::at(&[seed, 0x960, p as u64, k as u64]);
            let activity = started[r.index(started.len())];
            let begin = activity.actual_start.map_or(start, |d| d.date);
            let finish = activity
                .actual_finish
                .map_or(begin + Duration::days(20), |d| d.date);
            let span = (finish - begin).num_days().max(0);
            let date = begin + Duration::days(r.between(0, span));
            let budget = activity.budget_at_complete.current_estimate.quantity;
            let (percent, delta, to_date) = match activity.earned_value_method {
                EarnedValueMethod::QuantityProgress if r.chance(0.5) => {
                    (None, Some(r.float(0.5, (budget / 10.0).max(1.0), 1)), None)
                }
                EarnedValueMethod::QuantityProgress => {
                    (None, None, Some(r.float(0.0, budget.max(1.0), 1)))
                }
                _ => (Some(r.float(1.0, 100.0, 1)), None, None),
            };
            let created = at(date, 17 * 60 + r.between(0, 180));
            ProgressEntry {
                id: ids.id(IdKind::Progress, p, k as u64),
                project_id,
                activity_id: activity.id,
                progress_date: date,
                percent_complete: percent,
                quantity_delta: delta,
                quantity_to_date: to_date,
                created_at: created,
                updated_at: created,
            }
        })
        .collect();
    entries.sort_by_key(|e| (e.progress_date, e.created_at, e.id));
    entries
}
