//! Which source answers an operation: the cache, a dataclip snapshot, the live API, or none.
//!
//! The cheapest source that satisfies the question answers it. Analytical shapes (aggregates,
//! date windows longer than the policy allows, `first` above the largest page, sweeps over more
//! pages than the policy allows) never reach the live API: a dataclip answers them when the
//! client accepts data of the snapshot's age, else they are refused with a hint that names the
//! `analytics` field that answers them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::dataclips::{DataclipRef, analytics_field_for, dataclip_for};
use crate::model::Entity;
use crate::profile::UpstreamProfile;

use super::{
    CostEstimate, CostModel, FieldKind, FieldShape, OperationShape, estimate, field_costs,
};

/// The limits routing applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct RoutePolicy {
    /// The cost model.
    pub cost: CostModel,
    /// The longest date window answered live, in days (the upstream's 62, or lower).
    pub max_date_window_days: u32,
    /// The largest `first` answered live.
    pub max_first: u32,
    /// The most pages one field may load live; more is a sweep.
    pub max_live_pages: u64,
    /// The client's budget, in score points per operation.
    pub budget: u64,
    /// The oldest cached answer served to a client that does not say how stale it accepts, in
    /// seconds.
    pub fresh_cache_secs: u64,
}

impl Default for RoutePolicy {
    fn default() -> Self {
        RoutePolicy::for_profile(&UpstreamProfile::default())
    }
}

impl RoutePolicy {
    /// The default limits for an upstream profile.
    pub fn for_profile(profile: &UpstreamProfile) -> RoutePolicy {
        RoutePolicy {
            cost: CostModel::for_profile(profile),
            max_date_window_days: profile.max_date_window_days,
            max_first: profile.max_page_size,
            max_live_pages: 10,
            budget: 1_000,
            fresh_cache_secs: 60,
        }
    }
}

/// What the service holds that could answer without the live API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sources {
    /// The age of the oldest cached entry the whole operation needs, in seconds, if every one
    /// is cached; `None` when something is not cached.
    pub cache_age_secs: Option<u64>,
    /// The age of the current snapshot of each entity's dataclip, in seconds, for the project
    /// asked about.
    #[serde(default)]
    pub dataclip_age_secs: BTreeMap<Entity, u64>,
}

/// What makes a field analytical.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnalyticalPattern {
    /// The field is an aggregate.
    Aggregate,
    /// The field's date window is longer than the policy allows.
    LongDateWindow {
        /// The window asked for, in days.
        days: u32,
        /// The longest window answered live.
        max_days: u32,
    },
    /// The field asks for more rows than the largest page.
    PageTooLarge {
        /// The `first` asked for.
        first: u32,
        /// The largest `first` answered live.
        max_first: u32,
    },
    /// The field would load more pages than the policy allows.
    Sweep {
        /// The pages it would load.
        pages: u64,
        /// The most pages answered live.
        max_pages: u64,
    },
}

/// The first analytical field of an operation, and why it is analytical.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AnalyticalShape {
    /// The field's path from the root, names joined with dots.
    pub field: String,
    /// The entity the field reads.
    pub entity: Option<Entity>,
    /// What makes it analytical.
    pub pattern: AnalyticalPattern,
}

impl fmt::Display for AnalyticalShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = &self.field;
        match self.pattern {
            AnalyticalPattern::Aggregate => write!(f, "`{field}` is an aggregate"),
            AnalyticalPattern::LongDateWindow { days, max_days } => write!(
                f,
                "`{field}` spans {days} days, more than the {max_days} answered live"
            ),
            AnalyticalPattern::PageTooLarge { first, max_first } => write!(
                f,
                "`{field}` asks for {first} rows, more than the {max_first} of a page"
            ),
            AnalyticalPattern::Sweep { pages, max_pages } => write!(
                f,
                "`{field}` would read {pages} pages, more than the {max_pages} answered live"
            ),
        }
    }
}

/// Where an operation is answered, or why it is not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RouteDecision {
    /// From the cache, without an upstream call.
    Cache {
        /// The age of the oldest cached entry used, in seconds.
        age_secs: u64,
    },
    /// From the live API (through the cache and DataLoader).
    Live {
        /// The estimated cost.
        estimate: CostEstimate,
    },
    /// From dataclip snapshots.
    Dataclip {
        /// The clips used.
        dataclips: Vec<DataclipRef>,
        /// The age of the oldest snapshot used, in seconds.
        age_secs: u64,
    },
    /// Refused: the question is analytical and no snapshot the client accepts answers it.
    UseDataclips {
        /// What makes it analytical.
        reason: AnalyticalShape,
        /// The `analytics` field that answers it, if there is one.
        analytics_field: Option<String>,
        /// What to ask instead, for the error message.
        hint: String,
    },
    /// Refused: the operation costs more than the client's budget.
    TooCostly {
        /// The estimated cost.
        estimate: CostEstimate,
        /// The client's budget.
        budget: u64,
    },
}

impl RouteDecision {
    /// The stable snake_case code: `cache`, `live`, `dataclip`, `use_dataclips`, `too_costly`
    /// (the refusals' codes are the GraphQL `extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            RouteDecision::Cache { .. } => "cache",
            RouteDecision::Live { .. } => "live",
            RouteDecision::Dataclip { .. } => "dataclip",
            RouteDecision::UseDataclips { .. } => "use_dataclips",
            RouteDecision::TooCostly { .. } => "too_costly",
        }
    }

    /// Whether the operation is refused.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            RouteDecision::UseDataclips { .. } | RouteDecision::TooCostly { .. }
        )
    }
}

/// The first field (depth first) whose shape is analytical under `policy`, if any.
pub fn analytical_shape(shape: &OperationShape, policy: &RoutePolicy) -> Option<AnalyticalShape> {
    fn find(fields: &[FieldShape], prefix: &str, policy: &RoutePolicy) -> Option<AnalyticalShape> {
        for field in fields {
            let path = if prefix.is_empty() {
                field.name.clone()
            } else {
                format!("{prefix}.{}", field.name)
            };
            let pattern = match (field.kind, field.date_window_days) {
                _ if field.is_mutation_write => None,
                (FieldKind::Aggregate, _) => Some(AnalyticalPattern::Aggregate),
                (FieldKind::List { first: Some(first) }, _) if first > policy.max_first => {
                    Some(AnalyticalPattern::PageTooLarge {
                        first,
                        max_first: policy.max_first,
                    })
                }
                (_, Some(days)) if days > policy.max_date_window_days => {
                    Some(AnalyticalPattern::LongDateWindow {
                        days,
                        max_days: policy.max_date_window_days,
                    })
                }
                _ => None,
            };
            if let Some(pattern) = pattern {
                return Some(AnalyticalShape {
                    field: path,
                    entity: field.entity,
                    pattern,
                });
            }
            if let Some(found) = find(&field.children, &path, policy) {
                return Some(found);
            }
        }
        None
    }
    find(&shape.fields, "", policy).or_else(|| {
        field_costs(shape, &policy.cost)
            .into_iter()
            .find(|cost| cost.pages > policy.max_live_pages)
            .map(|cost| AnalyticalShape {
                field: cost.path,
                entity: cost.entity,
                pattern: AnalyticalPattern::Sweep {
                    pages: cost.pages,
                    max_pages: policy.max_live_pages,
                },
            })
    })
}

/// The query that answers an analytical question about `entity` from Dataclips, e.g.
/// `analytics(projectId) { usageTotals(...) }`.
pub fn suggest_analytics_query(entity: Entity) -> Option<String> {
    analytics_field_for(entity).map(|field| format!("analytics(projectId) {{ {field}(...) }}"))
}

/// Decides where `shape` is answered. `accept_stale` is the age in seconds the client accepts
/// (`None`: it did not say; then cached answers up to the policy's freshness serve and
/// snapshots do not).
///
/// In order: writes go live (if within budget); analytical shapes are answered from dataclip
/// snapshots the client accepts, else refused with a hint; then the cache; then snapshots the
/// client accepts; then the live API if within budget.
pub fn route(
    shape: &OperationShape,
    policy: &RoutePolicy,
    sources: &Sources,
    accept_stale: Option<u64>,
) -> RouteDecision {
    let cost = estimate(shape, &policy.cost);
    let live_or_too_costly = || {
        if cost.score > policy.budget {
            RouteDecision::TooCostly {
                estimate: cost,
                budget: policy.budget,
            }
        } else {
            RouteDecision::Live { estimate: cost }
        }
    };

    if shape.writes() {
        return live_or_too_costly();
    }
    let from_snapshots = snapshots_for(shape, sources, accept_stale);

    if let Some(reason) = analytical_shape(shape, policy) {
        if let Some(decision) = from_snapshots {
            return decision;
        }
        let analytics_field = reason
            .entity
            .and_then(analytics_field_for)
            .map(str::to_owned);
        let hint = match reason.entity.and_then(suggest_analytics_query) {
            Some(query) => {
                format!("{reason}: ask `{query}`, answered from Dataclips, or narrow the query")
            }
            None => format!(
                "{reason}: no analytics field answers it yet; narrow the query (first ≤ {}, \
                 windows ≤ {} days) or request a dataclip",
                policy.max_first, policy.max_date_window_days
            ),
        };
        return RouteDecision::UseDataclips {
            reason,
            analytics_field,
            hint,
        };
    }

    if let Some(age_secs) = sources.cache_age_secs
        && age_secs <= accept_stale.unwrap_or(policy.fresh_cache_secs)
    {
        return RouteDecision::Cache { age_secs };
    }
    from_snapshots.unwrap_or_else(live_or_too_costly)
}

/// The snapshots that answer every entity of `shape` within the client's accepted age.
/// Projects are the scope of every dataclip, not read from one.
fn snapshots_for(
    shape: &OperationShape,
    sources: &Sources,
    accept_stale: Option<u64>,
) -> Option<RouteDecision> {
    let max_age = accept_stale?;
    let entities: Vec<Entity> = shape
        .entities()
        .into_iter()
        .filter(|e| *e != Entity::Project)
        .collect();
    if entities.is_empty() {
        return None;
    }
    let mut dataclips = Vec::new();
    let mut oldest = 0;
    for entity in entities {
        let clip = dataclip_for(entity)?;
        let age = *sources.dataclip_age_secs.get(&entity)?;
        if age > max_age {
            return None;
        }
        oldest = oldest.max(age);
        dataclips.push(DataclipRef::from(clip));
    }
    Some(RouteDecision::Dataclip {
        dataclips,
        age_secs: oldest,
    })
}
