//! The sender: posts signed events without pause, each retried (re-signed) until
//! it gets a 2xx, as Retell does, and counts what it saw.

use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::stack::Stack;

#[derive(Default)]
pub struct SenderCounts {
    pub attempts: AtomicU64,
    /// 503 with `Retry-After`: the api saying the database is unreachable.
    pub unavailable: AtomicU64,
    /// Any other answer that is neither 2xx nor 4xx: a bug, reported as a failure.
    pub other_5xx: AtomicU64,
    pub connection_errors: AtomicU64,
    pub duplicates_answered: AtomicU64,
    /// 4xx answers to a good event: a bug, reported as a failure.
    pub refused: AtomicU64,
}

/// Posts events `<prefix>-<n>` until stopped, each retried until it gets a 2xx.
pub struct Sender {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
    pub counts: Arc<SenderCounts>,
    thread: Option<JoinHandle<()>>,
}

impl Sender {
    pub fn start(stack: &Stack, prefix: String) -> Sender {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let counts = Arc::new(SenderCounts::default());
        let url = stack.webhook_url();
        let secret = stack.webhook_secret.clone();
        let thread = {
            let (stop, acked, counts) = (stop.clone(), acked.clone(), counts.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .expect("an HTTP client");
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let id = format!("{prefix}-{n}");
                    let body = event_body(&id);
                    if deliver(&client, &url, &secret, &body, &counts) {
                        acked.lock().unwrap().push(id);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        Sender {
            stop,
            acked,
            counts,
            thread: Some(thread),
        }
    }

    /// Stops after the event in flight is acknowledged; returns the acknowledged ids.
    pub fn finish(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        std::mem::take(&mut *self.acked.lock().unwrap())
    }
}

fn event_body(id: &str) -> Vec<u8> {
    json!({
        "event_id": id,
        "dealership_id": "toyota-braintree",
        "call_id": id,
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "transcript": "Agent: Toyota of Braintree, how can I help?\nUser: I need an oil change Thursday.\nAgent: You are booked for Thursday at 9:30 AM."
    })
    .to_string()
    .into_bytes()
}

/// One delivery, retried (re-signed each time) until a 2xx, as Retell retries;
/// false if the api refused it with a 4xx (which a good event must never get).
fn deliver(
    client: &reqwest::blocking::Client,
    url: &str,
    secret: &str,
    body: &[u8],
    counts: &SenderCounts,
) -> bool {
    let mut wait = Duration::from_millis(100);
    loop {
        counts.attempts.fetch_add(1, Ordering::Relaxed);
        let signature =
            domain::signature::sign(body, chrono::Utc::now().timestamp_millis(), secret);
        match client
            .post(url)
            .header("content-type", "application/json")
            .header("x-retell-signature", signature)
            .body(body.to_vec())
            .send()
        {
            Ok(r) if r.status().is_success() => {
                if r.text().unwrap_or_default().contains("\"duplicate\"") {
                    counts.duplicates_answered.fetch_add(1, Ordering::Relaxed);
                }
                return true;
            }
            Ok(r) if r.status().is_client_error() => {
                eprintln!(
                    "xtask chaos: a good event was refused: {} {}",
                    r.status(),
                    r.text().unwrap_or_default()
                );
                counts.refused.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            Ok(r) if r.status() == 503 && r.headers().contains_key("retry-after") => {
                counts.unavailable.fetch_add(1, Ordering::Relaxed);
            }
            Ok(r) => {
                eprintln!("xtask chaos: unexpected answer {}", r.status());
                counts.other_5xx.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                counts.connection_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}
