//! When ingest enqueues analysis: only for a judgeable transcript that changed
//! the stored call, at most one pending job per call, and the worker is woken on
//! commit.

use std::time::Duration;

use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgListener;

use crate::helpers::*;

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn normalized(event_id: &str, ts: &str, transcript: &str) -> String {
    json!({
        "event_id": event_id, "dealership_id": "toyota-braintree", "call_id": "call_jobs",
        "timestamp": ts, "transcript": transcript
    })
    .to_string()
}

async fn finish_jobs(app: &TestApp) {
    sqlx::query!("update public.analysis_jobs set status = 'done', finished_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn call_started_enqueues_nothing() {
    let app = spawn_app().await;
    app.deliver(STARTED).await;
    let call = app.call(FIXTURE_CALL_ID).await.expect("call row");
    assert_eq!(call.call_status.as_deref(), Some("ongoing"));
    assert!(app.jobs_for(FIXTURE_CALL_ID).await.is_empty());
}

#[tokio::test]
async fn call_ended_enqueues_one_job_and_wakes_the_worker() {
    let app = spawn_app().await;
    let mut listener = PgListener::connect(&app.test_db.url).await.unwrap();
    listener.listen("analysis_jobs").await.unwrap();

    let answer = app.deliver(ENDED).await;
    let jobs = app.jobs_for(FIXTURE_CALL_ID).await;
    assert_eq!(jobs.len(), 1);
    let ended: serde_json::Value = serde_json::from_str(ENDED).unwrap();
    assert_eq!(jobs[0].event_id.as_deref(), answer["event_id"].as_str());
    assert_eq!(
        jobs[0].transcript_sha256,
        Some(sha256_hex(ended["call"]["transcript"].as_str().unwrap()))
    );
    assert_eq!(jobs[0].status, "queued");

    // The timeout only keeps a broken build from hanging; it asserts nothing about speed.
    let notification = tokio::time::timeout(Duration::from_secs(60), listener.recv())
        .await
        .expect("no notification on channel analysis_jobs")
        .unwrap();
    assert_eq!(notification.payload(), jobs[0].id.to_string());
}

#[tokio::test]
async fn call_analyzed_with_the_same_transcript_enqueues_no_second_job() {
    let app = spawn_app().await;
    app.deliver(ENDED).await;
    // Even with the first job finished, an unchanged transcript is not re-judged.
    finish_jobs(&app).await;
    app.deliver(ANALYZED).await;
    assert_eq!(app.jobs_for(FIXTURE_CALL_ID).await.len(), 1);
}

#[tokio::test]
async fn call_ended_enqueues_a_job_when_a_transcript_update_already_stored_its_transcript() {
    let app = spawn_app().await;
    // Retell's last `transcript_updated` can carry the final transcript, so the
    // call row already holds it when `call_ended` arrives; the call must still be judged.
    let ended: serde_json::Value = serde_json::from_str(ENDED).unwrap();
    let update = json!({"event": "transcript_updated", "call": {
        "call_id": FIXTURE_CALL_ID, "call_status": "ongoing",
        "metadata": {"dealership_id": "ford-weymouth"},
        "transcript": ended["call"]["transcript"]
    }});
    app.deliver(update.to_string()).await;
    assert!(app.jobs_for(FIXTURE_CALL_ID).await.is_empty());

    app.deliver(ENDED).await;
    let jobs = app.jobs_for(FIXTURE_CALL_ID).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0].transcript_sha256,
        Some(sha256_hex(ended["call"]["transcript"].as_str().unwrap()))
    );
}

#[tokio::test]
async fn a_changed_transcript_while_a_job_is_pending_adds_no_second_job() {
    let app = spawn_app().await;
    app.deliver(normalized("evt_j1", "2025-12-17T14:00:00Z", "Agent: v1"))
        .await;
    app.deliver(normalized("evt_j2", "2025-12-17T14:05:00Z", "Agent: v2"))
        .await;
    let jobs = app.jobs_for("call_jobs").await;
    assert_eq!(jobs.len(), 1, "the pending job reads the newest transcript");
    let call = app.call("call_jobs").await.unwrap();
    assert_eq!(call.transcript.as_deref(), Some("Agent: v2"));
}

#[tokio::test]
async fn a_changed_transcript_after_the_job_finished_enqueues_a_new_job() {
    let app = spawn_app().await;
    app.deliver(normalized("evt_j1", "2025-12-17T14:00:00Z", "Agent: v1"))
        .await;
    finish_jobs(&app).await;
    app.deliver(normalized("evt_j2", "2025-12-17T14:05:00Z", "Agent: v2"))
        .await;
    let jobs = app.jobs_for("call_jobs").await;
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[1].event_id.as_deref(), Some("evt_j2"));
    assert_eq!(jobs[1].transcript_sha256, Some(sha256_hex("Agent: v2")));
}

#[tokio::test]
async fn an_older_event_with_another_transcript_enqueues_nothing() {
    let app = spawn_app().await;
    app.deliver(normalized("evt_j2", "2025-12-17T14:05:00Z", "Agent: v2"))
        .await;
    finish_jobs(&app).await;
    app.deliver(normalized("evt_j1", "2025-12-17T14:00:00Z", "Agent: v1"))
        .await;
    assert_eq!(app.jobs_for("call_jobs").await.len(), 1);
    let call = app.call("call_jobs").await.unwrap();
    assert_eq!(call.transcript.as_deref(), Some("Agent: v2"));
}

#[tokio::test]
async fn an_event_without_a_transcript_enqueues_nothing() {
    let app = spawn_app().await;
    let body = json!({
        "event_id": "evt_nt", "dealership_id": "toyota-braintree", "call_id": "call_nt",
        "timestamp": "2025-12-17T14:00:00Z", "transcript": "   "
    });
    app.deliver(body.to_string()).await;
    assert!(app.call("call_nt").await.is_some());
    assert!(app.jobs_for("call_nt").await.is_empty());
}
