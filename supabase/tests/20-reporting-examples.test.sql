-- The ten example queries of docs/reporting.md, character for character (the doc
-- shows the command that diffs them), each run three ways on fixture data and
-- required to return rows: as a manager through the API role, as the manager's
-- reporting login after reporting.sign_in(), and as the table owner (Studio's
-- SQL editor). Needs supabase/seed.sql (the demo users).
--
-- Fixtures are relative to now(), which is fixed for the whole transaction, so
-- "this week", "yesterday" and "the last 7 days" always contain them:
-- toyota-braintree (Nora North) and ford-weymouth (Sam South), one call a day for
-- the last 14 days, good in the older week and flagged in the recent one.
begin;
select plan(31);

/** The queries */
create temp table examples (n integer primary key, sql text not null);
insert into examples (n, sql) values
(1, $example$
-- Q1. Which dealership got worse this week? Its last 7 local days against the 7 before.
with weeks as (
  select dealership_id,
         dealership_name,
         day > (now() at time zone timezone)::date - 7 as this_week,
         sum(calls) as calls,
         sum(analyzed) as analyzed,
         sum(needs_review + bad) as flagged,
         sum(score_sum) as score_sum,
         sum(scored_calls) as scored_calls
    from reporting.dealership_daily
   where day > (now() at time zone timezone)::date - 14
     and day <= (now() at time zone timezone)::date
   group by dealership_id, dealership_name, this_week
)
select now_.dealership_name,
       before.calls as calls_before,
       now_.calls as calls_now,
       round(100.0 * before.flagged / nullif(before.analyzed, 0), 1) as flagged_pct_before,
       round(100.0 * now_.flagged / nullif(now_.analyzed, 0), 1) as flagged_pct_now,
       round(before.score_sum::numeric / nullif(before.scored_calls, 0), 1) as avg_score_before,
       round(now_.score_sum::numeric / nullif(now_.scored_calls, 0), 1) as avg_score_now,
       round(now_.score_sum::numeric / nullif(now_.scored_calls, 0)
             - before.score_sum::numeric / nullif(before.scored_calls, 0), 1) as score_change
  from weeks now_
  join weeks before on before.dealership_id = now_.dealership_id and not before.this_week
 where now_.this_week
 order by score_change nulls last;
$example$),
(2, $example$
-- Q2. Which CSM has the oldest open item? Each assignee's oldest unresolved review, oldest first.
select assignee_name, dealership_name, call_id, status, age
  from (select distinct on (assignee_id) assignee_id, assignee_name, dealership_name, call_id, status, age
          from reporting.backlog
         where assignee_id is not null
         order by assignee_id, flagged_at) as oldest
 order by age desc;
$example$),
(3, $example$
-- Q3. How often does the handoff fail per dealership? Share of analyzed calls, last 28 local days.
select dealership_name,
       sum(analyzed) as analyzed_calls,
       sum(coalesce((flag_counts ->> 'handoff_failed')::int, 0)) as handoff_failed,
       round(100.0 * sum(coalesce((flag_counts ->> 'handoff_failed')::int, 0))
             / nullif(sum(analyzed), 0), 1) as handoff_failed_pct
  from reporting.dealership_daily
 where day > (now() at time zone timezone)::date - 28
 group by dealership_id, dealership_name
 order by handoff_failed_pct desc nulls last;
$example$),
(4, $example$
-- Q4. How did each dealership do yesterday (its own local yesterday)?
select dealership_name, calls, good, needs_review, bad, unanalyzed, failed_analyses,
       avg_score, top_flags
  from reporting.dealership_daily
 where day = (now() at time zone timezone)::date - 1
 order by bad desc, needs_review desc, dealership_name;
$example$),
(5, $example$
-- Q5. Which problems grew this week? Flags whose share of analyzed calls rose since last week.
with weeks as (
  select dealership_name,
         flag,
         share_of_analyzed,
         week_start = date_trunc('week', now() at time zone timezone)::date as this_week
    from reporting.flag_trends
   where week_start >= date_trunc('week', now() at time zone timezone)::date - 7
),
per_flag as (
  select dealership_name,
         flag,
         coalesce(max(share_of_analyzed) filter (where not this_week), 0) as share_last_week,
         coalesce(max(share_of_analyzed) filter (where this_week), 0) as share_this_week
    from weeks
   group by dealership_name, flag
)
select dealership_name, flag, share_last_week, share_this_week,
       share_this_week - share_last_week as change
  from per_flag
 where share_this_week > share_last_week
 order by change desc, dealership_name, flag;
$example$),
(6, $example$
-- Q6. What is waiting, per dealership and by age?
select dealership_name,
       count(*) filter (where age < interval '1 day') as under_1_day,
       count(*) filter (where age >= interval '1 day' and age < interval '3 days') as one_to_3_days,
       count(*) filter (where age >= interval '3 days') as over_3_days,
       count(*) filter (where assignee_id is null) as unassigned,
       count(*) as total
  from reporting.backlog
 group by dealership_id, dealership_name
 order by over_3_days desc, total desc;
$example$),
(7, $example$
-- Q7. Which bad calls has nobody picked up yet? Oldest first.
select dealership_name, call_id, call_started_at, score, flags, age
  from reporting.backlog
 where verdict = 'bad'
   and assignee_id is null
 order by flagged_at
 limit 50;
$example$),
(8, $example$
-- Q8. How much review work did each person do per day this past week, and how fast did they resolve?
select day, reviewer_name, reviewer_role, reviews_done, resolved, escalated,
       date_trunc('minute', median_time_to_resolution) as median_time_to_resolution
  from reporting.csm_throughput
 where day > current_date - 7
 order by day desc, reviews_done desc, reviewer_name;
$example$),
(9, $example$
-- Q9. Is the analyzer healthy? Failure rate and latency per model, last 7 days.
select day, model, prompt_version, analyses, failed, failure_rate,
       latency_p50_ms, latency_p95_ms, latency_p99_ms
  from reporting.analysis_health
 where day > current_date - 7
 order by day desc, model;
$example$),
(10, $example$
-- Q10. Where and when did analyses fail for good (calls left needs_review / analysis_failed)?
select day, dealership_name, failed_analyses, calls
  from reporting.dealership_daily
 where failed_analyses > 0
   and day > (now() at time zone timezone)::date - 30
 order by day desc, failed_analyses desc, dealership_name;
$example$);
grant select on examples to public;

/** Fixtures */
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at)
select d, format('ex-%s-%s', d, k), now() - k * interval '1 day', now() - k * interval '1 day'
  from unnest(array['toyota-braintree', 'ford-weymouth']) d, generate_series(0, 13) k
union all
select d, format('ex-%s-failed', d), now() - interval '2 days', now() - interval '2 days'
  from unnest(array['toyota-braintree', 'ford-weymouth']) d;

-- The recent week is worse: handoff failures every day, a voicemail today, a failed
-- analysis two days ago. Analyses are stored at the call's time.
insert into public.call_analyses
  (dealership_id, call_id, analysis, verdict, score, reasons, flags, recommended_action,
   confidence, status, model, prompt_version, latency_ms, created_at)
select c.dealership_id, c.call_id, '{}', v.verdict::public.verdict, v.score, v.reasons, v.flags,
       case when v.verdict = 'good' then 'none' else 'human_follow_up' end, 0.9,
       v.status::public.analysis_status, 'gpt-4o-mini', 'analysis-v1', v.latency, c.first_event_at
  from public.calls c
 cross join lateral (
   select case
            when c.call_id like '%-failed' then 'needs_review'
            when c.first_event_at = now() then 'bad'
            when c.first_event_at > now() - interval '7 days' then 'needs_review'
            else 'good'
          end as verdict,
          case
            when c.call_id like '%-failed' then null
            when c.first_event_at = now() then 20
            when c.first_event_at > now() - interval '7 days' then 55
            else 90
          end as score,
          case when c.call_id like '%-failed' then '{analysis_failed}'::text[] else '{}' end as reasons,
          case
            when c.call_id like '%-failed' then '{}'::text[]
            when c.first_event_at = now() then '{handoff_failed,voicemail}'
            when c.first_event_at > now() - interval '7 days' then '{handoff_failed}'
            else '{}'
          end as flags,
          case when c.call_id like '%-failed' then 'failed' else 'ok' end as status,
          case when c.call_id like '%-failed' then 30000 else 1200 end as latency
 ) v
 where c.call_id like 'ex-%';

-- Yesterday's flagged call is assigned to the dealership's CSM; the one two days
-- ago was resolved by them yesterday; today's bad call is waiting for anyone.
update public.call_reviews r
   set assignee_id = case r.dealership_id
                       when 'toyota-braintree' then 'a0000000-0000-4000-8000-000000000003'::uuid
                       else 'a0000000-0000-4000-8000-000000000004'::uuid
                     end
 where r.call_id like 'ex-%-1';
insert into public.review_events (dealership_id, call_id, actor_id, from_status, to_status, notes, created_at)
select r.dealership_id, r.call_id,
       case r.dealership_id
         when 'toyota-braintree' then 'a0000000-0000-4000-8000-000000000003'::uuid
         else 'a0000000-0000-4000-8000-000000000004'::uuid
       end,
       'open', 'resolved', 'Called the customer back.', now() - interval '1 day'
  from public.call_reviews r
 where r.call_id like 'ex-%-2';
update public.call_reviews r
   set status = 'resolved', resolved_at = now() - interval '1 day', updated_at = now() - interval '1 day'
 where r.call_id like 'ex-%-2';

/** As Morgan Manager, through the API role (PostgREST, Studio's role selector) */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select isnt_empty(e.sql, format('Docs example %s returns rows for a manager through the API role', substr(split_part(e.sql, E'\n', 2), 4)))
  from examples e order by e.n;
reset role;

/** As Morgan Manager's reporting login, as in psql */
create role ex_report_manager in role reporting_reader;
insert into private.reporting_logins (login_name, user_id)
values ('ex_report_manager', 'a0000000-0000-4000-8000-000000000002');
set local request.jwt.claims = '';
set local session authorization ex_report_manager;
select is(reporting.sign_in(), 'reading as Morgan Manager (manager)', 'The manager''s reporting login signs in');
select isnt_empty(e.sql, format('Docs example %s returns rows for a manager''s reporting login', substr(split_part(e.sql, E'\n', 2), 4)))
  from examples e order by e.n;
reset session authorization;

/** As the table owner (Studio's SQL editor) */
select isnt_empty(e.sql, format('Docs example %s returns rows for the owner, in Studio', substr(split_part(e.sql, E'\n', 2), 4)))
  from examples e order by e.n;

select * from finish();
rollback;
