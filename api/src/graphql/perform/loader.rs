//! The per-request DataLoader of the facade: loads of one relation at one level of a query are
//! gathered into one batch and read with one batched upstream call per project
//! (`Facade::by_ids`, `Facade::children`), keyed by `facade::loaders`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use crate::error::ApiError;
use gatehouse_core::facade::loaders::{ById, ChildrenOf};
use gatehouse_core::facade::{Child, Facade, RequestMeta};
use gatehouse_core::upstream::model::Record;

/// The per-request loader: the facade plus the request's bookkeeping.
#[derive(Debug, Clone)]
pub struct PerformLoader {
    /// The facade.
    pub facade: Arc<Facade>,
    /// The request's meta (tag, counters).
    pub meta: Arc<RequestMeta>,
}

fn by_project<K, F: Fn(&K) -> (Arc<str>, Uuid)>(keys: &[K], f: F) -> HashMap<Arc<str>, Vec<Uuid>> {
    let mut grouped: HashMap<Arc<str>, Vec<Uuid>> = HashMap::new();
    for key in keys {
        let (project, id) = f(key);
        grouped.entry(project).or_default().push(id);
    }
    grouped
}

impl<R: Record> Loader<ById<R>> for PerformLoader {
    type Value = Arc<R>;
    type Error = Arc<ApiError>;

    async fn load(&self, keys: &[ById<R>]) -> Result<HashMap<ById<R>, Self::Value>, Self::Error> {
        let mut out = HashMap::with_capacity(keys.len());
        for (project, ids) in by_project(keys, |k| (k.project.clone(), k.id)) {
            let found = self
                .facade
                .by_ids::<R>(&self.meta, &project, &ids)
                .await
                .map_err(|e| Arc::new(ApiError::from(e)))?;
            for (id, record) in found {
                out.insert(ById::new(project.clone(), id), record);
            }
        }
        Ok(out)
    }
}

impl<R: Child> Loader<ChildrenOf<R>> for PerformLoader {
    type Value = Arc<Vec<Arc<R>>>;
    type Error = Arc<ApiError>;

    async fn load(
        &self,
        keys: &[ChildrenOf<R>],
    ) -> Result<HashMap<ChildrenOf<R>, Self::Value>, Self::Error> {
        let mut out = HashMap::with_capacity(keys.len());
        for (project, parents) in by_project(keys, |k| (k.project.clone(), k.parent)) {
            let mut found = self
                .facade
                .children::<R>(&self.meta, &project, &parents)
                .await
                .map_err(|e| Arc::new(ApiError::from(e)))?;
            for parent in parents {
                let children = found.remove(&parent).unwrap_or_default();
                out.insert(ChildrenOf::new(project.clone(), parent), Arc::new(children));
            }
        }
        Ok(out)
    }
}
