//! `access_requests`: access requests, their body as JSON of `compliance::AccessRequest`.

use sea_orm::entity::prelude::*;

/// A row of `access_requests`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "access_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The contact who owns the request.
    pub owner_id: Uuid,
    /// The lifecycle status (`crate::access::RequestStatus`'s stored name).
    pub status: String,
    /// The integration's name, for listings.
    pub title: String,
    /// JSON of `gatehouse_compliance::AccessRequest`.
    pub body: String,
    /// Bentley's support-ticket reference, once filed.
    pub bentley_reference: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
