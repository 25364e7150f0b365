//! The job loop: wake on NOTIFY or the poll interval, claim while capacity is
//! free, analyze concurrently, and on shutdown drain within the grace period
//! and hand back whatever did not finish.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::analyzer::Analyzer;
use crate::db;
use crate::error::WorkerError;
use crate::jobs::process_job;
use crate::settings::QueueSettings;

/// The channel the `analysis_jobs` insert trigger notifies.
pub const CHANNEL: &str = "analysis_jobs";

/// Shared with `/healthz`: whether the loop is claiming work.
#[derive(Debug, Default)]
pub struct LoopState {
    running: AtomicBool,
}

impl LoopState {
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    fn set_running(&self, running: bool) {
        self.running.store(running, Ordering::SeqCst);
    }
}

/// Runs until `shutdown` is cancelled, then drains and returns.
pub async fn run(
    pool: PgPool,
    analyzer: Arc<Analyzer>,
    cfg: QueueSettings,
    shutdown: CancellationToken,
    state: Arc<LoopState>,
) -> Result<(), WorkerError> {
    // Listen before the first claim, so a job inserted in between is either
    // claimed by that first pass or announced by a notification.
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen(CHANNEL).await?;
    let wake = Arc::new(Notify::new());
    let stop_listening = shutdown.child_token();
    let listener_task = tokio::spawn(forward_notifications(
        listener,
        wake.clone(),
        stop_listening.clone(),
    ));

    let jobs = Arc::new(cfg.clone());
    let permits = Arc::new(Semaphore::new(cfg.concurrency));
    let mut tasks: JoinSet<()> = JoinSet::new();
    // The leases this process holds, by the task working on each: what shutdown
    // hands back, so a process never releases another's jobs that share its
    // WORKER_ID.
    let mut held: HashMap<tokio::task::Id, db::Lease> = HashMap::new();
    let mut poll = tokio::time::interval(cfg.poll_interval);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    state.set_running(true);
    tracing::info!(
        worker_id = %jobs.worker_id,
        concurrency = cfg.concurrency,
        poll_interval_ms = cfg.poll_interval.as_millis() as u64,
        "job loop started"
    );

    loop {
        // Claim until the queue is empty or every slot is busy.
        while !shutdown.is_cancelled() {
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                break;
            };
            match db::claim_job(&pool, &jobs.worker_id, jobs.lease).await {
                Ok(Some(job)) => {
                    let lease = db::Lease {
                        job_id: job.id,
                        attempt: job.attempts,
                    };
                    let (pool, analyzer, jobs) = (pool.clone(), analyzer.clone(), jobs.clone());
                    let task = tasks.spawn(async move {
                        let _slot = permit;
                        let (id, call_id) = (job.id, job.call_id.clone());
                        if let Err(e) = process_job(&pool, &analyzer, &jobs, job).await {
                            // The lease stays; the job is claimable again when it expires.
                            tracing::error!(job_id = id, call_id = %call_id, error = %e,
                                "job processing hit an error; the job will be retried after its lease expires");
                        }
                    });
                    held.insert(task.id(), lease);
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(error = %e, "could not claim a job; will try again");
                    break;
                }
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = wake.notified() => {}
            _ = poll.tick() => {}
            Some(joined) = tasks.join_next_with_id() => finished(&mut held, joined),
        }
    }

    state.set_running(false);
    tracing::info!(
        in_flight = tasks.len(),
        grace_secs = cfg.shutdown_grace.as_secs(),
        "shutting down: no new claims; waiting for in-flight jobs"
    );
    let drained = tokio::time::timeout(cfg.shutdown_grace, async {
        while let Some(joined) = tasks.join_next_with_id().await {
            finished(&mut held, joined);
        }
    })
    .await
    .is_ok();
    if !drained {
        tracing::warn!(
            unfinished = tasks.len(),
            "grace period over; abandoning unfinished jobs"
        );
        tasks.abort_all();
        while let Some(joined) = tasks.join_next_with_id().await {
            finished(&mut held, joined);
        }
    }
    stop_listening.cancel();
    let _ = listener_task.await;
    // Jobs still ours were interrupted: give them back now instead of making
    // other workers wait for the lease to expire.
    let interrupted: Vec<db::Lease> = held.into_values().collect();
    match db::release_leases(&pool, &jobs.worker_id, &interrupted).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(released = n, "handed unfinished jobs back to the queue"),
        Err(e) => {
            tracing::error!(error = %e, "could not release leases; they will expire on their own")
        }
    }
    tracing::info!("job loop stopped");
    Ok(())
}

/// Forgets the lease of a job task that finished (its job is settled either way).
/// A cancelled task's lease stays held, for shutdown to hand back; a panicked one's
/// too, so the job is not left waiting for its lease to expire.
fn finished(
    held: &mut HashMap<tokio::task::Id, db::Lease>,
    joined: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
) {
    match joined {
        Ok((id, ())) => {
            held.remove(&id);
        }
        Err(e) if e.is_panic() => tracing::error!(error = %e, "a job task panicked"),
        Err(_) => {}
    }
}

async fn forward_notifications(
    mut listener: PgListener,
    wake: Arc<Notify>,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            received = listener.recv() => match received {
                // Coalesced: one stored permit wakes the loop, which claims
                // everything that is due.
                Ok(_) => wake.notify_one(),
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN connection failed; reconnecting (polling continues)");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                    // Anything announced while the connection was down is
                    // found by this extra pass.
                    wake.notify_one();
                }
            }
        }
    }
}
