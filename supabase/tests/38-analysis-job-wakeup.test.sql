-- The queue's wake-up only when needed (migrations 20261215000400 and, for the
-- rule "not while a job has waited more than 2 s", 20261223000100): which new jobs
-- are announced with pg_notify. A pending notification cannot be seen inside a
-- transaction, so this file checks the decision the trigger takes
-- (private.analysis_job_needs_wakeup) and that the trigger is wired to it; the
-- worker tests (worker/tests/analysis/queue.rs) check real delivery and that an
-- unannounced job is still claimed.
begin;
select plan(14);

-- Start from an empty queue (rolled back).
update public.analysis_jobs set status = 'done' where status in ('queued', 'running');

insert into public.dealerships (id, name) values ('t38-motors', 'T38 Motors');
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at)
select 't38-motors', 't38-' || i, now(), now() from generate_series(1, 130) i;

create function pg_temp.t38_enqueue(p_from int, p_to int, p_status public.job_status default 'queued',
                                    p_run_at timestamptz default now(), p_attempts int default 0)
returns void language sql as $$
  insert into public.analysis_jobs (dealership_id, call_id, status, run_at, attempts)
  select 't38-motors', 't38-' || i, p_status, p_run_at, p_attempts from generate_series(p_from, p_to) i
$$;
create function pg_temp.t38_job(p_i int) returns bigint language sql as $$
  select id from public.analysis_jobs where dealership_id = 't38-motors' and call_id = 't38-' || p_i
$$;

/** Wiring and privileges */
select ok(
  (select prosrc like '%private.analysis_job_needs_wakeup(new.id)%' and prosecdef
     from pg_proc where oid = 'public.notify_analysis_job()'::regprocedure),
  'The enqueue trigger asks private.analysis_job_needs_wakeup, as the owner (security definer)'
);
select ok(
  exists (select 1 from pg_trigger
           where tgrelid = 'public.analysis_jobs'::regclass and tgname = 'analysis_jobs_notify'
             and tgfoid = 'public.notify_analysis_job()'::regprocedure and tgenabled = 'O'),
  'The trigger still fires after every insert into analysis_jobs'
);
select is(private.analysis_wakeup_wait(), interval '2 seconds', 'The threshold is a job waiting for 2 seconds');
select ok(
  not has_function_privilege('authenticated', 'private.analysis_job_needs_wakeup(bigint)', 'execute')
    and not has_function_privilege('anon', 'private.analysis_job_needs_wakeup(bigint)', 'execute')
    and not has_function_privilege('authenticated', 'private.analysis_wakeup_wait()', 'execute'),
  'Neither API role may call the queue helpers'
);

/** Decisions */
select pg_temp.t38_enqueue(1, 1);
select ok(private.analysis_job_needs_wakeup(pg_temp.t38_job(1)),
  'The only job in the queue is announced');

select pg_temp.t38_enqueue(2, 120);
select ok(private.analysis_job_needs_wakeup(pg_temp.t38_job(120)),
  'A job behind 119 others that have just arrived is announced: nobody has waited long');

update public.analysis_jobs set run_at = now() - interval '1 second'
 where dealership_id = 't38-motors' and call_id = 't38-1';
select ok(private.analysis_job_needs_wakeup(pg_temp.t38_job(120)),
  'A job waiting for 1 second does not stop the announcement');

update public.analysis_jobs set run_at = now() - interval '3 seconds'
 where dealership_id = 't38-motors' and call_id = 't38-1';
select ok(not private.analysis_job_needs_wakeup(pg_temp.t38_job(120)),
  'A job waiting for more than 2 seconds means the workers are busy or not running: not announced');
select ok(private.analysis_job_needs_wakeup(pg_temp.t38_job(1)),
  'Any job looks at the others, not at itself');

update public.analysis_jobs set status = 'running', locked_by = 't38', locked_until = now() + interval '5 minutes'
 where dealership_id = 't38-motors' and call_id = 't38-1';
select ok(private.analysis_job_needs_wakeup(pg_temp.t38_job(120)),
  'A job being worked on is not waiting');

update public.analysis_jobs set status = 'queued', locked_by = null, locked_until = null,
       run_at = now() + interval '1 minute'
 where dealership_id = 't38-motors' and call_id = 't38-1';
select ok(private.analysis_job_needs_wakeup(pg_temp.t38_job(120)),
  'A job not due yet (a retry''s back-off) is not waiting');

update public.analysis_jobs set run_at = now() - interval '1 minute', attempts = 1
 where dealership_id = 't38-motors' and call_id = 't38-1';
select ok(private.analysis_job_needs_wakeup(pg_temp.t38_job(120)),
  'A retry that became due does not count: nobody announced it');

update public.analysis_jobs set attempts = 0
 where dealership_id = 't38-motors' and call_id = 't38-1';
select ok(not private.analysis_job_needs_wakeup(pg_temp.t38_job(120)),
  'Waiting for a minute again: not announced');

update public.analysis_jobs set status = 'done'
 where dealership_id = 't38-motors' and call_id = 't38-1';
select ok(private.analysis_job_needs_wakeup(pg_temp.t38_job(120)),
  'Once the workers have taken the old job, a new job is announced again');

select * from finish();
rollback;
