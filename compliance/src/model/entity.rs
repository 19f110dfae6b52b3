//! The SYNCHRO Perform entities Gatehouse knows, and what a workflow does to them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A SYNCHRO Perform entity (a collection of the REST API or a column set of a dataclip).
///
/// The string form (`as_str`, `Display`, serde) is snake_case and stable: it is stored in
/// requests, scopes and the usage ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A project inside a tenant.
    Project,
    /// Planned work (a work reference).
    Activity,
    /// Unplanned work or a delay, related to one activity.
    Event,
    /// An instance-wide person.
    Person,
    /// A project-scoped piece of equipment.
    Equipment,
    /// Project-scoped materials and generic resources.
    OtherResource,
    /// A resource tied to a project, company and work role over a date range.
    ResourceAssignment,
    /// Time and usage booked by a resource against a work reference (a heavy collection).
    ResourceUsage,
    /// A person's attendance on site (a heavy collection).
    Attendance,
    /// One supplying company's usages grouped for approval.
    Docket,
    /// A file on a timeline (of an activity, event, ...).
    Attachment,
    /// A progress entry of an activity.
    ProgressEntry,
    /// A company.
    Company,
    /// A work role.
    WorkRole,
    /// A usage code.
    UsageCode,
    /// A rate code.
    RateCode,
    /// A rate applied to a resource over a period.
    ApplicableRate,
    /// A person's competency.
    Competency,
}

impl Entity {
    /// Every entity, in declaration order.
    pub const ALL: [Entity; 18] = [
        Entity::Project,
        Entity::Activity,
        Entity::Event,
        Entity::Person,
        Entity::Equipment,
        Entity::OtherResource,
        Entity::ResourceAssignment,
        Entity::ResourceUsage,
        Entity::Attendance,
        Entity::Docket,
        Entity::Attachment,
        Entity::ProgressEntry,
        Entity::Company,
        Entity::WorkRole,
        Entity::UsageCode,
        Entity::RateCode,
        Entity::ApplicableRate,
        Entity::Competency,
    ];

    /// The stable snake_case name (the same as the serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Project => "project",
            Entity::Activity => "activity",
            Entity::Event => "event",
            Entity::Person => "person",
            Entity::Equipment => "equipment",
            Entity::OtherResource => "other_resource",
            Entity::ResourceAssignment => "resource_assignment",
            Entity::ResourceUsage => "resource_usage",
            Entity::Attendance => "attendance",
            Entity::Docket => "docket",
            Entity::Attachment => "attachment",
            Entity::ProgressEntry => "progress_entry",
            Entity::Company => "company",
            Entity::WorkRole => "work_role",
            Entity::UsageCode => "usage_code",
            Entity::RateCode => "rate_code",
            Entity::ApplicableRate => "applicable_rate",
            Entity::Competency => "competency",
        }
    }

    /// A plural phrase for messages read by people ("resource usages").
    pub fn label(self) -> &'static str {
        match self {
            Entity::Project => "projects",
            Entity::Activity => "activities",
            Entity::Event => "events",
            Entity::Person => "people",
            Entity::Equipment => "equipment",
            Entity::OtherResource => "other resources",
            Entity::ResourceAssignment => "resource assignments",
            Entity::ResourceUsage => "resource usages",
            Entity::Attendance => "attendance records",
            Entity::Docket => "dockets",
            Entity::Attachment => "attachments",
            Entity::ProgressEntry => "progress entries",
            Entity::Company => "companies",
            Entity::WorkRole => "work roles",
            Entity::UsageCode => "usage codes",
            Entity::RateCode => "rate codes",
            Entity::ApplicableRate => "applicable rates",
            Entity::Competency => "competencies",
        }
    }

    /// Whether the collection grows with every day on site (usages, attendance) and so is the
    /// one whose frequent polling degrades a project for its users.
    pub fn is_heavy(self) -> bool {
        matches!(self, Entity::ResourceUsage | Entity::Attendance)
    }

    /// Whether the upstream filters the collection by a `from`/`to` date window.
    pub fn is_dated(self) -> bool {
        matches!(
            self,
            Entity::ResourceUsage | Entity::Attendance | Entity::Docket | Entity::ProgressEntry
        )
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown entity name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown entity `{0}`")]
pub struct UnknownEntity(pub String);

impl FromStr for Entity {
    type Err = UnknownEntity;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Entity::ALL
            .into_iter()
            .find(|entity| entity.as_str() == s)
            .ok_or_else(|| UnknownEntity(s.to_owned()))
    }
}

/// What a workflow (or an observed call) does to an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Reads records.
    Read,
    /// Creates records.
    Create,
    /// Updates records.
    Update,
    /// Deletes records.
    Delete,
    /// Uploads files (attachments) to records.
    Upload,
}

impl Operation {
    /// Every operation, in declaration order.
    pub const ALL: [Operation; 5] = [
        Operation::Read,
        Operation::Create,
        Operation::Update,
        Operation::Delete,
        Operation::Upload,
    ];

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Upload => "upload",
        }
    }

    /// Whether the operation changes data upstream.
    pub fn is_write(self) -> bool {
        !matches!(self, Operation::Read)
    }

    /// The access an operation needs.
    pub fn access(self) -> Access {
        if self.is_write() {
            Access::Write
        } else {
            Access::Read
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The access a scope grants on an entity. `Write` includes `Read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Reading only.
    Read,
    /// Reading and changing.
    Write,
}

impl Access {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }

    /// Whether holding `self` allows an operation that needs `needed`.
    pub fn permits(self, needed: Access) -> bool {
        self >= needed
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The direction of data of a workflow, as Bentley's reviewers read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Data flows from SYNCHRO Perform to the integration.
    Read,
    /// Data flows from the integration into SYNCHRO Perform.
    Write,
    /// Both.
    TwoWay,
}

impl Direction {
    /// Every direction, in declaration order.
    pub const ALL: [Direction; 3] = [Direction::Read, Direction::Write, Direction::TwoWay];

    /// The stable snake_case name (the same as the serde form, and the value the request form
    /// posts); [`FromStr`] parses it back.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Read => "read",
            Direction::Write => "write",
            Direction::TwoWay => "two_way",
        }
    }

    /// The short label web pages show: `read`, `write`, `two-way`.
    ///
    /// A direction has two human forms on purpose. The web pages (the assessment panel, a
    /// workflow's summary) show this bare word next to the entities and operations that say
    /// what moves. The drafts sent to Bentley use [`Direction::phrase`], which names SYNCHRO
    /// Perform, because a reviewer reads that line on its own. Both are the server's exact
    /// wording: changing either changes pages or draft snapshots.
    pub fn label(self) -> &'static str {
        match self {
            Direction::Read => "read",
            Direction::Write => "write",
            Direction::TwoWay => "two-way",
        }
    }

    /// The phrase of the drafts sent to Bentley: `read from SYNCHRO Perform`,
    /// `write to SYNCHRO Perform`, `two-way` (see [`Direction::label`] for why two forms exist).
    pub fn phrase(self) -> &'static str {
        match self {
            Direction::Read => "read from SYNCHRO Perform",
            Direction::Write => "write to SYNCHRO Perform",
            Direction::TwoWay => "two-way",
        }
    }

    /// Whether the direction includes reading from SYNCHRO Perform.
    pub fn reads(self) -> bool {
        matches!(self, Direction::Read | Direction::TwoWay)
    }

    /// Whether the direction includes writing to SYNCHRO Perform.
    pub fn writes(self) -> bool {
        matches!(self, Direction::Write | Direction::TwoWay)
    }

    /// The direction that covers both reading (if `reads`) and writing (if `writes`); `None`
    /// when neither.
    pub fn from_flags(reads: bool, writes: bool) -> Option<Direction> {
        match (reads, writes) {
            (true, true) => Some(Direction::TwoWay),
            (true, false) => Some(Direction::Read),
            (false, true) => Some(Direction::Write),
            (false, false) => None,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a word that is not a direction's [`Direction::as_str`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown direction `{0}`: expected read, write or two_way")]
pub struct UnknownDirection(pub String);

impl FromStr for Direction {
    type Err = UnknownDirection;

    /// Parses exactly a word of [`Direction::as_str`] (case and spaces matter).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Direction::ALL
            .into_iter()
            .find(|direction| direction.as_str() == s)
            .ok_or_else(|| UnknownDirection(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entity_parses_back_from_its_string_form() {
        for entity in Entity::ALL {
            assert_eq!(entity.as_str().parse::<Entity>(), Ok(entity));
        }
    }

    #[test]
    fn the_serde_form_of_an_entity_is_its_string_form() {
        for entity in Entity::ALL {
            let json = serde_json::to_string(&entity).expect("an entity serialises");
            assert_eq!(json, format!("\"{}\"", entity.as_str()));
        }
    }

    #[test]
    fn an_unknown_entity_name_is_refused_with_the_name() {
        assert_eq!(
            "timesheet".parse::<Entity>(),
            Err(UnknownEntity("timesheet".to_owned()))
        );
    }

    #[test]
    fn only_usages_and_attendance_are_heavy() {
        let heavy: Vec<Entity> = Entity::ALL.into_iter().filter(|e| e.is_heavy()).collect();
        assert_eq!(heavy, vec![Entity::ResourceUsage, Entity::Attendance]);
    }

    #[test]
    fn write_access_permits_reading_but_read_access_does_not_permit_writing() {
        assert!(Access::Write.permits(Access::Read));
        assert!(Access::Read.permits(Access::Read));
        assert!(!Access::Read.permits(Access::Write));
    }

    #[test]
    fn all_lists_every_direction_once_in_declaration_order() {
        // A new variant does not compile here until it is added to `ALL` (and to this match).
        let index = |direction: Direction| match direction {
            Direction::Read => 0,
            Direction::Write => 1,
            Direction::TwoWay => 2,
        };
        assert_eq!(Direction::ALL.map(index), [0, 1, 2]);
    }

    #[test]
    fn every_direction_parses_back_from_its_string_form_which_is_its_serde_form() {
        for direction in Direction::ALL {
            assert_eq!(direction.as_str().parse::<Direction>(), Ok(direction));
            assert_eq!(direction.to_string(), direction.as_str());
            let json = serde_json::to_string(&direction).expect("a direction serialises");
            assert_eq!(json, format!("\"{}\"", direction.as_str()));
        }
    }

    #[test]
    fn an_unknown_direction_word_is_refused_with_what_was_expected() {
        for word in [
            "", "Read", "READ", " read", "read ", "two-way", "two way", "twoway", "both", "r",
        ] {
            let err = word.parse::<Direction>().expect_err(word);
            assert_eq!(err, UnknownDirection(word.to_owned()));
            assert_eq!(
                err.to_string(),
                format!("unknown direction `{word}`: expected read, write or two_way")
            );
        }
    }

    #[test]
    fn every_direction_has_the_web_label_and_the_draft_phrase_the_server_prints() {
        // Byte for byte the wording of the web pages and of the drafts to Bentley: a change
        // shows on pages and in draft snapshots.
        let forms: Vec<(&str, &str)> = Direction::ALL
            .into_iter()
            .map(|d| (d.label(), d.phrase()))
            .collect();
        assert_eq!(
            forms,
            [
                ("read", "read from SYNCHRO Perform"),
                ("write", "write to SYNCHRO Perform"),
                ("two-way", "two-way"),
            ]
        );
        for direction in Direction::ALL {
            assert!(!direction.label().trim().is_empty(), "{direction:?}");
            assert!(!direction.phrase().trim().is_empty(), "{direction:?}");
        }
    }

    #[test]
    fn every_operation_but_read_is_a_write() {
        let writes: Vec<Operation> = Operation::ALL
            .into_iter()
            .filter(|op| op.is_write())
            .collect();
        assert_eq!(
            writes,
            vec![
                Operation::Create,
                Operation::Update,
                Operation::Delete,
                Operation::Upload
            ]
        );
    }
}
