-- Re-analysis limits (migration 20261202000600): the settings row and who may
-- change it, the per-call cooldown, the per-user cap over 24 hours, and what does
-- not count (returning a job that is pending anyway). Refusals are SQLSTATE PT429,
-- which PostgREST answers as HTTP 429 (e2e/tests/reanalysis_limits.rs).
-- now() is fixed for the transaction, so the log rows are aged by hand.
-- Needs supabase/seed.sql: Nora North (csm: toyota-braintree, honda-quincy), Morgan
-- Manager (her manager), Sam South (csm: ford-weymouth), Avery Admin.
begin;
select plan(32);

/** Fixtures (as the owner, rolled back) */
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, transcript, transcript_sha256)
select d, c, now() - interval '1 hour', now(), 'Agent: Thanks for calling. User: My car will not start.', md5(c)
  from (values
    ('toyota-braintree', 'rl-a'), ('toyota-braintree', 'rl-b'), ('honda-quincy', 'rl-c'),
    ('honda-quincy', 'rl-d'), ('honda-quincy', 'rl-ingest'), ('honda-quincy', 'rl-running')
  ) v (d, c)
union all
select 'ford-weymouth', 'rl-s-' || i, now() - interval '1 hour', now(), 'User: oil change please', md5(i::text)
  from generate_series(1, 51) i;

-- Captures a refusal's fields (throws_ok checks only the code and the message).
create temp table refusal (code text, message text, detail text, hint text);
grant all on refusal to authenticated;
create function pg_temp.capture_refusal(p_dealership_id text, p_call_id text) returns void
language plpgsql as $$
declare
  v_code text; v_message text; v_detail text; v_hint text;
begin
  perform public.request_reanalysis(p_dealership_id, p_call_id);
  insert into refusal values ('none', null, null, null);
exception when others then
  get stacked diagnostics v_code = returned_sqlstate, v_message = message_text,
                          v_detail = pg_exception_detail, v_hint = pg_exception_hint;
  insert into refusal values (v_code, v_message, v_detail, v_hint);
end;
$$;

/** The settings */
select results_eq(
  $$ select reanalysis_cooldown_minutes, reanalysis_daily_limit from public.app_settings $$,
  $$ values (10, 50) $$,
  'The settings hold one row with the defaults: a 10-minute cooldown per call, 50 requests per user in 24 hours'
);
select throws_ok(
  $$ insert into public.app_settings (id) values (false) $$,
  '23514', null,
  'The settings table cannot get a second row'
);
select throws_ok(
  $$ update public.app_settings set reanalysis_daily_limit = -1 $$,
  '23514', null,
  'A negative daily limit is refused'
);
select throws_ok(
  $$ update public.app_settings set reanalysis_cooldown_minutes = 1441 $$,
  '23514', null,
  'A cooldown longer than a day is refused'
);

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select results_eq(
  $$ select reanalysis_cooldown_minutes, reanalysis_daily_limit from public.app_settings $$,
  $$ values (10, 50) $$,
  'A signed-in CSM can read the limits'
);
select throws_ok(
  $$ update public.app_settings set reanalysis_daily_limit = 1000 $$,
  '42501', null,
  'A signed-in CSM cannot raise her limit'
);
select throws_ok(
  $$ delete from public.app_settings $$,
  '42501', null,
  'A signed-in CSM cannot delete the settings (which would bring back the defaults)'
);
select throws_ok(
  $$ insert into public.app_settings (id) values (true) on conflict (id) do update set reanalysis_cooldown_minutes = 0 $$,
  '42501', null,
  'A signed-in CSM cannot write the settings with an upsert'
);
reset role;

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select throws_ok(
  $$ update public.app_settings set reanalysis_daily_limit = 1000 $$,
  '42501', null,
  'An admin''s dashboard account cannot change the limits through the API either (only the owner, in Studio)'
);
reset role;

set local role anon;
select throws_ok(
  $$ select * from public.app_settings $$,
  '42501', null,
  'anon cannot read the settings'
);
reset role;

/** The cooldown per call */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
create temp table first_job on commit drop as
select public.request_reanalysis('toyota-braintree', 'rl-a') as id;
reset role;

select ok(
  (select count(*) = 1 from private.reanalysis_requests
    where user_id = 'a0000000-0000-4000-8000-000000000003' and call_id = 'rl-a'
      and job_id = (select id from first_job)),
  'The request that queued a job is logged against her, with the job'
);

-- The worker finishes the job.
update public.analysis_jobs set status = 'done', finished_at = now() where id = (select id from first_job);

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select throws_ok(
  $$ select public.request_reanalysis('toyota-braintree', 'rl-a') $$,
  'PT429', 'call rl-a was re-analyzed less than 10 minutes ago',
  'A second request for the same call within the cooldown is refused (PT429: HTTP 429)'
);
do $$ begin perform pg_temp.capture_refusal('toyota-braintree', 'rl-a'); end $$;
reset role;

select results_eq(
  $$ select hint, detail from refusal $$,
  $$ values ('Try again in 10 min.',
             'retry_after=' || to_char(date_trunc('second', now() + interval '10 minutes' + interval '999999 microseconds') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) $$,
  'The refusal says when to try again: in words in the hint, as a UTC time in the detail'
);

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select throws_ok(
  $$ select public.request_reanalysis('toyota-braintree', 'rl-a') $$,
  'PT429', 'call rl-a was re-analyzed less than 10 minutes ago',
  'The cooldown is per call: her manager cannot re-analyze the same call within it either'
);
reset role;

select is(
  (select count(*)::int from public.analysis_jobs where call_id = 'rl-a' and status in ('queued', 'running')),
  0,
  'A refused request queues nothing'
);

-- Her request is now 11 minutes old.
update private.reanalysis_requests set requested_at = now() - interval '11 minutes' where call_id = 'rl-a';

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select isnt(
  public.request_reanalysis('toyota-braintree', 'rl-a'),
  (select id from first_job),
  'After the cooldown, a new request queues a new job'
);

/** What does not count: a job that will analyze anyway */
select is(
  public.request_reanalysis('toyota-braintree', 'rl-a'),
  (select id from public.analysis_jobs where call_id = 'rl-a' and status = 'queued'),
  'Asking again while the re-analysis is queued returns that job instead of a cooldown refusal'
);
reset role;

update public.analysis_jobs set status = 'running' where call_id = 'rl-a' and status = 'queued';

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select is(
  public.request_reanalysis('toyota-braintree', 'rl-a'),
  (select id from public.analysis_jobs where call_id = 'rl-a' and status = 'running'),
  'Asking while it runs returns the running job'
);
reset role;

select is(
  (select count(*)::int from private.reanalysis_requests where call_id = 'rl-a'),
  2,
  'Only the two requests that queued a job were counted, not the two that returned the pending one'
);

/** The daily cap per user (an admin lowers it in Studio, as docs/admin.md shows) */
update public.app_settings set reanalysis_daily_limit = 3;

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select lives_ok(
  $$ select public.request_reanalysis('toyota-braintree', 'rl-b') $$,
  'Her third request in 24 hours is within the new limit of 3'
);
select throws_ok(
  $$ select public.request_reanalysis('honda-quincy', 'rl-c') $$,
  'PT429', 'you have reached your limit of 3 re-analyses in 24 hours',
  'Her fourth request is refused, on another call and another dealership too'
);
truncate refusal;
do $$ begin perform pg_temp.capture_refusal('honda-quincy', 'rl-c'); end $$;
reset role;

select is(
  (select hint from refusal),
  'Try again in 23 h 49 min.',
  'The cap''s refusal says when her oldest request (11 minutes ago) leaves the 24 hours'
);

-- A queued ingest job would become a re-analysis: that costs an analysis, so it counts.
insert into public.analysis_jobs (dealership_id, call_id, reason, status)
values ('honda-quincy', 'rl-ingest', 'ingest', 'queued');
update public.analysis_jobs set status = 'running' where call_id = 'rl-b';

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select throws_ok(
  $$ select public.request_reanalysis('honda-quincy', 'rl-ingest') $$,
  'PT429', 'you have reached your limit of 3 re-analyses in 24 hours',
  'At the cap she cannot turn a queued ingest job into a re-analysis'
);
select is(
  public.request_reanalysis('toyota-braintree', 'rl-b'),
  (select id from public.analysis_jobs where call_id = 'rl-b' and status = 'running'),
  'At the cap she still gets the job that is already running for a call'
);
reset role;

select is(
  (select reason from public.analysis_jobs where call_id = 'rl-ingest' and status = 'queued'),
  'ingest',
  'The refused conversion left the ingest job as it was'
);

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select lives_ok(
  $$ select public.request_reanalysis('honda-quincy', 'rl-ingest') $$,
  'The cap is per user: her manager can still ask, here turning the queued ingest job into a re-analysis'
);
reset role;

select results_eq(
  $$ select j.reason, r.user_id from public.analysis_jobs j
       join private.reanalysis_requests r on r.job_id = j.id
      where j.call_id = 'rl-ingest' $$,
  $$ values ('reanalysis', 'a0000000-0000-4000-8000-000000000002'::uuid) $$,
  'The conversion was counted against the manager'
);

-- Her oldest request leaves the window.
update private.reanalysis_requests set requested_at = now() - interval '25 hours'
 where user_id = 'a0000000-0000-4000-8000-000000000003'
   and requested_at = (select min(requested_at) from private.reanalysis_requests
                        where user_id = 'a0000000-0000-4000-8000-000000000003');

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select lives_ok(
  $$ select public.request_reanalysis('honda-quincy', 'rl-c') $$,
  'A request older than 24 hours no longer counts: the cap is a rolling window'
);
select ok(
  (select count(*) >= 2 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and granted),
  'A request holds advisory locks (the call''s, the user''s) until commit, so parallel requests of one user run one after the other'
);
reset role;

/** Turned off */
update public.app_settings set reanalysis_daily_limit = 0;

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select throws_ok(
  $$ select public.request_reanalysis('honda-quincy', 'rl-d') $$,
  'PT429', 're-analysis on request is turned off',
  'A daily limit of 0 turns requests off'
);
reset role;

/** The defaults: without a settings row, 50 in 24 hours */
delete from public.app_settings;

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select is(
  (select count(public.request_reanalysis('ford-weymouth', 'rl-s-' || i)) from generate_series(1, 50) i)::int,
  50,
  'Another CSM can make 50 requests in 24 hours (the default limit, which also applies when the row is deleted)'
);
select throws_ok(
  $$ select public.request_reanalysis('ford-weymouth', 'rl-s-51') $$,
  'PT429', 'you have reached your limit of 50 re-analyses in 24 hours',
  'Her 51st is refused'
);
reset role;

select * from finish();
rollback;
