//! The pages and actions of governance reviewers: the queue of requests in review, decisions
//! (approve, request changes, reject), filing with Bentley, recording issued tokens, app keys
//! per approved request (created and shown once, revoked), and the tokens near expiry.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use secrecy::SecretString;
use serde::Serialize;

use super::display::{RequestRow, VaultRow};
use super::fields::Errors;
use super::handler::{
    ByContact, ByReviewer, Caller, FormPairs, KeyId, Layout, PageResult, RequestPost, see_other,
};
use super::requests::{CreatedKey, PageQuery, Posted, SmallForm, notice_text};
use crate::http::AppState;
use gatehouse_core::access::{AccessError, Action, IssuedToken, RequestStatus};
use gatehouse_core::auth::Role;
use gatehouse_core::vault::Expiry;

#[derive(Debug, Serialize)]
struct QueueView {
    in_review: Vec<RequestRow>,
    others: Vec<RequestRow>,
    attention: usize,
}

/// `GET /review`: the requests waiting for a review, then every other request.
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PageQuery>,
) -> PageResult {
    let user = caller.user(Role::Reviewer)?;
    let all = state.services.access.list(user, None).await?;
    let (in_review, others): (Vec<_>, Vec<_>) = all
        .iter()
        .partition(|r| r.status == RequestStatus::InReview);
    let tokens = state.services.vault.records(None).await?;
    let view = QueueView {
        // Oldest first: the longest waiting is reviewed first.
        in_review: in_review.iter().rev().map(|r| (*r).into()).collect(),
        others: others.iter().map(|r| (*r).into()).collect(),
        attention: tokens
            .iter()
            .filter(|t| {
                t.is_current() && matches!(t.expiry, Expiry::ExpiringSoon | Expiry::Expired)
            })
            .count(),
    };
    let layout = Layout {
        notice: notice_text(query.notice.as_deref()),
        ..caller.layout("Review queue")
    };
    caller.render(&state, StatusCode::OK, "review", layout, &view)
}

#[derive(Debug, Serialize)]
struct TokensView {
    attention: Vec<VaultRow>,
    current: Vec<VaultRow>,
    warning_days: u32,
}

/// `GET /tokens`: issued tokens and credentials in use, those near or past expiry first.
pub async fn tokens(State(state): State<AppState>, caller: Caller) -> PageResult {
    caller.user(Role::Reviewer)?;
    let records = state.services.vault.records(None).await?;
    let (attention, current): (Vec<_>, Vec<_>) = records
        .iter()
        .filter(|r| r.is_current())
        .partition(|r| matches!(r.expiry, Expiry::ExpiringSoon | Expiry::Expired));
    let mut attention: Vec<VaultRow> = attention.into_iter().map(Into::into).collect();
    attention.sort_by_key(|r| r.days_left.parse::<i64>().unwrap_or(i64::MAX));
    let view = TokensView {
        attention,
        current: current.into_iter().map(Into::into).collect(),
        warning_days: state.services.config.vault.expiry_warning_days,
    };
    caller.render(
        &state,
        StatusCode::OK,
        "tokens",
        caller.layout("Tokens"),
        &view,
    )
}

/// `POST /requests/{id}/review`: approve, request changes or reject (with a comment).
pub async fn decide(State(state): State<AppState>, post: RequestPost<ByReviewer>) -> PageResult {
    let form = &post.form;
    let (action, notice) = match form.get("decision") {
        "approve" => (Action::Approve, "approved"),
        "request_changes" => (Action::RequestChanges, "changes_requested"),
        "reject" => (Action::Reject, "rejected"),
        _ => {
            let mut errors = Errors::default();
            errors.add("comment", "choose approve, request changes or reject");
            return post
                .on(&state)
                .refused(SmallForm::Review, form, &errors)
                .await;
        }
    };
    let comment = Some(form.get("comment").to_owned()).filter(|c| !c.trim().is_empty());
    post.on(&state)
        .transition(form, action, comment, notice, str::to_owned)
        .await
}

/// `POST /requests/{id}/filed`: the support request was filed with Bentley.
pub async fn filed(State(state): State<AppState>, post: RequestPost<ByContact>) -> PageResult {
    let (user, id, form) = (&post.user, post.id, &post.form);
    let reference = Some(form.get("reference").to_owned());
    let result = state.services.access.mark_filed(user, id, reference).await;
    post.on(&state)
        .outcome(form, result, "filed", str::to_owned)
        .await
}

fn date(form: &FormPairs, field: &str, errors: &mut Errors) -> Option<NaiveDate> {
    let text = form.get(field).trim();
    if text.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(_) => {
            errors.add(field, "must be a date such as 2026-03-02");
            None
        }
    }
}

/// `POST /requests/{id}/tokens`: records the token Bentley issued, in the vault.
pub async fn record_token(
    State(state): State<AppState>,
    post: RequestPost<ByReviewer>,
) -> PageResult {
    let (user, id, form) = (&post.user, post.id, &post.form);
    let mut errors = Errors::default();
    let issued_on = date(form, "issuedOn", &mut errors);
    if issued_on.is_none() && errors.of("issuedOn").is_none() {
        errors.add("issuedOn", "is needed");
    }
    let expires_on = date(form, "expiresOn", &mut errors);
    let (Some(issued_on), true) = (issued_on, errors.is_empty()) else {
        return post
            .on(&state)
            .refused(SmallForm::Token, form, &errors)
            .await;
    };
    let token = IssuedToken {
        project_id: form.get("projectId").to_owned(),
        token: SecretString::from(form.get("token").to_owned()),
        scope: form.get("scope").to_owned(),
        issued_on,
        expires_on,
    };
    let result = state
        .services
        .access
        .record_issued_token(user, id, token)
        .await;
    let field = |name: &str| match name {
        "secret" => "token".to_owned(),
        other => other.to_owned(),
    };
    post.on(&state)
        .outcome(form, result, "token_recorded", field)
        .await
}

/// `POST /requests/{id}/keys`: creates an app key bound to the approved request; the page
/// shows the key once.
pub async fn create_key(
    State(state): State<AppState>,
    post: RequestPost<ByReviewer>,
) -> PageResult {
    let (user, id, form) = (&post.user, post.id, &post.form);
    let mut errors = Errors::default();
    let expires_at = date(form, "keyExpiresOn", &mut errors)
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map(|t| t.and_utc());
    if !errors.is_empty() {
        return post.on(&state).refused(SmallForm::Key, form, &errors).await;
    }
    let name = form.get("keyName").to_owned();
    match state
        .services
        .access
        .create_app_key(user, id, name.clone(), expires_at)
        .await
    {
        Ok((_, key)) => {
            let posted = Posted {
                created_key: Some(CreatedKey { name, key }),
                ..Posted::default()
            };
            post.on(&state).page(StatusCode::CREATED, posted).await
        }
        Err(error) => {
            let field = |name: &str| match name {
                "name" => "keyName".to_owned(),
                _ => "keyExpiresOn".to_owned(),
            };
            post.on(&state)
                .outcome(form, Err::<(), AccessError>(error), "", field)
                .await
        }
    }
}

/// `POST /requests/{id}/keys/{key_id}/revoke`: revokes one of the request's app keys.
pub async fn revoke_key(
    State(state): State<AppState>,
    KeyId(key_id): KeyId,
    post: RequestPost<ByReviewer>,
) -> PageResult {
    let id = post.id;
    state
        .services
        .access
        .revoke_app_key(&post.user, id, key_id)
        .await?;
    Ok(see_other(
        &format!("/requests/{id}?notice=key_revoked"),
        None,
    ))
}

/// `POST /requests/{id}/activate`: the request's token is in use.
pub async fn activate(State(state): State<AppState>, post: RequestPost<ByReviewer>) -> PageResult {
    let form = &post.form;
    post.on(&state)
        .transition(form, Action::Activate, None, "activated", str::to_owned)
        .await
}

/// `POST /requests/{id}/revoke`: withdraws access, with a reason; its keys stop working.
pub async fn revoke(State(state): State<AppState>, post: RequestPost<ByReviewer>) -> PageResult {
    let form = &post.form;
    let reason = Some(form.get("reason").to_owned());
    let field = |name: &str| match name {
        "comment" => "reason".to_owned(),
        other => other.to_owned(),
    };
    post.on(&state)
        .transition(form, Action::Revoke, reason, "revoked", field)
        .await
}
