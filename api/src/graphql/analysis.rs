//! Static analysis of a parsed operation, before anything executes: which operation runs, its
//! kind, how deep it nests and how many aliases it uses. The limits checked here are the cheap
//! guards in front of the cost estimate.

use std::collections::HashSet;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};

use crate::config::GraphqlConfig;
use crate::error::{ApiError, ErrorCode};

/// What kind of operation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    /// A query.
    Query,
    /// A mutation.
    Mutation,
    /// A subscription (not served).
    Subscription,
}

impl OperationKind {
    /// Label for metrics and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Mutation => "mutation",
            Self::Subscription => "subscription",
        }
    }
}

/// The facts about the selected operation.
#[derive(Debug, Clone)]
pub struct OperationInfo {
    /// The operation's name, if it has one.
    pub name: Option<String>,
    /// Query, mutation or subscription.
    pub kind: OperationKind,
    /// Deepest nesting of selection sets (a flat `{ me { id } }` is 2).
    pub depth: usize,
    /// Aliased fields.
    pub aliases: usize,
}

/// Picks the operation to run, as the GraphQL spec says: the named one, or the only one.
pub fn select_operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Result<(Option<String>, &'a OperationDefinition), ApiError> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), None | Some("")) => Ok((None, &op.node)),
        (DocumentOperations::Single(_), Some(name)) => Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("operationName `{name}` given, but the document's only operation is unnamed"),
        )),
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .get(name)
            .map(|op| (Some(name.to_owned()), &op.node))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::BadRequest,
                    format!("the document has no operation named `{name}`"),
                )
            }),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => Ok(ops
            .iter()
            .next()
            .map(|(name, op)| (Some(name.to_string()), &op.node))
            .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "the document is empty"))?),
        (DocumentOperations::Multiple(_), None) => Err(ApiError::new(
            ErrorCode::BadRequest,
            "the document has several operations: say which one in operationName",
        )),
    }
}

/// Analyses the selected operation and enforces the depth and alias limits.
pub fn analyse(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    limits: &GraphqlConfig,
) -> Result<OperationInfo, ApiError> {
    let (name, operation) = select_operation(document, operation_name)?;
    let kind = match operation.ty {
        OperationType::Query => OperationKind::Query,
        OperationType::Mutation => OperationKind::Mutation,
        OperationType::Subscription => OperationKind::Subscription,
    };
    let mut walker = Walker {
        document,
        aliases: 0,
        visiting: HashSet::new(),
    };
    let depth = walker.depth(&operation.selection_set.node, 1);
    if depth > limits.max_depth {
        return Err(ApiError::new(
            ErrorCode::QueryTooDeep,
            format!(
                "the operation nests {depth} levels deep; at most {} are allowed",
                limits.max_depth
            ),
        )
        .with_details(serde_json::json!({ "depth": depth, "maxDepth": limits.max_depth })));
    }
    if walker.aliases > limits.max_aliases {
        return Err(ApiError::new(
            ErrorCode::TooManyAliases,
            format!(
                "the operation uses {} aliases; at most {} are allowed",
                walker.aliases, limits.max_aliases
            ),
        )
        .with_details(
            serde_json::json!({ "aliases": walker.aliases, "maxAliases": limits.max_aliases }),
        ));
    }
    Ok(OperationInfo {
        name,
        kind,
        depth,
        aliases: walker.aliases,
    })
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    aliases: usize,
    /// Fragments on the current path, so that a (invalid) fragment cycle cannot loop forever;
    /// validation reports the cycle itself.
    visiting: HashSet<&'a str>,
}

impl<'a> Walker<'a> {
    fn depth(&mut self, set: &'a SelectionSet, level: usize) -> usize {
        let mut deepest = level;
        for item in &set.items {
            let d = match &item.node {
                Selection::Field(field) => {
                    if field.node.alias.is_some() {
                        self.aliases += 1;
                    }
                    if field.node.selection_set.node.items.is_empty() {
                        level
                    } else {
                        self.depth(&field.node.selection_set.node, level + 1)
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.depth(&fragment.node.selection_set.node, level)
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    match self.document.fragments.get(name) {
                        Some(fragment) if self.visiting.insert(name) => {
                            let d = self.depth(&fragment.node.selection_set.node, level);
                            self.visiting.remove(name);
                            d
                        }
                        _ => level,
                    }
                }
            };
            deepest = deepest.max(d);
        }
        deepest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(query: &str) -> Result<OperationInfo, ApiError> {
        let doc = async_graphql::parser::parse_query(query).expect("parses");
        analyse(&doc, None, &GraphqlConfig::default())
    }

    #[test]
    fn depth_counts_nested_selection_sets_through_fragments() {
        assert_eq!(info("{ me { id } }").expect("ok").depth, 2);
        let q = "query Q { a { ...F } } fragment F on T { b { c { d } } }";
        assert_eq!(info(q).expect("ok").depth, 4);
    }

    #[test]
    fn an_over_deep_operation_is_refused_with_its_code() {
        let mut q = String::from("{ a ");
        for _ in 0..20 {
            q.push_str("{ a ");
        }
        q.push_str(&"}".repeat(21));
        let error = info(&q).expect_err("too deep");
        assert_eq!(error.code, ErrorCode::QueryTooDeep);
    }

    #[test]
    fn aliases_are_counted_and_limited() {
        let fields: Vec<String> = (0..31).map(|i| format!("a{i}: me {{ id }}")).collect();
        let q = format!("{{ {} }}", fields.join(" "));
        assert_eq!(
            info(&q).expect_err("too many").code,
            ErrorCode::TooManyAliases
        );
    }

    #[test]
    fn fragment_cycles_do_not_loop() {
        let q = "{ ...A } fragment A on Q { ...B } fragment B on Q { ...A }";
        assert!(info(q).is_ok());
    }

    #[test]
    fn the_operation_is_selected_by_name() {
        let doc =
            async_graphql::parser::parse_query("query A { x } mutation B { y }").expect("parses");
        let limits = GraphqlConfig::default();
        assert_eq!(
            analyse(&doc, Some("B"), &limits).expect("ok").kind,
            OperationKind::Mutation
        );
        assert_eq!(
            analyse(&doc, None, &limits).expect_err("ambiguous").code,
            ErrorCode::BadRequest
        );
        assert_eq!(
            analyse(&doc, Some("C"), &limits).expect_err("missing").code,
            ErrorCode::BadRequest
        );
    }
}
