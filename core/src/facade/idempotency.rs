//! Idempotency keys: a write retried with the same key creates one record.
//!
//! The first request with a key claims it (`pending`), performs the write, and stores the
//! answer (`done`). A retry with the same key and the same input gets the stored answer; with
//! other input it is refused. While the first is still running, a retry is told so
//! (`CONFLICT`). If the write fails because the upstream could not be reached, the claim is
//! released so the client may retry; a definite refusal by the upstream (validation, conflict)
//! is stored and replayed like a success. Keys are scoped to the caller: two clients never
//! share a key.

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    SqlErr,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::secrets::sha256_hex;
use crate::clock::Clock;
use crate::db::entities::idempotency_keys;
use crate::error::{ErrorCode, PublicError};

/// A pending claim older than this is taken over (its holder crashed).
const ABANDONED_AFTER: Duration = Duration::minutes(10);

/// Checks the shape of a client's key.
pub(crate) fn validate_key(key: &str) -> Result<(), PublicError> {
    let ok = (8..=200).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(PublicError::invalid_field(
            "idempotencyKey",
            "must be 8 to 200 visible ASCII characters (a UUID is a good choice)",
        ))
    }
}

fn stored_error(error: &PublicError) -> Value {
    json!({ "error": { "code": error.code.as_str(), "message": error.message, "details": error.details } })
}

fn replay_error(value: &Value) -> Option<PublicError> {
    let error = value.get("error")?;
    let code = match error.get("code")?.as_str()? {
        "BAD_USER_INPUT" => ErrorCode::BadUserInput,
        "CONFLICT" => ErrorCode::Conflict,
        "NOT_FOUND" => ErrorCode::NotFound,
        "UPSTREAM_REJECTED" => ErrorCode::UpstreamRejected,
        _ => ErrorCode::Internal,
    };
    let mut replayed = PublicError::new(code, error.get("message")?.as_str()?.to_owned());
    if let Some(details) = error.get("details").filter(|d| !d.is_null()) {
        replayed = replayed.with_details(details.clone());
    }
    Some(replayed)
}

/// Whether an error is the upstream's definite answer (stored and replayed) rather than a
/// failure to get one (released for retry).
fn is_definite(error: &PublicError) -> bool {
    matches!(
        error.code,
        ErrorCode::BadUserInput
            | ErrorCode::Conflict
            | ErrorCode::NotFound
            | ErrorCode::UpstreamRejected
    )
}

/// Runs `write` at most once per `(scope, key)`; see the module documentation.
pub(crate) async fn once<T, I, F, Fut>(
    db: &DatabaseConnection,
    clock: &Clock,
    scope: &str,
    key: &str,
    operation: &str,
    input: &I,
    write: F,
) -> Result<T, PublicError>
where
    T: Serialize + DeserializeOwned,
    I: Serialize,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, PublicError>>,
{
    validate_key(key)?;
    let input_json =
        serde_json::to_string(input).map_err(|e| PublicError::internal("idempotency", &e))?;
    let request_hash = sha256_hex(&format!("{operation}\n{input_json}"));
    let claim = idempotency_keys::ActiveModel {
        scope: Set(scope.to_owned()),
        key: Set(key.to_owned()),
        operation: Set(operation.to_owned()),
        request_hash: Set(request_hash.clone()),
        state: Set("pending".to_owned()),
        response: Set(None),
        created_at: Set(clock.now()),
        completed_at: Set(None),
        ..Default::default()
    };
    let row = match claim.insert(db).await {
        Ok(row) => row,
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            let existing = idempotency_keys::Entity::find()
                .filter(idempotency_keys::Column::Scope.eq(scope))
                .filter(idempotency_keys::Column::Key.eq(key))
                .one(db)
                .await?
                .ok_or_else(|| {
                    PublicError::new(
                        ErrorCode::Conflict,
                        "the idempotency key was just released; retry",
                    )
                })?;
            if existing.request_hash != request_hash || existing.operation != operation {
                return Err(PublicError::invalid_field(
                    "idempotencyKey",
                    "this key was used for a different write; use a new key for new input",
                ));
            }
            match (existing.state.as_str(), &existing.response) {
                ("done", Some(response)) => {
                    let value: Value = serde_json::from_str(response)
                        .map_err(|e| PublicError::internal("idempotency replay", &e))?;
                    if let Some(error) = replay_error(&value) {
                        return Err(error);
                    }
                    return serde_json::from_value(value)
                        .map_err(|e| PublicError::internal("idempotency replay", &e));
                }
                _ if clock.now() - existing.created_at < ABANDONED_AFTER => {
                    return Err(PublicError::new(
                        ErrorCode::Conflict,
                        "a write with this idempotency key is still in progress; retry shortly",
                    )
                    .with_details(json!({ "retryAfterSeconds": 1 })));
                }
                _ => {
                    let mut takeover: idempotency_keys::ActiveModel = existing.into();
                    takeover.created_at = Set(clock.now());
                    takeover.update(db).await?
                }
            }
        }
        Err(error) => return Err(error.into()),
    };

    let result = write().await;
    let stored = match &result {
        Ok(value) => Some(
            serde_json::to_value(value).map_err(|e| PublicError::internal("idempotency", &e))?,
        ),
        Err(error) if is_definite(error) => Some(stored_error(error)),
        Err(_) => None,
    };
    match stored {
        Some(response) => {
            let mut done: idempotency_keys::ActiveModel = row.into();
            done.state = Set("done".to_owned());
            done.response = Set(Some(response.to_string()));
            done.completed_at = Set(Some(clock.now()));
            done.update(db).await?;
        }
        None => {
            idempotency_keys::Entity::delete_by_id(row.id)
                .exec(db)
                .await?;
        }
    }
    result
}

/// How long a key's answer is kept for replay. A retry later than this is a new write; clients
/// retry within minutes, and Stripe, whose header the design follows, keeps keys for a day.
pub const KEEP_DAYS: i64 = 7;

/// Removes the keys older than [`KEEP_DAYS`] at `now`; the server's housekeeping calls it.
pub async fn purge_expired(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<u64, sea_orm::DbErr> {
    let result = idempotency_keys::Entity::delete_many()
        .filter(idempotency_keys::Column::CreatedAt.lt(now - Duration::days(KEEP_DAYS)))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::db::DatabaseUrl;

    async fn database() -> (tempfile::TempDir, DatabaseConnection) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("keys.db").display());
        let db = crate::db::connect(&DatabaseUrl::new(url))
            .await
            .expect("database");
        crate::db::migrate(&db).await.expect("migrations");
        (dir, db)
    }

    async fn write(db: &DatabaseConnection, input: &str) -> Result<String, PublicError> {
        let answer = format!("wrote {input}");
        once(
            db,
            &Clock::system(),
            "key:1",
            "retry-0001",
            "updateActivity",
            &input,
            || async { Ok(answer) },
        )
        .await
    }

    #[tokio::test]
    async fn keys_are_kept_for_replay_and_purged_after_keep_days() {
        let (_dir, db) = database().await;
        assert_eq!(write(&db, "a").await.expect("first write"), "wrote a");
        let now = Utc::now();
        assert_eq!(
            purge_expired(&db, now + Duration::days(KEEP_DAYS) - Duration::minutes(1))
                .await
                .expect("purge"),
            0,
            "a key is kept for KEEP_DAYS"
        );
        let refused = write(&db, "b").await.expect_err("same key, other input");
        assert_eq!(refused.code, ErrorCode::BadUserInput);

        assert_eq!(
            purge_expired(&db, now + Duration::days(KEEP_DAYS) + Duration::minutes(1))
                .await
                .expect("purge"),
            1,
            "and purged after"
        );
        assert_eq!(
            write(&db, "b").await.expect("the key is free again"),
            "wrote b"
        );
    }
}
