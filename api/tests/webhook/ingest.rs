//! The happy paths: what an accepted event stores, idempotency (also under
//! concurrency), byte-exact raw bodies, dealership registration and resolution,
//! NUL characters, and repeated `transcript_updated` events.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use api::signature::sign;

use crate::helpers::*;

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A unique dealership slug, so tests never depend on (or collide with) seed data.
fn fresh_slug(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

#[tokio::test]
async fn a_normalized_event_is_stored_with_its_call_and_answered_accepted() {
    let app = spawn_app().await;
    let answer = app.deliver(NORMALIZED_GOOD).await;
    assert_eq!(
        answer,
        json!({"status": "accepted", "event_id": "evt_0001"})
    );

    let event = sqlx::query!(
        r#"select event_type, source, dealership_id, call_id, occurred_at, raw_payload,
                  transcript, customer_phone, customer_name, metadata
           from public.events where event_id = 'evt_0001'"#
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let payload: Value = serde_json::from_str(NORMALIZED_GOOD).unwrap();
    assert_eq!(event.event_type, "call_completed");
    assert_eq!(event.source, "normalized");
    assert_eq!(event.dealership_id.as_deref(), Some("toyota-braintree"));
    assert_eq!(event.call_id, "call_0001");
    assert_eq!(event.occurred_at.to_rfc3339(), "2025-12-17T14:32:00+00:00");
    assert_eq!(event.raw_payload, payload);
    assert_eq!(event.transcript.as_deref(), payload["transcript"].as_str());
    assert_eq!(event.customer_phone.as_deref(), Some("+15551234567"));
    assert_eq!(event.customer_name.as_deref(), Some("Dana Whitfield"));
    assert_eq!(event.metadata, Some(payload["metadata"].clone()));

    let call = app.call("call_0001").await.expect("call row");
    let transcript = payload["transcript"].as_str().unwrap();
    assert_eq!(call.dealership_id, "toyota-braintree");
    assert_eq!(call.transcript.as_deref(), Some(transcript));
    assert_eq!(
        call.transcript_sha256.as_deref(),
        Some(sha256_hex(transcript.as_bytes()).as_str())
    );
    assert_eq!(call.duration_sec, Some(142));
    assert_eq!(call.customer_name.as_deref(), Some("Dana Whitfield"));
    assert_eq!(call.first_event_at, event.occurred_at);
    assert_eq!(call.last_event_rank, 3);

    let dealership_exists = sqlx::query_scalar!(
        r#"select exists(select 1 from public.dealerships where id = 'toyota-braintree') as "e!""#
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(dealership_exists);
    assert_eq!(app.jobs_for("call_0001").await.len(), 1);
}

#[tokio::test]
async fn a_redelivered_event_id_answers_duplicate_and_changes_nothing() {
    let app = spawn_app().await;
    app.deliver(NORMALIZED_GOOD).await;
    let call_before = app.call("call_0001").await;
    let updated_before =
        sqlx::query_scalar!("select updated_at from public.calls where call_id = 'call_0001'")
            .fetch_one(&app.pool)
            .await
            .unwrap();

    assert_eq!(
        app.deliver(NORMALIZED_GOOD).await,
        json!({"status": "duplicate", "event_id": "evt_0001"})
    );
    // Same event_id with different content: still a duplicate, still no change.
    let altered = NORMALIZED_GOOD
        .replace("Dana Whitfield", "Someone Else")
        .replace("2025-12-17T14:32:00Z", "2025-12-18T00:00:00Z");
    assert_eq!(app.deliver(&altered).await["status"], "duplicate");

    assert_eq!(app.events_count().await, 1);
    assert_eq!(app.call("call_0001").await, call_before);
    let updated_after =
        sqlx::query_scalar!("select updated_at from public.calls where call_id = 'call_0001'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(updated_after, updated_before);
    assert_eq!(app.jobs_for("call_0001").await.len(), 1);
}

#[tokio::test]
async fn the_raw_body_is_stored_byte_exact() {
    let app = spawn_app().await;
    // Escapes, odd spacing, duplicate-free but unusual key order, a BOM-less
    // UTF-8 accent written both raw and escaped, and a trailing newline.
    let body = "{ \"timestamp\":\"2025-12-17T14:32:00.123456+05:30\" ,\n\"call_id\":\"call_raw\",\"event_id\":\"evt_raw\",\"dealership_id\":\"toyota-braintree\",\"transcript\":\"Agent: caf\\u00e9 / café\\tok\",\"extra\":[1.0,2e3,{\"nested\":null}]}\n";
    app.deliver(body).await;
    let row = sqlx::query!(
        "select raw_body, raw_payload, transcript from public.events where event_id = 'evt_raw'"
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(row.raw_body, body.as_bytes());
    assert_eq!(row.transcript.as_deref(), Some("Agent: café / café\tok"));
    assert_eq!(row.raw_payload["extra"][2], json!({"nested": null}));
}

#[tokio::test]
async fn a_native_event_gets_the_derived_idempotency_key() {
    let app = spawn_app().await;
    let answer = app.deliver(ENDED).await;
    let expected = format!(
        "retell:call_ended:{FIXTURE_CALL_ID}:{}",
        &sha256_hex(ENDED.as_bytes())[..16]
    );
    assert_eq!(answer, json!({"status": "accepted", "event_id": expected}));
    assert_eq!(app.deliver(ENDED).await["status"], "duplicate");
    let source = sqlx::query_scalar!(
        "select source from public.events where event_id = $1",
        expected
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(source, "retell");
}

#[tokio::test]
async fn an_unknown_dealership_is_registered_automatically() {
    let app = spawn_app().await;
    let slug = fresh_slug("new-dealer");
    let body = json!({
        "event_id": "evt_new_dealer", "dealership_id": slug, "call_id": "call_nd",
        "timestamp": "2025-12-17T14:32:00Z"
    });
    app.deliver(body.to_string()).await;
    let row = sqlx::query!(
        "select name, auto_registered from public.dealerships where id = $1",
        slug
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(row.name, slug);
    assert!(row.auto_registered);
}

#[tokio::test]
async fn a_known_dealership_is_left_as_it_is() {
    let app = spawn_app().await;
    let slug = fresh_slug("known");
    sqlx::query!(
        "insert into public.dealerships (id, name, timezone) values ($1, 'Known Motors', 'America/Chicago')",
        slug
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let body = json!({
        "event_id": "evt_known", "dealership_id": slug, "call_id": "call_known",
        "timestamp": "2025-12-17T14:32:00Z"
    });
    app.deliver(body.to_string()).await;
    let row = sqlx::query!(
        "select name, timezone, auto_registered from public.dealerships where id = $1",
        slug
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (
            row.name.as_str(),
            row.timezone.as_str(),
            row.auto_registered
        ),
        ("Known Motors", "America/Chicago", false)
    );
}

#[tokio::test]
async fn an_unresolvable_dealership_is_stored_and_reported_not_rejected() {
    let app = spawn_app().await;
    let body = r#"{"event":"call_ended","call":{"call_id":"call_orphan","agent_id":"agent_unmapped","call_status":"ended","transcript":"Agent: Hello?"}}"#;
    let answer = app.deliver(body).await;
    assert_eq!(answer["status"], "accepted");
    assert!(answer["warning"]
        .as_str()
        .unwrap()
        .starts_with("dealership_unresolved"));
    let event_id = answer["event_id"].as_str().unwrap();

    let event = sqlx::query!(
        "select dealership_id, agent_id from public.events where event_id = $1",
        event_id
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(event.dealership_id, None);
    assert_eq!(event.agent_id.as_deref(), Some("agent_unmapped"));

    let error = sqlx::query!(
        "select stage, call_id, dealership_id, error, detail from public.processing_errors where event_id = $1",
        event_id
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(error.stage, "ingest");
    assert_eq!(error.call_id.as_deref(), Some("call_orphan"));
    assert_eq!(error.dealership_id, None);
    assert_eq!(error.error, "dealership_unresolved");
    assert_eq!(error.detail["agent_id"], "agent_unmapped");

    assert_eq!(app.call("call_orphan").await, None);
    assert!(app.jobs_for("call_orphan").await.is_empty());

    // A redelivery is a duplicate and adds no second error row.
    assert_eq!(app.deliver(body).await["status"], "duplicate");
    let errors = sqlx::query_scalar!(
        r#"select count(*) as "n!" from public.processing_errors where call_id = 'call_orphan'"#
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(errors, 1);
}

#[tokio::test]
async fn the_agent_mapping_resolves_native_events_without_a_dealership() {
    let app = spawn_app_with(Options {
        agent_dealerships: Some("agent_mapped=mapped-dealer, agent_other=other-dealer"),
        ..Options::default()
    })
    .await;
    let body = r#"{"event":"call_ended","call":{"call_id":"call_mapped","agent_id":"agent_mapped","transcript":"Agent: Hi"}}"#;
    let answer = app.deliver(body).await;
    assert_eq!(answer.get("warning"), None);
    let call = app.call("call_mapped").await.expect("call row");
    assert_eq!(call.dealership_id, "mapped-dealer");
    assert_eq!(app.jobs_for("call_mapped").await.len(), 1);
}

#[tokio::test]
async fn nul_characters_in_the_body_do_not_cause_a_5xx() {
    let app = spawn_app().await;
    let body = r#"{"event_id":"evt_nul\u0000","dealership_id":"toyota-braintree","call_id":"call_nul","timestamp":"2025-12-17T14:32:00Z","transcript":"Agent: hi\u0000there","customer":{"name":"A\u0000B"},"metadata":{"key\u0000":"v\u0000"}}"#;
    let answer = app.deliver(body).await;
    assert_eq!(answer["status"], "accepted");
    assert_eq!(answer["event_id"], "evt_nul\u{FFFD}");

    let row = sqlx::query!(
        "select raw_body, raw_payload, transcript, customer_name from public.events where call_id = 'call_nul'"
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(row.raw_body, body.as_bytes(), "raw bytes keep the escapes");
    assert_eq!(row.transcript.as_deref(), Some("Agent: hi\u{FFFD}there"));
    assert_eq!(row.customer_name.as_deref(), Some("A\u{FFFD}B"));
    assert_eq!(row.raw_payload["metadata"]["key\u{FFFD}"], "v\u{FFFD}");

    let native = r#"{"event":"call_ended","call":{"call_id":"call_nul_native","metadata":{"dealership_id":"ford-weymouth"},"transcript":"\u0000","transcript_object":[{"role":"agent\u0000","content":"\u0000"}]}}"#;
    assert_eq!(app.deliver(native).await["status"], "accepted");
}

#[tokio::test]
async fn transcript_updated_repeats_stay_separate_events_for_one_call() {
    let app = spawn_app().await;
    let update = |transcript: &str| {
        json!({"event": "transcript_updated", "call": {
            "call_id": "call_live", "agent_id": "agent_5e1f0c", "call_status": "ongoing",
            "metadata": {"dealership_id": "ford-weymouth"},
            "start_timestamp": 1765983120000_i64, "transcript": transcript
        }})
        .to_string()
    };
    let bodies = [
        update("Agent: Ford of Weymouth."),
        update("Agent: Ford of Weymouth.\nUser: Hi"),
        update("Agent: Ford of Weymouth.\nUser: Hi, about my recall"),
    ];
    let mut ids = Vec::new();
    for body in &bodies {
        let answer = app.deliver(body).await;
        assert_eq!(answer["status"], "accepted");
        ids.push(answer["event_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(app.deliver(&bodies[1]).await["status"], "duplicate");

    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "each update has its own event_id");
    let stored = sqlx::query_scalar!(
        r#"select count(*) as "n!" from public.events
           where call_id = 'call_live' and event_type = 'transcript_updated'"#
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, 3);
    let calls = sqlx::query_scalar!(
        r#"select count(*) as "n!" from public.calls where call_id = 'call_live'"#
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(calls, 1);
    let call = app.call("call_live").await.unwrap();
    assert_eq!(call.call_status.as_deref(), Some("ongoing"));
    assert!(call.transcript.unwrap().ends_with("about my recall"));
    assert!(
        app.jobs_for("call_live").await.is_empty(),
        "mid-call updates are not judged"
    );
}

#[tokio::test]
async fn fifty_concurrent_identical_deliveries_store_one_row() {
    let app = spawn_app().await;
    // One signature for all: these are byte-identical retries racing each other.
    let body = ENDED.replace(FIXTURE_CALL_ID, "call_race").into_bytes();
    let signature = sign(&body, now_ms(), SECRET);
    let url = app.url("/webhooks/retell");

    let mut requests = JoinSet::new();
    for _ in 0..50 {
        let (client, url, body, signature) = (
            app.client.clone(),
            url.clone(),
            body.clone(),
            signature.clone(),
        );
        requests.spawn(async move {
            let response = client
                .post(url)
                .header("content-type", "application/json")
                .header("x-retell-signature", signature)
                .body(body)
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), 200);
            let answer: Value = response.json().await.expect("JSON answer");
            answer["status"].as_str().unwrap().to_owned()
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = requests.join_next().await {
        statuses.push(status.expect("request task"));
    }
    let accepted = statuses.iter().filter(|s| *s == "accepted").count();
    let duplicates = statuses.iter().filter(|s| *s == "duplicate").count();
    assert_eq!((accepted, duplicates), (1, 49));
    assert_eq!(app.events_count().await, 1);
    assert_eq!(app.jobs_for("call_race").await.len(), 1);
}
