//! The call list's CSV export against the running stack: `calls_export` (migration
//! 20261120000700) as PostgREST renders it with `Accept: text/csv`, with the filters
//! and columns the dashboard sends. A CSM gets her own call with the phone masked,
//! local time and joined text; another CSM and anon get nothing.

use std::time::Duration;

use e2e::{env, eventually, post_event, rest, sign_in};
use serde_json::json;

/// The dashboard's export columns (`CSV_COLUMNS` in dashboard/src/urlstate.rs).
const SELECT: &str = "dealership:dealership_name,local_time,timezone,call_id,customer_phone:customer_phone_masked,duration_sec,verdict,score,reasons:reasons_text,flags:flags_text,review_status,analysis_model";

async fn csv(token: Option<&str>, query: &str) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .get(format!(
            "{}/rest/v1/calls_export?{query}",
            env("SUPABASE_URL")
        ))
        .header("apikey", env("SUPABASE_ANON_KEY"))
        .header("accept", "text/csv");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("PostgREST answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn the_csv_export_gives_a_csm_her_call_in_human_columns_and_nobody_else_sees_it() {
    let call_id = format!("csv_{}", std::process::id());
    let (status, body) = post_event(&json!({
        "event_id": format!("evt_{call_id}"),
        "dealership_id": "toyota-braintree",
        "call_id": call_id,
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "transcript": "Agent: Thanks for calling.\nUser: I want a manager, this is ridiculous, nobody called me back about my brakes.",
        "customer": {"phone": "+1 (617) 555-0123", "name": "Csv Test"}
    }))
    .await;
    assert_eq!(status, 200, "the webhook accepts {call_id}: {body}");
    let north = sign_in("csm.north@demo.test").await;
    eventually("the worker's verdict", Duration::from_secs(90), || {
        let (north, call_id) = (north.clone(), call_id.clone());
        async move {
            let rows = rest(
                &north,
                &format!("calls?call_id=eq.{call_id}&select=verdict"),
            )
            .await;
            (!rows[0]["verdict"].is_null()).then_some(())
        }
    })
    .await;

    // The list's filters, as the dashboard sends them, work on the view.
    let query = format!(
        "call_id=eq.{call_id}&dealership_id=eq.toyota-braintree&transcript_search=wfts(english).brakes&select={SELECT}"
    );
    let (status, text) = csv(Some(&north), &query).await;
    assert_eq!(status, 200, "{text}");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("dealership,local_time,timezone,call_id,customer_phone,duration_sec,verdict,score,reasons,flags,review_status,analysis_model")
    );
    let row = lines.next().unwrap_or_else(|| panic!("one row: {text}"));
    assert!(lines.next().is_none(), "exactly one row: {text}");
    // PostgREST quotes values with spaces; the columns read here contain no comma.
    let cells: Vec<&str> = row.split(',').map(|c| c.trim_matches('"')).collect();
    assert_eq!(
        (cells[0], cells[2], cells[3], cells[4]),
        (
            "Toyota of Braintree",
            "America/New_York",
            call_id.as_str(),
            "***0123"
        ),
        "{row}"
    );
    // YYYY-MM-DD HH24:MI in the dealership's zone, not Postgres' timestamptz text.
    assert!(
        chrono::NaiveDateTime::parse_from_str(cells[1], "%Y-%m-%d %H:%M").is_ok(),
        "{row}"
    );
    assert!(row.contains(",***0123,"), "only the last 4 digits: {row}");
    assert!(
        !text.contains("5550123") && !text.contains("555-0123"),
        "never the full number: {text}"
    );
    assert!(!row.contains('{'), "no Postgres array text: {row}");

    let south = sign_in("csm.south@demo.test").await;
    let (status, text) = csv(
        Some(&south),
        &format!("call_id=eq.{call_id}&select={SELECT}"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        text.lines().count(),
        1,
        "another CSM gets the header only: {text}"
    );

    let (status, text) = csv(None, &format!("call_id=eq.{call_id}&select={SELECT}")).await;
    assert_ne!(status, 200, "anon is refused: {text}");
}
