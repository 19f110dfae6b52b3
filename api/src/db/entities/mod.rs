//! sea-orm entities, one module per table.

pub mod app_keys;
pub mod audit_log;
pub mod sessions;
pub mod users;
