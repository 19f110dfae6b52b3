//! The dataclip catalogue: which clips exist, their titles and their columns, as Bentley's
//! exports name them. The HTTP side (`dataclips`) serves them; the state checks names against
//! it.

use serde::Serialize;
use utoipa::ToSchema;

/// A clip of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clip {
    /// `activity-export`
    ActivityExport,
    /// `applicable-rates`
    ApplicableRates,
    /// `attendance-export`
    AttendanceExport,
    /// `resource-usages-export`
    ResourceUsagesExport,
    /// `resource-usages-subcontractor`
    ResourceUsagesSubcontractor,
    /// `resource-usages-approved`
    ResourceUsagesApproved,
    /// `competencies`
    Competencies,
    /// `dockets`
    Dockets,
}

/// A catalogue entry as listed by `GET /dataclips/{project_id}` and `GET /_sim/dataclips`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClipInfo {
    /// URL name.
    pub name: &'static str,
    /// Title as in the product.
    pub title: &'static str,
    /// Whether Bentley's public catalogue names the clip (others are inferred).
    pub confirmed: bool,
    /// Column headers.
    pub fields: Vec<&'static str>,
}

impl Clip {
    /// The catalogue.
    pub const ALL: [Clip; 8] = [
        Clip::ActivityExport,
        Clip::ApplicableRates,
        Clip::AttendanceExport,
        Clip::ResourceUsagesExport,
        Clip::ResourceUsagesSubcontractor,
        Clip::ResourceUsagesApproved,
        Clip::Competencies,
        Clip::Dockets,
    ];

    /// URL name.
    pub fn name(self) -> &'static str {
        match self {
            Clip::ActivityExport => "activity-export",
            Clip::ApplicableRates => "applicable-rates",
            Clip::AttendanceExport => "attendance-export",
            Clip::ResourceUsagesExport => "resource-usages-export",
            Clip::ResourceUsagesSubcontractor => "resource-usages-subcontractor",
            Clip::ResourceUsagesApproved => "resource-usages-approved",
            Clip::Competencies => "competencies",
            Clip::Dockets => "dockets",
        }
    }

    /// Title.
    pub fn title(self) -> &'static str {
        match self {
            Clip::ActivityExport => "Activity Export",
            Clip::ApplicableRates => "Applicable Rates",
            Clip::AttendanceExport => "Attendance Export",
            Clip::ResourceUsagesExport => "Resource Usages Export",
            Clip::ResourceUsagesSubcontractor => "Resource Usages Export (Subcontractors)",
            Clip::ResourceUsagesApproved => "Resource Usages Export (Approved)",
            Clip::Competencies => "Competencies",
            Clip::Dockets => "Dockets",
        }
    }

    /// Whether the public catalogue confirms it.
    pub fn confirmed(self) -> bool {
        matches!(
            self,
            Clip::ActivityExport | Clip::ApplicableRates | Clip::AttendanceExport
        )
    }

    /// Column headers.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Clip::ActivityExport => &ACTIVITY_FIELDS,
            Clip::ApplicableRates => &RATE_FIELDS,
            Clip::AttendanceExport => &ATTENDANCE_FIELDS,
            Clip::ResourceUsagesExport
            | Clip::ResourceUsagesSubcontractor
            | Clip::ResourceUsagesApproved => &USAGE_FIELDS,
            Clip::Competencies => &COMPETENCY_FIELDS,
            Clip::Dockets => &DOCKET_FIELDS,
        }
    }

    /// The column a `non_numeric` fault breaks.
    pub(crate) fn numeric_column(self) -> usize {
        let name = match self {
            Clip::ActivityExport => "Percent Complete",
            Clip::ApplicableRates => "Rate",
            Clip::AttendanceExport => "Duration",
            Clip::Competencies => "Blocks Access",
            Clip::Dockets => "Docket Date",
            _ => "Quantity",
        };
        self.fields().iter().position(|f| *f == name).unwrap_or(0)
    }

    /// The clip of a URL name.
    pub fn from_name(name: &str) -> Option<Clip> {
        Clip::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The catalogue entry.
    pub fn info(self) -> ClipInfo {
        ClipInfo {
            name: self.name(),
            title: self.title(),
            confirmed: self.confirmed(),
            fields: self.fields().to_vec(),
        }
    }
}

/// Names of every clip.
pub fn catalogue_names() -> Vec<&'static str> {
    Clip::ALL.iter().map(|c| c.name()).collect()
}

/// Resource usage export columns.
pub const USAGE_FIELDS: [&str; 25] = [
    "Id",
    "Project",
    "Work Date",
    "Resource Role",
    "Work Role Category",
    "Company",
    "Resource Type",
    "Resource Name",
    "Resource Identifier",
    "Work Reference Type",
    "Work Reference Code",
    "Work Reference Name",
    "Discipline",
    "Location",
    "Job Number",
    "Cost Code",
    "Usage Code",
    "Docket",
    "Start Time",
    "End Time",
    "Break Duration",
    "Quantity",
    "Unit of Measure",
    "Rate Code",
    "Approval Status",
];
/// Attendance export columns.
pub const ATTENDANCE_FIELDS: [&str; 18] = [
    "Id",
    "Attendance Reference",
    "Person",
    "Company",
    "Work Role",
    "Supervisor",
    "Start Date",
    "Start Time",
    "Start Area",
    "Start Location Latitude",
    "Start Location Longitude",
    "End Date",
    "End Time",
    "End Area",
    "End Location Latitude",
    "End Location Longitude",
    "Time Zone",
    "Duration",
];
/// Activity export columns.
pub const ACTIVITY_FIELDS: [&str; 37] = [
    "Id",
    "Reference Code",
    "Activity Name",
    "WBS Code",
    "Quantity UOM",
    "Work Category",
    "Discipline",
    "Location",
    "Job Number",
    "Cost Code",
    "Original Budget Labour",
    "Original Budget Quantity",
    "Original Budget Cost",
    "Revised Budget Labour",
    "Revised Budget Quantity",
    "Revised Budget Cost",
    "Current Estimate Labour",
    "Current Estimate Quantity",
    "Current Estimate Cost",
    "Original Start",
    "Original Finish",
    "Revised Start",
    "Revised Finish",
    "Planned Start",
    "Planned Finish",
    "Actual Start",
    "Actual Finish",
    "Expected Start",
    "Expected Finish",
    "Float",
    "Earned Value Method",
    "Percent Complete",
    "Exclude From Mobile",
    "Bookable For All",
    "Non Bookable",
    "Tags",
    "Updated At",
];
/// Applicable rates columns.
pub const RATE_FIELDS: [&str; 8] = [
    "Id",
    "Resource Name",
    "Resource Type",
    "Rate Code",
    "Rate",
    "Unit of Measure",
    "Effective From",
    "Effective To",
];
/// Competencies columns.
pub const COMPETENCY_FIELDS: [&str; 8] = [
    "Id",
    "Person",
    "Attendance Reference",
    "Competency",
    "Issued On",
    "Expires On",
    "Blocks Access",
    "Expired",
];
/// Dockets columns.
pub const DOCKET_FIELDS: [&str; 8] = [
    "Id",
    "Docket Reference",
    "Docket Date",
    "Company",
    "Supplier Reference",
    "Invoice Reference",
    "Purchase Order Reference",
    "Status",
];
