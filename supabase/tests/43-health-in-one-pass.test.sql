-- dealership_health in one pass (migration 20261224000100, and the index of its
-- open-review count, 20261224000200) answers exactly what the
-- previous version did (migration 20261204000200, kept below as
-- pg_temp.health_before, unchanged but for its name): the same JSON for every
-- role, window and dealership argument, on the demo data plus 3,000 generated calls
-- in the demo dealerships (every verdict and none, scores and none, flag sets, calls
-- on the window's edges, calls in the future). It is PL/pgSQL, so its statements are
-- planned with the arguments. Needs supabase/seed.sql: Nora North (csm:
-- toyota-braintree, honda-quincy), Sam South (csm: ford-weymouth, nissan-plymouth),
-- Morgan Manager (their manager), Avery Admin; kia-hingham is nobody's.
begin;
select plan(9);

\set admin '''a0000000-0000-4000-8000-000000000001'''
\set morgan '''a0000000-0000-4000-8000-000000000002'''
\set nora '''a0000000-0000-4000-8000-000000000003'''
\set sam '''a0000000-0000-4000-8000-000000000004'''

select is((select l.lanname::text from pg_proc p join pg_language l on l.oid = p.prolang
            where p.oid = 'public.dealership_health(text, integer)'::regprocedure),
  'plpgsql', 'dealership_health is PL/pgSQL (its statements are planned with the arguments)');

select is((select pg_get_indexdef('public.calls_open_review_dealership_idx'::regclass)),
  'CREATE INDEX calls_open_review_dealership_idx ON public.calls USING btree (dealership_id) WHERE (review_status = ''open''::review_status)',
  'The open-review count has its partial index (migration 20261224000200)');

-- Fixture, as the owner.
select setseed(0.43);
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, verdict, score, flags)
select d, 't43-' || i, t, t,
       case when r < 0.2 then null when r < 0.6 then 'good' when r < 0.85 then 'needs_review' else 'bad' end::public.verdict,
       case when r < 0.2 or r > 0.97 then null else (r * 100)::smallint end,
       case when r < 0.6 then '{}'::text[]
            when r < 0.7 then array['handoff_failed']
            when r < 0.8 then array['customer_upset', 'missed_appointment_confirmation']
            when r < 0.9 then array['abandoned_call']
            else array['hallucinated_information', 'customer_upset', 'voicemail'] end
  from (select i,
               (array['toyota-braintree', 'honda-quincy', 'ford-weymouth', 'nissan-plymouth', 'kia-hingham'])[1 + (i % 5)] as d,
               case when i % 50 = 0 then now() + random() * interval '2 days'    -- in the future
                    else now() - random() * interval '65 days' end as t,
               random() as r
          from generate_series(1, 3000) i) g;
-- On the edges of the 24-hour window and of its previous period, and at now.
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, verdict, score, flags)
values ('toyota-braintree', 't43-edge-start', now() - interval '24 hours', now(), 'bad', 10, array['handoff_failed']),
       ('toyota-braintree', 't43-edge-prev', now() - interval '48 hours', now(), 'good', 90, '{}'),
       ('toyota-braintree', 't43-edge-before', now() - interval '48 hours 1 microsecond', now(), 'good', 80, '{}'),
       ('toyota-braintree', 't43-edge-now', now(), now(), 'needs_review', 50, array['customer_upset']),
       ('honda-quincy', 't43-edge-hour', now() - interval '1 hour', now(), null, null, '{}');

-- The previous version (migration 20261204000200), renamed.
create function pg_temp.health_before(p_dealership_id text default null, p_hours integer default 24)
returns jsonb
language sql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
  select private.require_between('p_hours', p_hours, 1, 2160);
  with bounds as (
    select now() as end_at,
           now() - make_interval(hours => p_hours) as start_at,
           now() - make_interval(hours => 2 * p_hours) as prev_start_at,
           -- Hourly buckets up to two days, daily beyond, so the chart has 24-48 or 7+ points.
           case when p_hours <= 48 then interval '1 hour' else interval '1 day' end as bucket
  ),
  scoped as (
    -- RLS on calls already limits the rows to the caller's dealerships.
    select c.verdict, c.score, c.flags, c.first_event_at,
           c.first_event_at >= b.start_at as is_current
      from public.calls c, bounds b
     where c.first_event_at >= b.prev_start_at
       and c.first_event_at < b.end_at
       and (p_dealership_id is null or c.dealership_id = p_dealership_id)
  ),
  period as (
    select is_current,
           count(*) as calls,
           count(*) filter (where verdict = 'good') as good,
           count(*) filter (where verdict = 'needs_review') as needs_review,
           count(*) filter (where verdict = 'bad') as bad,
           count(*) filter (where verdict is null) as unanalyzed,
           round(avg(score), 1) as avg_score
      from scoped
     group by is_current
  ),
  flag_counts as (
    select f.flag, count(*) as calls
      from scoped s, unnest(s.flags) as f (flag)
     where s.is_current
     group by f.flag
     order by count(*) desc, f.flag
     limit 5
  ),
  buckets as (
    select i, b.start_at + i * b.bucket as bucket_start
      from bounds b,
           generate_series(0, ceil(extract(epoch from b.end_at - b.start_at) / extract(epoch from b.bucket))::int - 1) as i
  ),
  -- Each current call counted once, in the bucket its offset from start_at falls
  -- in (exact numeric arithmetic), instead of every bucket scanning every call.
  bucket_counts as (
    select floor(extract(epoch from s.first_event_at - b.start_at) / extract(epoch from b.bucket))::int as i,
           count(*) filter (where s.verdict = 'good') as good,
           count(*) filter (where s.verdict = 'needs_review') as needs_review,
           count(*) filter (where s.verdict = 'bad') as bad,
           count(*) filter (where s.verdict is null) as unanalyzed
      from scoped s, bounds b
     where s.is_current
     group by 1
  ),
  trend as (
    select k.bucket_start,
           coalesce(n.good, 0) as good,
           coalesce(n.needs_review, 0) as needs_review,
           coalesce(n.bad, 0) as bad,
           coalesce(n.unanalyzed, 0) as unanalyzed
      from buckets k
      left join bucket_counts n on n.i = k.i
  )
  select jsonb_build_object(
    'hours', p_hours,
    'start_at', (select start_at from bounds),
    'end_at', (select end_at from bounds),
    'current', coalesce((select to_jsonb(p) - 'is_current' from period p where p.is_current),
                        jsonb_build_object('calls', 0, 'good', 0, 'needs_review', 0, 'bad', 0, 'unanalyzed', 0, 'avg_score', null)),
    'previous', coalesce((select to_jsonb(p) - 'is_current' from period p where not p.is_current),
                         jsonb_build_object('calls', 0, 'good', 0, 'needs_review', 0, 'bad', 0, 'unanalyzed', 0, 'avg_score', null)),
    'top_flags', coalesce((select jsonb_agg(jsonb_build_object('flag', flag, 'calls', calls)) from flag_counts), '[]'::jsonb),
    'trend', coalesce((select jsonb_agg(to_jsonb(t) order by t.bucket_start) from trend t), '[]'::jsonb),
    -- The review queue is not windowed: a call flagged last week and still open is waiting now.
    'waiting_for_review', (
      select count(*)
        from public.calls c
       where c.review_status = 'open'
         and (p_dealership_id is null or c.dealership_id = p_dealership_id)
    )
  )
$$;

-- Every window and dealership argument the comparisons use, where the two differ.
create function pg_temp.differences() returns setof text
language sql
as $$
  select format('%s h, %s', h, coalesce(d, 'all'))
    from unnest(array[1, 2, 24, 25, 48, 49, 72, 168, 720, 2160]) h,
         unnest(array[null, 'toyota-braintree', 'ford-weymouth', 'kia-hingham']) d
   where public.dealership_health(d, h) is distinct from pg_temp.health_before(d, h)
$$;

select is_empty($$ select * from pg_temp.differences() $$,
  'The owner: the same JSON for every window and dealership');

set local role authenticated;

select tests.authenticate_as(:nora);
select is_empty($$ select * from pg_temp.differences() $$,
  'Nora (csm): the same JSON for every window, for all hers, hers, another''s and nobody''s dealership');
select ok((public.dealership_health(null, 168) -> 'current' ->> 'calls')::int > 0,
  'Nora''s week is not empty (the comparison compares something)');

select tests.authenticate_as(:sam);
select is_empty($$ select * from pg_temp.differences() $$, 'Sam (csm): the same JSON');

select tests.authenticate_as(:morgan);
select is_empty($$ select * from pg_temp.differences() $$, 'Morgan (manager): the same JSON');

select tests.authenticate_as(:admin);
select is_empty($$ select * from pg_temp.differences() $$, 'The admin: the same JSON');
select ok(jsonb_array_length(public.dealership_health(null, 24) -> 'top_flags') = 5
            and jsonb_array_length(public.dealership_health(null, 24) -> 'trend') = 24
            and jsonb_array_length(public.dealership_health(null, 168) -> 'trend') = 7,
  'The admin''s day has five top flags and 24 hourly buckets, the week 7 daily ones');

select * from finish();
rollback;
