//! A fake OpenAI Chat Completions server that answers every request with a valid
//! structured analysis after a fixed delay (300 ms in the benchmark): the LLM's
//! share of the end-to-end time, without the network or a key.

use anyhow::Result;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

pub struct FakeOpenAi {
    server: Arc<tiny_http::Server>,
    threads: Vec<std::thread::JoinHandle<()>>,
    pub base_url: String,
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
        let analysis = json!({
            "verdict": "good",
            "score": 88,
            "reasons": ["appointment booked and read back"],
            "flags": [],
            "recommended_action": "none",
            "confidence": 0.9
        });
        let body = json!({
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1765983301,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": analysis.to_string(), "refusal": null },
                "logprobs": null,
                "finish_reason": "stop"
            }],
            "usage": { "prompt_tokens": 812, "completion_tokens": 64, "total_tokens": 876 }
        })
        .to_string();
        let threads = (0..handlers)
            .map(|_| {
                let server = server.clone();
                let body = body.clone();
                std::thread::spawn(move || {
                    while let Ok(mut request) = server.recv() {
                        let mut sink = Vec::new();
                        let _ = request.as_reader().read_to_end(&mut sink);
                        std::thread::sleep(delay);
                        let header =
                            tiny_http::Header::from_bytes("Content-Type", "application/json")
                                .expect("a valid header");
                        let _ = request.respond(
                            tiny_http::Response::from_string(body.clone()).with_header(header),
                        );
                    }
                })
            })
            .collect();
        Ok(FakeOpenAi {
            server,
            threads,
            base_url: format!("http://127.0.0.1:{port}/v1"),
        })
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.server.unblock();
        for _ in 1..self.threads.len() {
            self.server.unblock();
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
