-- public.calls_export (migration 20261120000700), the view behind the dashboard's CSV
-- export: who sees which rows through it, and known answers for the formatting
-- (local time, masked phone, joined reasons and flags) and the filter columns.
-- Needs supabase/seed.sql (the demo users and dealerships, all America/New_York).
begin;
select plan(16);

/** Fixtures (as the owner, rolled back) */
insert into public.calls
  (dealership_id, call_id, first_event_at, last_event_at, customer_phone, duration_sec,
   verdict, score, reasons, flags, analysis_model, transcript)
values
  -- 23:09 UTC on Nov 20 is 18:09 in Boston (EST, UTC-5).
  ('toyota-braintree', 't31-a', '2026-11-20 23:09:08.166971+00', now(), '+1 (617) 555-0101', 75,
   'bad', 20, '{"customer upset: waited 20 minutes","no resolution"}', '{customer_upset,handoff_failed}',
   'heuristic-v1', 'Agent: Thanks for calling. User: I need an oil change.'),
  ('honda-quincy', 't31-b', '2026-07-01 12:00+00', now(), '1234', 30,
   'good', 90, '{}', '{}', 'gpt-4o-mini', 'User: When do you open?'),
  ('honda-quincy', 't31-c', '2026-07-01 12:30+00', now(), null, null,
   null, null, '{}', '{}', null, null),
  ('ford-weymouth', 't31-s', '2026-11-20 12:00+00', now(), '+1 781 555 0199', 60,
   'bad', 10, '{rude}', '{customer_upset}', 'heuristic-v1', 'User: oil change please');

select is(
  (select reloptions from pg_class where oid = 'public.calls_export'::regclass),
  array['security_invoker=true'],
  'calls_export runs with the caller''s rights'
);
select ok(
  not has_table_privilege('anon', 'public.calls_export', 'select'),
  'anon may not read calls_export'
);
select ok(
  has_table_privilege('authenticated', 'public.calls_export', 'select')
  and not has_table_privilege('authenticated', 'public.calls_export', 'insert')
  and not has_table_privilege('authenticated', 'public.calls_export', 'update')
  and not has_table_privilege('authenticated', 'public.calls_export', 'delete'),
  'authenticated may only read calls_export'
);

/** Known answers (as the owner) */
select is(
  (select local_time || ' ' || timezone from public.calls_export where call_id = 't31-a'),
  '2026-11-20 18:09 America/New_York',
  'local_time is the call''s minute in the dealership''s zone (EST in November)'
);
select is(
  (select local_time from public.calls_export where call_id = 't31-b'),
  '2026-07-01 08:00',
  'local_time follows daylight saving time (EDT in July)'
);
select is(
  (select customer_phone_masked from public.calls_export where call_id = 't31-a'),
  '***0101',
  'the phone keeps only its last 4 digits'
);
select is(
  (select customer_phone_masked from public.calls_export where call_id = 't31-b'),
  '***',
  'a number of 4 digits or fewer shows no digit at all'
);
select ok(
  (select customer_phone_masked is null from public.calls_export where call_id = 't31-c'),
  'an unknown phone stays null'
);
select is(
  (select reasons_text || ' | ' || flags_text from public.calls_export where call_id = 't31-a'),
  'customer upset: waited 20 minutes; no resolution | customer_upset, handoff_failed',
  'reasons are joined with "; " and flags with ", "'
);
select is(
  (select reasons_text || '|' || flags_text from public.calls_export where call_id = 't31-b'),
  '|',
  'no reasons and no flags give empty text'
);
select is(
  (select dealership_name from public.calls_export where call_id = 't31-a'),
  'Toyota of Braintree',
  'the dealership''s name comes with the row'
);

/** Nora North (csm of toyota-braintree, honda-quincy) */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');

select set_eq(
  $$ select call_id from public.calls_export where call_id like 't31-%' $$,
  array['t31-a', 't31-b', 't31-c'],
  'A CSM sees her own dealerships'' calls through the view, and no other'
);
select is_empty(
  $$ select call_id from public.calls_export
      where dealership_id not in ('toyota-braintree', 'honda-quincy') $$,
  'A CSM sees no call of another dealership through the view'
);
select set_eq(
  $$ select call_id from public.calls_export
      where call_id like 't31-%'
        and transcript_search @@ websearch_to_tsquery('english', 'oil change')
        and flags @> '{customer_upset}' $$,
  array['t31-a'],
  'The list''s transcript search and flag filters work on the view'
);
reset role;

/** anon */
set local role anon;
set local request.jwt.claims = '{"role": "anon"}';
select throws_ok(
  $$ select count(*) from public.calls_export $$,
  '42501',
  null,
  'anon is refused'
);
reset role;

/** Sam South (csm of ford-weymouth, nissan-plymouth) */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select set_eq(
  $$ select call_id from public.calls_export where call_id like 't31-%' $$,
  array['t31-s'],
  'Another CSM sees only his dealership''s call'
);
reset role;

select * from finish();
rollback;
