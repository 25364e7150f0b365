//! The real `worker` binary: configuration errors, SIGTERM draining and a
//! SIGKILL mid-job.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use worker::analyzer::HeuristicAnalyzer;
use worker::{Analyzer, OutcomeKind};

use crate::helpers::*;

const DEALER: &str = "subaru-natick";

fn worker_command(db_url: &str, llm_uri: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_worker"));
    cmd.env_clear()
        .env("DATABASE_URL", db_url)
        .env("WORKER_ID", "binary-under-test")
        .env("WORKER_BIND", "127.0.0.1:0")
        .env("WORKER_POLL_INTERVAL_MS", "200")
        .env("WORKER_LEASE_SECS", "5")
        .env("WORKER_SHUTDOWN_GRACE_SECS", "20")
        .env("OPENAI_API_KEY", API_KEY)
        .env("OPENAI_BASE_URL", format!("{llm_uri}/v1"))
        .env("OPENAI_TIMEOUT_SECS", "5")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

async fn wait_for_exit(child: &mut Child, deadline: Duration) -> std::process::ExitStatus {
    let start = tokio::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            return status;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            panic!("the worker did not exit within {deadline:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn slow_llm(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion(&analysis_json()))
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn the_binary_refuses_to_start_with_bad_config_and_names_the_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_worker"))
        .env_clear()
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .env("WORKER_CONCURRENCY", "lots")
        .output()
        .expect("run the worker binary");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("WORKER_CONCURRENCY"), "{stderr}");
}

#[tokio::test]
async fn sigterm_lets_the_in_flight_job_finish_before_the_binary_exits() {
    let db = TestDb::create().await;
    let server = slow_llm(Duration::from_secs(2)).await;
    seed_call(&db.pool, DEALER, "call_sigterm", Some(BAD_CALL)).await;
    let job = enqueue(&db.pool, DEALER, "call_sigterm", "ingest").await;
    let mut child = worker_command(&db.url, &server.uri())
        .spawn()
        .expect("spawn the worker");
    wait_until(Duration::from_secs(15), "the LLM request", || async {
        !server.received_requests().await.unwrap().is_empty()
    })
    .await;

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = wait_for_exit(&mut child, Duration::from_secs(30)).await;

    assert!(status.success(), "exit status {status:?}");
    assert_eq!(job_status(&db.pool, job).await, "done");
    assert_eq!(
        count(
            &db.pool,
            "select count(*) from public.call_analyses where status = 'ok'"
        )
        .await,
        1
    );
    drop(server);
    db.cleanup().await;
}

#[tokio::test]
async fn a_binary_killed_with_sigkill_mid_job_leaves_a_lease_another_worker_takes_over() {
    let db = TestDb::create().await;
    let server = slow_llm(Duration::from_secs(60)).await;
    seed_call(&db.pool, DEALER, "call_sigkill", Some(BAD_CALL)).await;
    let job = enqueue(&db.pool, DEALER, "call_sigkill", "ingest").await;
    let mut child = worker_command(&db.url, &server.uri())
        .spawn()
        .expect("spawn the worker");
    wait_until(Duration::from_secs(15), "the LLM request", || async {
        !server.received_requests().await.unwrap().is_empty()
    })
    .await;

    child.kill().expect("SIGKILL the worker");
    let _ = child.wait();
    let (status, locked_by): (String, Option<String>) =
        sqlx::query_as("select status::text, locked_by from public.analysis_jobs where id = $1")
            .bind(job)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        status, "running",
        "a killed worker cannot hand its job back"
    );
    assert_eq!(locked_by.as_deref(), Some("binary-under-test"));

    // Once the 5 s lease runs out, another worker claims and finishes the job.
    let out = next_outcome(
        &db.pool,
        &Analyzer::Heuristic(HeuristicAnalyzer),
        &job_settings("survivor"),
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(out.job_id, job);
    assert_eq!(out.attempt, 2);
    assert!(matches!(out.kind, OutcomeKind::Analyzed { .. }), "{out:?}");
    assert_eq!(job_status(&db.pool, job).await, "done");
    drop(server);
    db.cleanup().await;
}
