//! The vault: upstream tokens Bentley issued and dataclip credentials, encrypted at rest.
//!
//! - AES-256-GCM under the key in `vault_key` (`GATEHOUSE_VAULT_KEY`); a random 96-bit nonce
//!   per encryption, stored with the ciphertext; the record's kind, id and project bound as
//!   associated data, so a ciphertext copied into another row does not decrypt.
//! - A wrong key or a tampered record is a [`VaultError::Undecryptable`], never garbage.
//! - Nothing leaves the vault but [`VaultRecord`]s: a fingerprint (the first 12 hex digits of
//!   the secret's SHA-256) and the last four characters. Only [`Vault::current_token`] (behind
//!   [`TokenSource`](crate::upstream::tokens::TokenSource), for the upstream client) hands out a secret, as a [`SecretString`].
//! - Rotation: recording a secret for a project that has one makes a new version current and
//!   revokes the old one in one transaction, so readers see either the old or the new token.
//! - Without a key the vault still reads its metadata, but refuses to store or decrypt.

pub(crate) mod cipher;
mod config;

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use uuid::Uuid;

pub(crate) use cipher::{Cipher, DecryptError, EncryptError};
pub use config::{VaultConfig, VaultKey, key_bytes};

use crate::audit::{self, Actor};
use crate::auth::secrets::sha256_hex;
use crate::clock::Clock;
use crate::db::entities::vault_records;
use crate::upstream::tokens::{BoxFuture, TokenSource};

/// What a vault record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::Enum),
    graphql(name = "SecretKindName")
)]
pub enum SecretKind {
    /// A SYNCHRO Perform API token for one project.
    Token,
    /// A dataclip user's password for one project.
    DataclipCredentials,
}

impl SecretKind {
    /// The stored name.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::DataclipCredentials => "dataclip_credentials",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "token" => Some(Self::Token),
            "dataclip_credentials" => Some(Self::DataclipCredentials),
            _ => None,
        }
    }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a vault operation failed. No variant carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// No `vault_key` is configured.
    #[error(
        "the vault has no key: set GATEHOUSE_VAULT_KEY (base64 of 32 random bytes) to record \
         tokens and credentials"
    )]
    NoKey,
    /// The record does not decrypt under the configured key.
    #[error(
        "vault record {record_id} cannot be decrypted: the vault key is not the one it was \
         stored under, or the record was tampered with"
    )]
    Undecryptable {
        /// The record.
        record_id: Uuid,
    },
    /// Encryption failed (only possible for absurdly large inputs).
    #[error(transparent)]
    Encrypt(EncryptError),
    /// An input was invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// The input field (camelCase).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// How close a record is to its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::Enum),
    graphql(name = "ExpiryState")
)]
pub enum Expiry {
    /// No expiry date was recorded.
    Unknown,
    /// Valid for more than the warning period.
    Valid,
    /// Expires within the warning period.
    ExpiringSoon,
    /// Expired.
    Expired,
}

/// A vault record as Gatehouse shows it: never the secret, only its fingerprint and last four
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "graphql",
    derive(async_graphql::SimpleObject),
    graphql(complex)
)]
pub struct VaultRecord {
    /// Id.
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub id: Uuid,
    /// Token or dataclip credentials.
    pub kind: SecretKind,
    /// The SYNCHRO Perform project.
    pub project_id: String,
    /// The access request it was recorded for.
    #[cfg_attr(feature = "graphql", graphql(skip))]
    pub request_id: Option<Uuid>,
    /// 1, then +1 per rotation.
    pub version: i32,
    /// A token's scope.
    pub scope: Option<String>,
    /// A dataclip user's name.
    pub username: Option<String>,
    /// First 12 hex digits of the secret's SHA-256.
    pub fingerprint: String,
    /// The secret's last four characters.
    pub last_four: String,
    /// When Bentley issued it.
    pub issued_on: Option<NaiveDate>,
    /// When it expires.
    pub expires_on: Option<NaiveDate>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it was replaced or revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Days until expiry (negative once expired).
    pub days_until_expiry: Option<i64>,
    /// Expiry state, given the configured warning period.
    pub expiry: Expiry,
}

impl VaultRecord {
    /// Whether this is the version in use.
    pub fn is_current(&self) -> bool {
        self.revoked_at.is_none()
    }

    /// A warning for people when the record expires soon or has expired.
    pub fn expiry_warning(&self) -> Option<String> {
        let days = self.days_until_expiry?;
        match self.expiry {
            Expiry::Expired => Some(format!(
                "the {} of project {} expired {} day(s) ago: ask Bentley for a new one",
                self.kind_label(),
                self.project_id,
                -days
            )),
            Expiry::ExpiringSoon => Some(format!(
                "the {} of project {} expires in {days} day(s): ask Bentley to renew it",
                self.kind_label(),
                self.project_id
            )),
            Expiry::Unknown | Expiry::Valid => None,
        }
    }

    fn kind_label(&self) -> &'static str {
        match self.kind {
            SecretKind::Token => "API token",
            SecretKind::DataclipCredentials => "dataclip credentials",
        }
    }
}

/// A secret to record.
#[derive(Debug)]
pub(crate) struct NewSecret {
    /// Token or dataclip credentials.
    pub(crate) kind: SecretKind,
    /// The SYNCHRO Perform project.
    pub(crate) project_id: String,
    /// The access request it is recorded for.
    pub(crate) request_id: Option<Uuid>,
    /// The secret: the token, or the dataclip user's password.
    pub(crate) secret: SecretString,
    /// A token's scope (`read`, `read write`).
    pub(crate) scope: Option<String>,
    /// A dataclip user's name.
    pub(crate) username: Option<String>,
    /// When Bentley issued it.
    pub(crate) issued_on: Option<NaiveDate>,
    /// When it expires.
    pub(crate) expires_on: Option<NaiveDate>,
}

/// The vault service.
#[derive(Debug, Clone)]
pub struct Vault {
    db: DatabaseConnection,
    cipher: Option<Cipher>,
    warning_days: u32,
    /// The time records are stamped and expire by.
    clock: Clock,
}

/// The associated data that binds a ciphertext to its row.
fn associated_data(kind: SecretKind, id: Uuid, project_id: &str) -> Vec<u8> {
    format!("gatehouse.vault.v1|{kind}|{id}|{project_id}").into_bytes()
}

/// The fingerprint and last four characters of a secret.
pub(crate) fn fingerprint(secret: &str) -> (String, String) {
    let digest = sha256_hex(secret);
    let chars: Vec<char> = secret.chars().collect();
    let last_four: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    (digest[..12].to_owned(), last_four)
}

impl Vault {
    /// A vault over `db`. `key` is the configured `vault_key` (already validated by the
    /// configuration); without one the vault refuses to store or decrypt.
    pub fn new(
        db: DatabaseConnection,
        key: Option<&VaultKey>,
        warning_days: u32,
    ) -> Result<Self, String> {
        let cipher = match key {
            Some(key) => Some(Cipher::new(&key.bytes()?)),
            None => None,
        };
        Ok(Self {
            db,
            cipher,
            warning_days,
            clock: Clock::system(),
        })
    }

    /// Goes by `clock` (the system clock by default).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Whether a key is configured.
    pub fn has_key(&self) -> bool {
        self.cipher.is_some()
    }

    /// Fails with [`VaultError::NoKey`] when no key is configured: call it before starting a
    /// change that will record a secret.
    pub(crate) fn require_key(&self) -> Result<(), VaultError> {
        self.cipher.as_ref().map(|_| ()).ok_or(VaultError::NoKey)
    }

    /// Records a secret on `conn` (the caller's transaction), with its audit entry. An earlier
    /// current record of the same kind and project is revoked in the same transaction.
    pub(crate) async fn record_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        new: NewSecret,
    ) -> Result<VaultRecord, VaultError> {
        let cipher = self.cipher.as_ref().ok_or(VaultError::NoKey)?;
        let project_id = new.project_id.trim().to_owned();
        if project_id.is_empty() {
            return Err(VaultError::Invalid {
                field: "projectId",
                message: "name the project".into(),
            });
        }
        let secret = new.secret.expose_secret().trim();
        if secret.len() < 8 {
            return Err(VaultError::Invalid {
                field: "secret",
                message: "is too short to be a real token or password (8 characters at least)"
                    .into(),
            });
        }
        if let (Some(issued), Some(expires)) = (new.issued_on, new.expires_on)
            && expires <= issued
        {
            return Err(VaultError::Invalid {
                field: "expiresOn",
                message: "must be after issuedOn".into(),
            });
        }
        let previous = vault_records::Entity::find()
            .filter(vault_records::Column::Kind.eq(new.kind.as_str()))
            .filter(vault_records::Column::ProjectId.eq(&project_id))
            .order_by_desc(vault_records::Column::Version)
            .all(conn)
            .await?;
        let version = previous.first().map_or(1, |row| row.version + 1);
        let now = self.clock.now();
        for row in previous.into_iter().filter(|r| r.revoked_at.is_none()) {
            let id = row.id;
            let old_version = row.version;
            let mut active: vault_records::ActiveModel = row.into();
            active.revoked_at = Set(Some(now));
            active.update(conn).await?;
            audit::record(
                conn,
                actor,
                &format!("vault.{}.replace", new.kind),
                "vault_record",
                &id.to_string(),
                json!({ "project_id": project_id, "version": old_version, "replaced_by_version": version }),
            )
            .await?;
        }

        let id = Uuid::new_v4();
        let (fingerprint, last_four) = fingerprint(secret);
        let ciphertext = cipher
            .encrypt(
                secret.as_bytes(),
                &associated_data(new.kind, id, &project_id),
            )
            .map_err(VaultError::Encrypt)?;
        let created_by = match actor {
            Actor::User(user) => Some(*user),
            _ => None,
        };
        let row = vault_records::ActiveModel {
            id: Set(id),
            kind: Set(new.kind.as_str().to_owned()),
            project_id: Set(project_id.clone()),
            request_id: Set(new.request_id),
            version: Set(version),
            scope: Set(new.scope.clone()),
            username: Set(new.username.clone()),
            ciphertext: Set(ciphertext),
            fingerprint: Set(fingerprint.clone()),
            last_four: Set(last_four.clone()),
            issued_on: Set(new.issued_on),
            expires_on: Set(new.expires_on),
            created_by: Set(created_by),
            created_at: Set(now),
            revoked_at: Set(None),
        }
        .insert(conn)
        .await?;
        audit::record(
            conn,
            actor,
            &format!("vault.{}.record", new.kind),
            "vault_record",
            &id.to_string(),
            json!({
                "project_id": project_id,
                "request_id": new.request_id,
                "version": version,
                "scope": new.scope,
                "username": new.username,
                "fingerprint": fingerprint,
                "last_four": last_four,
                "issued_on": new.issued_on,
                "expires_on": new.expires_on,
            }),
        )
        .await?;
        self.to_record(row)
    }

    /// Revokes every current record of a request, on `conn` (the transaction that revokes the
    /// request).
    pub(crate) async fn revoke_for_request_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        request_id: Uuid,
    ) -> Result<u64, DbErr> {
        let result = vault_records::Entity::update_many()
            .col_expr(
                vault_records::Column::RevokedAt,
                sea_orm::sea_query::Expr::value(self.clock.now()),
            )
            .filter(vault_records::Column::RequestId.eq(request_id))
            .filter(vault_records::Column::RevokedAt.is_null())
            .exec(conn)
            .await?;
        Ok(result.rows_affected)
    }

    /// The records of a request, newest first.
    pub(crate) async fn records_for_request(
        &self,
        request_id: Uuid,
    ) -> Result<Vec<VaultRecord>, VaultError> {
        let rows = vault_records::Entity::find()
            .filter(vault_records::Column::RequestId.eq(request_id))
            .order_by_desc(vault_records::Column::CreatedAt)
            .order_by_desc(vault_records::Column::Version)
            .all(&self.db)
            .await?;
        rows.into_iter().map(|row| self.to_record(row)).collect()
    }

    /// Every record, or the records of one project, newest first.
    pub async fn records(&self, project_id: Option<&str>) -> Result<Vec<VaultRecord>, VaultError> {
        let mut query = vault_records::Entity::find();
        if let Some(project_id) = project_id {
            query = query.filter(vault_records::Column::ProjectId.eq(project_id));
        }
        let rows = query
            .order_by_desc(vault_records::Column::CreatedAt)
            .order_by_desc(vault_records::Column::Version)
            .all(&self.db)
            .await?;
        rows.into_iter().map(|row| self.to_record(row)).collect()
    }

    /// The current, unexpired token of a project, decrypted.
    pub async fn current_token(
        &self,
        project_id: &str,
    ) -> Result<Option<SecretString>, VaultError> {
        self.current_secret(SecretKind::Token, project_id).await
    }

    /// The current dataclip user and password of a project, decrypted.
    pub(crate) async fn current_dataclip_credentials(
        &self,
        project_id: &str,
    ) -> Result<Option<(String, SecretString)>, VaultError> {
        let Some(row) = self
            .current_row(SecretKind::DataclipCredentials, project_id)
            .await?
        else {
            return Ok(None);
        };
        let username = row.username.clone().unwrap_or_default();
        let secret = self.decrypt(&row)?;
        Ok(Some((username, secret)))
    }

    async fn current_secret(
        &self,
        kind: SecretKind,
        project_id: &str,
    ) -> Result<Option<SecretString>, VaultError> {
        match self.current_row(kind, project_id).await? {
            Some(row) => self.decrypt(&row).map(Some),
            None => Ok(None),
        }
    }

    async fn current_row(
        &self,
        kind: SecretKind,
        project_id: &str,
    ) -> Result<Option<vault_records::Model>, VaultError> {
        let row = vault_records::Entity::find()
            .filter(vault_records::Column::Kind.eq(kind.as_str()))
            .filter(vault_records::Column::ProjectId.eq(project_id))
            .filter(vault_records::Column::RevokedAt.is_null())
            .order_by_desc(vault_records::Column::Version)
            .one(&self.db)
            .await?;
        let today = self.clock.now().date_naive();
        Ok(row.filter(|r| r.expires_on.is_none_or(|expires| expires >= today)))
    }

    fn decrypt(&self, row: &vault_records::Model) -> Result<SecretString, VaultError> {
        let cipher = self.cipher.as_ref().ok_or(VaultError::NoKey)?;
        let kind =
            SecretKind::parse(&row.kind).ok_or(VaultError::Undecryptable { record_id: row.id })?;
        let plain = cipher
            .decrypt(
                &row.ciphertext,
                &associated_data(kind, row.id, &row.project_id),
            )
            .map_err(|DecryptError| VaultError::Undecryptable { record_id: row.id })?;
        let text = String::from_utf8(plain)
            .map_err(|_| VaultError::Undecryptable { record_id: row.id })?;
        Ok(SecretString::from(text))
    }

    fn to_record(&self, row: vault_records::Model) -> Result<VaultRecord, VaultError> {
        let kind = SecretKind::parse(&row.kind).ok_or_else(|| {
            VaultError::Db(DbErr::Custom(format!(
                "vault record {} has an unknown kind",
                row.id
            )))
        })?;
        let today = self.clock.now().date_naive();
        let days_until_expiry = row.expires_on.map(|at| (at - today).num_days());
        let expiry = match days_until_expiry {
            None => Expiry::Unknown,
            Some(days) if days < 0 => Expiry::Expired,
            Some(days) if days <= i64::from(self.warning_days) => Expiry::ExpiringSoon,
            Some(_) => Expiry::Valid,
        };
        Ok(VaultRecord {
            id: row.id,
            kind,
            project_id: row.project_id,
            request_id: row.request_id,
            version: row.version,
            scope: row.scope,
            username: row.username,
            fingerprint: row.fingerprint,
            last_four: row.last_four,
            issued_on: row.issued_on,
            expires_on: row.expires_on,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
            days_until_expiry,
            expiry,
        })
    }
}

/// The upstream client takes a project's token from the vault first (see `app::build_facade`).
/// A record that cannot be decrypted (wrong key, tampered row) is logged and treated as no token,
/// so the call fails as `NoToken` rather than with garbage.
impl TokenSource for Vault {
    fn token_for<'a>(&'a self, project_id: &'a str) -> BoxFuture<'a, Option<SecretString>> {
        Box::pin(async move {
            match self.current_token(project_id).await {
                Ok(token) => token,
                Err(VaultError::NoKey) => None,
                Err(error) => {
                    tracing::warn!(project.id = project_id, error.message = %error, "vault token unusable");
                    None
                }
            }
        })
    }

    fn projects(&self) -> BoxFuture<'_, Vec<String>> {
        Box::pin(async move {
            if self.cipher.is_none() {
                return Vec::new();
            }
            let rows = vault_records::Entity::find()
                .select_only()
                .column(vault_records::Column::ProjectId)
                .distinct()
                .filter(vault_records::Column::Kind.eq(SecretKind::Token.as_str()))
                .filter(vault_records::Column::RevokedAt.is_null())
                .into_tuple::<String>()
                .all(&self.db)
                .await;
            match rows {
                Ok(projects) => projects,
                Err(error) => {
                    tracing::warn!(error.message = %error, "cannot list the vault's projects");
                    Vec::new()
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
