-- The reporting views: their shape and privileges, known answers on fixture rows
-- (local days across the March 2025 daylight-saving change), and what each role
-- sees through them. Needs supabase/seed.sql (the demo users).
--
-- Fixture dealerships (created here, rolled back):
--   rep-east  America/New_York     assigned to Nora North (csm)
--   rep-west  America/Los_Angeles  assigned to Sam South (csm)
--   rep-none  UTC                  assigned to nobody (admin only)
-- Morgan Manager sees rep-east and rep-west through Nora and Sam.
-- New York moved to EDT on 2025-03-09 at 07:00 UTC, Los Angeles at 10:00 UTC.
begin;
select plan(40);

/** Shape and privileges */
select has_view('reporting'::name, v::name, format('reporting.%s exists', v))
  from unnest(array['dealership_daily', 'flag_trends', 'csm_throughput', 'backlog', 'analysis_health']) v;

select columns_are('reporting'::name, 'dealership_daily'::name, array[
  'dealership_id', 'dealership_name', 'timezone', 'day', 'calls', 'analyzed', 'good',
  'needs_review', 'bad', 'unanalyzed', 'failed_analyses', 'avg_score', 'scored_calls',
  'score_sum', 'top_flags', 'flag_counts'
]::name[], 'dealership_daily has the documented columns');
select columns_are('reporting'::name, 'flag_trends'::name, array[
  'dealership_id', 'dealership_name', 'timezone', 'week_start', 'flag', 'flagged_calls',
  'calls', 'analyzed', 'share_of_analyzed'
]::name[], 'flag_trends has the documented columns');
select columns_are('reporting'::name, 'csm_throughput'::name, array[
  'reviewer_id', 'reviewer_name', 'reviewer_role', 'day', 'reviews_done', 'status_changes',
  'resolved', 'escalated', 'median_time_to_resolution', 'dealership_ids'
]::name[], 'csm_throughput has the documented columns');
select columns_are('reporting'::name, 'backlog'::name, array[
  'dealership_id', 'dealership_name', 'call_id', 'status', 'verdict', 'score', 'flags',
  'assignee_id', 'assignee_name', 'flagged_at', 'age', 'age_hours', 'last_activity_at',
  'call_started_at'
]::name[], 'backlog has the documented columns');
select columns_are('reporting'::name, 'analysis_health'::name, array[
  'day', 'model', 'prompt_version', 'analyses', 'ok', 'failed', 'failure_rate',
  'latency_p50_ms', 'latency_p95_ms', 'latency_p99_ms', 'avg_prompt_tokens',
  'avg_completion_tokens', 'truncated'
]::name[], 'analysis_health has the documented columns');

select is_empty(
  $$ select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'reporting' and c.relkind = 'v' and obj_description(c.oid, 'pg_class') is null $$,
  'Every reporting view has a comment, which Studio shows'
);
select ok(
  has_schema_privilege('authenticated', 'reporting', 'usage')
    and has_schema_privilege('service_role', 'reporting', 'usage'),
  'authenticated and service_role can use the reporting schema'
);
select is_empty(
  $$ select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'reporting' and c.relkind = 'v'
        and not (has_table_privilege('authenticated', c.oid, 'select')
                 and has_table_privilege('service_role', c.oid, 'select')
                 and has_table_privilege('reporting_reader', c.oid, 'select')) $$,
  'authenticated, service_role and reporting logins can select from every reporting view'
);
select ok(
  not has_schema_privilege('anon', 'reporting', 'usage'),
  'anon cannot use the reporting schema'
);
select is_empty(
  $$ select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'reporting' and c.relkind = 'v' and has_table_privilege('anon', c.oid, 'select') $$,
  'anon holds no select privilege on any reporting view'
);

/** Fixtures */
insert into public.dealerships (id, name, timezone)
values ('rep-east', 'Rep East Motors', 'America/New_York'),
       ('rep-west', 'Rep West Motors', 'America/Los_Angeles'),
       ('rep-none', 'Rep Unassigned Motors', 'UTC');
insert into public.user_dealerships (user_id, dealership_id)
values ('a0000000-0000-4000-8000-000000000003', 'rep-east'),
       ('a0000000-0000-4000-8000-000000000004', 'rep-west');

-- call, when it started (UTC), its local day in comments
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at)
values
  ('rep-east', 'e1', '2025-03-08 15:00Z', '2025-03-08 15:10Z'),  -- 03-08 10:00 EST
  ('rep-east', 'e2', '2025-03-09 04:30Z', '2025-03-09 04:40Z'),  -- 03-08 23:30 EST (UTC says 03-09)
  ('rep-east', 'e3', '2025-03-09 05:30Z', '2025-03-09 05:40Z'),  -- 03-09 00:30 EST
  ('rep-east', 'e4', '2025-03-10 03:30Z', '2025-03-10 03:40Z'),  -- 03-09 23:30 EDT (UTC says 03-10, a Monday)
  ('rep-east', 'e5', '2025-03-10 04:30Z', '2025-03-10 04:40Z'),  -- 03-10 00:30 EDT, never analyzed
  ('rep-east', 'e6', '2025-03-12 16:00Z', '2025-03-12 16:10Z'),  -- 03-12 (03-11 has no call)
  ('rep-east', 'e7', '2025-03-12 17:00Z', '2025-03-12 17:10Z'),  -- 03-12
  ('rep-west', 'w1', '2025-03-08 07:00Z', '2025-03-08 07:10Z'),  -- 03-07 23:00 PST
  ('rep-west', 'w2', '2025-03-08 20:00Z', '2025-03-08 20:10Z'),  -- 03-08 12:00 PST
  ('rep-west', 'w3', '2025-03-09 19:00Z', '2025-03-09 19:10Z'),  -- 03-09 12:00 PDT
  ('rep-none', 'n1', '2025-03-08 12:00Z', '2025-03-08 12:10Z'),
  ('rep-none', 'n2', '2025-03-09 12:00Z', '2025-03-09 12:10Z');

-- One analysis per call (not e5), stored five minutes after the call. The triggers
-- mirror them onto calls and open a review (with its audit row) for needs_review and bad.
insert into public.call_analyses
  (dealership_id, call_id, analysis, verdict, score, reasons, flags, recommended_action,
   confidence, status, model, prompt_version, latency_ms, prompt_tokens, completion_tokens, created_at)
select a.d, a.c, '{}', a.verdict::public.verdict, a.score, a.reasons, a.flags,
       case when a.verdict = 'good' then 'none' else 'human_follow_up' end,
       0.9, a.status::public.analysis_status, a.model, a.prompt, a.latency, a.pt, a.ct,
       c.first_event_at + interval '5 minutes'
  from (values
    ('rep-east', 'e1', 'good',         90,   '{}'::text[],          '{}'::text[],                        'ok',     'gpt-4o-mini',  'analysis-v1', 1000,  900, 100),
    ('rep-east', 'e2', 'bad',          20,   '{}',                  '{handoff_failed,customer_upset}',   'ok',     'gpt-4o-mini',  'analysis-v1', 2000,  900, 100),
    ('rep-east', 'e3', 'needs_review', 60,   '{}',                  '{handoff_failed}',                  'ok',     'gpt-4o-mini',  'analysis-v1', 3000,  900, 100),
    ('rep-east', 'e4', 'needs_review', null, '{analysis_failed}',   '{}',                                'failed', 'gpt-4o-mini',  'analysis-v1', 30000, null, null),
    ('rep-east', 'e6', 'good',         100,  '{}',                  '{}',                                'ok',     'heuristic-v1', 'rules-v1',    5,     null, null),
    ('rep-east', 'e7', 'bad',          15,   '{}',                  '{customer_upset}',                  'ok',     'heuristic-v1', 'rules-v1',    7,     null, null),
    ('rep-west', 'w1', 'bad',          10,   '{}',                  '{abandoned_call}',                  'ok',     'gpt-4o-mini',  'analysis-v1', 4000,  900, 100),
    ('rep-west', 'w2', 'good',         85,   '{}',                  '{}',                                'ok',     'gpt-4o-mini',  'analysis-v1', 1500,  900, 100),
    ('rep-west', 'w3', 'needs_review', 50,   '{}',                  '{missed_appointment_confirmation}', 'ok',     'gpt-4o-mini',  'analysis-v1', 2500,  900, 100),
    ('rep-none', 'n1', 'good',         75,   '{}',                  '{}',                                'ok',     'gpt-4o-mini',  'analysis-v1', 500,   900, 100),
    ('rep-none', 'n2', 'bad',          30,   '{}',                  '{handoff_failed}',                  'ok',     'gpt-4o-mini',  'analysis-v1', 600,   900, 100)
  ) as a (d, c, verdict, score, reasons, flags, status, model, prompt, latency, pt, ct)
  join public.calls c on c.dealership_id = a.d and c.call_id = a.c;

-- Review work, written as the review functions would (state + audit row), at fixed times:
--   e2: Nora resolves at 03-09 16:00Z            (NY day 03-09; 11:25 after the flag)
--   e3: Nora follow_up_needed 15:00Z, resolved 20:35Z (NY day 03-09; 15:00 after the flag)
--   e4: Morgan assigns it to Nora 03-10 11:00Z (not a review), Nora escalates 12:00Z (NY day 03-10)
--   w1: Morgan resolves at 03-09 07:30Z          (LA day 03-08, still PST; 24:25 after the flag)
--   w3: Sam takes it 03-09 20:00Z (assignment only, stays open)
insert into public.review_events (dealership_id, call_id, actor_id, from_status, to_status, from_assignee, to_assignee, notes, created_at)
values
  ('rep-east', 'e2', 'a0000000-0000-4000-8000-000000000003', 'open', 'resolved', null, null, 'Called back.', '2025-03-09 16:00Z'),
  ('rep-east', 'e3', 'a0000000-0000-4000-8000-000000000003', 'open', 'follow_up_needed', null, null, null, '2025-03-09 15:00Z'),
  ('rep-east', 'e3', 'a0000000-0000-4000-8000-000000000003', 'follow_up_needed', 'resolved', null, null, 'Booked.', '2025-03-09 20:35Z'),
  ('rep-east', 'e4', 'a0000000-0000-4000-8000-000000000002', 'open', 'open', null, 'a0000000-0000-4000-8000-000000000003', null, '2025-03-10 11:00Z'),
  ('rep-east', 'e4', 'a0000000-0000-4000-8000-000000000003', 'open', 'escalated', 'a0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000003', 'To the service manager.', '2025-03-10 12:00Z'),
  ('rep-west', 'w1', 'a0000000-0000-4000-8000-000000000002', 'open', 'resolved', null, null, 'Called back.', '2025-03-09 07:30Z'),
  ('rep-west', 'w3', 'a0000000-0000-4000-8000-000000000004', 'open', 'open', null, 'a0000000-0000-4000-8000-000000000004', null, '2025-03-09 20:00Z');
update public.call_reviews r
   set status = v.status::public.review_status,
       assignee_id = v.assignee,
       resolved_at = case when v.status = 'resolved' then v.at end,
       updated_at = v.at
  from (values
    ('rep-east', 'e2', 'resolved', null::uuid, '2025-03-09 16:00Z'::timestamptz),
    ('rep-east', 'e3', 'resolved', null, '2025-03-09 20:35Z'),
    ('rep-east', 'e4', 'escalated', 'a0000000-0000-4000-8000-000000000003', '2025-03-10 12:00Z'),
    ('rep-west', 'w1', 'resolved', null, '2025-03-09 07:30Z'),
    ('rep-west', 'w3', 'open', 'a0000000-0000-4000-8000-000000000004', '2025-03-09 20:00Z')
  ) as v (d, c, status, assignee, at)
 where r.dealership_id = v.d and r.call_id = v.c;

/** Known answers (as the admin, who sees every dealership) */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');

select results_eq(
  $$ select day, calls, analyzed, good, needs_review, bad, unanalyzed, failed_analyses,
            avg_score, scored_calls, score_sum, top_flags, flag_counts
       from reporting.dealership_daily
      where dealership_id = 'rep-east' and day between '2025-03-01' and '2025-03-31'
      order by day $$,
  $$ values
       ('2025-03-08'::date, 2::bigint, 2::bigint, 1::bigint, 0::bigint, 1::bigint, 0::bigint, 0::bigint,
        55.0::numeric, 2::bigint, 110::bigint, '{customer_upset,handoff_failed}'::text[],
        '{"customer_upset": 1, "handoff_failed": 1}'::jsonb),
       ('2025-03-09', 2, 2, 0, 2, 0, 0, 1, 60.0, 1, 60, '{handoff_failed}', '{"handoff_failed": 1}'),
       ('2025-03-10', 1, 0, 0, 0, 0, 1, 0, null, 0, 0, '{}', '{}'),
       ('2025-03-11', 0, 0, 0, 0, 0, 0, 0, null, 0, 0, '{}', '{}'),
       ('2025-03-12', 2, 2, 1, 0, 1, 0, 0, 57.5, 2, 115, '{customer_upset}', '{"customer_upset": 1}') $$,
  'dealership_daily buckets calls by the dealership''s local day across the DST change, with the verdict mix, failed analyses, scores and flags, and a zero row for a day without calls'
);
select results_eq(
  $$ select day, calls, bad, good, dealership_name, timezone
       from reporting.dealership_daily
      where dealership_id = 'rep-west' and day between '2025-03-01' and '2025-03-31'
      order by day $$,
  $$ values ('2025-03-07'::date, 1::bigint, 1::bigint, 0::bigint, 'Rep West Motors'::text, 'America/Los_Angeles'::text),
            ('2025-03-08', 1, 0, 1, 'Rep West Motors', 'America/Los_Angeles'),
            ('2025-03-09', 1, 0, 0, 'Rep West Motors', 'America/Los_Angeles') $$,
  'dealership_daily uses each dealership''s own time zone: a 07:00 UTC call in Los Angeles belongs to the day before'
);
select results_eq(
  $$ select week_start, flag, flagged_calls, calls, analyzed, share_of_analyzed
       from reporting.flag_trends
      where dealership_id = 'rep-east' and week_start between '2025-03-01' and '2025-03-31'
      order by week_start, flag $$,
  $$ values ('2025-03-03'::date, 'customer_upset'::text, 1::bigint, 4::bigint, 4::bigint, 0.250::numeric),
            ('2025-03-03', 'handoff_failed', 2, 4, 4, 0.500),
            ('2025-03-10', 'customer_upset', 1, 3, 2, 0.500) $$,
  'flag_trends counts each flag per local Monday-to-Sunday week (a Sunday-night call stays in its week) with the week''s totals'
);
select is_empty(
  $$ select 1 from reporting.flag_trends
      where dealership_id = 'rep-east' and week_start = '2025-03-10' and flag = 'handoff_failed' $$,
  'flag_trends has no row for a flag that did not occur that week'
);
select results_eq(
  $$ select reviewer_name, reviewer_role::text, day, reviews_done, status_changes, resolved, escalated,
            median_time_to_resolution, dealership_ids
       from reporting.csm_throughput
      where day between '2025-03-01' and '2025-03-31'
      order by day, reviewer_name $$,
  $$ values ('Morgan Manager'::text, 'manager'::text, '2025-03-08'::date, 1::bigint, 1::bigint, 1::bigint, 0::bigint,
             '24:25:00'::interval, '{rep-west}'::text[]),
            ('Nora North', 'csm', '2025-03-09', 2, 3, 2, 0, '13:12:30', '{rep-east}'),
            ('Nora North', 'csm', '2025-03-10', 1, 1, 0, 1, null, '{rep-east}') $$,
  'csm_throughput counts each person''s status changes per local day of the call''s dealership, with the median time from flag to resolution; assignments and automatic openings are not reviews'
);
select results_eq(
  $$ select call_id, status::text, verdict::text, score::integer, flags, assignee_name, flagged_at
       from reporting.backlog
      where dealership_id like 'rep-%'
      order by flagged_at $$,
  $$ values ('n2'::text, 'open'::text, 'bad'::text, 30, '{handoff_failed}'::text[], null::text, '2025-03-09 12:05Z'::timestamptz),
            ('w3', 'open', 'needs_review', 50, '{missed_appointment_confirmation}', 'Sam South', '2025-03-09 19:05Z'),
            ('e4', 'escalated', 'needs_review', null, '{}', 'Nora North', '2025-03-10 03:35Z'),
            ('e7', 'open', 'bad', 15, '{customer_upset}', null, '2025-03-12 17:05Z') $$,
  'backlog lists every review that is not resolved, with status, the call''s verdict, assignee and flag time'
);
select ok(
  (select bool_and(age = now() - flagged_at and age_hours = round((extract(epoch from age) / 3600)::numeric, 1))
     from reporting.backlog where dealership_id like 'rep-%'),
  'backlog age is the time since the call was flagged, also in hours'
);
select results_eq(
  $$ select day, model, prompt_version, analyses, ok, failed, failure_rate, latency_p50_ms, latency_p95_ms,
            avg_prompt_tokens, avg_completion_tokens
       from reporting.analysis_health
      where day between '2025-03-01' and '2025-03-31'
      order by day, model $$,
  $$ values ('2025-03-07'::date, 'gpt-4o-mini'::text, 'analysis-v1'::text, 1::bigint, 1::bigint, 0::bigint, 0.000::numeric, 4000, 4000, 900, 100),
            ('2025-03-08', 'gpt-4o-mini', 'analysis-v1', 4, 4, 0, 0.000, 1250, 1925, 900, 100),
            ('2025-03-09', 'gpt-4o-mini', 'analysis-v1', 4, 3, 1, 0.250, 2750, 25950, 900, 100),
            ('2025-03-12', 'heuristic-v1', 'rules-v1', 2, 2, 0, 0.000, 6, 7, null, null) $$,
  'analysis_health groups attempts per local day, model and prompt version with failure rate, latency percentiles and tokens'
);

/** What each role sees through the views */
-- Nora North (csm of rep-east)
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select set_eq(
  $$ select distinct dealership_id from reporting.dealership_daily where dealership_id like 'rep-%' $$,
  array['rep-east'],
  'A CSM sees only her own dealership in dealership_daily'
);
select set_eq(
  $$ select distinct dealership_id from reporting.flag_trends where dealership_id like 'rep-%' $$,
  array['rep-east'],
  'A CSM sees only her own dealership in flag_trends'
);
select set_eq(
  $$ select call_id from reporting.backlog where dealership_id like 'rep-%' $$,
  array['e4', 'e7'],
  'A CSM sees only her own dealership''s open reviews in backlog'
);
select results_eq(
  $$ select reviewer_name, day from reporting.csm_throughput
      where day between '2025-03-01' and '2025-03-31' order by day $$,
  $$ values ('Nora North'::text, '2025-03-09'::date), ('Nora North', '2025-03-10') $$,
  'A CSM''s csm_throughput holds only work done in her dealerships (not the manager''s in another)'
);
select results_eq(
  $$ select day, analyses, failed, latency_p50_ms from reporting.analysis_health
      where day between '2025-03-01' and '2025-03-31' and model = 'gpt-4o-mini' order by day $$,
  $$ values ('2025-03-08'::date, 2::bigint, 0::bigint, 1500), ('2025-03-09', 2, 1, 16500) $$,
  'A CSM''s analysis_health covers only the analyses of her dealerships'
);

-- Sam South (csm of rep-west)
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select set_eq(
  $$ select distinct dealership_id from reporting.dealership_daily where dealership_id like 'rep-%' $$,
  array['rep-west'],
  'The other CSM sees only his dealership in dealership_daily'
);
select set_eq(
  $$ select call_id from reporting.backlog where dealership_id like 'rep-%' $$,
  array['w3'],
  'The other CSM sees only his dealership''s open reviews in backlog'
);
select results_eq(
  $$ select reviewer_name, day, dealership_ids from reporting.csm_throughput
      where day between '2025-03-01' and '2025-03-31' $$,
  $$ values ('Morgan Manager'::text, '2025-03-08'::date, '{rep-west}'::text[]) $$,
  'A CSM sees the work his manager did in his dealership, and nothing from the other CSM''s'
);

-- Morgan Manager (manager of both CSMs)
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select set_eq(
  $$ select distinct dealership_id from reporting.dealership_daily where dealership_id like 'rep-%' $$,
  array['rep-east', 'rep-west'],
  'A manager sees his CSMs'' dealerships in dealership_daily, not the unassigned one'
);
select set_eq(
  $$ select distinct dealership_id from reporting.flag_trends where dealership_id like 'rep-%' $$,
  array['rep-east', 'rep-west'],
  'A manager sees his CSMs'' dealerships in flag_trends'
);
select set_eq(
  $$ select call_id from reporting.backlog where dealership_id like 'rep-%' $$,
  array['e4', 'e7', 'w3'],
  'A manager sees his team''s open reviews in backlog'
);
select is(
  (select count(*) from reporting.csm_throughput where day between '2025-03-01' and '2025-03-31'),
  3::bigint,
  'A manager sees his team''s review work in csm_throughput'
);
select results_eq(
  $$ select analyses, latency_p50_ms from reporting.analysis_health
      where day = '2025-03-08' and model = 'gpt-4o-mini' $$,
  $$ values (3::bigint, 1500) $$,
  'A manager''s analysis_health leaves out the unassigned dealership''s analyses'
);

-- Admin
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select set_eq(
  $$ select distinct dealership_id from reporting.dealership_daily where dealership_id like 'rep-%' $$,
  array['rep-east', 'rep-west', 'rep-none'],
  'The admin sees every dealership in dealership_daily'
);

-- A signed-in user with no dealership
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-00000000ffff", "role": "authenticated"}';
select is_empty(
  $$ select 1 from reporting.dealership_daily
     union all select 1 from reporting.flag_trends
     union all select 1 from reporting.csm_throughput
     union all select 1 from reporting.backlog
     union all select 1 from reporting.analysis_health $$,
  'A user without a profile or dealerships sees no row in any reporting view'
);

-- anon
reset role;
set local role anon;
set local request.jwt.claims = '{"role": "anon"}';
select throws_ok(
  $$ select * from reporting.dealership_daily $$,
  '42501', null,
  'anon cannot read reporting.dealership_daily'
);
select throws_ok(
  $$ select * from reporting.backlog $$,
  '42501', null,
  'anon cannot read reporting.backlog'
);
reset role;

select * from finish();
rollback;
