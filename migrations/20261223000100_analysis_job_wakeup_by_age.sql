/**
 * The queue's wake-up decision, made cheap (issue 14, ingest throughput).
 *
 * Migration 20261215000400 skips the enqueue trigger's pg_notify while at least
 * 100 other jobs wait. Deciding that cost more than the notification it saved:
 * every insert into analysis_jobs read 100 entries of the claim index and their
 * rows, through a SQL function that Postgres parses and plans again on every
 * call. Measured with pgbench calling private.ingest_event from 8 clients on a
 * queue of 30,000 waiting jobs (no worker running, as in `cargo xtask bench`),
 * the decision was about a third of the database's time per event: ~1,100
 * events/s with it, ~1,550-1,770 with the trigger emptied, ~1,550 with the rule
 * below.
 *
 * The rule now asks one question instead of counting: has a job been waiting
 * for a worker for more than private.analysis_wakeup_wait() (2 seconds)?
 * Waiting means queued, due and never tried, as before. A worker that is
 * running and has a free slot claims a job within milliseconds of its
 * notification, so a job still waiting after 2 s means the workers are busy
 * (each slot that frees claims the next job, oldest first) or none is running
 * (one claims everything when it starts): another notification would wake
 * nobody. The answer is the first such row of analysis_jobs_claim_idx (ordered
 * by run_at), so it reads one index entry however long the queue is (plus the
 * jobs being worked on, which sort among the oldest and are skipped).
 *
 * Nothing is lost either way, exactly as before: the job row commits with its
 * event, and a job that gets no notification is claimed by the next claim pass
 * (a slot freeing, another job's wake-up, or the worker's poll every
 * WORKER_POLL_INTERVAL_MS). The only cost is latency when notifications were
 * lost (the worker's LISTEN connection dropped): jobs then wait for the poll,
 * which is what a lost notification meant before too.
 *
 * PL/pgSQL instead of SQL, so the statement is planned once per session, and
 * with bitmap and sequential scans off, so that plan is always the claim index
 * read in order up to its first row.
 * private.analysis_wakeup_backlog() is dropped: nothing reads it.
 */

create function private.analysis_wakeup_wait() returns interval
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$ select interval '2 seconds' $$;
comment on function private.analysis_wakeup_wait() is 'A new job is not announced with pg_notify while another job has been waiting (queued, due, never tried) longer than this: the workers are busy with the queue or not running (migration 20261223000100).';
revoke execute on function private.analysis_wakeup_wait() from public, anon, authenticated;

-- Security definer, as before: it looks at every dealership's jobs whoever
-- inserts; it returns only a boolean.
create or replace function private.analysis_job_needs_wakeup(p_job_id bigint) returns boolean
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
-- Only the claim index in order, whatever the statistics say. The plan is made
-- once per session, often while the queue is still short or its statistics are
-- stale; a bitmap or sequential scan chosen then reads every waiting job on every
-- insert later (measured: throughput falling run after run as the queue grew).
set enable_bitmapscan = off
set enable_seqscan = off
as $$
begin
  perform 1
     from public.analysis_jobs j
    -- The first line is the claim index's predicate (analysis_jobs_claim_idx).
    where j.status in ('queued', 'running')
      and j.run_at <= now() - private.analysis_wakeup_wait()
      and j.status = 'queued'
      and j.attempts = 0
      and j.id <> p_job_id
    order by j.run_at, j.id
    limit 1;
  return not found;
end;
$$;
comment on function private.analysis_job_needs_wakeup(bigint) is 'True unless another job has been waiting (queued, due, never tried) longer than private.analysis_wakeup_wait(): then the workers are busy with the queue or not running, and a pg_notify would wake nobody (see migration 20261223000100).';
revoke execute on function private.analysis_job_needs_wakeup(bigint) from public, anon, authenticated;

drop function private.analysis_wakeup_backlog();
