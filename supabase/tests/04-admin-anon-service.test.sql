-- The admin (reads everything, changes nothing through the API), anon (nothing at
-- all) and the service role (the ingest and analysis writer, bypasses RLS).
-- Needs supabase/seed.sql (the demo users).
begin;
select plan(36);

/** Fixtures: in each demo dealership one flagged call with its whole trail, plus rows whose dealership is unknown (tests.seed_flagged_calls) */
select tests.seed_flagged_calls();

/** Avery Admin reads everything */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');

select set_eq(
  $$ select id from public.dealerships
      where id in ('toyota-braintree', 'honda-quincy', 'ford-weymouth', 'nissan-plymouth', 'kia-hingham') $$,
  array['toyota-braintree', 'honda-quincy', 'ford-weymouth', 'nissan-plymouth', 'kia-hingham'],
  'The admin sees every dealership, including the one assigned to nobody'
);
select is(
  (select count(*)::int from public.calls where call_id like 'pgtap-%'), 5,
  'The admin sees the calls of every dealership'
);
select is(
  (select count(*)::int from public.events where event_id like 'pgtap-%'), 6,
  'The admin sees every event, including one whose dealership is unknown'
);
select is(
  (select count(*)::int from public.call_analyses where call_id like 'pgtap-%'), 5,
  'The admin sees every analysis'
);
select is(
  (select count(*)::int from public.analysis_jobs where call_id like 'pgtap-%'), 5,
  'The admin sees every analysis job'
);
select is(
  (select count(*)::int from public.processing_errors where error = 'pgtap'), 6,
  'The admin sees every processing error, including one whose dealership is unknown'
);
select is(
  (select count(*)::int from public.call_reviews where call_id like 'pgtap-%'), 5,
  'The admin sees every review'
);
select is(
  (select count(*)::int from public.review_events where call_id like 'pgtap-%'), 5,
  'The admin sees all review history'
);
select set_eq(
  $$ select full_name from public.profiles
      where user_id::text like 'a0000000-0000-4000-8000-00000000000_' $$,
  array['Avery Admin', 'Morgan Manager', 'Nora North', 'Sam South'],
  'The admin sees every profile'
);
select is(
  (select count(*)::int from public.user_dealerships
    where user_id::text like 'a0000000-0000-4000-8000-00000000000_'), 4,
  'The admin sees every assignment'
);

/** ...and changes nothing through the API: roles and assignments are edited as the owner */
select throws_ok(
  $$ update public.profiles set role = 'manager' where user_id = 'a0000000-0000-4000-8000-000000000003' $$,
  '42501', null,
  'The admin cannot change roles through the API'
);
select throws_ok(
  $$ insert into public.user_dealerships (user_id, dealership_id)
     values ('a0000000-0000-4000-8000-000000000003', 'kia-hingham') $$,
  '42501', null,
  'The admin cannot change assignments through the API'
);
select throws_ok(
  $$ insert into public.events (event_id, event_type, source, dealership_id, call_id, occurred_at, raw_body, raw_payload)
     values ('pgtap-admin', 'call_ended', 'normalized', 'kia-hingham', 'x', now(), '\x7b7d'::bytea, '{}'::jsonb) $$,
  '42501', null,
  'The admin cannot insert events'
);
select throws_ok(
  $$ delete from public.calls where dealership_id = 'kia-hingham' $$,
  '42501', null,
  'The admin cannot delete calls'
);
select throws_ok(
  $$ select public.review_call('kia-hingham', 'pgtap-kia-hingham', 'reviewed', 'x') $$,
  '42501', null,
  'The admin cannot review calls: read-only in the app'
);
select throws_ok(
  $$ select public.assign_review('kia-hingham', 'pgtap-kia-hingham', 'a0000000-0000-4000-8000-000000000001') $$,
  '42501', null,
  'The admin cannot assign reviews: read-only in the app'
);
select throws_ok(
  $$ select public.request_reanalysis('kia-hingham', 'pgtap-kia-hingham') $$,
  '42501', null,
  'The admin cannot request re-analysis: read-only in the app'
);
reset role;

/** anon reads nothing and calls nothing */
set local role anon;
reset request.jwt.claims;

select is_empty($$ select id from public.dealerships $$, 'anon sees no dealership');
select is_empty($$ select user_id from public.profiles $$, 'anon sees no profile');
select is_empty($$ select user_id from public.user_dealerships $$, 'anon sees no assignment');
select is_empty($$ select event_id from public.events $$, 'anon sees no event');
select is_empty($$ select call_id from public.calls $$, 'anon sees no call');
select is_empty($$ select id from public.analysis_jobs $$, 'anon sees no analysis job');
select is_empty($$ select id from public.call_analyses $$, 'anon sees no analysis');
select is_empty($$ select id from public.processing_errors $$, 'anon sees no processing error');
select is_empty($$ select call_id from public.call_reviews $$, 'anon sees no review');
select is_empty($$ select id from public.review_events $$, 'anon sees no review history');
select throws_ok(
  $$ insert into public.events (event_id, event_type, source, dealership_id, call_id, occurred_at, raw_body, raw_payload)
     values ('pgtap-anon', 'call_ended', 'normalized', 'kia-hingham', 'x', now(), '\x7b7d'::bytea, '{}'::jsonb) $$,
  '42501', null,
  'anon cannot insert events'
);
select throws_ok(
  $$ select public.review_call('kia-hingham', 'pgtap-kia-hingham', 'reviewed', 'x') $$,
  '42501', null,
  'anon cannot call review_call'
);
select throws_ok(
  $$ select public.request_reanalysis('kia-hingham', 'pgtap-kia-hingham') $$,
  '42501', null,
  'anon cannot call request_reanalysis'
);
reset role;

/** The service role writes ingest and analysis data, bypassing RLS */
set local role service_role;

select is(
  (select count(*)::int from public.calls where call_id like 'pgtap-%'), 5,
  'The service role sees every call'
);
select lives_ok(
  $$ insert into public.events (event_id, event_type, source, dealership_id, call_id, occurred_at, raw_body, raw_payload)
     values ('pgtap-service', 'call_ended', 'normalized', 'kia-hingham', 'pgtap-kia-hingham', now(), '\x7b7d'::bytea, '{}'::jsonb) $$,
  'The service role can insert events'
);
select lives_ok(
  $$ update public.calls set transcript = 'Agent: updated' where dealership_id = 'kia-hingham' and call_id = 'pgtap-kia-hingham' $$,
  'The service role can update calls'
);
select lives_ok(
  $$ insert into public.call_analyses
       (dealership_id, call_id, analysis, verdict, recommended_action, confidence, status, model, prompt_version)
     values ('kia-hingham', 'pgtap-kia-hingham', '{"verdict": "good"}', 'good', 'none', 0.8, 'ok', 'heuristic-v1', 'pgtap') $$,
  'The service role can insert analyses'
);
select lives_ok(
  $$ insert into public.processing_errors (stage, error) values ('ingest', 'pgtap-service') $$,
  'The service role can record processing errors'
);
select throws_ok(
  $$ select public.review_call('kia-hingham', 'pgtap-kia-hingham', 'reviewed', 'x') $$,
  '42501', 'sign in first',
  'The service role cannot review calls: a review needs a person'
);
reset role;

select * from finish();
rollback;
