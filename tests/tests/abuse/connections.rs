//! Endpoints a stranger should not read: introspection.

use gatehouse::auth::{Access, KeyScopes};
use gatehouse_compliance::Entity;
use gatehouse_tests::{Backend, TestApp, first_error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_introspection_is_refused_by_default_and_an_app_key_may_introspect() {
    let app = TestApp::start(Backend::Sqlite).await;
    let schema = "{ __schema { queryType { name } } }";
    let (status, body) = app.graphql(None, schema, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(first_error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    assert!(body["data"].is_null(), "{body}");
    let (status, body) = app
        .graphql(None, "{ __type(name: \"Query\") { name } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let hidden = "query Q { ...Spy } fragment Spy on Query { __schema { types { name } } }";
    let (status, body) = app.graphql(None, hidden, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    let (status, body) = app.graphql(None, "{ __typename }", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["__typename"], "Query", "{body}");

    let (_, key) = app
        .create_key(KeyScopes::new(
            vec!["*".into()],
            [(Entity::Activity, Access::Read)],
        ))
        .await;
    let (status, body) = app.graphql(Some(&key), schema, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");

    let graphiql = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("sent");
    assert_eq!(graphiql.status(), StatusCode::OK);
    assert!(
        graphiql.text().await.expect("html").contains("graphiql"),
        "GraphiQL still loads"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_set_to_never_refuses_app_keys_too_and_always_admits_anyone() {
    let schema = "{ __schema { queryType { name } } }";
    let app = TestApp::start_with(Backend::Sqlite, "[graphql]\nintrospection = \"never\"\n").await;
    let (_, key) = app
        .create_key(KeyScopes::new(
            vec!["*".into()],
            [(Entity::Activity, Access::Read)],
        ))
        .await;
    let (status, body) = app.graphql(Some(&key), schema, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(first_error_code(&body), Some("FORBIDDEN"), "{body}");
    app.stop().await;

    let app = TestApp::start_with(Backend::Sqlite, "[graphql]\nintrospection = \"always\"\n").await;
    let (status, body) = app.graphql(None, schema, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"],
        Value::from("Query")
    );
    app.stop().await;
}
