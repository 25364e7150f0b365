/**
 * Bounds on the RPC arguments that size work.
 *
 * `POST /rest/v1/rpc/dealership_health {"p_hours": 1000000}` used to work for
 * seconds and end in a 500. Every argument that decides how much is read or
 * generated is now checked first, and a value out of range is refused with
 * SQLSTATE 22023, which PostgREST answers as 400 with a message that names the
 * argument and its range:
 *
 *   dealership_health        p_hours between 1 and 2160 (90 days)
 *   team_csm_stats,
 *   team_dealership_stats,
 *   team_daily_flow          p_from and p_to both given, p_from before p_to,
 *                            at most 366 days apart
 *
 * Page sizes are bounded by PostgREST itself (db-max-rows / max_rows = 1000).
 * The API roles also have statement timeouts (anon 3 s, authenticated 8 s, set by
 * Supabase and locally by supabase/bootstrap/local.sql), the backstop for any
 * query that is slow for another reason.
 *
 * The function bodies are those of 20261120000300 and 20261120000500, with the
 * check as their first statement and pg_temp last on their search_path
 * (20261202000100).
 */

/** The checks */
create function private.require_between(p_name text, p_value bigint, p_min bigint, p_max bigint)
returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
  if p_value is null or p_value < p_min or p_value > p_max then
    raise exception '% must be between % and % (got %)', p_name, p_min, p_max, coalesce(p_value::text, 'null')
      using errcode = '22023';
  end if;
end;
$$;
comment on function private.require_between(text, bigint, bigint, bigint) is 'Raises 22023 (HTTP 400 through PostgREST) naming the argument and its range unless p_min <= p_value <= p_max.';

create function private.require_period(p_from timestamptz, p_to timestamptz, p_max interval)
returns void
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
  if p_from is null or p_to is null then
    raise exception 'p_from and p_to are required'
      using errcode = '22023';
  end if;
  if p_from >= p_to then
    raise exception 'p_from must be before p_to (got % and %)', p_from, p_to
      using errcode = '22023';
  end if;
  if p_to - p_from > p_max then
    raise exception 'p_from and p_to must be at most % apart (got %)', p_max, p_to - p_from
      using errcode = '22023';
  end if;
end;
$$;
comment on function private.require_period(timestamptz, timestamptz, interval) is 'Raises 22023 (HTTP 400 through PostgREST) unless p_from and p_to are given, p_from < p_to and the period is at most p_max long.';

revoke execute on function
  private.require_between(text, bigint, bigint, bigint),
  private.require_period(timestamptz, timestamptz, interval)
from public, anon;
grant execute on function
  private.require_between(text, bigint, bigint, bigint),
  private.require_period(timestamptz, timestamptz, interval)
to authenticated, service_role, reporting_reader;

/** The bounded functions */
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
    select g.bucket_start
      from bounds b,
           generate_series(0, ceil(extract(epoch from b.end_at - b.start_at) / extract(epoch from b.bucket))::int - 1) as i,
           lateral (select b.start_at + i * b.bucket as bucket_start) g
  ),
  trend as (
    select k.bucket_start,
           count(s.*) filter (where s.verdict = 'good') as good,
           count(s.*) filter (where s.verdict = 'needs_review') as needs_review,
           count(s.*) filter (where s.verdict = 'bad') as bad,
           count(s.*) filter (where s.verdict is null) as unanalyzed
      from buckets k
      cross join bounds b
      left join scoped s
        on s.is_current
       and s.first_event_at >= k.bucket_start
       and s.first_event_at < k.bucket_start + b.bucket
     group by k.bucket_start
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

create or replace function public.team_csm_stats(
  p_from timestamptz,
  p_to timestamptz,
  p_dealership_id text default null
) returns table (
  user_id uuid,
  full_name text,
  role public.app_role,
  dealership_ids text[],
  reviews_done bigint,
  resolved bigint,
  escalations bigint,
  median_hours_to_resolution numeric,
  backlog_under_24h bigint,
  backlog_1_to_3d bigint,
  backlog_over_3d bigint,
  backlog bigint
)
language sql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
  select private.require_period(p_from, p_to, interval '366 days');
  with people as (
    -- The caller; a manager's direct reports too; everyone for an admin.
    select p.user_id, p.full_name, p.role
      from public.profiles p
     where p.user_id = any ((select private.team_member_ids())::uuid[])
       and p.role <> 'admin'
  ),
  activity as (
    select e.actor_id,
           count(distinct (e.dealership_id, e.call_id)) as reviews_done,
           count(*) filter (where e.to_status = 'resolved') as resolved,
           count(*) filter (where e.to_status = 'escalated') as escalations,
           percentile_cont(0.5) within group (order by extract(epoch from e.created_at - r.flagged_at))
             filter (where e.to_status = 'resolved') as median_seconds
      from public.review_events e
      join public.call_reviews r on r.dealership_id = e.dealership_id and r.call_id = e.call_id
     where e.created_at >= p_from
       and e.created_at < p_to
       and e.actor_id is not null
       and e.from_status is distinct from e.to_status
       and (p_dealership_id is null or e.dealership_id = p_dealership_id)
     group by e.actor_id
  ),
  queue as (
    select q.assignee_id,
           count(*) filter (where q.age_bucket = 'under_24h') as under_24h,
           count(*) filter (where q.age_bucket = '1_to_3d') as one_to_3d,
           count(*) filter (where q.age_bucket = 'over_3d') as over_3d,
           count(*) as total
      from public.review_queue q
     where p_dealership_id is null or q.dealership_id = p_dealership_id
     group by q.assignee_id
  )
  select p.user_id,
         p.full_name,
         p.role,
         array(select ud.dealership_id from public.user_dealerships ud
                where ud.user_id = p.user_id order by ud.dealership_id),
         coalesce(a.reviews_done, 0),
         coalesce(a.resolved, 0),
         coalesce(a.escalations, 0),
         round((a.median_seconds / 3600)::numeric, 1),
         coalesce(q.under_24h, 0),
         coalesce(q.one_to_3d, 0),
         coalesce(q.over_3d, 0),
         coalesce(q.total, 0)
    from people p
    left join activity a on a.actor_id = p.user_id
    left join queue q on q.assignee_id = p.user_id
  union all
  -- Work nobody has taken yet, so the backlog columns add up to the team's total.
  select null, 'Unassigned', null, '{}'::text[], 0, 0, 0, null,
         q.under_24h, q.one_to_3d, q.over_3d, q.total
    from queue q
   where q.assignee_id is null
  order by 3 nulls last, 2
$$;

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
         c.calls,
         c.analyzed,
         c.bad,
         round(c.bad::numeric / nullif(c.analyzed, 0), 3)
    from public.dealerships d
    cross join lateral (
      select count(*) as unresolved, min(rq.flagged_at) as oldest
        from public.review_queue rq
       where rq.dealership_id = d.id
    ) q
    cross join lateral (
      select count(*) as calls,
             count(x.verdict) as analyzed,
             count(*) filter (where x.verdict = 'bad') as bad
        from public.calls x
       where x.dealership_id = d.id
         and x.first_event_at >= p_from
         and x.first_event_at < p_to
    ) c
   where p_csm is null
      or exists (select 1 from public.user_dealerships ud
                  where ud.dealership_id = d.id and ud.user_id = p_csm)
   order by d.name
$$;

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
  scope as (
    select array(
      select d.id from public.dealerships d
       where (p_dealership_id is null or d.id = p_dealership_id)
         and (p_csm is null or exists (select 1 from public.user_dealerships ud
                                        where ud.dealership_id = d.id and ud.user_id = p_csm))
    ) as ids
  )
  select k.day,
         (select count(*)
            from public.call_reviews r, scope s
           where r.dealership_id = any (s.ids)
             and r.flagged_at >= greatest(p_from, k.day::timestamp at time zone 'UTC')
             and r.flagged_at < least(p_to, (k.day + 1)::timestamp at time zone 'UTC')),
         (select count(*)
            from public.review_events e, scope s
           where e.dealership_id = any (s.ids)
             and e.to_status = 'resolved'
             and e.from_status is distinct from e.to_status
             and e.actor_id is not null
             and (p_csm is null or e.actor_id = p_csm)
             and e.created_at >= greatest(p_from, k.day::timestamp at time zone 'UTC')
             and e.created_at < least(p_to, (k.day + 1)::timestamp at time zone 'UTC'))
    from days k
   order by k.day
$$;
