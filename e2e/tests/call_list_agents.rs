//! The call list's agent and sentiment filters in headless Chromium (issue 16
//! "Agents"): two calls of two Retell agents with different `user_sentiment`s
//! are posted as Retell's native `call_analyzed` events; the Agent box and the
//! Sentiment chips narrow the list to the matching call, and the filters are in
//! the URL (a reload keeps them).

use std::time::Duration;

use e2e::browser::Browser;
use e2e::{env, eventually, post_event, rest, sign_in};
use serde_json::json;

const DEALERSHIP: &str = "honda-quincy";

const BOOKED: &str = "Agent: Honda of Quincy service, how can I help?\nUser: I need an oil change on Thursday.\nAgent: You are booked for Thursday at 9:30 AM. See you then!\nUser: Great, thanks.";

async fn post_analyzed(call_id: &str, agent_id: &str, sentiment: &str) {
    let now = chrono::Utc::now().timestamp_millis();
    let (status, body) = post_event(&json!({
        "event": "call_analyzed",
        "call": {
            "call_id": call_id,
            "agent_id": agent_id,
            "metadata": {"dealership_id": DEALERSHIP},
            "direction": "inbound",
            "from_number": "+16175550166",
            "start_timestamp": now - 90_000,
            "end_timestamp": now - 30_000,
            "transcript": BOOKED,
            "call_analysis": {"user_sentiment": sentiment, "call_successful": true, "in_voicemail": false}
        }
    }))
    .await;
    assert_eq!(status, 200, "the webhook accepts {call_id}: {body}");
}

/// The call ids of the list's rows.
async fn listed(browser: &Browser) -> Vec<String> {
    browser.attributes("tr.call-row", "data-call").await
}

#[tokio::test]
async fn the_agent_box_and_sentiment_chips_narrow_the_call_list_and_stay_in_the_url() {
    let run = format!(
        "{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    );
    let (agent_a, agent_b) = (format!("agent_e2e_a_{run}"), format!("agent_e2e_b_{run}"));
    let (call_a, call_b) = (format!("agents_{run}_a"), format!("agents_{run}_b"));
    post_analyzed(&call_a, &agent_a, "Negative").await;
    post_analyzed(&call_b, &agent_b, "Positive").await;
    let north = sign_in("csm.north@demo.test").await;
    eventually("both calls stored", Duration::from_secs(60), || {
        let (north, a, b) = (north.clone(), call_a.clone(), call_b.clone());
        async move {
            let rows = rest(
                &north,
                &format!("calls?call_id=in.({a},{b})&select=call_id,user_sentiment"),
            )
            .await;
            (rows.as_array()?.len() == 2).then_some(())
        }
    })
    .await;

    let browser = Browser::start("agents").await;
    browser.goto(&env("DASHBOARD_URL")).await;
    browser
        .sign_in("csm.north@demo.test", &env("DEMO_PASSWORD"))
        .await;
    browser
        .goto(&format!("{}/calls?d={DEALERSHIP}", env("DASHBOARD_URL")))
        .await;
    browser
        .until("both calls in the unfiltered list", || async {
            let rows = listed(&browser).await;
            (rows.contains(&call_a) && rows.contains(&call_b)).then_some(())
        })
        .await;

    browser
        .wait_for("#agent")
        .await
        .send_keys(&agent_a)
        .await
        .unwrap();
    browser
        .wait_for("#agent-apply")
        .await
        .click()
        .await
        .unwrap();
    browser
        .until("only agent A's call", || async {
            (listed(&browser).await == vec![call_a.clone()]).then_some(())
        })
        .await;
    let url = browser.client.current_url().await.unwrap();
    assert!(
        url.query()
            .unwrap_or_default()
            .contains(&format!("agent={agent_a}")),
        "{url}"
    );

    // Agent A's call was Negative: asking for Positive as well as the agent leaves nothing.
    browser
        .wait_for("#sentiment-positive")
        .await
        .click()
        .await
        .unwrap();
    browser
        .until("no call: agent A had no positive call", || async {
            let url = browser.client.current_url().await.ok()?;
            (url.query()
                .unwrap_or_default()
                .contains("sentiment=Positive")
                && listed(&browser).await.is_empty())
            .then_some(())
        })
        .await;

    // Sentiment alone: B's positive call, not A's negative one; a reload keeps it.
    browser
        .goto(&format!(
            "{}/calls?d={DEALERSHIP}&sentiment=Positive",
            env("DASHBOARD_URL")
        ))
        .await;
    browser
        .until("B's positive call without A's", || async {
            let rows = listed(&browser).await;
            (rows.contains(&call_b) && !rows.contains(&call_a)).then_some(())
        })
        .await;
    browser.client.refresh().await.unwrap();
    browser.wait_for("#sentiment-positive.active").await;
    browser
        .until("the reloaded list still filtered", || async {
            let rows = listed(&browser).await;
            (rows.contains(&call_b) && !rows.contains(&call_a)).then_some(())
        })
        .await;
    browser.screenshot("calls-agent-sentiment").await;
    browser.close().await;
}
