//! The typed client: lists as pages or streams of pages, single records, and the writes
//! Gatehouse supports, over any [`Upstream`] transport and the configured profile.

use std::sync::Arc;

use futures::Stream;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::error::UpstreamError;
use super::http::{Call, CallBody, Reply, Upstream};
use super::model::{
    Activity, ActivityPatch, Attachment, AttachmentParent, Docket, DocketAction, NewProgressEntry,
    NewResourceUsage, ProgressEntry, Project, Record, ResourceUsage,
};
use super::observer::CallTag;
use super::profile::{PaginationStyle, UpstreamProfile};

/// What to list: filters, a page size and where to start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ListQuery {
    /// Filters as the upstream names them (`updated_since`, `from`, `to`, `activity_id`, ...).
    pub filters: Vec<(String, String)>,
    /// Records per page (the profile's default when `None`; capped at its maximum).
    pub page_size: Option<u32>,
    /// Where to continue: a cursor from a previous page.
    pub cursor: Option<String>,
}

impl ListQuery {
    /// A query with filters only.
    pub fn filtered(filters: Vec<(String, String)>) -> Self {
        Self {
            filters,
            ..Self::default()
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The records.
    pub items: Vec<T>,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
    /// The total number of records, when the upstream says.
    pub total: Option<u64>,
    /// Size of the response body, in bytes.
    pub bytes: usize,
}

/// The typed upstream client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct UpstreamClient {
    transport: Arc<dyn Upstream>,
    profile: Arc<UpstreamProfile>,
}

fn malformed(what: &str, error: impl std::fmt::Display) -> UpstreamError {
    UpstreamError::malformed(format!("{what}: {error}"))
}

fn parse<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, UpstreamError> {
    serde_json::from_slice(body).map_err(|e| malformed(what, e))
}

impl UpstreamClient {
    /// A client over a transport.
    pub(crate) fn new(transport: Arc<dyn Upstream>, profile: Arc<UpstreamProfile>) -> Self {
        Self { transport, profile }
    }

    /// A client over the reqwest transport.
    pub fn over_http(
        profile: Arc<UpstreamProfile>,
        tokens: Arc<dyn super::tokens::TokenSource>,
        observer: Arc<dyn super::observer::CallObserver>,
    ) -> Result<Self, reqwest::Error> {
        let transport = super::http::HttpUpstream::new(profile.clone(), tokens, observer)?;
        Ok(Self::new(Arc::new(transport), profile))
    }

    /// The profile.
    pub fn profile(&self) -> &UpstreamProfile {
        &self.profile
    }

    fn prefix(&self) -> &str {
        self.profile.api_prefix.trim_end_matches('/')
    }

    fn projects(&self) -> &str {
        self.profile.projects_path.trim_matches('/')
    }

    fn collection(&self, entity: gatehouse_compliance::Entity) -> Result<&str, UpstreamError> {
        self.profile
            .collection(entity)
            .ok_or_else(|| UpstreamError::Malformed(format!("{entity} is not a collection")))
    }

    /// The endpoint template of a project-scoped collection (`/api/v1/projects/{project_id}/activities`).
    pub(crate) fn collection_endpoint(
        &self,
        entity: gatehouse_compliance::Entity,
    ) -> Result<String, UpstreamError> {
        Ok(format!(
            "{}/{}/{{project_id}}/{}",
            self.prefix(),
            self.projects(),
            self.collection(entity)?
        ))
    }

    async fn send(&self, call: Call) -> Result<Reply, UpstreamError> {
        self.transport.call(call).await
    }

    fn page_params(&self, query: &ListQuery) -> Result<Vec<(String, String)>, UpstreamError> {
        let names = &self.profile.pagination_names;
        let size = query
            .page_size
            .unwrap_or(self.profile.default_page_size)
            .clamp(1, self.profile.max_page_size);
        let mut params = query.filters.clone();
        match self.profile.pagination {
            PaginationStyle::PageNumber => {
                let page = match &query.cursor {
                    None => 1,
                    Some(cursor) => {
                        cursor
                            .parse::<u64>()
                            .ok()
                            .filter(|p| *p >= 1)
                            .ok_or_else(|| UpstreamError::Validation {
                                status: 400,
                                code: "invalid_cursor".into(),
                                fields: Vec::new(),
                            })?
                    }
                };
                params.push((names.page_param.clone(), page.to_string()));
                params.push((names.per_page_param.clone(), size.to_string()));
            }
            PaginationStyle::Continuation => {
                params.push((names.page_size_param.clone(), size.to_string()));
                if let Some(cursor) = &query.cursor {
                    params.push((names.continuation_param.clone(), cursor.clone()));
                }
            }
        }
        Ok(params)
    }

    /// The next cursor from a next link: the page number or the continuation token in it.
    fn cursor_from_link(&self, href: &str) -> Option<String> {
        let url = reqwest::Url::parse(href)
            .or_else(|_| self.profile.base_url.join(href))
            .ok()?;
        let wanted = match self.profile.pagination {
            PaginationStyle::PageNumber => &self.profile.pagination_names.page_param,
            PaginationStyle::Continuation => &self.profile.pagination_names.continuation_param,
        };
        url.query_pairs()
            .find(|(k, _)| k == wanted)
            .map(|(_, v)| v.into_owned())
    }

    fn parse_page<T: DeserializeOwned>(
        &self,
        what: &str,
        reply: &Reply,
    ) -> Result<Page<T>, UpstreamError> {
        let names = &self.profile.pagination_names;
        match self.profile.pagination {
            PaginationStyle::PageNumber => {
                let items: Vec<T> = parse(what, &reply.body)?;
                let next_cursor = reply
                    .headers
                    .get_all(reqwest::header::LINK)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .find(|part| part.contains("rel=\"next\"") || part.contains("rel=next"))
                    .and_then(|part| {
                        let start = part.find('<')? + 1;
                        let end = part.find('>')?;
                        part.get(start..end)
                    })
                    .and_then(|href| self.cursor_from_link(href));
                let total = reply
                    .headers
                    .get(names.total_header.as_str())
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok());
                Ok(Page {
                    items,
                    next_cursor,
                    total,
                    bytes: reply.body.len(),
                })
            }
            PaginationStyle::Continuation => {
                let mut envelope: Value = parse(what, &reply.body)?;
                let next_cursor = envelope
                    .pointer(&names.next_pointer)
                    .and_then(Value::as_str)
                    .and_then(|href| self.cursor_from_link(href));
                let items = envelope
                    .get_mut(names.items_field.as_str())
                    .map(Value::take)
                    .ok_or_else(|| malformed(what, format!("no `{}` field", names.items_field)))?;
                let items: Vec<T> =
                    serde_json::from_value(items).map_err(|e| malformed(what, e))?;
                Ok(Page {
                    items,
                    next_cursor,
                    total: None,
                    bytes: reply.body.len(),
                })
            }
        }
    }

    /// The project (read with the project's own token).
    pub async fn get_project(
        &self,
        project_id: &str,
        tag: &CallTag,
    ) -> Result<Project, UpstreamError> {
        let reply = self
            .send(Call {
                method: Method::GET,
                endpoint: format!("{}/{}/{{project_id}}", self.prefix(), self.projects()),
                path: format!("/{}/{project_id}", self.projects()),
                query: Vec::new(),
                project_id: project_id.to_owned(),
                body: CallBody::Empty,
                headers: Vec::new(),
                tag: tag.clone(),
            })
            .await?;
        parse("project", &reply.body)
    }

    /// One page of a project-scoped collection.
    pub async fn list<R: Record>(
        &self,
        project_id: &str,
        query: &ListQuery,
        tag: &CallTag,
    ) -> Result<Page<R>, UpstreamError> {
        let collection = self.collection(R::ENTITY)?;
        let reply = self
            .send(Call {
                method: Method::GET,
                endpoint: self.collection_endpoint(R::ENTITY)?,
                path: format!("/{}/{project_id}/{collection}", self.projects()),
                query: self.page_params(query)?,
                project_id: project_id.to_owned(),
                body: CallBody::Empty,
                headers: Vec::new(),
                tag: tag.clone(),
            })
            .await?;
        self.parse_page(collection, &reply)
    }

    /// Every record of a list, as a stream over pages: only one page is held at a time.
    pub fn stream<R: Record>(
        &self,
        project_id: String,
        query: ListQuery,
        tag: CallTag,
    ) -> impl Stream<Item = Result<R, UpstreamError>> + Send + 'static {
        let client = self.clone();
        async_stream::try_stream! {
            let mut query = query;
            loop {
                let page = client.list::<R>(&project_id, &query, &tag).await?;
                let next = page.next_cursor.clone();
                for item in page.items {
                    yield item;
                }
                match next {
                    Some(cursor) => query.cursor = Some(cursor),
                    None => break,
                }
            }
        }
    }

    /// One record by id.
    pub async fn get<R: Record>(
        &self,
        project_id: &str,
        id: Uuid,
        tag: &CallTag,
    ) -> Result<R, UpstreamError> {
        let collection = self.collection(R::ENTITY)?;
        let reply = self
            .send(Call {
                method: Method::GET,
                endpoint: format!("{}/{{id}}", self.collection_endpoint(R::ENTITY)?),
                path: format!("/{}/{project_id}/{collection}/{id}", self.projects()),
                query: Vec::new(),
                project_id: project_id.to_owned(),
                body: CallBody::Empty,
                headers: Vec::new(),
                tag: tag.clone(),
            })
            .await?;
        parse(collection, &reply.body)
    }

    async fn write<B: Serialize, T: DeserializeOwned>(
        &self,
        (method, endpoint_suffix, path_suffix): (Method, &str, String),
        project_id: &str,
        body: Option<&B>,
        idempotency_key: &str,
        tag: &CallTag,
    ) -> Result<(Reply, Option<T>), UpstreamError> {
        let body = match body {
            Some(body) => CallBody::Json(
                serde_json::to_value(body).map_err(|e| malformed("request body", e))?,
            ),
            None => CallBody::Empty,
        };
        let reply = self
            .send(Call {
                method,
                endpoint: format!(
                    "{}/{}/{{project_id}}{endpoint_suffix}",
                    self.prefix(),
                    self.projects()
                ),
                path: format!("/{}/{project_id}{path_suffix}", self.projects()),
                query: Vec::new(),
                project_id: project_id.to_owned(),
                body,
                headers: vec![("Idempotency-Key", idempotency_key.to_owned())],
                tag: tag.clone(),
            })
            .await?;
        let parsed = if reply.body.is_empty() {
            None
        } else {
            Some(parse("write response", &reply.body)?)
        };
        Ok((reply, parsed))
    }

    /// Changes an activity's dates or progress.
    pub async fn update_activity(
        &self,
        project_id: &str,
        id: Uuid,
        patch: &ActivityPatch,
        idempotency_key: &str,
        tag: &CallTag,
    ) -> Result<Activity, UpstreamError> {
        let collection = self.collection(Activity::ENTITY)?.to_owned();
        let (_, activity) = self
            .write(
                (
                    Method::PATCH,
                    &format!("/{collection}/{{id}}"),
                    format!("/{collection}/{id}"),
                ),
                project_id,
                Some(patch),
                idempotency_key,
                tag,
            )
            .await?;
        activity.ok_or_else(|| malformed("activity update", "empty body"))
    }

    /// Records a progress entry.
    pub async fn create_progress_entry(
        &self,
        project_id: &str,
        entry: &NewProgressEntry,
        idempotency_key: &str,
        tag: &CallTag,
    ) -> Result<ProgressEntry, UpstreamError> {
        let collection = self.collection(ProgressEntry::ENTITY)?.to_owned();
        let (_, created) = self
            .write(
                (
                    Method::POST,
                    &format!("/{collection}"),
                    format!("/{collection}"),
                ),
                project_id,
                Some(entry),
                idempotency_key,
                tag,
            )
            .await?;
        created.ok_or_else(|| malformed("progress entry", "empty body"))
    }

    /// Books a resource usage.
    pub async fn create_resource_usage(
        &self,
        project_id: &str,
        usage: &NewResourceUsage,
        idempotency_key: &str,
        tag: &CallTag,
    ) -> Result<ResourceUsage, UpstreamError> {
        let collection = self.collection(ResourceUsage::ENTITY)?.to_owned();
        let (_, created) = self
            .write(
                (
                    Method::POST,
                    &format!("/{collection}"),
                    format!("/{collection}"),
                ),
                project_id,
                Some(usage),
                idempotency_key,
                tag,
            )
            .await?;
        created.ok_or_else(|| malformed("resource usage", "empty body"))
    }

    /// Deletes a resource usage.
    pub async fn delete_resource_usage(
        &self,
        project_id: &str,
        id: Uuid,
        idempotency_key: &str,
        tag: &CallTag,
    ) -> Result<(), UpstreamError> {
        let collection = self.collection(ResourceUsage::ENTITY)?.to_owned();
        self.write::<(), Value>(
            (
                Method::DELETE,
                &format!("/{collection}/{{id}}"),
                format!("/{collection}/{id}"),
            ),
            project_id,
            None,
            idempotency_key,
            tag,
        )
        .await?;
        Ok(())
    }

    /// Moves a docket through its status machine.
    pub async fn docket_action(
        &self,
        project_id: &str,
        id: Uuid,
        action: DocketAction,
        idempotency_key: &str,
        tag: &CallTag,
    ) -> Result<Docket, UpstreamError> {
        let collection = self.collection(Docket::ENTITY)?.to_owned();
        let (_, docket) = self
            .write(
                (
                    Method::POST,
                    &format!("/{collection}/{{id}}/actions"),
                    format!("/{collection}/{id}/actions"),
                ),
                project_id,
                Some(&serde_json::json!({ "action": action })),
                idempotency_key,
                tag,
            )
            .await?;
        docket.ok_or_else(|| malformed("docket action", "empty body"))
    }

    /// Uploads a file to an activity's or event's timeline, streaming the body through.
    #[allow(clippy::too_many_arguments)]
    pub async fn upload_attachment(
        &self,
        project_id: &str,
        parent: AttachmentParent,
        parent_id: Uuid,
        file_name: &str,
        content_type: &str,
        body: reqwest::Body,
        length: Option<u64>,
        idempotency_key: &str,
        tag: &CallTag,
    ) -> Result<Attachment, UpstreamError> {
        let entity = match parent {
            AttachmentParent::Event => gatehouse_compliance::Entity::Event,
            _ => gatehouse_compliance::Entity::Activity,
        };
        let collection = self.collection(entity)?.to_owned();
        let reply = self
            .send(Call {
                method: Method::POST,
                endpoint: format!(
                    "{}/{}/{{project_id}}/{collection}/{{id}}/attachments",
                    self.prefix(),
                    self.projects()
                ),
                path: format!(
                    "/{}/{project_id}/{collection}/{parent_id}/attachments",
                    self.projects()
                ),
                query: Vec::new(),
                project_id: project_id.to_owned(),
                body: CallBody::Stream {
                    body,
                    content_type: content_type.to_owned(),
                    file_name: file_name.to_owned(),
                    length,
                },
                headers: vec![("Idempotency-Key", idempotency_key.to_owned())],
                tag: tag.clone(),
            })
            .await?;
        parse("attachment", &reply.body)
    }
}
