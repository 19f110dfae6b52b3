//! `form_stashes`: web form input kept across a re-login, keyed by the SHA-256 of its token.

use sea_orm::entity::prelude::*;

/// A row of `form_stashes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "form_stashes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    /// The page the input belongs to (`/requests/new`).
    pub path: String,
    /// JSON array of `[name, value]` pairs, secrets and CSRF tokens left out.
    pub fields: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
