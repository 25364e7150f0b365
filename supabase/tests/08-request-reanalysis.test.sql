-- request_reanalysis: who may queue one, what it writes, and how it reuses a pending
-- job. Refusals for other dealerships, the admin and anon are in 02 and 04.
-- Acting user: Nora North (csm of toyota-braintree, honda-quincy). Needs supabase/seed.sql.
begin;
select plan(12);

/** Fixtures: in each demo dealership one flagged call with its whole trail, plus rows whose dealership is unknown (tests.seed_flagged_calls) */
select tests.seed_flagged_calls();
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, transcript)
values
  ('honda-quincy', 'pgtap-no-transcript', now(), now(), null),
  ('honda-quincy', 'pgtap-blank-transcript', now(), now(), '   ');

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');

create temp table first_job on commit drop as
select public.request_reanalysis('toyota-braintree', 'pgtap-toyota-braintree') as id;

select isnt_empty(
  $$ select id from public.analysis_jobs where id = (select id from first_job) $$,
  'A CSM can request a re-analysis of a call of her dealership, and sees the job it created'
);
select is(
  public.request_reanalysis('toyota-braintree', 'pgtap-toyota-braintree'),
  (select id from first_job),
  'Asking again while the job is queued returns the same job'
);
select throws_ok(
  $$ select public.request_reanalysis('honda-quincy', 'pgtap-no-transcript') $$,
  'P0001', 'call pgtap-no-transcript has no transcript yet',
  'A call without a transcript cannot be re-analyzed'
);
select throws_ok(
  $$ select public.request_reanalysis('honda-quincy', 'pgtap-blank-transcript') $$,
  'P0001', 'call pgtap-blank-transcript has no transcript yet',
  'A call with a blank transcript cannot be re-analyzed'
);
select throws_ok(
  $$ select public.request_reanalysis('honda-quincy', 'pgtap-no-such-call') $$,
  'PT404', null,
  'A call that does not exist in her dealership is answered not found'
);
reset role;

select results_eq(
  $$ select reason, requested_by, status::text, transcript_sha256 from public.analysis_jobs
      where id = (select id from first_job) $$,
  $$ values ('reanalysis', 'a0000000-0000-4000-8000-000000000003'::uuid, 'queued', md5('toyota-braintree')) $$,
  'The job is queued as a re-analysis requested by her, for the call''s current transcript'
);
select is(
  (select count(*)::int from public.analysis_jobs
    where dealership_id = 'toyota-braintree' and call_id = 'pgtap-toyota-braintree' and status in ('queued', 'running')),
  1,
  'There is still exactly one pending job for the call'
);

-- A worker takes the job, then finishes it.
update public.analysis_jobs set status = 'running' where id = (select id from first_job);

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select is(
  public.request_reanalysis('toyota-braintree', 'pgtap-toyota-braintree'),
  (select id from first_job),
  'Asking while the job is running returns the running job'
);
reset role;

update public.analysis_jobs set status = 'done', finished_at = now() where id = (select id from first_job);
-- Nora's request started the call's 10-minute cooldown (migration 20261202000600,
-- tested in 14-reanalysis-limits); it is an hour old here, so the next one passes.
update private.reanalysis_requests set requested_at = now() - interval '1 hour'
 where dealership_id = 'toyota-braintree' and call_id = 'pgtap-toyota-braintree';

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select isnt(
  public.request_reanalysis('toyota-braintree', 'pgtap-toyota-braintree'),
  (select id from first_job),
  'Once the job is done, a new request queues a new job'
);
reset role;

select is(
  (select requested_by from public.analysis_jobs
    where dealership_id = 'toyota-braintree' and call_id = 'pgtap-toyota-braintree' and status = 'queued'),
  'a0000000-0000-4000-8000-000000000002'::uuid,
  'The new job records the manager who asked for it'
);

-- An ingest job still waiting in the queue would be skipped if its transcript was
-- judged already: asking for a re-analysis turns it into one instead of dropping the ask.
insert into public.analysis_jobs (dealership_id, call_id, reason, status)
values ('honda-quincy', 'pgtap-honda-quincy', 'ingest', 'queued');

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select is(
  public.request_reanalysis('honda-quincy', 'pgtap-honda-quincy'),
  (select id from public.analysis_jobs where call_id = 'pgtap-honda-quincy' and status = 'queued'),
  'Asking while an ingest job is queued returns that job'
);
reset role;

select results_eq(
  $$ select reason, requested_by from public.analysis_jobs
      where call_id = 'pgtap-honda-quincy' and status = 'queued' $$,
  $$ values ('reanalysis', 'a0000000-0000-4000-8000-000000000003'::uuid) $$,
  'The queued ingest job became a re-analysis requested by her, so the worker will not skip it'
);

select * from finish();
rollback;
