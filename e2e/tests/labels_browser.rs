//! Human labels and agreement in headless Chromium against the running stack: a CSM
//! corrects a verdict on the call page, the queue shows that the label disagrees,
//! and the manager's agreement panel (team overview) shows agreement and Cohen's κ
//! move, with the same figures as `public.label_agreement` computes in SQL.
//!
//! The test posts its own calls through the signed webhook, waits for the worker's
//! verdicts and labels them through the API first, so the panel has something to
//! move from. It compares before and after, so earlier labels of the dealership
//! (another run against the same stack) do not change what it checks.

use std::time::Duration;

use e2e::browser::Browser;
use e2e::{env, eventually, post_event, rest, rpc, sign_in};
use serde_json::{json, Value};

const DEALERSHIP: &str = "honda-quincy";

const UPSET: &str = "Agent: Thanks for calling, how can I help?\nUser: This is the third time I call, I want to talk to a manager. This is ridiculous.\nAgent: Let me transfer you.\nAgent: I'm sorry, nobody is available right now.";

const BOOKED: &str = "Agent: Thank you for calling Honda of Quincy service. How can I help you today?\nUser: Hi, I need to get an oil change on my Civic.\nAgent: I have openings Thursday at 8 AM or Thursday at 11:30 AM. Which works better?\nUser: Eight is good, I can drop it before work.\nAgent: Great. You're booked for an oil change this Thursday, December 18th at 8 AM. Would you like a text reminder?\nUser: Yes please, same number.\nAgent: Done. We'll see you Thursday at 8. Anything else?\nUser: No, that's it. Thanks!";

fn unique(tag: &str) -> String {
    format!(
        "labels_{tag}_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    )
}

/// Posts a call and waits for the worker's verdict, which it returns.
async fn judged_call(call_id: &str, transcript: &str, token: &str) -> String {
    let (status, body) = post_event(&json!({
        "event_id": format!("evt_{call_id}"),
        "dealership_id": DEALERSHIP,
        "call_id": call_id,
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "transcript": transcript,
        "customer": {"phone": "+16175550142", "name": "Label Test"}
    }))
    .await;
    assert_eq!(status, 200, "the webhook accepts {call_id}: {body}");
    let path = format!("calls?call_id=eq.{call_id}&select=verdict");
    eventually(
        &format!("the verdict on {call_id}"),
        Duration::from_secs(90),
        || {
            let path = path.clone();
            async move {
                let rows = rest(token, &path).await;
                rows.get(0)?["verdict"].as_str().map(str::to_string)
            }
        },
    )
    .await
}

/// The dealership's figures as SQL computes them, for the manager.
async fn figures(manager: &str) -> Value {
    let (status, body) = rpc(
        manager,
        "label_agreement",
        &json!({"p_dealership_id": DEALERSHIP}),
    )
    .await;
    assert_eq!(status, 200, "label_agreement answers: {body}");
    body["overall"].clone()
}

/// (labelled, agreement %, κ) as the manager's panel shows them.
async fn panel(browser: &Browser) -> (String, String, String) {
    browser
        .goto(&format!("{}/team?d={DEALERSHIP}", env("DASHBOARD_URL")))
        .await;
    browser.wait_for("#agreement-kappa").await;
    let text = |css: &'static str| async move {
        browser
            .texts(css)
            .await
            .first()
            .cloned()
            .unwrap_or_default()
    };
    (
        text("#agreement-labelled").await,
        text("#agreement-share").await,
        browser
            .attributes("#agreement-kappa", "data-kappa")
            .await
            .first()
            .cloned()
            .unwrap_or_default(),
    )
}

fn percent(share: &Value) -> String {
    format!("{:.0}%", share.as_f64().unwrap() * 100.0)
}

async fn signed_in(name: &str, email: &str) -> Browser {
    let browser = Browser::start(name).await;
    browser.goto(&env("DASHBOARD_URL")).await;
    browser.sign_in(email, &env("DEMO_PASSWORD")).await;
    browser
}

#[tokio::test]
async fn a_csm_corrects_a_verdict_in_the_browser_and_the_managers_panel_shows_agreement_and_kappa_move(
) {
    let north = sign_in("csm.north@demo.test").await;
    let manager = sign_in("manager@demo.test").await;
    let flagged = unique("flagged");
    let booked = unique("booked");
    let flagged_verdict = judged_call(&flagged, UPSET, &north).await;
    let booked_verdict = judged_call(&booked, BOOKED, &north).await;
    assert_ne!(
        flagged_verdict, "good",
        "precondition: the upset call is flagged"
    );

    // Both verdicts confirmed through the API: the panel starts from agreement.
    for (call_id, verdict) in [(&flagged, &flagged_verdict), (&booked, &booked_verdict)] {
        let flags = rest(&north, &format!("calls?call_id=eq.{call_id}&select=flags")).await[0]
            ["flags"]
            .clone();
        let (status, body) = rpc(
            &north,
            "label_call",
            &json!({"p_dealership_id": DEALERSHIP, "p_call_id": call_id, "p_verdict": verdict, "p_flags": flags}),
        )
        .await;
        assert_eq!(status, 200, "north confirms {call_id}: {body}");
    }
    let before = figures(&manager).await;

    let manager_browser = signed_in("labels-manager-before", "manager@demo.test").await;
    let shown_before = panel(&manager_browser).await;
    manager_browser.screenshot("labels-panel-before").await;
    // The judge's invented quotes (call_analyses.dropped_quotes) are shown as
    // the SQL counts them.
    let (_, all) = rpc(
        &manager,
        "label_agreement",
        &json!({"p_dealership_id": DEALERSHIP}),
    )
    .await;
    assert_eq!(
        manager_browser
            .attributes("#agreement-judge-errors", "data-dropped-quotes")
            .await,
        vec![all["judge_errors"]["dropped_quotes"].to_string()],
        "judge errors on the panel: {all}"
    );
    assert_eq!(
        shown_before,
        (
            before["labelled"].to_string(),
            percent(&before["agreement"]),
            before["kappa"]
                .as_f64()
                .map(|k| k.to_string())
                .unwrap_or_default()
        ),
        "the panel shows the figures SQL computes: {before}"
    );

    // The CSM corrects the flagged call to good on the call page.
    let csm = signed_in("labels-north", "csm.north@demo.test").await;
    csm.goto(&format!(
        "{}/calls/{DEALERSHIP}/{flagged}",
        env("DASHBOARD_URL")
    ))
    .await;
    csm.wait_for(&format!("#label-human[data-verdict='{flagged_verdict}']"))
        .await;
    csm.wait_for("#label-correct").await.click().await.unwrap();
    csm.wait_for("#label-verdict")
        .await
        .select_by_value("good")
        .await
        .unwrap();
    for checked in csm
        .client
        .find_all(fantoccini::Locator::Css("input.label-flag:checked"))
        .await
        .unwrap()
    {
        checked.click().await.unwrap();
    }
    csm.wait_for("#label-reason")
        .await
        .send_keys("The agent offered a transfer and the caller accepted a callback")
        .await
        .unwrap();
    csm.wait_for("#label-save").await.click().await.unwrap();
    csm.wait_for("#label-human[data-verdict='good']").await;
    csm.wait_for("#label-disagrees").await;
    let history = csm
        .until("the correction in the history", || async {
            csm.texts("#review-history li[data-kind='label']")
                .await
                .into_iter()
                .find(|t| t.contains("corrected the verdict to Good"))
        })
        .await;
    assert!(history.contains("Nora North"), "{history}");
    csm.screenshot("labels-call-corrected").await;

    // The queue says the label disagrees.
    csm.goto(&format!("{}/queue?d={DEALERSHIP}", env("DASHBOARD_URL")))
        .await;
    csm.wait_for(&format!(
        "tr.queue-row[data-call='{flagged}'] .label-disagrees"
    ))
    .await;
    csm.close().await;

    let after = figures(&manager).await;
    assert_eq!(
        after["labelled"], before["labelled"],
        "the same calls are labelled"
    );
    assert_eq!(
        after["agreed"].as_i64().unwrap(),
        before["agreed"].as_i64().unwrap() - 1,
        "one call fewer agrees: {before} -> {after}"
    );
    assert_ne!(
        after["kappa"], before["kappa"],
        "kappa moves: {before} -> {after}"
    );
    let shown_after = panel(&manager_browser).await;
    manager_browser.screenshot("labels-panel-after").await;
    assert_eq!(
        shown_after,
        (
            after["labelled"].to_string(),
            percent(&after["agreement"]),
            after["kappa"]
                .as_f64()
                .map(|k| k.to_string())
                .unwrap_or_default()
        ),
        "the manager's panel shows the new agreement and kappa: {after}"
    );
    assert_ne!(shown_after.1, shown_before.1, "the agreement shown moves");
    assert_ne!(shown_after.2, shown_before.2, "the kappa shown moves");
    manager_browser.close().await;
}
