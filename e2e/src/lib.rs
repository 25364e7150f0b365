//! Helpers for the end-to-end suites: the running stack's addresses (from the
//! environment `cargo xtask test` sets), signing, and signing in as a demo user.

pub mod attack;
pub mod bad_input;
pub mod browser;

use serde_json::Value;
use std::time::{Duration, Instant};

/// A value of the running stack's environment (the `stack.env` keys).
pub fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| {
        panic!("{key} is not set: the end-to-end tests run under `cargo xtask test`, which starts the stack")
    })
}

/// `X-Retell-Signature` for `body`, signed now with the stack's webhook secret.
pub fn signature(body: &[u8]) -> String {
    domain::signature::sign(
        body,
        chrono::Utc::now().timestamp_millis(),
        &env("WEBHOOK_SECRET"),
    )
}

/// Posts a signed event to the webhook and returns (status, body).
pub async fn post_event(body: &Value) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    let response = reqwest::Client::new()
        .post(env("WEBHOOK_URL"))
        .header("content-type", "application/json")
        .header("x-retell-signature", signature(&bytes))
        .body(bytes)
        .send()
        .await
        .expect("the webhook answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Signs in through the Supabase Auth endpoint and returns the access token.
pub async fn sign_in(email: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/auth/v1/token?grant_type=password",
            env("SUPABASE_URL")
        ))
        .header("apikey", env("SUPABASE_ANON_KEY"))
        .json(&serde_json::json!({"email": email, "password": env("DEMO_PASSWORD")}))
        .send()
        .await
        .expect("the auth endpoint answers");
    assert_eq!(response.status(), 200, "{email} signs in");
    let body: Value = response.json().await.unwrap();
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_string()
}

/// GET /rest/v1/<path> as the holder of `token`.
pub async fn rest(token: &str, path: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{}/rest/v1/{path}", env("SUPABASE_URL")))
        .header("apikey", env("SUPABASE_ANON_KEY"))
        .bearer_auth(token)
        .send()
        .await
        .expect("PostgREST answers through the gateway");
    assert_eq!(response.status(), 200, "GET /rest/v1/{path}");
    response.json().await.unwrap()
}

/// Polls `check` until it returns Some, panicking with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// POST /rest/v1/rpc/<function> as the holder of `token`; returns (status, body)
/// without judging it, so tests can assert refusals.
pub async fn rpc(token: &str, function: &str, args: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/rest/v1/rpc/{function}", env("SUPABASE_URL")))
        .header("apikey", env("SUPABASE_ANON_KEY"))
        .bearer_auth(token)
        .json(args)
        .send()
        .await
        .expect("PostgREST answers through the gateway");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A request to /rest/v1/<path> with the service role key (bypasses RLS), for test
/// set-up that only an admin could do in Studio, such as assigning a dealership.
pub async fn service(method: reqwest::Method, path: &str, body: Option<&Value>) -> u16 {
    let key = env("SUPABASE_SERVICE_ROLE_KEY");
    let mut request = reqwest::Client::new()
        .request(method, format!("{}/rest/v1/{path}", env("SUPABASE_URL")))
        .header("apikey", &key)
        .bearer_auth(&key);
    if let Some(body) = body {
        request = request.json(body);
    }
    request
        .send()
        .await
        .expect("PostgREST answers through the gateway")
        .status()
        .as_u16()
}

/// The first fenced block of `lang` in the repository file `path` (e.g. README.md)
/// that contains `needle`: the docs' copy-paste examples, run by the tests.
pub fn doc_block(path: &str, lang: &str, needle: &str) -> String {
    let file = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    text.split(&format!("```{lang}\n"))
        .skip(1)
        .filter_map(|chunk| chunk.split("```").next())
        .find(|block| block.contains(needle))
        .unwrap_or_else(|| panic!("{path} has a ```{lang} block containing {needle}"))
        .to_string()
}
