//! Query-string parsing of list endpoints: filters and paging.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::config::PaginationStyle;
use crate::error::{ApiError, ApiResult};

/// Longest `from`/`to` window, in days (both ends included).
pub const MAX_WINDOW_DAYS: i64 = 62;
/// Default page size of both pagination styles.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page size of both pagination styles.
pub const MAX_PAGE_SIZE: u32 = 200;

/// A filter a list endpoint may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterName {
    /// `updated_since` (RFC 3339 instant): records changed at or after it.
    UpdatedSince,
    /// `from` (date, inclusive) on dated collections.
    From,
    /// `to` (date, inclusive) on dated collections.
    To,
    /// `work_reference_id`: the activity or event a usage is booked against.
    WorkReferenceId,
    /// `resource_id`: the resource (person for attendance and competencies).
    ResourceId,
    /// `company_id`.
    CompanyId,
    /// `approval_status` (usages: unapproved|submitted|approved|rejected; dockets: their status).
    ApprovalStatus,
    /// `tag`.
    Tag,
    /// `activity_id` (events, progress entries).
    ActivityId,
    /// `parent_id` (attachments).
    ParentId,
}

impl FilterName {
    /// Every filter.
    pub const ALL: [FilterName; 10] = [
        FilterName::UpdatedSince,
        FilterName::From,
        FilterName::To,
        FilterName::WorkReferenceId,
        FilterName::ResourceId,
        FilterName::CompanyId,
        FilterName::ApprovalStatus,
        FilterName::Tag,
        FilterName::ActivityId,
        FilterName::ParentId,
    ];

    /// The query-string name.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterName::UpdatedSince => "updated_since",
            FilterName::From => "from",
            FilterName::To => "to",
            FilterName::WorkReferenceId => "work_reference_id",
            FilterName::ResourceId => "resource_id",
            FilterName::CompanyId => "company_id",
            FilterName::ApprovalStatus => "approval_status",
            FilterName::Tag => "tag",
            FilterName::ActivityId => "activity_id",
            FilterName::ParentId => "parent_id",
        }
    }

    fn parse(name: &str) -> Option<FilterName> {
        FilterName::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// The filters of one list request (validated against the collection).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// `updated_since`.
    pub updated_since: Option<DateTime<Utc>>,
    /// `from`.
    pub from: Option<NaiveDate>,
    /// `to`.
    pub to: Option<NaiveDate>,
    /// `work_reference_id`.
    pub work_reference_id: Option<Uuid>,
    /// `resource_id`.
    pub resource_id: Option<Uuid>,
    /// `company_id`.
    pub company_id: Option<Uuid>,
    /// `approval_status`, as given (checked against the collection's statuses).
    pub approval_status: Option<String>,
    /// `tag`.
    pub tag: Option<String>,
    /// `activity_id`.
    pub activity_id: Option<Uuid>,
    /// `parent_id`.
    pub parent_id: Option<Uuid>,
}

impl ListFilter {
    /// Whether a dated record is inside the window.
    pub fn in_window(&self, date: NaiveDate) -> bool {
        self.from.is_none_or(|f| date >= f) && self.to.is_none_or(|t| date <= t)
    }

    /// Whether a record changed at `updated_at` passes `updated_since`.
    pub fn updated(&self, updated_at: DateTime<Utc>) -> bool {
        self.updated_since.is_none_or(|since| updated_at >= since)
    }

    /// Days covered by the window (0 without one).
    pub fn window_days(&self) -> u32 {
        match (self.from, self.to) {
            (Some(f), Some(t)) => u32::try_from((t - f).num_days() + 1).unwrap_or(0),
            _ => 0,
        }
    }
}

/// The page asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest {
    /// `?page=&per_page=`.
    Number {
        /// 1-based page.
        page: u64,
        /// Page size.
        per_page: u32,
    },
    /// `?pageSize=&continuationToken=`.
    Continuation {
        /// Page size.
        page_size: u32,
        /// The token, as given.
        token: Option<String>,
    },
}

/// A parsed list query: filters, page, and the other pairs (to rebuild links).
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Filters.
    pub filter: ListFilter,
    /// Page.
    pub page: PageRequest,
    /// The query's pairs except the paging ones, in order (for next links and token hashes).
    pub other_pairs: Vec<(String, String)>,
}

/// Documentation of every list query parameter (which ones apply is said per endpoint; the
/// paging parameters depend on the pagination style the simulator was started with).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Only records changed at or after this instant (RFC 3339). All lists.
    updated_since: Option<DateTime<Utc>>,
    /// First day (inclusive) of a dated collection; with `to`, at most 62 days.
    from: Option<NaiveDate>,
    /// Last day (inclusive) of a dated collection; with `from`, at most 62 days.
    to: Option<NaiveDate>,
    /// Usages booked against this activity or event.
    work_reference_id: Option<Uuid>,
    /// Records of this resource (usages, assignments, rates; the person for attendance and
    /// competencies).
    resource_id: Option<Uuid>,
    /// Records of this company.
    company_id: Option<Uuid>,
    /// Usages: `unapproved`, `submitted`, `approved`, `rejected`; dockets: `submitted`,
    /// `received`, `rejected`, `approved`.
    approval_status: Option<String>,
    /// Activities carrying this tag.
    tag: Option<String>,
    /// Events or progress entries of this activity.
    activity_id: Option<Uuid>,
    /// Attachments of this activity or event.
    parent_id: Option<Uuid>,
    /// Page-number style: 1-based page (default 1).
    page: Option<u64>,
    /// Page-number style: page size (default 50, max 200).
    per_page: Option<u32>,
    /// Continuation style: page size (default 50, max 200).
    #[serde(rename = "pageSize")]
    #[param(rename = "pageSize")]
    page_size: Option<u32>,
    /// Continuation style: the opaque token of the previous page's `_links.next.href`.
    #[serde(rename = "continuationToken")]
    #[param(rename = "continuationToken")]
    continuation_token: Option<String>,
}

fn parse_uuid(name: &str, value: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(value).map_err(|_| ApiError::invalid_parameter(name, value, "a UUID"))
}

fn parse_date(name: &str, value: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid_parameter(name, value, "a date (YYYY-MM-DD)"))
}

fn parse_size(name: &str, value: &str) -> ApiResult<u32> {
    let size: u32 = value
        .parse()
        .map_err(|_| ApiError::invalid_parameter(name, value, "a positive integer"))?;
    if size == 0 || size > MAX_PAGE_SIZE {
        return Err(ApiError::validation(
            format!("`{name}` must be between 1 and {MAX_PAGE_SIZE}"),
            json!({"parameter": name, "value": size, "min": 1, "max": MAX_PAGE_SIZE}),
        ));
    }
    Ok(size)
}

/// Parses a list query for a collection accepting `allowed` filters.
pub fn parse_list_query(
    raw: Option<&str>,
    allowed: &[FilterName],
    style: PaginationStyle,
) -> ApiResult<ListQuery> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let paging_names: &[&str] = match style {
        PaginationStyle::PageNumber => &["page", "per_page"],
        PaginationStyle::Continuation => &["pageSize", "continuationToken"],
    };
    let mut filter = ListFilter::default();
    let mut page: Option<u64> = None;
    let mut size: Option<u32> = None;
    let mut token: Option<String> = None;
    let mut other_pairs = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let allowed_names: Vec<&str> = allowed
        .iter()
        .map(|f| f.as_str())
        .chain(paging_names.iter().copied())
        .collect();
    for (name, value) in &pairs {
        if seen.contains(&name.as_str()) {
            return Err(ApiError::new(
                http::StatusCode::BAD_REQUEST,
                "duplicate_parameter",
                format!("query parameter `{name}` is given more than once"),
            )
            .with_details(json!({"parameter": name})));
        }
        if let Some(known) = allowed_names.iter().find(|n| **n == name.as_str()) {
            seen.push(known);
        }
        match name.as_str() {
            "page" | "per_page" | "pageSize" | "continuationToken"
                if paging_names.contains(&name.as_str()) =>
            {
                match name.as_str() {
                    "page" => {
                        let p: u64 = value.parse().map_err(|_| {
                            ApiError::invalid_parameter(name, value, "a positive integer")
                        })?;
                        if p == 0 {
                            return Err(ApiError::validation(
                                "`page` starts at 1",
                                json!({"parameter": "page", "value": 0, "min": 1}),
                            ));
                        }
                        page = Some(p);
                    }
                    "continuationToken" => token = Some(value.clone()),
                    _ => size = Some(parse_size(name, value)?),
                }
                continue;
            }
            _ => {}
        }
        let Some(filter_name) = FilterName::parse(name).filter(|f| allowed.contains(f)) else {
            let detail = if FilterName::parse(name).is_some() {
                ApiError::new(
                    http::StatusCode::BAD_REQUEST,
                    "unsupported_filter",
                    format!("filter `{name}` does not apply to this collection"),
                )
                .with_details(json!({"parameter": name, "allowed": allowed_names}))
            } else {
                ApiError::unknown_parameter(name, &allowed_names)
            };
            return Err(detail);
        };
        other_pairs.push((name.clone(), value.clone()));
        match filter_name {
            FilterName::UpdatedSince => {
                let at = DateTime::parse_from_rfc3339(value)
                    .map_err(|_| ApiError::invalid_parameter(name, value, "an RFC 3339 instant"))?;
                filter.updated_since = Some(at.with_timezone(&Utc));
            }
            FilterName::From => filter.from = Some(parse_date(name, value)?),
            FilterName::To => filter.to = Some(parse_date(name, value)?),
            FilterName::WorkReferenceId => {
                filter.work_reference_id = Some(parse_uuid(name, value)?)
            }
            FilterName::ResourceId => filter.resource_id = Some(parse_uuid(name, value)?),
            FilterName::CompanyId => filter.company_id = Some(parse_uuid(name, value)?),
            FilterName::ActivityId => filter.activity_id = Some(parse_uuid(name, value)?),
            FilterName::ParentId => filter.parent_id = Some(parse_uuid(name, value)?),
            FilterName::ApprovalStatus => filter.approval_status = Some(value.clone()),
            FilterName::Tag => filter.tag = Some(value.clone()),
        }
    }
    match (filter.from, filter.to) {
        (Some(from), Some(to)) => {
            if to < from {
                return Err(ApiError::validation(
                    "`to` is before `from`",
                    json!({"from": from, "to": to}),
                ));
            }
            let days = (to - from).num_days() + 1;
            if days > MAX_WINDOW_DAYS {
                return Err(ApiError::validation(
                    format!(
                        "the date window spans {days} days; at most {MAX_WINDOW_DAYS} are allowed"
                    ),
                    json!({"from": from, "to": to, "days": days, "max_days": MAX_WINDOW_DAYS}),
                ));
            }
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(ApiError::validation(
                "`from` and `to` go together",
                json!({"from": filter.from, "to": filter.to, "max_days": MAX_WINDOW_DAYS}),
            ));
        }
        (None, None) => {}
    }
    let page = match style {
        PaginationStyle::PageNumber => PageRequest::Number {
            page: page.unwrap_or(1),
            per_page: size.unwrap_or(DEFAULT_PAGE_SIZE),
        },
        PaginationStyle::Continuation => PageRequest::Continuation {
            page_size: size.unwrap_or(DEFAULT_PAGE_SIZE),
            token,
        },
    };
    Ok(ListQuery {
        filter,
        page,
        other_pairs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATED: [FilterName; 3] = [FilterName::UpdatedSince, FilterName::From, FilterName::To];

    #[test]
    fn a_window_of_62_days_is_accepted_and_63_refused() {
        let ok = parse_list_query(
            Some("from=2025-01-01&to=2025-03-03"),
            &DATED,
            PaginationStyle::PageNumber,
        );
        assert!(ok.is_ok(), "{ok:?}");
        let err = parse_list_query(
            Some("from=2025-01-01&to=2025-03-04"),
            &DATED,
            PaginationStyle::PageNumber,
        )
        .unwrap_err();
        assert_eq!(err.status, http::StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn unknown_and_misplaced_parameters_are_refused() {
        let err =
            parse_list_query(Some("colour=red"), &DATED, PaginationStyle::PageNumber).unwrap_err();
        assert_eq!(err.code, "unknown_parameter");
        let err = parse_list_query(Some("tag=x"), &DATED, PaginationStyle::PageNumber).unwrap_err();
        assert_eq!(err.code, "unsupported_filter");
        let err =
            parse_list_query(Some("pageSize=5"), &DATED, PaginationStyle::PageNumber).unwrap_err();
        assert_eq!(err.code, "unknown_parameter");
        let err = parse_list_query(
            Some("from=yesterday&to=2025-01-01"),
            &DATED,
            PaginationStyle::PageNumber,
        )
        .unwrap_err();
        assert_eq!(err.code, "invalid_parameter");
    }

    #[test]
    fn page_sizes_above_the_maximum_are_refused() {
        let err =
            parse_list_query(Some("per_page=201"), &[], PaginationStyle::PageNumber).unwrap_err();
        assert_eq!(err.status, http::StatusCode::UNPROCESSABLE_ENTITY);
        let ok =
            parse_list_query(Some("pageSize=200"), &[], PaginationStyle::Continuation).unwrap();
        assert_eq!(
            ok.page,
            PageRequest::Continuation {
                page_size: 200,
                token: None
            }
        );
    }
}
