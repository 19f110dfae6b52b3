//! The static plan of an operation, made before anything executes: which projects and entities
//! it reads or writes (checked against the app key's scopes, so an operation outside scope is
//! refused before any upstream call), its shape for `compliance::cost` (estimate and route),
//! and the refusals that follow (`FORBIDDEN`, `TOO_COSTLY`, `USE_DATACLIPS`).

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::{Name, Value as ConstValue, Variables};
use chrono::NaiveDate;
use gatehouse_compliance::Entity;
use gatehouse_compliance::cost::{FieldKind, FieldShape, Filter, OperationShape};
use gatehouse_compliance::model::Access;

use crate::error::{ApiError, ErrorCode};
use crate::graphql::analysis::select_operation;

/// One entity an operation touches, in a project (`None`: every project the key may use).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Touch {
    /// The project, when the operation names it.
    pub project: Option<String>,
    /// The entity.
    pub entity: Entity,
    /// Read or write.
    pub access: Access,
}

/// The plan of an operation.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The shape priced by `compliance::cost`.
    pub shape: OperationShape,
    /// What it touches.
    pub touches: Vec<Touch>,
}

impl Plan {
    /// Whether the operation touches SYNCHRO Perform data at all.
    pub fn is_perform(&self) -> bool {
        !self.touches.is_empty()
    }

    /// The plan, if every project it names is shaped like a SYNCHRO Perform project id: an id
    /// of any other shape is refused here, before it reaches a scope check's message, the
    /// usage ledger or the upstream.
    pub fn checked_projects(self) -> Result<Self, ApiError> {
        let bad = self
            .touches
            .iter()
            .filter_map(|t| t.project.as_deref())
            .any(|id| !gatehouse_compliance::model::is_project_id(id));
        if bad {
            return Err(ApiError::invalid_field(
                "id",
                format!(
                    "is not a SYNCHRO Perform project id (letters, digits, `-` and `_`, at most {} characters)",
                    gatehouse_compliance::model::MAX_PROJECT_ID_LEN
                ),
            ));
        }
        Ok(self)
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Single,
    List,
}

/// A relation field of the facade's schema.
struct Relation {
    /// The GraphQL type of the field's records (`Resource`/`WorkReference` for unions).
    child: &'static str,
    entity: Option<Entity>,
    kind: Kind,
    access: Access,
}

const fn rel(child: &'static str, entity: Entity, kind: Kind) -> Relation {
    Relation {
        child,
        entity: Some(entity),
        kind,
        access: Access::Read,
    }
}

const fn write(child: &'static str, entity: Entity) -> Relation {
    Relation {
        child,
        entity: Some(entity),
        kind: Kind::Single,
        access: Access::Write,
    }
}

/// The relation fields by parent type and field name. Every field that loads SYNCHRO Perform
/// data is listed here; a test keeps the table and the schema in step.
fn relation(parent: &str, field: &str) -> Option<Relation> {
    use Entity as E;
    use Kind::{List, Single};
    Some(match (parent, field) {
        ("Query", "projects") => rel("Project", E::Project, List),
        ("Query", "project") => rel("Project", E::Project, Single),
        ("Project", "activities") => rel("Activity", E::Activity, List),
        ("Project", "activity") => rel("Activity", E::Activity, Single),
        ("Project", "events") => rel("Event", E::Event, List),
        ("Project", "event") => rel("Event", E::Event, Single),
        ("Project", "people") => rel("Person", E::Person, List),
        ("Project", "equipment") => rel("Equipment", E::Equipment, List),
        ("Project", "otherResources") => rel("OtherResource", E::OtherResource, List),
        ("Project", "resourceAssignments") => {
            rel("ResourceAssignment", E::ResourceAssignment, List)
        }
        ("Project", "resourceUsages") => rel("ResourceUsage", E::ResourceUsage, List),
        ("Project", "resourceUsage") => rel("ResourceUsage", E::ResourceUsage, Single),
        ("Project", "attendance") => rel("Attendance", E::Attendance, List),
        ("Project", "dockets") => rel("Docket", E::Docket, List),
        ("Project", "docket") => rel("Docket", E::Docket, Single),
        ("Activity", "events") => rel("Event", E::Event, List),
        ("Activity", "resourceUsages") => rel("ResourceUsage", E::ResourceUsage, List),
        ("Activity", "attachments") => rel("Attachment", E::Attachment, List),
        ("Activity", "progressEntries") => rel("ProgressEntry", E::ProgressEntry, List),
        ("Event", "activity") => rel("Activity", E::Activity, Single),
        ("Event", "resourceUsages") => rel("ResourceUsage", E::ResourceUsage, List),
        ("Event", "attachments") => rel("Attachment", E::Attachment, List),
        ("ResourceUsage", "resource") | ("ResourceAssignment", "resource") => Relation {
            child: "Resource",
            entity: None,
            kind: Single,
            access: Access::Read,
        },
        ("ResourceUsage", "workReference") => Relation {
            child: "WorkReference",
            entity: None,
            kind: Single,
            access: Access::Read,
        },
        ("ResourceUsage", "docket") => rel("Docket", E::Docket, Single),
        ("Attendance", "person") => rel("Person", E::Person, Single),
        ("Mutation", "updateActivity") => write("Activity", E::Activity),
        ("Mutation", "recordProgress") => write("ProgressEntry", E::ProgressEntry),
        ("Mutation", "createResourceUsage") => write("ResourceUsage", E::ResourceUsage),
        ("Mutation", "deleteResourceUsage") => write("DeletedResourceUsage", E::ResourceUsage),
        ("Mutation", "setDocketStatus") => write("Docket", E::Docket),
        ("Mutation", "uploadAttachment") => write("Attachment", E::Attachment),
        _ => return None,
    })
}

/// The entity of a concrete type named in a fragment on a union.
fn entity_of_type(name: &str) -> Option<Entity> {
    Some(match name {
        "Person" => Entity::Person,
        "Equipment" => Entity::Equipment,
        "OtherResource" => Entity::OtherResource,
        "Activity" => Entity::Activity,
        "Event" => Entity::Event,
        _ => return None,
    })
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    variables: &'a Variables,
    touches: HashSet<Touch>,
    visiting: HashSet<&'a str>,
    /// Fields the walk may still visit. The plan walks fragments expanded, so it runs after
    /// `analysis::analyse` has bounded the expanded fields; the budget keeps the walk bounded
    /// even if it ever ran first, and a walk that runs out refuses the operation rather than
    /// plan part of it (a partial plan would under-check scopes).
    budget: usize,
}

impl<'a> Walker<'a> {
    fn argument(&self, field: &Field, name: &str) -> Option<ConstValue> {
        let value = field.get_argument(name)?.node.clone();
        value
            .into_const_with(|var: Name| self.variables.get(&var).cloned().ok_or(()))
            .ok()
    }

    fn string_argument(&self, field: &Field, path: &[&str]) -> Option<String> {
        let mut value = self.argument(field, path[0])?;
        for key in &path[1..] {
            value = match value {
                ConstValue::Object(map) => map.get(*key)?.clone(),
                _ => return None,
            };
        }
        match value {
            ConstValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// Visits the fields of a selection set on `parent`, flattening fragments; `on` receives
    /// each field with the concrete type it was selected on.
    fn fields(
        &mut self,
        set: &'a SelectionSet,
        parent: &'a str,
        out: &mut Vec<(&'a Field, &'a str)>,
    ) {
        for item in &set.items {
            // Every selection visited counts, spreads too: a tree of spreads alone must not
            // recurse past the budget either.
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            match &item.node {
                Selection::Field(field) => out.push((&field.node, parent)),
                Selection::InlineFragment(fragment) => {
                    let on = fragment
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(parent, |c| c.node.on.node.as_str());
                    self.fields(&fragment.node.selection_set.node, on, out);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if let Some(fragment) = self.document.fragments.get(name)
                        && self.visiting.insert(name)
                    {
                        let on = fragment.node.type_condition.node.on.node.as_str();
                        self.fields(&fragment.node.selection_set.node, on, out);
                        self.visiting.remove(name);
                    }
                }
            }
        }
    }

    /// The shapes of the relation fields under `set`, selected on type `parent`.
    fn walk(
        &mut self,
        set: &'a SelectionSet,
        parent: &'a str,
        project: Option<&str>,
    ) -> Vec<FieldShape> {
        let mut fields = Vec::new();
        self.fields(set, parent, &mut fields);
        let mut shapes = Vec::new();
        for (field, on) in fields {
            let name = field.name.node.as_str();
            let Some(relation) = relation(on, name) else {
                continue;
            };
            let project = match (on, name) {
                ("Query", "project") => self.string_argument(field, &["id"]),
                ("Mutation", _) => self
                    .string_argument(field, &["input", "projectId"])
                    .or_else(|| self.string_argument(field, &["projectId"])),
                _ => project.map(str::to_owned),
            };
            let selection = &field.selection_set.node;
            // Records of a list are selected under `nodes` or `edges { node }`.
            let record_sets: Vec<&'a SelectionSet> = match relation.kind {
                Kind::Single => vec![selection],
                Kind::List if on == "Query" => vec![selection],
                Kind::List => {
                    let mut sets = Vec::new();
                    let mut wrapper = Vec::new();
                    self.fields(selection, "Connection", &mut wrapper);
                    for (inner, _) in wrapper {
                        match inner.name.node.as_str() {
                            "nodes" => sets.push(&inner.selection_set.node),
                            "edges" => {
                                let mut edge = Vec::new();
                                self.fields(&inner.selection_set.node, "Edge", &mut edge);
                                for (node, _) in edge {
                                    if node.name.node == "node" {
                                        sets.push(&node.selection_set.node);
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                    sets
                }
            };
            let mut children = Vec::new();
            let mut union_entities = Vec::new();
            for record_set in record_sets {
                if relation.entity.is_none() {
                    // A union: the entities are the fragments' type conditions.
                    let mut members = Vec::new();
                    self.fields(record_set, relation.child, &mut members);
                    for (member, member_type) in &members {
                        let _ = member;
                        if let Some(entity) = entity_of_type(member_type)
                            && !union_entities.contains(&entity)
                        {
                            union_entities.push(entity);
                        }
                    }
                    for entity in &union_entities {
                        let child_type = match entity {
                            Entity::Activity => "Activity",
                            Entity::Event => "Event",
                            Entity::Person => "Person",
                            Entity::Equipment => "Equipment",
                            _ => "OtherResource",
                        };
                        children.extend(self.walk(record_set, child_type, project.as_deref()));
                    }
                } else {
                    children.extend(self.walk(record_set, relation.child, project.as_deref()));
                }
            }
            let entities: Vec<Entity> = relation.entity.map_or(union_entities, |e| vec![e]);
            for entity in &entities {
                self.touches.insert(Touch {
                    project: project.clone(),
                    entity: *entity,
                    access: relation.access,
                });
            }
            let Some(entity) = entities.first().copied() else {
                continue;
            };
            let kind = match relation.kind {
                Kind::Single => FieldKind::Single,
                Kind::List => FieldKind::List {
                    first: match self.argument(field, "first") {
                        Some(ConstValue::Number(n)) => {
                            n.as_u64().and_then(|n| u32::try_from(n).ok())
                        }
                        _ => None,
                    },
                },
            };
            let mut shape = FieldShape {
                name: field.response_key().node.to_string(),
                entity: Some(entity),
                kind,
                date_window_days: None,
                filters: Vec::new(),
                children,
                is_mutation_write: relation.access == Access::Write,
            };
            if let (Some(from), Some(to)) = (
                self.string_argument(field, &["filter", "from"]),
                self.string_argument(field, &["filter", "to"]),
            ) && let (Ok(from), Ok(to)) = (from.parse::<NaiveDate>(), to.parse::<NaiveDate>())
            {
                let days = (to - from).num_days() + 1;
                shape.date_window_days = Some(u32::try_from(days.max(0)).unwrap_or(u32::MAX));
            }
            if let Some(ConstValue::Object(filter)) = self.argument(field, "filter") {
                for key in filter.keys() {
                    match key.as_str() {
                        "updatedSince" => shape.filters.push(Filter::UpdatedSince),
                        "from" | "to" => {}
                        other => shape.filters.push(Filter::Equals {
                            field: other.to_owned(),
                        }),
                    }
                }
            }
            shapes.push(shape);
        }
        shapes
    }
}

/// Visits of fields the plan may make per field `analyse` allowed: a field is visited once
/// as a record field and once as a connection's wrapper, again for each member of a union.
const VISITS_PER_FIELD: usize = 16;

/// Plans the selected operation, visiting at most `VISITS_PER_FIELD * max_fields` fields;
/// `TOO_MANY_FIELDS` past that.
pub fn plan(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    max_fields: usize,
) -> Result<Plan, ApiError> {
    let Ok((name, operation)) = select_operation(document, operation_name) else {
        return Ok(Plan::default());
    };
    let root = match operation.ty {
        async_graphql::parser::types::OperationType::Mutation => "Mutation",
        _ => "Query",
    };
    let mut walker = Walker {
        document,
        variables,
        touches: HashSet::new(),
        visiting: HashSet::new(),
        budget: max_fields.saturating_mul(VISITS_PER_FIELD),
    };
    let fields = walker.walk(&operation.selection_set.node, root, None);
    if walker.budget == 0 {
        return Err(ApiError::new(
            ErrorCode::TooManyFields,
            format!(
                "the operation selects too many fields to plan; at most {max_fields} are allowed"
            ),
        ));
    }
    let mut touches: Vec<Touch> = walker.touches.into_iter().collect();
    touches.sort_by(|a, b| (a.entity, a.access, &a.project).cmp(&(b.entity, b.access, &b.project)));
    Ok(Plan {
        shape: OperationShape::new(name.as_deref(), fields),
        touches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(query: &str, variables: serde_json::Value) -> Plan {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        plan(&document, None, &Variables::from_json(variables), 2_000).expect("plans")
    }

    #[test]
    fn a_nested_query_names_its_entities_and_projects() {
        let plan = plan_of(
            "query($p: ID!) { project(id: $p) { name activities(first: 100) { nodes { id events { nodes { id } } resourceUsages(first: 5) { edges { node { quantity resource { ... on Person { givenName } } } } } } } } }",
            serde_json::json!({"p": "p-1"}),
        );
        let entities: Vec<Entity> = plan.touches.iter().map(|t| t.entity).collect();
        assert_eq!(
            entities,
            [
                Entity::Project,
                Entity::Activity,
                Entity::Event,
                Entity::Person,
                Entity::ResourceUsage
            ]
        );
        assert!(
            plan.touches
                .iter()
                .all(|t| t.project.as_deref() == Some("p-1"))
        );
        let activities = &plan.shape.fields[0].children[0];
        assert_eq!(activities.kind, FieldKind::List { first: Some(100) });
        assert_eq!(activities.children.len(), 2);
    }

    #[test]
    fn a_date_window_is_measured_from_literals_or_variables() {
        let plan = plan_of(
            "query($f: UsageFilter) { project(id: \"p\") { resourceUsages(filter: $f) { nodes { id } } } }",
            serde_json::json!({"f": {"from": "2025-01-01", "to": "2025-06-30"}}),
        );
        assert_eq!(plan.shape.fields[0].children[0].date_window_days, Some(181));
    }

    #[test]
    fn mutations_are_writes_in_their_project() {
        let plan = plan_of(
            "mutation { updateActivity(input: {projectId: \"p\", id: \"a\", percentComplete: 5, idempotencyKey: \"k\"}) { id } }",
            serde_json::json!({}),
        );
        assert_eq!(
            plan.touches,
            [Touch {
                project: Some("p".into()),
                entity: Entity::Activity,
                access: Access::Write
            }]
        );
        assert!(plan.shape.writes());
    }

    #[test]
    fn a_walk_past_its_budget_refuses_instead_of_planning_part() {
        let mut query = String::from("{ ...F0 }");
        for i in 0..30 {
            query.push_str(&format!(
                " fragment F{i} on Query {{ ...F{0} ...F{0} }}",
                i + 1
            ));
        }
        query.push_str(" fragment F30 on Query { project(id: \"p\") { name } }");
        let document = async_graphql::parser::parse_query(&query).expect("parses");
        let error = plan(&document, None, &Variables::default(), 100).expect_err("refused");
        assert_eq!(error.code, ErrorCode::TooManyFields);
    }

    #[test]
    fn a_project_id_of_another_shape_is_refused_before_anything_uses_it() {
        let long = "p".repeat(20_000);
        let plan = plan_of(
            "query($p: ID!) { project(id: $p) { name } }",
            serde_json::json!({ "p": long }),
        );
        let error = plan.checked_projects().expect_err("refused");
        assert_eq!(error.code, ErrorCode::BadUserInput);
        assert!(error.message.len() < 200);
        let ok = plan_of(
            "{ project(id: \"3f2c-a_1\") { name } }",
            serde_json::json!({}),
        );
        assert!(ok.checked_projects().is_ok());
    }

    #[test]
    fn fields_outside_the_facade_touch_nothing() {
        let plan = plan_of("{ me { kind } }", serde_json::json!({}));
        assert!(!plan.is_perform());
    }
}
