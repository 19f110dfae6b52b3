//! `vault_records`: issued tokens and dataclip credentials, encrypted (AES-256-GCM).

use sea_orm::entity::prelude::*;

/// A row of `vault_records`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vault_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `token` or `dataclip_credentials`.
    pub kind: String,
    pub project_id: String,
    pub request_id: Option<Uuid>,
    /// 1 for the first record of a kind and project, +1 per rotation.
    pub version: i32,
    /// A token's scope (`read`, `read write`).
    pub scope: Option<String>,
    /// A dataclip user's name (not a secret; the password is).
    pub username: Option<String>,
    /// Base64 of the 96-bit nonce followed by the AES-256-GCM ciphertext and tag.
    pub ciphertext: String,
    /// First 12 hex digits of the secret's SHA-256.
    pub fingerprint: String,
    /// The secret's last four characters.
    pub last_four: String,
    pub issued_on: Option<Date>,
    pub expires_on: Option<Date>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// Set when a newer version replaced this one, or the request was revoked.
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
