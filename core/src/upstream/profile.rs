//! The upstream profile: everything Gatehouse assumes about a SYNCHRO Perform tenant's REST API.
//!
//! Bentley does not publish the API's paths, auth header or pagination, so they are
//! configuration. The defaults match the simulator (`synchro-sim`); adapting to a real tenant
//! is editing `[upstream]` in the config file, not code.

use std::collections::BTreeMap;
use std::fmt;

use gatehouse_compliance::Entity;
use secrecy::SecretString;
use serde::Deserialize;

/// How the upstream pages its lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaginationStyle {
    /// `?page=&per_page=`, a JSON array body, `Link: <...>; rel="next"` and a total header.
    PageNumber,
    /// `?pageSize=`, a `{"items": [...], "_links": {"next": {"href": ...}}}` body whose next
    /// link carries a continuation token.
    Continuation,
}

/// How the upstream token is presented.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthScheme {
    /// Header carrying the token.
    pub(crate) header: String,
    /// Text before the token in that header (`"Bearer "`; empty for a bare token).
    pub(crate) prefix: String,
}

impl Default for AuthScheme {
    fn default() -> Self {
        Self {
            header: "Authorization".to_owned(),
            prefix: "Bearer ".to_owned(),
        }
    }
}

/// Parameter and field names of the two pagination styles.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaginationNames {
    /// Page-number style: the page parameter (from 1).
    pub(crate) page_param: String,
    /// Page-number style: the page-size parameter.
    pub(crate) per_page_param: String,
    /// Page-number style: the header carrying the total count.
    pub(crate) total_header: String,
    /// Continuation style: the page-size parameter.
    pub(crate) page_size_param: String,
    /// Continuation style: the token parameter in the next link.
    pub(crate) continuation_param: String,
    /// Continuation style: the field holding the records.
    pub(crate) items_field: String,
    /// Continuation style: JSON pointer to the next link.
    pub(crate) next_pointer: String,
}

impl Default for PaginationNames {
    fn default() -> Self {
        Self {
            page_param: "page".to_owned(),
            per_page_param: "per_page".to_owned(),
            total_header: "X-Total-Count".to_owned(),
            page_size_param: "pageSize".to_owned(),
            continuation_param: "continuationToken".to_owned(),
            items_field: "items".to_owned(),
            next_pointer: "/_links/next/href".to_owned(),
        }
    }
}

/// Retries of idempotent calls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub(crate) max_retries: u32,
    /// First backoff, in milliseconds (doubled each time, with jitter).
    pub initial_backoff_ms: u64,
    /// Longest single backoff, in milliseconds.
    pub max_backoff_ms: u64,
    /// The most time one call may take, retries and waits included, in milliseconds.
    pub max_total_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff_ms: 100,
            max_backoff_ms: 5_000,
            max_total_ms: 30_000,
        }
    }
}

/// The upstream profile (`[upstream]`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamProfile {
    /// The tenant's base URL (`https://{company}.e7.site`); the simulator by default.
    pub base_url: url::Url,
    /// The API's version prefix.
    pub api_prefix: String,
    /// How the token is sent.
    pub auth: AuthScheme,
    /// How lists are paged.
    pub pagination: PaginationStyle,
    /// Names used by the pagination styles.
    pub pagination_names: PaginationNames,
    /// Records per page asked for when the caller does not say.
    pub default_page_size: u32,
    /// Largest page the upstream serves.
    pub max_page_size: u32,
    /// Path of the projects collection.
    pub projects_path: String,
    /// Overrides of the path segment of project-scoped collections, by entity
    /// (`activity = "activities"`); entities not listed keep [`default_collections`].
    pub collections: BTreeMap<Entity, String>,
    /// Connection timeout, in milliseconds.
    pub connect_timeout_ms: u64,
    /// Timeout of one attempt, in milliseconds.
    pub request_timeout_ms: u64,
    /// Largest answer body read from the upstream, in bytes. The body is read as a stream and
    /// the call fails (`UPSTREAM_UNAVAILABLE`, not retried) as soon as it passes this, so no
    /// answer can hold more than this much of Gatehouse's memory.
    pub max_response_bytes: u64,
    /// Retries of idempotent calls.
    pub retry: RetryPolicy,
    /// The declared load budget: calls per minute per upstream token, however many callers.
    pub calls_per_minute: u32,
    /// Calls allowed at once above the steady rate.
    pub burst: u32,
    /// The longest `from`/`to` window the upstream accepts, in days.
    pub max_date_window_days: u32,
    /// The filter that selects records by a list of ids (`ids=a,b,c`), used to batch lookups.
    pub ids_filter: String,
    /// Most ids in one list-valued filter; batches are split into chunks of this size.
    pub max_ids_per_filter: usize,
    /// Upstream tokens by project id, for a demo or a tenant without the vault. Secrets: never
    /// logged; prefer the vault.
    pub tokens: BTreeMap<String, SecretString>,
}

impl fmt::Debug for UpstreamProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamProfile")
            .field("base_url", &self.base_url.as_str())
            .field("api_prefix", &self.api_prefix)
            .field("pagination", &self.pagination)
            .field("default_page_size", &self.default_page_size)
            .field("max_page_size", &self.max_page_size)
            .field("calls_per_minute", &self.calls_per_minute)
            .field("burst", &self.burst)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("tokens", &format_args!("<{} redacted>", self.tokens.len()))
            .finish_non_exhaustive()
    }
}

/// The default path segment of an entity's collection (the simulator's).
pub(crate) const fn default_collection(entity: Entity) -> Option<&'static str> {
    Some(match entity {
        Entity::Activity => "activities",
        Entity::Event => "events",
        Entity::Person => "people",
        Entity::Equipment => "equipment",
        Entity::OtherResource => "other_resources",
        Entity::ResourceAssignment => "resource_assignments",
        Entity::ResourceUsage => "resource_usages",
        Entity::Attendance => "attendance",
        Entity::Docket => "dockets",
        Entity::Attachment => "attachments",
        Entity::ProgressEntry => "progress_entries",
        Entity::Company => "companies",
        Entity::WorkRole => "work_roles",
        Entity::UsageCode => "usage_codes",
        Entity::RateCode => "rate_codes",
        Entity::ApplicableRate => "applicable_rates",
        Entity::Competency => "competencies",
        Entity::Project => return None,
    })
}

impl Default for UpstreamProfile {
    fn default() -> Self {
        Self {
            base_url: url::Url::parse("http://127.0.0.1:8900").unwrap_or_else(|_| {
                // A literal that always parses; this branch is unreachable.
                url::Url::parse("http://localhost").expect("static URL")
            }),
            api_prefix: "/api/v1".to_owned(),
            auth: AuthScheme::default(),
            pagination: PaginationStyle::PageNumber,
            pagination_names: PaginationNames::default(),
            default_page_size: 50,
            max_page_size: 200,
            projects_path: "projects".to_owned(),
            collections: BTreeMap::new(),
            connect_timeout_ms: 2_000,
            request_timeout_ms: 10_000,
            // A page of 200 large records is well under 1 MiB; 16 MiB leaves room for a tenant's
            // fat records and still bounds what one answer can cost.
            max_response_bytes: 16 * 1024 * 1024,
            retry: RetryPolicy::default(),
            calls_per_minute: 600,
            burst: 20,
            max_date_window_days: 62,
            ids_filter: "ids".to_owned(),
            max_ids_per_filter: 100,
            tokens: BTreeMap::new(),
        }
    }
}

impl UpstreamProfile {
    /// The path segment of an entity's collection (configured, else the default); `None` for
    /// entities that are not project-scoped collections (the project itself).
    pub(crate) fn collection(&self, entity: Entity) -> Option<&str> {
        self.collections
            .get(&entity)
            .map(String::as_str)
            .or_else(|| default_collection(entity))
    }

    /// Checks values types cannot; errors name the key.
    pub fn validate(&self) -> Result<(), String> {
        if !matches!(self.base_url.scheme(), "http" | "https") {
            return Err("`upstream.base_url` must be an http or https URL".into());
        }
        if !self.api_prefix.starts_with('/') {
            return Err("`upstream.api_prefix` must start with /".into());
        }
        if self.max_page_size == 0 || self.default_page_size == 0 {
            return Err(
                "`upstream.default_page_size` and `upstream.max_page_size` must be positive".into(),
            );
        }
        if self.default_page_size > self.max_page_size {
            return Err(
                "`upstream.default_page_size` must not exceed `upstream.max_page_size`".into(),
            );
        }
        if self.calls_per_minute == 0 || self.burst == 0 {
            return Err("`upstream.calls_per_minute` and `upstream.burst` must be positive".into());
        }
        if self.request_timeout_ms == 0 || self.connect_timeout_ms == 0 {
            return Err(
                "`upstream.request_timeout_ms` and `upstream.connect_timeout_ms` must be positive"
                    .into(),
            );
        }
        if self.max_response_bytes < 1024 {
            return Err("`upstream.max_response_bytes` must be at least 1024".into());
        }
        if self.max_ids_per_filter == 0 {
            return Err("`upstream.max_ids_per_filter` must be positive".into());
        }
        for (entity, path) in &self.collections {
            if path.is_empty() || path.contains('/') || path.contains('?') {
                return Err(format!(
                    "`upstream.collections.{entity}` must be one path segment, got `{path}`"
                ));
            }
        }
        Ok(())
    }

    /// The `compliance` view of this profile (page sizes, pace, window).
    pub fn compliance_profile(&self) -> gatehouse_compliance::profile::UpstreamProfile {
        gatehouse_compliance::profile::UpstreamProfile {
            default_page_size: self.default_page_size,
            max_page_size: self.max_page_size,
            calls_per_minute: self.calls_per_minute,
            max_date_window_days: self.max_date_window_days,
        }
    }
}
