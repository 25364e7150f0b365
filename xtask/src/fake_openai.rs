//! A fake OpenAI Chat Completions server. By default it answers every request
//! with a valid structured analysis after a fixed delay (300 ms in the
//! benchmark): the LLM's share of the end-to-end time, without the network or a
//! key. `cargo xtask chaos` switches it into each way a real API misbehaves
//! ([`Behaviour`]) and back, while the worker is under load.

use anyhow::Result;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
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

/// The switch and the request count, shared with the handlers.
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
    pub base_url: String,
    pub control: Arc<Control>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeOpenAi {
    /// Listens on a free port, on a Tokio runtime of its own: every request waits
    /// on a timer, not on a thread, so any number can be delayed at once.
    pub fn start(delay: Duration) -> Result<FakeOpenAi> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let control = Arc::new(Control::default());
        let state = Served {
            control: control.clone(),
            delay,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let app = axum::Router::new().fallback(respond).with_state(state);
                // Stopping drops the runtime, which cancels requests still held.
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                }
            });
        });
        Ok(FakeOpenAi {
            base_url: format!("http://127.0.0.1:{port}/v1"),
            control,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

#[derive(Clone)]
struct Served {
    control: Arc<Control>,
    delay: Duration,
}

async fn respond(State(served): State<Served>, _request: Bytes) -> Response {
    served.control.requests.fetch_add(1, Ordering::SeqCst);
    let behaviour = Behaviour::from_u8(served.control.behaviour.load(Ordering::SeqCst));
    let json = |status: StatusCode, body: String| {
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    match behaviour {
        Behaviour::Answer => {
            tokio::time::sleep(served.delay).await;
            json(StatusCode::OK, completion(&analysis()))
        }
        Behaviour::ServerError => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_body("server_error"),
        ),
        Behaviour::RateLimited => {
            let mut response = json(StatusCode::TOO_MANY_REQUESTS, error_body("rate_limit"));
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Behaviour::Stall => {
            tokio::time::sleep(STALL).await;
            json(StatusCode::OK, completion(&analysis()))
        }
        Behaviour::InvalidJson => json(
            StatusCode::OK,
            "{\"id\": \"chatcmpl-broken\", \"choices\": [".into(),
        ),
        Behaviour::SchemaBreaking => json(
            StatusCode::OK,
            completion(&json!({
                "verdict": "excellent",
                "score": 900,
                "reasons": "not a list",
            })),
        ),
        Behaviour::Trickle => {
            let body = completion(&analysis()).into_bytes();
            let len = body.len();
            // One byte per TRICKLE_GAP.
            let bytes = futures_util::stream::unfold(body.into_iter(), |mut rest| async move {
                let byte = rest.next()?;
                tokio::time::sleep(TRICKLE_GAP).await;
                Some((
                    Ok::<_, std::convert::Infallible>(Bytes::from(vec![byte])),
                    rest,
                ))
            });
            let mut response = json(StatusCode::OK, String::new());
            *response.body_mut() = Body::from_stream(bytes);
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            response
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
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
