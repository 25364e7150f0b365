//! The dashboard's CSV exports against the running stack, as PostgREST renders them
//! with `Accept: text/csv`, with the filters and columns the dashboard sends:
//! `calls_export` (migration 20261120000700): a CSM gets her own call with the phone
//! masked, local time and joined text; another CSM and anon get nothing. And both
//! exports (`calls_export`, `review_queue_export`, migration 20261202000700) quote a
//! call id or note that a spreadsheet would run as a formula.

use std::time::Duration;

use e2e::{env, eventually, post_event, rest, rpc, sign_in};
use serde_json::json;

/// The dashboard's export columns (`CSV_COLUMNS` in dashboard/src/state/call_list.rs).
const SELECT: &str = "dealership:dealership_name,local_time,timezone,call_id,customer_phone:customer_phone_masked,duration_sec,verdict,score,reasons:reasons_text,flags:flags_text,review_status,analysis_model";

/// The unresolved list's export columns (`UNRESOLVED_CSV_COLUMNS` in dashboard/src/state/team_view.rs).
const UNRESOLVED_SELECT: &str = "dealership_id,dealership_name,call_id,status,verdict,score,flags,assignee_name,flagged_at,age_hours,age_bucket,notes,flagged_local_time,timezone";

async fn csv(token: Option<&str>, query: &str) -> (u16, String) {
    csv_of("calls_export", token, query).await
}

async fn csv_of(view: &str, token: Option<&str>, query: &str) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .get(format!("{}/rest/v1/{view}?{query}", env("SUPABASE_URL")))
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

#[tokio::test]
async fn a_call_id_and_a_note_that_look_like_formulas_are_exported_as_text() {
    let pid = std::process::id();
    // `=` is %3D in the query string of the raw tables' filters.
    let call_id = format!("=csv_formula_{pid}");
    let call_filter = format!("call_id=eq.%3Dcsv_formula_{pid}");
    let word = format!("csvformula{pid}");
    let (status, body) = post_event(&json!({
        "event_id": format!("evt_csv_formula_{pid}"),
        "dealership_id": "toyota-braintree",
        "call_id": call_id,
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "transcript": format!("Agent: Thanks for calling.\nUser: A question about {word}: can I book an oil change?"),
    }))
    .await;
    assert_eq!(status, 200, "the webhook accepts {call_id}: {body}");
    let north = sign_in("csm.north@demo.test").await;
    eventually("the worker's verdict", Duration::from_secs(90), || {
        let (north, path) = (north.clone(), format!("calls?{call_filter}&select=verdict"));
        async move {
            let rows = rest(&north, &path).await;
            (!rows.get(0)?["verdict"].is_null()).then_some(())
        }
    })
    .await;

    // The call list's export: the id gets a quote in front, the other cells do not.
    let (status, text) = csv(
        Some(&north),
        &format!("dealership_id=eq.toyota-braintree&transcript_search=wfts(english).{word}&select={SELECT}"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let row = text
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("one row: {text}"));
    let cells: Vec<&str> = row.split(',').map(|c| c.trim_matches('"')).collect();
    assert_eq!(
        (cells[0], cells[2], cells[3]),
        (
            "Toyota of Braintree",
            "America/New_York",
            format!("'{call_id}").as_str()
        ),
        "{row}"
    );

    // A note that is a live link in Excel.
    let note = format!("=HYPERLINK(\"http://evil.example/?{pid}\",\"click me\")");
    let (status, body) = rpc(
        &north,
        "review_call",
        &json!({"p_dealership_id": "toyota-braintree", "p_call_id": call_id, "p_to_status": "reviewed", "p_notes": note}),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The unresolved list's export, as the team overview asks for it.
    let (status, text) = csv_of(
        "review_queue_export",
        Some(&north),
        &format!("dealership_id=eq.toyota-braintree&select={UNRESOLVED_SELECT}&order=flagged_at.asc,dealership_id.asc,call_id.asc&limit=10000"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(text.lines().next(), Some(UNRESOLVED_SELECT), "{text}");
    let row = text
        .lines()
        .find(|l| l.contains(&format!("csv_formula_{pid}")))
        .unwrap_or_else(|| panic!("the call is unresolved: {text}"));
    assert!(
        row.starts_with(&format!(
            "toyota-braintree,\"Toyota of Braintree\",'{call_id},reviewed,"
        )),
        "the id is quoted: {row}"
    );
    assert!(
        row.contains(&format!(
            ",\"'=HYPERLINK(\"\"http://evil.example/?{pid}\"\",\"\"click me\"\")\","
        )),
        "the note is quoted (PostgREST doubles the quotes inside): {row}"
    );
    // Then when it was flagged, in the dealership's own zone, and that zone.
    assert!(
        row.ends_with(",America/New_York"),
        "the local time's zone ends the row: {row}"
    );

    // On screen (JSON) the note stays exactly as written.
    let rows = rest(&north, &format!("review_queue?{call_filter}&select=notes")).await;
    assert_eq!(rows[0]["notes"], note.as_str());

    // Out of the shared queue again.
    let (status, body) = rpc(
        &north,
        "review_call",
        &json!({"p_dealership_id": "toyota-braintree", "p_call_id": call_id, "p_to_status": "resolved", "p_notes": "e2e clean-up"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
