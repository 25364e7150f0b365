//! The call page in headless Chromium against the running stack (issue 16
//! "Evidence" and "Audio", issue 13 §5): the marker naming the Retell signal
//! that decided a verdict, each reason's quote highlighted in the transcript
//! (clicking the reason scrolls to it), and the recording: a turn with word
//! timings seeks the player there and is highlighted, and an expired link says
//! so. Calls are posted through the signed webhook (Retell's native events for
//! the signal and the recording) and judged by the worker.

use std::time::Duration;

use e2e::browser::Browser;
use e2e::{env, eventually, post_event, rest, sign_in};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DEALERSHIP: &str = "toyota-braintree";

const UPSET: &str = "Agent: Thanks for calling, how can I help?\nUser: This is the third time I call, I want to talk to a manager. This is ridiculous.\nAgent: Let me transfer you.\nAgent: I'm sorry, nobody is available right now.";

fn unique(tag: &str) -> String {
    format!(
        "callpage_{tag}_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    )
}

/// Waits for the worker's verdict on the call, as the north CSM sees it.
async fn judged(call_id: &str) {
    let token = sign_in("csm.north@demo.test").await;
    let path = format!("calls?call_id=eq.{call_id}&select=verdict");
    eventually(
        &format!("the verdict on {call_id}"),
        Duration::from_secs(90),
        || {
            let (token, path) = (token.clone(), path.clone());
            async move {
                let rows = rest(&token, &path).await;
                rows.get(0)?["verdict"].as_str().map(str::to_string)
            }
        },
    )
    .await;
}

/// Posts one of Retell's native events for a call of [`DEALERSHIP`].
async fn post_retell(event: &str, call: Value) {
    let (status, body) = post_event(&json!({"event": event, "call": call})).await;
    assert_eq!(status, 200, "the webhook accepts the {event} event: {body}");
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn call_page(name: &str, call_id: &str) -> Browser {
    let browser = Browser::start(name).await;
    browser.goto(&env("DASHBOARD_URL")).await;
    browser
        .sign_in("csm.north@demo.test", &env("DEMO_PASSWORD"))
        .await;
    browser
        .goto(&format!(
            "{}/calls/{DEALERSHIP}/{call_id}",
            env("DASHBOARD_URL")
        ))
        .await;
    browser
}

#[tokio::test]
async fn the_call_page_names_the_retell_signal_that_decided_the_verdict() {
    let call_id = unique("voicemail");
    post_retell(
        "call_analyzed",
        json!({
            "call_id": call_id,
            "metadata": {"dealership_id": DEALERSHIP},
            "direction": "inbound",
            "from_number": "+16175550177",
            "start_timestamp": now_ms() - 60_000,
            "end_timestamp": now_ms() - 30_000,
            "transcript": "Agent: Hi, this is Toyota of Braintree returning your call about your service appointment.",
            "call_analysis": {"in_voicemail": true, "user_sentiment": "Neutral", "call_successful": false}
        }),
    )
    .await;
    judged(&call_id).await;

    let browser = call_page("signal", &call_id).await;
    let marker = browser.wait_for("#analysis-signal").await;
    assert_eq!(
        marker.attr("data-signals").await.unwrap().as_deref(),
        Some("in_voicemail"),
        "the stored code, not a guess from the reason text"
    );
    let text = marker.text().await.unwrap();
    assert!(
        text.contains("call_analysis.in_voicemail = true") && text.contains("judge did not run"),
        "{text}"
    );
    let summary = browser
        .wait_for("#verdict-signal")
        .await
        .text()
        .await
        .unwrap();
    assert!(summary.contains("in_voicemail = true"), "{summary}");

    // A call no signal changed shows no marker.
    let plain = unique("nosignal");
    let (status, _) = post_event(&json!({
        "event_id": format!("evt_{plain}"), "dealership_id": DEALERSHIP, "call_id": plain,
        "timestamp": chrono::Utc::now().to_rfc3339(), "transcript": UPSET
    }))
    .await;
    assert_eq!(status, 200);
    judged(&plain).await;
    browser
        .goto(&format!(
            "{}/calls/{DEALERSHIP}/{plain}",
            env("DASHBOARD_URL")
        ))
        .await;
    browser.wait_for("#analysis-facts").await;
    assert!(browser.texts("#analysis-signal").await.is_empty());
    browser.screenshot("call-page-signal").await;
    browser.close().await;
}

#[tokio::test]
async fn a_reasons_quote_is_highlighted_in_the_transcript_and_clicking_the_reason_scrolls_there() {
    let call_id = unique("evidence");
    let (status, body) = post_event(&json!({
        "event_id": format!("evt_{call_id}"), "dealership_id": DEALERSHIP, "call_id": call_id,
        "timestamp": chrono::Utc::now().to_rfc3339(), "transcript": UPSET,
        "customer": {"phone": "+16175550188", "name": "Evidence Test"}
    }))
    .await;
    assert_eq!(status, 200, "{body}");
    judged(&call_id).await;

    // A short window, so the transcript starts below the fold.
    let browser = call_page("evidence", &call_id).await;
    browser.client.set_window_size(1280, 500).await.unwrap();
    let link = browser
        .wait_for("#summary-reasons button.reason-link")
        .await;
    let quote = link.attr("data-quote").await.unwrap().unwrap();
    let reason = link.text().await.unwrap();
    let mark_css = format!("#transcript mark.evidence[data-quote='{quote}']");
    let highlighted = browser.wait_for(&mark_css).await.text().await.unwrap();
    assert!(
        !highlighted.trim().is_empty() && UPSET.contains(highlighted.trim()),
        "the highlight is words of the transcript: {highlighted:?}"
    );
    assert!(
        reason
            .to_lowercase()
            .contains(&highlighted.trim().to_lowercase()),
        "the reason {reason:?} quotes the highlighted words {highlighted:?}"
    );
    let in_view = format!(
        // A pixel of slack: scrolling lands on fractional positions.
        "const r = document.querySelector(\"{}\").getBoundingClientRect(); return r.top >= -1 && r.bottom <= window.innerHeight + 1;",
        mark_css.replace('"', "\\\"")
    );
    assert_eq!(
        browser.eval(&in_view).await,
        json!(false),
        "precondition: the quote starts out of view"
    );
    link.click().await.unwrap();
    browser
        .until("the quote scrolled into view and focused", || async {
            let focused = browser
                .attributes(&mark_css, "class")
                .await
                .iter()
                .any(|c| c.contains("focused"));
            (focused && browser.eval(&in_view).await == json!(true)).then_some(())
        })
        .await;
    browser.screenshot("call-page-evidence").await;
    browser.close().await;
}

/// A mono 8 kHz 16-bit WAV of `seconds` of silence.
fn silent_wav(seconds: u32) -> Vec<u8> {
    let data_len = seconds * 8_000 * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&8_000u32.to_le_bytes());
    wav.extend_from_slice(&16_000u32.to_le_bytes()); // bytes per second
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.resize(44 + data_len as usize, 0);
    wav
}

/// Serves `wav` at any path on a free local port, with byte ranges (the media
/// element asks for them); returns the port.
async fn serve_wav(wav: Vec<u8>) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let wav = std::sync::Arc::new(wav);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let wav = wav.clone();
            tokio::spawn(async move {
                let mut request = vec![0u8; 8192];
                let n = socket.read(&mut request).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&request[..n]).to_lowercase();
                let start = request
                    .lines()
                    .find_map(|l| l.strip_prefix("range: bytes="))
                    .and_then(|r| r.split('-').next()?.trim().parse::<usize>().ok())
                    .filter(|s| *s < wav.len());
                let (status, body, range) = match start {
                    Some(s) => (
                        "206 Partial Content",
                        &wav[s..],
                        format!(
                            "Content-Range: bytes {s}-{}/{}\r\n",
                            wav.len() - 1,
                            wav.len()
                        ),
                    ),
                    None => ("200 OK", &wav[..], String::new()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: audio/wav\r\nAccept-Ranges: bytes\r\n{range}Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    port
}

fn timed_turn(role: &str, content: &str, start: f64) -> Value {
    let words: Vec<Value> = content
        .split_whitespace()
        .enumerate()
        .map(|(i, w)| json!({"word": w, "start": start + i as f64 * 0.3, "end": start + i as f64 * 0.3 + 0.25}))
        .collect();
    json!({"role": role, "content": content, "words": words})
}

async fn recorded_call(tag: &str, recording_url: &str) -> String {
    let call_id = unique(tag);
    let turns = [
        ("agent", "Toyota of Braintree service, how can I help?", 0.5),
        ("user", "I need an oil change on Thursday.", 3.0),
        ("agent", "You are booked for Thursday at 9:30 AM.", 6.0),
        // Long after the third turn, so the player is still in the third when
        // the test looks, however slow the machine.
        ("user", "Great, thanks.", 40.0),
    ];
    let transcript: String = turns
        .iter()
        .map(|(r, c, _)| format!("{}: {c}", if *r == "agent" { "Agent" } else { "User" }))
        .collect::<Vec<_>>()
        .join("\n");
    post_retell(
        "call_ended",
        json!({
            "call_id": call_id,
            "metadata": {"dealership_id": DEALERSHIP},
            "direction": "inbound",
            "from_number": "+16175550199",
            "start_timestamp": now_ms() - 60_000,
            "end_timestamp": now_ms() - 45_000,
            "transcript": transcript,
            "transcript_object": turns.iter().map(|(r, c, s)| timed_turn(r, c, *s)).collect::<Vec<_>>(),
            "recording_url": recording_url
        }),
    )
    .await;
    judged(&call_id).await;
    call_id
}

#[tokio::test]
async fn clicking_a_timed_turn_plays_the_recording_from_there_and_highlights_the_playing_turn() {
    let port = serve_wav(silent_wav(45)).await;
    let url = format!("http://127.0.0.1:{port}/recordings/call.wav");
    let call_id = recorded_call("audio", &url).await;

    let browser = call_page("audio", &call_id).await;
    let audio = browser.wait_for("#transcript audio#recording").await;
    assert_eq!(
        audio.attr("src").await.unwrap().as_deref(),
        Some(url.as_str())
    );
    assert!(
        audio.attr("controls").await.unwrap().is_some(),
        "the player has controls"
    );
    browser
        .until("the recording's metadata", || async {
            (browser
                .eval("return document.getElementById('recording').readyState >= 1")
                .await
                == json!(true))
            .then_some(())
        })
        .await;
    assert_eq!(
        browser
            .attributes("#transcript li.turn.timed", "data-turn")
            .await
            .len(),
        4,
        "every turn with word timings can be clicked"
    );
    browser
        .wait_for("#transcript li.turn[data-turn='2']")
        .await
        .click()
        .await
        .unwrap();
    let position = browser
        .until("the player at the third turn", || async {
            let t = browser
                .eval("return document.getElementById('recording').currentTime")
                .await
                .as_f64()?;
            (t >= 6.0).then_some(t)
        })
        .await;
    assert!(
        position < 40.0,
        "the player is in the third turn, not a later one: {position}"
    );
    browser
        .until("the third turn highlighted as playing", || async {
            let playing = browser
                .attributes("#transcript li.turn.playing", "data-turn")
                .await;
            (playing == vec!["2".to_string()]).then_some(())
        })
        .await;
    assert!(browser.texts("#recording-error").await.is_empty());
    browser.screenshot("call-page-audio").await;
    browser.close().await;
}

#[tokio::test]
async fn an_expired_recording_link_says_so_on_the_call_page() {
    // Nothing listens on the port any more: the link no longer loads.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/recordings/expired.wav");
    let call_id = recorded_call("expired", &url).await;

    let browser = call_page("expired", &call_id).await;
    let audio = browser.wait_for("#transcript audio#recording").await;
    assert_eq!(
        audio.attr("src").await.unwrap().as_deref(),
        Some(url.as_str())
    );
    let message = browser
        .wait_for("#recording-error")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        message.contains("could not be loaded") && message.contains("expire"),
        "{message}"
    );
    browser.screenshot("call-page-expired-recording").await;
    browser.close().await;
}

/// The one loading/error section (`components::Section`): a call that has not
/// arrived yet is an error in words with Retry, not a blank page; once the webhook
/// has it, Retry mounts the page again and it loads, without a reload of the tab.
#[tokio::test]
async fn a_call_not_there_yet_says_so_with_retry_and_retry_loads_it_once_it_has_arrived() {
    let call_id = unique("retry");
    let browser = call_page("section-retry", &call_id).await;
    let error = browser.wait_for(".state.error").await.text().await.unwrap();
    assert!(error.contains("Nothing here is visible"), "{error}");
    assert!(
        browser.texts("#review-panel").await.is_empty(),
        "no panel is drawn for a call that failed to load"
    );

    let (status, body) = post_event(&json!({
        "event_id": format!("evt_{call_id}"), "dealership_id": DEALERSHIP, "call_id": call_id,
        "timestamp": chrono::Utc::now().to_rfc3339(), "transcript": UPSET
    }))
    .await;
    assert_eq!(status, 200, "{body}");
    browser
        .wait_for(".state.error button.retry")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for("#review-panel").await;
    let title = browser.wait_for("#call-title").await.text().await.unwrap();
    assert!(
        title.starts_with("Call with"),
        "the title reads the loaded call: {title}"
    );
    assert!(
        browser.texts(".state.error").await.is_empty(),
        "the error is gone once the call has loaded"
    );
    browser.close().await;
}
