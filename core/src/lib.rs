//! Gatehouse's core: what the gateway knows and does, with no HTTP server, GraphQL schema or
//! templates in it (the test command checks that it depends on none of axum, async-graphql or
//! handlebars). The server (`gatehouse`, in `api/`) puts it on the wire.
//!
//! - [`access`]: access requests, their lifecycle and the drafts' typed contexts.
//! - [`auth`]: users, sessions, app keys, scopes, throttles.
//! - [`vault`]: issued tokens and dataclip credentials, encrypted.
//! - [`upstream`], [`cache`], [`facade`]: SYNCHRO Perform as configuration, cached and batched.
//! - [`dataclips`]: snapshots, their scheduler and the analytics over them.
//! - [`metering`]: the usage ledger, reports, findings and alerts.
//! - [`db`], [`audit`], [`background`], [`clock`], [`error`]: what they all share.

#![warn(unreachable_pub)]

pub mod access;
pub mod audit;
pub mod auth;
pub mod background;
pub mod cache;
pub mod clock;
pub mod dataclips;
pub mod db;
pub mod error;
pub mod facade;
#[cfg(feature = "graphql")]
pub mod graphql;
pub mod metering;
pub mod upstream;
pub mod vault;
