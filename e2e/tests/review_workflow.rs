//! Dashboard II in headless Chromium against the running stack: a CSM resolves a
//! call from her queue (the badge drops, the history shows it) and the manager's
//! overview moves with it; a CSM gets no action on a call outside her dealerships
//! and the API refuses her; a manager reassigns an item from one CSM to the other.
//!
//! Each test posts its own calls through the signed webhook and waits for the
//! worker's verdict. The tests of this file take turns (one lock), because they
//! compare counts before and after: a call another test flags meanwhile would move
//! them. Other test binaries run before or after this one, never beside it.

use std::sync::LazyLock;
use std::time::Duration;

use e2e::browser::Browser;
use e2e::{env, eventually, post_event, rest, rpc, service, sign_in};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::Mutex;

static SERIAL: LazyLock<Mutex<()>> = LazyLock::new(|| Mutex::new(()));

const NORTH_ID: &str = "a0000000-0000-4000-8000-000000000003";
const SOUTH_ID: &str = "a0000000-0000-4000-8000-000000000004";
const MANAGER_ID: &str = "a0000000-0000-4000-8000-000000000002";

const UPSET: &str = "Agent: Thanks for calling, how can I help?\nUser: This is the third time I call, I want to talk to a manager. This is ridiculous.\nAgent: Let me transfer you.\nAgent: I'm sorry, nobody is available right now.";

fn unique(tag: &str) -> String {
    format!(
        "review_{tag}_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    )
}

/// Posts an upset call and waits until the worker flagged it (its review is open),
/// reading as `email`, who must be able to see the dealership.
async fn flagged_call(dealership: &str, call_id: &str, email: &str) {
    let (status, body) = post_event(&json!({
        "event_id": format!("evt_{call_id}"),
        "dealership_id": dealership,
        "call_id": call_id,
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "transcript": UPSET,
        "customer": {"phone": "+16175550123", "name": "Review Test"}
    }))
    .await;
    assert_eq!(status, 200, "the webhook accepts {call_id}: {body}");
    let token = sign_in(email).await;
    let path = format!("calls?call_id=eq.{call_id}&select=verdict,review_status");
    let row = eventually(
        &format!("the verdict on {call_id}"),
        Duration::from_secs(90),
        || {
            let (token, path) = (token.clone(), path.clone());
            async move {
                let rows = rest(&token, &path).await;
                let row = rows.get(0)?.clone();
                (!row["verdict"].is_null()).then_some(row)
            }
        },
    )
    .await;
    assert_ne!(row["verdict"], "good", "precondition: the call is flagged");
    assert_eq!(
        row["review_status"], "open",
        "precondition: its review is open"
    );
}

async fn signed_in(name: &str, email: &str) -> Browser {
    let browser = Browser::start(name).await;
    browser.goto(&env("DASHBOARD_URL")).await;
    browser.sign_in(email, &env("DEMO_PASSWORD")).await;
    browser
}

/// A number shown in the element `css`, once it is one.
async fn number(browser: &Browser, css: &str) -> i64 {
    browser
        .until(&format!("a number in {css}"), || async {
            browser.texts(css).await.first()?.trim().parse::<i64>().ok()
        })
        .await
}

/// (resolved in the period, unresolved now) on the manager's overview of one dealership.
async fn overview(browser: &Browser, dealership: &str) -> (i64, i64) {
    browser
        .goto(&format!("{}/team?d={dealership}", env("DASHBOARD_URL")))
        .await;
    let resolved = number(browser, "#flow-resolved").await;
    let unresolved = number(
        browser,
        &format!("tr.dealer-row[data-dealership='{dealership}'] td.unresolved"),
    )
    .await;
    (resolved, unresolved)
}

#[tokio::test]
async fn a_csm_resolves_a_call_from_the_queue_with_a_note_and_the_managers_overview_reflects_it() {
    let _turn = SERIAL.lock().await;
    let dealership = "honda-quincy";
    let call_id = unique("resolve");
    flagged_call(dealership, &call_id, "csm.north@demo.test").await;

    let manager = signed_in("review-manager-before", "manager@demo.test").await;
    let (resolved_before, unresolved_before) = overview(&manager, dealership).await;
    manager.screenshot("review-overview-before").await;
    manager.close().await;

    let north = signed_in("review-north", "csm.north@demo.test").await;
    north
        .goto(&format!("{}/queue?d={dealership}", env("DASHBOARD_URL")))
        .await;
    let badge_before = number(&north, "#queue-count").await;
    let row = format!("tr.queue-row[data-call='{call_id}']");
    north.wait_for(&row).await;
    north.screenshot("review-queue-before").await;

    // Resolving needs a note: without one it is refused on the spot, with a message.
    north
        .wait_for(&format!("{row} button.act-resolved"))
        .await
        .click()
        .await
        .unwrap();
    north
        .wait_for(&format!("{row} button.confirm"))
        .await
        .click()
        .await
        .unwrap();
    let refusal = north.wait_for("#flash .error").await.text().await.unwrap();
    assert!(refusal.contains("note"), "{refusal}");
    assert_eq!(
        north.texts(&row).await.len(),
        1,
        "a refused change leaves the item in the queue"
    );

    // The confirmation names the call as its row does (when, who), not by its id.
    let when = north.texts(&format!("{row} .call-time")).await.join("");
    assert!(!when.is_empty(), "the row shows when the call was");
    let note = "Called the customer back and booked the service.";
    north
        .wait_for(&format!("{row} textarea.notes"))
        .await
        .send_keys(note)
        .await
        .unwrap();
    north
        .wait_for(&format!("{row} button.confirm"))
        .await
        .click()
        .await
        .unwrap();
    let confirmation = north
        .until("the confirmation", || async {
            let text = north.texts("#flash .ok").await.join("");
            text.starts_with("Resolved").then_some(text)
        })
        .await;
    assert!(
        confirmation.starts_with("Resolved the call ")
            && confirmation.ends_with(&format!(" at {when}."))
            && !confirmation.contains(&call_id),
        "{confirmation}"
    );
    assert!(
        north.texts(&row).await.is_empty(),
        "the resolved call left the queue"
    );
    let badge_after = north
        .until("the badge to drop", || async {
            let n = north
                .texts("#queue-count")
                .await
                .first()?
                .trim()
                .parse::<i64>()
                .ok()?;
            (n != badge_before).then_some(n)
        })
        .await;
    assert_eq!(
        badge_after,
        badge_before - 1,
        "the queue count drops by one"
    );
    north.screenshot("review-queue-after").await;

    // The call's history shows who changed what, with the note.
    north
        .goto(&format!(
            "{}/calls/{dealership}/{call_id}",
            env("DASHBOARD_URL")
        ))
        .await;
    let entry = north
        .wait_for("#review-history li.history-item[data-to='resolved']")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        entry.contains("Nora North changed the status from Open to Resolved")
            && entry.contains(note),
        "{entry}"
    );
    let status = north.wait_for("#review-status").await;
    assert_eq!(
        status.attr("data-status").await.unwrap().as_deref(),
        Some("resolved")
    );
    assert!(
        north
            .texts("#review-history li.history-item")
            .await
            .iter()
            .any(|t| t.contains("Opened automatically")),
        "the automatic opening is in the history too"
    );
    north.screenshot("review-history").await;
    north.close().await;

    let manager = signed_in("review-manager-after", "manager@demo.test").await;
    let (resolved_after, unresolved_after) = overview(&manager, dealership).await;
    manager.screenshot("review-overview-after").await;
    assert_eq!(
        (resolved_after, unresolved_after),
        (resolved_before + 1, unresolved_before - 1),
        "throughput +1 and backlog -1 on the manager's overview"
    );
    manager.close().await;
}

#[tokio::test]
async fn a_csm_gets_no_action_on_a_call_outside_her_dealerships_and_the_api_refuses_her() {
    let _turn = SERIAL.lock().await;
    let call_id = unique("foreign");
    flagged_call("ford-weymouth", &call_id, "csm.south@demo.test").await;

    let north = signed_in("review-foreign", "csm.north@demo.test").await;
    north
        .goto(&format!(
            "{}/calls/ford-weymouth/{call_id}",
            env("DASHBOARD_URL")
        ))
        .await;
    north.wait_for(".state.error").await;
    assert!(
        north.texts("#review-actions").await.is_empty()
            && north.texts("button.act").await.is_empty(),
        "no review action is offered on a call she cannot see"
    );
    north.screenshot("review-foreign-call").await;
    north.goto(&format!("{}/queue", env("DASHBOARD_URL"))).await;
    north.wait_for("#review-list, .state.empty").await;
    assert!(
        north
            .texts(&format!("tr.queue-row[data-call='{call_id}']"))
            .await
            .is_empty(),
        "the foreign call is not in her queue"
    );
    north.close().await;

    let token = sign_in("csm.north@demo.test").await;
    let (status, body) = rpc(
        &token,
        "review_call",
        &json!({"p_dealership_id": "ford-weymouth", "p_call_id": call_id, "p_to_status": "resolved", "p_notes": "not mine"}),
    )
    .await;
    assert_eq!(status, 403, "review_call is refused: {body}");
    assert_eq!(body["code"], "42501");
    let (status, body) = rpc(
        &token,
        "assign_review",
        &json!({"p_dealership_id": "ford-weymouth", "p_call_id": call_id, "p_assignee_id": NORTH_ID}),
    )
    .await;
    assert_eq!(status, 403, "assign_review is refused: {body}");

    let south = sign_in("csm.south@demo.test").await;
    let rows = rest(
        &south,
        &format!("call_reviews?call_id=eq.{call_id}&select=status,assignee_id"),
    )
    .await;
    assert_eq!(
        rows,
        json!([{"status": "open", "assignee_id": null}]),
        "the review is untouched"
    );
}

/// Removes the test dealerships' assignments, so the demo users see only their own
/// dealerships again (also after a run that failed half-way).
async fn forget_shared_dealerships() {
    let status = service(
        Method::DELETE,
        "user_dealerships?dealership_id=like.e2e-shared-*",
        None,
    )
    .await;
    assert!(
        status < 300,
        "removing the test assignments answered {status}"
    );
}

#[tokio::test]
async fn a_manager_reassigns_an_item_from_one_csm_to_the_other() {
    let _turn = SERIAL.lock().await;
    forget_shared_dealerships().await;
    // Both CSMs must see the call for it to move between them; the demo data has no
    // such dealership, so the test makes one (registered by ingest) and assigns both.
    let dealership = format!("e2e-shared-{}", std::process::id());
    let call_id = unique("reassign");
    let (status, body) = post_event(&json!({
        "event_id": format!("evt_{call_id}"),
        "dealership_id": dealership,
        "call_id": call_id,
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "transcript": UPSET,
    }))
    .await;
    assert_eq!(status, 200, "{body}");
    for user in [NORTH_ID, SOUTH_ID] {
        let status = service(
            Method::POST,
            "user_dealerships",
            Some(&json!({"user_id": user, "dealership_id": dealership})),
        )
        .await;
        assert_eq!(status, 201, "assigning {user} to {dealership}");
    }
    let result = reassign(&dealership, &call_id).await;
    forget_shared_dealerships().await;
    result.unwrap_or_else(|e| panic!("{e}"));
}

async fn reassign(dealership: &str, call_id: &str) -> Result<(), String> {
    let north = sign_in("csm.north@demo.test").await;
    let path = format!("calls?call_id=eq.{call_id}&select=verdict,review_status");
    eventually("the verdict", Duration::from_secs(90), || {
        let (north, path) = (north.clone(), path.clone());
        async move {
            let rows = rest(&north, &path).await;
            (rows.get(0)?["review_status"] == "open").then_some(())
        }
    })
    .await;
    let (status, body) = rpc(
        &north,
        "assign_review",
        &json!({"p_dealership_id": dealership, "p_call_id": call_id, "p_assignee_id": NORTH_ID}),
    )
    .await;
    if status != 200 {
        return Err(format!("Nora claims the call: {status} {body}"));
    }

    let manager = signed_in("review-reassign", "manager@demo.test").await;
    manager
        .goto(&format!(
            "{}/team/unresolved?d={dealership}",
            env("DASHBOARD_URL")
        ))
        .await;
    let row = format!("tr.queue-row[data-call='{call_id}']");
    let assignee = manager
        .wait_for(&row)
        .await
        .attr("data-assignee")
        .await
        .unwrap();
    if assignee.as_deref() != Some(NORTH_ID) {
        return Err(format!("the row shows Nora as assignee: {assignee:?}"));
    }
    manager.screenshot("reassign-before").await;
    let when = manager.texts(&format!("{row} .call-time")).await.join("");
    manager
        .wait_for(&format!("{row} select.assign-select"))
        .await
        .select_by_value(SOUTH_ID)
        .await
        .unwrap();
    let confirmation = manager
        .until("the confirmation", || async {
            let text = manager.texts("#flash .ok").await.join("");
            text.starts_with("Assigned").then_some(text)
        })
        .await;
    manager.screenshot("reassign-after").await;
    manager.close().await;
    if !(confirmation.starts_with("Assigned the call ")
        && confirmation.ends_with(&format!(" at {when} to Sam South."))
        && !confirmation.contains(call_id))
    {
        return Err(format!("confirmation: {confirmation}"));
    }

    let token = sign_in("manager@demo.test").await;
    let review = rest(
        &token,
        &format!("call_reviews?call_id=eq.{call_id}&select=assignee_id"),
    )
    .await;
    if review != json!([{"assignee_id": SOUTH_ID}]) {
        return Err(format!("the review is Sam's now: {review}"));
    }
    let history: Value = rest(
        &token,
        &format!("review_history?call_id=eq.{call_id}&assignee_changed=is.true&select=actor_id,from_assignee,to_assignee&order=id"),
    )
    .await;
    let expected = json!([
        {"actor_id": NORTH_ID, "from_assignee": null, "to_assignee": NORTH_ID},
        {"actor_id": MANAGER_ID, "from_assignee": NORTH_ID, "to_assignee": SOUTH_ID}
    ]);
    if history != expected {
        return Err(format!(
            "the history has the claim and the reassignment: {history}"
        ));
    }
    Ok(())
}
