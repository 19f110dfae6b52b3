//! Two-way writes: each runs once per idempotency key, goes to the upstream, and invalidates
//! the cached entities it touched.

use gatehouse_compliance::Entity;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{Facade, RequestMeta, idempotency};
use crate::clock::Clock;
use crate::error::PublicError;
use crate::upstream::model::{
    Activity, ActivityPatch, Attachment, AttachmentParent, Docket, DocketAction, NewProgressEntry,
    NewResourceUsage, ProgressEntry, ResourceUsage,
};

/// Who writes where.
#[derive(Debug)]
pub struct WriteContext<'a> {
    /// The facade.
    pub facade: &'a Facade,
    /// The database (idempotency keys).
    pub db: &'a DatabaseConnection,
    /// The time idempotency keys are stamped and abandoned by.
    pub clock: &'a Clock,
    /// The request's meta.
    pub meta: &'a RequestMeta,
    /// The caller's idempotency scope (`app_key:<id>`).
    pub caller: String,
    /// The project written to.
    pub project: String,
}

impl WriteContext<'_> {
    async fn once<T, I, F, Fut>(
        &self,
        key: &str,
        operation: &str,
        input: &I,
        write: F,
    ) -> Result<T, PublicError>
    where
        T: Serialize + serde::de::DeserializeOwned,
        I: Serialize,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, PublicError>>,
    {
        let scoped_input = json!({ "project": self.project, "input": input });
        idempotency::once(
            self.db,
            self.clock,
            &self.caller,
            key,
            operation,
            &scoped_input,
            write,
        )
        .await
    }
}

/// Changes an activity's dates and progress.
pub async fn update_activity(
    ctx: &WriteContext<'_>,
    id: Uuid,
    patch: ActivityPatch,
    key: &str,
) -> Result<Activity, PublicError> {
    let input = json!({ "id": id, "patch": patch });
    ctx.once(key, "update_activity", &input, || async {
        let result = ctx
            .facade
            .client()
            .update_activity(&ctx.project, id, &patch, key, &ctx.meta.tag)
            .await;
        ctx.facade.invalidate(&ctx.project, &[Entity::Activity]);
        Ok(result?)
    })
    .await
}

/// Records a progress entry (the activity's progress changes with it).
pub async fn record_progress(
    ctx: &WriteContext<'_>,
    entry: NewProgressEntry,
    key: &str,
) -> Result<ProgressEntry, PublicError> {
    ctx.once(key, "record_progress", &entry, || async {
        let result = ctx
            .facade
            .client()
            .create_progress_entry(&ctx.project, &entry, key, &ctx.meta.tag)
            .await;
        ctx.facade
            .invalidate(&ctx.project, &[Entity::ProgressEntry, Entity::Activity]);
        Ok(result?)
    })
    .await
}

/// Books a resource usage.
pub async fn create_usage(
    ctx: &WriteContext<'_>,
    usage: NewResourceUsage,
    key: &str,
) -> Result<ResourceUsage, PublicError> {
    ctx.once(key, "create_resource_usage", &usage, || async {
        let result = ctx
            .facade
            .client()
            .create_resource_usage(&ctx.project, &usage, key, &ctx.meta.tag)
            .await;
        ctx.facade
            .invalidate(&ctx.project, &[Entity::ResourceUsage]);
        Ok(result?)
    })
    .await
}

/// Deletes a resource usage; returns its id.
pub async fn delete_usage(
    ctx: &WriteContext<'_>,
    id: Uuid,
    key: &str,
) -> Result<Uuid, PublicError> {
    ctx.once(key, "delete_resource_usage", &id, || async {
        let result = ctx
            .facade
            .client()
            .delete_resource_usage(&ctx.project, id, key, &ctx.meta.tag)
            .await;
        ctx.facade
            .invalidate(&ctx.project, &[Entity::ResourceUsage]);
        result?;
        Ok(id)
    })
    .await
}

/// Moves a docket through its status machine.
pub async fn docket_action(
    ctx: &WriteContext<'_>,
    id: Uuid,
    action: DocketAction,
    key: &str,
) -> Result<Docket, PublicError> {
    let input = json!({ "id": id, "action": action });
    ctx.once(key, "docket_action", &input, || async {
        let result = ctx
            .facade
            .client()
            .docket_action(&ctx.project, id, action, key, &ctx.meta.tag)
            .await;
        ctx.facade.invalidate(&ctx.project, &[Entity::Docket]);
        Ok(result?)
    })
    .await
}

/// A file to upload, already on disk (the multipart parser spools uploads to temporary files).
#[derive(Debug, Serialize)]
pub struct UploadFile {
    /// The file's name as the client gave it.
    pub file_name: String,
    /// Its media type.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// The spooled content.
    #[serde(skip)]
    pub content: Option<std::fs::File>,
}

/// Uploads a file to an activity's or event's timeline, streaming it from disk to the upstream:
/// never more than a read buffer of it is in memory.
pub async fn upload_attachment(
    ctx: &WriteContext<'_>,
    parent: AttachmentParent,
    parent_id: Uuid,
    mut file: UploadFile,
    key: &str,
) -> Result<Attachment, PublicError> {
    let input = json!({ "parent": parent, "parent_id": parent_id, "file": file });
    let content = file.content.take();
    ctx.once(key, "upload_attachment", &input, || async {
        let content = content
            .ok_or_else(|| PublicError::invalid_field("file", "the upload has no content"))?;
        let handle = tokio::fs::File::from_std(content);
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
            handle,
            64 * 1024,
        ));
        let result = ctx
            .facade
            .client()
            .upload_attachment(
                &ctx.project,
                parent,
                parent_id,
                &file.file_name,
                &file.content_type,
                body,
                Some(file.size),
                key,
                &ctx.meta.tag,
            )
            .await;
        ctx.facade.invalidate(&ctx.project, &[Entity::Attachment]);
        Ok(result?)
    })
    .await
}
