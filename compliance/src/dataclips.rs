//! The Dataclips catalogue: which clip serves which entity, whether Bentley confirms the clip,
//! and which `analytics` field of Gatehouse's GraphQL API answers from it.

use serde::{Deserialize, Serialize};

use crate::model::Entity;

/// How often a backgrounded dataclip refreshes by default, in hours (KB0026536).
pub const DEFAULT_REFRESH_HOURS: u32 = 4;

/// One clip of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// The clip's slug, as in `/dataclips/{project_id}/{slug}.csv`.
    pub slug: &'static str,
    /// The clip's title in SYNCHRO Perform.
    pub title: &'static str,
    /// The entity whose rows the clip holds.
    pub entity: Entity,
    /// Whether Bentley's public catalogue lists the clip (the others mirror standard exports
    /// and are our inference).
    pub confirmed: bool,
}

/// The clips Gatehouse knows.
pub const CATALOGUE: [CatalogueEntry; 6] = [
    CatalogueEntry {
        slug: "activity-export",
        title: "Activity Export",
        entity: Entity::Activity,
        confirmed: true,
    },
    CatalogueEntry {
        slug: "applicable-rates",
        title: "Applicable Rates",
        entity: Entity::ApplicableRate,
        confirmed: true,
    },
    CatalogueEntry {
        slug: "attendance-export",
        title: "Attendance Export",
        entity: Entity::Attendance,
        confirmed: true,
    },
    CatalogueEntry {
        slug: "resource-usages-export",
        title: "Resource Usages Export",
        entity: Entity::ResourceUsage,
        confirmed: false,
    },
    CatalogueEntry {
        slug: "competencies",
        title: "Competencies",
        entity: Entity::Competency,
        confirmed: false,
    },
    CatalogueEntry {
        slug: "dockets",
        title: "Dockets",
        entity: Entity::Docket,
        confirmed: false,
    },
];

/// The clip that holds `entity`'s rows, if any.
pub fn dataclip_for(entity: Entity) -> Option<&'static CatalogueEntry> {
    CATALOGUE.iter().find(|entry| entry.entity == entity)
}

/// The field under `analytics(projectId)` of Gatehouse's GraphQL API that answers analytical
/// questions about `entity` from its dataclip, if there is one.
pub fn analytics_field_for(entity: Entity) -> Option<&'static str> {
    match entity {
        Entity::ResourceUsage => Some("usageTotals"),
        Entity::Attendance => Some("attendanceByDay"),
        Entity::Activity => Some("activityProgress"),
        Entity::ApplicableRate => Some("currentRates"),
        _ => None,
    }
}

/// A reference to a clip, as carried in assessments and route decisions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DataclipRef {
    /// The clip's slug.
    pub slug: String,
    /// The clip's title.
    pub title: String,
    /// The entity the clip holds.
    pub entity: Entity,
    /// Whether Bentley's public catalogue lists the clip.
    pub confirmed: bool,
}

impl From<&CatalogueEntry> for DataclipRef {
    fn from(entry: &CatalogueEntry) -> Self {
        DataclipRef {
            slug: entry.slug.to_owned(),
            title: entry.title.to_owned(),
            entity: entry.entity,
            confirmed: entry.confirmed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_public_clips_are_confirmed_and_the_inferred_ones_are_not() {
        let confirmed: Vec<&str> = CATALOGUE
            .iter()
            .filter(|e| e.confirmed)
            .map(|e| e.slug)
            .collect();
        assert_eq!(
            confirmed,
            vec!["activity-export", "applicable-rates", "attendance-export"]
        );
        assert_eq!(
            dataclip_for(Entity::ResourceUsage).map(|e| (e.slug, e.confirmed)),
            Some(("resource-usages-export", false))
        );
    }

    #[test]
    fn an_entity_without_a_clip_has_none() {
        assert_eq!(dataclip_for(Entity::Event), None);
        assert_eq!(analytics_field_for(Entity::Event), None);
    }

    #[test]
    fn every_entity_with_an_analytics_field_has_a_clip_behind_it() {
        for entity in Entity::ALL {
            if analytics_field_for(entity).is_some() {
                assert!(dataclip_for(entity).is_some(), "{entity}");
            }
        }
    }
}
