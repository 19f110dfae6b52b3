//! The web UI's files (`web/`, embedded in the binary) and its views: the handlebars templates
//! of `web/views`, registered once, in strict mode.

use axum::response::Html;
use handlebars::Handlebars;
use rust_embed::Embed;
use serde::Serialize;

use crate::error::ApiError;

/// The files of `web/`, embedded in the binary.
#[derive(Embed)]
#[folder = "../web/"]
pub(crate) struct WebFiles;

/// The registered views.
#[derive(Debug)]
pub struct Views {
    registry: Handlebars<'static>,
}

impl Views {
    /// Registers every `views/**/*.hbs` file under its path without the extension
    /// (`request`, `partials/field`); strict mode makes a missing value an error instead of an
    /// empty string. Views are partials too: `{{> partials/field}}`.
    pub fn load() -> anyhow::Result<Self> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.set_prevent_indent(true);
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
