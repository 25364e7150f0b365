-- Shared helpers for the pgTAP suite, installed into the database under test.
-- Runs before every file that uses it (names sort) and COMMITS, unlike every
-- other file, so the helpers outlive it. Only ever run the suite against a
-- disposable database:
-- this file also lets the API roles create temporary tables there, because
-- pgTAP's set comparisons (set_eq, results_eq, ...) build temporary tables as
-- whichever role the test has switched to. Production keeps TEMP revoked
-- (migration 20261202000100).
begin;
select plan(2);

create schema if not exists tests;
comment on schema tests is 'pgTAP helpers (supabase/tests/000-test-helpers.test.sql). Test databases only.';
grant usage on schema tests to public;

do $$
begin
  execute format('grant temporary on database %I to anon, authenticated', current_database());
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

select has_function('tests', 'authenticate_as', array['uuid'], 'tests.authenticate_as(uuid) is installed');
select ok(has_database_privilege('authenticated', current_database(), 'TEMP'),
  'The API roles may create the temporary tables pgTAP needs, in this test database');

select * from finish();
commit;
