/**
 * The dashboard's aggregate functions at a million calls (issue 14). Same
 * arguments, same results, same security invoker (row-level security decides the
 * rows); only how they are computed changes:
 *
 * - dealership_health: the trend counted each bucket by scanning every call of
 *   the window again (buckets x calls); now each call is counted once, in the
 *   bucket its offset falls in. A covering index lets the window be read from the
 *   index alone.
 * - team_dealership_stats: two correlated subqueries per dealership, whose plan
 *   under row-level security picked the time index and read the whole period once
 *   per dealership; now one grouped pass over the period's calls and one over the
 *   backlog.
 * - team_daily_flow: two correlated counts per day; now one grouped pass each.
 */

/** Indexes */
-- Row-level security reads `dealership_id = any(<the caller's dealerships>)`. As
-- an index condition that is one probe per dealership; as a filter it is a linear
-- search of the array for every row (200 comparisons per row for an admin, the
-- largest cost of these functions before). So the windows are read through
-- indexes that lead with dealership_id, and cover what the functions read so the
-- scans are index-only.
create index calls_dealership_time_covering_idx on public.calls (dealership_id, first_event_at)
  include (verdict, score, flags);
-- team_daily_flow: reviews flagged per day, and resolutions per day.
create index call_reviews_dealership_flagged_idx on public.call_reviews (dealership_id, flagged_at);
create index review_events_resolved_idx on public.review_events (dealership_id, created_at)
  include (actor_id)
  where to_status = 'resolved' and actor_id is not null and from_status is distinct from to_status;

/** dealership_health */
create or replace function public.dealership_health(p_dealership_id text default null, p_hours integer default 24)
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

/** team_dealership_stats */
create or replace function public.team_dealership_stats(
  p_from timestamptz,
  p_to timestamptz,
  p_csm uuid default null
) returns table (
  dealership_id text,
  name text,
  assigned_names text[],
  unresolved bigint,
  oldest_unresolved_at timestamptz,
  oldest_unresolved_hours numeric,
  calls bigint,
  analyzed bigint,
  bad bigint,
  bad_share numeric
)
language sql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
  select private.require_period(p_from, p_to, interval '366 days');
  with scope as (
    select d.id, d.name
      from public.dealerships d
     where p_csm is null
        or exists (select 1 from public.user_dealerships ud
                    where ud.dealership_id = d.id and ud.user_id = p_csm)
  ),
  queue as (
    select rq.dealership_id, count(*) as unresolved, min(rq.flagged_at) as oldest
      from public.review_queue rq
     where rq.dealership_id in (select s.id from scope s)
     group by rq.dealership_id
  ),
  period as (
    select x.dealership_id,
           count(*) as calls,
           count(x.verdict) as analyzed,
           count(*) filter (where x.verdict = 'bad') as bad
      from public.calls x
     where x.first_event_at >= p_from
       and x.first_event_at < p_to
       and x.dealership_id in (select s.id from scope s)
     group by x.dealership_id
  )
  select d.id,
         d.name,
         array(select p.full_name
                 from public.user_dealerships ud
                 join public.profiles p on p.user_id = ud.user_id
                where ud.dealership_id = d.id
                order by p.full_name),
         coalesce(q.unresolved, 0),
         q.oldest,
         round((extract(epoch from now() - q.oldest) / 3600)::numeric, 1),
         coalesce(c.calls, 0),
         coalesce(c.analyzed, 0),
         coalesce(c.bad, 0),
         round(coalesce(c.bad, 0)::numeric / nullif(coalesce(c.analyzed, 0), 0), 3)
    from scope d
    left join queue q on q.dealership_id = d.id
    left join period c on c.dealership_id = d.id
   order by d.name
$$;

/** team_daily_flow */
create or replace function public.team_daily_flow(
  p_from timestamptz,
  p_to timestamptz,
  p_csm uuid default null,
  p_dealership_id text default null
) returns table (
  day date,
  flagged bigint,
  resolved bigint
)
language sql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
  select private.require_period(p_from, p_to, interval '366 days');
  with days as (
    -- At most 366 bars: the chart is a glance, not a report.
    select g::date as day
      from pg_catalog.generate_series(
             date_trunc('day', p_from at time zone 'UTC'),
             date_trunc('day', (p_to - interval '1 microsecond') at time zone 'UTC'),
             interval '1 day') g
     limit 366
  ),
  -- The dealership and CSM filters as plain conditions: row-level security on
  -- call_reviews and review_events already limits the rows to the caller's
  -- dealerships (an index condition), and `in (select ...)` is a hash lookup per
  -- row where `= any(array)` searched the array linearly.
  flagged as (
    select (r.flagged_at at time zone 'UTC')::date as day, count(*) as n
      from public.call_reviews r
     where (p_dealership_id is null or r.dealership_id = p_dealership_id)
       and (p_csm is null or r.dealership_id in (select ud.dealership_id from public.user_dealerships ud
                                                  where ud.user_id = p_csm))
       and r.flagged_at >= p_from
       and r.flagged_at < p_to
     group by 1
  ),
  resolved as (
    select (e.created_at at time zone 'UTC')::date as day, count(*) as n
      from public.review_events e
     where (p_dealership_id is null or e.dealership_id = p_dealership_id)
       and (p_csm is null or e.dealership_id in (select ud.dealership_id from public.user_dealerships ud
                                                  where ud.user_id = p_csm))
       and e.to_status = 'resolved'
       and e.from_status is distinct from e.to_status
       and e.actor_id is not null
       and (p_csm is null or e.actor_id = p_csm)
       and e.created_at >= p_from
       and e.created_at < p_to
     group by 1
  )
  select k.day, coalesce(f.n, 0), coalesce(x.n, 0)
    from days k
    left join flagged f on f.day = k.day
    left join resolved x on x.day = k.day
   order by k.day
$$;
