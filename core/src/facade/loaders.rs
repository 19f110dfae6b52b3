//! The keys of batched loads: a record by project and id, the children of a parent. The GraphQL
//! layer's DataLoader (`graphql::perform::loader`) batches them, so that every load of one
//! relation at one level of a query becomes one batched upstream read, whatever the number of
//! parents.

use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;

use uuid::Uuid;

use super::Child;
use crate::upstream::model::{Attachment, Event, ProgressEntry, ResourceUsage};

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
