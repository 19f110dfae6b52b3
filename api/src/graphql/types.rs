//! GraphQL types shared by several areas.

use async_graphql::Enum;
pub use gatehouse_core::graphql::EntityName;

/// Read or write. `WRITE` includes `READ`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "gatehouse_compliance::model::Access")]
pub enum AccessLevel {
    /// Queries only.
    Read,
    /// Queries and mutations.
    Write,
}
