//! The services every request handler and resolver reaches: one struct, built once at start-up.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::config::Config;
use gatehouse_core::access::AccessRequests;
use gatehouse_core::auth::app_keys::KeyVerifier;
use gatehouse_core::auth::throttle::{ClientLimits, LoginThrottle, StashLimits};
use gatehouse_core::background::Background;
use gatehouse_core::dataclips::Dataclips;
use gatehouse_core::facade::Facade;
use gatehouse_core::facade::limits::KeyRateLimits;
use gatehouse_core::vault::Vault;

/// Gatehouse's services.
#[derive(Debug)]
pub struct Services {
    /// The configuration it started with.
    pub config: Arc<Config>,
    /// The database.
    pub db: DatabaseConnection,
    /// App-key verification (cached).
    pub keys: KeyVerifier,
    /// Sign-in throttling.
    pub login_throttle: LoginThrottle,
    /// Request rates of signed-in users and anonymous client addresses.
    pub client_limits: ClientLimits,
    /// Form stashes kept per client address.
    pub stash_limits: StashLimits,
    /// Background tasks, drained on shutdown.
    pub background: Background,
    /// The cached, batched view of SYNCHRO Perform.
    pub facade: Arc<Facade>,
    /// Per-app-key operation rate limits.
    pub key_limits: KeyRateLimits,
    /// The vault of issued tokens and dataclip credentials (also the upstream client's
    /// `TokenSource`).
    pub vault: Arc<Vault>,
    /// Access requests: assessment, review, drafts, tokens and keys bound to them.
    pub access: AccessRequests,
    /// Dataclip snapshots: the scheduler, the analytics over them, the routing hook.
    pub dataclips: Arc<Dataclips>,
    /// The usage ledger, reports and alerts.
    pub metering: Arc<gatehouse_core::metering::Metering>,
    /// The usage report's HTML template.
    pub report_templates: crate::documents::ReportTemplates,
    /// The key that signs pagination cursors (`graphql.cursor_key`, else derived from the vault
    /// key, else random for the process).
    pub cursors: crate::cursor::CursorKey,
    /// The time the services go by (the system's, or a test's manual clock).
    pub clock: gatehouse_core::clock::Clock,
}
