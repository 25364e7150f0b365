-- Shared helpers for the pgTAP suite, installed into the database under test.
-- Runs before every file that uses it (names sort) and COMMITS, unlike every
-- other file, so the helpers outlive it. Only ever run the suite against a
-- disposable database:
-- this file also lets the API roles create temporary tables there, because
-- pgTAP's set comparisons (set_eq, results_eq, ...) build temporary tables as
-- whichever role the test has switched to. Production keeps TEMP revoked
-- (migration 20261202000100).
begin;
select plan(4);

create schema if not exists tests;
comment on schema tests is 'pgTAP helpers (supabase/tests/000-test-helpers.test.sql). Test databases only.';
grant usage on schema tests to public;

do $$
begin
  execute format('grant temporary on database %I to anon, authenticated', current_database());
  -- pgTAP lives in `extensions` (on Supabase and in the local bootstrap), which only
  -- the platform's roles may use: the reporting logins that the 20-reporting files
  -- become must be able to call is(), set_eq() and the rest too.
  execute format('grant usage on schema %I to reporting_reader',
    (select n.nspname from pg_catalog.pg_extension e
       join pg_catalog.pg_namespace n on n.oid = e.extnamespace
      where e.extname = 'pgtap'));
end
$$;

-- Signs the current transaction in as a dashboard user the way PostgREST does for
-- a real access token: request.jwt.claims with sub, role and a session_id that
-- names a live auth.sessions row (RLS refuses tokens whose session has ended).
-- Call it after `set local role authenticated`. Returns the session id, so a test
-- can end that session and check that access ends with it.
create or replace function tests.authenticate_as(p_user_id uuid) returns uuid
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_session uuid := gen_random_uuid();
begin
  insert into auth.sessions (id, user_id, created_at, updated_at, aal)
  values (v_session, p_user_id, now(), now(), 'aal1');
  perform set_config('request.jwt.claim.sub', '', true);
  perform set_config('request.jwt.claims',
    json_build_object('sub', p_user_id, 'role', 'authenticated', 'session_id', v_session)::text, true);
  return v_session;
end;
$$;
grant execute on function tests.authenticate_as(uuid) to public;

-- The shared fixture of the role files (02-08): in each demo dealership a call
-- 'pgtap-<dealership>' with its event, a done job, a bad analysis (which opens its
-- review and the first review_events row through the trigger) and a processing
-- error; plus an event and an error whose dealership is unknown. Run it as the
-- owner, before switching role.
create or replace function tests.seed_flagged_calls() returns void
language sql
volatile
set search_path = pg_catalog, pg_temp
as $fixture$
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, transcript, transcript_sha256)
select d, 'pgtap-' || d, now() - interval '1 hour', now(), 'Agent: Thanks for calling. User: My car will not start.', md5(d)
  from unnest(array['toyota-braintree', 'honda-quincy', 'ford-weymouth', 'nissan-plymouth', 'kia-hingham']) d;
insert into public.events (event_id, event_type, source, dealership_id, call_id, occurred_at, raw_body, raw_payload)
select 'pgtap-evt-' || c.dealership_id, 'call_ended', 'normalized', c.dealership_id, c.call_id, now(), '\x7b7d'::bytea, '{}'::jsonb
  from public.calls c where c.call_id like 'pgtap-%'
union all
select 'pgtap-evt-unresolved', 'call_ended', 'retell', null, 'pgtap-unresolved', now(), '\x7b7d', '{}';
insert into public.analysis_jobs (dealership_id, call_id, event_id, status)
select c.dealership_id, c.call_id, 'pgtap-evt-' || c.dealership_id, 'done'
  from public.calls c where c.call_id like 'pgtap-%';
-- A bad verdict opens the review (and its first review_events row) through the trigger.
insert into public.call_analyses
  (dealership_id, call_id, analysis, verdict, score, flags, recommended_action, confidence, status, model, prompt_version)
select c.dealership_id, c.call_id, '{"verdict": "bad"}', 'bad', 20, '{customer_upset}', 'human_follow_up', 0.9, 'ok', 'heuristic-v1', 'pgtap'
  from public.calls c where c.call_id like 'pgtap-%';
insert into public.processing_errors (stage, dealership_id, call_id, error)
select 'analysis', c.dealership_id, c.call_id, 'pgtap' from public.calls c where c.call_id like 'pgtap-%'
union all
select 'ingest', null, 'pgtap-unresolved', 'pgtap';
$fixture$;

select has_function('tests', 'authenticate_as', array['uuid'], 'tests.authenticate_as(uuid) is installed');
select has_function('tests', 'seed_flagged_calls', 'tests.seed_flagged_calls() is installed');
select ok(has_database_privilege('authenticated', current_database(), 'TEMP'),
  'The API roles may create the temporary tables pgTAP needs, in this test database');

select ok(
  has_schema_privilege('reporting_reader',
    (select e.extnamespace::regnamespace::text from pg_catalog.pg_extension e where e.extname = 'pgtap'), 'usage'),
  'The reporting logins may call pgTAP, wherever its schema is');
select * from finish();
commit;
