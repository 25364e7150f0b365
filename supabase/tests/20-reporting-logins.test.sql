-- Reporting logins: a Postgres login role in reporting_reader, mapped to a dashboard
-- user in private.reporting_logins, reads exactly what that user reads through the
-- API once it ran reporting.sign_in(), and nothing else: not before signing in, not
-- with claims it set by hand, not when unmapped. It writes nothing and cannot call
-- the review functions. Needs supabase/seed.sql (the demo users).
--
-- The login roles are created inside this transaction and rolled back with it.
-- `set local session authorization` makes them the session user, as a real login is.
begin;
select plan(38);

/** Fixtures: a trail of rows in every table, in the team's, another team's and an unassigned dealership */
insert into public.dealerships (id, name) values ('replog-other', 'Other Team Motors');
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, transcript, transcript_sha256)
select d, 'replog-' || d, now() - interval '1 day', now(), 'Agent: Hello. User: My car will not start.', md5(d)
  from unnest(array['toyota-braintree', 'ford-weymouth', 'kia-hingham', 'replog-other']) d;
insert into public.events (event_id, event_type, source, dealership_id, call_id, occurred_at, raw_body, raw_payload)
select 'replog-evt-' || c.dealership_id, 'call_ended', 'normalized', c.dealership_id, c.call_id, now(), '\x7b7d'::bytea, '{}'::jsonb
  from public.calls c where c.call_id like 'replog-%'
union all
select 'replog-evt-unresolved', 'call_ended', 'retell', null, 'replog-unresolved', now(), '\x7b7d', '{}';
insert into public.analysis_jobs (dealership_id, call_id, event_id, status)
select c.dealership_id, c.call_id, 'replog-evt-' || c.dealership_id, 'done'
  from public.calls c where c.call_id like 'replog-%';
insert into public.call_analyses
  (dealership_id, call_id, analysis, verdict, score, flags, recommended_action, confidence, status, model, prompt_version, latency_ms)
select c.dealership_id, c.call_id, '{}', 'bad', 20, '{handoff_failed}', 'human_follow_up', 0.9, 'ok', 'heuristic-v1', 'rules-v1', 3
  from public.calls c where c.call_id like 'replog-%';
insert into public.processing_errors (stage, dealership_id, call_id, error)
select 'analysis', c.dealership_id, c.call_id, 'replog' from public.calls c where c.call_id like 'replog-%'
union all
select 'ingest', null, 'replog-unresolved', 'replog';
-- Someone acted on each review, so csm_throughput has rows.
insert into public.review_events (dealership_id, call_id, actor_id, from_status, to_status, created_at)
select r.dealership_id, r.call_id, 'a0000000-0000-4000-8000-000000000003', 'open', 'follow_up_needed', now()
  from public.call_reviews r where r.call_id like 'replog-%';

/** Logins, created as docs/reporting.md shows: the manager's, the admin's, and one left unmapped */
create role replog_manager login password 'change-me-to-a-long-random-password'
  connection limit 3 in role reporting_reader;
alter role replog_manager set statement_timeout = '60s';
insert into private.reporting_logins (login_name, user_id)
select 'replog_manager', id from auth.users where email = 'manager@demo.test';
create role replog_admin in role reporting_reader;
insert into private.reporting_logins (login_name, user_id)
select 'replog_admin', id from auth.users where email = 'admin@demo.test';
create role replog_unmapped in role reporting_reader;
-- pgTAP's set_eq builds temporary tables as the current role; logins have no TEMP
-- (20261202000100), so grant it to these test logins for this transaction only.
do $$
begin
  execute format('grant temporary on database %I to replog_manager, replog_admin, replog_unmapped',
                 current_database());
end
$$;

/** What Morgan Manager sees through the API, table by table (keys only) */
create temp table seen (who text, what text, k text);
grant all on seen to public;
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
insert into seen select 'api', 'dealerships', id from public.dealerships;
insert into seen select 'api', 'profiles', user_id::text from public.profiles;
insert into seen select 'api', 'user_dealerships', user_id || '/' || dealership_id from public.user_dealerships;
insert into seen select 'api', 'events', event_id from public.events;
insert into seen select 'api', 'calls', dealership_id || '/' || call_id from public.calls;
insert into seen select 'api', 'analysis_jobs', id::text from public.analysis_jobs;
insert into seen select 'api', 'call_analyses', id::text from public.call_analyses;
insert into seen select 'api', 'processing_errors', id::text from public.processing_errors;
insert into seen select 'api', 'call_reviews', dealership_id || '/' || call_id from public.call_reviews;
insert into seen select 'api', 'review_events', id::text from public.review_events;
insert into seen select 'api', 'dealership_daily', dealership_id || '/' || day from reporting.dealership_daily;
insert into seen select 'api', 'flag_trends', dealership_id || '/' || week_start || '/' || flag from reporting.flag_trends;
insert into seen select 'api', 'csm_throughput', reviewer_id || '/' || day from reporting.csm_throughput;
insert into seen select 'api', 'backlog', dealership_id || '/' || call_id from reporting.backlog;
insert into seen select 'api', 'analysis_health', day || '/' || model || '/' || analyses from reporting.analysis_health;
reset role;

/** The manager's login, before signing in (a new session has no claims) */
set local request.jwt.claims = '';
set local session authorization replog_manager;
select is_empty(
  $$ select 1 from public.calls union all select 1 from public.dealerships union all select 1 from reporting.backlog $$,
  'A reporting login that has not signed in reads nothing'
);

/** ...after signing in */
select is(
  reporting.sign_in(),
  'reading as Morgan Manager (manager)',
  'reporting.sign_in() says whose data the login now reads'
);
insert into seen select 'login', 'dealerships', id from public.dealerships;
insert into seen select 'login', 'profiles', user_id::text from public.profiles;
insert into seen select 'login', 'user_dealerships', user_id || '/' || dealership_id from public.user_dealerships;
insert into seen select 'login', 'events', event_id from public.events;
insert into seen select 'login', 'calls', dealership_id || '/' || call_id from public.calls;
insert into seen select 'login', 'analysis_jobs', id::text from public.analysis_jobs;
insert into seen select 'login', 'call_analyses', id::text from public.call_analyses;
insert into seen select 'login', 'processing_errors', id::text from public.processing_errors;
insert into seen select 'login', 'call_reviews', dealership_id || '/' || call_id from public.call_reviews;
insert into seen select 'login', 'review_events', id::text from public.review_events;
insert into seen select 'login', 'dealership_daily', dealership_id || '/' || day from reporting.dealership_daily;
insert into seen select 'login', 'flag_trends', dealership_id || '/' || week_start || '/' || flag from reporting.flag_trends;
insert into seen select 'login', 'csm_throughput', reviewer_id || '/' || day from reporting.csm_throughput;
insert into seen select 'login', 'backlog', dealership_id || '/' || call_id from reporting.backlog;
insert into seen select 'login', 'analysis_health', day || '/' || model || '/' || analyses from reporting.analysis_health;

select set_eq(
  format($$ select k from seen where who = 'login' and what = %L $$, t),
  format($$ select k from seen where who = 'api' and what = %L $$, t),
  format('A manager''s reporting login sees exactly the %s rows the manager sees through the API', t)
)
  from unnest(array[
    'dealerships', 'profiles', 'user_dealerships', 'events', 'calls', 'analysis_jobs',
    'call_analyses', 'processing_errors', 'call_reviews', 'review_events',
    'dealership_daily', 'flag_trends', 'csm_throughput', 'backlog', 'analysis_health'
  ]) t;
select set_eq(
  $$ select dealership_id from public.calls where call_id like 'replog-%' $$,
  array['toyota-braintree', 'ford-weymouth'],
  'The manager''s login sees the calls of the team''s dealerships, not the unassigned or another team''s'
);

/** Claims set by hand for someone else read nothing */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select is_empty(
  $$ select 1 from public.calls union all select 1 from public.events union all select 1 from reporting.dealership_daily $$,
  'A login that sets request.jwt.claims to the admin''s id reads nothing'
);
set local request.jwt.claim.sub = 'a0000000-0000-4000-8000-000000000001';
select is_empty(
  $$ select 1 from public.calls union all select 1 from public.profiles $$,
  'A login that sets the legacy request.jwt.claim.sub reads nothing either'
);
select is(
  reporting.sign_in(),
  'reading as Morgan Manager (manager)',
  'Signing in again restores the login''s own user'
);
select isnt_empty(
  $$ select 1 from public.calls where call_id like 'replog-%' $$,
  'After signing in again the login reads its user''s calls'
);

/** It writes nothing and cannot act as anyone */
select throws_ok(
  $$ insert into public.dealerships (id, name) values ('replog-new', 'New') $$,
  '42501', null,
  'A reporting login cannot insert'
);
select throws_ok(
  $$ update public.calls set verdict = 'good' where call_id like 'replog-%' $$,
  '42501', null,
  'A reporting login cannot update'
);
select throws_ok(
  $$ delete from public.review_events $$,
  '42501', null,
  'A reporting login cannot delete'
);
select throws_ok(
  $$ select public.review_call('toyota-braintree', 'replog-toyota-braintree', 'resolved', 'done') $$,
  '42501', null,
  'A reporting login cannot call review_call (it is not in authenticated)'
);
select throws_ok(
  $$ select public.request_reanalysis('toyota-braintree', 'replog-toyota-braintree') $$,
  '42501', null,
  'A reporting login cannot call request_reanalysis'
);
select throws_ok(
  $$ select private.visible_dealership_ids_for('a0000000-0000-4000-8000-000000000001') $$,
  '42501', null,
  'A reporting login cannot ask which dealerships another user sees'
);
select throws_ok(
  $$ select * from private.reporting_logins $$,
  '42501', null,
  'A reporting login cannot read the login mapping'
);
select throws_ok(
  $$ set role authenticated $$,
  '42501', null,
  'A reporting login cannot switch to the API role'
);
reset session authorization;

/** An admin's login sees what the admin sees, including rows without a dealership */
set local session authorization replog_admin;
select is(reporting.sign_in(), 'reading as Avery Admin (admin)', 'An admin''s login signs in as the admin');
select isnt_empty(
  $$ select 1 from public.events where event_id = 'replog-evt-unresolved' $$,
  'An admin''s login sees events whose dealership is unknown'
);
select set_eq(
  $$ select dealership_id from public.calls where call_id like 'replog-%' $$,
  array['toyota-braintree', 'ford-weymouth', 'kia-hingham', 'replog-other'],
  'An admin''s login sees every dealership''s calls'
);
reset session authorization;

/** A login nobody mapped */
set local session authorization replog_unmapped;
select throws_ok(
  $$ select reporting.sign_in() $$,
  '42501', 'login replog_unmapped is not mapped to a dashboard user',
  'An unmapped login cannot sign in'
);
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select is_empty(
  $$ select 1 from public.calls union all select 1 from reporting.backlog $$,
  'An unmapped login reads nothing, even with a real user''s claims'
);
reset session authorization;

/** The API roles cannot use the login machinery */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select throws_ok(
  $$ select reporting.sign_in() $$,
  '42501', null,
  'An API user cannot call reporting.sign_in()'
);
select throws_ok(
  $$ select * from private.reporting_logins $$,
  '42501', null,
  'An API user cannot read the login mapping'
);
reset role;

/** Deleting the user ends the login's access */
delete from auth.users where id = 'a0000000-0000-4000-8000-000000000002';
set local session authorization replog_manager;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000002", "role": "authenticated"}';
select is_empty(
  $$ select 1 from public.calls union all select 1 from reporting.dealership_daily $$,
  'When the user is deleted (the mapping cascades), the login reads nothing'
);
reset session authorization;

select * from finish();
rollback;
