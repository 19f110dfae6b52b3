//! Crafted usage for the metering and report tests: a declared project, ledger records made to
//! measure (a day of traffic takes a day to happen otherwise), and the configuration that
//! declares what they are measured against.

use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use gatehouse_compliance::Entity;
use gatehouse_compliance::model::Operation;
use gatehouse_core::metering::ledger::CallRecord;
use gatehouse_core::upstream::observer::ListShape;
use uuid::Uuid;

use crate::TestApp;

/// The project the crafted records and the declaration are about.
pub const PROJECT: &str = "11111111-2222-3333-4444-555555555555";
/// The app key the crafted records are made with.
pub const KEY: Uuid = Uuid::from_u128(0x00c0ffee_0000_4000_8000_000000000001);
/// A day of crafted records.
pub const DAY: &str = "2025-03-10";

/// A `[[metering.declarations]]` entry for `project` with `body` (its workflows).
pub fn declaration(project: &str, body: &str) -> String {
    format!("[[metering.declarations]]\nproject_id = \"{project}\"\n{body}\n")
}

/// A time on a day, UTC.
pub fn at(day: &str, hour: u32, minute: u32) -> chrono::DateTime<Utc> {
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("day");
    Utc.from_utc_datetime(&day.and_hms_opt(hour, minute, 0).expect("time"))
}

/// A successful upstream read of `collection` on [`PROJECT`] by [`KEY`].
pub fn crafted_call(
    occurred_at: chrono::DateTime<Utc>,
    entity: Entity,
    collection: &str,
    list: Option<ListShape>,
    operation: &str,
) -> CallRecord {
    CallRecord {
        occurred_at,
        project_id: PROJECT.to_owned(),
        token_fingerprint: "0123456789ab".to_owned(),
        endpoint: format!("/api/v1/projects/{{project_id}}/{collection}"),
        method: "GET".to_owned(),
        entity: Some(entity),
        action: Some(Operation::Read),
        status: Some(200),
        error: None,
        latency: Duration::from_millis(20),
        bytes_sent: 0,
        bytes_received: 2048,
        attempt: 0,
        cache: "miss",
        app_key_id: Some(KEY),
        user_id: None,
        operation: Some(operation.to_owned()),
        workflow: None,
        request_id: None,
        list,
    }
}

/// A declared read-only usage workflow: 100 calls a day, 10 a minute at peak, 01:00–03:00.
pub fn crafted_config() -> String {
    crafted_config_with("")
}

/// [`crafted_config`] with more `[metering]` keys.
pub fn crafted_config_with(metering: &str) -> String {
    format!(
        "[metering]\nraw_retention_days = 36500\nrollup_interval_secs = 3600\n{metering}{}",
        declaration(
            PROJECT,
            "[[metering.declarations.workflows]]\nname = \"usage-export\"\ndirection = \"read\"\n\
             entities = [{ entity = \"resource_usage\", operations = [\"read\"] }, \
             { entity = \"activity\", operations = [\"read\"] }]\n\
             daily_calls = 100\npeak_calls_per_minute = 10\n\
             sync_window = { start = \"01:00\", end = \"03:00\" }\n",
        )
    )
}

/// 250 calls on one day, one a minute from 01:00: 2.5 times the declared daily volume, the
/// first 120 inside the sync window and the rest after it.
pub async fn record_volume(app: &TestApp, day: &str) {
    record_volume_with(app, day, |call| call).await;
}

/// [`record_volume`], each record changed by `adapt` first (another project, another key).
pub async fn record_volume_with(
    app: &TestApp,
    day: &str,
    adapt: impl Fn(CallRecord) -> CallRecord,
) {
    let ledger = &app.app.services.metering.ledger;
    for i in 0..250u32 {
        ledger.record_call(adapt(crafted_call(
            at(day, 1 + i / 60, i % 60),
            Entity::Activity,
            "activities",
            None,
            "ActivityById",
        )));
    }
    ledger.flush().await;
}
