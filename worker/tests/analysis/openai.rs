//! The OpenAI analyzer against a fake OpenAI server, driven one job at a time
//! with `run_one_job`.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use worker::analyzer::prompt::{PROMPT_VERSION, SYSTEM_PROMPT};
use worker::{run_one_job, OutcomeKind};

use crate::helpers::*;

// Not a demo dealership, so the seeded name cannot shadow the one these tests insert.
const DEALER: &str = "worker-test-dealer";

async fn mount_ok(server: &MockServer, expect: u64) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(&analysis_json())))
        .expect(expect)
        .mount(server)
        .await;
}

async fn analysis_row(db: &TestDb, call_id: &str) -> Value {
    sqlx::query_scalar(
        "select to_jsonb(a) from public.call_analyses a
          where dealership_id = $1 and call_id = $2 order by id desc limit 1",
    )
    .bind(DEALER)
    .bind(call_id)
    .fetch_one(&db.pool)
    .await
    .expect("an analysis row exists")
}

#[tokio::test]
async fn a_successful_completion_stores_an_ok_analysis_with_usage_and_raw_response() {
    let db = TestDb::create().await;
    let server = MockServer::start().await;
    mount_ok(&server, 1).await;
    seed_call(&db.pool, DEALER, "call_ok", Some(BAD_CALL)).await;
    let job = enqueue(&db.pool, DEALER, "call_ok", "ingest").await;
    let analyzer = openai_analyzer(&server.uri(), Duration::from_secs(5), 20_000);

    let out = run_one_job(&db.pool, &analyzer, &job_settings("w1"))
        .await
        .unwrap()
        .expect("a job was due");

    assert_eq!(out.job_id, job);
    assert!(matches!(out.kind, OutcomeKind::Analyzed { .. }), "{out:?}");
    let row = analysis_row(&db, "call_ok").await;
    assert_eq!(row["status"], "ok");
    assert_eq!(row["analysis"], analysis_json());
    assert_eq!(row["verdict"], "bad");
    assert_eq!(row["score"], 22);
    assert_eq!(row["flags"], json!(["customer_upset", "handoff_failed"]));
    assert_eq!(row["model"], "gpt-4o-mini");
    assert_eq!(row["prompt_version"], PROMPT_VERSION);
    assert_eq!(row["prompt_tokens"], 812);
    assert_eq!(row["completion_tokens"], 64);
    assert!(row["latency_ms"].as_i64().is_some());
    assert_eq!(row["raw_response"]["id"], "chatcmpl-test123");
    assert_eq!(row["job_id"], job);
    assert_eq!(row["transcript_truncated"], false);
    assert!(row["transcript_sha256"]
        .as_str()
        .is_some_and(|s| s.len() == 64));
    assert_eq!(job_status(&db.pool, job).await, "done");
    drop(server);
    db.cleanup().await;
}

#[tokio::test]
async fn the_request_carries_the_strict_json_schema_the_prompt_and_the_bearer_key() {
    let db = TestDb::create().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header(
            "authorization",
            format!("Bearer {API_KEY}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(&analysis_json())))
        .expect(1)
        .mount(&server)
        .await;
    seed_call(&db.pool, DEALER, "call_schema", Some(BAD_CALL)).await;
    enqueue(&db.pool, DEALER, "call_schema", "ingest").await;
    let analyzer = openai_analyzer(&server.uri(), Duration::from_secs(5), 20_000);

    run_one_job(&db.pool, &analyzer, &job_settings("w1"))
        .await
        .unwrap()
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    let body: Value = requests[0].body_json().unwrap();
    assert_eq!(body["model"], "gpt-4o-mini");
    let format = &body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["strict"], true);
    assert_eq!(
        format["json_schema"]["schema"],
        domain::analysis::analysis_json_schema()
    );
    let schema = &format["json_schema"]["schema"];
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(
        schema["properties"]["verdict"]["enum"],
        json!(["good", "needs_review", "bad"])
    );
    assert_eq!(schema["properties"]["score"]["type"], "integer");
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][0]["content"], SYSTEM_PROMPT);
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("Dealer worker-test-dealer"), "{user}");
    assert!(user.contains("I want to talk to a manager"), "{user}");
    assert!(
        user.contains("Retell call analysis: not available"),
        "{user}"
    );
    drop(server);
    db.cleanup().await;
}

#[tokio::test]
async fn malformed_json_content_is_asked_for_once_more_and_then_fails_the_job() {
    let db = TestDb::create().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(completion_with_content(
                "{\"verdict\": \"bad\", \"score\": ",
            )),
        )
        .expect(2)
        .mount(&server)
        .await;
    seed_call(&db.pool, DEALER, "call_malformed", Some(BAD_CALL)).await;
    let job = enqueue(&db.pool, DEALER, "call_malformed", "ingest").await;
    let analyzer = openai_analyzer(&server.uri(), Duration::from_secs(5), 20_000);

    let out = run_one_job(&db.pool, &analyzer, &job_settings("w1"))
        .await
        .unwrap()
        .unwrap();

    let OutcomeKind::Failed { error, .. } = &out.kind else {
        panic!("expected a final failure, got {out:?}");
    };
    assert!(error.starts_with("invalid_output"), "{error}");
    let row = analysis_row(&db, "call_malformed").await;
    assert_eq!(row["status"], "failed");
    assert_eq!(row["reasons"], json!(["analysis_failed"]));
    assert_eq!(job_status(&db.pool, job).await, "failed");
    drop(server);
    db.cleanup().await;
}

#[tokio::test]
async fn one_malformed_answer_followed_by_a_valid_one_succeeds() {
    let db = TestDb::create().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion_with_content("not json")))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_ok(&server, 1).await;
    seed_call(&db.pool, DEALER, "call_glitch", Some(BAD_CALL)).await;
    enqueue(&db.pool, DEALER, "call_glitch", "ingest").await;
    let analyzer = openai_analyzer(&server.uri(), Duration::from_secs(5), 20_000);

    let out = run_one_job(&db.pool, &analyzer, &job_settings("w1"))
        .await
        .unwrap()
        .unwrap();

    assert!(matches!(out.kind, OutcomeKind::Analyzed { .. }), "{out:?}");
    assert_eq!(out.attempt, 1);
    drop(server);
    db.cleanup().await;
}

#[tokio::test]
async fn a_refusal_fails_the_job_at_once_without_a_retry() {
    let db = TestDb::create().await;
    let server = MockServer::start().await;
    let mut body = completion_with_content("");
    body["choices"][0]["message"]["content"] = Value::Null;
    body["choices"][0]["message"]["refusal"] = json!("I'm sorry, I can't help with that.");
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;
    seed_call(&db.pool, DEALER, "call_refusal", Some(BAD_CALL)).await;
    let job = enqueue(&db.pool, DEALER, "call_refusal", "ingest").await;
    let analyzer = openai_analyzer(&server.uri(), Duration::from_secs(5), 20_000);

    let out = run_one_job(&db.pool, &analyzer, &job_settings("w1"))
        .await
        .unwrap()
        .unwrap();

    let OutcomeKind::Failed { error, .. } = &out.kind else {
        panic!("expected a final failure, got {out:?}");
    };
    assert!(error.starts_with("refusal:"), "{error}");
    let row = analysis_row(&db, "call_refusal").await;
    assert_eq!(row["status"], "failed");
    assert_eq!(
        row["raw_response"]["choices"][0]["message"]["refusal"],
        "I'm sorry, I can't help with that."
    );
    assert_eq!(job_status(&db.pool, job).await, "failed");
    drop(server);
    db.cleanup().await;
}

#[tokio::test]
async fn out_of_range_values_are_rejected_not_clamped() {
    let db = TestDb::create().await;
    let server = MockServer::start().await;
    let mut bad = analysis_json();
    bad["score"] = json!(150);
    bad["confidence"] = json!(1.7);
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion(&bad)))
        .expect(2)
        .mount(&server)
        .await;
    seed_call(&db.pool, DEALER, "call_range", Some(BAD_CALL)).await;
    enqueue(&db.pool, DEALER, "call_range", "ingest").await;
    let analyzer = openai_analyzer(&server.uri(), Duration::from_secs(5), 20_000);

    let out = run_one_job(&db.pool, &analyzer, &job_settings("w1"))
        .await
        .unwrap()
        .unwrap();

    let OutcomeKind::Failed { error, .. } = &out.kind else {
        panic!("expected a final failure, got {out:?}");
    };
    assert!(error.contains("outside 0-100"), "{error}");
    let row = analysis_row(&db, "call_range").await;
    assert_eq!(row["status"], "failed");
    assert_eq!(row["score"], Value::Null);
    assert_eq!(
        count(
            &db.pool,
            "select count(*) from public.call_analyses where status = 'ok'"
        )
        .await,
        0
    );
    drop(server);
    db.cleanup().await;
}

#[tokio::test]
async fn a_429_with_retry_after_requeues_the_job_for_at_least_that_long_then_succeeds() {
    let db = TestDb::create().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    mount_ok(&server, 1).await;
    seed_call(&db.pool, DEALER, "call_429", Some(BAD_CALL)).await;
    let job = enqueue(&db.pool, DEALER, "call_429", "ingest").await;
    let analyzer = openai_analyzer(&server.uri(), Duration::from_secs(5), 20_000);
    let cfg = job_settings("w1");

    let first = run_one_job(&db.pool, &analyzer, &cfg)
        .await
        .unwrap()
        .unwrap();
    let OutcomeKind::Retrying { delay, error } = &first.kind else {
        panic!("expected a retry, got {first:?}");
    };
    assert!(*delay >= Duration::from_secs(1), "{delay:?}");
    assert!(error.contains("429"), "{error}");
    let (status, locked_by, last_error): (String, Option<String>, Option<String>) = sqlx::query_as(
        "select status::text, locked_by, last_error from public.analysis_jobs where id = $1",
    )
    .bind(job)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(status, "queued");
    assert_eq!(locked_by, None);
    assert!(last_error.unwrap().contains("rate_limit_exceeded"));

    let second = next_outcome(&db.pool, &analyzer, &cfg, Duration::from_secs(15)).await;
    assert!(
        matches!(second.kind, OutcomeKind::Analyzed { .. }),
        "{second:?}"
    );
    assert_eq!(second.attempt, 2);
    assert_eq!(job_status(&db.pool, job).await, "done");
    drop(server);
    db.cleanup().await;
}

#[tokio::test]
async fn a_timeout_is_retryable() {
    let db = TestDb::create().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion(&analysis_json()))
                .set_delay(Duration::from_secs(10)),
        )
        .mount(&server)
        .await;
    seed_call(&db.pool, DEALER, "call_timeout", Some(BAD_CALL)).await;
    let job = enqueue(&db.pool, DEALER, "call_timeout", "ingest").await;
    let analyzer = openai_analyzer(&server.uri(), Duration::from_millis(300), 20_000);

    let out = run_one_job(&db.pool, &analyzer, &job_settings("w1"))
        .await
        .unwrap()
        .unwrap();

    let OutcomeKind::Retrying { error, .. } = &out.kind else {
        panic!("expected a retry, got {out:?}");
    };
    assert!(error.starts_with("timeout"), "{error}");
    assert_eq!(job_status(&db.pool, job).await, "queued");
    drop(server);
    db.cleanup().await;
}

#[tokio::test]
async fn server_errors_until_attempts_run_out_record_a_failed_analysis_and_a_processing_error() {
    let db = TestDb::create().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(500).set_body_json(
            json!({"error": {"message": "The server had an error", "type": "server_error", "code": null}}),
        ))
        .expect(3)
        .mount(&server)
        .await;
    seed_call(&db.pool, DEALER, "call_500", Some(BAD_CALL)).await;
    let job = enqueue(&db.pool, DEALER, "call_500", "ingest").await;
    let analyzer = openai_analyzer(&server.uri(), Duration::from_secs(5), 20_000);
    let cfg = worker::QueueSettings {
        max_attempts: 3,
        ..job_settings("w1")
    };

    let mut outcomes = Vec::new();
    while !matches!(outcomes.last(), Some(OutcomeKind::Failed { .. })) {
        assert!(
            outcomes.len() < 5,
            "the job never failed for good: {outcomes:?}"
        );
        outcomes.push(
            next_outcome(&db.pool, &analyzer, &cfg, Duration::from_secs(15))
                .await
                .kind,
        );
    }

    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    assert!(matches!(outcomes[0], OutcomeKind::Retrying { .. }));
    assert!(matches!(outcomes[1], OutcomeKind::Retrying { .. }));
    let row = analysis_row(&db, "call_500").await;
    assert_eq!(row["status"], "failed");
    assert_eq!(
        row["analysis"],
        json!({"verdict": "needs_review", "score": null, "reasons": ["analysis_failed"],
               "flags": [], "recommended_action": "human_follow_up", "confidence": 0.0})
    );
    assert_eq!(row["verdict"], "needs_review");
    assert_eq!(row["score"], Value::Null);
    assert_eq!(row["recommended_action"], "human_follow_up");
    assert_eq!(row["confidence"], 0.0);
    assert_eq!(row["model"], "gpt-4o-mini");
    assert_eq!(row["prompt_version"], PROMPT_VERSION);
    assert_eq!(row["error"], "http 500 (server_error)");
    let err: Value = sqlx::query_scalar(
        "select to_jsonb(e) from public.processing_errors e where call_id = 'call_500'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("a processing error was recorded");
    assert_eq!(err["stage"], "analysis");
    assert_eq!(err["dealership_id"], DEALER);
    assert_eq!(err["error"], "http 500 (server_error)");
    assert_eq!(err["detail"]["job_id"], job);
    assert_eq!(err["detail"]["attempts"], 3);
    assert_eq!(err["detail"]["status_code"], 500);
    let (status, attempts): (String, i32) =
        sqlx::query_as("select status::text, attempts from public.analysis_jobs where id = $1")
            .bind(job)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), attempts), ("failed", 3));
    // The failed analysis is the call's current verdict (mirrored by the
    // schema's trigger), so the call shows up for human review.
    let verdict: Option<String> =
        sqlx::query_scalar("select verdict::text from public.calls where call_id = 'call_500'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(verdict.as_deref(), Some("needs_review"));
    drop(server);
    db.cleanup().await;
}

#[tokio::test]
async fn insufficient_quota_fails_at_once_with_no_retry() {
    let db = TestDb::create().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"error": {
                    "message": "You exceeded your current quota, please check your plan and billing details.",
                    "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    seed_call(&db.pool, DEALER, "call_quota", Some(BAD_CALL)).await;
    let job = enqueue(&db.pool, DEALER, "call_quota", "ingest").await;
    let analyzer = openai_analyzer(&server.uri(), Duration::from_secs(5), 20_000);

    let out = run_one_job(&db.pool, &analyzer, &job_settings("w1"))
        .await
        .unwrap()
        .unwrap();

    let OutcomeKind::Failed { error, .. } = &out.kind else {
        panic!("expected a final failure, got {out:?}");
    };
    assert!(error.starts_with("insufficient_quota"), "{error}");
    assert_eq!(out.attempt, 1);
    assert_eq!(job_status(&db.pool, job).await, "failed");
    // Nothing is left to retry.
    assert!(run_one_job(&db.pool, &analyzer, &job_settings("w1"))
        .await
        .unwrap()
        .is_none());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    drop(server);
    db.cleanup().await;
}

#[tokio::test]
async fn a_401_fails_at_once_and_no_part_of_the_key_is_stored() {
    let db = TestDb::create().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "message": "Incorrect API key provided: sk-test-********6789. You can find your API key at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}})))
        .expect(1)
        .mount(&server)
        .await;
    seed_call(&db.pool, DEALER, "call_401", Some(BAD_CALL)).await;
    enqueue(&db.pool, DEALER, "call_401", "ingest").await;
    let analyzer = openai_analyzer(&server.uri(), Duration::from_secs(5), 20_000);

    let out = run_one_job(&db.pool, &analyzer, &job_settings("w1"))
        .await
        .unwrap()
        .unwrap();

    assert!(matches!(out.kind, OutcomeKind::Failed { .. }), "{out:?}");
    let row = analysis_row(&db, "call_401").await;
    assert_eq!(row["error"], "http 401 (invalid_api_key)");
    let everything: String = sqlx::query_scalar(
        "select (select string_agg(to_jsonb(a)::text, ' ') from public.call_analyses a)
             || (select string_agg(to_jsonb(e)::text, ' ') from public.processing_errors e)
             || (select string_agg(to_jsonb(j)::text, ' ') from public.analysis_jobs j)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(!everything.contains("sk-test"), "{everything}");
    drop(server);
    db.cleanup().await;
}

#[tokio::test]
async fn a_long_transcript_is_cut_in_the_middle_and_the_analysis_says_so() {
    let db = TestDb::create().await;
    let server = MockServer::start().await;
    mount_ok(&server, 1).await;
    let filler =
        "Agent: Let me read you our full list of service specials for this month.\n".repeat(60);
    let transcript = format!(
        "Agent: Kia of Norwood, how can I help?\nUser: FIRST-LINE question about specials.\n{filler}User: LAST-LINE thanks, bye."
    );
    seed_call(&db.pool, DEALER, "call_long", Some(&transcript)).await;
    enqueue(&db.pool, DEALER, "call_long", "ingest").await;
    let analyzer = openai_analyzer(&server.uri(), Duration::from_secs(5), 1_000);

    run_one_job(&db.pool, &analyzer, &job_settings("w1"))
        .await
        .unwrap()
        .unwrap();

    let body: Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("FIRST-LINE"));
    assert!(user.contains("LAST-LINE"));
    assert!(user.contains("characters omitted ...]"));
    assert!(user.len() < transcript.len());
    let row = analysis_row(&db, "call_long").await;
    assert_eq!(row["status"], "ok");
    assert_eq!(row["transcript_truncated"], true);
    let reasons = row["reasons"].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| r.as_str().unwrap().starts_with("transcript truncated")),
        "{reasons:?}"
    );
    drop(server);
    db.cleanup().await;
}
