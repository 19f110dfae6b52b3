//! The cost of a GraphQL operation and the source that answers it.
//!
//! The api crate walks a parsed operation and builds an [`OperationShape`]: a plain tree of
//! [`FieldShape`]s, each with the entity it loads (if any), whether it is one record, a list
//! (with its `first`) or an aggregate, its date window, its filters, and whether it is a
//! mutation that writes. This module prices that tree ([`estimate`]) and decides where it is
//! answered ([`route`]).
//!
//! # The cost model
//!
//! Resolvers load related data through DataLoader, so all the loads of one field at one level
//! of the tree are batched into one load, whatever the number of parents. A batched load of
//! `rows` records costs `ceil(rows / page_size)` upstream pages, at least one. The rows of a
//! field are bounded statically:
//!
//! - a single record: one per parent;
//! - a list: `first` (or the connection's default page) per parent, fewer when filtered by a
//!   list of ids;
//! - an aggregate: [`CostModel::aggregate_rows`] (what it would scan if it were answered live).
//!
//! A mutation that writes costs one upstream call per write. The upstream calls of an operation
//! are therefore at most *one per field that loads an entity, plus its rows divided by the page
//! size*: they grow with the depth and width of the query, and with its rows only at one call
//! per page, never at one call per parent (the N+1 pattern). The estimate is an upper bound:
//! parents rarely fill every `first`.
//!
//! The score a client's budget is measured in is
//! `calls × call_weight + ceil(rows / rows_per_point) + writes × write_weight`.

mod route;

use serde::{Deserialize, Serialize};

use crate::model::Entity;
use crate::profile::UpstreamProfile;

pub use route::{
    AnalyticalPattern, AnalyticalShape, RouteDecision, RoutePolicy, Sources, analytical_shape,
    route, suggest_analytics_query,
};

/// A GraphQL operation, reduced to what its cost and route depend on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationShape {
    /// The operation's name, if it has one (for reports and errors).
    pub name: Option<String>,
    /// The root fields.
    pub fields: Vec<FieldShape>,
}

impl OperationShape {
    /// An operation with these root fields.
    pub fn new(name: Option<&str>, fields: Vec<FieldShape>) -> OperationShape {
        OperationShape {
            name: name.map(str::to_owned),
            fields,
        }
    }

    /// Whether any field is a mutation that writes.
    pub fn writes(&self) -> bool {
        fn any_write(fields: &[FieldShape]) -> bool {
            fields
                .iter()
                .any(|f| f.is_mutation_write || any_write(&f.children))
        }
        any_write(&self.fields)
    }

    /// The entities the operation loads or writes, sorted, without repeats.
    pub fn entities(&self) -> Vec<Entity> {
        fn collect(fields: &[FieldShape], into: &mut Vec<Entity>) {
            for field in fields {
                into.extend(field.entity);
                collect(&field.children, into);
            }
        }
        let mut entities = Vec::new();
        collect(&self.fields, &mut entities);
        entities.sort();
        entities.dedup();
        entities
    }
}

/// How many records a field returns per parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldKind {
    /// One record (or a scalar, or a wrapper object, when the field has no entity).
    Single,
    /// A connection: up to `first` records, or the default page when `first` is not given.
    List {
        /// The client's `first` argument.
        first: Option<u32>,
    },
    /// A figure computed over many records (a sum, a count, a series).
    Aggregate,
}

/// A filter argument of a field, as far as its cost is concerned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Filter {
    /// Only records changed since a time (`updated_since`): an incremental read.
    UpdatedSince,
    /// Only the records with these ids: at most `count` rows per parent.
    Ids {
        /// How many ids are listed.
        count: u32,
    },
    /// Equality on a field (`company_id`, `approval_status`, `tag`, ...).
    Equals {
        /// The field filtered on.
        field: String,
    },
}

/// One field of an operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldShape {
    /// The field's name (or alias) in the query.
    pub name: String,
    /// The entity the field loads or writes; `None` for scalars and wrapper objects, which cost
    /// nothing upstream.
    pub entity: Option<Entity>,
    /// One record, a list or an aggregate.
    pub kind: FieldKind,
    /// The length of the field's `from`/`to` window in days, if it has one.
    pub date_window_days: Option<u32>,
    /// The field's filters.
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// The selected sub-fields.
    #[serde(default)]
    pub children: Vec<FieldShape>,
    /// Whether the field is a mutation that writes upstream.
    #[serde(default)]
    pub is_mutation_write: bool,
}

impl FieldShape {
    fn new(name: &str, entity: Option<Entity>, kind: FieldKind) -> FieldShape {
        FieldShape {
            name: name.to_owned(),
            entity,
            kind,
            date_window_days: None,
            filters: Vec::new(),
            children: Vec::new(),
            is_mutation_write: false,
        }
    }

    /// A scalar or wrapper field that loads nothing.
    pub fn scalar(name: &str) -> FieldShape {
        FieldShape::new(name, None, FieldKind::Single)
    }

    /// A field that loads one record of `entity`.
    pub fn single(name: &str, entity: Entity) -> FieldShape {
        FieldShape::new(name, Some(entity), FieldKind::Single)
    }

    /// A connection of `entity` records with the client's `first`.
    pub fn list(name: &str, entity: Entity, first: Option<u32>) -> FieldShape {
        FieldShape::new(name, Some(entity), FieldKind::List { first })
    }

    /// An aggregate over `entity` records.
    pub fn aggregate(name: &str, entity: Entity) -> FieldShape {
        FieldShape::new(name, Some(entity), FieldKind::Aggregate)
    }

    /// A mutation that writes `entity`.
    pub fn mutation(name: &str, entity: Entity) -> FieldShape {
        FieldShape {
            is_mutation_write: true,
            ..FieldShape::new(name, Some(entity), FieldKind::Single)
        }
    }

    /// The same field with these sub-fields.
    pub fn with_children(mut self, children: Vec<FieldShape>) -> FieldShape {
        self.children = children;
        self
    }

    /// The same field with a date window of `days`.
    pub fn with_window_days(mut self, days: u32) -> FieldShape {
        self.date_window_days = Some(days);
        self
    }

    /// The same field with one more filter.
    pub fn with_filter(mut self, filter: Filter) -> FieldShape {
        self.filters.push(filter);
        self
    }
}

/// The prices of the cost model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct CostModel {
    /// Rows per upstream page of a batched load (the upstream's largest page).
    pub page_size: u32,
    /// Rows of a connection whose `first` is not given.
    pub default_first: u32,
    /// Rows an aggregate is assumed to scan if it were answered live.
    pub aggregate_rows: u64,
    /// Score per upstream call.
    pub call_weight: u64,
    /// Rows per score point.
    pub rows_per_point: u64,
    /// Score per write.
    pub write_weight: u64,
}

impl Default for CostModel {
    fn default() -> Self {
        CostModel::for_profile(&UpstreamProfile::default())
    }
}

impl CostModel {
    /// The default prices for an upstream profile: batched loads use its largest page, and a
    /// connection without `first` returns its default page.
    pub fn for_profile(profile: &UpstreamProfile) -> CostModel {
        CostModel {
            page_size: profile.max_page_size,
            default_first: profile.default_page_size,
            aggregate_rows: 100_000,
            call_weight: 10,
            rows_per_point: 100,
            write_weight: 50,
        }
    }
}

/// The static cost of an operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CostEstimate {
    /// Upstream calls: list and aggregate pages, batched single-record loads, writes.
    pub upstream_calls: u64,
    /// Rows loaded, at most.
    pub rows: u64,
    /// Pages of list and aggregate loads.
    pub pages: u64,
    /// Writes.
    pub writes: u64,
    /// The deepest level of fields that load an entity (0 when none does).
    pub depth: u32,
    /// The score a client's budget is measured in.
    pub score: u64,
}

/// The cost of one field, at its place in the tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldCost {
    /// The field's path from the root, names joined with dots.
    pub path: String,
    /// The entity loaded.
    pub entity: Option<Entity>,
    /// Rows loaded, at most, for all parents together.
    pub rows: u64,
    /// Pages of the batched load (lists and aggregates).
    pub pages: u64,
    /// Upstream calls of the field.
    pub calls: u64,
    /// Writes of the field (mutations only).
    pub writes: u64,
    /// The level of the field among fields that load entities (1 for a root entity field).
    pub depth: u32,
}

/// The cost of every field that loads or writes an entity, depth first.
pub fn field_costs(shape: &OperationShape, model: &CostModel) -> Vec<FieldCost> {
    let mut costs = Vec::new();
    for field in &shape.fields {
        visit(field, 1, 0, "", model, &mut costs);
    }
    costs
}

fn visit(
    field: &FieldShape,
    parents: u64,
    depth: u32,
    prefix: &str,
    model: &CostModel,
    costs: &mut Vec<FieldCost>,
) {
    let path = if prefix.is_empty() {
        field.name.clone()
    } else {
        format!("{prefix}.{}", field.name)
    };
    let Some(entity) = field.entity else {
        for child in &field.children {
            visit(child, parents, depth, &path, model, costs);
        }
        return;
    };
    let depth = depth + 1;
    let page = model.page_size;
    let per_parent_cap = field.filters.iter().find_map(|filter| match filter {
        Filter::Ids { count } => Some(u64::from(*count)),
        _ => None,
    });
    let (rows, pages, calls) = if field.is_mutation_write {
        (parents, 0, parents)
    } else {
        match field.kind {
            FieldKind::Single => {
                let rows = parents;
                (rows, 0, UpstreamProfile::pages(rows, page).max(1))
            }
            FieldKind::List { first } => {
                let mut per_parent = u64::from(first.unwrap_or(model.default_first));
                if let Some(cap) = per_parent_cap {
                    per_parent = per_parent.min(cap);
                }
                let rows = parents.saturating_mul(per_parent);
                let pages = UpstreamProfile::pages(rows, page).max(1);
                (rows, pages, pages)
            }
            FieldKind::Aggregate => {
                let rows = model.aggregate_rows;
                let pages = UpstreamProfile::pages(rows, page).max(1);
                (rows, pages, pages)
            }
        }
    };
    costs.push(FieldCost {
        path: path.clone(),
        entity: Some(entity),
        rows,
        pages,
        calls,
        writes: if field.is_mutation_write { parents } else { 0 },
        depth,
    });
    // An aggregate's sub-fields are parts of its figure, not further loads.
    if field.kind != FieldKind::Aggregate {
        for child in &field.children {
            visit(child, rows, depth, &path, model, costs);
        }
    }
}

/// The static cost of an operation under `model` (see the module's documentation).
pub fn estimate(shape: &OperationShape, model: &CostModel) -> CostEstimate {
    let costs = field_costs(shape, model);
    let writes = costs.iter().map(|c| c.writes).sum::<u64>();
    let upstream_calls = costs.iter().map(|c| c.calls).sum::<u64>();
    let rows = costs.iter().map(|c| c.rows).fold(0u64, u64::saturating_add);
    let pages = costs.iter().map(|c| c.pages).sum::<u64>();
    let depth = costs.iter().map(|c| c.depth).max().unwrap_or(0);
    let score = upstream_calls
        .saturating_mul(model.call_weight)
        .saturating_add(rows.div_ceil(model.rows_per_point.max(1)))
        .saturating_add(writes.saturating_mul(model.write_weight));
    CostEstimate {
        upstream_calls,
        rows,
        pages,
        writes,
        depth,
        score,
    }
}

#[cfg(test)]
mod tests;
