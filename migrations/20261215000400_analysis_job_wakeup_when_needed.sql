/**
 * The analysis queue's wake-up, only when a worker may need it (issue 14).
 *
 * Every insert into analysis_jobs sent `pg_notify('analysis_jobs', id)`. A
 * transaction that notifies takes Postgres's cluster-wide notify lock before its
 * commit record and holds it through the WAL flush, so on a durable server
 * (fsync on, synchronous_commit on) notifying commits are flushed one at a time
 * instead of in groups: the webhook's durable throughput was a third of a plain
 * insert's.
 *
 * The notification is only a wake-up. The worker claims until the queue is empty
 * or every slot is busy, claims again whenever a job finishes, and polls every
 * WORKER_POLL_INTERVAL_MS (5 s) besides. So while many jobs are already waiting,
 * another notification wakes nobody who is not already coming: either the workers
 * are busy (each slot that frees claims the next job) or none is running (a
 * worker claims everything when it starts). The trigger now skips the
 * notification when at least private.analysis_wakeup_backlog() (100) jobs other
 * than the new one are waiting: queued, due, and never tried (a retry that
 * became due was announced by nobody, so it does not count).
 *
 * Nothing is lost either way: the job row is committed with the event, and a job
 * that gets no notification is claimed by the next claim pass (a slot freeing,
 * another job's wake-up, or the poll). The only cost is latency in one case: if
 * the workers drain all 100 waiting jobs between this insert and its commit and
 * then go idle, the job waits for the poll (at most WORKER_POLL_INTERVAL_MS).
 * An insert into a short queue (a worker that keeps up) still notifies, as before.
 */

/** How many waiting jobs make a wake-up unnecessary */
create function private.analysis_wakeup_backlog() returns integer
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$ select 100 $$;
comment on function private.analysis_wakeup_backlog() is 'At least this many waiting jobs (queued, due, never tried) besides a new one, and the new job is not announced with pg_notify: the workers are already busy with the queue or not running.';
revoke execute on function private.analysis_wakeup_backlog() from public, anon, authenticated;

/** Whether a new job needs a wake-up */
-- Security definer: it counts every dealership's jobs whoever inserts; it returns
-- only a boolean.
create function private.analysis_job_needs_wakeup(p_job_id bigint) returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select count(*) < private.analysis_wakeup_backlog()
    from (
      select 1
        from public.analysis_jobs j
       -- The first line is the claim index's predicate (analysis_jobs_claim_idx).
       where j.status in ('queued', 'running')
         and j.status = 'queued'
         and j.run_at <= now()
         and j.attempts = 0
         and j.id <> p_job_id
       order by j.run_at, j.id
       limit private.analysis_wakeup_backlog()
    ) waiting
$$;
comment on function private.analysis_job_needs_wakeup(bigint) is 'True unless at least private.analysis_wakeup_backlog() other jobs are waiting (queued, due, never tried): then the workers are busy with the queue or not running, and a pg_notify would wake nobody (see migration 20261215000400).';
revoke execute on function private.analysis_job_needs_wakeup(bigint) from public, anon, authenticated;

/** The enqueue trigger */
-- Security definer now, so the check runs as the owner whichever role inserts
-- the job (the api, a reanalysis request, the service role); a trigger function
-- cannot be called directly.
create or replace function public.notify_analysis_job() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  -- Delivered on commit only, so a worker never wakes for an uncommitted job.
  if private.analysis_job_needs_wakeup(new.id) then
    perform pg_notify('analysis_jobs', new.id::text);
  end if;
  return new;
end;
$$;
comment on function public.notify_analysis_job() is 'After insert on analysis_jobs: wakes the workers (pg_notify on channel analysis_jobs, payload the job id) unless enough jobs are already waiting (private.analysis_job_needs_wakeup).';
