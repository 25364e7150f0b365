//! A database that goes away mid-test: the webhook answers 503 with Retry-After
//! (never a 2xx for an event it could not store), and recovers by itself.

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn a_database_stopped_mid_test_gives_503_then_recovers() {
    let app = spawn_app_with(Options {
        through_proxy: true,
        acquire_timeout_ms: Some(1000),
        ..Options::default()
    })
    .await;
    let proxy = app.proxy.as_ref().expect("proxy");

    assert_eq!(app.deliver(NORMALIZED_GOOD).await["status"], "accepted");

    proxy.cut();
    let response = app.post_signed(NORMALIZED_BAD).await;
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_error(response, 503, "database_unavailable").await;
    let retry_after: u64 = retry_after.expect("Retry-After header").parse().unwrap();
    assert!(retry_after > 0);
    assert_error(app.get("/readyz").await, 503, "database_unavailable").await;
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "the process itself is fine"
    );

    // Nothing was stored for the refused delivery.
    let stored = sqlx::query_scalar!(
        r#"select count(*) as "n!" from public.events where event_id = 'evt_0002'"#
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, 0);

    proxy.restore();
    assert_eq!(app.get("/readyz").await.status(), 200);
    // The sender's retry of the same event now succeeds.
    let answer: Value = app.deliver(NORMALIZED_BAD).await;
    assert_eq!(answer["status"], "accepted");
    assert_eq!(answer["event_id"], "evt_0002");
    assert_eq!(app.events_count().await, 2);
}
