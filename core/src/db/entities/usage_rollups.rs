//! `usage_rollups`: the ledger summed per day, project, app key and endpoint or operation; kept
//! for good.

use sea_orm::entity::prelude::*;

/// A row of `usage_rollups`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "usage_rollups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub project_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub app_key_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub method: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub workflow: String,
    pub entity: String,
    pub action: String,
    pub count: i64,
    pub errors: i64,
    pub refused: i64,
    #[sea_orm(column_name = "status_4xx")]
    pub status_4xx: i64,
    #[sea_orm(column_name = "status_429")]
    pub status_429: i64,
    #[sea_orm(column_name = "status_5xx")]
    pub status_5xx: i64,
    #[sea_orm(column_name = "status_503")]
    pub status_503: i64,
    pub retries: i64,
    pub bytes_sent: i64,
    pub bytes_received: i64,
    pub duration_us_sum: i64,
    pub cache_hits: i64,
    pub cache_misses: i64,
    pub upstream_calls: i64,
    pub estimated_cost: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
