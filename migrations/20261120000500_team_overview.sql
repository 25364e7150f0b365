/**
 * Dashboard II: the review queue, the review history with names, and the numbers of
 * the manager's team overview.
 *
 * - Everything here reads with the caller's rights (views `security_invoker`,
 *   functions `security invoker`): row-level security on calls, reviews, review
 *   events, profiles and assignments decides which rows are counted, exactly as
 *   for a plain `GET /rest/v1/...`. Nothing widens anyone's access, and nothing
 *   here writes: changes still go through review_call() / assign_review().
 * - The queue builds on `reporting.backlog` (the unresolved reviews), and the
 *   overview's backlog counts read the queue, so a number and the list behind it
 *   (the drill-down) can never disagree.
 * - "Reviews done", "resolved" and "escalations" follow `reporting.csm_throughput`:
 *   only status changes made by a person count (automatic openings, whose actor is
 *   null, and assignments, audited with from_status = to_status, do not).
 * - Days of the throughput chart are UTC days, like the dashboard's custom ranges.
 */

/** Review queue: every unresolved review, with what the queue and the team list show */
create view public.review_queue
with (security_invoker = true)
as
select b.dealership_id,
       b.dealership_name,
       b.call_id,
       b.status,
       b.verdict,
       b.score,
       b.flags,
       c.reasons,
       b.assignee_id,
       b.assignee_name,
       r.notes,
       b.flagged_at,
       b.age_hours,
       case
         when b.flagged_at > now() - interval '24 hours' then 'under_24h'
         when b.flagged_at > now() - interval '3 days' then '1_to_3d'
         else 'over_3d'
       end as age_bucket,
       -- Worst first: bad, then needs_review, then calls flagged by hand.
       case b.verdict when 'bad' then 0 when 'needs_review' then 1 else 2 end as severity,
       b.last_activity_at,
       b.call_started_at
  from reporting.backlog b
  join public.call_reviews r
    on r.dealership_id = b.dealership_id and r.call_id = b.call_id
  left join public.calls c
    on c.dealership_id = b.dealership_id and c.call_id = b.call_id;

comment on view public.review_queue is 'Every review that is not resolved, with the call''s verdict, score, flags and reasons, the assignee and the age. The dashboard''s "My queue" is this view with verdict in (needs_review, bad); the team overview''s unresolved list and its backlog numbers are this view too. Security invoker: the reader sees the rows of their dealerships.';
comment on column public.review_queue.age_bucket is 'How long the call has been flagged: under_24h, 1_to_3d or over_3d (the team overview''s backlog columns).';
comment on column public.review_queue.severity is 'Sort key for worst-first: 0 bad, 1 needs_review, 2 anything else (a call flagged by hand).';
comment on column public.review_queue.notes is 'The review''s current notes (the last non-blank notes written).';

/** Review history: the audit trail with people's names */
create view public.review_history
with (security_invoker = true)
as
select e.id,
       e.dealership_id,
       e.call_id,
       e.created_at,
       e.actor_id,
       a.full_name as actor_name,
       e.from_status,
       e.to_status,
       e.from_assignee,
       fa.full_name as from_assignee_name,
       e.to_assignee,
       ta.full_name as to_assignee_name,
       e.notes,
       e.from_status is distinct from e.to_status as status_changed,
       e.from_assignee is distinct from e.to_assignee as assignee_changed,
       c.verdict,
       c.score
  from public.review_events e
  left join public.profiles a on a.user_id = e.actor_id
  left join public.profiles fa on fa.user_id = e.from_assignee
  left join public.profiles ta on ta.user_id = e.to_assignee
  left join public.calls c on c.dealership_id = e.dealership_id and c.call_id = e.call_id;

comment on view public.review_history is 'review_events with the names of the actor and of the previous and new assignee (null when the actor is the system or row-level security hides the person), plus the call''s current verdict and score. A call''s history in the dashboard, and the drill-down behind the team overview''s activity numbers.';
comment on column public.review_history.actor_name is 'Who made the change; null for the automatic opening (actor_id null).';
comment on column public.review_history.status_changed is 'True for a status change (a review), false for an assignment.';
comment on column public.review_history.assignee_changed is 'True when the assignee changed (claim, release, reassignment).';

/** Team overview: per person */
create function public.team_csm_stats(
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
set search_path = ''
as $$
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
comment on function public.team_csm_stats(timestamptz, timestamptz, text) is 'Team overview, one row per person the caller manages (a csm: themself; a manager: themself and their direct reports; an admin: everyone but admins) plus an Unassigned row when unassigned work exists: their assigned dealerships; reviews done (distinct calls whose status they changed), resolutions, escalations and the median hours from flagged to resolved, all within [p_from, p_to); the open backlog assigned to them by age (now). Optionally one dealership. Security invoker: RLS applies.';

/** Team overview: per dealership */
create function public.team_dealership_stats(
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
set search_path = ''
as $$
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
comment on function public.team_dealership_stats(timestamptz, timestamptz, uuid) is 'Team overview, one row per dealership the caller sees (optionally only those assigned to p_csm): who is assigned (names the caller may read), unresolved reviews and the oldest one''s flag time and age in hours (now), and for calls that happened in [p_from, p_to) the count, analyzed count, bad count and bad / analyzed (three decimals). Security invoker: RLS applies.';

/** Team overview: incoming flagged calls against resolutions, per day */
create function public.team_daily_flow(
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
set search_path = ''
as $$
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
comment on function public.team_daily_flow(timestamptz, timestamptz, uuid, text) is 'Team overview chart: per UTC day of [p_from, p_to), the calls newly flagged (call_reviews.flagged_at) in the dealerships in scope, and the resolutions made (review_events to resolved by a person; with p_csm, by that person). Scope: the caller''s dealerships, narrowed to p_dealership_id and/or those assigned to p_csm. Security invoker: RLS applies.';

/** Who may read them */
revoke all on public.review_queue, public.review_history from public, anon, authenticated;
grant select on public.review_queue, public.review_history to authenticated, service_role, reporting_reader;

revoke execute on function
  public.team_csm_stats(timestamptz, timestamptz, text),
  public.team_dealership_stats(timestamptz, timestamptz, uuid),
  public.team_daily_flow(timestamptz, timestamptz, uuid, text)
from public, anon;
grant execute on function
  public.team_csm_stats(timestamptz, timestamptz, text),
  public.team_dealership_stats(timestamptz, timestamptz, uuid),
  public.team_daily_flow(timestamptz, timestamptz, uuid, text)
to authenticated, service_role, reporting_reader;
