//! Test plumbing: a fresh database per test (cloned from the migrated
//! template), seed rows inserted directly as `postgres`, a fake OpenAI server
//! (wiremock) and small polling helpers.

use std::future::Future;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::PgPool;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use worker::analyzer::openai::OpenAiAnalyzer;
use worker::settings::OpenAiSettings;
use worker::{Analyzer, QueueSettings};

pub use testdb::TestDb;

pub const API_KEY: &str = "sk-test-key-0123456789";

/// A dealership and a call with a transcript (hash computed by Postgres).
pub async fn seed_call(
    pool: &PgPool,
    dealership_id: &str,
    call_id: &str,
    transcript: Option<&str>,
) {
    sqlx::query(
        "insert into public.dealerships (id, name, timezone) values ($1, $2, 'America/New_York')
         on conflict (id) do nothing",
    )
    .bind(dealership_id)
    .bind(format!("Dealer {dealership_id}"))
    .execute(pool)
    .await
    .expect("insert dealership");
    sqlx::query(
        "insert into public.calls (dealership_id, call_id, transcript, transcript_sha256,
                                   first_event_at, last_event_at, duration_sec, direction, call_status)
         values ($1, $2, $3, encode(sha256(convert_to($3, 'UTF8')), 'hex'),
                 now(), now(), 95, 'inbound', 'ended')",
    )
    .bind(dealership_id)
    .bind(call_id)
    .bind(transcript)
    .execute(pool)
    .await
    .expect("insert call");
}

/// Replaces the call's transcript, as ingest would for a newer event.
pub async fn update_transcript(
    pool: &PgPool,
    dealership_id: &str,
    call_id: &str,
    transcript: &str,
) {
    sqlx::query(
        "update public.calls
            set transcript = $3,
                transcript_sha256 = encode(sha256(convert_to($3, 'UTF8')), 'hex')
          where dealership_id = $1 and call_id = $2",
    )
    .bind(dealership_id)
    .bind(call_id)
    .bind(transcript)
    .execute(pool)
    .await
    .expect("update transcript");
}

/// Queues a job for the call; returns its id.
pub async fn enqueue(pool: &PgPool, dealership_id: &str, call_id: &str, reason: &str) -> i64 {
    sqlx::query_scalar(
        "insert into public.analysis_jobs (dealership_id, call_id, transcript_sha256, reason)
         select dealership_id, call_id, transcript_sha256, $3 from public.calls
          where dealership_id = $1 and call_id = $2
         returning id",
    )
    .bind(dealership_id)
    .bind(call_id)
    .bind(reason)
    .fetch_one(pool)
    .await
    .expect("enqueue job")
}

pub const GOOD_CALL: &str = "Agent: Toyota of Braintree service, how can I help?\nUser: I need an oil change.\nAgent: I have Thursday at 9 AM.\nUser: Great.\nAgent: You're booked for Thursday, December 18th at 9 AM.\nUser: Thanks!";
pub const BAD_CALL: &str = "Agent: Honda of Quincy, how can I help?\nUser: Nobody calls me back. I want to talk to a manager.\nAgent: Let me transfer you to the service department.\nAgent: I'm sorry, nobody is available to take your call.\nUser: This is ridiculous. I'm taking my business elsewhere.";

/// Job settings with fast retries so tests do not sleep for seconds.
pub fn job_settings(worker_id: &str) -> QueueSettings {
    QueueSettings {
        worker_id: worker_id.to_string(),
        lease: Duration::from_secs(30),
        max_attempts: 4,
        retry_base: Duration::from_millis(10),
        retry_max: Duration::from_millis(40),
        max_retry_after: Duration::from_secs(5),
        ..QueueSettings::default()
    }
}

pub fn openai_analyzer(base_uri: &str, timeout: Duration, max_chars: usize) -> Analyzer {
    Analyzer::OpenAi(
        OpenAiAnalyzer::new(
            &OpenAiSettings {
                api_key: API_KEY.to_string().into(),
                base_url: format!("{base_uri}/v1"),
                model: "gpt-4o-mini".to_string(),
                timeout,
            },
            max_chars,
        )
        .expect("build the OpenAI client"),
    )
}

/// A valid analysis object as the model would send it.
pub fn analysis_json() -> Value {
    json!({
        "verdict": "bad",
        "score": 22,
        "reasons": ["caller asked for a manager and the transfer failed"],
        "flags": ["customer_upset", "handoff_failed"],
        "recommended_action": "human_follow_up",
        "confidence": 0.86
    })
}

/// A Chat Completions response whose message content is `content`.
pub fn completion_with_content(content: &str) -> Value {
    json!({
        "id": "chatcmpl-test123",
        "object": "chat.completion",
        "created": 1765983301,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": content, "refusal": null },
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": { "prompt_tokens": 812, "completion_tokens": 64, "total_tokens": 876 }
    })
}

pub fn completion(analysis: &Value) -> Value {
    completion_with_content(&analysis.to_string())
}

/// Polls `check` every 50 ms until it returns true; panics at `deadline`.
pub async fn wait_until<F, Fut>(deadline: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    loop {
        if check().await {
            return;
        }
        if start.elapsed() > deadline {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs `run_one_job` until it processes a job (a retried job is due only
/// after its backoff); panics after `deadline`.
pub async fn next_outcome(
    pool: &PgPool,
    analyzer: &Analyzer,
    cfg: &QueueSettings,
    deadline: Duration,
) -> worker::JobOutcome {
    let start = tokio::time::Instant::now();
    loop {
        if let Some(out) = worker::run_one_job(pool, analyzer, cfg).await.unwrap() {
            return out;
        }
        if start.elapsed() > deadline {
            panic!("no job became due within {deadline:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn job_status(pool: &PgPool, job_id: i64) -> String {
    sqlx::query_scalar("select status::text from public.analysis_jobs where id = $1")
        .bind(job_id)
        .fetch_one(pool)
        .await
        .expect("read job status")
}

pub async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// One test's worker: a database of its own and a fake OpenAI server of its
/// own, with the arrange and act steps the OpenAI and queue tests share (as the
/// api's tests have `spawn_app`).
pub struct TestWorker {
    pub db: TestDb,
    pub openai: MockServer,
}

impl TestWorker {
    /// Not a demo dealership, so a seeded name cannot shadow the one inserted.
    pub const DEALER: &'static str = "worker-test-dealer";

    pub async fn start() -> TestWorker {
        TestWorker {
            db: TestDb::create().await,
            openai: MockServer::start().await,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.db.pool
    }

    /// The fake OpenAI answers `response` to chat completions, `expect` times.
    pub async fn answer(&self, response: ResponseTemplate, expect: u64) {
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(response)
            .expect(expect)
            .mount(&self.openai)
            .await;
    }

    /// The fake OpenAI answers `response` to the first request only, before
    /// whatever else is mounted.
    pub async fn answer_first(&self, response: ResponseTemplate) {
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(response)
            .up_to_n_times(1)
            .with_priority(1)
            .expect(1)
            .mount(&self.openai)
            .await;
    }

    /// The fake OpenAI answers the valid [`analysis_json`], `expect` times.
    pub async fn answer_ok(&self, expect: u64) {
        self.answer(
            ResponseTemplate::new(200).set_body_json(completion(&analysis_json())),
            expect,
        )
        .await;
    }

    /// A call of [`Self::DEALER`] with `transcript`, queued for analysis as
    /// ingest queues it; returns the job id.
    pub async fn call(&self, call_id: &str, transcript: &str) -> i64 {
        self.call_at(Self::DEALER, call_id, transcript).await
    }

    /// [`Self::call`] at another dealership.
    pub async fn call_at(&self, dealership_id: &str, call_id: &str, transcript: &str) -> i64 {
        seed_call(self.pool(), dealership_id, call_id, Some(transcript)).await;
        enqueue(self.pool(), dealership_id, call_id, "ingest").await
    }

    /// The OpenAI analyzer pointed at this test's fake server (5 s timeout,
    /// 20,000 transcript characters).
    pub fn analyzer(&self) -> Analyzer {
        self.analyzer_with(Duration::from_secs(5), 20_000)
    }

    pub fn analyzer_with(&self, timeout: Duration, max_chars: usize) -> Analyzer {
        openai_analyzer(&self.openai.uri(), timeout, max_chars)
    }

    /// Runs the one due job with [`job_settings`]; panics when none was due.
    pub async fn run_one(&self, analyzer: &Analyzer) -> worker::JobOutcome {
        worker::run_one_job(self.pool(), analyzer, &job_settings("w1"))
            .await
            .expect("run_one_job")
            .expect("a job was due")
    }

    /// The newest `call_analyses` row of a call of [`Self::DEALER`], as JSON.
    pub async fn analysis(&self, call_id: &str) -> Value {
        sqlx::query_scalar(
            "select to_jsonb(a) from public.call_analyses a
              where dealership_id = $1 and call_id = $2 order by id desc limit 1",
        )
        .bind(Self::DEALER)
        .bind(call_id)
        .fetch_one(self.pool())
        .await
        .expect("an analysis row exists")
    }

    /// The bodies of the requests the fake OpenAI received, in order.
    pub async fn requests(&self) -> Vec<Value> {
        self.openai
            .received_requests()
            .await
            .expect("wiremock records requests")
            .iter()
            .map(|r| r.body_json().expect("a JSON request body"))
            .collect()
    }

    /// Verifies the fake server's expectations and drops the database.
    pub async fn finish(self) {
        self.openai.verify().await;
        self.db.cleanup().await;
    }
}
