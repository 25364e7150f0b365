/*
 * dealership_health in one pass, planned with its arguments (issue 14).
 *
 * Two things made it slow for a manager or an admin at a million calls:
 *
 * - It was a LANGUAGE sql function that cannot be inlined (it sets search_path).
 *   Postgres plans such a function's statements once per call *without* the
 *   values of its arguments (a generic plan, whatever plan_cache_mode says), so
 *   `(p_dealership_id is null or c.dealership_id = p_dealership_id)` could not be
 *   simplified: one dealership, asked by an admin, read the index of every
 *   dealership the admin may see (97 ms p95 for ~800 calls). PL/pgSQL prepares its
 *   statements through the plan cache, which `authenticated`'s
 *   plan_cache_mode = force_custom_plan (migration 20261215000100) plans with the
 *   values: the filter becomes `dealership_id = 'x'`, or disappears when null.
 * - Every call of both periods was materialised in a CTE and read three times (the
 *   period totals, the trend, the flags), with numeric arithmetic per call for its
 *   trend bucket. Now one aggregate reads the covering index once, grouped by the
 *   trend bucket (date_bin, integer arithmetic; the previous period is one group),
 *   and the period totals are sums of those groups. The flags need the flag
 *   arrays, so they are a second, narrower read of the current period's calls
 *   that have flags.
 *
 * The result is the same JSON as before, key for key and value for value
 * (supabase/tests/43-health-in-one-pass.test.sql compares the two on generated
 * calls for each role and window).
 */

create or replace function public.dealership_health(p_dealership_id text default null, p_hours integer default 24)
returns jsonb
language plpgsql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
declare
  v_end_at timestamptz := now();
  v_start_at timestamptz;
  v_prev_start_at timestamptz;
  -- Hourly buckets up to two days, daily beyond, so the chart has 24-48 or 7+ points.
  -- Exact hours, not calendar days, so that a bucket is 24 h even where the
  -- session's time zone changes its clock (date_bin counts the same way).
  v_bucket interval := case when p_hours <= 48 then interval '1 hour' else interval '24 hours' end;
  v_result jsonb;
begin
  perform private.require_between('p_hours', p_hours, 1, 2160);
  v_start_at := v_end_at - make_interval(hours => p_hours);
  v_prev_start_at := v_end_at - make_interval(hours => 2 * p_hours);

  with buckets as (
    -- RLS on calls already limits the rows to the caller's dealerships. A current
    -- call falls in the bucket its offset from the start is in; a previous one in
    -- the group whose bucket_start is null.
    select case when c.first_event_at >= v_start_at
                then date_bin(v_bucket, c.first_event_at, v_start_at) end as bucket_start,
           count(*) as calls,
           count(*) filter (where c.verdict = 'good') as good,
           count(*) filter (where c.verdict = 'needs_review') as needs_review,
           count(*) filter (where c.verdict = 'bad') as bad,
           count(*) filter (where c.verdict is null) as unanalyzed,
           sum(c.score) as score_sum,
           count(c.score) as scored
      from public.calls c
     where c.first_event_at >= v_prev_start_at
       and c.first_event_at < v_end_at
       and (p_dealership_id is null or c.dealership_id = p_dealership_id)
     group by 1
  ),
  period as (
    select b.bucket_start is not null as is_current,
           sum(b.calls) as calls,
           sum(b.good) as good,
           sum(b.needs_review) as needs_review,
           sum(b.bad) as bad,
           sum(b.unanalyzed) as unanalyzed,
           -- avg(score) rounded, from the sums (the same numeric division avg does).
           round(sum(b.score_sum)::numeric / nullif(sum(b.scored), 0), 1) as avg_score
      from buckets b
     group by 1
  ),
  flag_counts as (
    select f.flag, count(*) as calls
      from public.calls c, unnest(c.flags) as f (flag)
     where c.first_event_at >= v_start_at
       and c.first_event_at < v_end_at
       and c.flags <> '{}'
       and (p_dealership_id is null or c.dealership_id = p_dealership_id)
     group by f.flag
     order by count(*) desc, f.flag
     limit 5
  ),
  trend as (
    select s.bucket_start,
           coalesce(b.good, 0) as good,
           coalesce(b.needs_review, 0) as needs_review,
           coalesce(b.bad, 0) as bad,
           coalesce(b.unanalyzed, 0) as unanalyzed
      from generate_series(0, ceil(extract(epoch from v_end_at - v_start_at) / extract(epoch from v_bucket))::int - 1) as i,
           lateral (select v_start_at + i * v_bucket as bucket_start) s
      left join buckets b on b.bucket_start = s.bucket_start
  )
  select jsonb_build_object(
    'hours', p_hours,
    'start_at', v_start_at,
    'end_at', v_end_at,
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
    into v_result;
  return v_result;
end;
$$;

comment on function public.dealership_health(text, integer) is 'Dashboard health summary for one dealership (or all the caller may see when null) over the last p_hours: counts per verdict, average score, the same for the previous period, top flags, a verdict trend per hour (<= 48 h) or day, and the open review count. Security invoker: RLS on calls applies. PL/pgSQL so that its statements are planned with the arguments.';
