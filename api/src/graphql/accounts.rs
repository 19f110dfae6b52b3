//! Accounts in GraphQL: `me`, users, app keys and the audit log.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::guard::RoleGuard;
use super::types::{AccessLevel, EntityName};
use super::{principal, services};
use crate::error::ApiError;
use crate::principal::{Principal, parse_id};
use gatehouse_core::audit::AuditEntry;
use gatehouse_core::auth::app_keys::{self, AppKeyInfo, NewAppKey};
use gatehouse_core::auth::{KeyScopes, Role, User, users};

/// A user's role.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Role", remote = "gatehouse_core::auth::Role")]
pub enum RoleName {
    /// A project contact.
    Contact,
    /// A governance reviewer.
    Reviewer,
    /// An administrator.
    Admin,
}

/// What kind of caller `me` is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerKind {
    /// A signed-in user.
    User,
    /// An app key.
    AppKey,
}

/// The caller of this request.
#[derive(SimpleObject, Debug, Clone)]
pub struct Me {
    /// User or app key.
    pub kind: CallerKind,
    /// The user's or key's id.
    pub id: ID,
    /// The user's email, for users.
    pub email: Option<String>,
    /// The user's role, for users.
    pub role: Option<RoleName>,
    /// The key, for app keys.
    pub app_key: Option<AppKeyView>,
}

/// A user account.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "User")]
pub struct UserView {
    /// Id.
    pub id: ID,
    /// Email (the sign-in name).
    pub email: String,
    /// Role.
    pub role: RoleName,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: ID(user.id.to_string()),
            email: user.email,
            role: user.role.into(),
            created_at: user.created_at,
            disabled: user.disabled,
        }
    }
}

/// One entity grant of a key.
#[derive(SimpleObject, Debug, Clone)]
pub struct EntityGrant {
    /// The entity.
    pub entity: EntityName,
    /// Read or write.
    pub access: AccessLevel,
}

/// What a key may do.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "KeyScopes")]
pub struct KeyScopesView {
    /// Project ids (`*` for all).
    pub projects: Vec<String>,
    /// Entity grants.
    pub entities: Vec<EntityGrant>,
}

impl From<&KeyScopes> for KeyScopesView {
    fn from(scopes: &KeyScopes) -> Self {
        Self {
            projects: scopes.projects.clone(),
            entities: scopes
                .entities
                .iter()
                .map(|(entity, access)| EntityGrant {
                    entity: (*entity).into(),
                    access: (*access).into(),
                })
                .collect(),
        }
    }
}

/// An app key. The key itself is never shown after creation.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "AppKey")]
pub struct AppKeyView {
    /// Id.
    pub id: ID,
    /// Name.
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    /// Scopes.
    pub scopes: KeyScopesView,
    /// Largest estimated cost of one operation, if limited.
    pub cost_budget: Option<i64>,
    /// Operations per minute, if limited.
    pub rate_per_minute: Option<i32>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// Revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The access request it is bound to, whose workflows its scopes come from.
    pub access_request_id: Option<ID>,
}

impl From<&AppKeyInfo> for AppKeyView {
    fn from(key: &AppKeyInfo) -> Self {
        Self {
            id: ID(key.id.to_string()),
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            scopes: (&key.scopes).into(),
            cost_budget: key.cost_budget,
            rate_per_minute: key.rate_per_minute,
            created_at: key.created_at,
            expires_at: key.expires_at,
            revoked_at: key.revoked_at,
            last_used_at: key.last_used_at,
            access_request_id: key.access_request_id.map(|id| ID(id.to_string())),
        }
    }
}

/// A created key: `key` is shown here once and never again.
#[derive(SimpleObject, Debug, Clone)]
pub struct CreatedAppKey {
    /// The key to give the client. Store it now: Gatehouse keeps only a hash.
    pub key: String,
    /// The key's record.
    pub app_key: AppKeyView,
}

/// One entry of the audit log.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "AuditEntry")]
pub struct AuditEntryView {
    /// Position in the log.
    pub id: ID,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who (`user:<id>`, `app_key:<id>`, `cli`, `system`).
    pub actor: String,
    /// What (`app_key.revoke`, ...).
    pub action: String,
    /// Kind of record.
    pub record_type: String,
    /// Record id.
    pub record_id: String,
    /// Summary of the change.
    pub summary: async_graphql::Json<serde_json::Value>,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(entry: AuditEntry) -> Self {
        Self {
            id: ID(entry.id.to_string()),
            occurred_at: entry.occurred_at,
            actor: entry.actor,
            action: entry.action,
            record_type: entry.record_type,
            record_id: entry.record_id,
            summary: async_graphql::Json(entry.summary),
        }
    }
}

/// A new user.
#[derive(InputObject, Debug)]
pub struct CreateUserInput {
    /// Email (sign-in name).
    pub email: String,
    /// Role.
    pub role: RoleName,
    /// Initial password (at least 12 characters).
    #[graphql(secret)]
    pub password: String,
}

/// One entity grant of a new key.
#[derive(InputObject, Debug)]
pub struct EntityGrantInput {
    /// The entity.
    pub entity: EntityName,
    /// Read or write.
    pub access: AccessLevel,
}

/// A new app key.
#[derive(InputObject, Debug)]
pub struct CreateAppKeyInput {
    /// A name for people.
    pub name: String,
    /// Project ids the key may touch (`*` for all).
    pub projects: Vec<String>,
    /// Entity grants.
    pub entities: Vec<EntityGrantInput>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// Largest estimated cost of one operation.
    pub cost_budget: Option<i64>,
    /// Operations per minute.
    pub rate_per_minute: Option<i32>,
}

/// Account queries.
#[derive(Default, Debug)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The caller of this request; null when no credentials were sent.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<Me>> {
        Ok(match principal(ctx)? {
            Principal::Anonymous => None,
            Principal::User { user, .. } => Some(Me {
                kind: CallerKind::User,
                id: ID(user.id.to_string()),
                email: Some(user.email.clone()),
                role: Some(user.role.into()),
                app_key: None,
            }),
            Principal::AppKey(key) => Some(Me {
                kind: CallerKind::AppKey,
                id: ID(key.id.to_string()),
                email: None,
                role: None,
                app_key: Some(key.as_ref().into()),
            }),
        })
    }

    /// Every user (admins only).
    #[graphql(guard = "RoleGuard(Role::Admin)")]
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<UserView>> {
        let services = services(ctx)?;
        let users = users::list(&services.db).await.map_err(ApiError::from)?;
        Ok(users.into_iter().map(Into::into).collect())
    }

    /// Every app key, newest first (admins only).
    #[graphql(guard = "RoleGuard(Role::Admin)")]
    async fn app_keys(&self, ctx: &Context<'_>) -> Result<Vec<AppKeyView>> {
        let services = services(ctx)?;
        let keys = app_keys::list(&services.db).await.map_err(ApiError::from)?;
        Ok(keys.iter().map(Into::into).collect())
    }

    /// The audit history of one record, oldest first; or the latest entries when no record is
    /// named (reviewers and admins).
    #[graphql(guard = "RoleGuard(Role::Reviewer)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        record_type: Option<String>,
        record_id: Option<String>,
        #[graphql(default = 100, validator(minimum = 1, maximum = 1000))] limit: u64,
    ) -> Result<Vec<AuditEntryView>> {
        let services = services(ctx)?;
        let entries = match (record_type, record_id) {
            (Some(t), Some(id)) => gatehouse_core::audit::history(&services.db, &t, &id).await,
            (None, None) => gatehouse_core::audit::recent(&services.db, limit).await,
            _ => {
                return Err(ApiError::invalid_field(
                    "recordId",
                    "give both recordType and recordId, or neither",
                )
                .into());
            }
        }
        .map_err(ApiError::from)?;
        Ok(entries.into_iter().map(Into::into).collect())
    }
}

/// Account mutations.
#[derive(Default, Debug)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates a user (admins only).
    #[graphql(guard = "RoleGuard(Role::Admin)")]
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> Result<UserView> {
        let services = services(ctx)?;
        let actor = principal(ctx)?.require_actor()?;
        let user = users::create_user(
            &services.db,
            &actor,
            &input.email,
            input.role.into(),
            &input.password,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(user.into())
    }

    /// Sets a new password for a user and ends their sessions (admins only).
    #[graphql(guard = "RoleGuard(Role::Admin)")]
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        email: String,
        #[graphql(secret)] new_password: String,
    ) -> Result<UserView> {
        let services = services(ctx)?;
        let actor = principal(ctx)?.require_actor()?;
        let user = users::reset_password(&services.db, &actor, &email, &new_password)
            .await
            .map_err(ApiError::from)?;
        Ok(user.into())
    }

    /// Creates an app key; the key is in the answer, once (admins only).
    #[graphql(guard = "RoleGuard(Role::Admin)")]
    async fn create_app_key(
        &self,
        ctx: &Context<'_>,
        input: CreateAppKeyInput,
    ) -> Result<CreatedAppKey> {
        let services = services(ctx)?;
        let actor = principal(ctx)?.require_actor()?;
        let scopes = KeyScopes::new(
            input.projects,
            input
                .entities
                .into_iter()
                .map(|g| (g.entity.into(), g.access.into())),
        );
        let (info, key) = app_keys::create(
            &services.db,
            &actor,
            NewAppKey {
                name: input.name,
                scopes,
                expires_at: input.expires_at,
                cost_budget: input.cost_budget,
                rate_per_minute: input.rate_per_minute,
                pinned_value: None,
                access_request_id: None,
            },
        )
        .await
        .map_err(ApiError::from)?;
        Ok(CreatedAppKey {
            key,
            app_key: (&info).into(),
        })
    }

    /// Revokes an app key at once (admins only).
    #[graphql(guard = "RoleGuard(Role::Admin)")]
    async fn revoke_app_key(&self, ctx: &Context<'_>, id: ID) -> Result<AppKeyView> {
        let services = services(ctx)?;
        let actor = principal(ctx)?.require_actor()?;
        let id = parse_id("id", &id)?;
        let info = app_keys::revoke(&services.db, &actor, id)
            .await
            .map_err(ApiError::from)?;
        services.keys.invalidate_all();
        Ok((&info).into())
    }
}
