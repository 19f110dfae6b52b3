//! Fetching a clip: a conditional GET with HTTP Basic auth, answered by a 304 or a body that is
//! handed on as a stream of chunks, never collected.

use std::io;
use std::pin::Pin;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use secrecy::ExposeSecret;

use super::ClipFormat;
use super::credentials::BasicCredentials;

/// A clip body on its way in.
pub(crate) type BodyStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// What a fetch got.
pub(crate) enum Fetched {
    /// The clip has not changed since the validators sent.
    NotModified,
    /// A new body.
    Body {
        /// Its ETag.
        etag: Option<String>,
        /// Its Last-Modified.
        last_modified: Option<String>,
        /// The upstream snapshot time (`X-Snapshot-Time`, else `Last-Modified`).
        snapshot_at: Option<DateTime<Utc>>,
        /// The body.
        body: BodyStream,
    },
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotModified => f.write_str("NotModified"),
            Self::Body { etag, .. } => f.debug_struct("Body").field("etag", etag).finish(),
        }
    }
}

/// A fetch that got no usable answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub(crate) struct FetchError {
    /// For people and the status page.
    pub(crate) message: String,
    /// Whether trying again soon may help (network, 408, 429, 5xx).
    pub(crate) transient: bool,
}

/// The URL of a clip: `{base}/dataclips/{project_id}/{clip}.{ext}`.
pub(crate) fn clip_url(
    base: &str,
    project_id: &str,
    clip: &str,
    format: ClipFormat,
) -> Result<url::Url, FetchError> {
    let mut url = url::Url::parse(base).map_err(|e| FetchError {
        message: format!("the dataclips base URL is invalid: {e}"),
        transient: false,
    })?;
    let file = format!("{clip}.{}", format.extension());
    url.path_segments_mut()
        .map_err(|()| FetchError {
            message: "the dataclips base URL cannot have a path".into(),
            transient: false,
        })?
        .pop_if_empty()
        .extend(["dataclips", project_id, file.as_str()]);
    Ok(url)
}

/// Conditional GET of a clip.
pub(crate) async fn fetch(
    client: &reqwest::Client,
    url: url::Url,
    credentials: &BasicCredentials,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<Fetched, FetchError> {
    let mut request = client.get(url).basic_auth(
        &credentials.username,
        Some(credentials.password.expose_secret()),
    );
    if let Some(etag) = etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    if let Some(last_modified) = last_modified {
        request = request.header(IF_MODIFIED_SINCE, last_modified);
    }
    let response = request.send().await.map_err(|e| FetchError {
        message: format!(
            "the dataclip server could not be reached: {}",
            without_url(&e)
        ),
        transient: true,
    })?;
    let status = response.status();
    if status == StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if !status.is_success() {
        let (message, transient) = match status {
            StatusCode::UNAUTHORIZED => (
                "the dataclip credentials were refused (401)".to_owned(),
                false,
            ),
            StatusCode::FORBIDDEN => (
                "the clip is not provisioned for this dataclip user (403)".to_owned(),
                false,
            ),
            StatusCode::NOT_FOUND => (
                "the project or clip is unknown upstream (404)".to_owned(),
                false,
            ),
            s if s == StatusCode::TOO_MANY_REQUESTS
                || s == StatusCode::REQUEST_TIMEOUT
                || s.is_server_error() =>
            {
                (format!("the dataclip server answered {s}"), true)
            }
            s => (format!("the dataclip server answered {s}"), false),
        };
        return Err(FetchError { message, transient });
    }
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let etag = header(ETAG);
    let last_modified = header(LAST_MODIFIED);
    let snapshot_at = header(reqwest::header::HeaderName::from_static("x-snapshot-time"))
        .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
        .or_else(|| {
            last_modified
                .as_deref()
                .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
        })
        .map(|t| t.with_timezone(&Utc));
    let body = response
        .bytes_stream()
        .map(|chunk| chunk.map_err(|e| io::Error::other(without_url(&e))));
    Ok(Fetched::Body {
        etag,
        last_modified,
        snapshot_at,
        body: Box::pin(body),
    })
}

/// A reqwest error's text with its causes (credentials are in a header, never in the URL).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
