//! The GraphQL facade over SYNCHRO Perform: curated entity types of its own, Relay
//! connections, relations through DataLoader, two-way writes, and the static plan (scope,
//! cost, route) checked before anything executes.

pub mod connection;
pub mod enums;
pub mod inputs;
pub mod loader;
pub mod mutations;
pub mod nodes;
pub mod plan;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object, OutputType, Result};
use gatehouse_compliance::Entity;
use gatehouse_compliance::cost::{
    CostEstimate, CostModel, RouteDecision, RoutePolicy, Sources, estimate, route,
};
use gatehouse_compliance::model::Access;

use self::connection::{Conn, Resume, from_page, page_size, resume};
use self::nodes::ProjectNode;
use crate::error::{ApiError, ErrorCode};
use crate::principal::{Principal, parse_id};
use gatehouse_core::facade::{Facade, RequestMeta};
use gatehouse_core::upstream::ListQuery;
use gatehouse_core::upstream::model::Record;
use loader::PerformLoader;

/// How long a DataLoader gathers keys before a batch.
pub const LOADER_DELAY: std::time::Duration = std::time::Duration::from_millis(10);

/// Per-request facade data: the request's meta and its DataLoader.
#[derive(Clone)]
pub struct PerformRequest {
    /// Sources, cache outcomes, upstream calls of this request.
    pub meta: Arc<RequestMeta>,
    /// The request's loader (batches relation loads).
    pub loader: Arc<DataLoader<PerformLoader>>,
}

impl std::fmt::Debug for PerformRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerformRequest")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl PerformRequest {
    /// Fresh per-request data over the facade.
    pub fn new(facade: Arc<Facade>, meta: Arc<RequestMeta>) -> Self {
        let loader = PerformLoader {
            facade,
            meta: meta.clone(),
        };
        Self {
            meta,
            // Loads of one relation made while a level of the query resolves are gathered for
            // this long before one batched upstream read; 1 ms (the default) splits batches
            // when resolving a level of a few hundred nodes takes longer than that.
            loader: Arc::new(DataLoader::new(loader, tokio::spawn).delay(LOADER_DELAY)),
        }
    }
}

/// What a resolver needs once the caller is allowed.
pub(crate) struct Allowed<'a> {
    pub facade: &'a Arc<Facade>,
    pub request: &'a PerformRequest,
    pub max_page_size: u32,
    pub default_page_size: u32,
    /// The key that signs this server's cursors.
    pub cursors: &'a crate::cursor::CursorKey,
}

/// Checks that the caller may `access` `entity` in `project` and returns the facade.
pub(crate) fn allow<'a>(
    ctx: &Context<'a>,
    project: &str,
    entity: Entity,
    access: Access,
) -> Result<Allowed<'a>, ApiError> {
    check_scope(super::principal(ctx)?, project, entity, access)?;
    let services = super::services(ctx)?;
    let request = ctx
        .data::<PerformRequest>()
        .map_err(|_| ApiError::new(ErrorCode::Internal, "facade request data missing"))?;
    Ok(Allowed {
        facade: &services.facade,
        request,
        max_page_size: services.config.graphql.max_page_size,
        default_page_size: services.config.graphql.default_page_size,
        cursors: &services.cursors,
    })
}

/// The scope rule: only app keys read SYNCHRO Perform data, and only within their scopes (a
/// key that may use a project may always read the project record).
pub fn check_scope(
    principal: &Principal,
    project: &str,
    entity: Entity,
    access: Access,
) -> Result<(), ApiError> {
    let key = match principal {
        Principal::AppKey(key) => key,
        Principal::Anonymous => return Err(ApiError::unauthenticated()),
        Principal::User { .. } => {
            return Err(ApiError::forbidden(
                "SYNCHRO Perform data is served to app keys; create a key for your application",
            ));
        }
    };
    if !key.scopes.allows_project(project) {
        return Err(
            ApiError::forbidden(format!("this app key may not use project {project}"))
                .with_details(serde_json::json!({ "project": project })),
        );
    }
    // A key that may use a project may read the project record itself.
    let implied = entity == Entity::Project && access == Access::Read;
    if !implied && !key.scopes.allows(entity, access) {
        let verb = match access {
            Access::Read => "read",
            Access::Write => "write",
        };
        return Err(
            ApiError::forbidden(format!("this app key may not {verb} {entity}"))
                .with_details(serde_json::json!({ "entity": entity.as_str(), "access": verb })),
        );
    }
    Ok(())
}

/// Checks a planned operation before it runs: every entity and project it touches against the
/// caller's scopes (so nothing outside scope reaches the upstream), then its cost against the
/// budget and its shape against the live API's limits. Returns the estimate.
pub fn prepare(
    services: &crate::services::Services,
    principal: &Principal,
    plan: &plan::Plan,
    accept_stale: Option<u64>,
) -> Result<CostEstimate, ApiError> {
    for touch in &plan.touches {
        match &touch.project {
            Some(project) => check_scope(principal, project, touch.entity, touch.access)?,
            None => check_scope(principal, "*", touch.entity, touch.access).or_else(|error| {
                // `projects` lists only the projects a key may use; the entity rule still holds.
                match principal {
                    Principal::AppKey(key)
                        if touch.entity == Entity::Project
                            || key.scopes.allows(touch.entity, touch.access) =>
                    {
                        Ok(())
                    }
                    _ => Err(error),
                }
            })?,
        }
    }
    let config = &services.config;
    let profile = services.facade.client().profile();
    let budget = principal
        .app_key()
        .and_then(|k| k.cost_budget)
        .and_then(|b| u64::try_from(b).ok())
        .unwrap_or(config.graphql.default_cost_budget);
    let cost = CostModel {
        // A connection without `first` returns the facade's default page, not the upstream's.
        default_first: config.graphql.default_page_size,
        ..CostModel::for_profile(&profile.compliance_profile())
    };
    let policy = RoutePolicy {
        cost,
        max_date_window_days: config
            .graphql
            .max_live_window_days
            .min(profile.max_date_window_days),
        max_first: config.graphql.max_page_size,
        max_live_pages: config.graphql.max_live_pages,
        budget,
        fresh_cache_secs: config.cache.default_ttl_secs,
    };
    let estimate = estimate(&plan.shape, &policy.cost);
    // Snapshot ages are known per project; an operation over one project can be routed to them.
    let projects: std::collections::BTreeSet<&Option<String>> =
        plan.touches.iter().map(|t| &t.project).collect();
    let sources = match projects.into_iter().collect::<Vec<_>>().as_slice() {
        [Some(project)] => Sources {
            cache_age_secs: None,
            dataclip_age_secs: services.dataclips.snapshot_ages(project),
        },
        _ => Sources::default(),
    };
    match route(&plan.shape, &policy, &sources, accept_stale) {
        RouteDecision::TooCostly { estimate, budget } => Err(ApiError::new(
            ErrorCode::TooCostly,
            format!(
                "this operation is estimated at {} points ({} upstream calls, {} rows); the budget is {budget}",
                estimate.score, estimate.upstream_calls, estimate.rows
            ),
        )
        .with_details(serde_json::json!({
            "estimate": { "score": estimate.score, "upstreamCalls": estimate.upstream_calls, "rows": estimate.rows, "pages": estimate.pages },
            "budget": budget,
        }))),
        RouteDecision::UseDataclips { reason, analytics_field, hint } => Err(ApiError::new(ErrorCode::UseDataclips, hint.clone())
            .with_details(serde_json::json!({
                "analyticsField": analytics_field,
                "field": reason.field,
                "hint": hint,
            }))),
        RouteDecision::Dataclip { dataclips, age_secs } => {
            // The snapshot holds the export's names, not the REST API's relation ids, so the
            // live types cannot be filled from it: the client is pointed at the snapshot field
            // that answers the same question, with the snapshot's age.
            let clips: Vec<&str> = dataclips.iter().map(|d| d.slug.as_str()).collect();
            let field = dataclips.first().and_then(|d| snapshot_field_for(d.entity));
            let ask = field.map_or_else(
                || "analytics(projectId)".to_owned(),
                |f| format!("analytics(projectId) {{ {f} }}"),
            );
            Err(ApiError::new(
                ErrorCode::UseDataclips,
                format!(
                    "this question is answered from the Dataclips snapshots ({}, {age_secs} s old): ask `{ask}`",
                    clips.join(", ")
                ),
            )
            .with_details(serde_json::json!({
                "dataclips": clips,
                "snapshotAgeSeconds": age_secs,
                "analyticsField": field,
            })))
        }
        RouteDecision::Cache { .. } | RouteDecision::Live { .. } => Ok(estimate),
    }
}

/// The `analytics` field that answers a live list of `entity` from its snapshot: the usage
/// rows for usages, else the entity's analytical question.
fn snapshot_field_for(entity: Entity) -> Option<&'static str> {
    match entity {
        Entity::ResourceUsage => Some("usages"),
        other => gatehouse_compliance::dataclips::analytics_field_for(other),
    }
}

/// A top-level list of a project's collection as a connection. Its cursors are bound to the
/// entity, the project and the filters: a cursor of one list is refused by any other.
pub(crate) async fn list_connection<R: Record, N: OutputType>(
    allowed: &Allowed<'_>,
    project: &Arc<str>,
    filters: Vec<(String, String)>,
    first: Option<i32>,
    after: Option<String>,
    wrap: impl Fn(Arc<R>) -> N,
) -> Result<Conn<N>, ApiError> {
    let first = page_size(first, allowed.default_page_size, allowed.max_page_size)?;
    let mut scope = vec![
        "list".to_owned(),
        R::ENTITY.as_str().to_owned(),
        project.to_string(),
    ];
    scope.extend(filters.iter().map(|(k, v)| format!("{k}={v}")));
    let cursors = allowed.cursors.scope(&scope);
    let resume = resume(after.as_deref(), first, &cursors, allowed.max_page_size)?;
    let had_previous = after.is_some();
    let facade = allowed.facade;
    let meta = &allowed.request.meta;
    let query = ListQuery {
        filters: filters.clone(),
        page_size: Some(resume.size),
        cursor: resume.upstream.clone(),
    };
    let page = facade.list::<R>(meta, project, query).await?;
    if resume.skip >= page.items.len()
        && let Some(next) = page.next_cursor.clone()
    {
        // `after` was the last edge of its page: continue on the next one.
        let query = ListQuery {
            filters,
            page_size: Some(resume.size),
            cursor: Some(next.clone()),
        };
        let next_page = facade.list::<R>(meta, project, query).await?;
        let at = Resume {
            upstream: Some(next),
            skip: 0,
            size: resume.size,
        };
        return Ok(from_page(
            &next_page,
            &at,
            first,
            had_previous,
            &cursors,
            wrap,
        ));
    }
    Ok(from_page(
        &page,
        &resume,
        first,
        had_previous,
        &cursors,
        wrap,
    ))
}

/// Root fields of the facade.
#[derive(Default, Debug)]
pub struct PerformQuery;

#[Object]
impl PerformQuery {
    /// The SYNCHRO Perform projects this app key may use.
    async fn projects(&self, ctx: &Context<'_>) -> Result<Vec<ProjectNode>> {
        let principal = super::principal(ctx)?;
        let key = match principal {
            Principal::AppKey(key) => key,
            Principal::Anonymous => return Err(ApiError::unauthenticated().into()),
            Principal::User { .. } => {
                return Err(ApiError::forbidden(
                    "SYNCHRO Perform data is served to app keys; create a key for your application",
                )
                .into());
            }
        };
        let services = super::services(ctx)?;
        let request = ctx
            .data::<PerformRequest>()
            .map_err(|_| ApiError::new(ErrorCode::Internal, "facade request data missing"))?;
        let mut out = Vec::new();
        for project in services.facade.known_projects().await {
            if key.scopes.allows_project(&project) {
                let record = services
                    .facade
                    .project(&request.meta, &project)
                    .await
                    .map_err(ApiError::from)?;
                out.push(ProjectNode::new(Arc::from(project.as_str()), record));
            }
        }
        Ok(out)
    }

    /// One project by id.
    async fn project(&self, ctx: &Context<'_>, id: ID) -> Result<ProjectNode> {
        let project = parse_id("id", &id)?.to_string();
        let allowed = allow(ctx, &project, Entity::Project, Access::Read)?;
        let record = allowed
            .facade
            .project(&allowed.request.meta, &project)
            .await
            .map_err(ApiError::from)?;
        Ok(ProjectNode::new(Arc::from(project.as_str()), record))
    }
}
