//! Authentication: every 401, secret rotation, the bearer mode, and signatures
//! over raw (non-ASCII, pretty-printed) bytes.

use api::signature::sign;

use crate::helpers::*;

fn json_headers(signature: String) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".into()),
        ("x-retell-signature", signature),
    ]
}

#[tokio::test]
async fn webhook_returns_401_when_the_signature_is_missing() {
    let app = spawn_app().await;
    let response = app
        .post_webhook_raw(
            NORMALIZED_GOOD,
            &[("content-type", "application/json".into())],
        )
        .await;
    let body = assert_error(response, 401, "missing_signature").await;
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("X-Retell-Signature"));
    assert_eq!(app.events_count().await, 0);
}

#[tokio::test]
async fn webhook_returns_401_when_the_signature_is_malformed() {
    let app = spawn_app().await;
    for bad in ["sha256=abc", "v=now,d=00", "v=1763640000000"] {
        let response = app
            .post_webhook_raw(NORMALIZED_GOOD, &json_headers(bad.into()))
            .await;
        assert_error(response, 401, "malformed_signature").await;
    }
}

#[tokio::test]
async fn webhook_returns_401_when_the_signature_is_stale() {
    let app = spawn_app().await;
    let six_minutes_ago = now_ms() - 6 * 60 * 1000;
    let response = app
        .post_webhook_raw(
            NORMALIZED_GOOD,
            &json_headers(sign(NORMALIZED_GOOD.as_bytes(), six_minutes_ago, SECRET)),
        )
        .await;
    assert_error(response, 401, "stale_signature").await;
}

#[tokio::test]
async fn webhook_returns_401_when_the_signature_is_from_the_future() {
    let app = spawn_app().await;
    let in_six_minutes = now_ms() + 6 * 60 * 1000;
    let response = app
        .post_webhook_raw(
            NORMALIZED_GOOD,
            &json_headers(sign(NORMALIZED_GOOD.as_bytes(), in_six_minutes, SECRET)),
        )
        .await;
    assert_error(response, 401, "future_signature").await;
}

#[tokio::test]
async fn webhook_returns_401_when_signed_with_an_unknown_secret() {
    let app = spawn_app().await;
    let response = app
        .post_webhook_raw(
            NORMALIZED_GOOD,
            &json_headers(sign(
                NORMALIZED_GOOD.as_bytes(),
                now_ms(),
                "whsec_not_configured_anywhere_000",
            )),
        )
        .await;
    assert_error(response, 401, "invalid_signature").await;
    assert_eq!(app.events_count().await, 0);
}

#[tokio::test]
async fn webhook_returns_401_when_the_body_changed_after_signing() {
    let app = spawn_app().await;
    let signature = sign(NORMALIZED_GOOD.as_bytes(), now_ms(), SECRET);
    let tampered = NORMALIZED_GOOD.replace("Dana Whitfield", "Mallory");
    let response = app
        .post_webhook_raw(tampered, &json_headers(signature))
        .await;
    assert_error(response, 401, "invalid_signature").await;
}

#[tokio::test]
async fn every_configured_secret_is_accepted_during_rotation() {
    let app = spawn_app().await;
    let response = app
        .post_webhook_raw(
            NORMALIZED_GOOD,
            &json_headers(sign(NORMALIZED_GOOD.as_bytes(), now_ms(), OLD_SECRET)),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body = NORMALIZED_BAD.as_bytes();
    let response = app
        .post_webhook_raw(body, &json_headers(sign(body, now_ms(), SECRET)))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.events_count().await, 2);
}

#[tokio::test]
async fn a_bearer_token_is_refused_when_bearer_mode_is_off() {
    let app = spawn_app().await;
    let response = app
        .post_webhook_raw(
            NORMALIZED_GOOD,
            &[
                ("content-type", "application/json".into()),
                ("authorization", format!("Bearer {SECRET}")),
            ],
        )
        .await;
    let body = assert_error(response, 401, "bearer_not_allowed").await;
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("WEBHOOK_ALLOW_BEARER"));
    assert_eq!(app.events_count().await, 0);
}

#[tokio::test]
async fn a_bearer_token_is_accepted_when_bearer_mode_is_on() {
    let app = spawn_app_with(Options {
        allow_bearer: true,
        ..Options::default()
    })
    .await;
    let response = app
        .post_webhook_raw(
            NORMALIZED_GOOD,
            &[
                ("content-type", "application/json".into()),
                ("authorization", format!("Bearer {SECRET}")),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);

    let response = app
        .post_webhook_raw(
            NORMALIZED_BAD,
            &[
                ("content-type", "application/json".into()),
                ("authorization", "Bearer guessed-token".into()),
            ],
        )
        .await;
    assert_error(response, 401, "invalid_bearer_token").await;
    assert_eq!(app.events_count().await, 1);
}

#[tokio::test]
async fn a_non_ascii_pretty_printed_body_verifies_against_its_raw_bytes() {
    let app = spawn_app().await;
    // Accents, an emoji, CRLF line ends, tabs and trailing spaces: any
    // re-serialization would change these bytes.
    let body = "{\r\n\t\"event_id\" : \"evt_accents\",\r\n    \"dealership_id\": \"citroen-lyon\",\r\n    \"call_id\": \"call_é\",\r\n    \"timestamp\": \"2025-12-17T14:32:00+01:00\",\r\n    \"transcript\": \"Agent: Bonjour, ici Zoé 😊\\nUser: Je voudrais réserver un entretien.\"  \r\n}\r\n";
    let body = body.to_owned();

    // Signing the compact re-serialization is what breaks naive verifiers.
    let reserialized =
        serde_json::to_vec(&serde_json::from_str::<serde_json::Value>(&body).unwrap()).unwrap();
    let response = app
        .post_webhook_raw(
            body.clone(),
            &json_headers(sign(&reserialized, now_ms(), SECRET)),
        )
        .await;
    assert_error(response, 401, "invalid_signature").await;

    let answer = app.deliver(&body).await;
    assert_eq!(answer["status"], "accepted");
    let transcript =
        sqlx::query_scalar!("select transcript from public.events where event_id = 'evt_accents'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        transcript.as_deref(),
        Some("Agent: Bonjour, ici Zoé 😊\nUser: Je voudrais réserver un entretien.")
    );
}
