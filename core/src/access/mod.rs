//! Access requests: what project contacts come to Gatehouse for.
//!
//! A contact describes the use case and workflows (a `compliance::AccessRequest`, stored as
//! JSON beside indexed columns), Gatehouse assesses it with `compliance::assess`, renders the
//! support-request draft ([`drafts`]), and reviewers take it through the lifecycle of
//! [`status`]. Every change and its audit entry commit in one transaction. Once Bentley issues
//! the token, a reviewer records it in the [`crate::vault`], and app keys are bound to the
//! request with the scopes compiled from its workflows.

mod config;
pub mod drafts;
pub mod input;
pub(crate) mod status;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use gatehouse_compliance::model::Workflow;
use gatehouse_compliance::{AccessRequest, Assessment, AssessmentPolicy, assess, compile_scopes};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEntry};
use crate::auth::app_keys::{self, AppKeyInfo, KeyError, KeyVerifier, NewAppKey};
use crate::auth::{KeyScopes, Role, User};
use crate::clock::Clock;
use crate::db::entities::{
    access_request_comments, access_requests, app_keys as app_key_rows, users,
};
use crate::vault::{NewSecret, SecretKind, Vault, VaultError, VaultRecord};

pub use config::AccessConfig;
pub use drafts::{DraftFormat, DraftKind, DraftRenderer};
pub use status::{Action, RequestStatus, Who};

/// The audit record type of access requests.
pub(crate) const RECORD_TYPE: &str = "access_request";

/// A stored access request.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRequest {
    /// Id.
    pub id: Uuid,
    /// The contact who owns it.
    pub owner_id: Uuid,
    /// The owner's email, when the account exists.
    pub owner_email: Option<String>,
    /// Lifecycle status.
    pub status: RequestStatus,
    /// The integration's name.
    pub title: String,
    /// What the contact described.
    pub body: AccessRequest,
    /// Bentley's support-ticket reference, once filed.
    pub bentley_reference: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A comment on a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Id.
    pub id: Uuid,
    /// The author.
    pub author_id: Uuid,
    /// The author's email.
    pub author_email: Option<String>,
    /// Why it was written: `comment`, or the action it explains (`request_changes`, ...).
    pub kind: String,
    /// The text.
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Why an access-request operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// No such request, or not visible to the caller.
    #[error("access request not found")]
    NotFound,
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The request's status does not allow this.
    #[error("{0}")]
    WrongStatus(String),
    /// An input was invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// The input field (camelCase path).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The request fails readiness checks and cannot be submitted.
    #[error("the request is not ready to submit: {}", .0.join("; "))]
    NotReady(Vec<String>),
    /// The user reached a daily quota (`[access.quotas]`).
    #[error("you have {what} {limit} times today, the most allowed; try again tomorrow (UTC)")]
    QuotaReached {
        /// What was counted, as a verb phrase ("created access requests").
        what: &'static str,
        /// The quota.
        limit: u32,
        /// Seconds until the quota starts again (midnight UTC).
        retry_after_secs: u64,
    },
    /// The vault refused.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// Creating the app key failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn invalid(field: &str, message: impl Into<String>) -> AccessError {
    AccessError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// A token to record for a request.
#[derive(Debug)]
pub struct IssuedToken {
    /// The project the token is for (one of the request's).
    pub project_id: String,
    /// The token.
    pub token: SecretString,
    /// `read` or `read write`.
    pub scope: String,
    /// When Bentley issued it.
    pub issued_on: NaiveDate,
    /// When it expires.
    pub expires_on: Option<NaiveDate>,
}

/// What one user may create per UTC day (`[access.quotas]`), so that one account cannot
/// flood reviewers or the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Quotas {
    /// Access requests one user may create per day.
    pub(crate) requests_per_day: u32,
    /// Comments one user may post per day.
    pub(crate) comments_per_day: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            requests_per_day: 20,
            comments_per_day: 200,
        }
    }
}

/// The access-request service.
#[derive(Debug, Clone)]
pub struct AccessRequests {
    db: DatabaseConnection,
    policy: AssessmentPolicy,
    limits: input::InputLimits,
    quotas: Quotas,
    drafts: Arc<dyn DraftRenderer>,
    vault: Arc<Vault>,
    keys: KeyVerifier,
    /// The time requests, comments and keys are stamped by.
    clock: Clock,
}

impl AccessRequests {
    /// The service over its collaborators, with the policy, limits and quotas of `config`.
    pub fn new(
        db: DatabaseConnection,
        config: &AccessConfig,
        drafts: Arc<dyn DraftRenderer>,
        vault: Arc<Vault>,
        keys: KeyVerifier,
    ) -> Self {
        Self {
            db,
            policy: config.policy(),
            limits: config.limits,
            quotas: config.quotas,
            drafts,
            vault,
            keys,
            clock: Clock::system(),
        }
    }

    /// Goes by `clock` (the system clock by default).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// How much one request may say.
    pub fn limits(&self) -> &input::InputLimits {
        &self.limits
    }

    /// Refuses a creation when `user` already made `quota` of them today: `count` counts
    /// the rows of the user's made since the start of the UTC day.
    async fn check_quota<F>(
        &self,
        what: &'static str,
        quota: u32,
        count: F,
    ) -> Result<(), AccessError>
    where
        F: AsyncFnOnce(DateTime<Utc>) -> Result<u64, DbErr>,
    {
        let now = self.clock.now();
        let midnight = now
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or(now);
        if count(midnight).await? >= u64::from(quota) {
            let tomorrow = midnight + chrono::Duration::days(1);
            return Err(AccessError::QuotaReached {
                what,
                limit: quota,
                retry_after_secs: u64::try_from((tomorrow - now).num_seconds().max(1)).unwrap_or(1),
            });
        }
        Ok(())
    }

    /// Assesses a request; stores nothing.
    pub fn assess(&self, request: &AccessRequest) -> Assessment {
        assess(request, &self.policy)
    }

    /// Stores a new draft owned by `user`.
    pub async fn create(
        &self,
        user: &User,
        body: AccessRequest,
    ) -> Result<StoredRequest, AccessError> {
        check_workflow_names(&body.workflows)?;
        self.check_quota(
            "created access requests",
            self.quotas.requests_per_day,
            async |since| {
                access_requests::Entity::find()
                    .filter(access_requests::Column::OwnerId.eq(user.id))
                    .filter(access_requests::Column::CreatedAt.gte(since))
                    .count(&self.db)
                    .await
            },
        )
        .await?;
        let now = self.clock.now();
        let id = Uuid::new_v4();
        let txn = crate::db::begin_write(&self.db).await?;
        let row = access_requests::ActiveModel {
            id: Set(id),
            owner_id: Set(user.id),
            status: Set(RequestStatus::Draft.as_str().to_owned()),
            title: Set(title_of(&body)),
            body: Set(to_json(&body)?),
            bentley_reference: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            &Actor::User(user.id),
            "access_request.create",
            RECORD_TYPE,
            &id.to_string(),
            json!({ "title": row.title, "status": row.status, "workflows": workflow_names(&body) }),
        )
        .await?;
        txn.commit().await?;
        self.stored(row, Some(user.email.clone()))
    }

    /// Replaces the body of the caller's own draft (or request with changes requested).
    pub async fn update(
        &self,
        user: &User,
        id: Uuid,
        body: AccessRequest,
    ) -> Result<StoredRequest, AccessError> {
        check_workflow_names(&body.workflows)?;
        self.edit(user, id, "access_request.update", move |_| Ok(body))
            .await
    }

    /// Adds a workflow to the caller's editable request.
    pub async fn add_workflow(
        &self,
        user: &User,
        id: Uuid,
        workflow: Workflow,
    ) -> Result<StoredRequest, AccessError> {
        let max = self.limits.max_workflows;
        self.edit(user, id, "access_request.add_workflow", move |mut body| {
            if body.workflows.len() >= max {
                return Err(invalid(
                    "workflow",
                    format!("the request has {max} workflows, the most allowed"),
                ));
            }
            body.workflows.push(workflow);
            check_workflow_names(&body.workflows)?;
            Ok(body)
        })
        .await
    }

    /// Removes the workflow named `name` from the caller's editable request.
    pub async fn remove_workflow(
        &self,
        user: &User,
        id: Uuid,
        name: &str,
    ) -> Result<StoredRequest, AccessError> {
        let name = name.trim().to_owned();
        self.edit(
            user,
            id,
            "access_request.remove_workflow",
            move |mut body| {
                let before = body.workflows.len();
                body.workflows
                    .retain(|w| !w.name.trim().eq_ignore_ascii_case(&name));
                if body.workflows.len() == before {
                    return Err(invalid(
                        "name",
                        format!("the request has no workflow named '{name}'"),
                    ));
                }
                Ok(body)
            },
        )
        .await
    }

    /// Loads the caller's editable request, applies `change` and stores it with an audit entry.
    async fn edit(
        &self,
        user: &User,
        id: Uuid,
        action: &str,
        change: impl FnOnce(AccessRequest) -> Result<AccessRequest, AccessError>,
    ) -> Result<StoredRequest, AccessError> {
        let txn = crate::db::begin_write(&self.db).await?;
        let row = find_row(&txn, id).await?;
        if row.owner_id != user.id {
            // Other people's requests are not editable, and not even visible to contacts.
            return Err(if user.role >= Role::Reviewer {
                AccessError::Forbidden("only the request's owner edits it".into())
            } else {
                AccessError::NotFound
            });
        }
        let status = parse_status(&row)?;
        if !status.is_editable() {
            return Err(AccessError::WrongStatus(format!(
                "the request is {status}: it can be edited only as a draft or when changes \
                 were requested"
            )));
        }
        let body = change(parse_body(&row)?)?;
        let previous_updated_at = row.updated_at;
        let mut active: access_requests::ActiveModel = row.into();
        active.title = Set(title_of(&body));
        active.body = Set(to_json(&body)?);
        active.updated_at = Set(self.clock.now().max(previous_updated_at));
        let row = active.update(&txn).await?;
        audit::record(
            &txn,
            &Actor::User(user.id),
            action,
            RECORD_TYPE,
            &id.to_string(),
            json!({ "title": row.title, "workflows": workflow_names(&body) }),
        )
        .await?;
        txn.commit().await?;
        self.stored(row, Some(user.email.clone()))
    }

    /// Takes a lifecycle action. `comment` is required for actions that need one and stored
    /// with the request; the transition, the comment and their audit entries commit together.
    pub async fn transition(
        &self,
        user: &User,
        id: Uuid,
        action: Action,
        comment: Option<String>,
    ) -> Result<StoredRequest, AccessError> {
        let txn = crate::db::begin_write(&self.db).await?;
        let row = find_row(&txn, id).await?;
        let status = parse_status(&row)?;
        if action == Action::Submit && status.is_editable() {
            let assessment = self.assess(&parse_body(&row)?);
            if let gatehouse_compliance::assess::Verdict::NeedsWork { items } = &assessment.verdict
            {
                return Err(AccessError::NotReady(
                    items
                        .iter()
                        .map(|item| format!("{}: {}", item.check, item.message))
                        .collect(),
                ));
            }
        }
        let row = self
            .apply(&txn, user, row, action, comment.as_deref(), json!({}))
            .await?;
        if matches!(action, Action::Revoke | Action::Expire) {
            self.withdraw(&txn, user, id).await?;
        }
        txn.commit().await?;
        if matches!(action, Action::Revoke | Action::Expire) {
            self.keys.invalidate_all();
        }
        self.with_owner(self.stored(row, None)?).await
    }

    /// Records that the support request was filed, with Bentley's ticket reference.
    pub async fn mark_filed(
        &self,
        user: &User,
        id: Uuid,
        reference: Option<String>,
    ) -> Result<StoredRequest, AccessError> {
        let reference = reference
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if reference.as_ref().is_some_and(|r| r.len() > 100) {
            return Err(invalid("reference", "must be at most 100 characters"));
        }
        let txn = crate::db::begin_write(&self.db).await?;
        let row = find_row(&txn, id).await?;
        let row = self
            .apply(
                &txn,
                user,
                row,
                Action::MarkFiled,
                None,
                json!({ "reference": reference }),
            )
            .await?;
        let mut active: access_requests::ActiveModel = row.into();
        active.bentley_reference = Set(reference);
        let row = active.update(&txn).await?;
        txn.commit().await?;
        self.with_owner(self.stored(row, None)?).await
    }

    /// Checks that `user` may take `action` on `row`, moves it (guarded against concurrent
    /// changes), stores the comment and writes the audit entries.
    async fn apply(
        &self,
        txn: &DatabaseTransaction,
        user: &User,
        row: access_requests::Model,
        action: Action,
        comment: Option<&str>,
        extra: serde_json::Value,
    ) -> Result<access_requests::Model, AccessError> {
        let status = parse_status(&row)?;
        let is_owner = row.owner_id == user.id;
        let is_reviewer = user.role >= Role::Reviewer;
        if !is_owner && !is_reviewer {
            return Err(AccessError::NotFound);
        }
        if !action.permits(is_owner, is_reviewer) {
            return Err(AccessError::Forbidden(match action.who() {
                Who::Owner => format!("only the request's owner can {}", action_phrase(action)),
                Who::OtherReviewer if is_owner => {
                    "nobody reviews their own request: another reviewer must".to_owned()
                }
                _ => format!("only a reviewer can {}", action_phrase(action)),
            }));
        }
        let next = action.next(status).ok_or_else(|| {
            AccessError::WrongStatus(format!(
                "the request is {status}: it cannot be {} now",
                past_phrase(action)
            ))
        })?;
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if action.needs_comment() && comment.is_none() {
            return Err(invalid("comment", "say why: the contact reads it"));
        }
        if comment.is_some_and(|c| c.chars().count() > 10_000) {
            return Err(invalid("comment", "must be at most 10,000 characters"));
        }
        let now = self.clock.now().max(row.updated_at);
        let moved = access_requests::Entity::update_many()
            .col_expr(access_requests::Column::Status, Expr::value(next.as_str()))
            .col_expr(access_requests::Column::UpdatedAt, Expr::value(now))
            .filter(access_requests::Column::Id.eq(row.id))
            .filter(access_requests::Column::Status.eq(status.as_str()))
            .exec(txn)
            .await?;
        if moved.rows_affected != 1 {
            return Err(AccessError::WrongStatus(
                "the request changed meanwhile: reload it and try again".into(),
            ));
        }
        let actor = Actor::User(user.id);
        let mut summary = json!({ "from": status.as_str(), "to": next.as_str() });
        if let (Some(map), serde_json::Value::Object(extra)) = (summary.as_object_mut(), extra) {
            map.extend(extra);
        }
        if let Some(text) = comment {
            let comment_id = self
                .insert_comment(txn, user, row.id, action.as_str(), text)
                .await?;
            if let Some(map) = summary.as_object_mut() {
                map.insert("comment_id".into(), json!(comment_id));
            }
        }
        audit::record(
            txn,
            &actor,
            &format!("access_request.{action}"),
            RECORD_TYPE,
            &row.id.to_string(),
            summary,
        )
        .await?;
        Ok(access_requests::Model {
            status: next.as_str().to_owned(),
            updated_at: now,
            ..row
        })
    }

    /// Revokes the request's app keys and vault records, in the transaction that withdrew it.
    async fn withdraw(
        &self,
        txn: &DatabaseTransaction,
        user: &User,
        id: Uuid,
    ) -> Result<(), AccessError> {
        let keys = app_key_rows::Entity::find()
            .filter(app_key_rows::Column::AccessRequestId.eq(id))
            .filter(app_key_rows::Column::RevokedAt.is_null())
            .all(txn)
            .await?;
        let now = self.clock.now();
        for key in keys {
            let key_id = key.id;
            let (name, prefix) = (key.name.clone(), key.prefix.clone());
            let mut active: app_key_rows::ActiveModel = key.into();
            active.revoked_at = Set(Some(now));
            active.update(txn).await?;
            audit::record(
                txn,
                &Actor::User(user.id),
                "app_key.revoke",
                "app_key",
                &key_id.to_string(),
                json!({ "name": name, "prefix": prefix, "access_request_id": id }),
            )
            .await?;
        }
        self.vault.revoke_for_request_in(txn, id).await?;
        Ok(())
    }

    async fn insert_comment(
        &self,
        txn: &DatabaseTransaction,
        user: &User,
        request_id: Uuid,
        kind: &str,
        body: &str,
    ) -> Result<Uuid, DbErr> {
        let id = Uuid::new_v4();
        access_request_comments::ActiveModel {
            id: Set(id),
            request_id: Set(request_id),
            author_id: Set(user.id),
            kind: Set(kind.to_owned()),
            body: Set(body.to_owned()),
            created_at: Set(self.clock.now()),
        }
        .insert(txn)
        .await?;
        Ok(id)
    }

    /// Adds a comment (the owner answering, or a reviewer) without changing the status.
    pub async fn comment(&self, user: &User, id: Uuid, body: &str) -> Result<Comment, AccessError> {
        let body = body.trim();
        let max = self.limits.max_long_text_chars;
        if body.is_empty() || body.chars().nth(max).is_some() {
            return Err(invalid("body", format!("must be 1 to {max} characters")));
        }
        self.check_quota(
            "posted comments",
            self.quotas.comments_per_day,
            async |since| {
                access_request_comments::Entity::find()
                    .filter(access_request_comments::Column::AuthorId.eq(user.id))
                    .filter(access_request_comments::Column::Kind.eq("comment"))
                    .filter(access_request_comments::Column::CreatedAt.gte(since))
                    .count(&self.db)
                    .await
            },
        )
        .await?;
        let txn = crate::db::begin_write(&self.db).await?;
        let row = find_row(&txn, id).await?;
        if row.owner_id != user.id && user.role < Role::Reviewer {
            return Err(AccessError::NotFound);
        }
        let comment_id = self.insert_comment(&txn, user, id, "comment", body).await?;
        audit::record(
            &txn,
            &Actor::User(user.id),
            "access_request.comment",
            RECORD_TYPE,
            &id.to_string(),
            json!({ "comment_id": comment_id }),
        )
        .await?;
        txn.commit().await?;
        Ok(Comment {
            id: comment_id,
            author_id: user.id,
            author_email: Some(user.email.clone()),
            kind: "comment".into(),
            body: body.to_owned(),
            created_at: self.clock.now(),
        })
    }

    /// A request the caller may see: their own, or any for reviewers.
    pub async fn get(&self, user: &User, id: Uuid) -> Result<StoredRequest, AccessError> {
        let row = find_row(&self.db, id).await?;
        if row.owner_id != user.id && user.role < Role::Reviewer {
            return Err(AccessError::NotFound);
        }
        self.with_owner(self.stored(row, None)?).await
    }

    /// The requests the caller may see, newest change first, optionally of one status.
    pub async fn list(
        &self,
        user: &User,
        status: Option<RequestStatus>,
    ) -> Result<Vec<StoredRequest>, AccessError> {
        let mut query = access_requests::Entity::find();
        if user.role < Role::Reviewer {
            query = query.filter(access_requests::Column::OwnerId.eq(user.id));
        }
        if let Some(status) = status {
            query = query.filter(access_requests::Column::Status.eq(status.as_str()));
        }
        let rows = query
            .order_by_desc(access_requests::Column::UpdatedAt)
            .all(&self.db)
            .await?;
        let emails = emails_of(&self.db, rows.iter().map(|r| r.owner_id)).await?;
        rows.into_iter()
            .map(|row| {
                let email = emails.get(&row.owner_id).cloned();
                self.stored(row, email)
            })
            .collect()
    }

    /// The caller's own requests, newest change first (a reviewer's "my requests" too).
    pub async fn list_own(&self, user: &User) -> Result<Vec<StoredRequest>, AccessError> {
        let rows = access_requests::Entity::find()
            .filter(access_requests::Column::OwnerId.eq(user.id))
            .order_by_desc(access_requests::Column::UpdatedAt)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| self.stored(row, Some(user.email.clone())))
            .collect()
    }

    /// The comments of a request the caller may see, oldest first.
    pub async fn comments(&self, request_id: Uuid) -> Result<Vec<Comment>, AccessError> {
        let rows = access_request_comments::Entity::find()
            .filter(access_request_comments::Column::RequestId.eq(request_id))
            .order_by_asc(access_request_comments::Column::CreatedAt)
            .all(&self.db)
            .await?;
        let emails = emails_of(&self.db, rows.iter().map(|r| r.author_id)).await?;
        Ok(rows
            .into_iter()
            .map(|row| Comment {
                author_email: emails.get(&row.author_id).cloned(),
                id: row.id,
                author_id: row.author_id,
                kind: row.kind,
                body: row.body,
                created_at: row.created_at,
            })
            .collect())
    }

    /// The audit history of a request, oldest first.
    pub async fn history(&self, request_id: Uuid) -> Result<Vec<AuditEntry>, AccessError> {
        Ok(audit::history(&self.db, RECORD_TYPE, &request_id.to_string()).await?)
    }

    /// The audit history of a request, oldest first, each entry with its actor's email when
    /// the actor is a user.
    pub async fn history_with_actors(
        &self,
        request_id: Uuid,
    ) -> Result<Vec<(AuditEntry, Option<String>)>, AccessError> {
        let entries = self.history(request_id).await?;
        let user_of = |entry: &AuditEntry| {
            entry
                .actor
                .strip_prefix("user:")
                .and_then(|id| Uuid::parse_str(id).ok())
        };
        let emails = emails_of(&self.db, entries.iter().filter_map(user_of)).await?;
        Ok(entries
            .into_iter()
            .map(|entry| {
                let email = user_of(&entry).and_then(|id| emails.get(&id).cloned());
                (entry, email)
            })
            .collect())
    }

    /// Renders one of the request's documents (the support request or the Dataclips request)
    /// as it stands now.
    pub fn draft(
        &self,
        stored: &StoredRequest,
        kind: DraftKind,
        format: DraftFormat,
    ) -> Result<String, drafts::DraftError> {
        let assessment = self.assess(&stored.body);
        let meta = drafts::DraftMeta {
            reference: stored.id.to_string(),
            prepared_on: stored.updated_at.format("%Y-%m-%d").to_string(),
        };
        match kind {
            DraftKind::SupportRequest => self.drafts.support_request(
                &drafts::SupportRequestContext::new(&stored.body, &assessment, &meta),
                format,
            ),
            DraftKind::DataclipsRequest => self.drafts.dataclips_request(
                &drafts::DataclipsRequestContext::new(&stored.body, &assessment, &meta),
                format,
            ),
        }
    }

    /// The vault records of a request (never their secrets).
    pub async fn secrets(&self, request_id: Uuid) -> Result<Vec<VaultRecord>, AccessError> {
        Ok(self.vault.records_for_request(request_id).await?)
    }

    /// The app keys bound to a request.
    pub async fn app_keys(&self, request_id: Uuid) -> Result<Vec<AppKeyInfo>, AccessError> {
        Ok(app_keys::list_for_request(&self.db, request_id).await?)
    }

    /// Records the token Bentley issued for one of the request's projects (a reviewer's
    /// action). The first token moves the request to `token_issued`; a later one rotates it.
    pub async fn record_issued_token(
        &self,
        user: &User,
        id: Uuid,
        token: IssuedToken,
    ) -> Result<(StoredRequest, VaultRecord), AccessError> {
        self.vault.require_key()?;
        if !matches!(token.scope.as_str(), "read" | "read write") {
            return Err(invalid("scope", "must be `read` or `read write`"));
        }
        let txn = crate::db::begin_write(&self.db).await?;
        let row = find_row(&txn, id).await?;
        let body = parse_body(&row)?;
        let project_id = check_project(&body, &token.project_id)?;
        let row = self
            .apply(
                &txn,
                user,
                row,
                Action::RecordToken,
                None,
                json!({ "project_id": project_id }),
            )
            .await?;
        let record = self
            .vault
            .record_in(
                &txn,
                &Actor::User(user.id),
                NewSecret {
                    kind: SecretKind::Token,
                    project_id,
                    request_id: Some(id),
                    secret: token.token,
                    scope: Some(token.scope),
                    username: None,
                    issued_on: Some(token.issued_on),
                    expires_on: token.expires_on,
                },
            )
            .await?;
        txn.commit().await?;
        let stored = self.with_owner(self.stored(row, None)?).await?;
        Ok((stored, record))
    }

    /// Records the dataclip user and password of one of the request's projects (the owner or
    /// a reviewer, once the request is approved).
    pub async fn record_dataclip_credentials(
        &self,
        user: &User,
        id: Uuid,
        project_id: &str,
        username: &str,
        password: SecretString,
    ) -> Result<VaultRecord, AccessError> {
        self.vault.require_key()?;
        let username = username.trim();
        if username.is_empty() || username.len() > 200 {
            return Err(invalid("username", "must be 1 to 200 characters"));
        }
        let txn = crate::db::begin_write(&self.db).await?;
        let row = find_row(&txn, id).await?;
        if row.owner_id != user.id && user.role < Role::Reviewer {
            return Err(AccessError::NotFound);
        }
        let status = parse_status(&row)?;
        if !status.is_granted() {
            return Err(AccessError::WrongStatus(format!(
                "the request is {status}: credentials are recorded once it is approved"
            )));
        }
        let project_id = check_project(&parse_body(&row)?, project_id)?;
        let record = self
            .vault
            .record_in(
                &txn,
                &Actor::User(user.id),
                NewSecret {
                    kind: SecretKind::DataclipCredentials,
                    project_id,
                    request_id: Some(id),
                    secret: password,
                    scope: None,
                    username: Some(username.to_owned()),
                    issued_on: None,
                    expires_on: None,
                },
            )
            .await?;
        audit::record(
            &txn,
            &Actor::User(user.id),
            "access_request.record_dataclip_credentials",
            RECORD_TYPE,
            &id.to_string(),
            json!({ "vault_record_id": record.id, "project_id": record.project_id }),
        )
        .await?;
        txn.commit().await?;
        Ok(record)
    }

    /// Creates an app key bound to an approved request, with the scopes compiled from its
    /// workflows. Returns the key's record and the key, shown once.
    pub async fn create_app_key(
        &self,
        user: &User,
        id: Uuid,
        name: String,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(AppKeyInfo, String), AccessError> {
        if user.role < Role::Reviewer {
            return Err(AccessError::Forbidden(
                "only a reviewer creates app keys for a request".into(),
            ));
        }
        let txn = crate::db::begin_write(&self.db).await?;
        let row = find_row(&txn, id).await?;
        let status = parse_status(&row)?;
        if !status.is_granted() {
            return Err(AccessError::WrongStatus(format!(
                "the request is {status}: keys are bound only to approved requests"
            )));
        }
        let scopes = scopes_of(&parse_body(&row)?)?;
        let created = app_keys::create_in(
            &txn,
            &Actor::User(user.id),
            NewAppKey {
                name,
                scopes,
                expires_at,
                access_request_id: Some(id),
                ..NewAppKey::default()
            },
        )
        .await?;
        audit::record(
            &txn,
            &Actor::User(user.id),
            "access_request.create_app_key",
            RECORD_TYPE,
            &id.to_string(),
            json!({ "app_key_id": created.0.id, "prefix": created.0.prefix }),
        )
        .await?;
        txn.commit().await?;
        Ok(created)
    }

    /// Revokes one app key bound to a request (a reviewer's action); the key stops working at
    /// once. Revoking a revoked key changes nothing.
    pub async fn revoke_app_key(
        &self,
        user: &User,
        id: Uuid,
        key_id: Uuid,
    ) -> Result<AppKeyInfo, AccessError> {
        if user.role < Role::Reviewer {
            return Err(AccessError::Forbidden(
                "only a reviewer revokes a request's app keys".into(),
            ));
        }
        let txn = crate::db::begin_write(&self.db).await?;
        let row = app_key_rows::Entity::find_by_id(key_id)
            .one(&txn)
            .await?
            .filter(|key| key.access_request_id == Some(id))
            .ok_or(AccessError::Key(KeyError::NotFound))?;
        if row.revoked_at.is_some() {
            return Ok(app_keys::to_info(row)?);
        }
        let (name, prefix) = (row.name.clone(), row.prefix.clone());
        let mut active: app_key_rows::ActiveModel = row.into();
        active.revoked_at = Set(Some(self.clock.now()));
        let row = active.update(&txn).await?;
        let actor = Actor::User(user.id);
        audit::record(
            &txn,
            &actor,
            "app_key.revoke",
            "app_key",
            &key_id.to_string(),
            json!({ "name": name, "prefix": prefix, "access_request_id": id }),
        )
        .await?;
        audit::record(
            &txn,
            &actor,
            "access_request.revoke_app_key",
            RECORD_TYPE,
            &id.to_string(),
            json!({ "app_key_id": key_id, "prefix": prefix }),
        )
        .await?;
        txn.commit().await?;
        self.keys.invalidate_all();
        Ok(app_keys::to_info(row)?)
    }

    /// Fills in the owner's email of a request just loaded.
    async fn with_owner(&self, mut stored: StoredRequest) -> Result<StoredRequest, AccessError> {
        stored.owner_email = emails_of(&self.db, [stored.owner_id])
            .await?
            .remove(&stored.owner_id);
        Ok(stored)
    }

    fn stored(
        &self,
        row: access_requests::Model,
        owner_email: Option<String>,
    ) -> Result<StoredRequest, AccessError> {
        Ok(StoredRequest {
            status: parse_status(&row)?,
            body: parse_body(&row)?,
            id: row.id,
            owner_id: row.owner_id,
            owner_email,
            title: row.title,
            bentley_reference: row.bentley_reference,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// The scopes an app key bound to `body` gets: its projects, and each entity its workflows
/// touch, written if any workflow writes it.
pub(crate) fn scopes_of(body: &AccessRequest) -> Result<KeyScopes, AccessError> {
    let scopes = compile_scopes(&body.project_urls, &body.workflows);
    if scopes.is_empty() {
        return Err(AccessError::WrongStatus(
            "the request declares no project or no entity: there is nothing to grant".into(),
        ));
    }
    let mut projects: Vec<String> = scopes
        .iter()
        .map(|s| s.project.project_id().to_owned())
        .collect();
    projects.dedup();
    Ok(KeyScopes::new(
        projects,
        scopes.iter().map(|s| (s.entity, s.access)),
    ))
}

fn check_project(body: &AccessRequest, project_id: &str) -> Result<String, AccessError> {
    let project_id = project_id.trim();
    if body
        .project_urls
        .iter()
        .any(|url| url.project_id() == project_id)
    {
        Ok(project_id.to_owned())
    } else {
        let ids: Vec<&str> = body.project_urls.iter().map(|u| u.project_id()).collect();
        Err(invalid(
            "projectId",
            format!("is not one of the request's projects ({})", ids.join(", ")),
        ))
    }
}

fn check_workflow_names(workflows: &[Workflow]) -> Result<(), AccessError> {
    for (index, workflow) in workflows.iter().enumerate() {
        let name = workflow.name.trim();
        if workflows[..index]
            .iter()
            .any(|other| other.name.trim().eq_ignore_ascii_case(name))
        {
            return Err(invalid(
                &format!("workflows[{index}].name"),
                format!("another workflow is already named '{name}'"),
            ));
        }
    }
    Ok(())
}

fn action_phrase(action: Action) -> &'static str {
    match action {
        Action::Submit => "submit it",
        Action::Approve => "approve it",
        Action::RequestChanges => "request changes",
        Action::Reject => "reject it",
        Action::MarkFiled => "mark it filed",
        Action::RecordToken => "record its token",
        Action::Activate => "activate it",
        Action::Revoke => "revoke it",
        Action::Expire => "mark it expired",
    }
}

fn past_phrase(action: Action) -> &'static str {
    match action {
        Action::Submit => "submitted",
        Action::Approve => "approved",
        Action::RequestChanges => "sent back for changes",
        Action::Reject => "rejected",
        Action::MarkFiled => "marked filed",
        Action::RecordToken => "given a token",
        Action::Activate => "activated",
        Action::Revoke => "revoked",
        Action::Expire => "marked expired",
    }
}

fn title_of(body: &AccessRequest) -> String {
    let name = body.integration.name.trim();
    if name.is_empty() {
        "Untitled request".to_owned()
    } else {
        name.chars().take(200).collect()
    }
}

fn workflow_names(body: &AccessRequest) -> Vec<&str> {
    body.workflows.iter().map(|w| w.name.as_str()).collect()
}

fn to_json(body: &AccessRequest) -> Result<String, DbErr> {
    serde_json::to_string(body)
        .map_err(|e| DbErr::Custom(format!("cannot serialise a request: {e}")))
}

/// The body of request `id` if it was ever approved (what its app keys were declared for).
pub(crate) async fn approved_body<C: sea_orm::ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Option<AccessRequest>, DbErr> {
    let Some(row) = access_requests::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    if !parse_status(&row)?.was_approved() {
        return Ok(None);
    }
    parse_body(&row).map(Some)
}

/// Every request ever approved that names `project_id`, oldest first.
pub(crate) async fn approved_for_project<C: sea_orm::ConnectionTrait>(
    db: &C,
    project_id: &str,
) -> Result<Vec<AccessRequest>, DbErr> {
    let statuses: Vec<&str> = RequestStatus::ALL
        .iter()
        .filter(|s| s.was_approved())
        .map(|s| s.as_str())
        .collect();
    let rows = access_requests::Entity::find()
        .filter(access_requests::Column::Status.is_in(statuses))
        .order_by_asc(access_requests::Column::CreatedAt)
        .all(db)
        .await?;
    let mut bodies = Vec::new();
    for row in rows {
        let body = parse_body(&row)?;
        if body
            .project_urls
            .iter()
            .any(|url| url.project_id() == project_id)
        {
            bodies.push(body);
        }
    }
    Ok(bodies)
}

fn parse_body(row: &access_requests::Model) -> Result<AccessRequest, DbErr> {
    serde_json::from_str(&row.body).map_err(|e| {
        DbErr::Custom(format!(
            "access request {} has an unreadable body: {e}",
            row.id
        ))
    })
}

fn parse_status(row: &access_requests::Model) -> Result<RequestStatus, DbErr> {
    row.status
        .parse()
        .map_err(|e| DbErr::Custom(format!("access request {}: {e}", row.id)))
}

async fn find_row<C: sea_orm::ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<access_requests::Model, AccessError> {
    access_requests::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(AccessError::NotFound)
}

async fn emails_of(
    db: &DatabaseConnection,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, String>, DbErr> {
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect())
}
