//! Attachment uploads, streamed: the body is read chunk by chunk, hashed, counted and written
//! to the upload directory (or discarded); it is never held whole in memory.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use futures::{Stream, StreamExt};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::parse_id;
use crate::error::{ApiError, ApiResult};
use crate::model::{Attachment, AttachmentParent, ErrorBody};
use crate::state::SimState;

/// Uploads a file to an activity's timeline.
#[utoipa::path(
    post,
    path = "/projects/{project_id}/activities/{id}/attachments",
    tag = "attachments",
    description = "The body is the file itself (its `Content-Type`; name in `X-File-Name` or `?file_name=`), or `multipart/form-data` with a `file` part. Streamed; larger than the configured limit → 413.",
    params(
        ("project_id" = Uuid, Path, description = "Project id"),
        ("id" = Uuid, Path, description = "Activity id"),
        ("file_name" = Option<String>, Query, description = "File name (or the `X-File-Name` header)"),
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses(
        (status = 201, description = "The attachment", body = Attachment),
        (status = 403, description = "Read-only token", body = ErrorBody),
        (status = 404, description = "No such activity", body = ErrorBody),
        (status = 413, description = "Larger than the upload limit", body = ErrorBody),
        (status = 422, description = "No file name or no `file` part", body = ErrorBody),
    ),
    security(("bearer_token" = []))
)]
pub(crate) async fn upload_activity_attachment(
    State(sim): State<SimState>,
    Path((project_id, id)): Path<(String, String)>,
    uri: Uri,
    request: Request,
) -> ApiResult<Response> {
    upload(
        sim,
        AttachmentParent::Activity,
        &project_id,
        &id,
        &uri,
        request,
    )
    .await
}

/// Uploads a file to an event's timeline.
#[utoipa::path(
    post,
    path = "/projects/{project_id}/events/{id}/attachments",
    tag = "attachments",
    description = "As for activities.",
    params(
        ("project_id" = Uuid, Path, description = "Project id"),
        ("id" = Uuid, Path, description = "Event id"),
        ("file_name" = Option<String>, Query, description = "File name (or the `X-File-Name` header)"),
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses(
        (status = 201, description = "The attachment", body = Attachment),
        (status = 404, description = "No such event", body = ErrorBody),
        (status = 413, description = "Larger than the upload limit", body = ErrorBody),
    ),
    security(("bearer_token" = []))
)]
pub(crate) async fn upload_event_attachment(
    State(sim): State<SimState>,
    Path((project_id, id)): Path<(String, String)>,
    uri: Uri,
    request: Request,
) -> ApiResult<Response> {
    upload(
        sim,
        AttachmentParent::Event,
        &project_id,
        &id,
        &uri,
        request,
    )
    .await
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("uploads are limited to {limit} bytes"),
    )
    .with_details(json!({"limit_bytes": limit}))
}

fn sanitise(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    cleaned.trim_start_matches('.').to_owned()
}

struct Received {
    size: u64,
    sha256: String,
}

/// Reads a byte stream into the sink, counting and hashing, refusing past `limit`.
async fn receive<S, E>(mut stream: S, limit: u64, target: Option<PathBuf>) -> ApiResult<Received>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = match &target {
        Some(path) => Some(tokio::fs::File::create(path).await.map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "upload_failed",
                format!("cannot write upload: {e}"),
            )
        })?),
        None => None,
    };
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let result: ApiResult<()> = async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "upload_interrupted",
                    format!("reading the body: {e}"),
                )
            })?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large(limit));
            }
            hasher.update(&chunk);
            if let Some(file) = file.as_mut() {
                file.write_all(&chunk).await.map_err(|e| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "upload_failed",
                        e.to_string(),
                    )
                })?;
            }
        }
        if let Some(file) = file.as_mut() {
            file.flush().await.map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "upload_failed",
                    e.to_string(),
                )
            })?;
        }
        Ok(())
    }
    .await;
    if let Err(error) = result {
        drop(file);
        if let Some(path) = &target {
            let _ = tokio::fs::remove_file(path).await;
        }
        return Err(error);
    }
    Ok(Received {
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

async fn upload(
    sim: SimState,
    parent_type: AttachmentParent,
    project_id: &str,
    parent: &str,
    uri: &Uri,
    request: Request,
) -> ApiResult<Response> {
    let project_id = parse_id(project_id, "project")?;
    let slot = sim
        .project(project_id)
        .ok_or_else(|| ApiError::not_found("project"))?;
    let what = match parent_type {
        AttachmentParent::Activity => "activity",
        AttachmentParent::Event => "event",
    };
    let parent_id = parse_id(parent, what)?;
    {
        let data = slot.read();
        let exists = match parent_type {
            AttachmentParent::Activity => data.activities.iter().any(|a| a.id == parent_id),
            AttachmentParent::Event => data.events.iter().any(|e| e.id == parent_id),
        };
        if !exists {
            return Err(ApiError::not_found(what));
        }
    }
    let limit = sim.config.upload_limit_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large(limit));
    }
    let query_name = uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "file_name")
            .map(|(_, v)| v.into_owned())
    });
    let header_name = request
        .headers()
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let id = sim.next_created_id();
    let target = |name: &str| {
        sim.config
            .upload_dir
            .as_ref()
            .map(|dir| dir.join(format!("{id}-{}", sanitise(name))))
    };

    let (file_name, content_type, received) = if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &sim).await.map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_multipart", e.body_text())
        })?;
        let mut found = None;
        while let Some(field) = multipart.next_field().await.map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_multipart", e.body_text())
        })? {
            if field.name() != Some("file") {
                continue;
            }
            let name = field
                .file_name()
                .map(str::to_owned)
                .or(header_name.clone())
                .or(query_name.clone())
                .ok_or_else(missing_name)?;
            let part_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_owned();
            let received = receive(
                field.map(|c| c.map_err(|e| e.body_text())),
                limit,
                target(&name),
            )
            .await?;
            found = Some((name, part_type, received));
            break;
        }
        found.ok_or_else(|| {
            ApiError::validation(
                "the multipart body has no `file` part",
                json!({"field": "file"}),
            )
        })?
    } else {
        let name = header_name.or(query_name).ok_or_else(missing_name)?;
        let stream = request.into_body().into_data_stream();
        let received = receive(stream, limit, target(&name)).await?;
        (name, content_type, received)
    };
    if file_name.trim().is_empty() {
        return Err(missing_name());
    }
    let now = Utc::now();
    let attachment = Attachment {
        id,
        project_id,
        parent_type,
        parent_id,
        file_name,
        content_type,
        size_bytes: received.size,
        sha256: Some(received.sha256),
        author: "api".into(),
        created_at: now,
        updated_at: now,
    };
    let mut data = slot.write();
    Arc::make_mut(&mut data.attachments).push(attachment.clone());
    data.version += 1;
    Ok((StatusCode::CREATED, axum::Json(attachment)).into_response())
}

fn missing_name() -> ApiError {
    ApiError::validation(
        "a file name is required (`X-File-Name` header, `?file_name=`, or the multipart part's filename)",
        json!({"field": "file_name"}),
    )
}

#[cfg(test)]
mod tests {
    use super::sanitise;

    #[test]
    fn file_names_are_made_safe_for_the_disk() {
        assert_eq!(sanitise("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(sanitise("site photo (1).jpg"), "site_photo__1_.jpg");
    }
}
