//! The scopes an approved request grants: per project, the entities of its workflows and
//! whether each is read or written. App keys are bound to these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Access, Entity, Operation, ProjectUrl, Workflow};

/// One grant: `access` to `entity` in `project`. Write access includes reading.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Scope {
    /// The project.
    pub project: ProjectUrl,
    /// The entity.
    pub entity: Entity,
    /// The access granted.
    pub access: Access,
}

impl Scope {
    /// Whether this scope allows `operation` on `entity` in `project`.
    pub fn permits(&self, project: &ProjectUrl, entity: Entity, operation: Operation) -> bool {
        self.project == *project && self.entity == entity && self.access.permits(operation.access())
    }
}

/// Compiles the scopes of `workflows` for each of `projects`: one scope per project and entity,
/// with write access if any workflow changes the entity, else read. An upload to an entity
/// also creates an attachment, so it grants write access to [`Entity::Attachment`]. Sorted by
/// project, then entity.
pub fn compile_scopes(projects: &[ProjectUrl], workflows: &[Workflow]) -> Vec<Scope> {
    let mut grants: BTreeMap<Entity, Access> = BTreeMap::new();
    let mut grant = |entity: Entity, access: Access| {
        let held = grants.entry(entity).or_insert(access);
        *held = (*held).max(access);
    };
    for access in workflows.iter().flat_map(|w| &w.entities) {
        for operation in &access.operations {
            grant(access.entity, operation.access());
            if *operation == Operation::Upload {
                grant(Entity::Attachment, Access::Write);
            }
        }
    }
    let mut projects: Vec<&ProjectUrl> = projects.iter().collect();
    projects.sort();
    projects.dedup();
    projects
        .into_iter()
        .flat_map(|project| {
            grants.iter().map(|(entity, access)| Scope {
                project: project.clone(),
                entity: *entity,
                access: *access,
            })
        })
        .collect()
}
