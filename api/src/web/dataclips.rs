//! The dataclips status page of governance reviewers: per configured clip, how old its
//! snapshot is, its rows, the last success and error and the next scheduled fetch; admins can
//! ask for a fetch now, through the same service call as GraphQL's `refreshDataclip` (audited,
//! held to `dataclips.manual_refresh_floor_secs`).

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use super::display::when;
use super::handler::{Caller, FormPairs, Layout, PageResult, see_other};
use super::requests::{PageQuery, notice_text};
use crate::error::ApiError;
use crate::http::AppState;
use gatehouse_core::audit::Actor;
use gatehouse_core::auth::Role;
use gatehouse_core::dataclips::{ClipKind, ClipStatus, DataclipError};

/// A span of seconds for people: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
pub fn age_text(secs: u64) -> String {
    let (days, hours, minutes) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// A clip as the page shows it.
#[derive(Debug, Serialize)]
struct ClipRow {
    project: String,
    clip: String,
    format: &'static str,
    entity: Option<&'static str>,
    age: Option<String>,
    rows: Option<String>,
    last_success: Option<String>,
    last_error: Option<String>,
    last_error_at: Option<String>,
    last_manual: Option<String>,
    next_refresh: String,
    /// Why a refresh of this clip was just refused.
    refused: Option<String>,
}

impl From<ClipStatus> for ClipRow {
    fn from(s: ClipStatus) -> Self {
        Self {
            entity: ClipKind::entity_of(&s.spec.clip).map(|e| e.label()),
            project: s.spec.project_id,
            clip: s.spec.clip,
            format: s.spec.format.extension(),
            age: s.age_secs.map(age_text),
            rows: s.current.map(|c| c.rows.to_string()),
            last_success: s.state.last_success_at.map(when),
            last_error: s.state.last_error,
            last_error_at: s.state.last_error_at.map(when),
            last_manual: s.state.last_manual_at.map(when),
            next_refresh: when(s.next_refresh_at),
            refused: None,
        }
    }
}

#[derive(Debug, Serialize)]
struct DataclipsView {
    clips: Vec<ClipRow>,
    is_admin: bool,
    refused: Option<String>,
}

/// Renders the page, with a refused refresh's message beside its clip.
async fn render(
    state: &AppState,
    caller: &Caller,
    layout: Layout,
    status: StatusCode,
    refused: Option<(&str, &str, String)>,
) -> PageResult {
    let user = caller.user(Role::Reviewer)?;
    let statuses = state
        .services
        .dataclips
        .status(None)
        .await
        .map_err(ApiError::from)?;
    let mut clips: Vec<ClipRow> = statuses.into_iter().map(Into::into).collect();
    if let Some((project, clip, message)) = &refused {
        for row in clips
            .iter_mut()
            .filter(|r| r.project == *project && r.clip == *clip)
        {
            row.refused = Some(message.clone());
        }
    }
    let view = DataclipsView {
        clips,
        is_admin: user.role >= Role::Admin,
        refused: refused.map(|(_, _, message)| message),
    };
    caller.render(state, status, "dataclips", layout, &view)
}

/// `GET /dataclips`: every configured clip's status.
pub async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<PageQuery>,
) -> PageResult {
    let layout = Layout {
        notice: notice_text(query.notice.as_deref()),
        ..caller.layout("Dataclips")
    };
    render(&state, &caller, layout, StatusCode::OK, None).await
}

/// `POST /dataclips/refresh`: an admin asks for a clip to be fetched now. Refused while it was
/// fetched less than the floor ago: the page says so beside the clip, with `429`.
pub async fn refresh(State(state): State<AppState>, caller: Caller, form: FormPairs) -> PageResult {
    let user = caller
        .form_user(&state, &form, "/dataclips", Role::Admin)
        .await?;
    let (project, clip) = (form.get("project_id"), form.get("clip"));
    match state
        .services
        .dataclips
        .request_refresh(&Actor::User(user.id), project, clip)
        .await
    {
        Ok(_) => Ok(see_other("/dataclips?notice=refresh_requested", None)),
        Err(
            error @ DataclipError::RefreshTooSoon {
                retry_after_secs, ..
            },
        ) => {
            let message = format!("{clip} of project {project} was not refreshed: {error}.");
            let layout = caller.layout("Dataclips");
            let mut page = render(
                &state,
                &caller,
                layout,
                StatusCode::TOO_MANY_REQUESTS,
                Some((project, clip, message)),
            )
            .await?;
            // A 429 says when to come back, as the API's do.
            page.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            Ok(page)
        }
        Err(error) => Err(ApiError::from(error).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_the_largest_units_that_matter() {
        assert_eq!(age_text(42), "42 s");
        assert_eq!(age_text(12 * 60 + 5), "12 min");
        assert_eq!(age_text(3 * 3600 + 5 * 60), "3 h 5 min");
        assert_eq!(age_text(2 * 86_400 + 4 * 3600 + 59), "2 d 4 h");
    }
}
