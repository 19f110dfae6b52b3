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
/// Most ids one id-valued filter (or `ids`) may list.
pub const MAX_IDS: usize = 100;

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
    /// `ids`: the records with these ids (every collection).
    Ids,
}

impl FilterName {
    /// Every filter.
    pub const ALL: [FilterName; 11] = [
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
        FilterName::Ids,
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
            FilterName::Ids => "ids",
        }
    }

    fn parse(name: &str) -> Option<FilterName> {
        FilterName::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

/// The value of an id-valued filter: 1 to [`MAX_IDS`] UUIDs, sorted and without repeats. A
/// record matches when its field equals any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdList(Vec<Uuid>);

impl IdList {
    /// A list of the given ids (sorted, repeats dropped).
    pub fn new(ids: impl IntoIterator<Item = Uuid>) -> Self {
        let mut ids: Vec<Uuid> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        IdList(ids)
    }

    /// Whether `id` is in the list (a binary search: no allocation).
    pub fn contains(&self, id: Uuid) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    /// The ids, ascending.
    pub fn iter(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.0.iter().copied()
    }

    /// Number of distinct ids.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false for a parsed list (an empty element is refused).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whether a record's field passes an optional id-valued filter.
pub fn id_matches(want: Option<&IdList>, have: Uuid) -> bool {
    want.is_none_or(|w| w.contains(have))
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
    /// `work_reference_id` (any of the listed ids).
    pub work_reference_id: Option<IdList>,
    /// `resource_id` (any of the listed ids).
    pub resource_id: Option<IdList>,
    /// `company_id` (any of the listed ids).
    pub company_id: Option<IdList>,
    /// `approval_status`, as given (checked against the collection's statuses).
    pub approval_status: Option<String>,
    /// `tag`.
    pub tag: Option<String>,
    /// `activity_id` (any of the listed ids).
    pub activity_id: Option<IdList>,
    /// `parent_id` (any of the listed ids).
    pub parent_id: Option<IdList>,
    /// `ids`: only the records with these ids.
    pub ids: Option<IdList>,
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

    /// Whether a record's own id passes `ids`.
    pub fn named(&self, id: Uuid) -> bool {
        id_matches(self.ids.as_ref(), id)
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
    /// Only the records with these ids: a comma-separated list of up to 100 record ids
    /// (repeats count once). The records come in the collection's stable order, paged like any
    /// list; ids that name no record (or one filtered out) are skipped. All lists.
    ids: Option<String>,
    /// Usages booked against any of these activities or events (comma-separated, up to 100).
    work_reference_id: Option<String>,
    /// Records of any of these resources (usages, assignments, rates; the person for
    /// attendance and competencies). Comma-separated, up to 100.
    resource_id: Option<String>,
    /// Records of any of these companies (comma-separated, up to 100).
    company_id: Option<String>,
    /// Usages: `unapproved`, `submitted`, `approved`, `rejected`; dockets: `submitted`,
    /// `received`, `rejected`, `approved`.
    approval_status: Option<String>,
    /// Activities carrying this tag.
    tag: Option<String>,
    /// Events or progress entries of any of these activities (comma-separated, up to 100).
    activity_id: Option<String>,
    /// Attachments of any of these activities or events (comma-separated, up to 100).
    parent_id: Option<String>,
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

/// Parses a comma-separated list of 1 to [`MAX_IDS`] UUIDs (spaces around an element are
/// ignored). Over the limit is 422; an empty or malformed element is 400, naming it.
fn parse_id_list(name: &str, value: &str) -> ApiResult<IdList> {
    const EXPECTED: &str = "a comma-separated list of up to 100 UUIDs";
    let given = value.split(',').count();
    if given > MAX_IDS {
        return Err(ApiError::validation(
            format!("`{name}` lists {given} ids; at most {MAX_IDS} are allowed"),
            json!({"parameter": name, "max": MAX_IDS, "given": given}),
        ));
    }
    let mut ids = Vec::with_capacity(given);
    for (position, element) in value.split(',').enumerate() {
        let element = element.trim();
        if element.is_empty() {
            return Err(ApiError::new(
                http::StatusCode::BAD_REQUEST,
                "invalid_parameter",
                format!("query parameter `{name}` has an empty element at position {position}"),
            )
            .with_details(
                json!({"parameter": name, "value": element, "position": position,
                "expected": EXPECTED}),
            ));
        }
        let id = Uuid::parse_str(element).map_err(|_| {
            ApiError::new(
                http::StatusCode::BAD_REQUEST,
                "invalid_parameter",
                format!(
                    "query parameter `{name}`: `{element}` (position {position}) is not a UUID"
                ),
            )
            .with_details(
                json!({"parameter": name, "value": element, "position": position,
                "expected": EXPECTED}),
            )
        })?;
        ids.push(id);
    }
    Ok(IdList::new(ids))
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
                filter.work_reference_id = Some(parse_id_list(name, value)?)
            }
            FilterName::ResourceId => filter.resource_id = Some(parse_id_list(name, value)?),
            FilterName::CompanyId => filter.company_id = Some(parse_id_list(name, value)?),
            FilterName::ActivityId => filter.activity_id = Some(parse_id_list(name, value)?),
            FilterName::ParentId => filter.parent_id = Some(parse_id_list(name, value)?),
            FilterName::Ids => filter.ids = Some(parse_id_list(name, value)?),
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

    const IDS: [FilterName; 2] = [FilterName::Ids, FilterName::ResourceId];

    fn uuids(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| Uuid::from_u128(i as u128 + 1).to_string())
            .collect()
    }

    #[test]
    fn an_id_list_keeps_each_id_once_and_matches_any_of_them() {
        let ids = uuids(3);
        let query = format!("ids={},{}, {}", ids[2], ids[0], ids[2]);
        let parsed = parse_list_query(Some(&query), &IDS, PaginationStyle::PageNumber).unwrap();
        let list = parsed.filter.ids.unwrap();
        assert_eq!(list.len(), 2);
        assert!(list.contains(Uuid::from_u128(1)) && list.contains(Uuid::from_u128(3)));
        assert!(!list.contains(Uuid::from_u128(2)));
        assert_eq!(
            parsed.other_pairs[0].0, "ids",
            "the raw value binds tokens and links"
        );
    }

    #[test]
    fn a_hundred_ids_are_accepted_and_a_hundred_and_one_refused() {
        let ok = format!("resource_id={}", uuids(100).join(","));
        assert!(parse_list_query(Some(&ok), &IDS, PaginationStyle::PageNumber).is_ok());
        let over = format!("resource_id={}", uuids(101).join(","));
        let err = parse_list_query(Some(&over), &IDS, PaginationStyle::PageNumber).unwrap_err();
        assert_eq!(err.status, http::StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err.code, "validation_failed");
        assert_eq!(
            err.details,
            json!({"parameter": "resource_id", "max": 100, "given": 101})
        );
    }

    #[test]
    fn an_empty_or_malformed_element_is_refused_and_named() {
        let id = &uuids(1)[0];
        for (value, bad, position) in [
            (format!("{id},nope"), "nope", 1),
            (format!("{id},,{id}"), "", 1),
            (format!("{id},"), "", 1),
            (String::new(), "", 0),
        ] {
            let query = format!("ids={value}");
            let err =
                parse_list_query(Some(&query), &IDS, PaginationStyle::PageNumber).unwrap_err();
            assert_eq!(err.status, http::StatusCode::BAD_REQUEST, "{value}");
            assert_eq!(err.code, "invalid_parameter", "{value}");
            assert_eq!(err.details["parameter"], "ids");
            assert_eq!(err.details["value"], bad, "{value}");
            assert_eq!(err.details["position"], position, "{value}");
        }
    }
}
