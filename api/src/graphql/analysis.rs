//! Static analysis of a parsed operation, before anything executes: which operation runs, its
//! kind, how deep it nests and how many aliases it uses. The limits checked here are the cheap
//! guards in front of the cost estimate.

use std::collections::HashMap;

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
    /// Fields selected once every fragment spread is expanded.
    pub fields: usize,
}

/// Deepest nesting of brackets (`{`, `[`, `(`) a document may have, counted on its text before
/// it is parsed. Selections are held to `graphql.max_depth` once parsed; values (lists, input
/// objects) have no other bound, and a list nested 400 deep in an argument parses, then
/// overflows the stack of the code that walks the value. The deepest input of the schema
/// (an access request's workflow's entity's operations, inside a mutation) nests under 20.
pub const MAX_BRACKET_NESTING: usize = 64;

/// Refuses a document whose brackets nest deeper than [`MAX_BRACKET_NESTING`], from its text:
/// a linear scan that skips strings, block strings and comments, so that it costs nothing
/// that grows with the nesting and runs before anything that recurses.
pub fn check_nesting(source: &str) -> Result<(), ApiError> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r') {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped delimiter inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n' | b'\r') {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_BRACKET_NESTING {
                    return Err(ApiError::new(
                        ErrorCode::QueryTooDeep,
                        format!("the document nests brackets more than {MAX_BRACKET_NESTING} deep"),
                    )
                    .with_details(serde_json::json!({ "maxNesting": MAX_BRACKET_NESTING })));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// Longest operation name accepted, in bytes. Names go into metrics labels, logs and the usage
/// ledger; no client needs more.
pub const MAX_OPERATION_NAME_BYTES: usize = 128;

/// Picks the operation to run, as the GraphQL spec says: the named one, or the only one.
pub fn select_operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Result<(Option<String>, &'a OperationDefinition), ApiError> {
    if let Some(name) = operation_name
        && name.len() > MAX_OPERATION_NAME_BYTES
    {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("operationName is longer than {MAX_OPERATION_NAME_BYTES} bytes"),
        ));
    }
    let (name, operation) = pick(document, operation_name)?;
    if name
        .as_ref()
        .is_some_and(|n| n.len() > MAX_OPERATION_NAME_BYTES)
    {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("the operation's name is longer than {MAX_OPERATION_NAME_BYTES} bytes"),
        ));
    }
    Ok((name, operation))
}

fn pick<'a>(
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

/// Analyses the selected operation and enforces the depth, alias and selection limits.
///
/// Every fragment is walked once, whatever the number of its spreads: its summary (depth
/// below it, aliases and fields it expands to) is memoized by name, and the counts of a spread
/// are the fragment's, added without walking it again. So a document of `n` fragments that each
/// spread the next twice is analysed in time linear in its text, and refused for the `2^n`
/// fields it would expand to, before validation or execution (which re-walk every spread) get it.
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
        fragments: HashMap::new(),
        visiting: Vec::new(),
    };
    let summary = walker.summarise(&operation.selection_set.node)?;
    let depth = summary.depth.saturating_add(1);
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
    if summary.aliases > limits.max_aliases {
        return Err(ApiError::new(
            ErrorCode::TooManyAliases,
            format!(
                "the operation uses {} aliases; at most {} are allowed",
                summary.aliases, limits.max_aliases
            ),
        )
        .with_details(
            serde_json::json!({ "aliases": summary.aliases, "maxAliases": limits.max_aliases }),
        ));
    }
    if summary.fields > limits.max_fields {
        return Err(ApiError::new(
            ErrorCode::TooManyFields,
            format!(
                "the operation selects {} fields once its fragments are expanded; at most {} are allowed",
                summary.fields, limits.max_fields
            ),
        )
        .with_details(
            serde_json::json!({ "fields": summary.fields, "maxFields": limits.max_fields }),
        ));
    }
    Ok(OperationInfo {
        name,
        kind,
        depth,
        aliases: summary.aliases,
        fields: summary.fields,
    })
}

/// What a selection set expands to: the levels nested below it, and the aliases and fields in
/// it with every fragment spread expanded (saturating: a fan-out document overflows `usize`).
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    depth: usize,
    aliases: usize,
    fields: usize,
}

impl Summary {
    fn add(&mut self, other: Self, depth_below: usize) {
        self.depth = self.depth.max(other.depth.saturating_add(depth_below));
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.fields = self.fields.saturating_add(other.fields);
    }
}

struct Walker<'a> {
    document: &'a ExecutableDocument,
    /// Each fragment's summary, once walked.
    fragments: HashMap<&'a str, Summary>,
    /// The fragments being walked, outermost first: a spread of one of them is a cycle.
    visiting: Vec<&'a str>,
}

impl<'a> Walker<'a> {
    fn summarise(&mut self, set: &'a SelectionSet) -> Result<Summary, ApiError> {
        let mut summary = Summary::default();
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    summary.fields = summary.fields.saturating_add(1);
                    if field.alias.is_some() {
                        summary.aliases = summary.aliases.saturating_add(1);
                    }
                    if !field.selection_set.node.items.is_empty() {
                        let below = self.summarise(&field.selection_set.node)?;
                        summary.add(below, 1);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let inner = self.summarise(&fragment.node.selection_set.node)?;
                    summary.add(inner, 0);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    summary.add(self.fragment(name)?, 0);
                }
            }
        }
        Ok(summary)
    }

    /// The summary of the fragment `name`, walked on its first spread only. An unknown fragment
    /// counts for nothing here: validation reports it.
    fn fragment(&mut self, name: &'a str) -> Result<Summary, ApiError> {
        if let Some(summary) = self.fragments.get(name) {
            return Ok(*summary);
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return Ok(Summary::default());
        };
        if let Some(at) = self.visiting.iter().position(|f| *f == name) {
            let mut path = self.visiting[at..].join(" → ");
            path.push_str(" → ");
            path.push_str(name);
            return Err(ApiError::new(
                ErrorCode::GraphqlValidationFailed,
                format!("fragment `{name}` spreads itself ({path})"),
            ));
        }
        self.visiting.push(name);
        let summary = self.summarise(&fragment.node.selection_set.node);
        self.visiting.pop();
        let summary = summary?;
        self.fragments.insert(name, summary);
        Ok(summary)
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
    fn a_fragment_cycle_is_refused_with_its_path() {
        let q = "{ ...A } fragment A on Q { ...B } fragment B on Q { ...A }";
        let error = info(q).expect_err("a cycle");
        assert_eq!(error.code, ErrorCode::GraphqlValidationFailed);
        assert!(error.message.contains("A → B → A"), "{}", error.message);
    }

    /// `{ ...F0 } fragment F0 on Query { ...F1 ...F1 } ... fragment Fn on Query { __typename }`:
    /// `2^n` fields from a document of a few hundred bytes.
    fn fan_out(n: usize) -> String {
        let mut q = String::from("{ ...F0 }");
        for i in 0..n {
            q.push_str(&format!(
                " fragment F{i} on Query {{ ...F{0} ...F{0} }}",
                i + 1
            ));
        }
        q.push_str(&format!(" fragment F{n} on Query {{ __typename }}"));
        q
    }

    #[test]
    fn fragments_are_counted_expanded_but_walked_once() {
        let info = info(&fan_out(10)).expect("1024 fields are allowed");
        assert_eq!(info.fields, 1024);
        assert_eq!(info.depth, 1);
    }

    #[test]
    fn a_fragment_fan_out_is_refused_for_the_fields_it_expands_to() {
        // 2^60 fields: counted, never walked; a walk per spread would not finish.
        let error = info(&fan_out(60)).expect_err("too many fields");
        assert_eq!(error.code, ErrorCode::TooManyFields);
        let error = info(&fan_out(200)).expect_err("saturates, still refused");
        assert_eq!(error.code, ErrorCode::TooManyFields);
    }

    #[test]
    fn depth_through_a_shared_fragment_is_relative_to_each_spread() {
        let q = "{ a { ...F } b { c { ...F } } } fragment F on T { d { e } }";
        // The root, b's, c's and d's selection sets: 4 levels through the second spread.
        assert_eq!(info(q).expect("ok").depth, 4);
    }

    #[test]
    fn aliases_inside_a_fragment_count_at_every_spread() {
        let q = "{ ...F ...F x: a } fragment F on Q { y: a z: a }";
        assert_eq!(info(q).expect("ok").aliases, 5);
    }

    #[test]
    fn brackets_nested_past_the_bound_are_refused_from_the_text() {
        let list = |n: usize| format!("{{ f(x: {}1{}) }}", "[".repeat(n), "]".repeat(n));
        assert!(check_nesting(&list(MAX_BRACKET_NESTING - 3)).is_ok());
        let error = check_nesting(&list(400)).expect_err("too deep");
        assert_eq!(error.code, ErrorCode::QueryTooDeep);
        let selections = format!("{}x{}", "{ a ".repeat(70), "}".repeat(70));
        assert!(check_nesting(&selections).is_err());
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let inside = "[".repeat(500);
        for q in [
            format!("{{ f(x: \"{inside}\") }}"),
            format!("{{ f(x: \"\\\"{inside}\") }}"),
            format!("{{ f(x: \"\"\"{inside} \\\"\"\" {inside}\"\"\") }}"),
            format!("# {inside}\n{{ f }}"),
        ] {
            assert!(check_nesting(&q).is_ok(), "{q}");
        }
    }

    #[test]
    fn an_overlong_operation_name_is_refused() {
        let long = "Q".repeat(MAX_OPERATION_NAME_BYTES + 1);
        let error = info(&format!("query {long} {{ me {{ id }} }}")).expect_err("too long");
        assert_eq!(error.code, ErrorCode::BadRequest);
        assert!(error.message.len() < 100, "{}", error.message);
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
