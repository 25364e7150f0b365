//! Sign-out must end the session for every page of the app, including one the
//! browser restores with the Back button from its back/forward cache (which keeps the
//! page's memory, so the old session with it). Regression test for a bug where the
//! restored queue still showed the previous user's rows and a Release succeeded.

use std::time::Duration;

use e2e::browser::Browser;
use e2e::{env, eventually, post_event, rest, sign_in};
use serde_json::{json, Value};

const SOUTH: &str = "ford-weymouth";
const UPSET: &str = "Agent: Thanks for calling, how can I help?\nUser: This is the third time I call, I want to talk to a manager. This is ridiculous.\nAgent: Let me transfer you.\nAgent: I'm sorry, nobody is available right now.";

/// Posts an upset call for the south dealership and waits until it is in the south
/// CSM's queue, unassigned, so the queue has a row with a Claim button.
async fn flagged_call(name: &str) -> String {
    let call_id = format!("signout_{}_{name}", std::process::id());
    let (status, body) = post_event(&json!({
        "event_id": format!("evt_{call_id}"),
        "dealership_id": SOUTH,
        "call_id": call_id,
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "transcript": UPSET,
        "customer": {"phone": "+16175550123", "name": "Sign-out Test"}
    }))
    .await;
    assert_eq!(status, 200, "the webhook accepts {call_id}: {body}");
    let south = sign_in("csm.south@demo.test").await;
    eventually(
        "the upset call in the south CSM's queue",
        Duration::from_secs(90),
        || {
            let (south, call_id) = (south.clone(), call_id.clone());
            async move {
                let rows = rest(
                    &south,
                    &format!("review_queue?call_id=eq.{call_id}&select=call_id,assignee_id"),
                )
                .await;
                rows.as_array().filter(|r| r.len() == 1).map(|_| ())
            }
        },
    )
    .await;
    call_id
}

async fn signed_in_as_south(name: &str) -> Browser {
    let browser = Browser::start(name).await;
    browser.goto(&env("DASHBOARD_URL")).await;
    browser
        .sign_in("csm.south@demo.test", &env("DEMO_PASSWORD"))
        .await;
    browser
}

/// The stored session's refresh token (what the dashboard keeps in localStorage).
async fn stored_refresh_token(browser: &Browser) -> String {
    let stored = browser
        .client
        .execute("return localStorage.getItem('dcm.session');", vec![])
        .await
        .unwrap();
    let session: Value = serde_json::from_str(stored.as_str().expect("a stored session"))
        .expect("the stored session is JSON");
    session["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string()
}

/// What Supabase Auth answers to a refresh with `token`.
async fn refresh_status(token: &str) -> u16 {
    reqwest::Client::new()
        .post(format!(
            "{}/auth/v1/token?grant_type=refresh_token",
            env("SUPABASE_URL")
        ))
        .header("apikey", env("SUPABASE_ANON_KEY"))
        .json(&json!({ "refresh_token": token }))
        .send()
        .await
        .expect("the auth endpoint answers")
        .status()
        .as_u16()
}

async fn assignee_of(call_id: &str) -> Value {
    let south = sign_in("csm.south@demo.test").await;
    let rows = rest(
        &south,
        &format!("review_queue?call_id=eq.{call_id}&select=assignee_id"),
    )
    .await;
    rows[0]["assignee_id"].clone()
}

#[tokio::test]
async fn after_signing_out_the_back_button_shows_the_login_screen_not_the_old_session() {
    let call_id = flagged_call("back").await;
    let browser = signed_in_as_south("signout-back").await;
    let base = env("DASHBOARD_URL");
    // Full page loads, as in the QA walk: Back then returns to another document,
    // which the browser may restore from its back/forward cache.
    browser.goto(&format!("{base}/queue")).await;
    browser
        .wait_for(&format!("tr.queue-row[data-call='{call_id}']"))
        .await;
    browser.goto(&format!("{base}/calls")).await;
    browser.wait_for("#call-list, .state").await;
    let refresh_token = stored_refresh_token(&browser).await;

    browser.wait_for("#sign-out").await.click().await.unwrap();
    browser.wait_for("#login-form").await;
    browser.client.back().await.unwrap();
    browser.wait_for("#login-form").await;
    browser.screenshot("signout-back").await;
    assert!(
        browser.texts("tr.queue-row").await.is_empty(),
        "no queue rows of the signed-out user after Back"
    );
    assert!(
        browser.texts("#sign-out").await.is_empty(),
        "no signed-in header after Back"
    );
    // The sign-out also revoked the session on the server.
    let status = eventually(
        "the refresh token to be revoked",
        Duration::from_secs(10),
        || {
            let token = refresh_token.clone();
            async move {
                let status = refresh_status(&token).await;
                (status != 200).then_some(status)
            }
        },
    )
    .await;
    assert!(
        (400..500).contains(&status),
        "a refresh with the signed-out token is refused: {status}"
    );
    assert_eq!(
        assignee_of(&call_id).await,
        Value::Null,
        "nothing was changed"
    );
    browser.close().await;
}

#[tokio::test]
async fn a_page_whose_stored_session_is_gone_refuses_an_action_and_shows_the_login_screen() {
    let call_id = flagged_call("guard").await;
    let browser = signed_in_as_south("signout-guard").await;
    browser
        .goto(&format!("{}/queue", env("DASHBOARD_URL")))
        .await;
    let claim = format!("tr.queue-row[data-call='{call_id}'] button.act-claim");
    browser.wait_for(&claim).await;
    // What a sign-out in another tab (or before a bfcache restore) leaves behind: the
    // page still holds the session in memory, but localStorage no longer has it. The
    // same tab gets no `storage` event for its own change, so only the guard on every
    // request stands between the click and the database.
    browser
        .client
        .execute("localStorage.removeItem('dcm.session');", vec![])
        .await
        .unwrap();
    browser.wait_for(&claim).await.click().await.unwrap();
    browser.wait_for("#login-form").await;
    let notice = browser
        .wait_for("#session-notice")
        .await
        .text()
        .await
        .unwrap();
    assert!(notice.contains("signed out"), "{notice}");
    browser.screenshot("signout-guard").await;
    assert_eq!(
        assignee_of(&call_id).await,
        Value::Null,
        "the claim was refused: the call is still unassigned"
    );
    browser.close().await;
}
