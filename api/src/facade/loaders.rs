//! DataLoader keys and the loader that batches them: every load of one relation at one level of
//! a query becomes one batched upstream read, whatever the number of parents.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::{Child, Facade, RequestMeta};
use crate::error::ApiError;
use crate::upstream::model::{Attachment, Event, ProgressEntry, Record, ResourceUsage};

/// A record by project and id.
pub struct ById<R> {
    /// The project.
    pub project: Arc<str>,
    /// The id.
    pub id: Uuid,
    _record: PhantomData<fn() -> R>,
}

impl<R> ById<R> {
    /// A key.
    pub fn new(project: Arc<str>, id: Uuid) -> Self {
        Self {
            project,
            id,
            _record: PhantomData,
        }
    }
}

/// The children of a parent, by project and parent id.
pub struct ChildrenOf<R> {
    /// The project.
    pub project: Arc<str>,
    /// The parent's id.
    pub parent: Uuid,
    _record: PhantomData<fn() -> R>,
}

impl<R> ChildrenOf<R> {
    /// A key.
    pub fn new(project: Arc<str>, parent: Uuid) -> Self {
        Self {
            project,
            parent,
            _record: PhantomData,
        }
    }
}

macro_rules! key_traits {
    ($ty:ident, $field:ident) => {
        impl<R> Clone for $ty<R> {
            fn clone(&self) -> Self {
                Self {
                    project: self.project.clone(),
                    $field: self.$field,
                    _record: PhantomData,
                }
            }
        }
        impl<R> PartialEq for $ty<R> {
            fn eq(&self, other: &Self) -> bool {
                self.project == other.project && self.$field == other.$field
            }
        }
        impl<R> Eq for $ty<R> {}
        impl<R> Hash for $ty<R> {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.project.hash(state);
                self.$field.hash(state);
            }
        }
    };
}
key_traits!(ById, id);

impl<R> std::fmt::Debug for ById<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ById({}, {})", self.project, self.id)
    }
}

impl<R> std::fmt::Debug for ChildrenOf<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChildrenOf({}, {})", self.project, self.parent)
    }
}
key_traits!(ChildrenOf, parent);

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
                .map_err(Arc::new)?;
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
                .map_err(Arc::new)?;
            for parent in parents {
                let children = found.remove(&parent).unwrap_or_default();
                out.insert(ChildrenOf::new(project.clone(), parent), Arc::new(children));
            }
        }
        Ok(out)
    }
}

impl Child for Event {
    const PARENT_FILTER: &'static str = "activity_id";
    fn parent(&self) -> Uuid {
        self.activity_id
    }
}

impl Child for ResourceUsage {
    const PARENT_FILTER: &'static str = "work_reference_id";
    fn parent(&self) -> Uuid {
        self.work_reference_id
    }
}

impl Child for Attachment {
    const PARENT_FILTER: &'static str = "parent_id";
    fn parent(&self) -> Uuid {
        self.parent_id
    }
}

impl Child for ProgressEntry {
    const PARENT_FILTER: &'static str = "activity_id";
    fn parent(&self) -> Uuid {
        self.activity_id
    }
}
