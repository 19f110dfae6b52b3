use chrono::Duration;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use super::*;
use crate::db::DatabaseUrl;

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const OTHER_KEY: &str = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";
const TOKEN: &str = "bentley-issued-token-0123456789-WXYZ";

/// A fresh SQLite file (an in-memory database would differ per pooled connection).
async fn database() -> (tempfile::TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("vault.db").display());
    let db = crate::db::connect(&DatabaseUrl::new(url))
        .await
        .expect("database");
    crate::db::migrate(&db).await.expect("migrations");
    (dir, db)
}

fn vault(db: &DatabaseConnection, key: Option<&str>) -> Vault {
    Vault::new(db.clone(), key.map(VaultKey::new).as_ref(), 30).expect("a valid key")
}

fn token(project: &str, value: &str, expires_in_days: Option<i64>) -> NewSecret {
    let today = Utc::now().date_naive();
    NewSecret {
        kind: SecretKind::Token,
        project_id: project.to_owned(),
        request_id: None,
        secret: SecretString::from(value.to_owned()),
        scope: Some("read write".to_owned()),
        username: None,
        issued_on: Some(today - Duration::days(1)),
        expires_on: expires_in_days.map(|d| today + Duration::days(d)),
    }
}

#[tokio::test]
async fn a_recorded_token_round_trips_and_only_its_fingerprint_is_shown() {
    let (_dir, db) = database().await;
    let vault = vault(&db, Some(KEY));
    let record = vault
        .record_in(&db, &Actor::Cli, token("p1", TOKEN, Some(365)))
        .await
        .expect("recorded");
    assert_eq!(record.last_four, "WXYZ");
    assert_eq!(record.fingerprint, &sha256_hex(TOKEN)[..12]);
    assert!(!format!("{record:?}").contains(TOKEN));
    let current = vault.current_token("p1").await.expect("reads");
    assert_eq!(current.as_ref().map(|s| s.expose_secret()), Some(TOKEN));
    assert!(vault.current_token("p2").await.expect("reads").is_none());

    let row = vault_records::Entity::find()
        .one(&db)
        .await
        .expect("query")
        .expect("a row");
    assert!(!row.ciphertext.contains(TOKEN), "stored encrypted");
    let history = crate::audit::recent(&db, 10).await.expect("audit");
    assert!(
        history
            .iter()
            .all(|e| !e.summary.to_string().contains(TOKEN)),
        "no secret in the audit log"
    );
}

#[tokio::test]
async fn a_wrong_key_is_refused_with_a_typed_error() {
    let (_dir, db) = database().await;
    vault(&db, Some(KEY))
        .record_in(&db, &Actor::Cli, token("p1", TOKEN, None))
        .await
        .expect("recorded");
    let error = vault(&db, Some(OTHER_KEY))
        .current_token("p1")
        .await
        .expect_err("another key cannot decrypt");
    assert!(
        matches!(error, VaultError::Undecryptable { .. }),
        "{error:?}"
    );
    assert!(!error.to_string().contains(TOKEN));
}

#[tokio::test]
async fn a_tampered_or_moved_record_is_refused() {
    let (_dir, db) = database().await;
    let vault = vault(&db, Some(KEY));
    let first = vault
        .record_in(&db, &Actor::Cli, token("p1", TOKEN, None))
        .await
        .expect("recorded");
    vault
        .record_in(
            &db,
            &Actor::Cli,
            token("p2", "another-token-value-9999", None),
        )
        .await
        .expect("recorded");
    // Copy p1's ciphertext into p2's row: the associated data no longer matches.
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        "UPDATE vault_records SET ciphertext = (SELECT ciphertext FROM vault_records WHERE id = ?) \
         WHERE project_id = 'p2'",
        [first.id.into()],
    ))
    .await
    .expect("moved");
    assert!(matches!(
        vault.current_token("p2").await,
        Err(VaultError::Undecryptable { .. })
    ));
    // Flip one character of p1's ciphertext.
    let row = vault_records::Entity::find_by_id(first.id)
        .one(&db)
        .await
        .expect("query")
        .expect("row");
    let mut tampered = row.ciphertext.clone().into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let mut active: vault_records::ActiveModel = row.into();
    active.ciphertext = Set(String::from_utf8(tampered).expect("ascii"));
    active.update(&db).await.expect("tampered");
    assert!(matches!(
        vault.current_token("p1").await,
        Err(VaultError::Undecryptable { .. })
    ));
}

#[tokio::test]
async fn rotation_makes_the_new_token_current_and_keeps_the_old_one_revoked() {
    let (_dir, db) = database().await;
    let vault = vault(&db, Some(KEY));
    vault
        .record_in(&db, &Actor::Cli, token("p1", TOKEN, Some(10)))
        .await
        .expect("first");
    let second = vault
        .record_in(
            &db,
            &Actor::Cli,
            token("p1", "rotated-token-value-5678", Some(400)),
        )
        .await
        .expect("second");
    assert_eq!(second.version, 2);
    let current = vault.current_token("p1").await.expect("reads");
    assert_eq!(
        current.as_ref().map(|s| s.expose_secret()),
        Some("rotated-token-value-5678")
    );
    let records = vault.records(Some("p1")).await.expect("listed");
    assert_eq!(records.len(), 2);
    assert!(records[0].is_current());
    assert!(!records[1].is_current(), "the old version is kept, revoked");
}

#[tokio::test]
async fn expiry_is_warned_ahead_of_time_and_an_expired_token_is_not_handed_out() {
    let (_dir, db) = database().await;
    let vault = vault(&db, Some(KEY));
    let soon = vault
        .record_in(&db, &Actor::Cli, token("soon", TOKEN, Some(5)))
        .await
        .expect("recorded");
    assert_eq!(soon.expiry, Expiry::ExpiringSoon);
    assert!(soon.expiry_warning().is_some_and(|w| w.contains("5 day")));
    let later = vault
        .record_in(&db, &Actor::Cli, token("later", TOKEN, Some(90)))
        .await
        .expect("recorded");
    assert_eq!(later.expiry, Expiry::Valid);
    assert_eq!(later.expiry_warning(), None);
    let mut past = token("past", TOKEN, Some(-1));
    past.issued_on = Some(Utc::now().date_naive() - Duration::days(30));
    let past = vault
        .record_in(&db, &Actor::Cli, past)
        .await
        .expect("recorded");
    assert_eq!(past.expiry, Expiry::Expired);
    assert!(vault.current_token("past").await.expect("reads").is_none());
}

#[tokio::test]
async fn without_a_key_the_vault_refuses_to_store_secrets() {
    let (_dir, db) = database().await;
    let vault = vault(&db, None);
    assert!(!vault.has_key());
    let error = vault
        .record_in(&db, &Actor::Cli, token("p1", TOKEN, None))
        .await
        .expect_err("refused");
    assert!(matches!(error, VaultError::NoKey));
    assert!(error.to_string().contains("GATEHOUSE_VAULT_KEY"));
}

#[tokio::test]
async fn the_vault_serves_tokens_through_the_token_source_trait() {
    let (_dir, db) = database().await;
    let vault = vault(&db, Some(KEY));
    vault
        .record_in(&db, &Actor::Cli, token("p1", TOKEN, None))
        .await
        .expect("recorded");
    let source: std::sync::Arc<dyn TokenSource> = std::sync::Arc::new(vault);
    let token = source.token_for("p1").await;
    assert_eq!(token.as_ref().map(|s| s.expose_secret()), Some(TOKEN));
    assert_eq!(source.projects().await, ["p1"]);
}
