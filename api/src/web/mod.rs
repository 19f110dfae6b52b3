//! The web UI: server-rendered pages from the handlebars views in `web/views`, the stylesheet
//! and scripts in `web/static`. Forms post with a CSRF token: the session's own once signed in,
//! a double-submit cookie before.

pub mod csrf;
pub mod pages;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use handlebars::Handlebars;
use rust_embed::Embed;
use serde::Serialize;

use crate::error::ApiError;
use crate::http::AppState;

/// The files of `web/`, embedded in the binary.
#[derive(Embed)]
#[folder = "../web/"]
struct WebFiles;

/// The registered views.
#[derive(Debug)]
pub struct Views {
    registry: Handlebars<'static>,
}

impl Views {
    /// Registers every `views/*.hbs` file under its stem; strict mode makes a missing value an
    /// error instead of an empty string.
    pub fn load() -> anyhow::Result<Self> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        for path in WebFiles::iter() {
            let Some(name) = path
                .strip_prefix("views/")
                .and_then(|p| p.strip_suffix(".hbs"))
            else {
                continue;
            };
            let file = WebFiles::get(&path)
                .ok_or_else(|| anyhow::anyhow!("embedded view {path} vanished"))?;
            let source = std::str::from_utf8(&file.data)?;
            registry
                .register_template_string(name, source)
                .map_err(|e| anyhow::anyhow!("view {path} does not compile: {e}"))?;
        }
        Ok(Self { registry })
    }

    /// Renders a view.
    pub fn render(&self, name: &str, context: &impl Serialize) -> Result<Html<String>, ApiError> {
        self.registry
            .render(name, context)
            .map(Html)
            .map_err(|e| ApiError::internal("web view", &e))
    }
}

/// The web routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/static/{*path}", get(static_file))
}

async fn static_file(axum::extract::Path(path): axum::extract::Path<String>) -> Response {
    match WebFiles::get(&format!("static/{path}")) {
        Some(file) => {
            let mime = mime_guess::from_path(&path).first_or_octet_stream();
            (
                [
                    (CONTENT_TYPE, mime.as_ref().to_owned()),
                    (CACHE_CONTROL, "public, max-age=300".to_owned()),
                ],
                file.data.into_owned(),
            )
                .into_response()
        }
        None => (axum::http::StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
