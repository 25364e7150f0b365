//! `POST /auth/v1/token?grant_type=password`.

use serde_json::{json, Value};

use crate::helpers::{assert_gotrue_error, spawn_app, PASSWORD};

#[tokio::test]
async fn password_grant_returns_a_gotrue_session_and_commits_it() {
    let app = spawn_app().await;
    let user_id = app.create_user("ana@example.com").await;

    let response = app.password_grant("ana@example.com", PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();

    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    let refresh_token = body["refresh_token"].as_str().unwrap();
    assert_eq!(refresh_token.len(), 12);
    assert!(refresh_token
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    let claims = crate::helpers::decode_claims(body["access_token"].as_str().unwrap());
    assert_eq!(body["expires_at"], claims["exp"]);

    let user = &body["user"];
    assert_eq!(user["id"], user_id.to_string());
    assert_eq!(user["aud"], "authenticated");
    assert_eq!(user["role"], "authenticated");
    assert_eq!(user["email"], "ana@example.com");
    assert_eq!(user["phone"], "");
    for field in [
        "email_confirmed_at",
        "confirmed_at",
        "last_sign_in_at",
        "created_at",
        "updated_at",
    ] {
        assert!(
            user[field].as_str().is_some_and(|t| t.ends_with('Z')),
            "{field}: {user}"
        );
    }
    assert_eq!(
        user["app_metadata"],
        json!({"provider": "email", "providers": ["email"]})
    );
    assert_eq!(user["user_metadata"], json!({"full_name": "Test User"}));
    assert_eq!(user["is_anonymous"], false);
    let identity = &user["identities"][0];
    assert_eq!(identity["provider"], "email");
    assert_eq!(identity["id"], user_id.to_string());
    assert_eq!(identity["user_id"], user_id.to_string());
    assert!(identity["identity_id"].is_string());
    assert_eq!(identity["email"], "ana@example.com");

    // Committed before the answer: the session and its refresh token are visible.
    let session_id: uuid::Uuid = sqlx::query_scalar(
        "select session_id from auth.refresh_tokens where token = $1 and revoked = false",
    )
    .bind(refresh_token)
    .fetch_one(&app.db.pool)
    .await
    .expect("the refresh token row exists");
    assert_eq!(claims["session_id"], session_id.to_string());
    assert_eq!(app.session_count(user_id).await, 1);
}

#[tokio::test]
async fn access_token_claims_are_gotrues_plus_the_hooks_user_role() {
    let app = spawn_app().await;
    let user_id = app.create_user("ben@example.com").await;
    app.set_role(user_id, "manager").await;

    let session = app.sign_in("ben@example.com").await;
    let claims = session.claims();

    assert_eq!(claims["iss"], app.url("/auth/v1"));
    assert_eq!(claims["sub"], user_id.to_string());
    assert_eq!(claims["aud"], "authenticated");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(claims["email"], "ben@example.com");
    assert_eq!(claims["phone"], "");
    assert_eq!(claims["app_metadata"]["provider"], "email");
    assert_eq!(claims["user_metadata"]["full_name"], "Test User");
    assert_eq!(claims["role"], "authenticated");
    assert_eq!(claims["aal"], "aal1");
    assert_eq!(claims["amr"][0]["method"], "password");
    assert!(claims["amr"][0]["timestamp"].is_i64());
    assert!(uuid::Uuid::parse_str(claims["session_id"].as_str().unwrap()).is_ok());
    assert_eq!(claims["is_anonymous"], false);
    assert_eq!(claims["user_role"], "manager");
}

#[tokio::test]
async fn email_lookup_ignores_case_like_gotrue() {
    let app = spawn_app().await;
    app.create_user("carla@example.com").await;
    let response = app.password_grant("Carla@Example.COM", PASSWORD).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn wrong_password_is_400_invalid_credentials_with_the_api_version_header() {
    let app = spawn_app().await;
    let user_id = app.create_user("dan@example.com").await;

    let response = app
        .password_grant("dan@example.com", "not-the-password")
        .await;
    let body = assert_gotrue_error(response, 400, "invalid_credentials").await;
    assert_eq!(
        body,
        json!({"code": "invalid_credentials", "message": "Invalid login credentials"})
    );
    assert_eq!(app.session_count(user_id).await, 0);
}

#[tokio::test]
async fn unknown_email_gets_the_same_answer_as_a_wrong_password() {
    let app = spawn_app().await;
    let response = app.password_grant("nobody@example.com", PASSWORD).await;
    let body = assert_gotrue_error(response, 400, "invalid_credentials").await;
    assert_eq!(body["message"], "Invalid login credentials");
}

#[tokio::test]
async fn without_the_api_version_header_errors_use_gotrues_legacy_shape() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/auth/v1/token?grant_type=password"))
        .header("apikey", crate::helpers::ANON_KEY)
        .json(&json!({"email": "nobody@example.com", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("x-supabase-api-version").is_none());
    assert_eq!(
        response.headers().get("x-sb-error-code").unwrap(),
        "invalid_credentials"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"})
    );
}

#[tokio::test]
async fn unconfirmed_email_is_400_email_not_confirmed() {
    let app = spawn_app().await;
    app.create_unconfirmed_user("eve@example.com").await;
    let response = app.password_grant("eve@example.com", PASSWORD).await;
    let body = assert_gotrue_error(response, 400, "email_not_confirmed").await;
    assert_eq!(body["message"], "Email not confirmed");
}

#[tokio::test]
async fn malformed_requests_get_gotrues_validation_errors() {
    let app = spawn_app().await;
    let send = |query: &'static str, body: &'static str| {
        app.client
            .post(app.url(&format!("/auth/v1/token{query}")))
            .header("apikey", crate::helpers::ANON_KEY)
            .header("X-Supabase-Api-Version", "2024-01-01")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };

    let body = assert_gotrue_error(
        send("?grant_type=password", "{}").await.unwrap(),
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(body["message"], "missing email or phone");

    let body = assert_gotrue_error(
        send(
            "?grant_type=password",
            r#"{"email":"a@b.c","phone":"+15550100","password":"x"}"#,
        )
        .await
        .unwrap(),
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(
        body["message"],
        "Only an email address or phone number should be provided on login."
    );

    assert_gotrue_error(
        send("?grant_type=password", "{not json").await.unwrap(),
        400,
        "bad_json",
    )
    .await;

    let body = assert_gotrue_error(
        send("?grant_type=magic", "{}").await.unwrap(),
        400,
        "invalid_credentials",
    )
    .await;
    assert_eq!(body["message"], "unsupported_grant_type");

    assert_gotrue_error(
        send(
            "?grant_type=password",
            r#"{"phone":"+15550100","password":"x"}"#,
        )
        .await
        .unwrap(),
        422,
        "phone_provider_disabled",
    )
    .await;
}
