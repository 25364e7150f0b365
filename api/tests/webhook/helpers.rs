//! Test harness: a private database cloned from the template, the real
//! application on a random port, a signing HTTP client, and a TCP proxy that can
//! cut the application off from Postgres.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use api::signature::sign;
use api::{Application, Settings};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use testdb::TestDb;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};
use tokio_util::sync::CancellationToken;

/// The signing secret every test app accepts (unscoped, like Retell's key; at
/// least 32 bytes, as the service requires).
pub const SECRET: &str = "whsec_test_0123456789abcdef0123456789";
/// A second, older secret, still accepted (rotation).
pub const OLD_SECRET: &str = "whsec_old_test_0123456789abcdef0123456789";

pub const STARTED: &str = include_str!("../fixtures/retell-call-started.json");
pub const ENDED: &str = include_str!("../fixtures/retell-call-ended.json");
pub const ANALYZED: &str = include_str!("../fixtures/retell-call-analyzed.json");
pub const NORMALIZED_GOOD: &str = include_str!("../fixtures/normalized-good.json");
pub const NORMALIZED_BAD: &str = include_str!("../fixtures/normalized-bad.json");
/// The call id used in the Retell fixtures.
pub const FIXTURE_CALL_ID: &str = "call_8f2c1d9a7b";

/// Replaces host and port (after any `user[:password]@`) of a Postgres URL.
fn with_host_port(url: &str, host: &str, port: u16) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = url[scheme_end..]
        .find(['/', '?'])
        .map(|i| scheme_end + i)
        .unwrap_or(url.len());
    let authority = &url[scheme_end..host_end];
    let userinfo_end = authority.rfind('@').map(|i| i + 1).unwrap_or(0);
    format!(
        "{}{}{host}:{port}{}",
        &url[..scheme_end],
        &authority[..userinfo_end],
        &url[host_end..]
    )
}

/// The running application and what tests need to talk to it.
pub struct TestApp {
    pub address: String,
    /// A direct (superuser) pool on the test database, for assertions.
    pub pool: PgPool,
    pub client: reqwest::Client,
    pub shutdown: CancellationToken,
    pub server: JoinHandle<anyhow::Result<()>>,
    /// Present when the app reaches Postgres through [`PgProxy`].
    pub proxy: Option<PgProxy>,
    pub test_db: TestDb,
}

/// Test-only knobs on top of the defaults.
#[derive(Default)]
pub struct Options {
    pub allow_bearer: bool,
    pub max_body_bytes: Option<usize>,
    pub agent_dealerships: Option<&'static str>,
    pub pool_size: Option<u32>,
    pub acquire_timeout_ms: Option<u64>,
    /// `API_REQUEST_TIMEOUT_SECS` (the default is 10).
    pub request_timeout_secs: Option<u64>,
    /// Route the app's database traffic through a cuttable TCP proxy.
    pub through_proxy: bool,
    /// `WEBHOOK_SECRETS` instead of `SECRET,OLD_SECRET`.
    pub webhook_secrets: Option<String>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let test_db = TestDb::create().await;

    let proxy = if options.through_proxy {
        let upstream = PgConnectOptions::from_str(&test_db.url).expect("test database URL");
        Some(PgProxy::start(upstream.get_host(), upstream.get_port()).await)
    } else {
        None
    };
    let app_db_url = match &proxy {
        Some(p) => with_host_port(&test_db.url, "127.0.0.1", p.port),
        None => test_db.url.clone(),
    };

    let mut vars = HashMap::from([
        ("DATABASE_URL".to_owned(), app_db_url),
        ("API_BIND".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "WEBHOOK_SECRETS".to_owned(),
            options
                .webhook_secrets
                .clone()
                .unwrap_or_else(|| format!("{SECRET},{OLD_SECRET}")),
        ),
        (
            "WEBHOOK_ALLOW_BEARER".to_owned(),
            options.allow_bearer.to_string(),
        ),
    ]);
    if let Some(n) = options.max_body_bytes {
        vars.insert("WEBHOOK_MAX_BODY_BYTES".into(), n.to_string());
    }
    if let Some(map) = options.agent_dealerships {
        vars.insert("AGENT_DEALERSHIPS".into(), map.into());
    }
    if let Some(n) = options.request_timeout_secs {
        vars.insert("API_REQUEST_TIMEOUT_SECS".into(), n.to_string());
    }
    if let Some(n) = options.pool_size {
        vars.insert("DATABASE_POOL_SIZE".into(), n.to_string());
    }
    // Generous by default: a loaded CI machine must not turn into 503s. The
    // availability test shortens it.
    let acquire_ms = options.acquire_timeout_ms.unwrap_or(30_000);
    vars.insert("DATABASE_ACQUIRE_TIMEOUT_MS".into(), acquire_ms.to_string());
    let settings =
        Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings are valid");

    let app = Application::build(settings)
        .await
        .expect("Failed to build the application");
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());

    let pool = PgPoolOptions::new()
        .max_connections(5)
        .connect(&test_db.url)
        .await
        .expect("Failed to connect to the test database");

    TestApp {
        address,
        pool,
        client: reqwest::Client::new(),
        shutdown,
        server,
        proxy,
        test_db,
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs `body` to the webhook with exactly the given headers.
    pub async fn post_webhook_raw(
        &self,
        body: impl Into<Vec<u8>>,
        headers: &[(&str, String)],
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url("/webhooks/retell"));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request
            .body(body.into())
            .send()
            .await
            .expect("Failed to send the webhook request")
    }

    /// POSTs `body` as JSON, signed with [`SECRET`] at the current time.
    pub async fn post_signed(&self, body: impl AsRef<[u8]>) -> reqwest::Response {
        self.post_signed_with(body, SECRET).await
    }

    /// POSTs `body` as JSON, signed with `secret` at the current time.
    pub async fn post_signed_with(
        &self,
        body: impl AsRef<[u8]>,
        secret: &str,
    ) -> reqwest::Response {
        let body = body.as_ref();
        self.post_webhook_raw(
            body.to_vec(),
            &[
                ("content-type", "application/json".into()),
                ("x-retell-signature", sign(body, now_ms(), secret)),
            ],
        )
        .await
    }

    /// Signed POST; asserts a 200 and returns the JSON answer.
    pub async fn deliver(&self, body: impl AsRef<[u8]>) -> serde_json::Value {
        let response = self.post_signed(body).await;
        let status = response.status();
        let text = response.text().await.expect("response body");
        assert_eq!(status, 200, "delivery was not accepted: {text}");
        serde_json::from_str(&text).expect("JSON answer")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("Failed to send the GET request")
    }

    pub async fn events_count(&self) -> i64 {
        sqlx::query_scalar!(r#"select count(*) as "n!" from public.events"#)
            .fetch_one(&self.pool)
            .await
            .expect("count events")
    }

    /// Rows in `calls`, `events` and `processing_errors` together with the
    /// dealerships' ids: what a refused request must leave unchanged.
    pub async fn stored_rows(&self) -> (i64, i64, i64, Vec<String>) {
        let counts = sqlx::query!(
            r#"select (select count(*) from public.events) as "events!",
                      (select count(*) from public.calls) as "calls!",
                      (select count(*) from public.processing_errors) as "errors!""#
        )
        .fetch_one(&self.pool)
        .await
        .expect("count rows");
        let dealerships = sqlx::query_scalar!("select id from public.dealerships order by id")
            .fetch_all(&self.pool)
            .await
            .expect("list dealerships");
        (counts.events, counts.calls, counts.errors, dealerships)
    }

    pub async fn jobs_for(&self, call_id: &str) -> Vec<JobRow> {
        sqlx::query_as!(
            JobRow,
            r#"select id, event_id, transcript_sha256, status::text as "status!"
               from public.analysis_jobs where call_id = $1 order by id"#,
            call_id
        )
        .fetch_all(&self.pool)
        .await
        .expect("list jobs")
    }

    pub async fn call(&self, call_id: &str) -> Option<CallRow> {
        sqlx::query_as!(
            CallRow,
            r#"select dealership_id, call_id, call_status, direction, started_at, ended_at,
                      duration_sec, transcript, transcript_turns, transcript_sha256,
                      customer_phone, customer_name, agent_id, disconnection_reason,
                      retell_analysis, metadata, first_event_at, last_event_at, last_event_rank
               from public.calls where call_id = $1"#,
            call_id
        )
        .fetch_optional(&self.pool)
        .await
        .expect("select call")
    }
}

#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: i64,
    pub event_id: Option<String>,
    pub transcript_sha256: Option<String>,
    pub status: String,
}

/// A `calls` row, minus the analysis/review mirrors ingest never writes.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRow {
    pub dealership_id: String,
    pub call_id: String,
    pub call_status: Option<String>,
    pub direction: Option<String>,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
    pub duration_sec: Option<i32>,
    pub transcript: Option<String>,
    pub transcript_turns: Option<serde_json::Value>,
    pub transcript_sha256: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_name: Option<String>,
    pub agent_id: Option<String>,
    pub disconnection_reason: Option<String>,
    pub retell_analysis: Option<serde_json::Value>,
    pub metadata: Option<serde_json::Value>,
    pub first_event_at: chrono::DateTime<chrono::Utc>,
    pub last_event_at: chrono::DateTime<chrono::Utc>,
    pub last_event_rank: i16,
}

/// Reads a JSON error answer, asserting its status and code.
pub async fn assert_error(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    let actual = response.status().as_u16();
    let text = response.text().await.expect("error body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    let body: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("error body is not JSON: {text}"));
    assert_eq!(body["error"], code, "unexpected error code in {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error without a message: {body}"
    );
    body
}

/// A TCP proxy in front of Postgres that a test can cut (existing connections
/// are dropped, new ones are closed at once) and restore, to make the database
/// unreachable for one application without touching anybody else's.
pub struct PgProxy {
    pub port: u16,
    open: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    accept_loop: AbortHandle,
}

impl PgProxy {
    pub async fn start(upstream_host: &str, upstream_port: u16) -> PgProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let open = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let upstream = format!("{upstream_host}:{upstream_port}");
        let accept_loop = tokio::spawn({
            let open = open.clone();
            let connections = connections.clone();
            async move {
                loop {
                    let Ok((mut inbound, _)) = listener.accept().await else {
                        continue;
                    };
                    if !open.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    let upstream = upstream.clone();
                    let task = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    connections.lock().unwrap().push(task.abort_handle());
                }
            }
        })
        .abort_handle();
        PgProxy {
            port,
            open,
            connections,
            accept_loop,
        }
    }

    /// Makes the database unreachable through this proxy.
    pub fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.accept_loop.abort();
        self.cut();
    }
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn the_host_and_port_can_be_swapped_in_a_url() {
        let url = "postgres://postgres:pw@127.0.0.1:55432/postgres?sslmode=disable";
        assert_eq!(
            with_host_port(url, "127.0.0.1", 9),
            "postgres://postgres:pw@127.0.0.1:9/postgres?sslmode=disable"
        );
    }
}
