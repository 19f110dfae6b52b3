//! The project-scoped collections: filtering, pagination and the list/get handlers.

use std::ops::Range;

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::query::{
    FilterName, IdList, ListFilter, ListParams, PageRequest, id_matches, parse_list_query,
};
use super::{AnswerCost, json_response, parse_id};
use crate::data::usages::WorkRef;
use crate::data::{ProjectData, UsageStore};
use crate::error::{ApiError, ApiResult};
use crate::model::*;
use crate::state::SimState;

/// The project-scoped collections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    /// `activities`
    Activities,
    /// `events`
    Events,
    /// `people`
    People,
    /// `equipment`
    Equipment,
    /// `other_resources`
    OtherResources,
    /// `resource_assignments`
    ResourceAssignments,
    /// `companies`
    Companies,
    /// `work_roles`
    WorkRoles,
    /// `usage_codes`
    UsageCodes,
    /// `rate_codes`
    RateCodes,
    /// `applicable_rates`
    ApplicableRates,
    /// `resource_usages`
    ResourceUsages,
    /// `attendance`
    Attendance,
    /// `dockets`
    Dockets,
    /// `competencies`
    Competencies,
    /// `progress_entries`
    ProgressEntries,
    /// `attachments`
    Attachments,
}

use FilterName as F;

impl Collection {
    /// Every collection.
    pub const ALL: [Collection; 17] = [
        Collection::Activities,
        Collection::Events,
        Collection::People,
        Collection::Equipment,
        Collection::OtherResources,
        Collection::ResourceAssignments,
        Collection::Companies,
        Collection::WorkRoles,
        Collection::UsageCodes,
        Collection::RateCodes,
        Collection::ApplicableRates,
        Collection::ResourceUsages,
        Collection::Attendance,
        Collection::Dockets,
        Collection::Competencies,
        Collection::ProgressEntries,
        Collection::Attachments,
    ];

    /// The path segment.
    pub fn segment(self) -> &'static str {
        match self {
            Collection::Activities => "activities",
            Collection::Events => "events",
            Collection::People => "people",
            Collection::Equipment => "equipment",
            Collection::OtherResources => "other_resources",
            Collection::ResourceAssignments => "resource_assignments",
            Collection::Companies => "companies",
            Collection::WorkRoles => "work_roles",
            Collection::UsageCodes => "usage_codes",
            Collection::RateCodes => "rate_codes",
            Collection::ApplicableRates => "applicable_rates",
            Collection::ResourceUsages => "resource_usages",
            Collection::Attendance => "attendance",
            Collection::Dockets => "dockets",
            Collection::Competencies => "competencies",
            Collection::ProgressEntries => "progress_entries",
            Collection::Attachments => "attachments",
        }
    }

    /// The filters the collection accepts (`ids` and `updated_since` on every one).
    pub fn filters(self) -> &'static [FilterName] {
        match self {
            Collection::Activities => &[F::Ids, F::UpdatedSince, F::Tag],
            Collection::Events => &[F::Ids, F::UpdatedSince, F::ActivityId],
            Collection::Equipment => &[F::Ids, F::UpdatedSince, F::CompanyId],
            Collection::ResourceAssignments => {
                &[F::Ids, F::UpdatedSince, F::ResourceId, F::CompanyId]
            }
            Collection::ApplicableRates | Collection::Competencies => {
                &[F::Ids, F::UpdatedSince, F::ResourceId]
            }
            Collection::ResourceUsages => &[
                F::Ids,
                F::UpdatedSince,
                F::From,
                F::To,
                F::WorkReferenceId,
                F::ResourceId,
                F::CompanyId,
                F::ApprovalStatus,
            ],
            Collection::Attendance => &[
                F::Ids,
                F::UpdatedSince,
                F::From,
                F::To,
                F::ResourceId,
                F::CompanyId,
            ],
            Collection::Dockets => &[
                F::Ids,
                F::UpdatedSince,
                F::From,
                F::To,
                F::CompanyId,
                F::ApprovalStatus,
            ],
            Collection::ProgressEntries => {
                &[F::Ids, F::UpdatedSince, F::From, F::To, F::ActivityId]
            }
            Collection::Attachments => &[F::Ids, F::UpdatedSince, F::ParentId],
            Collection::People
            | Collection::OtherResources
            | Collection::Companies
            | Collection::WorkRoles
            | Collection::UsageCodes
            | Collection::RateCodes => &[F::Ids, F::UpdatedSince],
        }
    }

    /// Heavy collections are subject to the concurrency threshold (503).
    pub fn is_heavy(self) -> bool {
        matches!(self, Collection::ResourceUsages | Collection::Attendance)
    }

    /// The collection named by a path segment.
    pub fn from_segment(segment: &str) -> Option<Collection> {
        Collection::ALL.into_iter().find(|c| c.segment() == segment)
    }
}

/// A record of a materialised collection.
pub(crate) trait Record: Serialize {
    fn id(&self) -> Uuid;
    fn updated_at(&self) -> DateTime<Utc>;
    /// Every filter but `updated_since` and `ids` (checked by the caller).
    fn passes(&self, filter: &ListFilter) -> bool;
}

/// Whether a field passes an id-valued filter (any of its ids).
fn eq(want: &Option<IdList>, have: Uuid) -> bool {
    id_matches(want.as_ref(), have)
}

macro_rules! record {
    ($ty:ty, |$item:ident, $filter:ident| $body:expr) => {
        impl Record for $ty {
            fn id(&self) -> Uuid {
                self.id
            }
            fn updated_at(&self) -> DateTime<Utc> {
                self.updated_at
            }
            fn passes(&self, $filter: &ListFilter) -> bool {
                let $item = self;
                $body
            }
        }
    };
}

record!(Activity, |a, f| f
    .tag
    .as_ref()
    .is_none_or(|t| a.tags.contains(t)));
record!(Event, |e, f| eq(&f.activity_id, e.activity_id));
record!(Person, |_p, _f| true);
record!(Equipment, |e, f| eq(&f.company_id, e.company_id));
record!(OtherResource, |_o, _f| true);
record!(ResourceAssignment, |a, f| eq(&f.resource_id, a.resource_id)
    && eq(&f.company_id, a.company_id));
record!(Company, |_c, _f| true);
record!(WorkRole, |_w, _f| true);
record!(UsageCode, |_u, _f| true);
record!(RateCode, |_r, _f| true);
record!(ApplicableRate, |r, f| eq(&f.resource_id, r.resource_id));
record!(ResourceUsage, |u, f| f.in_window(u.work_date)
    && eq(&f.work_reference_id, u.work_reference_id)
    && eq(&f.resource_id, u.resource_id)
    && eq(&f.company_id, u.company_id)
    && f.approval_status
        .as_deref()
        .is_none_or(|s| s == u.approval_status.as_str()));
record!(Attendance, |a, f| f.in_window(a.work_date)
    && eq(&f.resource_id, a.person_id)
    && eq(&f.company_id, a.company_id));
record!(Docket, |d, f| f.in_window(d.docket_date)
    && eq(&f.company_id, d.company_id)
    && f.approval_status
        .as_deref()
        .is_none_or(|s| s == d.status.as_str()));
record!(Competency, |c, f| eq(&f.resource_id, c.person_id));
record!(ProgressEntry, |p, f| f.in_window(p.progress_date)
    && eq(&f.activity_id, p.activity_id));
record!(Attachment, |a, f| eq(&f.parent_id, a.parent_id));

/// Something to page through: positions are stable across pages (appends go last).
pub(crate) trait Source {
    /// Matching positions, from raw position `from` on.
    fn scan(&self, from: u64) -> Box<dyn Iterator<Item = u64> + '_>;
    /// Number of matches.
    fn count(&self) -> u64 {
        self.scan(0).count() as u64
    }
    /// Position of the `k`-th match (0-based).
    fn nth(&self, k: u64) -> Option<u64> {
        self.scan(0).nth(usize::try_from(k).ok()?)
    }
    /// Serialises the record at a position.
    fn write(&self, position: u64, out: &mut Vec<u8>) -> serde_json::Result<()>;
}

/// The positions of the records `ids` names, ascending: one pass over the collection, at most
/// [`super::query::MAX_IDS`] entries kept. Paging then walks these instead of every record.
fn named_positions<T: Record>(items: &[T], ids: &IdList) -> Vec<u64> {
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| ids.contains(item.id()))
        .map(|(p, _)| p as u64)
        .collect()
}

/// The first index of an ascending list of positions at or after `from`.
fn first_at_or_after(positions: &[u64], from: u64) -> usize {
    positions.partition_point(|p| *p < from)
}

struct VecSource<'a, T> {
    items: &'a [T],
    filter: &'a ListFilter,
    /// With `ids`: the named records' positions, ascending.
    named: Option<Vec<u64>>,
}

impl<'a, T: Record> VecSource<'a, T> {
    fn new(items: &'a [T], filter: &'a ListFilter) -> Self {
        let named = filter.ids.as_ref().map(|ids| named_positions(items, ids));
        VecSource {
            items,
            filter,
            named,
        }
    }

    fn matches(&self, item: &T) -> bool {
        self.filter.updated(item.updated_at())
            && self.filter.named(item.id())
            && item.passes(self.filter)
    }
}

impl<T: Record> Source for VecSource<'_, T> {
    fn scan(&self, from: u64) -> Box<dyn Iterator<Item = u64> + '_> {
        if let Some(named) = &self.named {
            let start = first_at_or_after(named, from);
            return Box::new(named[start..].iter().copied().filter(move |p| {
                usize::try_from(*p)
                    .ok()
                    .and_then(|p| self.items.get(p))
                    .is_some_and(|item| self.matches(item))
            }));
        }
        let start = usize::try_from(from)
            .unwrap_or(usize::MAX)
            .min(self.items.len());
        Box::new(
            self.items[start..]
                .iter()
                .enumerate()
                .filter(|(_, item)| self.matches(item))
                .map(move |(i, _)| (start + i) as u64),
        )
    }

    fn write(&self, position: u64, out: &mut Vec<u8>) -> serde_json::Result<()> {
        match usize::try_from(position)
            .ok()
            .and_then(|p| self.items.get(p))
        {
            Some(item) => serde_json::to_writer(out, item),
            None => serde_json::to_writer(out, &serde_json::Value::Null),
        }
    }
}

/// A set of positions in one of the generator's small tables (resources, companies,
/// activities, events): a bitmap, so testing a generated row costs no allocation.
#[derive(Debug, Clone, Default)]
struct PositionSet {
    words: Vec<u64>,
    len: usize,
}

impl PositionSet {
    /// The positions of `table` whose id is in `ids` (one pass over the table).
    fn of(table: impl Iterator<Item = Uuid>, ids: &IdList) -> Self {
        let mut set = PositionSet::default();
        for (position, id) in table.enumerate() {
            if ids.contains(id) {
                let word = position / 64;
                if set.words.len() <= word {
                    set.words.resize(word + 1, 0);
                }
                set.words[word] |= 1 << (position % 64);
                set.len += 1;
            }
        }
        set
    }

    fn contains(&self, position: u32) -> bool {
        let position = position as usize;
        self.words
            .get(position / 64)
            .is_some_and(|w| w >> (position % 64) & 1 == 1)
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The work references a usage filter names, as positions in activities and events.
#[derive(Debug, Clone)]
struct ReferenceSet {
    activities: PositionSet,
    events: PositionSet,
}

impl ReferenceSet {
    fn contains(&self, reference: WorkRef) -> bool {
        match reference {
            WorkRef::Activity(i) => self.activities.contains(i),
            WorkRef::Event(i) => self.events.contains(i),
        }
    }

    fn is_empty(&self) -> bool {
        self.activities.is_empty() && self.events.is_empty()
    }
}

/// The filters of a usage list resolved against the generator's indices.
struct UsageSource<'a> {
    store: &'a UsageStore,
    filter: &'a ListFilter,
    range: Range<u64>,
    /// Seeded rows cannot match (a filter names only things the generator never books).
    seeded_excluded: bool,
    resources: Option<PositionSet>,
    companies: Option<PositionSet>,
    references: Option<ReferenceSet>,
    status: Option<ApprovalStatus>,
    /// With `ids`: the named rows' positions (seeded indices decoded from the ids, then created
    /// rows after the seeded ones), ascending. Paging walks these, never the whole table.
    named: Option<Vec<u64>>,
    /// Only the window (and deletions) restrict seeded rows: counts are arithmetic.
    trivial: bool,
}

impl<'a> UsageSource<'a> {
    fn new(store: &'a UsageStore, filter: &'a ListFilter) -> Self {
        let generator = &store.generator;
        let mut range = generator.index_range(filter.from, filter.to);
        if let Some(since) = filter.updated_since {
            // updated_at is less than two days after the work date.
            let floor = generator.index_range(Some(since.date_naive() - Duration::days(2)), None);
            range.start = range.start.max(floor.start).min(range.end);
        }
        let resources = filter
            .resource_id
            .as_ref()
            .map(|ids| PositionSet::of(generator.resources.iter().map(|r| r.id), ids));
        let companies = filter
            .company_id
            .as_ref()
            .map(|ids| PositionSet::of(generator.company_ids.iter().copied(), ids));
        let references = filter.work_reference_id.as_ref().map(|ids| ReferenceSet {
            activities: PositionSet::of(generator.activity_ids.iter().copied(), ids),
            events: PositionSet::of(generator.event_ids.iter().copied(), ids),
        });
        let seeded_excluded = resources.as_ref().is_some_and(PositionSet::is_empty)
            || companies.as_ref().is_some_and(PositionSet::is_empty)
            || references.as_ref().is_some_and(ReferenceSet::is_empty);
        let status = filter
            .approval_status
            .as_deref()
            .and_then(|s| ApprovalStatus::ALL.into_iter().find(|a| a.as_str() == s));
        let named = filter.ids.as_ref().map(|ids| {
            // A usage id encodes its row index: decode, do not scan. Created rows are few.
            let seeded_len = store.seeded_len();
            let mut positions: Vec<u64> =
                ids.iter().filter_map(|id| generator.index_of(id)).collect();
            positions.extend(
                store
                    .created
                    .iter()
                    .enumerate()
                    .filter(|(_, u)| ids.contains(u.id))
                    .map(|(j, _)| seeded_len + j as u64),
            );
            positions.sort_unstable();
            positions.dedup();
            positions
        });
        let trivial = filter.updated_since.is_none()
            && resources.is_none()
            && companies.is_none()
            && references.is_none()
            && status.is_none()
            && named.is_none();
        UsageSource {
            store,
            filter,
            range,
            seeded_excluded,
            resources,
            companies,
            references,
            status,
            named,
            trivial,
        }
    }

    /// Whether seeded row `index` (inside the range) matches.
    fn seeded_matches(&self, index: u64) -> bool {
        if self.store.deleted.contains(&index) {
            return false;
        }
        if self.trivial {
            return true;
        }
        let generator = &self.store.generator;
        let core = generator.core(index);
        self.resources
            .as_ref()
            .is_none_or(|r| r.contains(core.resource))
            && self
                .companies
                .as_ref()
                .is_none_or(|c| c.contains(generator.resource(&core).company))
            && self
                .references
                .as_ref()
                .is_none_or(|r| r.contains(core.reference))
            && self.status.is_none_or(|s| s == core.status)
            && self.filter.updated(generator.updated_at(&core))
    }

    fn created_matches(&self, usage: &ResourceUsage) -> bool {
        self.filter.updated(usage.updated_at)
            && self.filter.named(usage.id)
            && usage.passes(self.filter)
    }

    /// Whether the row at any position (seeded or created) matches.
    fn position_matches(&self, position: u64) -> bool {
        let seeded_len = self.store.seeded_len();
        if position < seeded_len {
            !self.seeded_excluded && self.range.contains(&position) && self.seeded_matches(position)
        } else {
            usize::try_from(position - seeded_len)
                .ok()
                .and_then(|j| self.store.created.get(j))
                .is_some_and(|u| self.created_matches(u))
        }
    }

    fn deleted_in(&self, range: Range<u64>) -> u64 {
        if range.is_empty() {
            return 0;
        }
        self.store.deleted.range(range).count() as u64
    }

    fn seeded_count(&self) -> u64 {
        if self.seeded_excluded {
            0
        } else {
            let len = self.range.end - self.range.start;
            len - self.deleted_in(self.range.clone())
        }
    }
}

impl Source for UsageSource<'_> {
    fn scan(&self, from: u64) -> Box<dyn Iterator<Item = u64> + '_> {
        if let Some(named) = &self.named {
            let start = first_at_or_after(named, from);
            return Box::new(
                named[start..]
                    .iter()
                    .copied()
                    .filter(move |p| self.position_matches(*p)),
            );
        }
        let seeded_len = self.store.seeded_len();
        let seeded: Box<dyn Iterator<Item = u64>> = if self.seeded_excluded {
            Box::new(std::iter::empty())
        } else {
            let start = from.max(self.range.start).min(self.range.end);
            Box::new((start..self.range.end).filter(move |i| self.seeded_matches(*i)))
        };
        let created_from = from.saturating_sub(seeded_len);
        let created = self
            .store
            .created
            .iter()
            .enumerate()
            .skip(usize::try_from(created_from).unwrap_or(usize::MAX))
            .filter(|(_, u)| self.created_matches(u))
            .map(move |(j, _)| seeded_len + j as u64);
        Box::new(seeded.chain(created))
    }

    fn count(&self) -> u64 {
        if !self.trivial {
            // Includes `ids`: at most 100 named positions to test.
            return self.scan(0).count() as u64;
        }
        let created = self
            .store
            .created
            .iter()
            .filter(|u| self.created_matches(u))
            .count();
        self.seeded_count() + created as u64
    }

    fn nth(&self, k: u64) -> Option<u64> {
        if !self.trivial {
            return self.scan(0).nth(usize::try_from(k).ok()?);
        }
        let seeded = self.seeded_count();
        if k < seeded {
            // The k-th row not deleted: step over the deletions before it.
            let mut position = self.range.start + k;
            loop {
                let next = self.range.start + k + self.deleted_in(self.range.start..position + 1);
                if next == position {
                    return Some(position);
                }
                position = next;
            }
        }
        let seeded_len = self.store.seeded_len();
        self.store
            .created
            .iter()
            .enumerate()
            .filter(|(_, u)| self.created_matches(u))
            .nth(usize::try_from(k - seeded).ok()?)
            .map(|(j, _)| seeded_len + j as u64)
    }

    fn write(&self, position: u64, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let seeded_len = self.store.seeded_len();
        if position < seeded_len {
            let usage = self
                .store
                .generator
                .materialise(&self.store.generator.core(position));
            serde_json::to_writer(out, &usage)
        } else {
            let created = usize::try_from(position - seeded_len)
                .ok()
                .and_then(|j| self.store.created.get(j));
            serde_json::to_writer(out, &created)
        }
    }
}

/// Calls `f` with the source of a collection.
fn with_source<R>(
    data: &ProjectData,
    collection: Collection,
    filter: &ListFilter,
    f: impl FnOnce(&dyn Source) -> R,
) -> R {
    macro_rules! vec_source {
        ($field:ident) => {
            f(&VecSource::new(data.$field.as_slice(), filter))
        };
    }
    match collection {
        Collection::Activities => vec_source!(activities),
        Collection::Events => vec_source!(events),
        Collection::People => vec_source!(people),
        Collection::Equipment => vec_source!(equipment),
        Collection::OtherResources => vec_source!(other_resources),
        Collection::ResourceAssignments => vec_source!(resource_assignments),
        Collection::Companies => vec_source!(companies),
        Collection::WorkRoles => vec_source!(work_roles),
        Collection::UsageCodes => vec_source!(usage_codes),
        Collection::RateCodes => vec_source!(rate_codes),
        Collection::ApplicableRates => vec_source!(applicable_rates),
        Collection::Attendance => vec_source!(attendance),
        Collection::Dockets => vec_source!(dockets),
        Collection::Competencies => vec_source!(competencies),
        Collection::ProgressEntries => vec_source!(progress_entries),
        Collection::Attachments => vec_source!(attachments),
        Collection::ResourceUsages => f(&UsageSource::new(&data.usages, filter)),
    }
}

/// Serialises one record of a collection by id (`None` when absent).
fn find_record(data: &ProjectData, collection: Collection, id: Uuid) -> Option<serde_json::Value> {
    fn find<T: Record>(items: &[T], id: Uuid) -> Option<serde_json::Value> {
        items
            .iter()
            .find(|i| i.id() == id)
            .and_then(|i| serde_json::to_value(i).ok())
    }
    match collection {
        Collection::Activities => find(&data.activities, id),
        Collection::Events => find(&data.events, id),
        Collection::People => find(&data.people, id),
        Collection::Equipment => find(&data.equipment, id),
        Collection::OtherResources => find(&data.other_resources, id),
        Collection::ResourceAssignments => find(&data.resource_assignments, id),
        Collection::Companies => find(&data.companies, id),
        Collection::WorkRoles => find(&data.work_roles, id),
        Collection::UsageCodes => find(&data.usage_codes, id),
        Collection::RateCodes => find(&data.rate_codes, id),
        Collection::ApplicableRates => find(&data.applicable_rates, id),
        Collection::Attendance => find(&data.attendance, id),
        Collection::Dockets => find(&data.dockets, id),
        Collection::Competencies => find(&data.competencies, id),
        Collection::ProgressEntries => find(&data.progress_entries, id),
        Collection::Attachments => find(&data.attachments, id),
        Collection::ResourceUsages => data
            .usages
            .get(id)
            .and_then(|u| serde_json::to_value(u).ok()),
    }
}

fn check_status_filter(collection: Collection, filter: &ListFilter) -> ApiResult<()> {
    let Some(status) = filter.approval_status.as_deref() else {
        return Ok(());
    };
    let allowed: &[&str] = match collection {
        Collection::Dockets => &["submitted", "received", "rejected", "approved"],
        _ => &["unapproved", "submitted", "approved", "rejected"],
    };
    if allowed.contains(&status) {
        Ok(())
    } else {
        Err(ApiError::validation(
            format!("`approval_status` must be one of {}", allowed.join(", ")),
            json!({"parameter": "approval_status", "value": status, "allowed": allowed}),
        ))
    }
}

/// A continuation token: the raw position of the next record and a keyed digest of the
/// position and the request's filters. Anything else (edited, truncated, from another query)
/// is refused with 400.
fn encode_token(sim: &SimState, scope: &str, position: u64) -> String {
    let digest = sim.digest(&[scope.as_bytes(), &position.to_be_bytes()]);
    let mut bytes = Vec::with_capacity(16);
    bytes.extend_from_slice(&position.to_be_bytes());
    bytes.extend_from_slice(&digest);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_token(sim: &SimState, scope: &str, token: &str) -> ApiResult<u64> {
    let invalid = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_continuation_token",
            "the continuation token is not one this query issued",
        )
        .with_details(json!({"parameter": "continuationToken"}))
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| invalid())?;
    if bytes.len() != 16 {
        return Err(invalid());
    }
    let mut position = [0u8; 8];
    position.copy_from_slice(&bytes[..8]);
    let position = u64::from_be_bytes(position);
    if sim.digest(&[scope.as_bytes(), &position.to_be_bytes()])[..] != bytes[8..] {
        return Err(invalid());
    }
    Ok(position)
}

fn link_query(pairs: &[(String, String)], extra: &[(&str, String)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        serializer.append_pair(k, v);
    }
    for (k, v) in extra {
        serializer.append_pair(k, v);
    }
    serializer.finish()
}

/// Answers a list request (shared by every collection's handler).
pub(crate) async fn list_collection(
    sim: &SimState,
    collection: Collection,
    project_id: &str,
    uri: &Uri,
) -> ApiResult<Response> {
    let project_id = parse_id(project_id, "project")?;
    let slot = sim
        .project(project_id)
        .ok_or_else(|| ApiError::not_found("project"))?;
    let query = parse_list_query(uri.query(), collection.filters(), sim.config.pagination)?;
    check_status_filter(collection, &query.filter)?;
    let data = slot.read();
    let path = uri.path();
    let days = query.filter.window_days();
    let mut body = Vec::with_capacity(16 * 1024);
    let (rows, headers) =
        with_source(&data, collection, &query.filter, |source| -> ApiResult<_> {
            let mut headers: Vec<(header::HeaderName, String)> = Vec::new();
            let write_items = |positions: &[u64], body: &mut Vec<u8>| -> ApiResult<()> {
                body.push(b'[');
                for (n, position) in positions.iter().enumerate() {
                    if n > 0 {
                        body.push(b',');
                    }
                    source.write(*position, body).map_err(|e| {
                        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
                    })?;
                }
                body.push(b']');
                Ok(())
            };
            match &query.page {
                PageRequest::Number { page, per_page } => {
                    let total = source.count();
                    let offset = (page - 1).saturating_mul(u64::from(*per_page));
                    let positions: Vec<u64> = match source.nth(offset) {
                        Some(first) => source.scan(first).take(*per_page as usize).collect(),
                        None => Vec::new(),
                    };
                    write_items(&positions, &mut body)?;
                    headers.push((
                        header::HeaderName::from_static("x-total-count"),
                        total.to_string(),
                    ));
                    if offset.saturating_add(u64::from(*per_page)) < total {
                        let next = link_query(
                            &query.other_pairs,
                            &[
                                ("page", (page + 1).to_string()),
                                ("per_page", per_page.to_string()),
                            ],
                        );
                        headers.push((header::LINK, format!("<{path}?{next}>; rel=\"next\"")));
                    }
                    Ok((positions.len(), headers))
                }
                PageRequest::Continuation { page_size, token } => {
                    let scope = format!("{path}?{}", link_query(&query.other_pairs, &[]));
                    let start = match token {
                        Some(t) => decode_token(sim, &scope, t)?,
                        None => 0,
                    };
                    let mut positions: Vec<u64> =
                        source.scan(start).take(*page_size as usize + 1).collect();
                    let next = (positions.len() > *page_size as usize)
                        .then(|| positions.pop())
                        .flatten();
                    body.extend_from_slice(b"{\"items\":");
                    write_items(&positions, &mut body)?;
                    body.extend_from_slice(b",\"_links\":");
                    let links = PageLinks {
                        next: next.map(|position| Link {
                            href: format!(
                                "{path}?{}",
                                link_query(
                                    &query.other_pairs,
                                    &[
                                        ("pageSize", page_size.to_string()),
                                        ("continuationToken", encode_token(sim, &scope, position)),
                                    ],
                                )
                            ),
                        }),
                    };
                    serde_json::to_writer(&mut body, &links).map_err(|e| {
                        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
                    })?;
                    body.push(b'}');
                    Ok((positions.len(), headers))
                }
            }
        })?;
    let mut response = json_response(StatusCode::OK, body);
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response.extensions_mut().insert(AnswerCost { rows, days });
    Ok(response)
}

/// Answers a get-by-id request.
pub(crate) async fn get_record(
    sim: &SimState,
    collection: Collection,
    project_id: &str,
    id: &str,
) -> ApiResult<Response> {
    let project_id = parse_id(project_id, "project")?;
    let slot = sim
        .project(project_id)
        .ok_or_else(|| ApiError::not_found("project"))?;
    let id = parse_id(id, collection.segment())?;
    let data = slot.read();
    let record = find_record(&data, collection, id)
        .ok_or_else(|| ApiError::not_found(&format!("{} record", collection.segment())))?;
    let mut response = axum::Json(record).into_response();
    response
        .extensions_mut()
        .insert(AnswerCost { rows: 1, days: 0 });
    Ok(response)
}

/// Defines the list and get handlers of a collection, documented for OpenAPI.
macro_rules! collection_endpoints {
    ($($collection:ident, $ty:ident, $list:ident, $get:ident, $list_path:literal, $get_path:literal, $tag:literal, $filters:literal;)*) => {
        $(
            #[doc = concat!("Lists `", $tag, "`. Filters: ", $filters, ".")]
            #[utoipa::path(
                get,
                path = $list_path,
                tag = $tag,
                description = concat!("Lists the project's ", $tag, ". Filters: ", $filters,
                    ". `ids` and every id-valued filter take a comma-separated list of up to 100 UUIDs; a record matches any of them, so one paged call fetches many records, or the children of many parents (for batching loaders). Page-number style answers a JSON array with `Link` (rel=\"next\") and `X-Total-Count`; continuation style answers `{\"items\": [...], \"_links\": {\"next\": {\"href\"}}}`."),
                params(("project_id" = Uuid, Path, description = "Project id"), ListParams),
                responses(
                    (status = 200, description = "A page of records", body = [$ty]),
                    (status = 400, description = "Unknown or unparseable parameter, an empty or malformed UUID in an id list, tampered continuation token", body = ErrorBody),
                    (status = 401, description = "Missing or unknown token", body = ErrorBody),
                    (status = 404, description = "Unknown project, or another project's", body = ErrorBody),
                    (status = 422, description = "Invalid filter value, window over 62 days, page size over 200, more than 100 ids in a list", body = ErrorBody),
                    (status = 429, description = "Rate limited (`Retry-After`)", body = ErrorBody),
                    (status = 503, description = "Too many concurrent requests on a heavy collection (`Retry-After`)", body = ErrorBody),
                ),
                security(("bearer_token" = []))
            )]
            pub(crate) async fn $list(
                State(sim): State<SimState>,
                Path(project_id): Path<String>,
                OriginalUri(uri): OriginalUri,
            ) -> ApiResult<Response> {
                list_collection(&sim, Collection::$collection, &project_id, &uri).await
            }

            #[doc = concat!("Gets one record of `", $tag, "`.")]
            #[utoipa::path(
                get,
                path = $get_path,
                tag = $tag,
                params(
                    ("project_id" = Uuid, Path, description = "Project id"),
                    ("id" = Uuid, Path, description = "Record id"),
                ),
                responses(
                    (status = 200, description = "The record", body = $ty),
                    (status = 401, description = "Missing or unknown token", body = ErrorBody),
                    (status = 404, description = "No such record (or another project's)", body = ErrorBody),
                ),
                security(("bearer_token" = []))
            )]
            pub(crate) async fn $get(
                State(sim): State<SimState>,
                Path((project_id, id)): Path<(String, String)>,
            ) -> ApiResult<Response> {
                get_record(&sim, Collection::$collection, &project_id, &id).await
            }
        )*

        /// Registers the list and get routes of every collection.
        pub(crate) fn collection_routes() -> axum::Router<SimState> {
            let mut router = axum::Router::new();
            $(
                router = router
                    .route($list_path, axum::routing::get($list))
                    .route($get_path, axum::routing::get($get));
            )*
            router
        }
    };
}

collection_endpoints! {
    Activities, Activity, list_activities, get_activity, "/projects/{project_id}/activities", "/projects/{project_id}/activities/{id}", "activities", "ids, updated_since, tag";
    Events, Event, list_events, get_event, "/projects/{project_id}/events", "/projects/{project_id}/events/{id}", "events", "ids, updated_since, activity_id";
    People, Person, list_people, get_person, "/projects/{project_id}/people", "/projects/{project_id}/people/{id}", "people", "ids, updated_since";
    Equipment, Equipment, list_equipment, get_equipment, "/projects/{project_id}/equipment", "/projects/{project_id}/equipment/{id}", "equipment", "ids, updated_since, company_id";
    OtherResources, OtherResource, list_other_resources, get_other_resource, "/projects/{project_id}/other_resources", "/projects/{project_id}/other_resources/{id}", "other_resources", "ids, updated_since";
    ResourceAssignments, ResourceAssignment, list_resource_assignments, get_resource_assignment, "/projects/{project_id}/resource_assignments", "/projects/{project_id}/resource_assignments/{id}", "resource_assignments", "ids, updated_since, resource_id, company_id";
    Companies, Company, list_companies, get_company, "/projects/{project_id}/companies", "/projects/{project_id}/companies/{id}", "companies", "ids, updated_since";
    WorkRoles, WorkRole, list_work_roles, get_work_role, "/projects/{project_id}/work_roles", "/projects/{project_id}/work_roles/{id}", "work_roles", "ids, updated_since";
    UsageCodes, UsageCode, list_usage_codes, get_usage_code, "/projects/{project_id}/usage_codes", "/projects/{project_id}/usage_codes/{id}", "usage_codes", "ids, updated_since";
    RateCodes, RateCode, list_rate_codes, get_rate_code, "/projects/{project_id}/rate_codes", "/projects/{project_id}/rate_codes/{id}", "rate_codes", "ids, updated_since";
    ApplicableRates, ApplicableRate, list_applicable_rates, get_applicable_rate, "/projects/{project_id}/applicable_rates", "/projects/{project_id}/applicable_rates/{id}", "applicable_rates", "ids, updated_since, resource_id";
    ResourceUsages, ResourceUsage, list_resource_usages, get_resource_usage, "/projects/{project_id}/resource_usages", "/projects/{project_id}/resource_usages/{id}", "resource_usages", "ids, updated_since, from/to (work_date, at most 62 days), work_reference_id, resource_id, company_id, approval_status";
    Attendance, Attendance, list_attendance, get_attendance, "/projects/{project_id}/attendance", "/projects/{project_id}/attendance/{id}", "attendance", "ids, updated_since, from/to (work_date, at most 62 days), resource_id (the person), company_id";
    Dockets, Docket, list_dockets, get_docket, "/projects/{project_id}/dockets", "/projects/{project_id}/dockets/{id}", "dockets", "ids, updated_since, from/to (docket_date, at most 62 days), company_id, approval_status (the docket status)";
    Competencies, Competency, list_competencies, get_competency, "/projects/{project_id}/competencies", "/projects/{project_id}/competencies/{id}", "competencies", "ids, updated_since, resource_id (the person)";
    ProgressEntries, ProgressEntry, list_progress_entries, get_progress_entry, "/projects/{project_id}/progress_entries", "/projects/{project_id}/progress_entries/{id}", "progress_entries", "ids, updated_since, from/to (progress_date, at most 62 days), activity_id";
    Attachments, Attachment, list_attachments, get_attachment, "/projects/{project_id}/attachments", "/projects/{project_id}/attachments/{id}", "attachments", "ids, updated_since, parent_id";
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use super::*;
    use crate::config::{DataSize, SizePreset};

    fn store(usages: u64) -> UsageStore {
        let size = DataSize::preset(SizePreset::Small).with_usages(usages);
        crate::data::seed::generate(5, &size).remove(0).usages
    }

    fn resource_filter(ids: &[Uuid]) -> ListFilter {
        ListFilter {
            resource_id: Some(IdList::new(ids.iter().copied())),
            ..ListFilter::default()
        }
    }

    #[test]
    fn a_resource_list_over_a_million_rows_matches_exactly_its_members_rows() {
        let store = store(1_000_000);
        let generator = &store.generator;
        let resources: Vec<Uuid> = generator
            .resources
            .iter()
            .step_by(7)
            .take(3)
            .map(|r| r.id)
            .collect();
        let list = resource_filter(&resources);
        let source = UsageSource::new(&store, &list);
        let singles: u64 = resources
            .iter()
            .map(|r| UsageSource::new(&store, &resource_filter(&[*r])).count())
            .sum();
        assert!(singles > 0);
        assert_eq!(source.count(), singles, "each row has one resource");
        let first: Vec<u64> = source.scan(0).take(40).collect();
        assert!(first.windows(2).all(|w| w[0] < w[1]));
        for index in &first {
            let core = generator.core(*index);
            assert!(resources.contains(&generator.resource(&core).id));
        }
        assert_eq!(source.nth(39), first.last().copied());
    }

    #[test]
    fn ids_of_a_million_rows_are_decoded_not_scanned() {
        let mut store = store(1_000_000);
        store.deleted = Arc::new(BTreeSet::from([10]));
        let generator = Arc::clone(&store.generator);
        let filter = ListFilter {
            ids: Some(IdList::new(
                [999_999, 0, 10, 500_000].map(|i| generator.id_of(i)),
            )),
            ..ListFilter::default()
        };
        let source = UsageSource::new(&store, &filter);
        assert_eq!(
            source.named.as_deref(),
            Some(&[0, 10, 500_000, 999_999][..])
        );
        assert_eq!(source.count(), 3, "the deleted row is not served");
        assert_eq!(source.nth(1), Some(500_000));
        assert_eq!(source.scan(500_001).collect::<Vec<_>>(), vec![999_999]);
        let windowed = ListFilter {
            from: Some(generator.work_date(&generator.core(400_000))),
            to: Some(generator.work_date(&generator.core(600_000))),
            ..filter
        };
        let source = UsageSource::new(&store, &windowed);
        assert_eq!(source.scan(0).collect::<Vec<_>>(), vec![500_000]);
    }

    #[test]
    fn a_list_naming_only_unknown_ids_excludes_every_seeded_row() {
        let store = store(10_000);
        let filter = ListFilter {
            work_reference_id: Some(IdList::new([Uuid::from_u128(1), Uuid::from_u128(2)])),
            company_id: Some(IdList::new([Uuid::from_u128(3)])),
            ..ListFilter::default()
        };
        let source = UsageSource::new(&store, &filter);
        assert!(source.seeded_excluded);
        assert_eq!(source.count(), 0);
    }
}
