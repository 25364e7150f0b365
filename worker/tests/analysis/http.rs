//! `/healthz` and `/metrics` of the real application on a random port.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use worker::http::{router, AppState};
use worker::runner::LoopState;
use worker::{Application, Settings};

use crate::helpers::*;

fn settings(db: &TestDb) -> Settings {
    let vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", db.url.clone()),
        ("WORKER_BIND", "127.0.0.1:0".to_string()),
        ("WORKER_ID", "http-test".to_string()),
        ("WORKER_POLL_INTERVAL_MS", "200".to_string()),
    ]);
    Settings::from_lookup(|k| vars.get(k).cloned()).expect("valid settings")
}

#[tokio::test]
async fn healthz_and_metrics_answer_while_the_worker_runs() {
    let db = TestDb::create().await;
    seed_call(&db.pool, "kia-norwood", "call_metrics", Some(GOOD_CALL)).await;
    let job = enqueue(&db.pool, "kia-norwood", "call_metrics", "ingest").await;
    let app = Application::build_with_pool(settings(&db), db.pool.clone())
        .await
        .expect("the app builds");
    let port = app.port();
    let token = app.shutdown_token();
    let running = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");

    wait_until(
        Duration::from_secs(15),
        "the job to be analyzed",
        || async { job_status(&db.pool, job).await == "done" },
    )
    .await;
    let health: serde_json::Value = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("/healthz answers")
        .error_for_status()
        .expect("/healthz is 200 while the loop runs")
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["analyzer"], "heuristic-v1");
    assert_eq!(health["worker_id"], "http-test");

    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "worker_jobs_claimed_total",
        "worker_jobs_succeeded_total",
        "worker_jobs_failed_total",
        "worker_jobs_retried_total",
        "worker_llm_request_duration_seconds_bucket",
        "worker_queue_depth{status=\"queued\"} 0",
        "worker_oldest_queued_job_age_seconds 0",
    ] {
        assert!(
            metrics.contains(series),
            "{series} missing from:\n{metrics}"
        );
    }

    token.cancel();
    tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the app stops")
        .unwrap()
        .expect("the app stopped cleanly");
    db.cleanup().await;
}

#[tokio::test]
async fn healthz_is_503_json_when_the_job_loop_is_not_running() {
    let db = TestDb::create().await;
    let app = router(AppState {
        pool: db.pool.clone(),
        loop_state: Arc::new(LoopState::default()),
        worker_id: "idle".into(),
        analyzer_model: "heuristic-v1".into(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let r = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "unhealthy");
    assert_eq!(body["message"], "the job loop is not running");
    server.abort();
    db.cleanup().await;
}
