//! Access requests in GraphQL: the public `assessUseCase`, the requests of contacts, their
//! review, drafts, the vault and app keys bound to approved requests.

use async_graphql::{ComplexObject, Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use secrecy::SecretString;

use super::access_types::{
    AccessRequestInput, AssessmentView, CommentView, DetailsView, DraftFormatName,
    RequestStatusName, ReviewDecision, TokenScope, WorkflowInput, status_filter,
};
use super::accounts::{AppKeyView, AuditEntryView, CreatedAppKey};
use super::guard::RoleGuard;
use super::{principal, services};
use crate::error::ApiError;
use crate::principal::parse_id;
use gatehouse_core::access::{Action, DraftKind, IssuedToken, StoredRequest};
use gatehouse_core::auth::Role;
use gatehouse_core::vault::VaultRecord;

/// A stored access request.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "AccessRequest", complex)]
pub struct AccessRequestView {
    /// Id.
    pub id: ID,
    /// Lifecycle status.
    pub status: RequestStatusName,
    /// The integration's name.
    pub title: String,
    /// The owner's email.
    pub owner_email: Option<String>,
    /// What the request says.
    pub details: DetailsView,
    /// Bentley's support-ticket reference, once filed.
    pub bentley_reference: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    stored: StoredRequest,
}

impl From<StoredRequest> for AccessRequestView {
    fn from(stored: StoredRequest) -> Self {
        Self {
            id: ID(stored.id.to_string()),
            status: stored.status.into(),
            title: stored.title.clone(),
            owner_email: stored.owner_email.clone(),
            details: (&stored.body).into(),
            bentley_reference: stored.bentley_reference.clone(),
            created_at: stored.created_at,
            updated_at: stored.updated_at,
            stored,
        }
    }
}

#[ComplexObject]
impl AccessRequestView {
    /// The assessment against Bentley's criteria, as the request stands now.
    async fn assessment(&self, ctx: &Context<'_>) -> Result<AssessmentView> {
        let services = services(ctx)?;
        Ok((&services.access.assess(&self.stored.body)).into())
    }

    /// The review conversation, oldest first.
    async fn comments(&self, ctx: &Context<'_>) -> Result<Vec<CommentView>> {
        let services = services(ctx)?;
        let comments = services
            .access
            .comments(self.stored.id)
            .await
            .map_err(ApiError::from)?;
        Ok(comments.into_iter().map(Into::into).collect())
    }

    /// Every change to the request, from the audit log, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<AuditEntryView>> {
        let services = services(ctx)?;
        let entries = services
            .access
            .history(self.stored.id)
            .await
            .map_err(ApiError::from)?;
        Ok(entries.into_iter().map(Into::into).collect())
    }

    /// The support request to Bentley, drafted from the templates.
    async fn draft(&self, ctx: &Context<'_>, format: DraftFormatName) -> Result<String> {
        let services = services(ctx)?;
        Ok(services
            .access
            .draft(&self.stored, DraftKind::SupportRequest, format.into())
            .map_err(|e| ApiError::internal("support-request draft", &e))?)
    }

    /// The Dataclips provisioning request, drafted from the templates.
    async fn dataclips_draft(&self, ctx: &Context<'_>, format: DraftFormatName) -> Result<String> {
        let services = services(ctx)?;
        Ok(services
            .access
            .draft(&self.stored, DraftKind::DataclipsRequest, format.into())
            .map_err(|e| ApiError::internal("dataclips draft", &e))?)
    }

    /// The tokens and dataclip credentials recorded for the request (never the secrets).
    async fn vault_records(&self, ctx: &Context<'_>) -> Result<Vec<VaultRecord>> {
        let services = services(ctx)?;
        let records = services
            .access
            .secrets(self.stored.id)
            .await
            .map_err(ApiError::from)?;
        Ok(records)
    }

    /// The app keys bound to the request.
    async fn app_keys(&self, ctx: &Context<'_>) -> Result<Vec<AppKeyView>> {
        let services = services(ctx)?;
        let keys = services
            .access
            .app_keys(self.stored.id)
            .await
            .map_err(ApiError::from)?;
        Ok(keys.iter().map(Into::into).collect())
    }
}

/// Access-request queries.
#[derive(Default, Debug)]
pub struct AccessQuery;

#[Object]
impl AccessQuery {
    /// Assesses a use case against Bentley's criteria for API access: readiness checks, the
    /// channel per workflow (API token, Dataclips or both), the load estimate and a verdict.
    /// Stores nothing and needs no account.
    async fn assess_use_case(
        &self,
        ctx: &Context<'_>,
        input: AccessRequestInput,
    ) -> Result<AssessmentView> {
        let services = services(ctx)?;
        let request = input
            .into_request(services.access.limits())
            .map_err(ApiError::invalid_fields)?;
        Ok((&services.access.assess(&request)).into())
    }

    /// The caller's access requests (every request, for reviewers), latest change first.
    #[graphql(guard = "RoleGuard(Role::Contact)")]
    async fn access_requests(
        &self,
        ctx: &Context<'_>,
        status: Option<RequestStatusName>,
    ) -> Result<Vec<AccessRequestView>> {
        let services = services(ctx)?;
        let user = principal(ctx)?.require_role(Role::Contact)?;
        let requests = services
            .access
            .list(user, status_filter(status))
            .await
            .map_err(ApiError::from)?;
        Ok(requests.into_iter().map(Into::into).collect())
    }

    /// One access request: the caller's own, or any for reviewers.
    #[graphql(guard = "RoleGuard(Role::Contact)")]
    async fn access_request(&self, ctx: &Context<'_>, id: ID) -> Result<AccessRequestView> {
        let services = services(ctx)?;
        let user = principal(ctx)?.require_role(Role::Contact)?;
        let id = parse_id("id", &id)?;
        let request = services
            .access
            .get(user, id)
            .await
            .map_err(ApiError::from)?;
        Ok(request.into())
    }

    /// Every vault record, or one project's, newest first (reviewers). Never the secrets.
    #[graphql(guard = "RoleGuard(Role::Reviewer)")]
    async fn vault_records(
        &self,
        ctx: &Context<'_>,
        project_id: Option<String>,
    ) -> Result<Vec<VaultRecord>> {
        let services = services(ctx)?;
        let records = services
            .vault
            .records(project_id.as_deref())
            .await
            .map_err(ApiError::from)?;
        Ok(records)
    }
}

/// Access-request mutations.
#[derive(Default, Debug)]
pub struct AccessMutation;

#[Object]
impl AccessMutation {
    /// Starts a draft request owned by the caller.
    #[graphql(guard = "RoleGuard(Role::Contact)")]
    async fn create_access_request(
        &self,
        ctx: &Context<'_>,
        input: AccessRequestInput,
    ) -> Result<AccessRequestView> {
        let services = services(ctx)?;
        let user = principal(ctx)?.require_role(Role::Contact)?;
        let body = input
            .into_request(services.access.limits())
            .map_err(ApiError::invalid_fields)?;
        let stored = services
            .access
            .create(user, body)
            .await
            .map_err(ApiError::from)?;
        Ok(stored.into())
    }

    /// Replaces what the caller's own request says (while a draft or when changes were
    /// requested).
    #[graphql(guard = "RoleGuard(Role::Contact)")]
    async fn update_access_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: AccessRequestInput,
    ) -> Result<AccessRequestView> {
        let services = services(ctx)?;
        let user = principal(ctx)?.require_role(Role::Contact)?;
        let id = parse_id("id", &id)?;
        let body = input
            .into_request(services.access.limits())
            .map_err(ApiError::invalid_fields)?;
        let stored = services
            .access
            .update(user, id, body)
            .await
            .map_err(ApiError::from)?;
        Ok(stored.into())
    }

    /// Adds a workflow to the caller's editable request.
    #[graphql(guard = "RoleGuard(Role::Contact)")]
    async fn add_workflow(
        &self,
        ctx: &Context<'_>,
        request_id: ID,
        workflow: WorkflowInput,
    ) -> Result<AccessRequestView> {
        let services = services(ctx)?;
        let user = principal(ctx)?.require_role(Role::Contact)?;
        let id = parse_id("requestId", &request_id)?;
        let workflow = workflow
            .into_workflow("workflow", services.access.limits())
            .map_err(ApiError::invalid_fields)?;
        let stored = services
            .access
            .add_workflow(user, id, workflow)
            .await
            .map_err(ApiError::from)?;
        Ok(stored.into())
    }

    /// Removes a workflow, by name, from the caller's editable request.
    #[graphql(guard = "RoleGuard(Role::Contact)")]
    async fn remove_workflow(
        &self,
        ctx: &Context<'_>,
        request_id: ID,
        name: String,
    ) -> Result<AccessRequestView> {
        let services = services(ctx)?;
        let user = principal(ctx)?.require_role(Role::Contact)?;
        let id = parse_id("requestId", &request_id)?;
        let stored = services
            .access
            .remove_workflow(user, id, &name)
            .await
            .map_err(ApiError::from)?;
        Ok(stored.into())
    }

    /// Sends the caller's request (or its revision) for review. Refused while readiness
    /// checks fail.
    #[graphql(guard = "RoleGuard(Role::Contact)")]
    async fn submit_access_request(&self, ctx: &Context<'_>, id: ID) -> Result<AccessRequestView> {
        transition(ctx, &id, Action::Submit, None).await
    }

    /// A reviewer's decision on a request in review: approve, request changes or reject (the
    /// last two with a comment). Nobody reviews their own request.
    #[graphql(guard = "RoleGuard(Role::Reviewer)")]
    async fn review_access_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
        decision: ReviewDecision,
        comment: Option<String>,
    ) -> Result<AccessRequestView> {
        let action = match decision {
            ReviewDecision::Approve => Action::Approve,
            ReviewDecision::RequestChanges => Action::RequestChanges,
            ReviewDecision::Reject => Action::Reject,
        };
        transition(ctx, &id, action, comment).await
    }

    /// Adds a comment to a request: its owner answering, or a reviewer.
    #[graphql(guard = "RoleGuard(Role::Contact)")]
    async fn comment_on_access_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
        body: String,
    ) -> Result<CommentView> {
        let services = services(ctx)?;
        let user = principal(ctx)?.require_role(Role::Contact)?;
        let id = parse_id("id", &id)?;
        let comment = services
            .access
            .comment(user, id, &body)
            .await
            .map_err(ApiError::from)?;
        Ok(comment.into())
    }

    /// Records that the approved support request was filed with Bentley, with the ticket's
    /// reference (the owner or a reviewer).
    #[graphql(guard = "RoleGuard(Role::Contact)")]
    async fn mark_access_request_filed(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reference: Option<String>,
    ) -> Result<AccessRequestView> {
        let services = services(ctx)?;
        let user = principal(ctx)?.require_role(Role::Contact)?;
        let id = parse_id("id", &id)?;
        let stored = services
            .access
            .mark_filed(user, id, reference)
            .await
            .map_err(ApiError::from)?;
        Ok(stored.into())
    }

    /// Records the token Bentley issued for one of the request's projects; the first moves
    /// the request to `TOKEN_ISSUED`, a later one rotates the token (reviewers).
    #[graphql(guard = "RoleGuard(Role::Reviewer)")]
    // The Rust arguments are the GraphQL field's arguments, one by one.
    #[allow(clippy::too_many_arguments)]
    async fn record_issued_token(
        &self,
        ctx: &Context<'_>,
        request_id: ID,
        project_id: String,
        #[graphql(secret)] token: String,
        scope: TokenScope,
        issued_on: NaiveDate,
        expires_on: Option<NaiveDate>,
    ) -> Result<VaultRecord> {
        let services = services(ctx)?;
        let user = principal(ctx)?.require_role(Role::Reviewer)?;
        let id = parse_id("requestId", &request_id)?;
        let issued = IssuedToken {
            project_id,
            token: SecretString::from(token),
            scope: scope.as_str().to_owned(),
            issued_on,
            expires_on,
        };
        let (_, record) = services
            .access
            .record_issued_token(user, id, issued)
            .await
            .map_err(ApiError::from)?;
        Ok(record)
    }

    /// Records a dataclip user's name and password for one of the request's projects (the
    /// owner or a reviewer, once approved).
    #[graphql(guard = "RoleGuard(Role::Contact)")]
    async fn record_dataclip_credentials(
        &self,
        ctx: &Context<'_>,
        request_id: ID,
        project_id: String,
        username: String,
        #[graphql(secret)] password: String,
    ) -> Result<VaultRecord> {
        let services = services(ctx)?;
        let user = principal(ctx)?.require_role(Role::Contact)?;
        let id = parse_id("requestId", &request_id)?;
        let record = services
            .access
            .record_dataclip_credentials(
                user,
                id,
                &project_id,
                &username,
                SecretString::from(password),
            )
            .await
            .map_err(ApiError::from)?;
        Ok(record)
    }

    /// Marks a request whose token was issued as in use (reviewers).
    #[graphql(guard = "RoleGuard(Role::Reviewer)")]
    async fn activate_access_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<AccessRequestView> {
        transition(ctx, &id, Action::Activate, None).await
    }

    /// Withdraws access: the request's app keys and vault records are revoked at once
    /// (reviewers, with a reason).
    #[graphql(guard = "RoleGuard(Role::Reviewer)")]
    async fn revoke_access_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<AccessRequestView> {
        transition(ctx, &id, Action::Revoke, Some(reason)).await
    }

    /// Marks a request's token as expired; its app keys stop working (reviewers).
    #[graphql(guard = "RoleGuard(Role::Reviewer)")]
    async fn expire_access_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
        comment: Option<String>,
    ) -> Result<AccessRequestView> {
        transition(ctx, &id, Action::Expire, comment).await
    }

    /// Creates an app key bound to an approved request, with the scopes compiled from its
    /// workflows; the key is in the answer, once (reviewers and admins).
    #[graphql(guard = "RoleGuard(Role::Reviewer)")]
    async fn create_app_key_for_request(
        &self,
        ctx: &Context<'_>,
        request_id: ID,
        name: String,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<CreatedAppKey> {
        let services = services(ctx)?;
        let user = principal(ctx)?.require_role(Role::Reviewer)?;
        let id = parse_id("requestId", &request_id)?;
        let (info, key) = services
            .access
            .create_app_key(user, id, name, expires_at)
            .await
            .map_err(ApiError::from)?;
        Ok(CreatedAppKey {
            key,
            app_key: (&info).into(),
        })
    }
}

/// The shared body of the lifecycle mutations.
async fn transition(
    ctx: &Context<'_>,
    id: &ID,
    action: Action,
    comment: Option<String>,
) -> Result<AccessRequestView> {
    let services = services(ctx)?;
    let user = principal(ctx)?.require_role(Role::Contact)?;
    let id = parse_id("id", id)?;
    let stored = services
        .access
        .transition(user, id, action, comment)
        .await
        .map_err(ApiError::from)?;
    Ok(stored.into())
}
