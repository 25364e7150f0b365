/**
 * Reporting: the `reporting` schema of views that managers (and admins) query in
 * SQL, and database logins that let a manager query them as themselves.
 *
 * - Every view is `security_invoker = true`: it reads the base tables with the
 *   reader's privileges, so the same row-level security as the dashboard decides
 *   which dealerships' rows are aggregated. Nothing here widens anyone's access.
 * - "Day" and "week" are the dealership's local calendar (dealerships.timezone),
 *   daylight saving included.
 * - The day-based views are "calendar driven": they generate the days (or weeks)
 *   first and aggregate each one with an index range scan. A filter on `day` or
 *   `week_start` therefore limits how much is read, instead of aggregating every
 *   call and discarding most groups. That keeps a dealership/date-filtered query
 *   far below 100 ms at a million calls, with the indexes at the end of this file.
 * - A reporting login is a Postgres login role in `reporting_reader`, mapped to one
 *   dashboard user in private.reporting_logins. After `select reporting.sign_in();`
 *   it sees exactly what that user sees in the dashboard; with claims it sets by
 *   hand for anyone else it reads nothing. docs/reporting.md shows how to create one.
 *
 * See docs/reporting.md for each view, its columns and example questions.
 */

/** Schema */
create schema if not exists reporting;
comment on schema reporting is 'Read-only views for managers'' SQL (Studio SQL editor, psql). Every view is security_invoker: row-level security on the base tables applies to the reader. See docs/reporting.md.';
revoke all on schema reporting from public;

/** Reporting logins (database roles for managers' psql sessions) */
-- Group role of every manager login. It is deliberately NOT a member of
-- `authenticated`: that would let the login call review_call() and friends
-- (security definer functions that trust request.jwt.claims) as anyone.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'reporting_reader') then
    create role reporting_reader nologin;
  end if;
end
$$;
comment on role reporting_reader is 'Group of the reporting logins (one login role per manager, mapped in private.reporting_logins). Reads through row-level security as the mapped user; writes nothing.';

create table private.reporting_logins (
  login_name text primary key,
  user_id uuid not null references public.profiles (user_id) on delete cascade,
  created_at timestamptz not null default now()
);
alter table private.reporting_logins enable row level security;
create index reporting_logins_user_id_idx on private.reporting_logins (user_id);
revoke all on table private.reporting_logins from public, anon, authenticated, reporting_reader;
comment on table private.reporting_logins is 'Which dashboard user each reporting login (a Postgres role in reporting_reader) reads as. Written by admins as the database owner; deleting the user removes the mapping.';
comment on column private.reporting_logins.login_name is 'The Postgres role name the manager logs in with (session_user).';

-- Returns false rather than raising: whether a policy's guard or its visibility
-- condition is evaluated first depends on the plan, so an error would come and go;
-- "no rows" is the same answer every time.
create function private.reporting_login_ok() returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  -- session_user, not current_user: it is the role that logged in, and only a
  -- superuser can change it within a session.
  select exists (
    select 1
      from private.reporting_logins l
     where l.login_name = session_user::text
       and l.user_id = auth.uid()
  )
$$;
comment on function private.reporting_login_ok() is 'Policy guard for reporting logins: true only when the session''s claims (auth.uid()) name the user mapped to session_user in private.reporting_logins, i.e. after reporting.sign_in(). False when not signed in, not mapped, or when claims were set by hand for someone else.';

create function reporting.sign_in() returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user_id uuid;
  v_name text;
  v_role public.app_role;
begin
  select l.user_id, p.full_name, p.role into v_user_id, v_name, v_role
    from private.reporting_logins l
    join public.profiles p on p.user_id = l.user_id
   where l.login_name = session_user::text;
  if v_user_id is null then
    raise exception 'login % is not mapped to a dashboard user', session_user
      using errcode = '42501',
            hint = 'An admin maps it in private.reporting_logins (docs/reporting.md).';
  end if;
  -- Session-wide (is_local = false), like PostgREST's per-request claims but for
  -- the whole psql session. auth.uid() prefers the legacy per-claim setting, so
  -- clear it in case an earlier statement set it.
  perform set_config('request.jwt.claim.sub', '', false);
  perform set_config('request.jwt.claims',
    json_build_object('sub', v_user_id, 'role', 'authenticated')::text, false);
  return format('reading as %s (%s)', v_name, v_role);
end;
$$;
comment on function reporting.sign_in() is 'For reporting logins: sets this session''s request.jwt.claims to the dashboard user mapped to the login, so row-level security shows what that user sees. Run once after connecting.';

revoke execute on function private.reporting_login_ok(), reporting.sign_in() from public, anon, authenticated;
grant execute on function reporting.sign_in() to reporting_reader;

/** What reporting logins may read: the same rows as their user through the API */
grant usage on schema public, private, reporting to reporting_reader;
grant select on
  public.dealerships, public.profiles, public.user_dealerships, public.events,
  public.calls, public.analysis_jobs, public.call_analyses, public.processing_errors,
  public.call_reviews, public.review_events
to reporting_reader;
grant execute on function
  private.user_role(),
  private.is_admin(),
  private.visible_dealership_ids(),
  private.can_see_dealership(text),
  private.team_member_ids(),
  private.visible_profile_ids(),
  private.reporting_login_ok()
to reporting_reader;

-- Each policy is the table's "to authenticated" read policy plus the login guard.
-- 20-reporting-logins.test.sql checks that a login sees exactly what its user
-- sees through the API, table by table, so the copies cannot drift unnoticed. A
-- table added later without such a policy is simply invisible to logins.
create policy "Reporting logins can view their user's dealerships"
  on public.dealerships for select to reporting_reader
  using ((select private.reporting_login_ok())
         and id = any ((select private.visible_dealership_ids())::text[]));

create policy "Reporting logins can view the profiles their user can"
  on public.profiles for select to reporting_reader
  using ((select private.reporting_login_ok())
         and user_id = any ((select private.visible_profile_ids())::uuid[]));

create policy "Reporting logins can view their user's team's assignments"
  on public.user_dealerships for select to reporting_reader
  using ((select private.reporting_login_ok())
         and user_id = any ((select private.team_member_ids())::uuid[]));

create policy "Reporting logins can view their user's events"
  on public.events for select to reporting_reader
  using ((select private.reporting_login_ok())
         and (dealership_id = any ((select private.visible_dealership_ids())::text[])
              or (dealership_id is null and (select private.is_admin()))));

create policy "Reporting logins can view their user's calls"
  on public.calls for select to reporting_reader
  using ((select private.reporting_login_ok())
         and dealership_id = any ((select private.visible_dealership_ids())::text[]));

create policy "Reporting logins can view their user's analysis jobs"
  on public.analysis_jobs for select to reporting_reader
  using ((select private.reporting_login_ok())
         and dealership_id = any ((select private.visible_dealership_ids())::text[]));

create policy "Reporting logins can view their user's analyses"
  on public.call_analyses for select to reporting_reader
  using ((select private.reporting_login_ok())
         and dealership_id = any ((select private.visible_dealership_ids())::text[]));

create policy "Reporting logins can view their user's processing errors"
  on public.processing_errors for select to reporting_reader
  using ((select private.reporting_login_ok())
         and (dealership_id = any ((select private.visible_dealership_ids())::text[])
              or (dealership_id is null and (select private.is_admin()))));

create policy "Reporting logins can view their user's reviews"
  on public.call_reviews for select to reporting_reader
  using ((select private.reporting_login_ok())
         and dealership_id = any ((select private.visible_dealership_ids())::text[]));

create policy "Reporting logins can view their user's review history"
  on public.review_events for select to reporting_reader
  using ((select private.reporting_login_ok())
         and dealership_id = any ((select private.visible_dealership_ids())::text[]));

/** Calendar helper */
-- generate_series() with bounds that are not constants is estimated at 1000 rows,
-- which makes a filtered query on these views look expensive enough for the
-- planner to JIT-compile it: about 300 ms of compilation for 25 ms of work, on
-- servers with jit on (the default). A function with a SET clause is never
-- inlined, so its ROWS estimate stands; a filter on the days still applies to
-- its output before any per-day work.
create function private.calendar(p_first timestamp, p_last timestamp, p_step interval)
returns setof timestamp
language sql
immutable
parallel safe
rows 10
set search_path = ''
as $$
  select pg_catalog.generate_series(p_first, p_last, p_step)
$$;
comment on function private.calendar(timestamp, timestamp, interval) is 'generate_series(p_first, p_last, p_step) with a small row estimate, for the reporting views'' day and week series (keeps the planner from JIT-compiling filtered queries).';
revoke execute on function private.calendar(timestamp, timestamp, interval) from public, anon;
grant execute on function private.calendar(timestamp, timestamp, interval) to authenticated, service_role, reporting_reader;

/** reporting.dealership_daily */
create view reporting.dealership_daily
with (security_invoker = true)
as
select d.id as dealership_id,
       d.name as dealership_name,
       d.timezone,
       g.day::date as day,
       s.calls,
       s.analyzed,
       s.good,
       s.needs_review,
       s.bad,
       s.calls - s.analyzed as unanalyzed,
       s.failed_analyses,
       round(s.score_sum::numeric / nullif(s.scored_calls, 0), 1) as avg_score,
       s.scored_calls,
       s.score_sum,
       s.top_flags,
       s.flag_counts
  from public.dealerships d
 cross join lateral (
   -- First and last local day with a call: two probes of calls_dealership_time_idx.
   select (min(c.first_event_at) at time zone d.timezone)::date as first_day,
          (max(c.first_event_at) at time zone d.timezone)::date as last_day
     from public.calls c
    where c.dealership_id = d.id
 ) r
 -- timestamp (without time zone) series: adding a day is calendar arithmetic,
 -- and `at time zone` below turns each local midnight into the right instant.
 cross join lateral private.calendar(r.first_day::timestamp, r.last_day::timestamp, interval '1 day') as g (day)
 cross join lateral (
   with day_calls as (
     select c.verdict, c.score, c.flags, c.reasons
       from public.calls c
      where c.dealership_id = d.id
        and c.first_event_at >= (g.day at time zone d.timezone)
        and c.first_event_at < ((g.day + interval '1 day') at time zone d.timezone)
   ),
   flag_totals as (
     select f.flag, count(*) as calls
       from day_calls dc
      cross join unnest(dc.flags) as f (flag)
      group by f.flag
   )
   select count(*) as calls,
          count(dc.verdict) as analyzed,
          count(*) filter (where dc.verdict = 'good') as good,
          count(*) filter (where dc.verdict = 'needs_review') as needs_review,
          count(*) filter (where dc.verdict = 'bad') as bad,
          -- The worker's failed analysis is needs_review with reason analysis_failed
          -- (domain::Analysis::failed()); calls mirrors the current analysis.
          count(*) filter (where 'analysis_failed' = any (dc.reasons)) as failed_analyses,
          count(dc.score) as scored_calls,
          coalesce(sum(dc.score), 0) as score_sum,
          (select coalesce(array_agg(t.flag order by t.calls desc, t.flag), '{}'::text[])
             from (select ft.flag, ft.calls from flag_totals ft order by ft.calls desc, ft.flag limit 3) t) as top_flags,
          (select coalesce(jsonb_object_agg(ft.flag, ft.calls), '{}'::jsonb) from flag_totals ft) as flag_counts
     from day_calls dc
 ) s;

comment on view reporting.dealership_daily is 'One row per dealership and local day, from its first call''s day to its last call''s (days without calls included, with calls = 0): call count, verdict mix, failed analyses, average score and flags. Counts the calls that happened that day (calls.first_event_at) with their current analysis. Filter on dealership_id and day: both limit what is read.';
comment on column reporting.dealership_daily.timezone is 'The dealership''s IANA time zone; day is the calendar day there.';
comment on column reporting.dealership_daily.day is 'Local calendar day at the dealership (daylight saving handled).';
comment on column reporting.dealership_daily.calls is 'Calls that started that day.';
comment on column reporting.dealership_daily.analyzed is 'Calls with a verdict (good + needs_review + bad).';
comment on column reporting.dealership_daily.unanalyzed is 'Calls without a verdict yet (no transcript, or analysis still queued).';
comment on column reporting.dealership_daily.failed_analyses is 'Calls whose current analysis failed (every attempt failed; counted in needs_review too, reason analysis_failed).';
comment on column reporting.dealership_daily.avg_score is 'Average score (0-100) of the scored calls, one decimal. To average several days use sum(score_sum) / sum(scored_calls), not the average of averages.';
comment on column reporting.dealership_daily.scored_calls is 'Calls with a score (failed analyses have none).';
comment on column reporting.dealership_daily.score_sum is 'Sum of the scores, for weighted averages over several days.';
comment on column reporting.dealership_daily.top_flags is 'Up to three most frequent flags that day, most frequent first (ties by name).';
comment on column reporting.dealership_daily.flag_counts is 'Every flag seen that day with its number of calls, e.g. {"handoff_failed": 2}. A missing flag means 0.';

/** reporting.flag_trends */
create view reporting.flag_trends
with (security_invoker = true)
as
select d.id as dealership_id,
       d.name as dealership_name,
       d.timezone,
       w.week_start::date as week_start,
       s.flag,
       s.flagged_calls,
       s.calls,
       s.analyzed,
       round(s.flagged_calls::numeric / nullif(s.analyzed, 0), 3) as share_of_analyzed
  from public.dealerships d
 cross join lateral (
   select date_trunc('week', min(c.first_event_at) at time zone d.timezone) as first_week,
          date_trunc('week', max(c.first_event_at) at time zone d.timezone) as last_week
     from public.calls c
    where c.dealership_id = d.id
 ) r
 cross join lateral private.calendar(r.first_week, r.last_week, interval '7 days') as w (week_start)
 cross join lateral (
   with week_calls as (
     select c.verdict, c.flags
       from public.calls c
      where c.dealership_id = d.id
        and c.first_event_at >= (w.week_start at time zone d.timezone)
        and c.first_event_at < ((w.week_start + interval '7 days') at time zone d.timezone)
   ),
   totals as (
     select count(*) as calls, count(wc.verdict) as analyzed from week_calls wc
   )
   select f.flag, count(*) as flagged_calls, t.calls, t.analyzed
     from week_calls wc
    cross join unnest(wc.flags) as f (flag)
    cross join totals t
    group by f.flag, t.calls, t.analyzed
 ) s;

comment on view reporting.flag_trends is 'Flag counts per dealership per local week (Monday to Sunday): one row per flag that occurred that week, with the week''s call totals for rates. A flag without a row had no calls that week. Counts calls by when they happened, with their current analysis.';
comment on column reporting.flag_trends.week_start is 'Monday of the local week (ISO weeks, the dealership''s time zone).';
comment on column reporting.flag_trends.flag is 'Analysis flag, e.g. handoff_failed, customer_upset (see docs/analysis.md).';
comment on column reporting.flag_trends.flagged_calls is 'Calls that week with this flag.';
comment on column reporting.flag_trends.calls is 'All calls of the dealership that week.';
comment on column reporting.flag_trends.analyzed is 'Calls of that week with a verdict.';
comment on column reporting.flag_trends.share_of_analyzed is 'flagged_calls / analyzed, three decimals (0.125 = 12.5%).';

/** reporting.csm_throughput */
create view reporting.csm_throughput
with (security_invoker = true)
as
select s.reviewer_id,
       p.full_name as reviewer_name,
       p.role as reviewer_role,
       g.day::date as day,
       s.reviews_done,
       s.status_changes,
       s.resolved,
       s.escalated,
       s.median_time_to_resolution,
       s.dealership_ids
  from (
    -- The span of review activity over the dealerships the reader sees, in local
    -- days: two probes of review_events_dealership_time_idx per dealership.
    select min(x.first_day) as first_day, max(x.last_day) as last_day
      from public.dealerships d
     cross join lateral (
       select (min(e.created_at) at time zone d.timezone)::date as first_day,
              (max(e.created_at) at time zone d.timezone)::date as last_day
         from public.review_events e
        where e.dealership_id = d.id
     ) x
  ) r
 cross join lateral private.calendar(r.first_day::timestamp, r.last_day::timestamp, interval '1 day') as g (day)
 cross join lateral (
   -- An action belongs to the local day of the dealership whose call it is on.
   select e.actor_id as reviewer_id,
          count(distinct (e.dealership_id, e.call_id)) as reviews_done,
          count(*) as status_changes,
          count(*) filter (where e.to_status = 'resolved') as resolved,
          count(*) filter (where e.to_status = 'escalated') as escalated,
          percentile_cont(0.5) within group (order by e.created_at - r2.flagged_at)
            filter (where e.to_status = 'resolved') as median_time_to_resolution,
          array_agg(distinct e.dealership_id order by e.dealership_id) as dealership_ids
     from public.dealerships d
    cross join lateral (
      -- offset 0 keeps this a per-dealership index range scan: flattened into a
      -- join, the planner hashes every review event of every dealership per day.
      select e.*
        from public.review_events e
       where e.dealership_id = d.id
         and e.created_at >= (g.day at time zone d.timezone)
         and e.created_at < ((g.day + interval '1 day') at time zone d.timezone)
         and e.actor_id is not null
         -- Status changes only: an assignment is audited with from_status = to_status.
         and e.from_status is distinct from e.to_status
      offset 0
    ) e
     left join public.call_reviews r2
       on r2.dealership_id = e.dealership_id and r2.call_id = e.call_id
    group by e.actor_id
 ) s
  left join public.profiles p on p.user_id = s.reviewer_id;

comment on view reporting.csm_throughput is 'Review work per person (CSMs, and managers who review) per local day, from the review_events audit trail: reviews done, resolved, escalated, and median time to resolution. Only status changes count: automatic openings (actor null) and assignments are not reviews. Only days with activity have rows.';
comment on column reporting.csm_throughput.reviewer_id is 'profiles.user_id of the person who acted.';
comment on column reporting.csm_throughput.reviewer_name is 'Their full_name; null when row-level security hides their profile from the reader.';
comment on column reporting.csm_throughput.reviewer_role is 'Their current role (csm or manager); null like reviewer_name.';
comment on column reporting.csm_throughput.day is 'Local calendar day at the dealership of the call acted on.';
comment on column reporting.csm_throughput.reviews_done is 'Distinct calls whose review status this person changed that day.';
comment on column reporting.csm_throughput.status_changes is 'Status changes this person made that day (a call moved twice counts twice).';
comment on column reporting.csm_throughput.resolved is 'Status changes to resolved.';
comment on column reporting.csm_throughput.escalated is 'Status changes to escalated.';
comment on column reporting.csm_throughput.median_time_to_resolution is 'Median of (resolution time - call_reviews.flagged_at) over this person''s resolutions that day; null without resolutions.';
comment on column reporting.csm_throughput.dealership_ids is 'Dealerships this person acted in that day.';

/** reporting.backlog */
create view reporting.backlog
with (security_invoker = true)
as
select r.dealership_id,
       d.name as dealership_name,
       r.call_id,
       r.status,
       c.verdict,
       c.score,
       c.flags,
       r.assignee_id,
       p.full_name as assignee_name,
       r.flagged_at,
       now() - r.flagged_at as age,
       round((extract(epoch from now() - r.flagged_at) / 3600)::numeric, 1) as age_hours,
       r.updated_at as last_activity_at,
       c.first_event_at as call_started_at
  from public.call_reviews r
  -- Left joins although every review has its call and dealership (foreign keys,
  -- same dealership so same row-level security): the planner drops a left join
  -- whose columns a query does not use, so counting or grouping the backlog never
  -- touches calls. calls.review_status mirrors call_reviews.status (trigger), so
  -- the extra condition changes no result but lets calls_open_review_idx hand
  -- over just the unresolved calls: with row-level security the planner cannot
  -- estimate the backlog and otherwise hashes every call of the dealerships.
  left join public.calls c
    on c.dealership_id = r.dealership_id and c.call_id = r.call_id and c.review_status <> 'resolved'
  left join public.dealerships d on d.id = r.dealership_id
  left join public.profiles p on p.user_id = r.assignee_id
 where r.status <> 'resolved';

comment on view reporting.backlog is 'Every review that is not resolved (open, reviewed, follow_up_needed, escalated), with its age, dealership, assignee and the call''s current verdict. Only resolved closes a review in the workflow; filter on status to narrow.';
comment on column reporting.backlog.status is 'Current review status; never resolved here.';
comment on column reporting.backlog.verdict is 'The call''s current verdict (the newest analysis).';
comment on column reporting.backlog.assignee_id is 'Who works on it; null = unassigned.';
comment on column reporting.backlog.assignee_name is 'The assignee''s full_name; null when unassigned or hidden from the reader by row-level security.';
comment on column reporting.backlog.flagged_at is 'When the call was first flagged; age is measured from here.';
comment on column reporting.backlog.age is 'now() - flagged_at.';
comment on column reporting.backlog.age_hours is 'age in hours, one decimal.';
comment on column reporting.backlog.last_activity_at is 'Last change to the review (status, assignee or notes).';
comment on column reporting.backlog.call_started_at is 'When the call happened (calls.first_event_at).';

/** reporting.analysis_health */
create view reporting.analysis_health
with (security_invoker = true)
as
select g.day::date as day,
       s.model,
       s.prompt_version,
       s.analyses,
       s.ok,
       s.failed,
       round(s.failed::numeric / s.analyses, 3) as failure_rate,
       s.latency_p50_ms,
       s.latency_p95_ms,
       s.latency_p99_ms,
       s.avg_prompt_tokens,
       s.avg_completion_tokens,
       s.truncated
  from (
    select min(x.first_day) as first_day, max(x.last_day) as last_day
      from public.dealerships d
     cross join lateral (
       select (min(a.created_at) at time zone d.timezone)::date as first_day,
              (max(a.created_at) at time zone d.timezone)::date as last_day
         from public.call_analyses a
        where a.dealership_id = d.id
     ) x
  ) r
 cross join lateral private.calendar(r.first_day::timestamp, r.last_day::timestamp, interval '1 day') as g (day)
 cross join lateral (
   select a.model,
          a.prompt_version,
          count(*) as analyses,
          count(*) filter (where a.status = 'ok') as ok,
          count(*) filter (where a.status = 'failed') as failed,
          round(percentile_cont(0.50) within group (order by a.latency_ms))::integer as latency_p50_ms,
          round(percentile_cont(0.95) within group (order by a.latency_ms))::integer as latency_p95_ms,
          round(percentile_cont(0.99) within group (order by a.latency_ms))::integer as latency_p99_ms,
          round(avg(a.prompt_tokens))::integer as avg_prompt_tokens,
          round(avg(a.completion_tokens))::integer as avg_completion_tokens,
          count(*) filter (where a.transcript_truncated) as truncated
     from public.dealerships d
    cross join lateral (
      -- offset 0: a per-dealership index range scan (see csm_throughput).
      select a.*
        from public.call_analyses a
       where a.dealership_id = d.id
         and a.created_at >= (g.day at time zone d.timezone)
         and a.created_at < ((g.day + interval '1 day') at time zone d.timezone)
      offset 0
    ) a
    group by a.model, a.prompt_version
 ) s;

comment on view reporting.analysis_health is 'Analysis attempts (call_analyses rows) per local day, model and prompt version: how many, ok vs failed, failure rate, latency percentiles and token use. A day is the local day of the call''s dealership when the attempt was stored. Only days with attempts have rows.';
comment on column reporting.analysis_health.model is 'LLM model name, or heuristic-v1 for the offline analyzer.';
comment on column reporting.analysis_health.prompt_version is 'Prompt (or rule set) version, e.g. analysis-v1, rules-v1.';
comment on column reporting.analysis_health.analyses is 'Stored analyses (ok + failed). A failed one is written once, after every retry of its job failed.';
comment on column reporting.analysis_health.failure_rate is 'failed / analyses, three decimals.';
comment on column reporting.analysis_health.latency_p50_ms is 'Median analyzer latency in ms (call_analyses.latency_ms; rows without latency ignored).';
comment on column reporting.analysis_health.latency_p95_ms is '95th percentile latency in ms.';
comment on column reporting.analysis_health.latency_p99_ms is '99th percentile latency in ms.';
comment on column reporting.analysis_health.avg_prompt_tokens is 'Average prompt tokens (null for the heuristic analyzer).';
comment on column reporting.analysis_health.avg_completion_tokens is 'Average completion tokens (null for the heuristic analyzer).';
comment on column reporting.analysis_health.truncated is 'Analyses whose transcript was cut in the middle to fit ANALYSIS_MAX_TRANSCRIPT_CHARS.';

/** Who may read the views */
grant usage on schema reporting to authenticated, service_role;
revoke all on all tables in schema reporting from public, anon;
grant select on all tables in schema reporting to authenticated, service_role, reporting_reader;

/** Indexes the views need */
-- csm_throughput: first/last activity per dealership and each local day's range.
create index review_events_dealership_time_idx on public.review_events (dealership_id, created_at);
-- analysis_health: the same for analysis attempts.
create index call_analyses_dealership_time_idx on public.call_analyses (dealership_id, created_at);
-- backlog: unresolved reviews, oldest first, per dealership and overall (resolved
-- ones, most of them over time, stay out of both).
create index call_reviews_backlog_idx on public.call_reviews (dealership_id, flagged_at) where status <> 'resolved';
create index call_reviews_backlog_age_idx on public.call_reviews (flagged_at) where status <> 'resolved';
-- backlog's join to calls: only the calls whose review is unresolved.
create index calls_open_review_idx on public.calls (dealership_id, call_id) where review_status <> 'resolved';
-- dealership_daily and flag_trends use calls_dealership_time_idx
-- (dealership_id, first_event_at desc, call_id) from the core schema.
