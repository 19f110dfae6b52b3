//! `app_keys`: keys of programmatic clients, stored as a hash with a visible prefix.

use sea_orm::entity::prelude::*;

/// A row of `app_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "app_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// The first characters of the key, shown to people to tell keys apart.
    pub prefix: String,
    /// SHA-256 of the whole key (unique): the only form in which the key is kept.
    #[sea_orm(unique)]
    pub key_hash: String,
    /// JSON of [`crate::auth::scopes::KeyScopes`].
    pub scopes: String,
    pub cost_budget: Option<i64>,
    pub rate_per_minute: Option<i32>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    /// The access request whose workflows the key's scopes were compiled from, if any.
    pub access_request_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
