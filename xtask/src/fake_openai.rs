//! A fake OpenAI Chat Completions server. By default it answers every request
//! with a valid structured analysis after a fixed delay (300 ms in the
//! benchmark): the LLM's share of the end-to-end time, without the network or a
//! key. `cargo xtask chaos` switches it into each way a real API misbehaves
//! ([`Behaviour`]) and back, while the worker is under load.

use anyhow::Result;
use serde_json::json;
use std::io::Read;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What the server does with the next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Behaviour {
    /// A valid analysis after the configured delay.
    Answer = 0,
    /// `500 Internal Server Error` with an OpenAI-style error body.
    ServerError = 1,
    /// `429 Too Many Requests` with `Retry-After: 1`.
    RateLimited = 2,
    /// Holds the request for [`STALL`], longer than any client timeout the
    /// chaos run configures, then answers.
    Stall = 3,
    /// A 200 whose body is not JSON.
    InvalidJson = 4,
    /// A 200 with a well-formed completion whose content breaks the schema.
    SchemaBreaking = 5,
    /// A valid answer sent one byte every [`TRICKLE_GAP`].
    Trickle = 6,
}

impl Behaviour {
    pub const MISBEHAVIOURS: [Behaviour; 6] = [
        Behaviour::ServerError,
        Behaviour::RateLimited,
        Behaviour::Stall,
        Behaviour::InvalidJson,
        Behaviour::SchemaBreaking,
        Behaviour::Trickle,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Behaviour::Answer => "valid answer",
            Behaviour::ServerError => "500 server error",
            Behaviour::RateLimited => "429 with Retry-After",
            Behaviour::Stall => "no answer within the timeout",
            Behaviour::InvalidJson => "invalid JSON",
            Behaviour::SchemaBreaking => "JSON that breaks the schema",
            Behaviour::Trickle => "a slow trickle",
        }
    }

    fn from_u8(v: u8) -> Behaviour {
        Behaviour::MISBEHAVIOURS
            .into_iter()
            .find(|b| *b as u8 == v)
            .unwrap_or(Behaviour::Answer)
    }
}

/// How long [`Behaviour::Stall`] holds a request.
pub const STALL: Duration = Duration::from_secs(6);
/// The gap between two bytes of [`Behaviour::Trickle`].
pub const TRICKLE_GAP: Duration = Duration::from_millis(50);

/// The switch and the request count, shared with the handler threads.
#[derive(Default)]
pub struct Control {
    behaviour: AtomicU8,
    requests: AtomicU64,
}

impl Control {
    pub fn set(&self, behaviour: Behaviour) {
        self.behaviour.store(behaviour as u8, Ordering::SeqCst);
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }
}

pub struct FakeOpenAi {
    server: Arc<tiny_http::Server>,
    threads: Vec<std::thread::JoinHandle<()>>,
    pub base_url: String,
    pub control: Arc<Control>,
}

impl FakeOpenAi {
    /// Listens on a free port; `handlers` requests can be delayed at once.
    pub fn start(delay: Duration, handlers: usize) -> Result<FakeOpenAi> {
        let server = Arc::new(
            tiny_http::Server::http("127.0.0.1:0")
                .map_err(|e| anyhow::anyhow!("fake OpenAI: {e}"))?,
        );
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or_else(|| anyhow::anyhow!("fake OpenAI has no IP address"))?;
        let control = Arc::new(Control::default());
        let threads = (0..handlers)
            .map(|_| {
                let server = server.clone();
                let control = control.clone();
                std::thread::spawn(move || {
                    while let Ok(mut request) = server.recv() {
                        let mut sink = Vec::new();
                        let _ = request.as_reader().read_to_end(&mut sink);
                        control.requests.fetch_add(1, Ordering::SeqCst);
                        let behaviour =
                            Behaviour::from_u8(control.behaviour.load(Ordering::SeqCst));
                        respond(request, behaviour, delay);
                    }
                })
            })
            .collect();
        Ok(FakeOpenAi {
            server,
            threads,
            base_url: format!("http://127.0.0.1:{port}/v1"),
            control,
        })
    }
}

fn respond(request: tiny_http::Request, behaviour: Behaviour, delay: Duration) {
    let json_header =
        tiny_http::Header::from_bytes("Content-Type", "application/json").expect("a valid header");
    let response = match behaviour {
        Behaviour::Answer => {
            std::thread::sleep(delay);
            tiny_http::Response::from_string(completion(&analysis())).boxed()
        }
        Behaviour::ServerError => tiny_http::Response::from_string(error_body("server_error"))
            .with_status_code(500)
            .boxed(),
        Behaviour::RateLimited => tiny_http::Response::from_string(error_body("rate_limit"))
            .with_status_code(429)
            .with_header(tiny_http::Header::from_bytes("Retry-After", "1").expect("a valid header"))
            .boxed(),
        Behaviour::Stall => {
            std::thread::sleep(STALL);
            tiny_http::Response::from_string(completion(&analysis())).boxed()
        }
        Behaviour::InvalidJson => {
            tiny_http::Response::from_string("{\"id\": \"chatcmpl-broken\", \"choices\": [").boxed()
        }
        Behaviour::SchemaBreaking => tiny_http::Response::from_string(completion(&json!({
            "verdict": "excellent",
            "score": 900,
            "reasons": "not a list",
        })))
        .boxed(),
        Behaviour::Trickle => {
            let body = completion(&analysis()).into_bytes();
            let len = body.len();
            tiny_http::Response::new(
                tiny_http::StatusCode(200),
                Vec::new(),
                Trickle(body.into_iter()),
                Some(len),
                None,
            )
            .boxed()
        }
    };
    let _ = request.respond(response.with_header(json_header));
}

/// A reader that yields one byte per [`TRICKLE_GAP`].
struct Trickle(std::vec::IntoIter<u8>);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (buf.first_mut(), self.0.next()) {
            (Some(slot), Some(byte)) => {
                std::thread::sleep(TRICKLE_GAP);
                *slot = byte;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

fn analysis() -> serde_json::Value {
    json!({
        "verdict": "good",
        "score": 88,
        "reasons": ["appointment booked and read back"],
        "flags": [],
        "recommended_action": "none",
        "confidence": 0.9
    })
}

fn completion(content: &serde_json::Value) -> String {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1765983301,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": content.to_string(), "refusal": null },
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": { "prompt_tokens": 812, "completion_tokens": 64, "total_tokens": 876 }
    })
    .to_string()
}

fn error_body(kind: &str) -> String {
    json!({ "error": { "message": format!("fake {kind}"), "type": kind, "param": null, "code": null } })
        .to_string()
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        for _ in 0..self.threads.len() {
            self.server.unblock();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
