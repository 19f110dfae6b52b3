//! The templates of the documents Gatehouse drafts for a request: the support request to Bentley
//! and the Dataclips provisioning request, rendered from the typed contexts of
//! `access::drafts` with the handlebars templates in `templates/`.
//!
//! - Templates are registered once at start-up, in strict mode: a value missing from the
//!   context is an error, never an empty line.
//! - Markdown and plain text have their own templates. HTML is the Markdown rendered by
//!   pulldown-cmark: one source for the document's structure, so the web and the Markdown never
//!   drift apart. Values are escaped for Markdown when they go into the Markdown templates, and
//!   any raw HTML is escaped when rendering to HTML, so a request's text cannot inject markup.
//! - `templates.override_dir` may replace built-in templates file by file. Each override must
//!   compile and render against a sample context (Bentley's own example); a bad one stops
//!   start-up with a message naming the file.

use std::fmt;
use std::path::Path;

use anyhow::Context as _;
use gatehouse_compliance::AssessmentPolicy;
use handlebars::Handlebars;
use rust_embed::Embed;
use serde::Serialize;

use gatehouse_core::access::drafts::{
    DataclipsRequestContext, DraftError, DraftFormat, DraftKind, DraftMeta, DraftRenderer,
    SupportRequestContext,
};

/// The files of `templates/`, embedded in the binary.
#[derive(Embed)]
#[folder = "../templates/"]
struct TemplateFiles;

/// The template files Gatehouse knows, by file name.
pub const TEMPLATE_FILES: [&str; 4] = [
    "support-request.md.hbs",
    "support-request.txt.hbs",
    "dataclips-request.md.hbs",
    "dataclips-request.txt.hbs",
];

/// The registered templates: one registry that escapes for Markdown, one that does not escape
/// (plain text).
pub struct Drafts {
    markdown: Handlebars<'static>,
    text: Handlebars<'static>,
}

impl fmt::Debug for Drafts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drafts").finish_non_exhaustive()
    }
}

/// Escapes the characters that would make a value into Markdown structure.
fn escape_markdown(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Drafts {
    /// Registers the built-in templates, then the overrides of `override_dir`, and checks that
    /// every template renders against the sample context.
    pub fn load(override_dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut markdown = Handlebars::new();
        markdown.set_strict_mode(true);
        markdown.register_escape_fn(escape_markdown);
        let mut text = Handlebars::new();
        text.set_strict_mode(true);
        text.register_escape_fn(handlebars::no_escape);
        let mut drafts = Self { markdown, text };
        for file in TEMPLATE_FILES {
            let embedded = TemplateFiles::get(file)
                .with_context(|| format!("the built-in template {file} is missing"))?;
            let source = std::str::from_utf8(&embedded.data)
                .with_context(|| format!("the built-in template {file} is not UTF-8"))?;
            drafts
                .register(file, source)
                .with_context(|| format!("the built-in template {file} does not compile"))?;
        }
        if let Some(dir) = override_dir {
            drafts.load_overrides(dir)?;
        }
        drafts.check_against_sample()?;
        Ok(drafts)
    }

    fn load_overrides(&mut self, dir: &Path) -> anyhow::Result<()> {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("templates.override_dir {} cannot be read", dir.display()))?;
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "hbs"))
            .collect();
        files.sort();
        for path in files {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            if !TEMPLATE_FILES.contains(&name.as_str()) {
                anyhow::bail!(
                    "template override {}: unknown template; the templates are {}",
                    path.display(),
                    TEMPLATE_FILES.join(", ")
                );
            }
            let source = std::fs::read_to_string(&path)
                .with_context(|| format!("template override {} cannot be read", path.display()))?;
            self.register(&name, &source).with_context(|| {
                format!("template override {} does not compile", path.display())
            })?;
            let sample = Sample::new();
            let rendered = match name.split('.').next() {
                Some("support-request") => self.render_template(&name, &sample.support),
                _ => self.render_template(&name, &sample.dataclips),
            };
            rendered.with_context(|| {
                format!(
                    "template override {} does not render against the sample request",
                    path.display()
                )
            })?;
            tracing::info!(template.path = %path.display(), "using a template override");
        }
        Ok(())
    }

    fn register(&mut self, file: &str, source: &str) -> Result<(), handlebars::TemplateError> {
        if file.ends_with(".md.hbs") {
            self.markdown.register_template_string(file, source)
        } else {
            self.text.register_template_string(file, source)
        }
    }

    fn check_against_sample(&self) -> anyhow::Result<()> {
        let sample = Sample::new();
        for format in [DraftFormat::Markdown, DraftFormat::Text, DraftFormat::Html] {
            self.support_request(&sample.support, format)?;
            self.dataclips_request(&sample.dataclips, format)?;
        }
        Ok(())
    }

    fn render_template(&self, file: &str, context: &impl Serialize) -> Result<String, DraftError> {
        let registry = if file.ends_with(".md.hbs") {
            &self.markdown
        } else {
            &self.text
        };
        registry.render(file, context).map_err(|source| DraftError {
            template: file.to_owned(),
            source: Box::new(source),
        })
    }

    fn render(
        &self,
        kind: DraftKind,
        format: DraftFormat,
        context: &impl Serialize,
    ) -> Result<String, DraftError> {
        match format {
            DraftFormat::Markdown => {
                self.render_template(&format!("{}.md.hbs", kind.stem()), context)
            }
            DraftFormat::Text => self.render_template(&format!("{}.txt.hbs", kind.stem()), context),
            DraftFormat::Html => Ok(markdown_to_html(
                &self.render_template(&format!("{}.md.hbs", kind.stem()), context)?,
            )),
        }
    }
}

impl DraftRenderer for Drafts {
    fn support_request(
        &self,
        context: &SupportRequestContext,
        format: DraftFormat,
    ) -> Result<String, DraftError> {
        self.render(DraftKind::SupportRequest, format, context)
    }

    fn dataclips_request(
        &self,
        context: &DataclipsRequestContext,
        format: DraftFormat,
    ) -> Result<String, DraftError> {
        self.render(DraftKind::DataclipsRequest, format, context)
    }
}

/// Renders Markdown to HTML, escaping any raw HTML in it.
fn markdown_to_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser};
    let parser = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

/// A sample request (Bentley's own example) to check templates against.
struct Sample {
    support: SupportRequestContext,
    dataclips: DataclipsRequestContext,
}

impl Sample {
    fn new() -> Self {
        let request = gatehouse_compliance::examples::bentley_example();
        let policy = AssessmentPolicy::default();
        let assessment = gatehouse_compliance::assess(&request, &policy);
        let meta = DraftMeta {
            reference: "sample".to_owned(),
            prepared_on: "2026-01-01".to_owned(),
        };
        Self {
            support: SupportRequestContext::new(&request, &assessment, &meta),
            dataclips: DataclipsRequestContext::new(&request, &assessment, &meta),
        }
    }
}

#[cfg(test)]
mod tests;
