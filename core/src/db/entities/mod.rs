//! sea-orm entities, one module per table.

pub mod access_request_comments;
pub mod access_requests;
pub mod app_keys;
pub mod audit_log;
pub mod form_stashes;
pub mod idempotency_keys;
pub mod ledger_calls;
pub mod ledger_operations;
pub mod sessions;
pub mod usage_alerts;
pub mod usage_rollups;
pub mod users;
pub mod vault_records;
