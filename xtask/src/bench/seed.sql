-- Bulk data for `cargo xtask bench --only queries`: :calls calls over 90 days in
-- 200 dealerships, with events, analyses (40 % of the analyzed calls flagged),
-- reviews in a realistic mix of statuses and their audit trail. Written with
-- generate_series in one statement per table (not through the webhook), so a
-- million calls load in minutes. Deterministic: setseed() fixes random(). Each
-- table's rows are inserted in the order the live system writes them (calls by
-- when their row was last written, the others by time), so they lie in the
-- table's pages as they would in production, not scattered at random.
--
-- The triggers that keep calls in step with analyses and reviews are switched off
-- for the load (session_replication_role = replica, which also skips the foreign
-- key triggers); every mirrored column is written directly and consistently
-- instead: calls.verdict/score/flags/reasons/latest_analysis_id from its analysis,
-- calls.review_status from its review, call_reviews.verdict/score from its call.
--
-- People: 30 CSMs (csm 0-19 with 7 dealerships, 20-29 with 6), 2 managers (the
-- first manages csm 0-6, i.e. 49 dealerships; the second the others) and an admin.
-- Ids are fixed so the benchmark can sign them in: see bench/queries.rs.

set session_replication_role = replica;
select setseed(0.42) \g /dev/null

/** People */
insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
select '00000000-0000-0000-0000-000000000000', u.id, 'authenticated', 'authenticated', u.email,
       '{"provider": "email"}'::jsonb, jsonb_build_object('full_name', u.full_name), now(), now()
  from (
    select format('b0000000-0000-0000-0000-%s', lpad(i::text, 12, '0'))::uuid as id,
           format('bench.csm%s@bench.test', i) as email,
           format('Bench CSM %s', i) as full_name
      from generate_series(0, 29) i
    union all
    select format('b1000000-0000-0000-0000-%s', lpad(i::text, 12, '0'))::uuid,
           format('bench.manager%s@bench.test', i), format('Bench Manager %s', i)
      from generate_series(0, 1) i
    union all
    select 'b2000000-0000-0000-0000-000000000000'::uuid, 'bench.admin@bench.test', 'Bench Admin'
  ) u;

insert into public.profiles (user_id, full_name, role, manager_id)
select u.id, u.raw_user_meta_data ->> 'full_name',
       case when u.id::text like 'b0%' then 'csm'
            when u.id::text like 'b1%' then 'manager'
            else 'admin' end::public.app_role,
       case when u.id::text like 'b0%' then
              case when right(u.id::text, 12)::int < 7
                   then 'b1000000-0000-0000-0000-000000000000'::uuid
                   else 'b1000000-0000-0000-0000-000000000001'::uuid end
       end
  from auth.users u
 where u.email like '%@bench.test'
on conflict (user_id) do nothing;

/** Dealerships, each assigned to one CSM */
insert into public.dealerships (id, name, timezone)
select format('bench-%s', lpad(d::text, 3, '0')), format('Bench Motors %s', d),
       (array['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles'])[1 + d % 4]
  from generate_series(0, 199) d;

insert into public.user_dealerships (user_id, dealership_id)
select format('b0000000-0000-0000-0000-%s', lpad((d % 30)::text, 12, '0'))::uuid,
       format('bench-%s', lpad(d::text, 3, '0'))
  from generate_series(0, 199) d;

/** Calls, one event each, one analysis for 95 % of them */
-- Each flagged call gets a review: mostly resolved when old, mostly open when new.
create temporary table bench_calls on commit drop as
select t.*,
       -- When the call's row was last written. The webhook inserts calls as they
       -- happen and the worker judges them seconds later, so the table is in time
       -- order, except that a flagged call's row is written again whenever its
       -- review's status changes (calls.review_status mirrors it): up to three days
       -- after the flag. The calls are inserted in this order, so the rows lie
       -- where a live table would have put them (not scattered at random).
       case when t.review_status is null or t.review_status = 'open' then t.first_event_at
            else t.acted_at
       end as written_at
  from (
    select g.*,
       case when g.r_verdict >= 0.38 then null else
         case
           when g.flagged_at < now() - interval '3 days' then
             case when g.r_review < 0.85 then 'resolved' when g.r_review < 0.90 then 'reviewed'
                  when g.r_review < 0.94 then 'follow_up_needed' when g.r_review < 0.96 then 'escalated'
                  else 'open' end
           else
             case when g.r_review < 0.40 then 'open' when g.r_review < 0.60 then 'reviewed'
                  when g.r_review < 0.70 then 'follow_up_needed' when g.r_review < 0.75 then 'escalated'
                  else 'resolved' end
         end
       end::public.review_status as review_status,
       -- When its review last changed: between the flag and now, within a few days.
       least(now() - interval '1 minute', g.flagged_at + g.r_flag * interval '72 hours') as acted_at
      from (
        select s.*, s.first_event_at + make_interval(secs => s.duration_sec + 20) as flagged_at
          from (
          select i,
                 format('bench-%s', lpad((i % 200)::text, 3, '0')) as dealership_id,
                 format('call_bench_%s', i) as call_id,
                 now() - (random() * interval '90 days') as first_event_at,
                 (30 + random() * 600)::int as duration_sec,
                 random() as r_verdict,
                 random() as r_review,
                 random() as r_flag,
                 (array['oil change', 'brake inspection', 'tire rotation', 'test drive', 'trade-in value',
                        'lease return', 'recall notice', 'warranty repair', 'financing options', 'detailing'])
                   [1 + (random() * 9)::int] as topic,
                 (array['Thursday', 'Friday', 'Monday', 'Saturday', 'tomorrow'])[1 + (random() * 4)::int] as day_word
            from generate_series(1, :calls) i
          ) s
      ) g
  ) t;
-- `on commit drop` needs a transaction around the whole load.

insert into public.calls (
  dealership_id, call_id, call_status, direction, started_at, ended_at, duration_sec,
  transcript, transcript_sha256, customer_phone, customer_name, agent_id,
  first_event_at, last_event_at, last_event_rank,
  latest_analysis_id, verdict, score, flags, reasons, analysis_model, analyzed_at, review_status)
select c.dealership_id, c.call_id, 'ended', 'inbound', c.first_event_at,
       c.first_event_at + make_interval(secs => c.duration_sec), c.duration_sec,
       format(E'Agent: Thanks for calling %s, how can I help?\nUser: I would like to ask about a %s for my car.\nAgent: Of course. Would %s work for you?\nUser: %s\nAgent: Great, you are all set.',
              c.dealership_id, c.topic, c.day_word,
              case when c.r_verdict < 0.15 then 'No, I asked for a manager twice and nobody called me back.'
                   when c.r_verdict < 0.40 then 'Maybe, I am not sure about the price yet.'
                   else 'Yes, that works.' end),
       md5(c.call_id), format('+1617555%s', lpad((c.i % 10000)::text, 4, '0')), null, 'agent_bench',
       c.first_event_at, c.first_event_at + make_interval(secs => c.duration_sec), 3,
       case when c.r_verdict < 0.95 then c.i end,
       case when c.r_verdict < 0.15 then 'bad' when c.r_verdict < 0.38 then 'needs_review'
            when c.r_verdict < 0.95 then 'good' end::public.verdict,
       case when c.r_verdict < 0.95 then (case when c.r_verdict < 0.15 then 10 + c.r_flag * 30
                                               when c.r_verdict < 0.38 then 40 + c.r_flag * 30
                                               else 70 + c.r_flag * 30 end)::smallint end,
       case when c.r_verdict >= 0.38 then '{}'::text[]
            -- The analysis contract's flags (domain::analysis::Flag).
            when c.r_flag < 0.3 then array['handoff_failed']
            when c.r_flag < 0.6 then array['customer_upset', 'missed_appointment_confirmation']
            when c.r_flag < 0.8 then array['abandoned_call']
            else array['hallucinated_information', 'customer_upset'] end,
       case when c.r_verdict >= 0.95 then '{}'::text[]
            when c.r_verdict >= 0.38 then array['call handled']
            else array['customer did not get what they asked for'] end,
       case when c.r_verdict < 0.95 then 'heuristic-v1' end,
       case when c.r_verdict < 0.95 then c.flagged_at end,
       c.review_status
  from bench_calls c
 order by c.written_at;

insert into public.events (event_id, event_type, source, dealership_id, call_id, occurred_at, received_at,
                           raw_body, raw_payload, transcript, customer_phone, agent_id)
select format('evt_bench_%s', c.i), 'call_ended', 'normalized', c.dealership_id, c.call_id,
       c.first_event_at + make_interval(secs => c.duration_sec),
       c.first_event_at + make_interval(secs => c.duration_sec + 1),
       convert_to(p::text, 'UTF8'), p, null, null, 'agent_bench'
  from bench_calls c,
       lateral (select jsonb_build_object('event_id', format('evt_bench_%s', c.i), 'dealership_id', c.dealership_id,
                                          'call_id', c.call_id, 'event', 'call_ended') as p) x
 order by c.first_event_at;

-- Analysis ids equal the call's i (latest_analysis_id above); the identity column
-- is moved past them afterwards.
insert into public.call_analyses (id, dealership_id, call_id, analysis, verdict, score, reasons, flags,
                                  recommended_action, confidence, status, model, prompt_version,
                                  latency_ms, transcript_sha256, created_at)
overriding system value
select x.latest_analysis_id, x.dealership_id, x.call_id,
       jsonb_build_object('verdict', x.verdict, 'score', x.score, 'flags', x.flags, 'reasons', x.reasons),
       x.verdict, x.score, x.reasons, x.flags,
       case when x.verdict = 'good' then 'none' else 'human_follow_up' end, 0.8, 'ok',
       'heuristic-v1', 'rules-v1', 2, x.transcript_sha256, x.analyzed_at
  from public.calls x
 where x.dealership_id like 'bench-%' and x.latest_analysis_id is not null
 order by x.analyzed_at;
select setval(pg_get_serial_sequence('public.call_analyses', 'id'), (select max(id) from public.call_analyses)) \g /dev/null

/** Reviews of the flagged calls: mostly resolved when old, mostly open when new */
create temporary table bench_reviews on commit drop as
select c.dealership_id, c.call_id, c.analyzed_at as flagged_at, c.verdict, c.score,
       format('b0000000-0000-0000-0000-%s', lpad((right(c.dealership_id, 3)::int % 30)::text, 12, '0'))::uuid as csm,
       c.review_status as status,
       b.r_flag,
       b.acted_at
  from public.calls c
  join bench_calls b on b.call_id = c.call_id
 where c.dealership_id like 'bench-%' and c.verdict in ('needs_review', 'bad');

insert into public.call_reviews (dealership_id, call_id, status, assignee_id, notes, flagged_at,
                                 resolved_at, updated_by, updated_at, verdict, score)
select r.dealership_id, r.call_id, r.status,
       case when r.status = 'open' and r.r_flag < 0.7 then null else r.csm end,
       case when r.status = 'open' then null else 'Called the customer back.' end,
       r.flagged_at,
       case when r.status = 'resolved' then r.acted_at end,
       case when r.status = 'open' then null else r.csm end,
       case when r.status = 'open' then r.flagged_at else r.acted_at end,
       -- The copy of the call's verdict its trigger would have made.
       r.verdict, r.score
  from bench_reviews r
 order by case when r.status = 'open' then r.flagged_at else r.acted_at end;

-- The audit trail: the automatic opening, the claim, and the status change.
insert into public.review_events (dealership_id, call_id, actor_id, from_status, to_status,
                                  from_assignee, to_assignee, notes, created_at)
select r.dealership_id, r.call_id, null::uuid, null::public.review_status, 'open'::public.review_status, null::uuid, null::uuid, null::text, r.flagged_at
  from bench_reviews r
union all
select r.dealership_id, r.call_id, r.csm, 'open', 'open', null, r.csm, null,
       r.flagged_at + (r.acted_at - r.flagged_at) / 2
  from bench_reviews r
 where not (r.status = 'open' and r.r_flag < 0.7)
union all
select r.dealership_id, r.call_id, r.csm, 'open', r.status, r.csm, r.csm, 'Called the customer back.', r.acted_at
  from bench_reviews r
 where r.status <> 'open'
 order by 9;

set session_replication_role = origin;

-- The triggers were off: check that the copies agree, as they would have made them.
do $$
begin
  if exists (select 1 from public.call_reviews r
               join public.calls c on c.dealership_id = r.dealership_id and c.call_id = r.call_id
              where r.verdict is distinct from c.verdict or r.score is distinct from c.score
                 or c.review_status is distinct from r.status) then
    raise exception 'bench seed: call_reviews and calls disagree';
  end if;
end
$$;
