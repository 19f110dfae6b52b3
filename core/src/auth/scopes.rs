//! What an app key may do: which projects, which entities, read or write.
//!
//! Write includes read. An admin sets scopes when creating a key; a key bound to an approved
//! access request gets the scopes compiled from the request's declared workflows.

use std::collections::BTreeMap;

use gatehouse_compliance::Entity;
pub use gatehouse_compliance::model::Access;
use serde::{Deserialize, Serialize};

/// The scopes of one app key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyScopes {
    /// Project ids the key may touch; `"*"` means every project the upstream token covers.
    pub projects: Vec<String>,
    /// The access granted per entity; entities not listed are refused.
    pub entities: BTreeMap<Entity, Access>,
}

impl KeyScopes {
    /// Scopes granting `access` to every listed entity on the listed projects.
    pub fn new(projects: Vec<String>, grants: impl IntoIterator<Item = (Entity, Access)>) -> Self {
        let mut entities = BTreeMap::new();
        for (entity, access) in grants {
            let slot = entities.entry(entity).or_insert(access);
            *slot = (*slot).max(access);
        }
        Self { projects, entities }
    }

    /// Whether the key may touch this project.
    pub fn allows_project(&self, project_id: &str) -> bool {
        self.projects
            .iter()
            .any(|p| p == "*" || p.eq_ignore_ascii_case(project_id))
    }

    /// Whether the key may read (or, with `Access::Write`, change) this entity.
    pub fn allows(&self, entity: Entity, access: Access) -> bool {
        self.entities
            .get(&entity)
            .is_some_and(|granted| *granted >= access)
    }

    /// A one-line description for people (`projects *; read activity, event; write activity`).
    pub fn describe(&self) -> String {
        let list = |want: Access| {
            self.entities
                .iter()
                .filter(|(_, a)| **a == want)
                .map(|(e, _)| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "projects {}; read {}; write {}",
            if self.projects.is_empty() {
                "none".to_owned()
            } else {
                self.projects.join(", ")
            },
            list(Access::Read),
            list(Access::Write)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_includes_read_and_unlisted_entities_are_refused() {
        let scopes = KeyScopes::new(
            vec!["p1".into()],
            [
                (Entity::Activity, Access::Write),
                (Entity::Event, Access::Read),
            ],
        );
        assert!(scopes.allows(Entity::Activity, Access::Read));
        assert!(scopes.allows(Entity::Activity, Access::Write));
        assert!(scopes.allows(Entity::Event, Access::Read));
        assert!(!scopes.allows(Entity::Event, Access::Write));
        assert!(!scopes.allows(Entity::ResourceUsage, Access::Read));
        assert!(scopes.allows_project("p1"));
        assert!(!scopes.allows_project("p2"));
    }

    #[test]
    fn a_wildcard_project_allows_every_project() {
        let scopes = KeyScopes::new(vec!["*".into()], []);
        assert!(scopes.allows_project("anything"));
    }

    #[test]
    fn scopes_round_trip_through_json() {
        let scopes = KeyScopes::new(vec!["*".into()], [(Entity::ResourceUsage, Access::Read)]);
        let json = serde_json::to_string(&scopes).expect("serialise");
        assert_eq!(
            json,
            r#"{"projects":["*"],"entities":{"resource_usage":"read"}}"#
        );
        let back: KeyScopes = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, scopes);
    }
}
