//! The re-analysis limits (migration 20261202000600) through PostgREST, as the
//! dashboard's Re-analyze button calls them: once the worker has re-analyzed a call,
//! asking again within the cooldown is answered 429 (SQLSTATE PT429) with a message
//! and hint the dashboard shows and the exact time in `details`, never a 5xx; and in
//! headless Chromium, the call detail shows that refusal next to the button.

use std::time::Duration;

use e2e::browser::Browser;
use e2e::{env, eventually, post_event, rest, rpc, sign_in};
use serde_json::json;

/// Posts a call to honda-quincy (Nora North's) and waits for the worker's verdict.
async fn judged_call(call_id: &str, north: &str) {
    let (status, body) = post_event(&json!({
        "event_id": format!("evt_{call_id}"),
        "dealership_id": "honda-quincy",
        "call_id": call_id,
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "transcript": "Agent: Honda of Quincy, how can I help?\nUser: I need an oil change Thursday.\nAgent: You are booked for Thursday at 9:30 AM.",
    }))
    .await;
    assert_eq!(status, 200, "the webhook accepts {call_id}: {body}");
    eventually("the worker's verdict", Duration::from_secs(90), || {
        let (north, path) = (
            north.to_string(),
            format!("calls?call_id=eq.{call_id}&select=verdict"),
        );
        async move {
            let rows = rest(&north, &path).await;
            (!rows.get(0)?["verdict"].is_null()).then_some(())
        }
    })
    .await;
}

#[tokio::test]
async fn a_second_reanalysis_within_the_cooldown_is_a_429_that_says_when_to_try_again() {
    let call_id = format!("limits_{}", std::process::id());
    let north = sign_in("csm.north@demo.test").await;
    judged_call(&call_id, &north).await;

    let args = json!({"p_dealership_id": "honda-quincy", "p_call_id": call_id});
    let (status, job) = rpc(&north, "request_reanalysis", &args).await;
    assert_eq!(status, 200, "the first request queues a job: {job}");
    let job_id = job.as_i64().unwrap_or_else(|| panic!("a job id: {job}"));
    eventually(
        "the worker to finish the re-analysis",
        Duration::from_secs(90),
        || {
            let (north, path) = (
                north.clone(),
                format!("analysis_jobs?id=eq.{job_id}&select=status"),
            );
            async move {
                let rows = rest(&north, &path).await;
                matches!(rows.get(0)?["status"].as_str(), Some("done" | "failed")).then_some(())
            }
        },
    )
    .await;

    let asked = chrono::Utc::now();
    let (status, body) = rpc(&north, "request_reanalysis", &args).await;
    assert_eq!(status, 429, "a second request within 10 minutes: {body}");
    assert_eq!(body["code"], "PT429", "{body}");
    assert_eq!(
        body["message"],
        format!("call {call_id} was re-analyzed less than 10 minutes ago").as_str()
    );
    let hint = body["hint"].as_str().unwrap_or_default();
    assert!(
        hint.starts_with("Try again in ") && hint.ends_with(" min."),
        "{body}"
    );
    let retry = body["details"]
        .as_str()
        .and_then(|d| d.strip_prefix("retry_after="))
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .unwrap_or_else(|| panic!("details carry retry_after=<UTC time>: {body}"));
    let wait = retry.signed_duration_since(asked);
    assert!(
        wait > chrono::Duration::minutes(8) && wait <= chrono::Duration::seconds(602),
        "10 minutes after the first request (rounded up to the second): {wait} ({body})"
    );
}

#[tokio::test]
async fn the_call_detail_explains_a_refused_reanalysis_next_to_the_button() {
    let call_id = format!("limits_ui_{}", std::process::id());
    let north = sign_in("csm.north@demo.test").await;
    judged_call(&call_id, &north).await;

    let browser = Browser::start("reanalysis-limit").await;
    browser.goto(&env("DASHBOARD_URL")).await;
    browser
        .sign_in("csm.north@demo.test", &env("DEMO_PASSWORD"))
        .await;
    let url = format!("{}/calls/honda-quincy/{call_id}", env("DASHBOARD_URL"));
    browser.goto(&url).await;
    browser.wait_for("#reanalyze").await.click().await.unwrap();
    browser
        .until("the request to be accepted", || async {
            let text = browser.texts("#reanalysis-result").await.join("");
            text.contains("Re-analysis requested").then_some(())
        })
        .await;
    eventually(
        "the worker's second analysis",
        Duration::from_secs(90),
        || {
            let (north, path) = (
                north.clone(),
                format!("call_analyses?call_id=eq.{call_id}&select=id"),
            );
            async move { (rest(&north, &path).await.as_array()?.len() >= 2).then_some(()) }
        },
    )
    .await;

    // A fresh page, so the first request's reload cannot replace what follows.
    browser.goto(&url).await;
    browser.wait_for("#reanalyze").await.click().await.unwrap();
    let shown = browser
        .until("the refusal next to the button", || async {
            let text = browser.texts("#reanalysis-result.error").await.join("");
            text.contains("Try again in").then_some(text)
        })
        .await;
    browser.screenshot("reanalysis-limit").await;
    assert!(
        shown.starts_with(&format!(
            "call {call_id} was re-analyzed less than 10 minutes ago. Try again in "
        )),
        "{shown}"
    );
    browser.close().await;
}
