/**
 * team_csm_stats at a million calls (issue 14).
 *
 * Its backlog columns counted the rows of public.review_queue. That view joins
 * every unresolved review to its call, dealership, assignee and newest human
 * label, each under its own row-level security, so the planner cannot drop the
 * joins: an admin's count paid four lookups per unresolved review. The count now
 * reads call_reviews alone with the view's own filter (status <> 'resolved') and
 * its age buckets (under 24 h, 1 to 3 days, over 3 days, from flagged_at), so the
 * numbers are the same: pgTAP 30-team-overview (known answers) and
 * 37-team-csm-stats-backlog (equal to counting the view, for every role).
 *
 * And it is PL/pgSQL now, with the same statement: a SQL function that cannot
 * be inlined (this one returns a table) has its statements planned without the
 * values of its arguments, so the planner guessed the period's rows and joined
 * the week's review events to their reviews one lookup at a time. PL/pgSQL plans
 * the statement with the values when plan_cache_mode is force_custom_plan (set
 * for authenticated, migration 20261215000100). At 200k calls an admin's call
 * went from ~115 ms to ~40-60 ms in psql, the backlog count from ~170 ms to 7 ms.
 * Everything else is the function of 20261202000200, unchanged.
 */

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
language plpgsql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
begin
  perform private.require_period(p_from, p_to, interval '366 days');
  return query
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
    -- The rows of public.review_queue (every review that is not resolved) and its
    -- age buckets, counted on call_reviews alone: the view's joins (the call, the
    -- dealership, the assignee, the newest label) add nothing to a count.
    select r.assignee_id,
           count(*) filter (where r.flagged_at > now() - interval '24 hours') as under_24h,
           count(*) filter (where r.flagged_at <= now() - interval '24 hours'
                              and r.flagged_at > now() - interval '3 days') as one_to_3d,
           count(*) filter (where r.flagged_at <= now() - interval '3 days') as over_3d,
           count(*) as total
      from public.call_reviews r
     where r.status <> 'resolved'
       and (p_dealership_id is null or r.dealership_id = p_dealership_id)
     group by r.assignee_id
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
  order by 3 nulls last, 2;
end;
$$;
