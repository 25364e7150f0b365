/**
 * What the dashboard needs from the database beyond plain table reads: a full-text
 * search field on calls that uses the existing index, and the dealership health
 * summary, aggregated in Postgres so the browser never downloads every call.
 *
 * Both run with the caller's rights (security invoker), so the calls policies decide
 * which rows they see, exactly as for a plain `GET /rest/v1/calls`.
 */

/** Full-text search on calls */
-- A PostgREST computed field: `GET /rest/v1/calls?transcript_search=wfts(english).oil`.
-- The body is the exact expression of calls_transcript_fts_idx, and an inlinable SQL
-- function (immutable, no `set` clause) is expanded by the planner, so the GIN index
-- is used. That is why it has no pinned search_path: it is security invoker and
-- names only pg_catalog functions.
create function public.transcript_search(public.calls) returns tsvector
language sql
immutable
as $$
  select to_tsvector('english', coalesce($1.transcript, ''))
$$;
comment on function public.transcript_search(public.calls) is 'Computed field for the dashboard''s transcript search (PostgREST: transcript_search=wfts(english).<words>); same expression as calls_transcript_fts_idx, so the index is used.';
revoke execute on function public.transcript_search(public.calls) from public, anon;
grant execute on function public.transcript_search(public.calls) to authenticated;

/** Dealership health */
create function public.dealership_health(p_dealership_id text default null, p_hours integer default 24)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
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
comment on function public.dealership_health(text, integer) is 'Dashboard health summary for one dealership (or all the caller may see when null) over the last p_hours: counts per verdict, average score, the same for the previous period, top flags, a verdict trend per hour (<= 48 h) or day, and the open review count. Security invoker: RLS on calls applies.';
revoke execute on function public.dealership_health(text, integer) from public, anon;
grant execute on function public.dealership_health(text, integer) to authenticated;
