//! The queue protocol and the job loop: racing workers, a dead worker's lease,
//! NOTIFY wake-ups, graceful shutdown and the skip rules.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};
use worker::analyzer::HeuristicAnalyzer;
use worker::runner::{self, LoopState};
use worker::QueueSettings;
use worker::{db, run_one_job, Analyzer, OutcomeKind, SkipReason};

use crate::helpers::*;

const DEALER: &str = "toyota-braintree";

fn heuristic() -> Analyzer {
    Analyzer::Heuristic(HeuristicAnalyzer)
}

struct RunningWorker {
    token: CancellationToken,
    state: Arc<LoopState>,
    handle: tokio::task::JoinHandle<Result<(), worker::WorkerError>>,
}

/// Starts the real job loop and waits until it is listening.
async fn start_worker(
    db: &TestDb,
    analyzer: Analyzer,
    worker_id: &str,
    concurrency: usize,
    poll_interval: Duration,
    shutdown_grace: Duration,
) -> RunningWorker {
    let token = CancellationToken::new();
    let state = Arc::new(LoopState::default());
    let handle = tokio::spawn(runner::run(
        db.pool.clone(),
        Arc::new(analyzer),
        QueueSettings {
            concurrency,
            poll_interval,
            shutdown_grace,
            ..job_settings(worker_id)
        },
        token.clone(),
        state.clone(),
    ));
    let s = state.clone();
    wait_until(Duration::from_secs(10), "the job loop to start", || {
        let s = s.clone();
        async move { s.is_running() }
    })
    .await;
    RunningWorker {
        token,
        state,
        handle,
    }
}

impl RunningWorker {
    async fn stop(self) {
        self.token.cancel();
        tokio::time::timeout(Duration::from_secs(30), self.handle)
            .await
            .expect("the worker stops within 30 s")
            .expect("the worker task did not panic")
            .expect("the worker loop returned Ok");
        assert!(!self.state.is_running());
    }
}

/// A fake OpenAI that answers only after a minute: a job stays in flight until the
/// worker is stopped.
async fn slow_llm(t: &TestWorker) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion(&analysis_json()))
                .set_delay(Duration::from_secs(60)),
        )
        .mount(&t.openai)
        .await;
}

/// Waits until the worker's request has reached the fake OpenAI.
async fn llm_request_in_flight(server: &MockServer) {
    wait_until(
        Duration::from_secs(10),
        "the LLM request to be in flight",
        || async { !server.received_requests().await.unwrap().is_empty() },
    )
    .await;
}

#[tokio::test]
async fn two_workers_racing_on_200_jobs_judge_each_exactly_once() {
    let t = TestWorker::start().await;
    let db = &t.db;
    for i in 0..200 {
        let call = format!("call_{i:03}");
        let transcript = if i % 2 == 0 { GOOD_CALL } else { BAD_CALL };
        t.call_at(DEALER, &call, transcript).await;
    }
    let a = start_worker(
        db,
        heuristic(),
        "worker-a",
        8,
        Duration::from_millis(200),
        Duration::from_secs(10),
    )
    .await;
    let b = start_worker(
        db,
        heuristic(),
        "worker-b",
        8,
        Duration::from_millis(200),
        Duration::from_secs(10),
    )
    .await;

    wait_until(
        Duration::from_secs(60),
        "all 200 jobs to finish",
        || async {
            count(
                &db.pool,
                "select count(*) from public.analysis_jobs where status = 'done'",
            )
            .await
                == 200
        },
    )
    .await;
    a.stop().await;
    b.stop().await;

    assert_eq!(
        count(&db.pool, "select count(*) from public.call_analyses").await,
        200
    );
    assert_eq!(
        count(
            &db.pool,
            "select count(distinct call_id) from public.call_analyses"
        )
        .await,
        200
    );
    assert_eq!(
        count(
            &db.pool,
            "select count(*) from (select job_id from public.call_analyses group by job_id having count(*) > 1) d"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &db.pool,
            "select count(*) from public.analysis_jobs where attempts <> 1"
        )
        .await,
        0,
        "no job was claimed twice"
    );
    let per_worker: Vec<(Option<String>, i64)> = sqlx::query_as(
        "select locked_by, count(*) from public.analysis_jobs group by locked_by order by locked_by",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    eprintln!("jobs per worker: {per_worker:?}");
    t.finish().await;
}

#[tokio::test]
async fn a_job_whose_worker_died_mid_job_is_finished_by_another_after_the_lease_expires() {
    let t = TestWorker::start().await;
    let db = &t.db;
    let job = t.call_at(DEALER, "call_orphan", BAD_CALL).await;
    // The "dead" worker claims the job and then never does anything again,
    // exactly what a SIGKILL after the claim leaves behind.
    let claimed = db::claim_job(&db.pool, "dead-worker", Duration::from_secs(600))
        .await
        .unwrap()
        .expect("the job is claimable");
    assert_eq!(claimed.id, job);
    let rescuer = job_settings("rescuer");

    // While the lease runs, nobody else may take the job.
    assert!(run_one_job(&db.pool, &heuristic(), &rescuer)
        .await
        .unwrap()
        .is_none());

    // Time passes: the lease expires.
    sqlx::query(
        "update public.analysis_jobs set locked_until = now() - interval '1 second' where id = $1",
    )
    .bind(job)
    .execute(&db.pool)
    .await
    .unwrap();
    let out = run_one_job(&db.pool, &heuristic(), &rescuer)
        .await
        .unwrap()
        .expect("the expired job is claimed");
    assert_eq!(out.job_id, job);
    assert_eq!(out.attempt, 2);
    assert!(matches!(out.kind, OutcomeKind::Analyzed { .. }), "{out:?}");

    // If the dead worker comes back to life, it cannot clobber the result.
    let mut conn = db.pool.acquire().await.unwrap();
    assert!(!db::finish_job(
        &mut conn,
        job,
        "dead-worker",
        claimed.attempts,
        true,
        Some("late")
    )
    .await
    .unwrap());
    drop(conn);
    let (status, locked_by): (String, String) =
        sqlx::query_as("select status::text, locked_by from public.analysis_jobs where id = $1")
            .bind(job)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), locked_by.as_str()), ("done", "rescuer"));
    assert_eq!(
        count(&db.pool, "select count(*) from public.call_analyses").await,
        1
    );
    t.finish().await;
}

#[tokio::test]
async fn a_stale_claim_cannot_touch_a_job_reclaimed_under_the_same_worker_id() {
    let t = TestWorker::start().await;
    let db = &t.db;
    let job = t.call_at(DEALER, "call_reclaimed", BAD_CALL).await;
    let lease = Duration::from_secs(600);
    // Two claims under one WORKER_ID: another task of the same process, or a
    // second process configured with the same id, after the first lease expired.
    let stale = db::claim_job(&db.pool, "same-id", lease)
        .await
        .unwrap()
        .expect("the job is claimable");
    sqlx::query(
        "update public.analysis_jobs set locked_until = now() - interval '1 second' where id = $1",
    )
    .bind(job)
    .execute(&db.pool)
    .await
    .unwrap();
    let current = db::claim_job(&db.pool, "same-id", lease)
        .await
        .unwrap()
        .expect("the expired job is claimable again");
    assert_eq!(current.id, stale.id);

    assert!(
        !db::extend_lease(&db.pool, job, "same-id", stale.attempts, lease)
            .await
            .unwrap(),
        "the stale claim must not renew the new lease"
    );
    assert!(
        !db::requeue_job(&db.pool, job, "same-id", stale.attempts, lease, "stale")
            .await
            .unwrap(),
        "the stale claim must not hand the job back"
    );
    let mut conn = db.pool.acquire().await.unwrap();
    assert!(
        !db::finish_job(
            &mut conn,
            job,
            "same-id",
            stale.attempts,
            true,
            Some("stale")
        )
        .await
        .unwrap(),
        "the stale claim must not finish the job"
    );
    assert_eq!(job_status(&db.pool, job).await, "running");
    assert!(
        db::finish_job(&mut conn, job, "same-id", current.attempts, false, None)
            .await
            .unwrap(),
        "the current claim still owns the job"
    );
    drop(conn);
    assert_eq!(job_status(&db.pool, job).await, "done");
    t.finish().await;
}

#[tokio::test]
async fn a_worker_whose_lease_was_taken_over_discards_its_result() {
    let t = TestWorker::start().await;
    let db = &t.db;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion(&analysis_json()))
                .set_delay(Duration::from_millis(1500)),
        )
        .mount(&t.openai)
        .await;
    let job = t.call_at(DEALER, "call_stolen", BAD_CALL).await;
    let slow = t.analyzer_with(Duration::from_secs(10), 20_000);
    let pool = db.pool.clone();
    let first =
        tokio::spawn(async move { run_one_job(&pool, &slow, &job_settings("slow-worker")).await });
    llm_request_in_flight(&t.openai).await;
    // Its lease "expires" and another worker takes the job over.
    sqlx::query("update public.analysis_jobs set locked_by = 'other-worker' where id = $1")
        .bind(job)
        .execute(&db.pool)
        .await
        .unwrap();

    let out = first.await.unwrap().unwrap().unwrap();

    assert_eq!(out.kind, OutcomeKind::LeaseLost);
    assert_eq!(
        count(&db.pool, "select count(*) from public.call_analyses").await,
        0
    );
    assert_eq!(job_status(&db.pool, job).await, "running");
    t.finish().await;
}

#[tokio::test]
async fn a_notify_wakes_the_worker_without_waiting_for_the_poll_interval() {
    let t = TestWorker::start().await;
    let db = &t.db;
    // The first poll happens at start; the next one would be a minute later.
    let w = start_worker(
        db,
        heuristic(),
        "listener",
        2,
        Duration::from_secs(60),
        Duration::from_secs(5),
    )
    .await;
    let job = t.call_at(DEALER, "call_notify", GOOD_CALL).await;

    wait_until(
        Duration::from_secs(15),
        "the notified job to finish",
        || async { job_status(&db.pool, job).await == "done" },
    )
    .await;

    w.stop().await;
    assert_eq!(
        count(&db.pool, "select count(*) from public.call_analyses").await,
        1
    );
    t.finish().await;
}

#[tokio::test]
async fn shutdown_drains_in_flight_jobs_before_the_worker_exits() {
    let t = TestWorker::start().await;
    let db = &t.db;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion(&analysis_json()))
                .set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&t.openai)
        .await;
    let job = t.call_at(DEALER, "call_drain", BAD_CALL).await;
    let w = start_worker(
        db,
        t.analyzer_with(Duration::from_secs(10), 20_000),
        "drainer",
        2,
        Duration::from_millis(100),
        Duration::from_secs(20),
    )
    .await;
    llm_request_in_flight(&t.openai).await;

    w.stop().await;

    assert_eq!(job_status(&db.pool, job).await, "done");
    let status: String =
        sqlx::query_scalar("select status::text from public.call_analyses where job_id = $1")
            .bind(job)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(status, "ok");
    t.finish().await;
}

#[tokio::test]
async fn shutdown_leaves_the_jobs_of_another_process_with_the_same_worker_id_running() {
    let t = TestWorker::start().await;
    let db = &t.db;
    slow_llm(&t).await;
    // Another process configured with the same WORKER_ID holds this job.
    let theirs = t.call_at(DEALER, "call_theirs", BAD_CALL).await;
    let other = db::claim_job(&db.pool, "shared-id", Duration::from_secs(600))
        .await
        .unwrap()
        .expect("the other process claims its job");
    assert_eq!(other.id, theirs);
    // This process takes one of its own and is stopped mid-job.
    let mine = t.call_at(DEALER, "call_mine", BAD_CALL).await;
    let w = start_worker(
        db,
        t.analyzer_with(Duration::from_secs(120), 20_000),
        "shared-id",
        2,
        Duration::from_millis(100),
        Duration::from_millis(300),
    )
    .await;
    llm_request_in_flight(&t.openai).await;

    w.stop().await;

    assert_eq!(
        job_status(&db.pool, mine).await,
        "queued",
        "its own job goes back"
    );
    assert_eq!(
        job_status(&db.pool, theirs).await,
        "running",
        "the other process's job is left alone"
    );
    let mut conn = db.pool.acquire().await.unwrap();
    assert!(
        db::finish_job(&mut conn, theirs, "shared-id", other.attempts, false, None)
            .await
            .unwrap(),
        "the other process still owns its job and can finish it"
    );
    drop(conn);
    t.finish().await;
}

#[tokio::test]
async fn shutdown_hands_back_jobs_that_outlast_the_grace_period() {
    let t = TestWorker::start().await;
    let db = &t.db;
    slow_llm(&t).await;
    let job = t.call_at(DEALER, "call_slow", BAD_CALL).await;
    let w = start_worker(
        db,
        t.analyzer_with(Duration::from_secs(120), 20_000),
        "impatient",
        2,
        Duration::from_millis(100),
        Duration::from_millis(300),
    )
    .await;
    llm_request_in_flight(&t.openai).await;

    w.stop().await;

    let (status, locked_by, attempts): (String, Option<String>, i32) = sqlx::query_as(
        "select status::text, locked_by, attempts from public.analysis_jobs where id = $1",
    )
    .bind(job)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(status, "queued", "the job is claimable again at once");
    assert_eq!(locked_by, None);
    assert_eq!(attempts, 0, "the interrupted attempt does not count");
    assert_eq!(
        count(&db.pool, "select count(*) from public.call_analyses").await,
        0
    );
    // Another worker picks it up right away, without waiting for a lease.
    let out = run_one_job(&db.pool, &heuristic(), &job_settings("next"))
        .await
        .unwrap()
        .expect("the released job is due");
    assert_eq!(out.job_id, job);
    t.finish().await;
}

#[tokio::test]
async fn an_ingest_job_for_an_already_judged_transcript_is_skipped_but_a_reanalysis_is_not() {
    let t = TestWorker::start().await;
    let db = &t.db;
    let cfg = job_settings("w1");
    t.call_at(DEALER, "call_same", BAD_CALL).await;
    let first = run_one_job(&db.pool, &heuristic(), &cfg)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(first.kind, OutcomeKind::Analyzed { .. }),
        "{first:?}"
    );

    // call_analyzed arrives with the same transcript: ingest queues a job.
    let again = enqueue(&db.pool, DEALER, "call_same", "ingest").await;
    let second = run_one_job(&db.pool, &heuristic(), &cfg)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        second.kind,
        OutcomeKind::Skipped {
            why: SkipReason::TranscriptUnchanged
        }
    );
    assert_eq!(job_status(&db.pool, again).await, "done");
    assert_eq!(
        count(&db.pool, "select count(*) from public.call_analyses").await,
        1
    );

    // A reviewer asks for a fresh look: always analyzed.
    enqueue(&db.pool, DEALER, "call_same", "reanalysis").await;
    let third = run_one_job(&db.pool, &heuristic(), &cfg)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(third.kind, OutcomeKind::Analyzed { .. }),
        "{third:?}"
    );
    assert_eq!(
        count(&db.pool, "select count(*) from public.call_analyses").await,
        2
    );

    // A changed transcript is judged again.
    update_transcript(&db.pool, DEALER, "call_same", GOOD_CALL).await;
    enqueue(&db.pool, DEALER, "call_same", "ingest").await;
    let fourth = run_one_job(&db.pool, &heuristic(), &cfg)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(
            fourth.kind,
            OutcomeKind::Analyzed {
                verdict: domain::analysis::Verdict::Good,
                ..
            }
        ),
        "{fourth:?}"
    );
    t.finish().await;
}

#[tokio::test]
async fn a_call_without_a_transcript_is_skipped() {
    let t = TestWorker::start().await;
    let db = &t.db;
    seed_call(&db.pool, DEALER, "call_empty", None).await;
    let job = enqueue(&db.pool, DEALER, "call_empty", "reanalysis").await;
    let out = run_one_job(&db.pool, &heuristic(), &job_settings("w1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        out.kind,
        OutcomeKind::Skipped {
            why: SkipReason::NoTranscript
        }
    );
    assert_eq!(job_status(&db.pool, job).await, "done");
    assert_eq!(
        count(&db.pool, "select count(*) from public.call_analyses").await,
        0
    );
    t.finish().await;
}

#[tokio::test]
async fn a_transcript_that_changes_while_the_job_runs_gets_a_fresh_job() {
    let t = TestWorker::start().await;
    let db = &t.db;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(completion(&analysis_json()))
                .set_delay(Duration::from_millis(800)),
        )
        .mount(&t.openai)
        .await;
    let job = t.call_at(DEALER, "call_moving", BAD_CALL).await;
    let analyzer = t.analyzer_with(Duration::from_secs(10), 20_000);
    let pool = db.pool.clone();
    let running =
        tokio::spawn(async move { run_one_job(&pool, &analyzer, &job_settings("w1")).await });
    llm_request_in_flight(&t.openai).await;
    // A newer event brings a longer transcript. Ingest cannot queue a second
    // job while ours is pending (one pending job per call).
    update_transcript(
        &db.pool,
        DEALER,
        "call_moving",
        &format!("{BAD_CALL}\nAgent: Goodbye."),
    )
    .await;

    let out = running.await.unwrap().unwrap().unwrap();

    assert!(matches!(out.kind, OutcomeKind::Analyzed { .. }), "{out:?}");
    let followup: (i64, String, String, bool) = sqlx::query_as(
        "select j.id, j.status::text, j.reason, j.transcript_sha256 = c.transcript_sha256
           from public.analysis_jobs j join public.calls c using (dealership_id, call_id)
          where j.call_id = 'call_moving' and j.id <> $1",
    )
    .bind(job)
    .fetch_one(&db.pool)
    .await
    .expect("a follow-up job was queued");
    assert_eq!(
        (followup.1.as_str(), followup.2.as_str(), followup.3),
        ("queued", "ingest", true)
    );
    t.finish().await;
}

#[tokio::test]
async fn the_worker_never_writes_events_or_call_fields_beyond_the_analysis_mirror() {
    let t = TestWorker::start().await;
    let db = &t.db;
    seed_call(&db.pool, DEALER, "call_untouched", Some(BAD_CALL)).await;
    let before: Value = sqlx::query_scalar(
        "select to_jsonb(c) - '{latest_analysis_id,verdict,score,flags,reasons,analysis_model,analyzed_at,review_status,updated_at}'::text[]
           from public.calls c where call_id = 'call_untouched'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    enqueue(&db.pool, DEALER, "call_untouched", "ingest").await;
    run_one_job(&db.pool, &heuristic(), &job_settings("w1"))
        .await
        .unwrap()
        .unwrap();
    let after: Value = sqlx::query_scalar(
        "select to_jsonb(c) - '{latest_analysis_id,verdict,score,flags,reasons,analysis_model,analyzed_at,review_status,updated_at}'::text[]
           from public.calls c where call_id = 'call_untouched'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(before, after);
    t.finish().await;
}

/// Notifications arrive in commit order, so a marker sent after an insert is the
/// next one a listener gets exactly when the insert sent none.
async fn next_notification(listener: &mut sqlx::postgres::PgListener) -> String {
    tokio::time::timeout(Duration::from_secs(15), listener.recv())
        .await
        .expect("a notification within 15 s")
        .expect("the LISTEN connection works")
        .payload()
        .to_string()
}

#[tokio::test]
async fn a_job_behind_one_that_waited_is_not_announced_but_is_still_claimed() {
    let t = TestWorker::start().await;
    let db = &t.db;
    let mut listener = sqlx::postgres::PgListener::connect_with(&db.pool)
        .await
        .unwrap();
    listener.listen(runner::CHANNEL).await.unwrap();

    // Into an empty queue: announced, with the job id.
    let first = t.call_at(DEALER, "call_backlog_0", GOOD_CALL).await;
    assert_eq!(next_notification(&mut listener).await, first.to_string());
    // Behind jobs that have only just arrived: announced too, in order.
    let mut ids = Vec::new();
    for i in 1..=20 {
        ids.push(
            t.call_at(DEALER, &format!("call_backlog_{i}"), GOOD_CALL)
                .await
                .to_string(),
        );
    }
    let mut payloads = Vec::new();
    for _ in 1..=20 {
        payloads.push(next_notification(&mut listener).await);
    }
    assert_eq!(payloads, ids);

    // Nobody took the first job for a minute (no worker runs): the workers are
    // busy or down, so the next job is not announced: the marker comes first.
    sqlx::query(
        "update public.analysis_jobs set run_at = now() - interval '1 minute' where id = $1",
    )
    .bind(first)
    .execute(&db.pool)
    .await
    .unwrap();
    let late = t.call_at(DEALER, "call_backlog_late", GOOD_CALL).await;
    sqlx::query("select pg_notify($1, 'marker')")
        .bind(runner::CHANNEL)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        next_notification(&mut listener).await,
        "marker",
        "job {late} behind one that waited a minute sent no wake-up"
    );

    // A worker that never polls again after its start still takes every job,
    // the unannounced one included: it claims until the queue is empty and again
    // whenever a slot frees.
    let w = start_worker(
        db,
        heuristic(),
        "backlog",
        4,
        Duration::from_secs(600),
        Duration::from_secs(5),
    )
    .await;
    wait_until(
        Duration::from_secs(120),
        "every job, the unannounced one too, to finish",
        || async {
            count(
                &db.pool,
                "select count(*) from public.analysis_jobs where status <> 'done'",
            )
            .await
                == 0
        },
    )
    .await;
    w.stop().await;
    assert_eq!(job_status(&db.pool, late).await, "done");
    assert_eq!(
        count(&db.pool, "select count(*) from public.call_analyses").await,
        22
    );
    t.finish().await;
}
