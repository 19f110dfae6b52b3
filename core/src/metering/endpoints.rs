//! Which SYNCHRO Perform entity and operation an upstream endpoint template serves, read from
//! the upstream profile's collection paths (so a tenant with other paths maps the same way).

use std::collections::HashMap;

use gatehouse_compliance::Entity;
use gatehouse_compliance::model::Operation;

use crate::upstream::UpstreamProfile;

/// Maps endpoint templates (`/api/v1/projects/{project_id}/resource_usages`) and methods to
/// entities and operations.
#[derive(Debug, Clone)]
pub(crate) struct EndpointMap {
    /// `{prefix}/{projects}`.
    projects: String,
    collections: HashMap<String, Entity>,
}

impl EndpointMap {
    /// The map of a profile.
    pub(crate) fn new(profile: &UpstreamProfile) -> Self {
        let prefix = profile.api_prefix.trim_end_matches('/');
        let projects = format!("{prefix}/{}", profile.projects_path.trim_matches('/'));
        let collections = Entity::ALL
            .into_iter()
            .filter_map(|entity| {
                profile
                    .collection(entity)
                    .map(|path| (path.to_owned(), entity))
            })
            .collect();
        Self {
            projects,
            collections,
        }
    }

    /// The entity and operation of a call, when the endpoint is one Gatehouse knows.
    pub(crate) fn classify(&self, method: &str, endpoint: &str) -> Option<(Entity, Operation)> {
        let rest = endpoint.strip_prefix(&self.projects)?;
        let read_or = |write: Operation| {
            if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
                Operation::Read
            } else {
                write
            }
        };
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [] | ["{project_id}"] => Some((Entity::Project, read_or(Operation::Update))),
            ["{project_id}", collection] => {
                let entity = *self.collections.get(*collection)?;
                Some((entity, read_or(Operation::Create)))
            }
            ["{project_id}", collection, "{id}"] => {
                let entity = *self.collections.get(*collection)?;
                let operation = if method.eq_ignore_ascii_case("DELETE") {
                    Operation::Delete
                } else {
                    read_or(Operation::Update)
                };
                Some((entity, operation))
            }
            ["{project_id}", _, "{id}", tail]
                if Some(Entity::Attachment) == self.collections.get(*tail).copied() =>
            {
                Some((Entity::Attachment, read_or(Operation::Upload)))
            }
            ["{project_id}", collection, "{id}", _action] => {
                let entity = *self.collections.get(*collection)?;
                Some((entity, read_or(Operation::Update)))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_templates_map_to_entities_and_operations() {
        let map = EndpointMap::new(&UpstreamProfile::default());
        let cases = [
            (
                "GET",
                "/api/v1/projects/{project_id}",
                Some((Entity::Project, Operation::Read)),
            ),
            (
                "GET",
                "/api/v1/projects",
                Some((Entity::Project, Operation::Read)),
            ),
            (
                "GET",
                "/api/v1/projects/{project_id}/resource_usages",
                Some((Entity::ResourceUsage, Operation::Read)),
            ),
            (
                "POST",
                "/api/v1/projects/{project_id}/resource_usages",
                Some((Entity::ResourceUsage, Operation::Create)),
            ),
            (
                "DELETE",
                "/api/v1/projects/{project_id}/resource_usages/{id}",
                Some((Entity::ResourceUsage, Operation::Delete)),
            ),
            (
                "PATCH",
                "/api/v1/projects/{project_id}/activities/{id}",
                Some((Entity::Activity, Operation::Update)),
            ),
            (
                "POST",
                "/api/v1/projects/{project_id}/dockets/{id}/actions",
                Some((Entity::Docket, Operation::Update)),
            ),
            (
                "POST",
                "/api/v1/projects/{project_id}/activities/{id}/attachments",
                Some((Entity::Attachment, Operation::Upload)),
            ),
            ("GET", "/api/v1/projects/{project_id}/unknown", None),
            ("GET", "/elsewhere", None),
        ];
        for (method, endpoint, expected) in cases {
            assert_eq!(
                map.classify(method, endpoint),
                expected,
                "{method} {endpoint}"
            );
        }
    }

    #[test]
    fn configured_collection_paths_are_followed() {
        let mut profile = UpstreamProfile::default();
        profile
            .collections
            .insert(Entity::ResourceUsage, "time_and_usage".to_owned());
        let map = EndpointMap::new(&profile);
        assert_eq!(
            map.classify("GET", "/api/v1/projects/{project_id}/time_and_usage"),
            Some((Entity::ResourceUsage, Operation::Read))
        );
    }
}
