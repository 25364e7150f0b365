//! Monotonic call state: events in any order, late and repeated events, never
//! move a call backwards.

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use crate::helpers::*;

const START_MS: i64 = 1765983120000;
const END_MS: i64 = 1765983301000;

fn ms(t: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(t).unwrap()
}

#[tokio::test]
async fn native_events_in_every_order_give_the_same_final_call_state() {
    let app = spawn_app().await;
    let orders: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let ended: Value = serde_json::from_str(ENDED).unwrap();
    let analyzed: Value = serde_json::from_str(ANALYZED).unwrap();

    let mut final_states = Vec::new();
    for (i, order) in orders.iter().enumerate() {
        let call_id = format!("call_perm_{i}");
        let bodies = [STARTED, ENDED, ANALYZED].map(|b| b.replace(FIXTURE_CALL_ID, &call_id));
        for &k in order {
            assert_eq!(app.deliver(&bodies[k]).await["status"], "accepted");
        }
        // A late redelivery of the first event changes nothing.
        assert_eq!(app.deliver(&bodies[order[0]]).await["status"], "duplicate");

        let call = app.call(&call_id).await.expect("call row");
        let context = format!("order {order:?}");
        assert_eq!(call.dealership_id, "ford-weymouth", "{context}");
        assert_eq!(call.call_status.as_deref(), Some("ended"), "{context}");
        assert_eq!(call.direction.as_deref(), Some("inbound"), "{context}");
        assert_eq!(call.started_at, Some(ms(START_MS)), "{context}");
        assert_eq!(call.ended_at, Some(ms(END_MS)), "{context}");
        assert_eq!(call.duration_sec, Some(181), "{context}");
        assert_eq!(
            call.transcript.as_deref(),
            ended["call"]["transcript"].as_str(),
            "{context}"
        );
        assert_eq!(
            call.transcript_turns
                .as_ref()
                .and_then(|t| t.as_array())
                .map(Vec::len),
            Some(8),
            "{context}"
        );
        assert_eq!(
            call.retell_analysis.as_ref(),
            Some(&analyzed["call"]["call_analysis"]),
            "{context}"
        );
        assert_eq!(
            call.customer_phone.as_deref(),
            Some("+15085550199"),
            "{context}"
        );
        assert_eq!(call.agent_id.as_deref(), Some("agent_5e1f0c"), "{context}");
        assert_eq!(
            call.disconnection_reason.as_deref(),
            Some("user_hangup"),
            "{context}"
        );
        assert_eq!(
            call.metadata,
            Some(json!({"dealership_id": "ford-weymouth"})),
            "{context}"
        );
        assert_eq!(call.first_event_at, ms(START_MS), "{context}");
        assert_eq!(call.last_event_at, ms(END_MS), "{context}");
        assert_eq!(call.last_event_rank, 4, "{context}");
        // Exactly one analysis, whichever event brought the transcript first.
        assert_eq!(app.jobs_for(&call_id).await.len(), 1, "{context}");

        final_states.push(CallRow {
            call_id: String::new(),
            ..call
        });
    }
    assert!(
        final_states.windows(2).all(|w| w[0] == w[1]),
        "final states differ: {final_states:#?}"
    );
}

#[tokio::test]
async fn a_late_transcript_update_does_not_overwrite_the_final_state() {
    let app = spawn_app().await;
    app.deliver(ENDED).await;
    let before = app.call(FIXTURE_CALL_ID).await.unwrap();

    // Arrives after call_ended, is stamped with its (later) receive time, and
    // carries a partial transcript and a mid-call status.
    let late = json!({"event": "transcript_updated", "call": {
        "call_id": FIXTURE_CALL_ID, "call_status": "ongoing",
        "metadata": {"dealership_id": "ford-weymouth"},
        "transcript": "Agent: Ford of Weymouth, this is the virtual assistant."
    }});
    app.deliver(late.to_string()).await;

    let after = app.call(FIXTURE_CALL_ID).await.unwrap();
    assert_eq!(after, before);
}

#[tokio::test]
async fn call_started_after_call_ended_does_not_reopen_the_call() {
    let app = spawn_app().await;
    app.deliver(ENDED).await;
    app.deliver(STARTED).await;
    let call = app.call(FIXTURE_CALL_ID).await.unwrap();
    assert_eq!(call.call_status.as_deref(), Some("ended"));
    assert_eq!(call.last_event_rank, 3);
    assert_eq!(call.last_event_at, ms(END_MS));
}

#[tokio::test]
async fn an_older_event_only_fills_fields_that_are_still_empty() {
    let app = spawn_app().await;
    let event = |id: &str, ts: &str, extra: Value| {
        let mut body = json!({
            "event_id": id, "dealership_id": "toyota-braintree", "call_id": "call_fill", "timestamp": ts
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body.to_string()
    };
    app.deliver(event(
        "evt_newer",
        "2025-12-17T15:00:00Z",
        json!({"transcript": "Agent: newer"}),
    ))
    .await;
    app.deliver(event(
        "evt_older",
        "2025-12-17T14:00:00Z",
        json!({"transcript": "Agent: older", "customer": {"name": "Filled In"}}),
    ))
    .await;

    let call = app.call("call_fill").await.unwrap();
    assert_eq!(call.transcript.as_deref(), Some("Agent: newer"));
    assert_eq!(call.customer_name.as_deref(), Some("Filled In"));
    assert_eq!(call.last_event_at.to_rfc3339(), "2025-12-17T15:00:00+00:00");
    assert_eq!(
        call.first_event_at.to_rfc3339(),
        "2025-12-17T14:00:00+00:00"
    );

    // A newer event without a transcript never blanks the stored one.
    app.deliver(event(
        "evt_newest",
        "2025-12-17T16:00:00Z",
        json!({"customer": {"phone": "+15550000000"}}),
    ))
    .await;
    let call = app.call("call_fill").await.unwrap();
    assert_eq!(call.transcript.as_deref(), Some("Agent: newer"));
    assert_eq!(call.customer_phone.as_deref(), Some("+15550000000"));
    assert_eq!(call.last_event_at.to_rfc3339(), "2025-12-17T16:00:00+00:00");
}
