//! The GraphQL schema: one object per domain area, merged into the root types.
//!
//! Resolvers are thin: they take the services and the caller from the context, turn input into
//! domain values, call one service function, and map the result to a GraphQL type of its own.

pub mod access;
pub mod access_types;
pub mod accounts;
pub mod analysis;
pub mod dataclips;
pub mod guard;
pub mod introspection;
pub mod metering;
pub mod perform;
pub mod types;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, MergedObject, Schema};

use crate::error::ApiError;
use crate::principal::Principal;
use crate::services::Services;

/// The root query.
#[derive(MergedObject, Default, Debug)]
pub struct Query(
    accounts::AccountQuery,
    perform::PerformQuery,
    access::AccessQuery,
    dataclips::DataclipQuery,
    metering::MeteringQuery,
);

/// The root mutation.
#[derive(MergedObject, Default, Debug)]
pub struct Mutation(
    accounts::AccountMutation,
    perform::mutations::PerformMutation,
    access::AccessMutation,
    dataclips::DataclipMutation,
    metering::MeteringMutation,
);

/// Gatehouse's schema type.
pub type GatehouseSchema = Schema<Query, Mutation, EmptySubscription>;

/// Per-request data every resolver can reach.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Who is calling.
    pub principal: Principal,
    /// The request id (also in logs and the `x-request-id` header).
    pub request_id: String,
}

/// Builds the schema over the services. Limits here are backstops: the HTTP layer enforces
/// depth and aliases before execution with clearer errors.
pub fn build_schema(services: Arc<Services>) -> GatehouseSchema {
    let limits = &services.config.graphql;
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .limit_depth(limits.max_depth + 1)
        .limit_complexity(limits.max_complexity)
        .limit_recursive_depth(64)
        .data(services)
        .finish()
}

/// The schema in SDL, as committed in `api/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .finish()
        .sdl()
}

/// The services, from a resolver's context.
pub fn services<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Services>, ApiError> {
    ctx.data::<Arc<Services>>().map_err(|_| {
        ApiError::new(
            crate::error::ErrorCode::Internal,
            "services missing from context",
        )
    })
}

/// The request's context, from a resolver's context.
pub fn request<'a>(ctx: &Context<'a>) -> Result<&'a RequestContext, ApiError> {
    ctx.data::<RequestContext>()
        .map_err(|_| ApiError::new(crate::error::ErrorCode::Internal, "request context missing"))
}

/// The caller, from a resolver's context.
pub fn principal<'a>(ctx: &Context<'a>) -> Result<&'a Principal, ApiError> {
    Ok(&request(ctx)?.principal)
}
