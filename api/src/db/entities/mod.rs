//! sea-orm entities, one module per table.

pub mod app_keys;
pub mod audit_log;
pub mod idempotency_keys;
pub mod sessions;
pub mod users;
