//! `/rest/v1/*` through the gateway to the real PostgREST.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, Options, TestApp, ANON_KEY, NOTES_FIXTURE, SERVICE_ROLE_KEY};

async fn app_with_notes() -> TestApp {
    spawn_app_with(Options {
        postgrest: true,
        fixtures: NOTES_FIXTURE,
        ..Options::default()
    })
    .await
}

/// Two users with their own notes; returns (app, token of the first user).
async fn two_users_with_notes() -> (TestApp, String) {
    let app = app_with_notes().await;
    let yan = app.create_user("yan@example.com").await;
    let zoe = app.create_user("zoe@example.com").await;
    sqlx::query(
        "insert into public.gateway_test_notes (user_id, body) values ($1, 'yan 1'), ($1, 'yan 2'), ($2, 'zoe 1')",
    )
    .bind(yan)
    .bind(zoe)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let token = app.sign_in("yan@example.com").await.access_token;
    (app, token)
}

#[tokio::test]
async fn rest_returns_only_the_rows_rls_lets_the_signed_in_user_see() {
    let (app, token) = two_users_with_notes().await;
    let response = app
        .rest(
            Method::GET,
            "/gateway_test_notes?select=body&order=id",
            Some(&token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let rows: Value = response.json().await.unwrap();
    assert_eq!(rows, json!([{"body": "yan 1"}, {"body": "yan 2"}]));
}

#[tokio::test]
async fn without_authorization_the_apikey_decides_the_role() {
    let (app, _) = two_users_with_notes().await;
    let as_key = |key: &'static str| {
        app.client
            .get(app.url("/rest/v1/gateway_test_notes?select=body"))
            .header("apikey", key)
            .send()
    };
    let anon: Value = as_key(ANON_KEY).await.unwrap().json().await.unwrap();
    assert_eq!(anon, json!([]), "anon has no policy: nothing visible");
    let service: Value = as_key(SERVICE_ROLE_KEY)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        service.as_array().unwrap().len(),
        3,
        "service_role bypasses RLS"
    );
}

#[tokio::test]
async fn prefer_count_and_range_pass_through_and_content_range_comes_back() {
    let (app, token) = two_users_with_notes().await;
    let response = app
        .rest(
            Method::GET,
            "/gateway_test_notes?select=body&order=id",
            Some(&token),
        )
        .header("Prefer", "count=exact")
        .header("Range-Unit", "items")
        .header("Range", "0-0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 206);
    assert_eq!(response.headers()["content-range"], "0-0/2");
    let rows: Value = response.json().await.unwrap();
    assert_eq!(rows, json!([{"body": "yan 1"}]));
}

#[tokio::test]
async fn accept_text_csv_returns_csv() {
    let (app, token) = two_users_with_notes().await;
    let response = app
        .rest(
            Method::GET,
            "/gateway_test_notes?select=body&order=id",
            Some(&token),
        )
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    // PostgREST's own CSV (it quotes values with spaces), passed through untouched.
    assert_eq!(response.text().await.unwrap(), "body\n\"yan 1\"\n\"yan 2\"");
}

#[tokio::test]
async fn inserts_stream_the_body_and_honour_prefer_and_content_profile() {
    let (app, token) = two_users_with_notes().await;
    let response = app
        .rest(
            Method::POST,
            "/gateway_test_notes?select=body",
            Some(&token),
        )
        .header("Content-Type", "application/json")
        .header("Content-Profile", "public")
        .header("Prefer", "return=representation")
        .body(json!([{"body": "yan 3"}]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["content-profile"], "public");
    let rows: Value = response.json().await.unwrap();
    assert_eq!(rows, json!([{"body": "yan 3"}]));

    let owner: uuid::Uuid =
        sqlx::query_scalar("select user_id from public.gateway_test_notes where body = 'yan 3'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let yan: uuid::Uuid =
        sqlx::query_scalar("select id from auth.users where email = 'yan@example.com'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(owner, yan, "auth.uid() came from the forwarded user token");
}

#[tokio::test]
async fn rls_refusals_come_back_as_postgrest_errors() {
    let (app, token) = two_users_with_notes().await;
    let zoe: uuid::Uuid =
        sqlx::query_scalar("select id from auth.users where email = 'zoe@example.com'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let response = app
        .rest(Method::POST, "/gateway_test_notes", Some(&token))
        .header("Content-Type", "application/json")
        .body(json!({"body": "forged", "user_id": zoe}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "42501");
}

#[tokio::test]
async fn an_apikey_query_parameter_is_not_forwarded_as_a_filter() {
    let (app, token) = two_users_with_notes().await;
    let response = app
        .client
        .get(app.url(&format!(
            "/rest/v1/gateway_test_notes?apikey={ANON_KEY}&select=body&body=eq.yan%202"
        )))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let rows: Value = response.json().await.unwrap();
    assert_eq!(rows, json!([{"body": "yan 2"}]));
}

#[tokio::test]
async fn the_rest_root_is_postgrests_openapi_document() {
    let app = app_with_notes().await;
    let response = app
        .client
        .get(app.url("/rest/v1/"))
        .header("apikey", SERVICE_ROLE_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    assert!(
        document["paths"]["/gateway_test_notes"].is_object(),
        "{document}"
    );
}

#[tokio::test]
async fn an_unreachable_postgrest_is_a_502() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(Options {
        postgrest_url: Some(format!("http://127.0.0.1:{closed_port}")),
        ..Options::default()
    })
    .await;
    let response = app
        .rest(Method::GET, "/anything", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "An invalid response was received from the upstream server"})
    );
}
