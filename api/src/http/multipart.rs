//! GraphQL multipart requests (the GraphQL multipart request spec), read with every part
//! bounded: `operations` and `map` are JSON held in memory, so each may be at most
//! `http.max_body_bytes`; only file parts may be large (`http.max_upload_bytes` each), and
//! they are spooled to a temporary file as they arrive, never held in memory.
//!
//! The handler calls this only for callers allowed to upload: credentials are checked before
//! a byte of the body is read.

use std::collections::HashMap;

use async_graphql::UploadValue;
use axum::body::Body;
use futures::TryStreamExt;
use multer::{Constraints, Multipart, SizeLimit};
use tokio::io::AsyncWriteExt;

use crate::config::HttpConfig;
use crate::error::{ApiError, ErrorCode};

/// Most files one request may carry.
pub const MAX_FILES: usize = 8;

/// Reads a multipart GraphQL request from `body`.
pub async fn read(
    content_type: &str,
    body: Body,
    limits: &HttpConfig,
) -> Result<async_graphql::Request, ApiError> {
    let boundary = multer::parse_boundary(content_type).map_err(|e| {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("the multipart request has no usable boundary: {e}"),
        )
    })?;
    let json_limit = limits.max_body_bytes as u64;
    let constraints = Constraints::new().size_limit(
        SizeLimit::new()
            .whole_stream(
                limits
                    .max_upload_bytes
                    .saturating_mul(MAX_FILES as u64)
                    .saturating_add(2 * json_limit),
            )
            .per_field(limits.max_upload_bytes)
            .for_field("operations", json_limit)
            .for_field("map", json_limit),
    );
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let mut multipart = Multipart::with_constraints(stream, boundary, constraints);

    let mut request: Option<async_graphql::Request> = None;
    let mut map: Option<HashMap<String, Vec<String>>> = None;
    let mut files = 0usize;
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "operations" => {
                let bytes = field.bytes().await.map_err(malformed)?;
                if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
                    return Err(ApiError::new(
                        ErrorCode::BadRequest,
                        "batched requests are not supported",
                    ));
                }
                request = Some(serde_json::from_slice(&bytes).map_err(|e| {
                    ApiError::new(
                        ErrorCode::BadRequest,
                        format!("the `operations` part is not a GraphQL request in JSON: {e}"),
                    )
                })?);
            }
            "map" => {
                let bytes = field.bytes().await.map_err(malformed)?;
                let parsed: HashMap<String, Vec<String>> =
                    serde_json::from_slice(&bytes).map_err(|e| {
                        ApiError::new(
                            ErrorCode::BadRequest,
                            format!("the `map` part is not a JSON map of files to variables: {e}"),
                        )
                    })?;
                if parsed.len() > MAX_FILES || parsed.values().any(|paths| paths.len() > MAX_FILES)
                {
                    return Err(ApiError::new(
                        ErrorCode::BadRequest,
                        format!("a request carries at most {MAX_FILES} files"),
                    ));
                }
                map = Some(parsed);
            }
            _ => {
                // The spec sends `operations` and `map` first: a file is only read once it is
                // known where it goes, so nothing unasked-for is spooled to disk.
                let (Some(request), Some(map)) = (request.as_mut(), map.as_mut()) else {
                    return Err(ApiError::new(
                        ErrorCode::BadRequest,
                        "the `operations` and `map` parts must come before the files",
                    ));
                };
                let Some(paths) = map.remove(&name) else {
                    return Err(ApiError::new(
                        ErrorCode::BadRequest,
                        format!("the part `{}` is not named in `map`", truncate(&name)),
                    ));
                };
                files += 1;
                if files > MAX_FILES {
                    return Err(ApiError::new(
                        ErrorCode::BadRequest,
                        format!("a request carries at most {MAX_FILES} files"),
                    ));
                }
                let filename = field.file_name().unwrap_or("upload").to_owned();
                let content_type = field.content_type().map(ToString::to_string);
                let spool = tempfile::tempfile()
                    .map_err(|e| ApiError::internal("upload spool file", &e))?;
                let mut file = tokio::fs::File::from_std(spool);
                while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                    file.write_all(&chunk)
                        .await
                        .map_err(|e| ApiError::internal("upload spool write", &e))?;
                }
                file.flush()
                    .await
                    .map_err(|e| ApiError::internal("upload spool write", &e))?;
                let mut file = file.into_std().await;
                std::io::Seek::rewind(&mut file)
                    .map_err(|e| ApiError::internal("upload spool rewind", &e))?;
                let upload = UploadValue {
                    filename,
                    content_type,
                    content: file,
                };
                for path in paths {
                    let copy = upload
                        .try_clone()
                        .map_err(|e| ApiError::internal("upload spool clone", &e))?;
                    request.set_upload(&path, copy);
                }
            }
        }
    }
    let request = request.ok_or_else(|| {
        ApiError::new(
            ErrorCode::BadRequest,
            "the multipart request has no `operations` part",
        )
    })?;
    match map {
        None => Err(ApiError::new(
            ErrorCode::BadRequest,
            "the multipart request has no `map` part",
        )),
        Some(left) if !left.is_empty() => Err(ApiError::new(
            ErrorCode::BadRequest,
            "`map` names files the request does not carry",
        )),
        Some(_) => Ok(request),
    }
}

/// A part name, shortened for an error message.
fn truncate(name: &str) -> String {
    name.chars().take(64).collect()
}

fn malformed(error: multer::Error) -> ApiError {
    match error {
        multer::Error::FieldSizeExceeded { field_name, limit } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the part `{}` is larger than {limit} bytes",
                truncate(field_name.as_deref().unwrap_or("?"))
            ),
        ),
        multer::Error::StreamSizeExceeded { limit } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the request is larger than {limit} bytes"),
        ),
        other => ApiError::new(
            ErrorCode::BadRequest,
            format!("the multipart request is malformed: {other}"),
        ),
    }
}
