//! The rules of Gatehouse, as pure functions over plain types.
//!
//! No IO, no async, no web, ORM or GraphQL dependency: every function here takes plain values
//! and returns plain values, all of them serde-serialisable, so the `gatehouse` service stores
//! and returns them as JSON and tests call them directly.
//!
//! The crate has four parts:
//!
//! 1. [`model`] and [`assess`](mod@assess): the access request (projects, contact, confirmations,
//!    integration, platforms, mitigations, workflows) and Bentley's criteria applied to it.
//!    [`assess::assess`] returns readiness checks with stable ids, a channel recommendation per
//!    workflow (API token, Dataclips or both, with the [`dataclips`] that would serve the
//!    read-only parts), a load estimate and a verdict. [`assess::compile_scopes`] turns the
//!    workflows of an approved request into the scopes app keys are bound to.
//! 2. [`cost`]: the static cost of a GraphQL operation (upstream calls, rows, pages, score,
//!    with DataLoader batching) and the route that answers it: the cache, a dataclip snapshot,
//!    the live API, or a refusal that names the `analytics` field to use instead.
//! 3. [`findings`]: what an approved request declared against what was observed, for
//!    governance reports: undeclared entities, writes under read-only workflows, volume over
//!    the declared load, analytical patterns on the live API, calls outside the sync window,
//!    upstream 429s and 503s, an ineffective cache.
//! 4. Serialisation: every type is `Serialize + Deserialize`; validated values (`Email`,
//!    `ProjectUrl`, `ApiDocsUrl`, `TimeOfDay`, `SyncWindow`) validate on the way in too.
//!
//! The upstream facts the rules depend on (page sizes, pace, the longest date window) come in
//! as a [`profile::UpstreamProfile`], filled by the service from its configuration.

#![warn(missing_docs)]

pub mod assess;
pub mod cost;
pub mod dataclips;
pub mod examples;
pub mod findings;
pub mod model;
pub mod profile;
pub mod text;

pub use assess::{Assessment, AssessmentPolicy, Scope, assess, compile_scopes};
pub use model::{AccessRequest, Entity};
