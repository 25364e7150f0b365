//! `POST /auth/v1/token?grant_type=refresh_token`: rotation, GoTrue's reuse rules.

use serde_json::Value;

use crate::helpers::{
    assert_gotrue_error, session_from, spawn_app, spawn_app_with, Options, Session,
};

async fn refreshed(app: &crate::helpers::TestApp, token: &str) -> Session {
    let response = app.refresh(token).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "refresh failed: {body}");
    session_from(body)
}

#[tokio::test]
async fn refresh_rotates_the_token_and_keeps_the_session() {
    let app = spawn_app().await;
    let user_id = app.create_user("fay@example.com").await;
    let first = app.sign_in("fay@example.com").await;

    let second = refreshed(&app, &first.refresh_token).await;

    assert_ne!(second.refresh_token, first.refresh_token);
    assert_eq!(second.body["token_type"], "bearer");
    assert_eq!(second.body["expires_in"], 3600);
    assert_eq!(second.body["user"]["id"], user_id.to_string());
    assert_eq!(second.claims()["session_id"], first.claims()["session_id"]);
    assert_eq!(second.claims()["amr"][0]["method"], "password");
    assert_eq!(app.session_count(user_id).await, 1);

    let (revoked, parent): (bool, Option<String>) = sqlx::query_as(
        "select (select revoked from auth.refresh_tokens where token = $1),
                (select parent from auth.refresh_tokens where token = $2)",
    )
    .bind(&first.refresh_token)
    .bind(&second.refresh_token)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(revoked, "the rotated token is revoked");
    assert_eq!(parent.as_deref(), Some(first.refresh_token.as_str()));

    // The new access token is immediately usable.
    assert_eq!(app.get_user(&second.access_token).await.status(), 200);
}

#[tokio::test]
async fn reusing_the_parent_of_the_active_token_returns_the_active_token() {
    // GoTrue's allowance for a client that lost the previous answer.
    let app = spawn_app_with(Options {
        reuse_interval_secs: 0,
        ..Options::default()
    })
    .await;
    app.create_user("gus@example.com").await;
    let first = app.sign_in("gus@example.com").await;
    let second = refreshed(&app, &first.refresh_token).await;

    let again = refreshed(&app, &first.refresh_token).await;
    assert_eq!(again.refresh_token, second.refresh_token);
}

#[tokio::test]
async fn reusing_an_older_rotated_token_is_rejected_and_ends_the_session_tokens() {
    let app = spawn_app_with(Options {
        reuse_interval_secs: 0,
        ..Options::default()
    })
    .await;
    app.create_user("hal@example.com").await;
    let first = app.sign_in("hal@example.com").await;
    let second = refreshed(&app, &first.refresh_token).await;
    let third = refreshed(&app, &second.refresh_token).await;

    let body = assert_gotrue_error(
        app.refresh(&first.refresh_token).await,
        400,
        "refresh_token_already_used",
    )
    .await;
    assert_eq!(body["message"], "Invalid Refresh Token: Already Used");

    // Possible theft: the whole token family is revoked, the newest token included.
    assert_gotrue_error(
        app.refresh(&third.refresh_token).await,
        400,
        "refresh_token_already_used",
    )
    .await;
}

#[tokio::test]
async fn reuse_within_the_reuse_interval_is_still_accepted() {
    let app = spawn_app_with(Options {
        reuse_interval_secs: 3600,
        ..Options::default()
    })
    .await;
    app.create_user("ida@example.com").await;
    let first = app.sign_in("ida@example.com").await;
    let second = refreshed(&app, &first.refresh_token).await;
    let third = refreshed(&app, &second.refresh_token).await;

    let reused = refreshed(&app, &first.refresh_token).await;
    assert_ne!(reused.refresh_token, third.refresh_token);
    assert_eq!(reused.claims()["session_id"], first.claims()["session_id"]);
}

#[tokio::test]
async fn an_unknown_refresh_token_is_refresh_token_not_found() {
    let app = spawn_app().await;
    let body = assert_gotrue_error(
        app.refresh("abcdefgh1234").await,
        400,
        "refresh_token_not_found",
    )
    .await;
    assert_eq!(
        body["message"],
        "Invalid Refresh Token: Refresh Token Not Found"
    );
}

#[tokio::test]
async fn a_malformed_refresh_token_is_a_validation_error() {
    let app = spawn_app().await;
    for token in ["", "short", "NOT-A-VALID-TOKEN"] {
        let body = assert_gotrue_error(app.refresh(token).await, 400, "validation_failed").await;
        assert_eq!(body["message"], "Refresh token is not valid");
    }
}

#[tokio::test]
async fn refreshing_after_logout_is_refresh_token_not_found() {
    let app = spawn_app().await;
    app.create_user("jon@example.com").await;
    let session = app.sign_in("jon@example.com").await;
    assert_eq!(
        app.logout(&session.access_token, "global").await.status(),
        204
    );

    assert_gotrue_error(
        app.refresh(&session.refresh_token).await,
        400,
        "refresh_token_not_found",
    )
    .await;
}
