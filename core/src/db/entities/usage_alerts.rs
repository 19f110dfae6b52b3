//! `usage_alerts`: thresholds crossed, one per project, app key, finding code and day.

use sea_orm::entity::prelude::*;

/// A row of `usage_alerts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub day: String,
    pub project_id: String,
    /// '' for project-wide alerts.
    pub app_key_id: String,
    pub code: String,
    pub severity: String,
    pub title: String,
    pub detail: String,
    /// The finding's evidence, as JSON.
    pub evidence: String,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub acknowledged_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
