//! `POST /auth/v1/logout?scope=global|local|others`.

use crate::helpers::{assert_gotrue_error, spawn_app};

#[tokio::test]
async fn logout_local_ends_only_the_current_session() {
    let app = spawn_app().await;
    let user_id = app.create_user("ola@example.com").await;
    let here = app.sign_in("ola@example.com").await;
    let elsewhere = app.sign_in("ola@example.com").await;

    let response = app.logout(&here.access_token, "local").await;
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());

    assert_eq!(app.get_user(&here.access_token).await.status(), 403);
    assert_eq!(app.get_user(&elsewhere.access_token).await.status(), 200);
    assert_eq!(app.session_count(user_id).await, 1);
}

#[tokio::test]
async fn logout_others_keeps_only_the_current_session() {
    let app = spawn_app().await;
    let user_id = app.create_user("pia@example.com").await;
    let here = app.sign_in("pia@example.com").await;
    let elsewhere = app.sign_in("pia@example.com").await;

    assert_eq!(app.logout(&here.access_token, "others").await.status(), 204);

    assert_eq!(app.get_user(&here.access_token).await.status(), 200);
    assert_eq!(app.get_user(&elsewhere.access_token).await.status(), 403);
    assert_eq!(app.session_count(user_id).await, 1);
}

#[tokio::test]
async fn logout_global_ends_every_session_of_the_user() {
    let app = spawn_app().await;
    let user_id = app.create_user("quinn@example.com").await;
    let other_user = app.create_user("rae@example.com").await;
    let here = app.sign_in("quinn@example.com").await;
    app.sign_in("quinn@example.com").await;
    app.sign_in("rae@example.com").await;

    assert_eq!(app.logout(&here.access_token, "global").await.status(), 204);

    assert_eq!(app.session_count(user_id).await, 0);
    assert_eq!(app.session_count(other_user).await, 1);
}

#[tokio::test]
async fn logout_with_an_unknown_scope_is_a_validation_error() {
    let app = spawn_app().await;
    let user_id = app.create_user("sam@example.com").await;
    let session = app.sign_in("sam@example.com").await;

    let body = assert_gotrue_error(
        app.logout(&session.access_token, "everyone").await,
        400,
        "validation_failed",
    )
    .await;
    assert_eq!(body["message"], "Unsupported logout scope \"everyone\"");
    assert_eq!(app.session_count(user_id).await, 1);
}
