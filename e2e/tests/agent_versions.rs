//! Agent versions end to end (issue 16 "Agents"): four calls of one Retell agent,
//! two of version 1 (a booked appointment) and two of version 2 (the transfer
//! failed, which Retell's signal makes bad), are posted through the real webhook
//! as native `call_analyzed` events. The stored calls carry their version, the
//! health page's panel compares the two versions in a sentence built from what
//! `rpc/agent_version_comparison` answers, its row opens the call list filtered by
//! agent and version, and the list's Version box filters the same way.

use std::time::Duration;

use e2e::browser::Browser;
use e2e::{env, eventually, post_event, rest, rpc, sign_in};
use serde_json::{json, Value};

const DEALERSHIP: &str = "honda-quincy";

const BOOKED: &str = "Agent: Honda of Quincy service, how can I help?\nUser: I need an oil change on Thursday.\nAgent: You are booked for Thursday at 9:30 AM. See you then!\nUser: Great, thanks.";
const TRANSFER: &str = "Agent: Honda of Quincy service, how can I help?\nUser: I want to talk to someone about my lease.\nAgent: Let me transfer you to our finance team.";

async fn post_analyzed(call_id: &str, agent_id: &str, version: u32, disconnection: &str) {
    let now = chrono::Utc::now().timestamp_millis();
    let transcript = if disconnection == "transfer_failed" {
        TRANSFER
    } else {
        BOOKED
    };
    let (status, body) = post_event(&json!({
        "event": "call_analyzed",
        "call": {
            "call_id": call_id,
            "agent_id": agent_id,
            "agent_version": version,
            "metadata": {"dealership_id": DEALERSHIP},
            "direction": "inbound",
            "from_number": "+16175550177",
            "start_timestamp": now - 90_000,
            "end_timestamp": now - 30_000,
            "disconnection_reason": disconnection,
            "transcript": transcript,
            "call_analysis": {"user_sentiment": "Neutral", "call_successful": true, "in_voicemail": false}
        }
    }))
    .await;
    assert_eq!(status, 200, "the webhook accepts {call_id}: {body}");
}

/// The call ids of the list's rows.
async fn listed(browser: &Browser) -> Vec<String> {
    let mut rows = browser.attributes("tr.call-row", "data-call").await;
    rows.sort();
    rows
}

/// `31%`, as the dashboard writes a share.
fn percent(share: &Value) -> String {
    format!("{:.0}%", share.as_f64().unwrap_or_default() * 100.0)
}

#[tokio::test]
async fn the_health_page_compares_two_agent_versions_and_links_to_the_filtered_list() {
    let run = format!(
        "{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    );
    let agent = format!("agent_e2e_versions_{run}");
    let v1: Vec<String> = (0..2).map(|i| format!("versions_{run}_v1_{i}")).collect();
    let v2: Vec<String> = (0..2).map(|i| format!("versions_{run}_v2_{i}")).collect();
    for call in &v1 {
        post_analyzed(call, &agent, 1, "user_hangup").await;
    }
    for call in &v2 {
        post_analyzed(call, &agent, 2, "transfer_failed").await;
    }
    let north = sign_in("csm.north@demo.test").await;
    let stored = rest(
        &north,
        &format!("calls?agent_id=eq.{agent}&select=call_id,agent_version&order=call_id"),
    )
    .await;
    let versions: Vec<(String, i64)> = stored
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["call_id"].as_str().unwrap_or_default().to_string(),
                r["agent_version"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let mut expected: Vec<(String, i64)> = v1
        .iter()
        .map(|c| (c.clone(), 1))
        .chain(v2.iter().map(|c| (c.clone(), 2)))
        .collect();
    expected.sort();
    assert_eq!(versions, expected, "each call stores its version");

    // Once every call is judged, the comparison is what the panel must say.
    let rows: Vec<Value> = eventually("all four calls judged", Duration::from_secs(90), || {
        let (north, agent) = (north.clone(), agent.clone());
        async move {
            let (status, body) = rpc(
                &north,
                "agent_version_comparison",
                &json!({"p_dealership_id": DEALERSHIP, "p_hours": 168}),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            let mine: Vec<Value> = body
                .as_array()?
                .iter()
                .filter(|r| r["agent_id"] == agent.as_str())
                .cloned()
                .collect();
            (mine.len() == 2 && mine.iter().all(|r| r["analyzed"] == 2)).then_some(mine)
        }
    })
    .await;
    assert_eq!(
        rows[0]["agent_version"], 2,
        "newest version first: {rows:?}"
    );
    assert_eq!(
        (rows[0]["bad"].clone(), rows[0]["handoff_failed"].clone()),
        (json!(2), json!(2)),
        "Retell's transfer_failed makes version 2's calls bad, failed handoffs: {rows:?}"
    );
    let sentence = format!(
        "Version 2 of {agent}: {} bad vs {} for version 1 (n=2 vs 2 analyzed calls).",
        percent(&rows[0]["bad_share"]),
        percent(&rows[1]["bad_share"])
    );

    let browser = Browser::start("agent-versions").await;
    browser.goto(&env("DASHBOARD_URL")).await;
    browser
        .sign_in("csm.north@demo.test", &env("DEMO_PASSWORD"))
        .await;
    browser
        .goto(&format!("{}/?d={DEALERSHIP}", env("DASHBOARD_URL")))
        .await;
    let item = format!("li.version-sentence[data-agent=\"{agent}\"]");
    browser
        .until("the panel's sentence for the agent", || async {
            (browser.texts(&item).await == vec![sentence.clone()]).then_some(())
        })
        .await;
    let period = browser.texts("#agent-versions-period").await;
    assert_eq!(
        period,
        vec!["Last 7 days · times in America/New_York".to_string()],
        "the period and the dealership's zone are named"
    );
    browser.screenshot("health-agent-versions").await;

    // Version 1's row opens the list of version 1's calls.
    browser
        .wait_for(&format!(
            "tr.version-row[data-agent=\"{agent}\"][data-version=\"1\"] a.version-link"
        ))
        .await
        .click()
        .await
        .unwrap();
    let mut want_v1 = v1.clone();
    want_v1.sort();
    browser
        .until("only version 1's calls", || async {
            (listed(&browser).await == want_v1).then_some(())
        })
        .await;
    let url = browser.client.current_url().await.unwrap();
    let query = url.query().unwrap_or_default().to_string();
    assert!(
        query.contains(&format!("agent={agent}")) && query.contains("av=1"),
        "{url}"
    );

    // The Version box beside Agent: version 2 instead.
    let version_box = browser.wait_for("#agent-version").await;
    version_box.clear().await.unwrap();
    version_box.send_keys("2").await.unwrap();
    browser
        .wait_for("#agent-apply")
        .await
        .click()
        .await
        .unwrap();
    let mut want_v2 = v2.clone();
    want_v2.sort();
    browser
        .until("only version 2's calls", || async {
            let url = browser.client.current_url().await.ok()?;
            (url.query().unwrap_or_default().contains("av=2") && listed(&browser).await == want_v2)
                .then_some(())
        })
        .await;
    browser.screenshot("calls-agent-version").await;
    browser.close().await;
}
