//! The pages of project contacts: my requests, the request form (new and edit: save, submit,
//! workflows added and removed in place), the request's page (assessment, conversation,
//! history, drafts to copy or download), and the public "will my use case be approved?" page
//! with its live assessment fragment.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::assessment::AssessmentPanel;
use super::display::{
    CommentRow, HistoryRow, KeyRow, RequestDetails, RequestRow, VaultRow, status_label,
};
use super::fields::{Errors, Field};
use super::handler::{
    ByContact, Caller, FormPairs, Layout, PageError, PageResult, RequestId, RequestPost,
    csrf_refused, see_other,
};
use super::request_form::{FormAction, RequestForm, RequestFormView};
use super::stash;
use crate::error::{ApiError, ErrorCode};
use crate::http::AppState;
use gatehouse_core::access::{
    AccessError, Action, DraftFormat, DraftKind, RequestStatus, StoredRequest,
};
use gatehouse_core::auth::{Role, User};

/// What the query string of a page may carry.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// A message to show (`saved`, `submitted`, ...).
    pub notice: Option<String>,
    /// The token of a form stashed when the session expired.
    pub restore: Option<String>,
}

/// The one-line messages pages show after a redirect.
pub fn notice_text(code: Option<&str>) -> Option<String> {
    let text = match code? {
        "saved" => "Draft saved.",
        "submitted" => "Submitted for review. A reviewer will look at it next.",
        "not_ready" => {
            "Saved as a draft but not submitted: fix the failed checks in the assessment first."
        }
        "commented" => "Comment added.",
        "approved" => "Approved. The support request can now be filed with Bentley.",
        "changes_requested" => "Sent back to the contact with your comments.",
        "rejected" => "Rejected.",
        "filed" => "Marked as filed with Bentley.",
        "token_recorded" => "Token recorded in the vault.",
        "key_revoked" => "App key revoked: it stops working at once.",
        "activated" => "Request activated.",
        "revoked" => "Access revoked: its app keys and vault records no longer work.",
        "alert_acknowledged" => "Alert acknowledged.",
        "refresh_requested" => {
            "Refresh requested: the clip is being fetched now. Reload the page to see the result."
        }
        "restored" => {
            "Your session had expired. What you typed is back: check it and send the form again."
        }
        _ => return None,
    };
    Some(text.to_owned())
}

fn layout(caller: &Caller, title: &str, notice: Option<&str>) -> Layout {
    Layout {
        notice: notice_text(notice),
        ..caller.layout(title)
    }
}

// ---------------------------------------------------------------------------------------------
// My requests

#[derive(Debug, Serialize)]
struct ListView {
    requests: Vec<RequestRow>,
}

/// `GET /requests`: the caller's own requests with their status.
pub async fn mine(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PageQuery>,
) -> PageResult {
    let user = caller.user(Role::Contact)?;
    let requests = state.services.access.list_own(user).await?;
    let view = ListView {
        requests: requests.iter().map(Into::into).collect(),
    };
    let layout = layout(&caller, "My requests", query.notice.as_deref());
    caller.render(&state, StatusCode::OK, "requests", layout, &view)
}

// ---------------------------------------------------------------------------------------------
// The request form

/// The request form's page.
#[derive(Debug, Serialize)]
struct FormView {
    heading: String,
    /// Where the form posts.
    action: String,
    /// The request's page, or null for a new one.
    request_url: Option<String>,
    status_label: Option<&'static str>,
    /// The stored status name (a CSS class), or null.
    status: Option<&'static str>,
    form: RequestFormView,
    assessment: Option<AssessmentPanel>,
    /// The public page: assess only, no saving.
    public: bool,
    /// Something to say above the form (why it was not saved), or null.
    alert: Option<String>,
    comments: Vec<CommentRow>,
}

/// Renders the request form with what was typed, its errors and the assessment of the typed
/// request when it converts.
struct FormPage<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    heading: String,
    action: String,
    request: Option<&'a StoredRequest>,
    public: bool,
    comments: Vec<CommentRow>,
}

impl<'a> FormPage<'a> {
    /// The form of a new request, posting to `/requests/new`.
    fn new_request(state: &'a AppState, caller: &'a Caller) -> Self {
        Self {
            state,
            caller,
            heading: "New access request".into(),
            action: "/requests/new".into(),
            request: None,
            public: false,
            comments: Vec::new(),
        }
    }

    /// The form of a stored request, with its conversation beside it, posting to `path`.
    async fn edit(
        state: &'a AppState,
        caller: &'a Caller,
        stored: &'a StoredRequest,
        path: String,
    ) -> Result<Self, PageError> {
        Ok(Self {
            state,
            caller,
            heading: format!("Edit: {}", stored.title),
            action: path,
            request: Some(stored),
            public: false,
            comments: conversation(state, stored.id).await?,
        })
    }

    fn render(
        &self,
        layout: Layout,
        status: StatusCode,
        typed: &RequestForm,
        errors: &Errors,
        alert: Option<String>,
    ) -> PageResult {
        let assessment = typed
            .to_request(self.state.services.access.limits())
            .ok()
            .map(|request| (&self.state.services.access.assess(&request)).into());
        let view = FormView {
            heading: self.heading.clone(),
            action: self.action.clone(),
            request_url: self.request.map(|r| format!("/requests/{}", r.id)),
            status_label: self.request.map(|r| status_label(r.status)),
            status: self.request.map(|r| r.status.as_str()),
            form: typed.view(errors),
            assessment,
            public: self.public,
            alert: alert.or_else(|| {
                (!errors.is_empty()).then(|| {
                    format!(
                        "Nothing was saved: {} need{} attention. What you typed is kept.",
                        gatehouse_compliance::text::count(errors.len() as u64, "field", "fields"),
                        if errors.len() == 1 { "s" } else { "" }
                    )
                })
            }),
            comments: self.comments.clone(),
        };
        self.caller
            .render(self.state, status, "request_form", layout, &view)
    }
}

/// `GET /requests/new`: an empty form (or the one stashed when the session expired).
pub async fn new_form(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PageQuery>,
) -> PageResult {
    caller.user(Role::Contact)?;
    let restored = caller
        .restore(&state, "/requests/new", query.restore.as_deref())
        .await?;
    let (typed, notice) = match &restored {
        Some(pairs) => (
            RequestForm::from_pairs(pairs, state.services.access.limits()),
            Some("restored"),
        ),
        None => (RequestForm::blank(), query.notice.as_deref()),
    };
    let page = FormPage::new_request(&state, &caller);
    let layout = layout(&caller, "New access request", notice);
    let response = page.render(layout, StatusCode::OK, &typed, &Errors::default(), None)?;
    Ok(clear_stash_cookie(response, restored.is_some()))
}

fn clear_stash_cookie(
    response: axum::response::Response,
    restored: bool,
) -> axum::response::Response {
    if restored {
        super::handler::with_cookie(response, Some(stash::clear_cookie()))
    } else {
        response
    }
}

/// `POST /requests/new`: save a new draft (and submit it), or add or remove a workflow.
pub async fn create(State(state): State<AppState>, caller: Caller, form: FormPairs) -> PageResult {
    let user = caller
        .form_user(&state, &form, "/requests/new", Role::Contact)
        .await?;
    let page = FormPage::new_request(&state, &caller);
    let layout = layout(&caller, "New access request", None);
    save(&page, layout, &form, user, None).await
}

/// Saves the posted request form as a new draft (`id` is `None`) or over the caller's request
/// `id`, and submits it when asked; or adds or removes a workflow and shows the form again. A
/// form that does not hold is shown again with its errors and what was typed.
async fn save(
    page: &FormPage<'_>,
    layout: Layout,
    form: &FormPairs,
    user: &User,
    id: Option<Uuid>,
) -> PageResult {
    let access = &page.state.services.access;
    let mut typed = RequestForm::from_pairs(form, access.limits());
    let action = FormAction::of(form);
    if let Some(status) = rearrange(&mut typed, action) {
        return page.render(layout, status, &typed, &Errors::default(), None);
    }
    let saved = match typed.to_request(access.limits()) {
        Ok(body) => match id {
            None => access.create(user, body).await,
            Some(id) => access.update(user, id, body).await,
        },
        Err(errors) => {
            return page.render(
                layout,
                StatusCode::UNPROCESSABLE_ENTITY,
                &typed,
                &errors,
                None,
            );
        }
    };
    let stored = match saved {
        Ok(stored) => stored,
        Err(AccessError::Invalid { field, message }) => {
            let errors = typed.service_error(&field, &message);
            return page.render(
                layout,
                StatusCode::UNPROCESSABLE_ENTITY,
                &typed,
                &errors,
                None,
            );
        }
        Err(error) => return Err(error.into()),
    };
    after_save(page.state, user, &stored, action).await
}

/// Adds or removes a workflow in place; `Some(status)` when the form is to be shown again.
fn rearrange(typed: &mut RequestForm, action: FormAction) -> Option<StatusCode> {
    match action {
        FormAction::AddWorkflow => typed.add_workflow(),
        FormAction::RemoveWorkflow(index) => typed.remove_workflow(index),
        FormAction::Save | FormAction::Submit | FormAction::Assess => return None,
    }
    Some(StatusCode::OK)
}

/// After a save: submit when asked, then go to the request's page or back to its form.
async fn after_save(
    state: &AppState,
    user: &User,
    stored: &StoredRequest,
    action: FormAction,
) -> PageResult {
    let id = stored.id;
    if action != FormAction::Submit {
        return Ok(see_other(
            &format!("/requests/{id}/edit?notice=saved"),
            None,
        ));
    }
    match state
        .services
        .access
        .transition(user, id, Action::Submit, None)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/requests/{id}?notice=submitted"), None)),
        Err(AccessError::NotReady(_)) => Ok(see_other(
            &format!("/requests/{id}/edit?notice=not_ready"),
            None,
        )),
        Err(error) => Err(error.into()),
    }
}

/// The caller's own request, editable now, or the error to show.
async fn editable(state: &AppState, user: &User, id: Uuid) -> Result<StoredRequest, PageError> {
    let stored = state.services.access.get(user, id).await?;
    if stored.owner_id != user.id {
        return Err(ApiError::forbidden("only the request's owner edits it").into());
    }
    if !stored.status.is_editable() {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "This request is {}: it can be edited only as a draft or when changes were \
                 requested.",
                status_label(stored.status).to_lowercase()
            ),
        )
        .into());
    }
    Ok(stored)
}

async fn conversation(state: &AppState, id: Uuid) -> Result<Vec<CommentRow>, PageError> {
    Ok(state
        .services
        .access
        .comments(id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// `GET /requests/{id}/edit`: the form of the caller's editable request.
pub async fn edit_form(
    State(state): State<AppState>,
    caller: Caller,
    RequestId(id): RequestId,
    Query(query): Query<PageQuery>,
) -> PageResult {
    let user = caller.user(Role::Contact)?;
    let stored = editable(&state, user, id).await?;
    let path = format!("/requests/{id}/edit");
    let restored = caller
        .restore(&state, &path, query.restore.as_deref())
        .await?;
    let (typed, notice) = match &restored {
        Some(pairs) => (
            RequestForm::from_pairs(pairs, state.services.access.limits()),
            Some("restored"),
        ),
        None => (
            RequestForm::from_request(&stored.body),
            query.notice.as_deref(),
        ),
    };
    let page = FormPage::edit(&state, &caller, &stored, path).await?;
    let title = page.heading.clone();
    let response = page.render(
        layout(&caller, &title, notice),
        StatusCode::OK,
        &typed,
        &Errors::default(),
        None,
    )?;
    Ok(clear_stash_cookie(response, restored.is_some()))
}

/// `POST /requests/{id}/edit`: save the caller's request (and submit it), or add or remove a
/// workflow.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    RequestId(id): RequestId,
    form: FormPairs,
) -> PageResult {
    let path = format!("/requests/{id}/edit");
    let user = caller
        .form_user(&state, &form, &path, Role::Contact)
        .await?;
    let stored = editable(&state, user, id).await?;
    let page = FormPage::edit(&state, &caller, &stored, path).await?;
    let title = page.heading.clone();
    let layout = layout(&caller, &title, None);
    save(&page, layout, &form, user, Some(id)).await
}

// ---------------------------------------------------------------------------------------------
// The request's page

/// The small forms of the request's page, each named by a hidden `form` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmallForm {
    /// A comment (the owner answering, or a reviewer).
    Comment,
    /// A reviewer's decision.
    Review,
    /// Filed with Bentley.
    Filed,
    /// An issued token.
    Token,
    /// A new app key.
    Key,
    /// Access withdrawn.
    Revoke,
}

impl SmallForm {
    fn of(form: &FormPairs) -> Option<Self> {
        Some(match form.get("form") {
            "comment" => Self::Comment,
            "review" => Self::Review,
            "filed" => Self::Filed,
            "token" => Self::Token,
            "key" => Self::Key,
            "revoke" => Self::Revoke,
            _ => return None,
        })
    }
}

/// The fields of the request page's small forms: empty, or as posted with their errors.
#[derive(Debug, Serialize)]
struct Forms {
    comment_body: Field,
    review_comment: Field,
    filed_reference: Field,
    token_project: Field,
    token_value: Field,
    token_scope: Field,
    token_issued_on: Field,
    token_expires_on: Field,
    key_name: Field,
    key_expires_on: Field,
    revoke_reason: Field,
}

impl Forms {
    fn new(projects: &[String], posted: Option<(SmallForm, &FormPairs, &Errors)>) -> Self {
        let empty = Errors::default();
        let none = FormPairs::default();
        let for_form = |which: SmallForm| posted_for(posted, which).unwrap_or((&none, &empty));
        let (c, ce) = for_form(SmallForm::Comment);
        let (r, re) = for_form(SmallForm::Review);
        let (f, fe) = for_form(SmallForm::Filed);
        let (t, te) = for_form(SmallForm::Token);
        let (k, ke) = for_form(SmallForm::Key);
        let (v, ve) = for_form(SmallForm::Revoke);
        let choices: Vec<(&str, &str)> =
            projects.iter().map(|p| (p.as_str(), p.as_str())).collect();
        let today = chrono::Utc::now()
            .date_naive()
            .format("%Y-%m-%d")
            .to_string();
        let issued = t.opt("issuedOn").unwrap_or(&today);
        Self {
            comment_body: Field::textarea("body", "Your comment", c.get("body"), ce)
                .hint("The reviewer and the contact both read the conversation."),
            review_comment: Field::textarea("comment", "Comment for the contact", r.get("comment"), re)
                .hint("Needed to request changes or reject: say what to change, or why."),
            filed_reference: Field::text("reference", "Bentley's ticket reference", f.get("reference"), fe)
                .placeholder("CS0123456"),
            token_project: Field::select("projectId", "Project", t.get("projectId"), &choices, te),
            token_value: Field::text("token", "Token", "", te)
                .kind("password")
                .autocomplete("off")
                .hint("Stored encrypted; only its fingerprint and last four characters are shown again."),
            token_scope: Field::select(
                "scope",
                "Scope",
                t.get("scope"),
                &[("read", "Read"), ("read write", "Read and write")],
                te,
            ),
            token_issued_on: Field::text("issuedOn", "Issued on", issued, te).kind("date"),
            token_expires_on: Field::text("expiresOn", "Expires on", t.get("expiresOn"), te)
                .kind("date")
                .hint("Leave empty if Bentley gave no expiry date."),
            key_name: Field::text("keyName", "Key name", k.get("keyName"), ke)
                .placeholder("site-diary-app"),
            key_expires_on: Field::text("keyExpiresOn", "Expires on", k.get("keyExpiresOn"), ke)
                .kind("date")
                .hint("Optional."),
            revoke_reason: Field::textarea("reason", "Why access is withdrawn", v.get("reason"), ve),
        }
    }
}

fn posted_for<'a>(
    posted: Option<(SmallForm, &'a FormPairs, &'a Errors)>,
    which: SmallForm,
) -> Option<(&'a FormPairs, &'a Errors)> {
    match posted {
        Some((kind, values, errors)) if kind == which => Some((values, errors)),
        _ => None,
    }
}

/// What the caller may do on the request's page.
#[derive(Debug, Serialize)]
struct Can {
    edit: bool,
    submit: bool,
    comment: bool,
    review: bool,
    mark_filed: bool,
    record_token: bool,
    create_key: bool,
    revoke_key: bool,
    activate: bool,
    revoke: bool,
}

impl Can {
    fn new(user: &User, stored: &StoredRequest) -> Self {
        let is_owner = stored.owner_id == user.id;
        let is_reviewer = user.role >= Role::Reviewer;
        let may = |action: Action| {
            action.permits(is_owner, is_reviewer) && action.next(stored.status).is_some()
        };
        Self {
            edit: is_owner && stored.status.is_editable(),
            submit: may(Action::Submit),
            comment: is_owner || is_reviewer,
            review: may(Action::Approve),
            mark_filed: may(Action::MarkFiled),
            record_token: may(Action::RecordToken),
            create_key: is_reviewer && stored.status.is_granted(),
            revoke_key: is_reviewer,
            activate: may(Action::Activate),
            revoke: may(Action::Revoke),
        }
    }
}

/// A draft as the page shows it: rendered, and as text to copy.
#[derive(Debug, Serialize)]
struct DraftView {
    html: String,
    markdown: String,
    text: String,
    markdown_url: String,
    text_url: String,
}

/// A key just created: shown once.
#[derive(Debug, Serialize)]
pub struct CreatedKey {
    /// Its name.
    pub name: String,
    /// The key.
    pub key: String,
}

#[derive(Debug, Serialize)]
struct RequestView {
    id: String,
    title: String,
    status: &'static str,
    status_label: &'static str,
    owner: String,
    is_owner: bool,
    bentley_reference: Option<String>,
    created: String,
    updated: String,
    details: RequestDetails,
    assessment: AssessmentPanel,
    comments: Vec<CommentRow>,
    history: Vec<HistoryRow>,
    support_draft: DraftView,
    dataclips_draft: Option<DraftView>,
    can: Can,
    /// A reviewer looking at their own request in review: someone else must review it.
    own_review: bool,
    vault: Vec<VaultRow>,
    keys: Vec<KeyRow>,
    created_key: Option<CreatedKey>,
    forms: Forms,
    /// Something went wrong with the last action, or null.
    alert: Option<String>,
}

/// What a post on the request's page brings back to it.
#[derive(Debug, Default)]
pub struct Posted<'a> {
    /// The small form posted, its values and errors.
    pub form: Option<(SmallForm, &'a FormPairs, &'a Errors)>,
    /// A page-level message.
    pub alert: Option<String>,
    /// A key just created.
    pub created_key: Option<CreatedKey>,
    /// A notice code.
    pub notice: Option<&'a str>,
}

/// Renders the request's page for `user`.
pub async fn request_page(
    state: &AppState,
    caller: &Caller,
    user: &User,
    id: Uuid,
    status: StatusCode,
    posted: Posted<'_>,
) -> PageResult {
    let access = &state.services.access;
    let stored = access.get(user, id).await?;
    let draft = |kind: DraftKind, stem: &str| -> Result<DraftView, PageError> {
        let render = |format| {
            access
                .draft(&stored, kind, format)
                .map_err(|e| PageError::Api(ApiError::internal("web draft", &e)))
        };
        Ok(DraftView {
            html: render(DraftFormat::Html)?,
            markdown: render(DraftFormat::Markdown)?,
            text: render(DraftFormat::Text)?,
            markdown_url: format!("/requests/{id}/drafts/{stem}.md"),
            text_url: format!("/requests/{id}/drafts/{stem}.txt"),
        })
    };
    let assessment = access.assess(&stored.body);
    let wants_dataclips = assessment.channels.iter().any(|c| !c.dataclips.is_empty());
    let is_reviewer = user.role >= Role::Reviewer;
    let projects: Vec<String> = stored
        .body
        .project_urls
        .iter()
        .map(|u| u.project_id().to_owned())
        .collect();
    let history = access
        .history_with_actors(id)
        .await?
        .iter()
        .map(|(entry, email)| HistoryRow::new(entry, email.clone()))
        .collect();
    let view = RequestView {
        id: id.to_string(),
        title: stored.title.clone(),
        status: stored.status.as_str(),
        status_label: status_label(stored.status),
        owner: stored.owner_email.clone().unwrap_or_default(),
        is_owner: stored.owner_id == user.id,
        bentley_reference: stored.bentley_reference.clone(),
        created: super::display::when(stored.created_at),
        updated: super::display::when(stored.updated_at),
        details: (&stored.body).into(),
        assessment: (&assessment).into(),
        comments: conversation(state, id).await?,
        history,
        support_draft: draft(DraftKind::SupportRequest, "support-request")?,
        dataclips_draft: if wants_dataclips {
            Some(draft(DraftKind::DataclipsRequest, "dataclips-request")?)
        } else {
            None
        },
        can: Can::new(user, &stored),
        own_review: is_reviewer
            && stored.owner_id == user.id
            && stored.status == RequestStatus::InReview,
        vault: access.secrets(id).await?.iter().map(Into::into).collect(),
        keys: if is_reviewer {
            access.app_keys(id).await?.iter().map(Into::into).collect()
        } else {
            Vec::new()
        },
        created_key: posted.created_key,
        forms: Forms::new(&projects, posted.form),
        alert: posted.alert,
    };
    let layout = layout(caller, &stored.title, posted.notice);
    caller.render(state, status, "request", layout, &view)
}

/// `GET /requests/{id}`: the request's page (its owner, or reviewers).
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    RequestId(id): RequestId,
    Query(query): Query<PageQuery>,
) -> PageResult {
    let user = caller.user(Role::Contact)?;
    let restored = caller
        .restore(&state, &format!("/requests/{id}"), query.restore.as_deref())
        .await?;
    let no_errors = Errors::default();
    let posted = match &restored {
        Some(pairs) => Posted {
            form: SmallForm::of(pairs).map(|kind| (kind, pairs, &no_errors)),
            notice: Some("restored"),
            ..Posted::default()
        },
        None => Posted {
            notice: query.notice.as_deref(),
            ..Posted::default()
        },
    };
    let response = request_page(&state, &caller, user, id, StatusCode::OK, posted).await?;
    Ok(clear_stash_cookie(response, restored.is_some()))
}

/// A request's page and the caller looking at it: what the actions on the page answer with.
#[derive(Debug, Clone, Copy)]
pub struct OnRequest<'a> {
    /// The app.
    pub state: &'a AppState,
    /// The caller.
    pub caller: &'a Caller,
    /// The signed-in user.
    pub user: &'a User,
    /// The request.
    pub id: Uuid,
}

impl OnRequest<'_> {
    /// The request's page.
    pub async fn page(self, status: StatusCode, posted: Posted<'_>) -> PageResult {
        request_page(self.state, self.caller, self.user, self.id, status, posted).await
    }

    /// The request's page with the small form `kind` posted back beside its errors (`422`).
    pub async fn refused(self, kind: SmallForm, form: &FormPairs, errors: &Errors) -> PageResult {
        let posted = Posted {
            form: Some((kind, form, errors)),
            ..Posted::default()
        };
        self.page(StatusCode::UNPROCESSABLE_ENTITY, posted).await
    }

    /// Takes `action` on the request (with `comment`, if the action needs one) and answers as
    /// [`Self::outcome`] does.
    pub async fn transition(
        self,
        form: &FormPairs,
        action: Action,
        comment: Option<String>,
        notice: &str,
        field_name: impl Fn(&str) -> String,
    ) -> PageResult {
        let result = self
            .state
            .services
            .access
            .transition(self.user, self.id, action, comment)
            .await;
        self.outcome(form, result, notice, field_name).await
    }

    /// The outcome of a small form's action: back to the page with a notice, or the page again
    /// with the form's errors (or a page-level alert) and what was typed. `field_name` maps
    /// the service's field names onto the form's.
    pub async fn outcome<T>(
        self,
        form: &FormPairs,
        result: Result<T, AccessError>,
        notice: &str,
        field_name: impl Fn(&str) -> String,
    ) -> PageResult {
        let mut errors = Errors::default();
        let (status, alert) = match result {
            Ok(_) => {
                return Ok(see_other(
                    &format!("/requests/{}?notice={notice}", self.id),
                    None,
                ));
            }
            Err(AccessError::Invalid { field, message }) => {
                errors.add(field_name(&field), message);
                (StatusCode::UNPROCESSABLE_ENTITY, None)
            }
            Err(AccessError::Vault(gatehouse_core::vault::VaultError::Invalid {
                field,
                message,
            })) => {
                errors.add(field_name(field), message);
                (StatusCode::UNPROCESSABLE_ENTITY, None)
            }
            Err(AccessError::Key(gatehouse_core::auth::app_keys::KeyError::Invalid {
                field,
                message,
            })) => {
                errors.add(field_name(field), message);
                (StatusCode::UNPROCESSABLE_ENTITY, None)
            }
            Err(AccessError::NotReady(items)) => (
                StatusCode::CONFLICT,
                Some(format!("Not submitted: {}", items.join("; "))),
            ),
            Err(AccessError::WrongStatus(message)) => (StatusCode::CONFLICT, Some(message)),
            Err(AccessError::Forbidden(message)) => (StatusCode::FORBIDDEN, Some(message)),
            Err(error) => return Err(error.into()),
        };
        let posted = Posted {
            form: SmallForm::of(form).map(|k| (k, form, &errors)),
            alert,
            ..Posted::default()
        };
        self.page(status, posted).await
    }
}

/// `POST /requests/{id}/submit`: the owner sends the request for review.
pub async fn submit(State(state): State<AppState>, post: RequestPost<ByContact>) -> PageResult {
    let form = &post.form;
    post.on(&state)
        .transition(form, Action::Submit, None, "submitted", str::to_owned)
        .await
}

/// `POST /requests/{id}/comments`: the owner answers, or a reviewer comments.
pub async fn comment(State(state): State<AppState>, post: RequestPost<ByContact>) -> PageResult {
    let (user, id, form) = (&post.user, post.id, &post.form);
    let result = state
        .services
        .access
        .comment(user, id, form.get("body"))
        .await;
    post.on(&state)
        .outcome(form, result, "commented", str::to_owned)
        .await
}

/// The `{file}` of a draft's URL.
#[derive(Debug, Deserialize)]
pub struct DraftFile {
    file: String,
}

/// `GET /requests/{id}/drafts/{file}`: a draft as a Markdown or text download.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    RequestId(id): RequestId,
    Path(DraftFile { file }): Path<DraftFile>,
) -> PageResult {
    let user = caller.user(Role::Contact)?;
    let (kind, format, mime) = match file.as_str() {
        "support-request.md" => (
            DraftKind::SupportRequest,
            DraftFormat::Markdown,
            "text/markdown",
        ),
        "support-request.txt" => (DraftKind::SupportRequest, DraftFormat::Text, "text/plain"),
        "dataclips-request.md" => (
            DraftKind::DataclipsRequest,
            DraftFormat::Markdown,
            "text/markdown",
        ),
        "dataclips-request.txt" => (DraftKind::DataclipsRequest, DraftFormat::Text, "text/plain"),
        _ => return Err(ApiError::not_found("draft").into()),
    };
    let stored = state.services.access.get(user, id).await?;
    let text = state
        .services
        .access
        .draft(&stored, kind, format)
        .map_err(|e| ApiError::internal("web draft download", &e))?;
    let short = &id.to_string()[..8];
    Ok((
        [
            (CONTENT_TYPE, format!("{mime}; charset=utf-8")),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"gatehouse-{short}-{file}\""),
            ),
        ],
        text,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// The public assessment

/// The public check's page, at `/check`, and its layout.
fn check_page<'a>(state: &'a AppState, caller: &'a Caller) -> (FormPage<'a>, Layout) {
    const HEADING: &str = "Will my use case be approved?";
    let page = FormPage {
        state,
        caller,
        heading: HEADING.into(),
        action: "/check".into(),
        request: None,
        public: true,
        comments: Vec::new(),
    };
    (page, caller.layout(HEADING))
}

/// `GET /check`: "will my use case be approved?", for anyone; stores nothing.
pub async fn check_form(State(state): State<AppState>, caller: Caller) -> PageResult {
    let (page, layout) = check_page(&state, &caller);
    page.render(
        layout,
        StatusCode::OK,
        &RequestForm::blank(),
        &Errors::default(),
        None,
    )
}

/// `POST /check`: assesses what was typed (or adds or removes a workflow); stores nothing.
pub async fn check(State(state): State<AppState>, caller: Caller, form: FormPairs) -> PageResult {
    let (page, layout) = check_page(&state, &caller);
    // The token first: a post without it (from another site, or a script) costs no parsing
    // and gets nothing of itself echoed back.
    if !caller.csrf_ok(&form) {
        let alert = "This form had expired or did not come from this page. Go back to keep \
                     what you typed, reload this page, and press Assess again."
            .to_owned();
        return page.render(
            layout,
            StatusCode::FORBIDDEN,
            &RequestForm::blank(),
            &Errors::default(),
            Some(alert),
        );
    }
    let mut typed = RequestForm::from_pairs(&form, state.services.access.limits());
    if let Some(status) = rearrange(&mut typed, FormAction::of(&form)) {
        return page.render(layout, status, &typed, &Errors::default(), None);
    }
    let (status, errors) = match typed.to_request(state.services.access.limits()) {
        Ok(_) => (StatusCode::OK, Errors::default()),
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
    };
    let alert = (!errors.is_empty()).then(|| {
        "Fix the highlighted fields to see the assessment. What you typed is kept.".to_owned()
    });
    page.render(layout, status, &typed, &errors, alert)
}

#[derive(Debug, Serialize)]
struct FragmentView {
    assessment: Option<AssessmentPanel>,
    errors: Vec<super::request_form::SummaryItem>,
}

/// `POST /assess`: the assessment panel of what the form holds, as an HTML fragment for the
/// form's script (the live assessment). Stores nothing.
pub async fn assess_fragment(
    State(state): State<AppState>,
    caller: Caller,
    form: FormPairs,
) -> PageResult {
    if !caller.csrf_ok(&form) {
        return Err(csrf_refused());
    }
    let typed = RequestForm::from_pairs(&form, state.services.access.limits());
    let view = match typed.to_request(state.services.access.limits()) {
        Ok(request) => FragmentView {
            assessment: Some((&state.services.access.assess(&request)).into()),
            errors: Vec::new(),
        },
        Err(errors) => FragmentView {
            assessment: None,
            errors: typed.view(&errors).error_summary,
        },
    };
    let html = state.web.render("partials/assessment", &view)?;
    Ok((StatusCode::OK, Html(html.0)).into_response())
}
