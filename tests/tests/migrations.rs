//! Migrations, step by step, on SQLite and PostgreSQL: each one changes the schema, its `down`
//! undoes exactly that change, and the fully migrated schema holds every table and column the
//! entities read and write.

use std::collections::BTreeSet;

use gatehouse_core::db::DatabaseUrl;
use gatehouse_core::db::entities::{
    access_request_comments, access_requests, app_keys, audit_log, form_stashes, idempotency_keys,
    ledger_calls, ledger_operations, sessions, usage_alerts, usage_rollups, users, vault_records,
};
use gatehouse_migrations::{Migrator, MigratorTrait};
use gatehouse_tests::{Backend, TestDb, backend_tests};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, IdenStatic, Iterable,
    Statement,
};

/// Every (table, column) of the database, but the migration runner's own table.
async fn schema(db: &DatabaseConnection) -> BTreeSet<(String, String)> {
    let sql = match db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m \
             JOIN pragma_table_info(m.name) p WHERE m.type = 'table' \
             AND m.name NOT LIKE 'sqlite_%'"
        }
        _ => {
            "SELECT table_name::text AS t, column_name::text AS c \
             FROM information_schema.columns WHERE table_schema = current_schema()"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("schema");
    rows.iter()
        .map(|r| {
            (
                r.try_get::<String>("", "t").expect("table"),
                r.try_get::<String>("", "c").expect("column"),
            )
        })
        .filter(|(t, _)| t != "seaql_migrations")
        .collect()
}

/// The columns of entity `E`, as (table, column).
fn columns_of<E: EntityTrait>() -> Vec<(String, String)> {
    let table = E::default().table_name().to_owned();
    E::Column::iter()
        .map(|c| (table.clone(), c.as_str().to_owned()))
        .collect()
}

async fn each_step_changes_the_schema_and_its_down_undoes_exactly_that(backend: Backend) {
    let test_db = TestDb::create(backend).await;
    // Connected as the server connects (the SQLite file created, foreign keys on).
    let db = gatehouse_core::db::connect(&DatabaseUrl::new(test_db.url.clone()))
        .await
        .expect("connect");
    let steps = Migrator::migrations().len();
    let mut seen = vec![schema(&db).await];
    assert!(seen[0].is_empty(), "a fresh database: {:?}", seen[0]);
    for step in 1..=steps {
        Migrator::up(&db, Some(1)).await.expect("one step up");
        let now = schema(&db).await;
        assert_ne!(now, seen[step - 1], "step {step} changed nothing");
        seen.push(now);
    }
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .expect("pending")
            .is_empty()
    );

    let full = &seen[steps];
    let expected: Vec<(String, String)> = [
        columns_of::<users::Entity>(),
        columns_of::<sessions::Entity>(),
        columns_of::<app_keys::Entity>(),
        columns_of::<audit_log::Entity>(),
        columns_of::<idempotency_keys::Entity>(),
        columns_of::<access_requests::Entity>(),
        columns_of::<access_request_comments::Entity>(),
        columns_of::<vault_records::Entity>(),
        columns_of::<ledger_calls::Entity>(),
        columns_of::<ledger_operations::Entity>(),
        columns_of::<usage_rollups::Entity>(),
        columns_of::<usage_alerts::Entity>(),
        columns_of::<form_stashes::Entity>(),
    ]
    .concat();
    let missing: Vec<_> = expected.iter().filter(|c| !full.contains(c)).collect();
    assert!(missing.is_empty(), "the entities need {missing:?}");

    for step in (1..=steps).rev() {
        Migrator::down(&db, Some(1)).await.expect("one step down");
        assert_eq!(
            schema(&db).await,
            seen[step - 1],
            "the down of step {step} left the schema other than before its up"
        );
    }
    Migrator::up(&db, None).await.expect("all the way up again");
    assert_eq!(&schema(&db).await, full, "up again gives the same schema");
    db.close().await.ok();
}

backend_tests!(each_step_changes_the_schema_and_its_down_undoes_exactly_that);
