//! The dashboard in headless Chromium against the running stack: sign-in and tenant
//! isolation as the north CSM, the verdict filter, a call's detail page, and
//! sign-out. Calls are created through the signed webhook and judged by the worker.

use std::time::Duration;

use e2e::browser::Browser;
use e2e::{env, eventually, post_event, rest, sign_in};
use serde_json::{json, Value};

const NORTH: [&str; 2] = ["toyota-braintree", "honda-quincy"];
const SOUTH: [&str; 2] = ["ford-weymouth", "nissan-plymouth"];

const UPSET: &str = "Agent: Thanks for calling, how can I help?\nUser: This is the third time I call, I want to talk to a manager. This is ridiculous.\nAgent: Let me transfer you.\nAgent: I'm sorry, nobody is available right now.";
const BOOKED: &str = "Agent: Honda of Quincy service, how can I help?\nUser: I need an oil change on Thursday.\nAgent: You are booked for Thursday at 9:30 AM. See you then!\nUser: Great, thanks.";

/// The calls every test uses, one id per test process (each test posts them; repeats
/// are answered as duplicates), judged before the browser opens.
struct Calls {
    north_upset: String,
    north_booked: String,
    south: Vec<String>,
}

async fn post(dealership: &str, call_id: &str, transcript: &str) {
    let (status, body) = post_event(&json!({
        "event_id": format!("evt_{call_id}"),
        "dealership_id": dealership,
        "call_id": call_id,
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "transcript": transcript,
        "customer": {"phone": "+16175550123", "name": "Browser Test"}
    }))
    .await;
    assert_eq!(status, 200, "the webhook accepts {call_id}: {body}");
}

async fn verdicts(token: &str, ids: &[&str]) -> Option<Vec<Value>> {
    let rows = rest(
        token,
        &format!(
            "calls?call_id=in.({})&select=call_id,verdict",
            ids.join(",")
        ),
    )
    .await;
    let rows = rows.as_array()?.clone();
    (rows.len() == ids.len() && rows.iter().all(|r| !r["verdict"].is_null())).then_some(rows)
}

async fn ensure_calls() -> Calls {
    let run = std::process::id();
    let calls = Calls {
        north_upset: format!("browser_{run}_north_upset"),
        north_booked: format!("browser_{run}_north_booked"),
        south: SOUTH.iter().map(|d| format!("browser_{run}_{d}")).collect(),
    };
    post(NORTH[0], &calls.north_upset, UPSET).await;
    post(NORTH[1], &calls.north_booked, BOOKED).await;
    for (d, id) in SOUTH.iter().zip(&calls.south) {
        post(d, id, BOOKED).await;
    }
    let north = sign_in("csm.north@demo.test").await;
    let ids = [calls.north_upset.as_str(), calls.north_booked.as_str()];
    let rows = eventually(
        "the worker's verdicts on the north calls",
        Duration::from_secs(90),
        || {
            let north = north.clone();
            async move { verdicts(&north, &ids).await }
        },
    )
    .await;
    let upset = rows
        .iter()
        .find(|r| r["call_id"] == calls.north_upset.as_str())
        .unwrap();
    assert_ne!(
        upset["verdict"], "good",
        "precondition: the upset call is not judged good: {rows:?}"
    );
    let south = sign_in("csm.south@demo.test").await;
    let south_ids: Vec<&str> = calls.south.iter().map(String::as_str).collect();
    eventually("the south calls", Duration::from_secs(90), || {
        let (south, ids) = (south.clone(), south_ids.clone());
        async move { verdicts(&south, &ids).await }
    })
    .await;
    calls
}

async fn signed_in_as_north(name: &str) -> Browser {
    signed_in_as(name, "csm.north@demo.test").await
}

/// A desktop browser signed in as the demo user `email`.
async fn signed_in_as(name: &str, email: &str) -> Browser {
    let browser = Browser::start(name).await;
    browser.goto(&env("DASHBOARD_URL")).await;
    browser.sign_in(email, &env("DEMO_PASSWORD")).await;
    browser
}

/// Rows of the call list as (dealership, call id, verdict).
async fn rows(browser: &Browser) -> Vec<(String, String, String)> {
    let dealers = browser.attributes("tr.call-row", "data-dealership").await;
    let calls = browser.attributes("tr.call-row", "data-call").await;
    let verdicts = browser.attributes("tr.call-row", "data-verdict").await;
    dealers
        .into_iter()
        .zip(calls)
        .zip(verdicts)
        .map(|((d, c), v)| (d, c, v))
        .collect()
}

async fn open_calls_until_visible(browser: &Browser, call_id: &str) {
    browser
        .goto(&format!("{}/calls", env("DASHBOARD_URL")))
        .await;
    browser
        .until(&format!("call {call_id} in the list"), || async {
            rows(browser)
                .await
                .iter()
                .any(|(_, c, _)| c == call_id)
                .then_some(())
        })
        .await;
}

#[tokio::test]
async fn a_north_csm_signs_in_and_sees_braintree_and_quincy_but_never_weymouth_or_plymouth() {
    let calls = ensure_calls().await;
    let browser = signed_in_as_north("isolation").await;

    let name = browser.wait_for("#user-name").await.text().await.unwrap();
    assert_eq!(name, "Nora North", "the header shows the user's name");
    let role = browser.wait_for("#user-role").await.text().await.unwrap();
    assert_eq!(role, "CSM", "the header shows the role");
    let header = browser
        .until("the header's dealerships", || async {
            let text = browser.texts("#user-dealerships").await.join("");
            (!text.is_empty()).then_some(text)
        })
        .await;
    assert!(
        header.contains("Toyota of Braintree") && header.contains("Honda of Quincy"),
        "{header}"
    );
    assert!(
        !header.contains("Weymouth") && !header.contains("Plymouth"),
        "{header}"
    );
    let options = browser
        .attributes("#dealership-select option", "value")
        .await;
    assert_eq!(
        options,
        vec!["all", "honda-quincy", "toyota-braintree"],
        "the selector lists only visible dealerships"
    );

    browser.wait_for(".panel.health .headline").await;
    browser.screenshot("isolation-health").await;

    open_calls_until_visible(&browser, &calls.north_booked).await;
    let listed = rows(&browser).await;
    assert!(
        listed.iter().any(|(_, c, _)| *c == calls.north_upset),
        "both north calls are listed: {listed:?}"
    );
    for (dealership, call, _) in &listed {
        assert!(
            NORTH.contains(&dealership.as_str()),
            "{call} of {dealership} is not a north dealership's"
        );
        assert!(
            !calls.south.contains(call),
            "a south call leaked into the list: {call}"
        );
    }
    let phones = browser.texts("tr.call-row td.phone").await;
    assert!(
        phones.iter().all(|p| !p.contains("555")),
        "phones are masked except the last 4 digits: {phones:?}"
    );
    browser.screenshot("isolation-calls").await;

    // Asking for a south dealership by URL shows nothing: RLS, not the UI, decides.
    browser
        .goto(&format!("{}/calls?d=ford-weymouth", env("DASHBOARD_URL")))
        .await;
    let refusal = browser.wait_for("#no-access").await.text().await.unwrap();
    assert!(
        refusal.contains("You don't have access to this dealership"),
        "{refusal}"
    );
    assert!(
        rows(&browser).await.is_empty(),
        "no south rows even when asked for by URL"
    );
    browser.close().await;
}

#[tokio::test]
async fn a_verdict_filter_changes_the_list_and_is_kept_in_the_url() {
    let calls = ensure_calls().await;
    let browser = signed_in_as_north("filter").await;
    open_calls_until_visible(&browser, &calls.north_upset).await;
    browser.screenshot("filter-before").await;

    browser
        .wait_for("#verdict-good")
        .await
        .click()
        .await
        .unwrap();
    let filtered = browser
        .until("the list without the upset call", || async {
            let url = browser.client.current_url().await.ok()?;
            let listed = rows(&browser).await;
            (url.as_str().contains("verdict=good")
                && !listed.iter().any(|(_, c, _)| *c == calls.north_upset))
            .then_some(listed)
        })
        .await;
    assert!(
        filtered.iter().all(|(_, _, v)| v == "good"),
        "only good calls remain: {filtered:?}"
    );
    browser.screenshot("filter-good").await;

    // The filter survives a reload, since it lives in the URL.
    browser.client.refresh().await.unwrap();
    browser.wait_for("#verdict-good.active").await;
    browser.close().await;
}

#[tokio::test]
async fn a_custom_day_for_one_dealership_is_that_dealerships_local_day() {
    let calls = ensure_calls().await;
    let north = sign_in("csm.north@demo.test").await;
    // The upset call's day in Boston, as the database computes it.
    let local = rest(
        &north,
        &format!(
            "calls_export?call_id=eq.{}&select=local_time",
            calls.north_upset
        ),
    )
    .await;
    let day = local[0]["local_time"].as_str().expect("a local time")[..10].to_string();
    // Every Braintree call of that local day, first page in the list's order.
    let expected: Vec<String> = rest(
        &north,
        &format!(
            "calls_export?dealership_id=eq.{}&local_time=like.{day}*&select=call_id&order=first_event_at.desc,dealership_id.asc,call_id.asc&limit=50",
            NORTH[0]
        ),
    )
    .await
    .as_array()
    .unwrap()
    .iter()
    .map(|r| r["call_id"].as_str().unwrap().to_string())
    .collect();
    assert!(expected.contains(&calls.north_upset), "{expected:?}");

    let browser = signed_in_as_north("local-day").await;
    browser
        .goto(&format!(
            "{}/calls?d={}&range=custom&from={day}&to={day}",
            env("DASHBOARD_URL"),
            NORTH[0]
        ))
        .await;
    let listed = browser
        .until("the local day's calls", || async {
            let ids: Vec<String> = rows(&browser)
                .await
                .into_iter()
                .map(|(_, c, _)| c)
                .collect();
            (!ids.is_empty()).then_some(ids)
        })
        .await;
    browser.screenshot("local-day").await;
    assert_eq!(
        listed, expected,
        "the list shows exactly the calls of {day} in Boston"
    );
    browser.wait_for("#range-custom.active").await;
    let zone = browser.texts("#range-zone").await;
    assert_eq!(zone, vec!["Days in America/New_York".to_string()]);
    browser.close().await;
}

#[tokio::test]
async fn opening_a_call_shows_the_transcript_the_analysis_json_and_the_disabled_chat_button() {
    let calls = ensure_calls().await;
    let browser = signed_in_as_north("detail").await;
    open_calls_until_visible(&browser, &calls.north_upset).await;

    let row = browser
        .wait_for(&format!("tr.call-row[data-call='{}']", calls.north_upset))
        .await;
    row.click().await.unwrap();

    let transcript = browser
        .until("the transcript", || async {
            let text = browser.texts("#transcript").await.join("");
            text.contains("talk to a manager").then_some(text)
        })
        .await;
    assert!(transcript.contains("nobody is available"), "{transcript}");
    // The exact stored JSON is in the collapsible raw view, under the human summary.
    let facts = browser
        .wait_for("#analysis-facts")
        .await
        .text()
        .await
        .unwrap();
    assert!(facts.contains("Verdict"), "{facts}");
    browser
        .wait_for("#analysis details.raw summary")
        .await
        .click()
        .await
        .unwrap();
    let analysis = browser
        .wait_for("#analysis-json")
        .await
        .text()
        .await
        .unwrap();
    let parsed: Value = serde_json::from_str(&analysis).expect("the analysis is shown as JSON");
    assert!(
        parsed["verdict"].is_string() && parsed["flags"].is_array(),
        "{analysis}"
    );
    let chat = browser.wait_for("#chat-send").await;
    assert_eq!(
        chat.text().await.unwrap(),
        "Send message to customer (future)"
    );
    assert!(
        !chat.is_enabled().await.unwrap(),
        "the chat button is disabled"
    );
    browser.screenshot("detail").await;
    browser.close().await;
}

#[tokio::test]
async fn the_session_survives_a_reload_and_signing_out_returns_to_login() {
    let browser = signed_in_as_north("signout").await;
    browser.client.refresh().await.unwrap();
    browser.wait_for("#sign-out").await;

    browser.wait_for("#sign-out").await.click().await.unwrap();
    browser.wait_for("#login-form").await;
    browser.screenshot("signed-out").await;
    browser.client.refresh().await.unwrap();
    browser.wait_for("#login-form").await;
    assert!(
        browser.texts("#sign-out").await.is_empty(),
        "still signed out after a reload"
    );
    browser.close().await;
}

#[tokio::test]
async fn an_admin_sees_a_dealership_the_webhook_registered_marked_not_set_up() {
    // An unknown slug: the webhook registers it, and nobody has set it up yet.
    let slug = format!("e2e-unset-{}", std::process::id());
    let (status, body) = post_event(&json!({
        "event_id": format!("evt_{slug}"),
        "dealership_id": slug,
        "call_id": format!("call_{slug}"),
        "timestamp": chrono::Utc::now().to_rfc3339(),
    }))
    .await;
    assert_eq!(status, 200, "the webhook accepts the event: {body}");

    let browser = signed_in_as("not-set-up", "admin@demo.test").await;
    let option = format!("#dealership-select option[value='{slug}']");
    let label = browser
        .until("the registered dealership in the selector", || async {
            browser.texts(&option).await.into_iter().next()
        })
        .await;
    assert_eq!(label, format!("{slug} (not set up)"));
    assert_eq!(
        browser.attributes(&option, "data-set-up").await,
        vec!["false"]
    );
    let set_up = browser
        .texts("#dealership-select option[value='toyota-braintree']")
        .await;
    assert_eq!(
        set_up,
        vec!["Toyota of Braintree"],
        "a set-up dealership has no marker"
    );
    browser.screenshot("not-set-up-selector").await;
    browser.close().await;
}

/// The review status of one call, as the database has it.
async fn review_status(token: &str, call_id: &str) -> Value {
    rest(
        token,
        &format!("call_reviews?call_id=eq.{call_id}&select=status"),
    )
    .await[0]["status"]
        .clone()
}

#[tokio::test]
async fn typing_a_note_in_the_queue_types_text_and_fires_no_shortcut() {
    let calls = ensure_calls().await;
    let token = sign_in("csm.north@demo.test").await;
    assert_eq!(
        review_status(&token, &calls.north_upset).await,
        "open",
        "precondition: the flagged call's review is open"
    );
    let browser = signed_in_as_north("note-keys").await;
    browser
        .goto(&format!("{}/queue", env("DASHBOARD_URL")))
        .await;
    let row = format!("tr.queue-row[data-call='{}']", calls.north_upset);
    // Selecting the row by a click on its status cell also focuses the list.
    browser
        .wait_for(&format!("{row} td.status"))
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for(&format!("{row}.selected")).await;
    let scroll_before = browser.eval("return window.scrollY").await;

    // `e` opens the escalation note, and the note has the focus.
    browser.type_keys("e").await;
    browser.wait_for(&format!("{row} textarea.notes")).await;
    let focused = browser
        .until("the note box to have the focus", || async {
            let id = browser.eval("return document.activeElement.id").await;
            (id == "notes-input").then_some(id)
        })
        .await;
    assert_eq!(focused, "notes-input");
    // "no answer" has `r` (reviewed), `e` (escalate), `o` (re-open) and a space.
    browser.type_keys("no answer").await;
    let typed = browser
        .eval("return document.getElementById('notes-input').value")
        .await;
    assert_eq!(typed, "no answer", "the keys went into the note");
    assert_eq!(
        browser.attributes(&row, "data-status").await,
        vec!["open"],
        "no shortcut changed the row"
    );
    assert_eq!(
        browser.eval("return window.scrollY").await,
        scroll_before,
        "the space did not scroll the page"
    );
    // Escape closes the box without saving.
    browser.type_keys("\u{e00c}").await;
    browser
        .until("the note box to close", || async {
            browser
                .texts(&format!("{row} textarea.notes"))
                .await
                .is_empty()
                .then_some(())
        })
        .await;
    // Give a wrongly fired change time to reach the database before looking.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        review_status(&token, &calls.north_upset).await,
        "open",
        "nothing was saved"
    );
    browser.screenshot("note-keys").await;
    browser.close().await;
}

/// Fails with the screen's name when the page is wider than the phone.
async fn assert_fits_the_phone(browser: &Browser, screen: &str) {
    let width = browser.eval("return window.innerWidth").await;
    assert_eq!(width, 390, "precondition: a 390 px viewport ({screen})");
    let scroll_width = browser
        .eval("return document.documentElement.scrollWidth")
        .await
        .as_f64()
        .unwrap();
    browser.screenshot(&format!("phone-{screen}")).await;
    assert!(
        scroll_width <= 390.0,
        "{screen}: the page is {scroll_width} px wide at 390 px"
    );
}

/// Whether the element's box lies within the viewport's width.
async fn within_width(browser: &Browser, css: &str) -> bool {
    let script = format!(
        "const r = document.querySelector({css:?}).getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth && r.width > 0;"
    );
    browser.eval(&script).await == Value::Bool(true)
}

#[tokio::test]
async fn every_screen_fits_a_390_px_phone_with_stacked_panels_and_card_rows() {
    let calls = ensure_calls().await;
    let browser = Browser::start_phone("phone").await;
    browser.goto(&env("DASHBOARD_URL")).await;
    browser.wait_for("#login-form").await;
    assert_fits_the_phone(&browser, "login").await;
    browser
        .sign_in("csm.north@demo.test", &env("DEMO_PASSWORD"))
        .await;

    browser.wait_for("section.panel.health .headline").await;
    assert_fits_the_phone(&browser, "health").await;
    // The upset call raised a flag today: the top flags link to those calls.
    let link = browser
        .wait_for("section.panel.health[data-hours='24'] a.flag-link")
        .await;
    let href = link.attr("href").await.unwrap().unwrap_or_default();
    assert!(
        href.starts_with("/calls?") && href.contains("flags="),
        "a top flag links to the filtered list: {href}"
    );

    open_calls_until_visible(&browser, &calls.north_upset).await;
    assert_fits_the_phone(&browser, "calls").await;
    let display = browser
        .eval("return getComputedStyle(document.querySelector('tr.call-row')).display")
        .await;
    assert_eq!(display, "block", "call rows are cards");

    let base = env("DASHBOARD_URL");
    browser
        .goto(&format!("{base}/calls/{}/{}", NORTH[0], calls.north_upset))
        .await;
    browser.wait_for("#review-panel #review-status").await;
    browser
        .wait_for("#transcript pre.plain-transcript, #transcript .turn")
        .await;
    assert_fits_the_phone(&browser, "call-detail").await;
    assert!(
        within_width(&browser, "#review-panel").await,
        "the Review panel is on-screen"
    );
    let stacked = browser
        .eval("const s = document.querySelector('.detail-grid section.panel').getBoundingClientRect(); const r = document.querySelector('#review-panel').getBoundingClientRect(); return r.top >= s.bottom;")
        .await;
    assert_eq!(stacked, Value::Bool(true), "the panels are stacked");

    browser.goto(&format!("{base}/queue")).await;
    browser
        .wait_for(&format!("tr.queue-row[data-call='{}']", calls.north_upset))
        .await;
    assert_fits_the_phone(&browser, "queue").await;
    let display = browser
        .eval("return getComputedStyle(document.querySelector('tr.queue-row')).display")
        .await;
    assert_eq!(display, "block", "queue rows are cards");
    assert!(
        within_width(&browser, "tr.queue-row .review-controls").await,
        "the actions are on-screen"
    );

    browser.goto(&format!("{base}/team")).await;
    browser.wait_for("#csm-stats").await;
    assert_fits_the_phone(&browser, "team").await;
    browser.close().await;
}

#[tokio::test]
async fn j_scrolls_the_selected_call_into_view_and_back_from_it_restores_the_place() {
    // Enough calls of our own that the list is several screens long on a phone.
    let run = std::process::id();
    for i in 0..24 {
        post(NORTH[0], &format!("browser_{run}_many_{i:02}"), BOOKED).await;
    }
    let browser = Browser::start_phone("keep-place").await;
    browser.goto(&env("DASHBOARD_URL")).await;
    browser
        .sign_in("csm.north@demo.test", &env("DEMO_PASSWORD"))
        .await;
    browser
        .goto(&format!("{}/calls?d={}", env("DASHBOARD_URL"), NORTH[0]))
        .await;
    browser
        .until("24 rows in the list", || async {
            (rows(&browser).await.len() >= 24).then_some(())
        })
        .await;
    browser
        .eval("document.getElementById('call-list').focus(); return null")
        .await;
    browser.type_keys(&"j".repeat(14)).await;
    let selected = browser
        .attributes("tr.call-row.selected", "data-call")
        .await;
    assert_eq!(selected.len(), 1);
    assert_eq!(
        browser.attributes("tr.call-row", "data-call").await[14],
        selected[0],
        "14 times j selects the 15th row"
    );
    let visible = browser
        .eval("const r = document.querySelector('tr.call-row.selected').getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;")
        .await;
    assert_eq!(visible, Value::Bool(true), "the selected row is in view");
    let scrolled = browser
        .eval("return window.scrollY")
        .await
        .as_f64()
        .unwrap();
    assert!(scrolled > 0.0, "the page scrolled to follow the selection");

    // A panic in the wasm stops the whole app with an uncaught error; record any.
    browser
        .eval("window.__errors = []; window.addEventListener('error', e => window.__errors.push(e.message)); return null")
        .await;
    browser.type_keys("\u{e007}").await; // Enter opens it
                                         // Back at once, while the call is still loading: the app must not stop (it did
                                         // when a waiting panel read its page's load after the page was gone).
    browser.wait_for("#call-id").await;
    browser.client.back().await.unwrap();
    let again = browser
        .until("the same row selected again", || async {
            let s = browser
                .attributes("tr.call-row.selected", "data-call")
                .await;
            (s == selected).then_some(s)
        })
        .await;
    assert_eq!(again, selected);
    let restored = browser
        .until("the scroll position back", || async {
            let y = browser.eval("return window.scrollY").await.as_f64()?;
            ((y - scrolled).abs() < 2.0).then_some(y)
        })
        .await;
    assert!((restored - scrolled).abs() < 2.0);
    assert_eq!(
        browser.eval("return window.__errors").await,
        json!([]),
        "no uncaught error in the page"
    );
    browser.close().await;
}

#[tokio::test]
async fn the_filter_boxes_follow_the_url_back_and_a_search_is_encoded_once() {
    let browser = signed_in_as_north("filters-back").await;
    let base = env("DASHBOARD_URL");
    browser.goto(&format!("{base}/calls")).await;
    browser
        .wait_for("#score-min")
        .await
        .send_keys("40")
        .await
        .unwrap();
    browser
        .wait_for("#score-apply")
        .await
        .click()
        .await
        .unwrap();
    browser
        .until("smin in the URL", || async {
            let url = browser.client.current_url().await.ok()?;
            url.as_str().contains("smin=40").then_some(())
        })
        .await;
    browser
        .wait_for("#verdict-bad")
        .await
        .click()
        .await
        .unwrap();
    browser
        .until("the verdict in the URL", || async {
            let url = browser.client.current_url().await.ok()?;
            url.as_str().contains("verdict=bad").then_some(())
        })
        .await;
    browser.client.back().await.unwrap();
    browser.client.back().await.unwrap();
    let value = browser
        .until("the score box to follow the URL", || async {
            let url = browser.client.current_url().await.ok()?;
            if url.as_str().contains("smin") {
                return None;
            }
            let v = browser
                .eval("return document.getElementById('score-min').value")
                .await;
            (v == "").then_some(v)
        })
        .await;
    assert_eq!(value, "", "no stale score after going back");

    let search = browser.wait_for("#search").await;
    search.send_keys("\"oil change\" & tires").await.unwrap();
    search.send_keys("\u{e007}").await.unwrap();
    let url = browser
        .until("the search in the URL", || async {
            let url = browser.client.current_url().await.ok()?.to_string();
            url.contains("q=").then_some(url)
        })
        .await;
    assert!(
        url.contains("q=%22oil+change%22+%2526+tires"),
        "written once, only the & twice: {url}"
    );
    browser.client.refresh().await.unwrap();
    let shown = browser
        .until("the search box after a reload", || async {
            let v = browser
                .eval("return (document.getElementById('search') || {}).value")
                .await;
            v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
        })
        .await;
    assert_eq!(shown, "\"oil change\" & tires");
    browser.close().await;
}

#[tokio::test]
async fn a_csm_reveals_a_callers_number_on_purpose_and_it_is_recorded_while_payloads_stay_masked() {
    let calls = ensure_calls().await;
    let browser = signed_in_as_north("reveal").await;
    open_calls_until_visible(&browser, &calls.north_booked).await;
    browser
        .wait_for(&format!("tr.call-row[data-call='{}']", calls.north_booked))
        .await
        .click()
        .await
        .unwrap();

    let masked = browser
        .until("the masked number", || async {
            let text = browser.texts("#customer-phone").await.join("");
            text.contains("0123").then_some(text)
        })
        .await;
    assert!(
        masked.contains("••• 0123") && !masked.contains("555"),
        "{masked}"
    );
    // The raw payloads come masked from the database (call_events); they sit in
    // collapsed <details>, so read their text content rather than what is shown.
    let payloads = browser
        .until("the events", || async {
            let text = browser
                .eval("return Array.from(document.querySelectorAll('#events pre.json')).map(e => e.textContent).join('\\n')")
                .await;
            let text = text.as_str().unwrap_or_default().to_string();
            text.contains("customer").then_some(text)
        })
        .await;
    assert!(
        payloads.contains("***0123") && !payloads.contains("6175550123"),
        "{payloads}"
    );

    browser
        .wait_for("#reveal-phone")
        .await
        .click()
        .await
        .unwrap();
    let full = browser
        .wait_for("#customer-phone-full")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(full, "+16175550123");

    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&env("DATABASE_URL"))
        .await
        .expect("connect to the stack's database");
    let (reveals,): (i64,) = sqlx::query_as(
        "select count(*) from public.phone_reveals r join public.profiles p on p.user_id = r.user_id \
          where r.call_id = $1 and p.full_name = 'Nora North'",
    )
    .bind(&calls.north_booked)
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(reveals, 1, "the reveal is recorded with who revealed it");
    browser.close().await;
}

#[tokio::test]
async fn a_csm_compares_her_dealerships_side_by_side_and_a_row_opens_that_dealerships_health() {
    ensure_calls().await;
    let browser = signed_in_as_north("compare").await;
    let listed = browser
        .until("a row per dealership", || async {
            let v = browser
                .attributes("tr.compare-row", "data-dealership")
                .await;
            (v.len() >= 2).then_some(v)
        })
        .await;
    let mut hers = listed.clone();
    hers.sort();
    assert_eq!(
        hers,
        vec!["honda-quincy", "toyota-braintree"],
        "her two dealerships, and nobody else's"
    );
    // Worst first: the bad shares never rise down the table ("–": none analyzed).
    let shares: Vec<f64> = browser
        .texts("tr.compare-row td.bad-share a")
        .await
        .iter()
        .map(|t| t.trim_end_matches('%').parse().unwrap_or(-1.0))
        .collect();
    assert_eq!(shares.len(), 2, "{shares:?}");
    assert!(shares[0] >= shares[1], "worst first: {shares:?}");
    browser.screenshot("compare").await;
    browser
        .wait_for(&format!(
            "tr.compare-row[data-dealership='{}'] a.compare-health",
            listed[0]
        ))
        .await
        .click()
        .await
        .unwrap();
    browser
        .until("that dealership's health", || async {
            let url = browser.client.current_url().await.ok()?;
            url.as_str()
                .contains(&format!("d={}", listed[0]))
                .then_some(())
        })
        .await;
    browser.wait_for(".panel.health .headline").await;
    assert!(
        browser.texts("#dealership-compare").await.is_empty(),
        "one dealership: nothing to compare"
    );
    browser.close().await;

    // A manager has the team overview's table instead.
    let manager = signed_in_as("compare-manager", "manager@demo.test").await;
    manager
        .until("the manager's role in the header", || async {
            (manager.texts("#user-role").await == ["Manager"]).then_some(())
        })
        .await;
    manager.wait_for(".panel.health .headline").await;
    manager.wait_for("#agent-versions").await;
    assert!(manager.texts("#compare").await.is_empty());
    manager.close().await;
}
