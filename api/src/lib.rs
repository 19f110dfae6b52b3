//! Gatehouse: the governed gateway between an organisation's applications and Bentley SYNCHRO
//! Perform. See `docs/ARCHITECTURE.md` for how the pieces fit.
//!
//! `main.rs` is only the command line; everything else lives here so that tests start exactly
//! the app the binary runs ([`app::spawn`]).

pub mod app;
pub mod config;
pub mod cursor;
pub mod demo;
pub mod documents;
pub mod error;
pub mod graphql;
pub mod http;
pub mod principal;
pub mod services;
pub mod telemetry;
pub mod views;
pub mod web;

pub use app::{App, RunningApp, spawn, spawn_with_clock};
pub use config::Config;
