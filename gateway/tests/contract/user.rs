//! `GET /auth/v1/user`.

use serde_json::Value;

use crate::helpers::{assert_gotrue_error, sign_claims, spawn_app, ANON_KEY};

#[tokio::test]
async fn get_user_returns_the_signed_in_user() {
    let app = spawn_app().await;
    let user_id = app.create_user("kim@example.com").await;
    let session = app.sign_in("kim@example.com").await;

    let response = app.get_user(&session.access_token).await;
    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["id"], user_id.to_string());
    assert_eq!(user["email"], "kim@example.com");
    assert_eq!(user["aud"], "authenticated");
    assert_eq!(user["identities"][0]["provider"], "email");
    assert_eq!(
        user["last_sign_in_at"],
        session.body["user"]["last_sign_in_at"]
    );
}

#[tokio::test]
async fn an_expired_token_is_403_bad_jwt() {
    let app = spawn_app().await;
    app.create_user("lea@example.com").await;
    let session = app.sign_in("lea@example.com").await;
    let mut claims = session.claims();
    claims["iat"] = (claims["iat"].as_i64().unwrap() - 7200).into();
    claims["exp"] = (claims["exp"].as_i64().unwrap() - 7200).into();

    let body = assert_gotrue_error(app.get_user(&sign_claims(&claims)).await, 403, "bad_jwt").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("token is expired"),
        "{body}"
    );
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_403_bad_jwt() {
    let app = spawn_app().await;
    app.create_user("max@example.com").await;
    let session = app.sign_in("max@example.com").await;
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &session.claims(),
        &jsonwebtoken::EncodingKey::from_secret(b"some-other-secret-of-at-least-32-chars!!"),
    )
    .unwrap();
    assert_gotrue_error(app.get_user(&forged).await, 403, "bad_jwt").await;
}

#[tokio::test]
async fn a_token_of_a_logged_out_session_is_403_session_not_found() {
    let app = spawn_app().await;
    app.create_user("ned@example.com").await;
    let session = app.sign_in("ned@example.com").await;
    assert_eq!(
        app.logout(&session.access_token, "local").await.status(),
        204
    );

    let body = assert_gotrue_error(
        app.get_user(&session.access_token).await,
        403,
        "session_not_found",
    )
    .await;
    assert_eq!(
        body["message"],
        "Session from session_id claim in JWT does not exist"
    );
}

#[tokio::test]
async fn get_user_without_a_bearer_token_is_401_no_authorization() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/auth/v1/user"))
        .header("apikey", ANON_KEY)
        .header("X-Supabase-Api-Version", "2024-01-01")
        .send()
        .await
        .unwrap();
    assert_gotrue_error(response, 401, "no_authorization").await;
}

#[tokio::test]
async fn the_anon_key_as_bearer_is_not_a_user() {
    let app = spawn_app().await;
    let body = assert_gotrue_error(app.get_user(ANON_KEY).await, 403, "bad_jwt").await;
    assert_eq!(body["message"], "invalid claim: missing sub claim");
}
