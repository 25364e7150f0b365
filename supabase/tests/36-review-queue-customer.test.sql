-- The review queue's customer, call time, zone and Retell summary (migration
-- 20261216000100): shown to the CSMs of the call's dealership, their manager and
-- the admin; never to another dealership's CSM or to anon; the number only ever
-- masked to its last 4 digits. Needs supabase/seed.sql (the demo users).
begin;
select plan(14);

\set admin '''a0000000-0000-4000-8000-000000000001'''
\set manager '''a0000000-0000-4000-8000-000000000002'''
\set nora '''a0000000-0000-4000-8000-000000000003'''
\set sam '''a0000000-0000-4000-8000-000000000004'''

/** Fixtures (as the owner): a flagged Quincy call with a customer and Retell's summary */
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at,
                          customer_name, customer_phone, retell_analysis)
values ('honda-quincy', 't36-a', '2026-12-01 15:04:00+00', now(),
        'Dana Driver', '+1 (617) 555-0142',
        jsonb_build_object('call_summary', 'The caller wanted a manager about a repeated brake repair.',
                           'user_sentiment', 'Negative')),
       ('honda-quincy', 't36-b', now() - interval '1 hour', now(), null, '12', null),
       ('honda-quincy', 't36-c', now() - interval '1 hour', now(), null, null,
        jsonb_build_object('call_summary', repeat('x', 400)));
insert into public.call_analyses (dealership_id, call_id, analysis, verdict, score, reasons, flags,
                                  recommended_action, confidence, status, model, prompt_version)
select 'honda-quincy', id, '{}', 'bad', 15, '{upset}', '{customer_upset}',
       'human_follow_up', 0.9, 'ok', 'heuristic-v1', 'rules-v1'
  from unnest(array['t36-a', 't36-b', 't36-c']) id;

select ok(
  (select count(*) = 3 from public.review_queue where call_id like 't36-%'),
  'precondition: the three flagged calls are in the queue'
);

/** The view's shape: the new columns are at the end, the old ones unchanged */
select is(
  (select array_agg(attname::text order by attnum) from pg_attribute
    where attrelid = 'public.review_queue'::regclass and attnum > 0 and not attisdropped),
  array['dealership_id', 'dealership_name', 'call_id', 'status', 'verdict', 'score', 'flags',
        'reasons', 'assignee_id', 'assignee_name', 'notes', 'flagged_at', 'age_hours',
        'age_bucket', 'severity', 'last_activity_at', 'call_started_at', 'label_verdict',
        'label_flags', 'label_disagrees', 'audit_sample', 'customer_name',
        'customer_phone_masked', 'timezone', 'call_summary'],
  'review_queue keeps its columns in order and adds customer_name, customer_phone_masked, timezone and call_summary'
);
select ok(
  (select 'security_invoker=true' = any(reloptions) from pg_class where oid = 'public.review_queue'::regclass),
  'review_queue is still security_invoker'
);

/** CSM of the dealership: allowed */
set local role authenticated;
select tests.authenticate_as(:nora);
select results_eq(
  $$ select customer_name, customer_phone_masked, timezone, call_started_at, call_summary
       from public.review_queue where call_id = 't36-a' $$,
  $$ values ('Dana Driver'::text, '***0142'::text, 'America/New_York'::text,
             '2026-12-01 15:04:00+00'::timestamptz,
             'The caller wanted a manager about a repeated brake repair.'::text) $$,
  'The CSM of the dealership sees the customer, the masked number, the zone, the time and the summary'
);
select is(
  (select customer_phone_masked from public.review_queue where call_id = 't36-b'),
  '***',
  'A number of 4 digits or fewer shows none of them'
);
select is(
  (select length(call_summary) from public.review_queue where call_id = 't36-c'),
  300,
  'A long summary is cut to 300 characters'
);
select is_empty(
  $$ select 1 from public.review_queue
      where call_id like 't36-%' and customer_phone_masked ~ '[0-9]{5,}' $$,
  'No row shows more than 4 digits of a number'
);
select is_empty(
  $$ select 1 from public.review_queue
      where call_id like 't36-%' and (customer_phone_masked like '%617%' or customer_phone_masked like '%555%') $$,
  'The area code and exchange never show'
);

/** CSM of another dealership: refused (no rows) */
select tests.authenticate_as(:sam);
select is_empty(
  $$ select customer_name, customer_phone_masked, call_summary from public.review_queue
      where call_id like 't36-%' $$,
  'A CSM of another dealership sees none of these customers or summaries'
);

/** Manager of the dealership's CSM: allowed */
select tests.authenticate_as(:manager);
select results_eq(
  $$ select customer_name, customer_phone_masked from public.review_queue where call_id = 't36-a' $$,
  $$ values ('Dana Driver'::text, '***0142'::text) $$,
  'The manager of Nora''s team sees the customer and the masked number'
);

/** Admin: allowed (read-only) */
select tests.authenticate_as(:admin);
select results_eq(
  $$ select customer_name, call_summary from public.review_queue where call_id = 't36-a' $$,
  $$ values ('Dana Driver'::text, 'The caller wanted a manager about a repeated brake repair.'::text) $$,
  'The admin sees the customer and the summary'
);

/** A signed-in user with no profile, and anon: refused */
set local request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000ff", "role": "authenticated"}';
select is_empty(
  $$ select customer_name from public.review_queue where call_id like 't36-%' $$,
  'A signed-in user without a profile sees no customer'
);
reset role;
set local role anon;
select throws_ok(
  $$ select customer_name, customer_phone_masked, call_summary from public.review_queue $$,
  '42501', null,
  'anon is refused the new columns (and the whole queue)'
);
reset role;
select ok(
  not has_table_privilege('anon', 'public.review_queue', 'select')
    and has_table_privilege('authenticated', 'public.review_queue', 'select'),
  'The grants stayed: authenticated may select, anon may not'
);

select * from finish();
rollback;
