//! Who may introspect the schema (`graphql.introspection`).
//!
//! async-graphql can switch introspection off per request, but then `__schema` and `__type`
//! quietly answer `null`; a client deserves to know why. So a caller the policy refuses gets a
//! clear error before execution when its document asks for them, and the executor has
//! introspection switched off for it as well, as a backstop. `__typename` is not introspection of
//! the schema (clients use it to tell union members apart) and always answers. The committed
//! schema (`gatehouse export-schema`) is built from the types, not by introspection, so it is the
//! same whatever the setting.

use async_graphql::IntrospectionMode;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

use crate::config::Introspection;
use crate::error::{ApiError, ErrorCode};
use crate::principal::Principal;

/// Applies `policy` to `request` from `principal`: `Err` when its document asks for the schema
/// and the caller may not; otherwise the request goes on, with introspection off in the executor
/// for a caller the policy refuses.
pub fn govern(
    request: &mut async_graphql::Request,
    policy: Introspection,
    principal: &Principal,
) -> Result<(), ApiError> {
    let allowed = match policy {
        Introspection::Always => true,
        Introspection::Authenticated => !matches!(principal, Principal::Anonymous),
        Introspection::Never => false,
    };
    if allowed {
        return Ok(());
    }
    request.introspection_mode = IntrospectionMode::Disabled;
    // A document that does not parse is refused elsewhere, with its parse error.
    let Ok(document) = request.parsed_query() else {
        return Ok(());
    };
    if !asks_for_schema(document) {
        return Ok(());
    }
    Err(match policy {
        Introspection::Never => ApiError::new(
            ErrorCode::Forbidden,
            "introspection (__schema, __type) is disabled on this server; build against the \
             published schema",
        ),
        _ => ApiError::new(
            ErrorCode::Unauthenticated,
            "introspection (__schema, __type) needs an app key or a signed-in session",
        ),
    })
}

/// Whether any operation or fragment of the document selects `__schema` or `__type`, at any
/// depth. Walked with a stack of its own, so that a deeply nested document cannot exhaust the
/// thread's stack before the depth limit has looked at it.
pub fn asks_for_schema(document: &ExecutableDocument) -> bool {
    let mut pending: Vec<&SelectionSet> = document
        .operations
        .iter()
        .map(|(_, operation)| &operation.node.selection_set.node)
        .chain(
            document
                .fragments
                .values()
                .map(|fragment| &fragment.node.selection_set.node),
        )
        .collect();
    while let Some(set) = pending.pop() {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    if matches!(field.node.name.node.as_str(), "__schema" | "__type") {
                        return true;
                    }
                    pending.push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    pending.push(&fragment.node.selection_set.node);
                }
                // Every fragment definition is walked on its own.
                Selection::FragmentSpread(_) => {}
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asks(query: &str) -> bool {
        let document = async_graphql::parser::parse_query(query).expect("parses");
        asks_for_schema(&document)
    }

    #[test]
    fn schema_and_type_are_found_wherever_they_hide() {
        assert!(asks("{ __schema { types { name } } }"));
        assert!(asks(
            "query { me { kind } __type(name: \"Query\") { name } }"
        ));
        assert!(asks("{ ... on Query { __schema { queryType { name } } } }"));
        assert!(asks(
            "{ ...Spy } fragment Spy on Query { __schema { types { name } } }"
        ));
        assert!(asks(
            "query A { me { kind } } query B { __schema { types { name } } }"
        ));
    }

    #[test]
    fn typename_and_ordinary_fields_are_not_introspection() {
        assert!(!asks("{ __typename me { __typename kind } }"));
        assert!(!asks("{ me { kind } }"));
    }

    #[test]
    fn anonymous_callers_are_refused_under_authenticated_with_unauthenticated() {
        let mut request = async_graphql::Request::new("{ __schema { types { name } } }");
        let error = govern(
            &mut request,
            Introspection::Authenticated,
            &Principal::Anonymous,
        )
        .expect_err("refused");
        assert_eq!(error.code, ErrorCode::Unauthenticated);
        let mut request = async_graphql::Request::new("{ __typename }");
        govern(
            &mut request,
            Introspection::Authenticated,
            &Principal::Anonymous,
        )
        .expect("__typename answers");
        assert_eq!(request.introspection_mode, IntrospectionMode::Disabled);
        let mut request = async_graphql::Request::new("{ __schema { types { name } } }");
        govern(&mut request, Introspection::Always, &Principal::Anonymous).expect("allowed");
        assert_eq!(request.introspection_mode, IntrospectionMode::Enabled);
        let error = govern(&mut request, Introspection::Never, &Principal::Anonymous)
            .expect_err("never is never");
        assert_eq!(error.code, ErrorCode::Forbidden);
    }
}
