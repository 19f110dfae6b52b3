//! The curated, cached view of SYNCHRO Perform that the GraphQL facade serves: reads through
//! the cache (with DataLoader batching for relations), and writes that invalidate what they
//! touch and never duplicate (idempotency keys).

pub mod idempotency;
pub mod limits;
pub mod loaders;
pub(crate) mod meta;
pub mod responses;
pub mod writes;

use std::collections::HashMap;
use std::sync::Arc;

use futures::TryStreamExt;
use gatehouse_compliance::Entity;
use uuid::Uuid;

use crate::cache::{CacheKey, UpstreamCache};
use crate::upstream::UpstreamError;
use crate::upstream::model::{Project, Record};
use crate::upstream::tokens::TokenSource;
use crate::upstream::{ListQuery, Page, UpstreamClient};

pub use meta::RequestMeta;

/// A record whose upstream list can be filtered by its parent's id, so that the children of
/// many parents load in one batched call.
pub trait Child: Record {
    /// The upstream filter naming the parent (`activity_id`).
    const PARENT_FILTER: &'static str;
    /// The parent's id.
    fn parent(&self) -> Uuid;
}

/// The facade service.
#[derive(Debug, Clone)]
pub struct Facade {
    client: UpstreamClient,
    cache: UpstreamCache,
    responses: Arc<responses::ResponseCache>,
    tokens: Arc<dyn TokenSource>,
}

fn canonical(query: &ListQuery) -> String {
    let mut filters = query.filters.clone();
    filters.sort();
    let filters: Vec<String> = filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "list?{}&size={}&cursor={}",
        filters.join("&"),
        query.page_size.map_or_else(String::new, |s| s.to_string()),
        query.cursor.as_deref().unwrap_or("")
    )
}

impl Facade {
    /// A facade over a client, a cache and the token source.
    pub fn new(client: UpstreamClient, cache: UpstreamCache, tokens: Arc<dyn TokenSource>) -> Self {
        let responses = Arc::new(responses::ResponseCache::new(
            cache.config().response_max_bytes,
            cache.clock().clone(),
        ));
        Self {
            client,
            cache,
            responses,
            tokens,
        }
    }

    /// The whole-response cache of warm read-only queries.
    pub fn responses(&self) -> &responses::ResponseCache {
        &self.responses
    }

    /// The upstream client (for writes).
    pub fn client(&self) -> &UpstreamClient {
        &self.client
    }

    /// The cache.
    pub fn cache(&self) -> &UpstreamCache {
        &self.cache
    }

    /// The projects Gatehouse holds an upstream token for.
    pub async fn known_projects(&self) -> Vec<String> {
        self.tokens.projects().await
    }

    /// A project.
    pub async fn project(
        &self,
        meta: &RequestMeta,
        project_id: &str,
    ) -> Result<Arc<Project>, UpstreamError> {
        let key = CacheKey::new(project_id, Entity::Project, "project".to_owned());
        let client = self.client.clone();
        let (project, tag) = (project_id.to_owned(), meta.tag.clone());
        let lookup = self
            .cache
            .get_or_fetch(key, move || async move {
                let record = client.get_project(&project, &tag).await?;
                Ok((record, 1024))
            })
            .await?;
        meta.record(lookup.outcome, lookup.fetched_at);
        Ok(lookup.value)
    }

    /// One page of a collection.
    pub async fn list<R: Record>(
        &self,
        meta: &RequestMeta,
        project_id: &str,
        query: ListQuery,
    ) -> Result<Arc<Page<Arc<R>>>, UpstreamError> {
        let key = CacheKey::new(project_id, R::ENTITY, canonical(&query));
        let client = self.client.clone();
        let (project, tag) = (project_id.to_owned(), meta.tag.clone());
        let lookup = self
            .cache
            .get_or_fetch(key, move || async move {
                let page = client.list::<R>(&project, &query, &tag).await?;
                let bytes = page.bytes;
                Ok((
                    Page {
                        items: page.items.into_iter().map(Arc::new).collect(),
                        next_cursor: page.next_cursor,
                        total: page.total,
                        bytes,
                    },
                    bytes,
                ))
            })
            .await?;
        meta.record(lookup.outcome, lookup.fetched_at);
        Ok(lookup.value)
    }

    /// One record by id.
    pub async fn get<R: Record>(
        &self,
        meta: &RequestMeta,
        project_id: &str,
        id: Uuid,
    ) -> Result<Arc<R>, UpstreamError> {
        let key = CacheKey::new(project_id, R::ENTITY, format!("get/{id}"));
        let client = self.client.clone();
        let (project, tag) = (project_id.to_owned(), meta.tag.clone());
        let lookup = self
            .cache
            .get_or_fetch(key, move || async move {
                let record = client.get::<R>(&project, id, &tag).await?;
                let weight = record.weight();
                Ok((record, weight))
            })
            .await?;
        meta.record(lookup.outcome, lookup.fetched_at);
        Ok(lookup.value)
    }

    /// Every record of a list filtered by `filters`, in one paged walk (through the cache).
    async fn all<R: Record>(
        &self,
        meta: &RequestMeta,
        project_id: &str,
        filters: Vec<(String, String)>,
    ) -> Result<Arc<Vec<Arc<R>>>, UpstreamError> {
        let query = ListQuery {
            filters,
            page_size: Some(self.client.profile().max_page_size),
            cursor: None,
        };
        let key = CacheKey::new(project_id, R::ENTITY, format!("all:{}", canonical(&query)));
        let client = self.client.clone();
        let (project, tag) = (project_id.to_owned(), meta.tag.clone());
        let lookup = self
            .cache
            .get_or_fetch(key, move || async move {
                let records: Vec<R> = client
                    .stream::<R>(project, query, tag)
                    .try_collect()
                    .await?;
                let weight = records.iter().map(Record::weight).sum();
                Ok((
                    records.into_iter().map(Arc::new).collect::<Vec<_>>(),
                    weight,
                ))
            })
            .await?;
        meta.record(lookup.outcome, lookup.fetched_at);
        Ok(lookup.value)
    }

    /// Records by id, batched: one paged call per chunk of `max_ids_per_filter` ids.
    pub async fn by_ids<R: Record>(
        &self,
        meta: &RequestMeta,
        project_id: &str,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Arc<R>>, UpstreamError> {
        let mut ids: Vec<Uuid> = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let profile = self.client.profile();
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(profile.max_ids_per_filter) {
            let list = chunk
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let records = self
                .all::<R>(meta, project_id, vec![(profile.ids_filter.clone(), list)])
                .await?;
            for record in records.iter() {
                found.insert(record.id(), record.clone());
            }
        }
        Ok(found)
    }

    /// The children of many parents, batched: one paged call per chunk of parents.
    pub async fn children<R: Child>(
        &self,
        meta: &RequestMeta,
        project_id: &str,
        parents: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<Arc<R>>>, UpstreamError> {
        let mut parents: Vec<Uuid> = parents.to_vec();
        parents.sort_unstable();
        parents.dedup();
        let mut grouped: HashMap<Uuid, Vec<Arc<R>>> = HashMap::with_capacity(parents.len());
        for chunk in parents.chunks(self.client.profile().max_ids_per_filter) {
            let list = chunk
                .iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let records = self
                .all::<R>(meta, project_id, vec![(R::PARENT_FILTER.to_owned(), list)])
                .await?;
            for record in records.iter() {
                grouped
                    .entry(record.parent())
                    .or_default()
                    .push(record.clone());
            }
        }
        Ok(grouped)
    }

    /// Drops cached entries a write to `entities` in `project_id` made stale.
    pub(crate) fn invalidate(&self, project_id: &str, entities: &[Entity]) {
        for entity in entities {
            self.cache.invalidate(project_id, *entity);
        }
        self.responses.invalidate(project_id);
    }
}
