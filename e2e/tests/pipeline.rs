//! One event from POST to the dashboard's data: the webhook commits it, the worker
//! judges it, and PostgREST shows it only to the users RLS allows.

use e2e::{eventually, post_event, rest, sign_in};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn an_event_posted_to_the_webhook_is_judged_and_visible_only_to_its_dealerships_users() {
    let call_id = format!(
        "e2e_pipeline_{}",
        chrono::Utc::now().timestamp_nanos_opt().unwrap()
    );
    let (status, body) = post_event(&json!({
        "event_id": format!("evt_{call_id}"),
        "dealership_id": "toyota-braintree",
        "call_id": call_id,
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "transcript": "Agent: Toyota of Braintree service, how can I help?\nUser: This is the third time I call, I want to talk to a manager. This is ridiculous.\nAgent: Let me transfer you.\nAgent: I'm sorry, nobody is available right now.",
        "customer": {"phone": "+16175550101", "name": "E2E Caller"}
    }))
    .await;
    assert_eq!(status, 200, "the webhook accepts the event: {body}");
    assert_eq!(body["status"], "accepted");

    let north = sign_in("csm.north@demo.test").await;
    let path = format!("calls?call_id=eq.{call_id}&select=call_id,verdict,flags,review_status");
    let row = eventually("the worker's verdict", Duration::from_secs(60), || {
        let (north, path) = (north.clone(), path.clone());
        async move {
            let rows = rest(&north, &path).await;
            let row = rows.get(0)?.clone();
            (!row["verdict"].is_null()).then_some(row)
        }
    })
    .await;
    assert_ne!(
        row["verdict"], "good",
        "an upset caller with a failed transfer is not a good call: {row}"
    );

    let south = sign_in("csm.south@demo.test").await;
    assert_eq!(
        rest(&south, &path).await,
        json!([]),
        "a CSM of other dealerships sees nothing of it"
    );
    let analyses = rest(
        &north,
        &format!("call_analyses?call_id=eq.{call_id}&select=status,model"),
    )
    .await;
    assert_eq!(
        analyses[0]["status"], "ok",
        "the analysis attempt is readable by the dealership's CSM"
    );
}
