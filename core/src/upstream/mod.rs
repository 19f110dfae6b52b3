//! Gatehouse's side of SYNCHRO Perform: the upstream profile, typed records, and a client over
//! a transport trait whose one implementation is reqwest.
//!
//! - [`profile::UpstreamProfile`]: paths, auth, pagination, page sizes, timeouts, budget.
//! - [`http::Upstream`]: what Gatehouse asks of the upstream (one call); [`http::HttpUpstream`]
//!   is the reqwest implementation with pacing, retries and timeouts.
//! - [`client::UpstreamClient`]: typed lists (pages and streams), gets and writes.
//! - [`observer`]: the hook every call attempt is reported to.
//! - [`tokens`]: where a project's token comes from.

pub(crate) mod client;
pub(crate) mod error;
pub(crate) mod http;
pub mod model;
pub mod observer;
pub mod profile;
pub mod tokens;

pub use client::{ListQuery, Page, UpstreamClient};
pub use error::UpstreamError;
pub use observer::{CallEvent, CallObserver, CallTag};
pub use profile::UpstreamProfile;
