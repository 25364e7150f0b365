//! Sender trust: event times the service believes, `AGENT_DEALERSHIPS` over the
//! payload's claim, secrets scoped to dealerships, and dealerships the webhook
//! registers being marked "not set up".

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::*;

/// An internal sender's secret, scoped to two dealerships.
const SCOPED_SECRET: &str = "whsec_scoped_sender_0123456789abcdef0123";

fn fresh_slug(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

fn normalized(event_id: &str, dealership: &str, call_id: &str, timestamp: &str) -> String {
    json!({
        "event_id": event_id, "dealership_id": dealership, "call_id": call_id,
        "timestamp": timestamp, "transcript": "Agent: Hello, how can I help?\nUser: Oil change, please."
    })
    .to_string()
}

fn retell(event: &str, call: Value) -> String {
    json!({ "event": event, "call": call }).to_string()
}

/// An app whose `WEBHOOK_SECRETS` holds the unscoped [`SECRET`] and
/// [`SCOPED_SECRET`] limited to `a` and `b`.
async fn app_with_scoped_secret(a: &str, b: &str, allow_bearer: bool) -> TestApp {
    spawn_app_with(Options {
        webhook_secrets: Some(format!("{SECRET},{SCOPED_SECRET}:{a}|{b}")),
        allow_bearer,
        ..Options::default()
    })
    .await
}

// ---- Timestamps -------------------------------------------------------------

#[tokio::test]
async fn an_event_dated_in_the_year_9999_is_refused_with_422_naming_the_field_and_range() {
    let app = spawn_app().await;
    let body = normalized(
        "evt_far_future",
        "toyota-braintree",
        "call_far_future",
        "9999-12-31T23:59:59Z",
    );
    let error = assert_error(app.post_signed(&body).await, 422, "timestamp_out_of_range").await;
    assert_eq!(error["field"], "timestamp");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("9999-12-31T23:59:59Z") && message.contains("2020-01-01T00:00:00Z"),
        "{message}"
    );
    assert_eq!(app.events_count().await, 0);
    assert_eq!(app.call("call_far_future").await, None);
}

#[tokio::test]
async fn an_event_dated_before_2020_is_refused_with_422() {
    let app = spawn_app().await;
    let body = normalized(
        "evt_too_old",
        "toyota-braintree",
        "call_too_old",
        "2019-12-31T23:59:59Z",
    );
    let error = assert_error(app.post_signed(&body).await, 422, "timestamp_out_of_range").await;
    assert_eq!(error["field"], "timestamp");
    assert_eq!(app.events_count().await, 0);
}

#[tokio::test]
async fn an_event_dated_a_few_hours_ahead_is_accepted_as_clock_skew() {
    let app = spawn_app().await;
    let soon = (Utc::now() + Duration::hours(3)).to_rfc3339();
    let body = normalized("evt_skewed", "toyota-braintree", "call_skewed", &soon);
    assert_eq!(app.deliver(&body).await["status"], "accepted");
    let just_over_a_day = (Utc::now() + Duration::hours(25)).to_rfc3339();
    let body = normalized(
        "evt_too_far",
        "toyota-braintree",
        "call_skewed",
        &just_over_a_day,
    );
    assert_error(app.post_signed(&body).await, 422, "timestamp_out_of_range").await;
}

#[tokio::test]
async fn a_retell_event_dated_in_the_year_9999_cannot_freeze_the_call() {
    let app = spawn_app().await;
    let call_id = "call_not_frozen";
    let call = |status: &str, end: Option<i64>| {
        let mut call = json!({
            "call_id": call_id, "agent_id": "agent_5e1f0c", "call_status": status,
            "metadata": {"dealership_id": "ford-weymouth"},
            "start_timestamp": 1765983120000_i64,
        });
        if let Some(end) = end {
            call["end_timestamp"] = json!(end);
            call["transcript"] = json!("Agent: Ford of Weymouth.\nUser: Is my recall done?");
        }
        call
    };
    app.deliver(retell("call_started", call("ongoing", None)))
        .await;

    let frozen = retell("call_ended", call("ended", Some(253_402_300_799_000)));
    let error = assert_error(
        app.post_signed(&frozen).await,
        422,
        "timestamp_out_of_range",
    )
    .await;
    assert_eq!(error["field"], "call.end_timestamp");

    // The real end of the call still moves it forward.
    let real = retell("call_ended", call("ended", Some(1765983301000)));
    assert_eq!(app.deliver(&real).await["status"], "accepted");
    let stored = app.call(call_id).await.expect("call row");
    assert_eq!(stored.call_status.as_deref(), Some("ended"));
    assert_eq!(stored.last_event_rank, 3);
    assert_eq!(stored.last_event_at.timestamp_millis(), 1765983301000);
    assert_eq!(app.jobs_for(call_id).await.len(), 1);
}

// ---- Agent mapping ----------------------------------------------------------

#[tokio::test]
async fn a_metadata_dealership_that_conflicts_with_the_agent_mapping_is_stored_unresolved() {
    // Neither is a seed dealership, so the test can tell that neither gets registered.
    let (mapped, claimed) = ("mapped-by-config", "claimed-by-metadata");
    let app = spawn_app_with(Options {
        agent_dealerships: Some("agent_conflict=mapped-by-config"),
        ..Options::default()
    })
    .await;
    let body = retell(
        "call_ended",
        json!({
            "call_id": "call_conflict", "agent_id": "agent_conflict", "call_status": "ended",
            "metadata": {"dealership_id": claimed},
            "transcript": "Agent: Hello?"
        }),
    );
    let answer = app.deliver(&body).await;
    assert_eq!(answer["status"], "accepted");
    let warning = answer["warning"].as_str().unwrap();
    assert!(warning.starts_with("dealership_conflict"), "{warning}");
    let event_id = answer["event_id"].as_str().unwrap();

    let event_dealership = sqlx::query_scalar!(
        "select dealership_id from public.events where event_id = $1",
        event_id
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(event_dealership, None, "neither dealership is trusted");

    let error = sqlx::query!(
        "select stage, call_id, dealership_id, error, detail from public.processing_errors where event_id = $1",
        event_id
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(error.stage, "ingest");
    assert_eq!(error.call_id.as_deref(), Some("call_conflict"));
    assert_eq!(error.dealership_id, None);
    assert_eq!(error.error, "dealership_conflict");
    assert_eq!(error.detail["metadata_dealership_id"], claimed);
    assert_eq!(error.detail["mapped_dealership_id"], mapped);
    assert_eq!(error.detail["agent_id"], "agent_conflict");
    let reason = error.detail["reason"].as_str().unwrap();
    assert!(
        reason.contains(claimed) && reason.contains(mapped),
        "{reason}"
    );

    assert_eq!(app.call("call_conflict").await, None);
    assert!(app.jobs_for("call_conflict").await.is_empty());
    let (_, _, _, dealerships) = app.stored_rows().await;
    assert!(
        !dealerships.iter().any(|d| d == claimed || d == mapped),
        "a conflicting event registers neither dealership"
    );
}

#[tokio::test]
async fn the_agent_mapping_decides_when_the_metadata_agrees_with_it() {
    let app = spawn_app_with(Options {
        agent_dealerships: Some("agent_5e1f0c=ford-weymouth"),
        ..Options::default()
    })
    .await;
    let answer = app.deliver(ENDED).await;
    assert_eq!(answer.get("warning"), None);
    let call = app.call(FIXTURE_CALL_ID).await.expect("call row");
    assert_eq!(call.dealership_id, "ford-weymouth");
}

// ---- Secret scope -----------------------------------------------------------

#[tokio::test]
async fn a_scoped_secret_writes_to_the_dealerships_it_names() {
    let (a, b) = (fresh_slug("scope-a"), fresh_slug("scope-b"));
    let app = app_with_scoped_secret(&a, &b, false).await;
    for (i, dealership) in [&a, &b].into_iter().enumerate() {
        let body = normalized(
            &format!("evt_in_scope_{i}"),
            dealership,
            &format!("call_in_scope_{i}"),
            &Utc::now().to_rfc3339(),
        );
        let response = app.post_signed_with(&body, SCOPED_SECRET).await;
        assert_eq!(response.status(), 200);
        let call = app.call(&format!("call_in_scope_{i}")).await.unwrap();
        assert_eq!(&call.dealership_id, dealership);
    }
}

#[tokio::test]
async fn an_event_outside_a_scoped_secrets_dealerships_gets_403_and_stores_nothing() {
    let (a, b) = (fresh_slug("scope-a"), fresh_slug("scope-b"));
    let outside = fresh_slug("outside");
    let app = app_with_scoped_secret(&a, &b, false).await;
    let before = app.stored_rows().await;

    let body = normalized(
        "evt_out_of_scope",
        &outside,
        "call_out_of_scope",
        &Utc::now().to_rfc3339(),
    );
    let error = assert_error(
        app.post_signed_with(&body, SCOPED_SECRET).await,
        403,
        "dealership_out_of_scope",
    )
    .await;
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(&outside), "{message}");
    assert!(message.contains("Nothing was stored"), "{message}");
    assert_eq!(
        app.stored_rows().await,
        before,
        "no events, calls, processing_errors or dealership rows"
    );

    // Known to the unscoped secret or not, the answer is the same: 403, not duplicate.
    assert_eq!(app.deliver(&body).await["status"], "accepted");
    assert_error(
        app.post_signed_with(&body, SCOPED_SECRET).await,
        403,
        "dealership_out_of_scope",
    )
    .await;
}

#[tokio::test]
async fn a_scoped_secret_cannot_store_a_retell_event_for_another_or_no_dealership() {
    let (a, b) = (fresh_slug("scope-a"), fresh_slug("scope-b"));
    let app = app_with_scoped_secret(&a, &b, false).await;
    let before = app.stored_rows().await;
    for call in [
        json!({"call_id": "call_scoped_native", "metadata": {"dealership_id": "ford-weymouth"}}),
        // Unresolved events would otherwise be stored and listed in processing_errors.
        json!({"call_id": "call_scoped_native", "agent_id": "agent_unmapped"}),
    ] {
        let body = retell("call_ended", call);
        assert_error(
            app.post_signed_with(&body, SCOPED_SECRET).await,
            403,
            "dealership_out_of_scope",
        )
        .await;
    }
    assert_eq!(app.stored_rows().await, before);
}

#[tokio::test]
async fn a_scoped_bearer_token_is_held_to_its_dealerships_too() {
    let (a, b) = (fresh_slug("scope-a"), fresh_slug("scope-b"));
    let app = app_with_scoped_secret(&a, &b, true).await;
    let bearer = |body: String| {
        let app = &app;
        async move {
            app.post_webhook_raw(
                body,
                &[
                    ("content-type", "application/json".into()),
                    ("authorization", format!("Bearer {SCOPED_SECRET}")),
                ],
            )
            .await
        }
    };
    let now = Utc::now().to_rfc3339();
    let inside = bearer(normalized("evt_bearer_in", &a, "call_bearer_in", &now)).await;
    assert_eq!(inside.status(), 200);
    let outside = bearer(normalized(
        "evt_bearer_out",
        "toyota-braintree",
        "call_bearer_out",
        &now,
    ))
    .await;
    assert_error(outside, 403, "dealership_out_of_scope").await;
    assert_eq!(app.events_count().await, 1);
}

#[tokio::test]
async fn an_unscoped_secret_still_writes_any_dealership() {
    let (a, b) = (fresh_slug("scope-a"), fresh_slug("scope-b"));
    let app = app_with_scoped_secret(&a, &b, false).await;
    assert_eq!(app.deliver(ENDED).await["status"], "accepted");
    let body = normalized(
        "evt_unscoped",
        "toyota-braintree",
        "call_unscoped",
        &Utc::now().to_rfc3339(),
    );
    assert_eq!(app.deliver(&body).await["status"], "accepted");
}

#[tokio::test]
async fn refusals_for_scope_and_time_are_counted_in_the_metrics() {
    let (a, b) = (fresh_slug("scope-a"), fresh_slug("scope-b"));
    let app = app_with_scoped_secret(&a, &b, false).await;
    let text = app.get("/metrics").await.text().await.unwrap();
    for line in [
        r#"webhook_rejections_total{reason="dealership_out_of_scope"} 0"#,
        r#"webhook_rejections_total{reason="timestamp_out_of_range"} 0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?}");
    }
    let body = normalized(
        "evt_metrics",
        "toyota-braintree",
        "call_metrics",
        &Utc::now().to_rfc3339(),
    );
    app.post_signed_with(&body, SCOPED_SECRET).await;
    let text = app.get("/metrics").await.text().await.unwrap();
    let line = r#"webhook_rejections_total{reason="dealership_out_of_scope"} 1"#;
    assert!(text.lines().any(|l| l == line), "missing {line:?}");
}

// ---- Dealerships the webhook registers ---------------------------------------

#[tokio::test]
async fn a_dealership_the_webhook_registers_is_marked_not_set_up() {
    let app = spawn_app().await;
    let slug = fresh_slug("unset");
    let body = normalized("evt_unset", &slug, "call_unset", &Utc::now().to_rfc3339());
    app.deliver(&body).await;
    let row = sqlx::query!(
        "select set_up, auto_registered from public.dealerships where id = $1",
        slug
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(row.auto_registered);
    assert!(!row.set_up, "an auto-registered dealership is not set up");
}

#[tokio::test]
async fn a_dealership_added_by_an_admin_stays_set_up_when_events_arrive() {
    let app = spawn_app().await;
    let slug = fresh_slug("admin-added");
    sqlx::query!(
        "insert into public.dealerships (id, name) values ($1, 'Admin Added Motors')",
        slug
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let body = normalized("evt_set_up", &slug, "call_set_up", &Utc::now().to_rfc3339());
    app.deliver(&body).await;
    let set_up = sqlx::query_scalar!("select set_up from public.dealerships where id = $1", slug)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(set_up);
}
