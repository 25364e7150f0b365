//! Processing one analysis job, from claim to the rows it leaves behind.
//!
//! Retry policy (documented in docs/analysis.md): a retryable failure hands the
//! job back to the queue with an exponential, jittered backoff (at least the
//! server's `Retry-After`) rather than retrying in-process, so a crash between
//! attempts loses nothing. `analysis_jobs.attempts` counts claims and
//! `ANALYSIS_MAX_ATTEMPTS` bounds them; the attempt that reaches the limit
//! writes the failed analysis. Non-retryable failures write it at once.

use std::future::Future;
use std::time::Duration;

use domain::analysis::{Analysis, Verdict};
use rand::Rng;
use serde_json::json;
use sqlx::PgPool;
use tracing::Instrument;

use crate::analyzer::{AnalyzeError, Analyzer, AnalyzerOutput, CallContext};
use crate::db::{self, ClaimedJob, NewAnalysis};
use crate::error::WorkerError;
use crate::metrics::{Metrics, METRICS};
use crate::settings::QueueSettings;

/// How a job ended for this worker.
#[derive(Debug, Clone)]
pub struct JobOutcome {
    pub job_id: i64,
    pub dealership_id: String,
    pub call_id: String,
    /// The job's `attempts` after this claim.
    pub attempt: i32,
    pub kind: OutcomeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutcomeKind {
    /// An ok analysis was stored and the job is done.
    Analyzed { analysis_id: i64, verdict: Verdict },
    /// A retryable failure: the job is queued again, due after `delay`.
    Retrying { delay: Duration, error: String },
    /// Final failure: a failed analysis and a processing error were stored.
    Failed { analysis_id: i64, error: String },
    /// Done without a new analysis.
    Skipped { why: SkipReason },
    /// Another worker took the job over (our lease expired); nothing was written.
    LeaseLost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// An `ingest` job for a transcript that already has an ok analysis.
    TranscriptUnchanged,
    /// The call has no transcript to judge.
    NoTranscript,
}

/// Claims one due job and processes it. `Ok(None)` when the queue has nothing
/// due. Tests drive the worker through this, one job at a time.
pub async fn run_one_job(
    pool: &PgPool,
    analyzer: &Analyzer,
    cfg: &QueueSettings,
) -> Result<Option<JobOutcome>, WorkerError> {
    let Some(job) = db::claim_job(pool, &cfg.worker_id, cfg.lease).await? else {
        return Ok(None);
    };
    process_job(pool, analyzer, cfg, job).await.map(Some)
}

/// Processes a job this worker has just claimed.
pub async fn process_job(
    pool: &PgPool,
    analyzer: &Analyzer,
    cfg: &QueueSettings,
    job: ClaimedJob,
) -> Result<JobOutcome, WorkerError> {
    Metrics::inc(&METRICS.jobs_claimed);
    let span = tracing::info_span!(
        "job",
        job_id = job.id,
        call_id = %job.call_id,
        dealership_id = %job.dealership_id,
        attempt = job.attempts,
        reason = %job.reason,
    );
    let result = process(pool, analyzer, cfg, &job).instrument(span).await;
    let kind = result?;
    match &kind {
        OutcomeKind::Analyzed { .. } => Metrics::inc(&METRICS.jobs_succeeded),
        OutcomeKind::Retrying { .. } => Metrics::inc(&METRICS.jobs_retried),
        OutcomeKind::Failed { .. } => Metrics::inc(&METRICS.jobs_failed),
        OutcomeKind::Skipped { .. } => Metrics::inc(&METRICS.jobs_skipped),
        OutcomeKind::LeaseLost => Metrics::inc(&METRICS.leases_lost),
    }
    Ok(JobOutcome {
        job_id: job.id,
        dealership_id: job.dealership_id,
        call_id: job.call_id,
        attempt: job.attempts,
        kind,
    })
}

async fn process(
    pool: &PgPool,
    analyzer: &Analyzer,
    cfg: &QueueSettings,
    job: &ClaimedJob,
) -> Result<OutcomeKind, WorkerError> {
    // The foreign key cascades job deletion with the call, so a claimed job
    // always has its call; an empty transcript is the one thing to skip.
    let Some(call) = db::load_call(pool, &job.dealership_id, &job.call_id).await? else {
        tracing::info!("call has no transcript; nothing to analyze");
        return skip(pool, cfg, job, SkipReason::NoTranscript).await;
    };

    if job.reason == "ingest" {
        let previous = db::newest_ok_analysis_sha(pool, &job.dealership_id, &job.call_id).await?;
        if let Some(Some(prev)) = previous {
            if call.transcript_sha256.as_deref() == Some(prev.as_str()) {
                tracing::info!("transcript unchanged since the last ok analysis; skipping");
                return skip(pool, cfg, job, SkipReason::TranscriptUnchanged).await;
            }
        }
    }

    if job.attempts > cfg.max_attempts {
        // Only reachable when earlier claims never finished (a crash or a lost
        // lease each time): stop before the job crashes another worker.
        let error = AnalyzeError {
            kind: crate::analyzer::FailureKind::Fatal,
            message: format!(
                "gave up after {} claims: earlier attempts never finished (worker crash or lost lease)",
                job.attempts - 1
            ),
            http_status: None,
            retry_after: None,
            raw_response: None,
            latency_ms: None,
            transcript_truncated: false,
        };
        return fail(pool, analyzer, cfg, job, &call, &error).await;
    }

    let Some(result) = with_lease(pool, cfg, job, analyzer.analyze(&call)).await else {
        tracing::warn!("lease lost while analyzing; another worker owns the job now");
        return Ok(OutcomeKind::LeaseLost);
    };
    match result {
        Ok(out) => store_success(pool, cfg, job, &call, &out).await,
        Err(e) if e.is_retryable() && job.attempts < cfg.max_attempts => {
            let delay = backoff(cfg, job.attempts, e.retry_after);
            if !db::requeue_job(
                pool,
                job.id,
                &cfg.worker_id,
                job.attempts,
                delay,
                &e.message,
            )
            .await?
            {
                return Ok(OutcomeKind::LeaseLost);
            }
            tracing::warn!(
                error = %e.message,
                retry_in_ms = delay.as_millis() as u64,
                "analysis failed; job queued for another attempt"
            );
            Ok(OutcomeKind::Retrying {
                delay,
                error: e.message,
            })
        }
        Err(e) => fail(pool, analyzer, cfg, job, &call, &e).await,
    }
}

/// Runs `fut` while renewing the job's lease every third of its length.
/// `None` when the lease turned out to belong to someone else: the analysis is
/// abandoned (dropping the future cancels the HTTP request).
async fn with_lease<F: Future>(
    pool: &PgPool,
    cfg: &QueueSettings,
    job: &ClaimedJob,
    fut: F,
) -> Option<F::Output> {
    tokio::pin!(fut);
    let period = (cfg.lease / 3).max(Duration::from_millis(50));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tokio::select! {
            out = &mut fut => return Some(out),
            _ = tick.tick() => match db::extend_lease(pool, job.id, &cfg.worker_id, job.attempts, cfg.lease).await {
                Ok(true) => {}
                Ok(false) => return None,
                // A blip is not a lost lease: keep working, the next tick retries.
                Err(e) => tracing::warn!(error = %e, "could not renew the lease"),
            },
        }
    }
}

async fn skip(
    pool: &PgPool,
    cfg: &QueueSettings,
    job: &ClaimedJob,
    why: SkipReason,
) -> Result<OutcomeKind, WorkerError> {
    let note = match why {
        SkipReason::TranscriptUnchanged => "skipped: transcript unchanged since the last analysis",
        SkipReason::NoTranscript => "skipped: the call has no transcript",
    };
    let mut conn = pool.acquire().await?;
    if !db::finish_job(
        &mut conn,
        job.id,
        &cfg.worker_id,
        job.attempts,
        false,
        Some(note),
    )
    .await?
    {
        return Ok(OutcomeKind::LeaseLost);
    }
    Ok(OutcomeKind::Skipped { why })
}

async fn store_success(
    pool: &PgPool,
    cfg: &QueueSettings,
    job: &ClaimedJob,
    call: &CallContext,
    out: &AnalyzerOutput,
) -> Result<OutcomeKind, WorkerError> {
    let mut tx = pool.begin().await?;
    // The job is finished first: if the lease is gone, nothing else is written
    // and the new owner's analysis is the only one.
    if !db::finish_job(&mut tx, job.id, &cfg.worker_id, job.attempts, false, None).await? {
        tx.rollback().await?;
        tracing::warn!("lease lost before the analysis could be stored; discarded");
        return Ok(OutcomeKind::LeaseLost);
    }
    let analysis_id = db::insert_analysis(
        &mut tx,
        &NewAnalysis {
            dealership_id: &job.dealership_id,
            call_id: &job.call_id,
            job_id: job.id,
            analysis: &out.analysis,
            ok: true,
            model: &out.model,
            prompt_version: &out.prompt_version,
            latency_ms: out.latency_ms,
            prompt_tokens: out.prompt_tokens,
            completion_tokens: out.completion_tokens,
            transcript_sha256: call.transcript_sha256.as_deref(),
            transcript_truncated: out.transcript_truncated,
            raw_response: out.raw_response.as_ref(),
            error: None,
            provenance: &out.provenance,
            dropped_quotes: &out.dropped_quotes,
            retell_signals: &out.retell_signals,
        },
    )
    .await?;
    let followup = db::enqueue_if_transcript_changed(
        &mut tx,
        &job.dealership_id,
        &job.call_id,
        call.transcript_sha256.as_deref(),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        analysis_id,
        verdict = out.analysis.verdict.as_str(),
        score = out.analysis.score,
        flags = %out.analysis.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(","),
        model = %out.model,
        latency_ms = out.latency_ms,
        followup_job_id = followup,
        "call analyzed"
    );
    Ok(OutcomeKind::Analyzed {
        analysis_id,
        verdict: out.analysis.verdict,
    })
}

/// Final failure: the job fails, the call gets a failed analysis (verdict
/// needs_review, reason analysis_failed) so a human looks at it, and the cause
/// goes to `processing_errors`. Events and calls are not written here.
async fn fail(
    pool: &PgPool,
    analyzer: &Analyzer,
    cfg: &QueueSettings,
    job: &ClaimedJob,
    call: &CallContext,
    e: &AnalyzeError,
) -> Result<OutcomeKind, WorkerError> {
    let mut tx = pool.begin().await?;
    if !db::finish_job(
        &mut tx,
        job.id,
        &cfg.worker_id,
        job.attempts,
        true,
        Some(&e.message),
    )
    .await?
    {
        tx.rollback().await?;
        return Ok(OutcomeKind::LeaseLost);
    }
    let failed = Analysis::failed();
    let provenance = analyzer.provenance();
    let analysis_id = db::insert_analysis(
        &mut tx,
        &NewAnalysis {
            dealership_id: &job.dealership_id,
            call_id: &job.call_id,
            job_id: job.id,
            analysis: &failed,
            ok: false,
            model: analyzer.model(),
            prompt_version: analyzer.prompt_version(),
            latency_ms: e.latency_ms,
            prompt_tokens: None,
            completion_tokens: None,
            transcript_sha256: call.transcript_sha256.as_deref(),
            transcript_truncated: e.transcript_truncated,
            raw_response: e.raw_response.as_ref(),
            error: Some(&e.message),
            provenance: &provenance,
            dropped_quotes: &[],
            retell_signals: &[],
        },
    )
    .await?;
    let detail = json!({
        "job_id": job.id,
        "analysis_id": analysis_id,
        "attempts": job.attempts,
        "max_attempts": cfg.max_attempts,
        "retryable": e.is_retryable(),
        "status_code": e.http_status,
        "model": analyzer.model(),
        "prompt_version": analyzer.prompt_version(),
        "job_reason": job.reason,
    });
    db::insert_processing_error(
        &mut tx,
        &job.dealership_id,
        &job.call_id,
        &e.message,
        &detail,
    )
    .await?;
    let followup = db::enqueue_if_transcript_changed(
        &mut tx,
        &job.dealership_id,
        &job.call_id,
        call.transcript_sha256.as_deref(),
    )
    .await?;
    tx.commit().await?;
    tracing::error!(
        analysis_id,
        error = %e.message,
        status_code = e.http_status,
        followup_job_id = followup,
        "analysis failed for good; stored as needs_review / analysis_failed"
    );
    Ok(OutcomeKind::Failed {
        analysis_id,
        error: e.message.clone(),
    })
}

/// Exponential backoff with "equal jitter" (half fixed, half random) so jobs
/// that failed together do not retry together; never shorter than the
/// server's `Retry-After` (capped at `max_retry_after`).
pub fn backoff(cfg: &QueueSettings, attempt: i32, retry_after: Option<Duration>) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(0);
    let exp = cfg
        .retry_base
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(cfg.retry_max);
    let half = exp / 2;
    let jitter_ms = rand::thread_rng().gen_range(0..=half.as_millis() as u64);
    let computed = half + Duration::from_millis(jitter_ms);
    match retry_after {
        Some(ra) => computed.max(ra.min(cfg.max_retry_after)),
        None => computed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_within_its_jitter_band() {
        let cfg = QueueSettings::default();
        for attempt in 1..=6 {
            let full = Duration::from_secs(2u64 << (attempt - 1)).min(cfg.retry_max);
            for _ in 0..50 {
                let d = backoff(&cfg, attempt, None);
                assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
            }
        }
    }

    #[test]
    fn backoff_is_capped() {
        let cfg = QueueSettings::default();
        assert!(backoff(&cfg, 40, None) <= cfg.retry_max);
    }

    #[test]
    fn backoff_honours_retry_after_up_to_the_cap() {
        let cfg = QueueSettings::default();
        assert!(backoff(&cfg, 1, Some(Duration::from_secs(30))) >= Duration::from_secs(30));
        assert_eq!(
            backoff(&cfg, 1, Some(Duration::from_secs(86_400))),
            cfg.max_retry_after
        );
    }
}
