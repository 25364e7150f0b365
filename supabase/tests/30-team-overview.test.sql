-- The review queue, the review history and the team overview functions
-- (migration 20261120000500): shape and privileges, known answers on fixture rows,
-- and what each role sees through them. Needs supabase/seed.sql (the demo users).
--
-- All times are relative to now(), which is fixed for the transaction, so ages and
-- periods are exact. Fixture calls (rolled back):
--   q1 honda-quincy     bad           open, claimed by Nora, flagged 1 h ago
--   q2 honda-quincy     needs_review  follow_up_needed by Nora, hers, flagged 2 d ago
--   q3 toyota-braintree bad           escalated by Nora 3 d ago, unassigned, flagged 4 d ago
--   q4 honda-quincy     bad           resolved by Nora 1 h ago, flagged 3 h ago (2 h)
--   q5 toyota-braintree needs_review  reviewed 6 h ago, resolved 4 h ago by Nora, flagged 10 h ago (6 h)
--   q6 honda-quincy     good          no review
--   s1 ford-weymouth    bad           open -> reviewed by Sam 20 h ago, assigned to Sam by Morgan, flagged 30 h ago
--   k1 kia-hingham      bad           open, unassigned, flagged 1 h ago (admin only)
--   j1 nissan-plymouth  bad           flagged 2026-01-05 10:00 UTC, resolved by Sam 2026-01-06 09:00 UTC
begin;
select plan(39);

\set nora '''a0000000-0000-4000-8000-000000000003'''
\set sam '''a0000000-0000-4000-8000-000000000004'''
\set morgan '''a0000000-0000-4000-8000-000000000002'''

/** Fixtures (as the owner) */
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, verdict, score, reasons)
values
  ('honda-quincy', 't30-q1', now() - interval '2 hours', now(), 'bad', 10, '{customer_upset}'),
  ('honda-quincy', 't30-q2', now() - interval '2 days', now(), 'needs_review', 55, '{}'),
  ('toyota-braintree', 't30-q3', now() - interval '5 days', now(), 'bad', 20, '{}'),
  ('honda-quincy', 't30-q4', now() - interval '3 hours', now(), 'bad', 30, '{}'),
  ('toyota-braintree', 't30-q5', now() - interval '10 hours', now(), 'needs_review', 60, '{}'),
  ('honda-quincy', 't30-q6', now() - interval '1 hour', now(), 'good', 95, '{}'),
  ('ford-weymouth', 't30-s1', now() - interval '1 hour', now(), 'bad', 15, '{}'),
  ('kia-hingham', 't30-k1', now() - interval '1 hour', now(), 'bad', 5, '{}'),
  ('nissan-plymouth', 't30-j1', '2026-01-05 09:55+00', '2026-01-05 10:00+00', 'bad', 25, '{}');

insert into public.call_reviews (dealership_id, call_id, status, assignee_id, notes, flagged_at, resolved_at)
values
  ('honda-quincy', 't30-q1', 'open', :nora, null, now() - interval '1 hour', null),
  ('honda-quincy', 't30-q2', 'follow_up_needed', :nora, 'call back Friday', now() - interval '2 days', null),
  ('toyota-braintree', 't30-q3', 'escalated', null, 'manager to call', now() - interval '4 days', null),
  ('honda-quincy', 't30-q4', 'resolved', :nora, 'sorted', now() - interval '3 hours', now() - interval '1 hour'),
  ('toyota-braintree', 't30-q5', 'resolved', null, 'booked', now() - interval '10 hours', now() - interval '4 hours'),
  ('ford-weymouth', 't30-s1', 'reviewed', :sam, null, now() - interval '30 hours', null),
  ('kia-hingham', 't30-k1', 'open', null, null, now() - interval '1 hour', null),
  ('nissan-plymouth', 't30-j1', 'resolved', null, 'done', '2026-01-05 10:00+00', '2026-01-06 09:00+00');

insert into public.review_events (dealership_id, call_id, actor_id, from_status, to_status, from_assignee, to_assignee, notes, created_at)
values
  -- Not reviews: the automatic opening and a claim.
  ('honda-quincy', 't30-q1', null, null, 'open', null, null, 'Opened automatically', now() - interval '1 hour'),
  ('honda-quincy', 't30-q1', :nora, 'open', 'open', null, :nora, null, now() - interval '30 minutes'),
  ('honda-quincy', 't30-q2', :nora, 'open', 'follow_up_needed', :nora, :nora, 'call back Friday', now() - interval '47 hours'),
  ('toyota-braintree', 't30-q3', :nora, 'open', 'escalated', null, null, 'manager to call', now() - interval '3 days'),
  ('honda-quincy', 't30-q4', :nora, 'open', 'resolved', :nora, :nora, 'sorted', now() - interval '1 hour'),
  ('toyota-braintree', 't30-q5', :nora, 'open', 'reviewed', null, null, null, now() - interval '6 hours'),
  ('toyota-braintree', 't30-q5', :nora, 'reviewed', 'resolved', null, null, 'booked', now() - interval '4 hours'),
  ('ford-weymouth', 't30-s1', :morgan, 'open', 'open', null, :sam, null, now() - interval '25 hours'),
  ('ford-weymouth', 't30-s1', :sam, 'open', 'reviewed', :sam, :sam, null, now() - interval '20 hours'),
  ('nissan-plymouth', 't30-j1', :sam, 'open', 'resolved', null, null, 'done', '2026-01-06 09:00+00');

/** Shape and privileges */
select has_view('public'::name, 'review_queue'::name, 'public.review_queue exists');
select has_view('public'::name, 'review_history'::name, 'public.review_history exists');
select ok(
  not exists (select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
               where n.nspname = 'public' and p.prosecdef
                 and p.proname in ('team_csm_stats', 'team_dealership_stats', 'team_daily_flow')),
  'The team overview functions run with the caller''s rights (security invoker), so RLS decides'
);
select ok(
  not has_table_privilege('anon', 'public.review_queue', 'select')
    and not has_table_privilege('anon', 'public.review_history', 'select'),
  'anon cannot read the queue or the history views'
);
select ok(
  not has_function_privilege('anon', 'public.team_csm_stats(timestamptz, timestamptz, text)', 'execute')
    and not has_function_privilege('anon', 'public.team_dealership_stats(timestamptz, timestamptz, uuid)', 'execute')
    and not has_function_privilege('anon', 'public.team_daily_flow(timestamptz, timestamptz, uuid, text, text)', 'execute'),
  'anon cannot call the team overview functions'
);
select ok(
  has_function_privilege('authenticated', 'public.team_csm_stats(timestamptz, timestamptz, text)', 'execute')
    and has_function_privilege('authenticated', 'public.team_dealership_stats(timestamptz, timestamptz, uuid)', 'execute')
    and has_function_privilege('authenticated', 'public.team_daily_flow(timestamptz, timestamptz, uuid, text, text)', 'execute')
    and has_table_privilege('authenticated', 'public.review_queue', 'select')
    and has_table_privilege('authenticated', 'public.review_history', 'select'),
  'authenticated can read the views and call the functions'
);

/** Nora North (csm of toyota-braintree, honda-quincy) */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');

select results_eq(
  $$ select call_id, status::text, age_bucket, severity, assignee_name
       from public.review_queue where call_id like 't30-%'
      order by severity, score nulls first, flagged_at $$,
  $$ values ('t30-q1', 'open', 'under_24h', 0, 'Nora North'),
            ('t30-q3', 'escalated', 'over_3d', 0, null),
            ('t30-q2', 'follow_up_needed', '1_to_3d', 1, 'Nora North') $$,
  'A CSM''s queue holds the unresolved reviews of her dealerships only, worst first, with age buckets and assignee names'
);
select is(
  (select notes from public.review_queue where call_id = 't30-q2'),
  'call back Friday',
  'The queue shows the review''s current notes'
);
select is(
  (select reasons from public.review_queue where call_id = 't30-q1'),
  '{customer_upset}'::text[],
  'The queue carries the call''s reasons'
);
select results_eq(
  $$ select actor_name, from_status::text, to_status::text, to_assignee_name, status_changed, assignee_changed
       from public.review_history where call_id = 't30-q1' order by created_at $$,
  $$ values (null::text, null::text, 'open', null::text, true, false),
            ('Nora North', 'open', 'open', 'Nora North', false, true) $$,
  'The history names the people: the automatic opening has no actor, a claim is an assignee change'
);
select is_empty(
  $$ select 1 from public.review_history where call_id in ('t30-s1', 't30-k1', 't30-j1') $$,
  'A CSM reads no history of other dealerships'' calls'
);
select results_eq(
  $$ select full_name, role::text, dealership_ids, reviews_done, resolved, escalations,
            median_hours_to_resolution, backlog_under_24h, backlog_1_to_3d, backlog_over_3d, backlog
       from public.team_csm_stats(now() - interval '7 days', now()) $$,
  $$ values ('Nora North', 'csm', '{honda-quincy,toyota-braintree}'::text[], 4::bigint, 2::bigint, 1::bigint, 4.0, 1::bigint, 1::bigint, 0::bigint, 2::bigint),
            ('Unassigned', null, '{}'::text[], 0, 0, 0, null, 0, 0, 1, 1) $$,
  'A CSM''s overview is herself (4 calls reviewed, 2 resolved, 1 escalated, median 4 h, backlog 1 + 1) and the unassigned work of her dealerships'
);
select is(
  (select count(*) from public.team_dealership_stats(now() - interval '7 days', now())),
  2::bigint,
  'A CSM''s dealership overview has her two dealerships'
);

/** Sam South (csm of ford-weymouth, nissan-plymouth) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select results_eq(
  $$ select call_id from public.review_queue where call_id like 't30-%' $$,
  $$ values ('t30-s1') $$,
  'The other CSM''s queue has only his call'
);
select results_eq(
  $$ select full_name, reviews_done, resolved, median_hours_to_resolution, backlog_1_to_3d, backlog
       from public.team_csm_stats(now() - interval '7 days', now()) $$,
  $$ values ('Sam South', 1::bigint, 0::bigint, null::numeric, 1::bigint, 1::bigint) $$,
  'His overview counts his status change (not the manager''s assignment) and his backlog, and has no Unassigned row when nothing is unassigned'
);
select results_eq(
  $$ select day, flagged, resolved
       from public.team_daily_flow('2026-01-05 00:00+00', '2026-01-07 00:00+00') $$,
  $$ values ('2026-01-05'::date, 1::bigint, 0::bigint), ('2026-01-06'::date, 0::bigint, 1::bigint) $$,
  'The daily flow counts a call on the UTC day it was flagged and on the day it was resolved'
);
select results_eq(
  $$ select day, flagged, resolved
       from public.team_daily_flow('2026-01-05 12:00+00', '2026-01-06 08:00+00') $$,
  $$ values ('2026-01-05'::date, 0::bigint, 0::bigint), ('2026-01-06'::date, 0::bigint, 0::bigint) $$,
  'Partial first and last days count only what falls inside the period'
);
select results_eq(
  $$ select day, flagged, resolved
       from public.team_daily_flow('2026-01-05 00:00+14', '2026-01-08 00:00+14', null, null, 'Pacific/Kiritimati') $$,
  $$ values ('2026-01-05'::date, 0::bigint, 0::bigint), ('2026-01-06'::date, 1::bigint, 1::bigint),
            ('2026-01-07'::date, 0::bigint, 0::bigint) $$,
  'In a zone the days are its local days: flagged at 10:00 UTC on Jan 5 is midnight on Jan 6 at UTC+14'
);
select throws_ok(
  $$ select * from public.team_daily_flow(now() - interval '1 day', now(), null, null, 'Mars/Olympus') $$,
  '22023', 'unknown time zone Mars/Olympus',
  'An unknown zone is refused'
);

/** Morgan Manager (Nora and Sam report to him) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select results_eq(
  $$ select full_name, role::text, reviews_done, resolved, escalations, median_hours_to_resolution,
            backlog_under_24h, backlog_1_to_3d, backlog_over_3d, backlog
       from public.team_csm_stats(now() - interval '7 days', now()) $$,
  $$ values ('Nora North', 'csm', 4::bigint, 2::bigint, 1::bigint, 4.0, 1::bigint, 1::bigint, 0::bigint, 2::bigint),
            ('Sam South', 'csm', 1, 0, 0, null, 0, 1, 0, 1),
            ('Morgan Manager', 'manager', 0, 0, 0, null, 0, 0, 0, 0),
            ('Unassigned', null, 0, 0, 0, null, 0, 0, 1, 1) $$,
  'A manager''s overview has each CSM who reports to him, himself and the team''s unassigned work; kia-hingham''s is not his'
);
select results_eq(
  $$ select full_name, reviews_done, resolved, escalations, median_hours_to_resolution, backlog
       from public.team_csm_stats(now() - interval '5 hours', now()) where full_name = 'Nora North' $$,
  $$ values ('Nora North', 2::bigint, 2::bigint, 0::bigint, 4.0, 2::bigint) $$,
  'A shorter period counts only the work done in it; the backlog is always as of now'
);
select results_eq(
  $$ select full_name, reviews_done, resolved, median_hours_to_resolution, backlog_under_24h, backlog_1_to_3d, backlog
       from public.team_csm_stats(now() - interval '7 days', now(), 'honda-quincy') $$,
  $$ values ('Nora North', 2::bigint, 1::bigint, 2.0, 1::bigint, 1::bigint, 2::bigint),
            ('Sam South', 0, 0, null, 0, 0, 0),
            ('Morgan Manager', 0, 0, null, 0, 0, 0) $$,
  'The dealership filter narrows activity and backlog to that dealership'
);
select results_eq(
  $$ select dealership_id, assigned_names, unresolved, oldest_unresolved_hours, calls, analyzed, bad, bad_share
       from public.team_dealership_stats(now() - interval '7 days', now()) $$,
  $$ values ('ford-weymouth', '{"Sam South"}'::text[], 1::bigint, 30.0, 1::bigint, 1::bigint, 1::bigint, 1.000),
            ('honda-quincy', '{"Nora North"}', 2, 48.0, 4, 4, 2, 0.500),
            ('nissan-plymouth', '{"Sam South"}', 0, null, 0, 0, 0, null),
            ('toyota-braintree', '{"Nora North"}', 1, 96.0, 2, 2, 1, 0.500) $$,
  'Per dealership: who is assigned, unresolved count and oldest age, calls in the period and the share of bad ones'
);
select results_eq(
  $$ select dealership_id from public.team_dealership_stats(now() - interval '7 days', now(), 'a0000000-0000-4000-8000-000000000003') $$,
  $$ values ('honda-quincy'), ('toyota-braintree') $$,
  'The CSM filter keeps that CSM''s dealerships'
);
select is(
  (select (count(*), sum(flagged), sum(resolved))::text
     from public.team_daily_flow(now() - interval '7 days', now())),
  (select (((now() at time zone 'UTC')::date - ((now() - interval '7 days') at time zone 'UTC')::date) + 1, 6, 2)::text),
  'The flow has one row per UTC day of the period, 6 calls flagged (not kia-hingham''s) and 2 resolved'
);
select is(
  (select (sum(flagged), sum(resolved))::text
     from public.team_daily_flow(now() - interval '7 days', now(), null, 'honda-quincy')),
  '(3,1)',
  'The flow for one dealership: 3 flagged, 1 resolved'
);
select is(
  (select (sum(flagged), sum(resolved))::text
     from public.team_daily_flow(now() - interval '7 days', now(), 'a0000000-0000-4000-8000-000000000004'::uuid)),
  '(1,0)',
  'The flow for one CSM: flagged calls of his dealerships and resolutions by him'
);
select is(
  (select count(*) from public.review_queue where call_id like 't30-%'),
  4::bigint,
  'A manager''s queue view holds his team''s unresolved reviews'
);
select is(
  (select sum(backlog) from public.team_csm_stats(now() - interval '7 days', now())),
  (select count(*) from public.review_queue)::numeric,
  'The backlog columns add up to the unresolved list behind them (the drill-down)'
);
select results_eq(
  $$ select actor_name, to_assignee_name, status_changed from public.review_history
      where call_id = 't30-s1' order by created_at $$,
  $$ values ('Morgan Manager', 'Sam South', false), ('Sam South', 'Sam South', true) $$,
  'A manager reads his team''s history with names'
);

/** Avery Admin: everything, read-only */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select is(
  (select count(*) from public.review_queue where call_id like 't30-%'),
  5::bigint,
  'An admin''s queue view holds every unresolved review, kia-hingham''s included'
);
select results_eq(
  $$ select full_name, backlog_under_24h, backlog_over_3d, backlog
       from public.team_csm_stats(now() - interval '7 days', now()) where user_id is null $$,
  $$ values ('Unassigned', 1::bigint, 1::bigint, 2::bigint) $$,
  'An admin''s overview counts the unassigned work of every dealership'
);
select is(
  (select array_agg(full_name order by full_name) from public.team_csm_stats(now() - interval '7 days', now()) where user_id is not null),
  array['Morgan Manager', 'Nora North', 'Sam South'],
  'An admin''s overview lists every non-admin user'
);
select is(
  (select count(*) from public.team_dealership_stats(now() - interval '7 days', now())),
  5::bigint,
  'An admin sees every dealership in the overview'
);
select throws_ok(
  $$ select public.review_call('honda-quincy', 't30-q1', 'reviewed') $$,
  '42501', 'admins have read-only access in the app',
  'The admin still cannot act on a queue item'
);

/** A user with no profile and no assignment, and anon */
set local request.jwt.claims = '{"sub": "00000000-0000-4000-8000-0000000000ff", "role": "authenticated"}';
select is_empty(
  $$ select 1 from public.review_queue $$,
  'A signed-in user without a profile sees an empty queue'
);
select is_empty(
  $$ select 1 from public.team_csm_stats(now() - interval '7 days', now()) $$,
  'and an empty overview'
);
reset role;
set local role anon;
select throws_ok(
  $$ select 1 from public.review_queue $$,
  '42501', null,
  'anon is refused the queue'
);
select throws_ok(
  $$ select * from public.team_csm_stats(now() - interval '7 days', now()) $$,
  '42501', null,
  'anon is refused the team overview'
);
reset role;

select * from finish();
rollback;
