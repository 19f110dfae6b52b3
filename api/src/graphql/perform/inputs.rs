//! Filters of the list fields, mapped onto the upstream's filters.

use async_graphql::{ID, InputObject};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use super::enums::{ApprovalStatus, DocketStatus};
use crate::error::ApiError;
use crate::principal::parse_id;

type Params = Vec<(String, String)>;

fn push_time(params: &mut Params, name: &str, value: Option<DateTime<Utc>>) {
    if let Some(at) = value {
        params.push((
            name.to_owned(),
            at.to_rfc3339_opts(SecondsFormat::Secs, true),
        ));
    }
}

fn push_id(
    params: &mut Params,
    field: &str,
    name: &str,
    value: Option<&ID>,
) -> Result<(), ApiError> {
    if let Some(id) = value {
        params.push((name.to_owned(), parse_id(field, id)?.to_string()));
    }
    Ok(())
}

/// A `from`/`to` window: both or neither, `to` not before `from`.
pub fn push_window(
    params: &mut Params,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(), ApiError> {
    match (from, to) {
        (None, None) => Ok(()),
        (Some(from), Some(to)) if to >= from => {
            params.push(("from".to_owned(), from.to_string()));
            params.push(("to".to_owned(), to.to_string()));
            Ok(())
        }
        (Some(_), Some(_)) => Err(ApiError::invalid_field(
            "filter.to",
            "is before filter.from",
        )),
        _ => Err(ApiError::invalid_field(
            "filter.from",
            "give both from and to (a window of at most the upstream's maximum)",
        )),
    }
}

/// Filters of activities.
#[derive(InputObject, Debug, Default)]
pub struct ActivityFilter {
    /// Only activities changed at or after this instant (incremental sync).
    pub updated_since: Option<DateTime<Utc>>,
    /// Only activities carrying this tag.
    pub tag: Option<String>,
}

impl ActivityFilter {
    /// The upstream filters.
    pub fn params(&self) -> Result<Params, ApiError> {
        let mut params = Params::new();
        push_time(&mut params, "updated_since", self.updated_since);
        if let Some(tag) = &self.tag {
            params.push(("tag".to_owned(), tag.clone()));
        }
        Ok(params)
    }
}

/// Filters of events.
#[derive(InputObject, Debug, Default)]
pub struct EventFilter {
    /// Only events changed at or after this instant.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only events of this activity.
    pub activity_id: Option<ID>,
}

impl EventFilter {
    /// The upstream filters.
    pub fn params(&self) -> Result<Params, ApiError> {
        let mut params = Params::new();
        push_time(&mut params, "updated_since", self.updated_since);
        push_id(
            &mut params,
            "filter.activityId",
            "activity_id",
            self.activity_id.as_ref(),
        )?;
        Ok(params)
    }
}

/// Filters of resource lists (people, equipment, ...).
#[derive(InputObject, Debug, Default)]
pub struct UpdatedFilter {
    /// Only records changed at or after this instant.
    pub updated_since: Option<DateTime<Utc>>,
}

impl UpdatedFilter {
    /// The upstream filters.
    pub fn params(&self) -> Result<Params, ApiError> {
        let mut params = Params::new();
        push_time(&mut params, "updated_since", self.updated_since);
        Ok(params)
    }
}

/// Filters of resource usages.
#[derive(InputObject, Debug, Default)]
pub struct UsageFilter {
    /// First work date (inclusive); with `to`.
    pub from: Option<NaiveDate>,
    /// Last work date (inclusive); with `from`.
    pub to: Option<NaiveDate>,
    /// Only usages changed at or after this instant.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only usages booked against this activity or event.
    pub work_reference_id: Option<ID>,
    /// Only usages of this resource.
    pub resource_id: Option<ID>,
    /// Only usages of this company.
    pub company_id: Option<ID>,
    /// Only usages in this approval state.
    pub approval_status: Option<ApprovalStatus>,
}

impl UsageFilter {
    /// The upstream filters.
    pub fn params(&self) -> Result<Params, ApiError> {
        let mut params = Params::new();
        push_window(&mut params, self.from, self.to)?;
        push_time(&mut params, "updated_since", self.updated_since);
        push_id(
            &mut params,
            "filter.workReferenceId",
            "work_reference_id",
            self.work_reference_id.as_ref(),
        )?;
        push_id(
            &mut params,
            "filter.resourceId",
            "resource_id",
            self.resource_id.as_ref(),
        )?;
        push_id(
            &mut params,
            "filter.companyId",
            "company_id",
            self.company_id.as_ref(),
        )?;
        if let Some(status) = self.approval_status {
            let status: gatehouse_core::upstream::model::ApprovalStatus = status.into();
            params.push(("approval_status".to_owned(), status.as_str().to_owned()));
        }
        Ok(params)
    }
}

/// Filters of attendance.
#[derive(InputObject, Debug, Default)]
pub struct AttendanceFilter {
    /// First day (inclusive); with `to`.
    pub from: Option<NaiveDate>,
    /// Last day (inclusive); with `from`.
    pub to: Option<NaiveDate>,
    /// Only records changed at or after this instant.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only this person's attendance.
    pub person_id: Option<ID>,
    /// Only this company's people.
    pub company_id: Option<ID>,
}

impl AttendanceFilter {
    /// The upstream filters.
    pub fn params(&self) -> Result<Params, ApiError> {
        let mut params = Params::new();
        push_window(&mut params, self.from, self.to)?;
        push_time(&mut params, "updated_since", self.updated_since);
        push_id(
            &mut params,
            "filter.personId",
            "resource_id",
            self.person_id.as_ref(),
        )?;
        push_id(
            &mut params,
            "filter.companyId",
            "company_id",
            self.company_id.as_ref(),
        )?;
        Ok(params)
    }
}

/// Filters of dockets.
#[derive(InputObject, Debug, Default)]
pub struct DocketFilter {
    /// First docket date (inclusive); with `to`.
    pub from: Option<NaiveDate>,
    /// Last docket date (inclusive); with `from`.
    pub to: Option<NaiveDate>,
    /// Only dockets changed at or after this instant.
    pub updated_since: Option<DateTime<Utc>>,
    /// Only this company's dockets.
    pub company_id: Option<ID>,
    /// Only dockets in this state.
    pub status: Option<DocketStatus>,
}

impl DocketFilter {
    /// The upstream filters.
    pub fn params(&self) -> Result<Params, ApiError> {
        let mut params = Params::new();
        push_window(&mut params, self.from, self.to)?;
        push_time(&mut params, "updated_since", self.updated_since);
        push_id(
            &mut params,
            "filter.companyId",
            "company_id",
            self.company_id.as_ref(),
        )?;
        if let Some(status) = self.status {
            let status: gatehouse_core::upstream::model::DocketStatus = status.into();
            params.push(("approval_status".to_owned(), status.as_str().to_owned()));
        }
        Ok(params)
    }
}
