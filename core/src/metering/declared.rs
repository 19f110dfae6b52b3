//! The declared side of the findings: what was declared to Bentley for a project and app key.
//!
//! Declarations come from two places:
//! - **access requests**: an app key bound to an approved request (`app_keys.access_request_id`)
//!   is declared by that request, `Declared::from_request(&request, &assess(request).load)`; a
//!   project's declaration is every approved request that names it;
//! - **configuration** (`[[metering.declarations]]`): for usage that predates Gatehouse's
//!   access requests, or keys made without one.
//!
//! A request that was approved and later revoked or expired still declares: its usage is
//! measured against what it declared for the time it was in use.

use std::sync::Arc;
use std::time::Duration;

use gatehouse_compliance::findings::Declared;
use gatehouse_compliance::{AccessRequest, AssessmentPolicy, assess};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait};
use uuid::Uuid;

use super::Declaration;
use crate::db::entities::app_keys;

/// How long an app key's attributed workflow is remembered (a request's workflows change only
/// through review, and a key keeps its request for life).
const WORKFLOW_TTL: Duration = Duration::from_secs(60);

/// Where declarations come from.
#[derive(Clone)]
pub struct Declarations {
    configured: Arc<[Declaration]>,
    policy: AssessmentPolicy,
    /// App key → the workflow its calls are attributed to (looked up on every operation).
    workflows: moka::future::Cache<Uuid, Option<String>>,
}

impl std::fmt::Debug for Declarations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Declarations")
            .field("configured", &self.configured.len())
            .finish_non_exhaustive()
    }
}

impl Declarations {
    /// Declarations from `configured` and the access requests, assessed under `policy`.
    pub(crate) fn new(configured: &[Declaration], policy: AssessmentPolicy) -> Self {
        Self {
            configured: configured.into(),
            policy,
            workflows: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(WORKFLOW_TTL)
                .build(),
        }
    }

    fn declared_by(&self, request: &AccessRequest) -> Declared {
        Declared::from_request(request, &assess(request, &self.policy).load)
    }

    /// What was declared for `project` and, when given, `app_key`: the approved request the key
    /// is bound to, if it names the project; else the key's configured declaration; else the
    /// project's. For a whole project (no key), every approved request naming it and every
    /// configured declaration of it, merged. `None` when nothing was declared.
    pub(crate) async fn declared_for<C: ConnectionTrait>(
        &self,
        db: &C,
        project: &str,
        app_key: Option<Uuid>,
    ) -> Result<Option<Declared>, DbErr> {
        let mut parts = Vec::new();
        match app_key {
            Some(key) => {
                if let Some(request) = request_of_key(db, key).await?
                    && request
                        .project_urls
                        .iter()
                        .any(|url| url.project_id() == project)
                {
                    parts.push(self.declared_by(&request));
                } else {
                    parts.extend(configured_for_key(&self.configured, project, key));
                }
            }
            None => {
                for request in crate::access::approved_for_project(db, project).await? {
                    parts.push(self.declared_by(&request));
                }
                parts.extend(
                    self.configured
                        .iter()
                        .filter(|d| d.project_id == project)
                        .map(Declaration::declared),
                );
            }
        }
        Ok(merge(parts))
    }

    /// The declared workflow an app key's calls are attributed to: the only workflow of the
    /// request it is bound to, or of its configured declaration. `None` when it declares
    /// several (the ledger cannot tell which one a call served) or none.
    pub(crate) async fn workflow_for(
        &self,
        db: &DatabaseConnection,
        app_key: Uuid,
    ) -> Option<String> {
        let configured = self.configured.clone();
        let lookup = async move {
            let from_request = match request_of_key(db, app_key).await {
                Ok(request) => request.map(|r| only(r.workflows.iter().map(|w| &w.name))),
                Err(error) => {
                    tracing::warn!(error.message = %error, "cannot read the access request of an app key; its calls are not attributed to a workflow");
                    return None;
                }
            };
            from_request.unwrap_or_else(|| {
                let own = configured.iter().find(|d| d.app_key_id == Some(app_key));
                own.and_then(|d| only(d.workflows.iter().map(|w| &w.name)))
            })
        };
        self.workflows.get_with(app_key, lookup).await
    }
}

/// The one name, if there is exactly one.
fn only<'a>(mut names: impl Iterator<Item = &'a String>) -> Option<String> {
    match (names.next(), names.next()) {
        (Some(name), None) => Some(name.clone()),
        _ => None,
    }
}

/// The approved request `key` is bound to, if any.
async fn request_of_key<C: ConnectionTrait>(
    db: &C,
    key: Uuid,
) -> Result<Option<AccessRequest>, DbErr> {
    let Some(row) = app_keys::Entity::find_by_id(key).one(db).await? else {
        return Ok(None);
    };
    match row.access_request_id {
        Some(id) => crate::access::approved_body(db, id).await,
        None => Ok(None),
    }
}

/// The key's own configured declarations for `project`, else the project's key-less ones.
fn configured_for_key(configured: &[Declaration], project: &str, key: Uuid) -> Vec<Declared> {
    let of_project = configured.iter().filter(|d| d.project_id == project);
    let own: Vec<Declared> = of_project
        .clone()
        .filter(|d| d.app_key_id == Some(key))
        .map(Declaration::declared)
        .collect();
    if own.is_empty() {
        of_project
            .filter(|d| d.app_key_id.is_none())
            .map(Declaration::declared)
            .collect()
    } else {
        own
    }
}

/// One declaration of every workflow in `parts` (the first of a name wins).
fn merge(parts: Vec<Declared>) -> Option<Declared> {
    if parts.is_empty() {
        return None;
    }
    let mut declared = Declared::default();
    for part in parts {
        for workflow in part.workflows {
            if !declared.workflows.iter().any(|w| w.name == workflow.name) {
                declared.workflows.push(workflow);
            }
        }
    }
    Some(declared)
}
