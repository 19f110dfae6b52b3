//! The documents Gatehouse renders for people: the drafts of an access request ([`drafts`]) and
//! the usage report's HTML. Templates are files, registered once at start-up, rendered in strict
//! mode from the core's typed contexts.

pub mod charts;
pub mod drafts;
pub mod usage_report;

pub use drafts::{Drafts, TEMPLATE_FILES};
pub use usage_report::{ReportTemplates, ReportView};
