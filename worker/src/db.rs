//! Every SQL statement the worker runs, one small function each, checked
//! against the schema at compile time by `sqlx::query!`.
//!
//! The queue protocol (see the comment on `public.analysis_jobs`): a job is
//! claimed with `FOR UPDATE SKIP LOCKED` inside one short statement that also
//! sets a lease, so no row lock is held during the LLM call. Every later write
//! to the job is conditional on the lease still being this claim's (`locked_by`
//! and `attempts`, which every claim increments): a worker whose lease expired
//! and was taken over cannot clobber the new owner, even when the new owner
//! has the same `WORKER_ID` (another task of the same process, or a second
//! process configured with the same id).

use std::time::Duration;

use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use crate::analyzer::CallContext;
use crate::metrics::QueueStats;

/// A job this worker holds the lease on.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub dealership_id: String,
    pub call_id: String,
    /// `ingest` or `reanalysis`.
    pub reason: String,
    /// Claims so far, this one included.
    pub attempts: i32,
}

/// Claims the oldest due job (or one whose lease expired) for `worker_id`.
#[tracing::instrument(skip_all)]
pub async fn claim_job(
    pool: &PgPool,
    worker_id: &str,
    lease: Duration,
) -> Result<Option<ClaimedJob>, sqlx::Error> {
    sqlx::query_as!(
        ClaimedJob,
        r#"
        update public.analysis_jobs
           set status = 'running',
               locked_by = $1,
               locked_until = now() + make_interval(secs => $2),
               attempts = attempts + 1,
               updated_at = now()
         where id = (
               select id
                 from public.analysis_jobs
                where (status = 'queued' and run_at <= now())
                   or (status = 'running' and locked_until < now())
                order by run_at, id
                limit 1
                  for update skip locked)
        returning id, dealership_id, call_id, reason, attempts
        "#,
        worker_id,
        lease.as_secs_f64(),
    )
    .fetch_optional(pool)
    .await
}

/// Pushes the lease forward while the analysis runs. False when the job is no
/// longer ours (its lease expired and another worker took it).
#[tracing::instrument(skip_all, fields(job_id))]
pub async fn extend_lease(
    pool: &PgPool,
    job_id: i64,
    worker_id: &str,
    attempt: i32,
    lease: Duration,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"
        update public.analysis_jobs
           set locked_until = now() + make_interval(secs => $4), updated_at = now()
         where id = $1 and locked_by = $2 and attempts = $3 and status = 'running'
        "#,
        job_id,
        worker_id,
        attempt,
        lease.as_secs_f64(),
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The call as it is now, with its dealership's name and time zone, read straight
/// into what the analyzer takes. `None` when there is nothing to judge: no call
/// row, or a blank transcript.
#[tracing::instrument(skip_all)]
pub async fn load_call(
    pool: &PgPool,
    dealership_id: &str,
    call_id: &str,
) -> Result<Option<CallContext>, sqlx::Error> {
    sqlx::query_as!(
        CallContext,
        r#"
        select c.dealership_id, c.call_id,
               d.name as dealership_name, d.timezone as dealership_timezone,
               c.transcript as "transcript!", c.transcript_sha256, c.started_at, c.duration_sec,
               c.direction, c.call_status, c.disconnection_reason, c.customer_name,
               c.agent_id, c.metadata, c.retell_analysis
          from public.calls c
          join public.dealerships d on d.id = c.dealership_id
         where c.dealership_id = $1 and c.call_id = $2
           and c.transcript ~ '[^[:space:]]'
        "#,
        dealership_id,
        call_id,
    )
    .fetch_optional(pool)
    .await
}

/// `transcript_sha256` of the call's newest successful analysis: `None` when
/// it was never judged, `Some(None)` when that analysis recorded no hash.
#[tracing::instrument(skip_all)]
pub async fn newest_ok_analysis_sha(
    pool: &PgPool,
    dealership_id: &str,
    call_id: &str,
) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"
        select transcript_sha256
          from public.call_analyses
         where dealership_id = $1 and call_id = $2 and status = 'ok'
         order by id desc
         limit 1
        "#,
        dealership_id,
        call_id,
    )
    .fetch_optional(pool)
    .await
}

/// Marks the job done (or failed) if this worker still holds it. False means
/// the lease was lost: the caller must roll back whatever it wrote.
#[tracing::instrument(skip_all, fields(job_id))]
pub async fn finish_job(
    conn: &mut PgConnection,
    job_id: i64,
    worker_id: &str,
    attempt: i32,
    failed: bool,
    last_error: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let status = if failed { "failed" } else { "done" };
    let done = sqlx::query!(
        r#"
        update public.analysis_jobs
           set status = ($4::text)::public.job_status,
               finished_at = now(),
               locked_until = null,
               last_error = $5,
               updated_at = now()
         where id = $1 and locked_by = $2 and attempts = $3 and status = 'running'
        "#,
        job_id,
        worker_id,
        attempt,
        status,
        last_error,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Hands the job back to the queue, due again after `delay`.
#[tracing::instrument(skip_all, fields(job_id))]
pub async fn requeue_job(
    pool: &PgPool,
    job_id: i64,
    worker_id: &str,
    attempt: i32,
    delay: Duration,
    last_error: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"
        update public.analysis_jobs
           set status = 'queued',
               run_at = now() + make_interval(secs => $4),
               locked_by = null,
               locked_until = null,
               last_error = $5,
               updated_at = now()
         where id = $1 and locked_by = $2 and attempts = $3 and status = 'running'
        "#,
        job_id,
        worker_id,
        attempt,
        delay.as_secs_f64(),
        last_error,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A claimed job as one worker process holds it: the job and the attempt number
/// its claim gave it. Another claim of the same job (after the lease expired)
/// has a higher attempt, so a stale holder can never touch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub job_id: i64,
    pub attempt: i32,
}

/// On shutdown: hands the given leases, the jobs this process still holds, back
/// to the queue at once, without counting the interrupted attempt against the
/// job. Matching the attempt as well as `locked_by` means a process never
/// requeues the in-flight jobs of another process that shares its `WORKER_ID`.
#[tracing::instrument(skip_all)]
pub async fn release_leases(
    pool: &PgPool,
    worker_id: &str,
    leases: &[Lease],
) -> Result<u64, sqlx::Error> {
    if leases.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = leases.iter().map(|l| l.job_id).collect();
    let attempts: Vec<i32> = leases.iter().map(|l| l.attempt).collect();
    let done = sqlx::query!(
        r#"
        update public.analysis_jobs j
           set status = 'queued',
               locked_by = null,
               locked_until = null,
               attempts = greatest(j.attempts - 1, 0),
               last_error = 'released: worker shut down before finishing',
               updated_at = now()
          from unnest($2::bigint[], $3::int[]) as held (id, attempt)
         where j.id = held.id
           and j.attempts = held.attempt
           and j.locked_by = $1
           and j.status = 'running'
        "#,
        worker_id,
        &ids,
        &attempts,
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// One row of `call_analyses`.
#[derive(Debug, Clone)]
pub struct NewAnalysis<'a> {
    pub dealership_id: &'a str,
    pub call_id: &'a str,
    pub job_id: i64,
    pub analysis: &'a domain::analysis::Analysis,
    pub ok: bool,
    pub model: &'a str,
    pub prompt_version: &'a str,
    pub latency_ms: Option<i32>,
    pub prompt_tokens: Option<i32>,
    pub completion_tokens: Option<i32>,
    pub transcript_sha256: Option<&'a str>,
    pub transcript_truncated: bool,
    pub raw_response: Option<&'a Value>,
    pub error: Option<&'a str>,
    pub provenance: &'a crate::analyzer::Provenance,
    pub dropped_quotes: &'a [String],
    /// `domain::signals::RetellSignal` codes that decided or changed the verdict.
    pub retell_signals: &'a [domain::signals::RetellSignal],
}

#[tracing::instrument(skip_all)]
pub async fn insert_analysis(
    conn: &mut PgConnection,
    a: &NewAnalysis<'_>,
) -> Result<i64, sqlx::Error> {
    // Through text, not `to_value`: `to_value` widens the f32 confidence to
    // f64 (0.86 becomes 0.8600000143051147); the text form is the shortest
    // that round-trips, i.e. what the analyzer actually said.
    let analysis_json: Value = serde_json::to_string(a.analysis)
        .and_then(|text| serde_json::from_str(&text))
        .expect("an Analysis always serializes to JSON");
    let flags: Vec<String> = a
        .analysis
        .flags
        .iter()
        .map(|f| f.as_str().to_string())
        .collect();
    let status = if a.ok { "ok" } else { "failed" };
    let retell_signals: Vec<String> = a
        .retell_signals
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    sqlx::query_scalar!(
        r#"
        insert into public.call_analyses (
            dealership_id, call_id, job_id, analysis, verdict, score, reasons, flags,
            recommended_action, confidence, status, model, prompt_version, latency_ms,
            prompt_tokens, completion_tokens, transcript_sha256, transcript_truncated,
            raw_response, error, analyzer, prompt_sha256, schema_sha256, dropped_quotes,
            retell_signals)
        values ($1, $2, $3, $4, ($5::text)::public.verdict, $6, $7, $8, $9, $10,
                ($11::text)::public.analysis_status, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                $21, $22, $23, $24, $25)
        returning id
        "#,
        a.dealership_id,
        a.call_id,
        a.job_id,
        analysis_json,
        a.analysis.verdict.as_str(),
        a.analysis.score.map(i16::from),
        &a.analysis.reasons,
        &flags,
        a.analysis.recommended_action.as_str(),
        a.analysis.confidence,
        status,
        a.model,
        a.prompt_version,
        a.latency_ms,
        a.prompt_tokens,
        a.completion_tokens,
        a.transcript_sha256,
        a.transcript_truncated,
        a.raw_response,
        a.error,
        a.provenance.analyzer,
        a.provenance.prompt_sha256,
        a.provenance.schema_sha256,
        a.dropped_quotes,
        &retell_signals,
    )
    .fetch_one(conn)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn insert_processing_error(
    conn: &mut PgConnection,
    dealership_id: &str,
    call_id: &str,
    error: &str,
    detail: &Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"
        insert into public.processing_errors (stage, call_id, dealership_id, error, detail)
        values ('analysis', $1, $2, $3, $4)
        "#,
        call_id,
        dealership_id,
        error,
        detail,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Queues a fresh job when the call's transcript is no longer the one just
/// judged (it changed while the job ran, and ingest could not queue a second
/// job because ours was pending). Returns the new job's id.
#[tracing::instrument(skip_all)]
pub async fn enqueue_if_transcript_changed(
    conn: &mut PgConnection,
    dealership_id: &str,
    call_id: &str,
    judged_sha256: Option<&str>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"
        insert into public.analysis_jobs (dealership_id, call_id, transcript_sha256, reason)
        select c.dealership_id, c.call_id, c.transcript_sha256, 'ingest'
          from public.calls c
         where c.dealership_id = $1 and c.call_id = $2
           and c.transcript is not null
           and c.transcript_sha256 is distinct from $3
        on conflict (dealership_id, call_id) where status in ('queued', 'running') do nothing
        returning id
        "#,
        dealership_id,
        call_id,
        judged_sha256,
    )
    .fetch_optional(conn)
    .await
}

/// Queue gauges for `/metrics`.
#[tracing::instrument(skip_all)]
pub async fn queue_stats(pool: &PgPool) -> Result<QueueStats, sqlx::Error> {
    let row = sqlx::query!(
        r#"
        select count(*) filter (where status = 'queued') as "queued!",
               count(*) filter (where status = 'running') as "running!",
               coalesce(extract(epoch from now() - min(run_at)
                        filter (where status = 'queued' and run_at <= now())), 0)::float8
                 as "oldest_queued_age_secs!"
          from public.analysis_jobs
         where status in ('queued', 'running')
        "#
    )
    .fetch_one(pool)
    .await?;
    Ok(QueueStats {
        queued: row.queued,
        running: row.running,
        oldest_queued_age_secs: row.oldest_queued_age_secs,
    })
}

/// A cheap round trip for `/healthz`.
#[tracing::instrument(skip_all)]
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!(r#"select 1 as "one!""#)
        .fetch_one(pool)
        .await?;
    Ok(())
}
