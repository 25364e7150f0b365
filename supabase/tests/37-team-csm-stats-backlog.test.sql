-- team_csm_stats' backlog columns (migration 20261215000300 counts them on
-- call_reviews instead of the review_queue view, in PL/pgSQL): for every role,
-- with and without a dealership, before and after a review changes, each row's
-- backlog equals counting public.review_queue for that assignee. The known
-- answers on fixed fixtures are in 30-team-overview. Needs supabase/seed.sql.
--
-- Fixture reviews (rolled back), flagged 1 h, 2 d and 5 d ago (one per age bucket):
--   honda-quincy   Nora's (all three), one unassigned; one resolved (never counted)
--   ford-weymouth  Sam's (all three)
--   kia-hingham    unassigned (the admin only)
begin;
select plan(14);

\set admin '''a0000000-0000-4000-8000-000000000001'''
\set morgan '''a0000000-0000-4000-8000-000000000002'''
\set nora '''a0000000-0000-4000-8000-000000000003'''
\set sam '''a0000000-0000-4000-8000-000000000004'''

insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, verdict, score)
select d, format('t37-%s-%s', d, n), now() - make_interval(hours => n), now(), 'bad', 10
  from unnest(array['honda-quincy', 'ford-weymouth', 'kia-hingham']) d,
       unnest(array[1, 48, 120, 121, 122]) n;

insert into public.call_reviews (dealership_id, call_id, status, assignee_id, flagged_at, resolved_at)
select c.dealership_id, c.call_id,
       case when n = 122 then 'resolved' when n = 48 then 'follow_up_needed' else 'open' end::public.review_status,
       case when c.dealership_id = 'kia-hingham' or n = 121 then null
            when c.dealership_id = 'honda-quincy' then :nora::uuid
            else :sam::uuid end,
       now() - make_interval(hours => n),
       case when n = 122 then now() end
  from public.calls c
  cross join lateral (select split_part(c.call_id, '-', 4)::int as n) x
 where c.call_id like 't37-%';

-- The check: every row's backlog columns against review_queue, counted for the
-- same assignee (the Unassigned row: no assignee) within the same dealership filter.
create function pg_temp.t37_mismatches(p_dealership_id text) returns setof text
language sql
as $$
  select coalesce(s.full_name, '?') || ': ' || s.backlog_under_24h || '/' || s.backlog_1_to_3d || '/'
         || s.backlog_over_3d || '/' || s.backlog
    from public.team_csm_stats(now() - interval '7 days', now(), p_dealership_id) s
    cross join lateral (
      select count(*) filter (where q.age_bucket = 'under_24h') as under_24h,
             count(*) filter (where q.age_bucket = '1_to_3d') as one_to_3d,
             count(*) filter (where q.age_bucket = 'over_3d') as over_3d,
             count(*) as total
        from public.review_queue q
       where q.assignee_id is not distinct from s.user_id
         and (p_dealership_id is null or q.dealership_id = p_dealership_id)) v
   where (s.backlog_under_24h, s.backlog_1_to_3d, s.backlog_over_3d, s.backlog)
         is distinct from (v.under_24h, v.one_to_3d, v.over_3d, v.total)
$$;
grant execute on function pg_temp.t37_mismatches(text) to authenticated;

/** csm.north */
set local role authenticated;
select tests.authenticate_as(:nora);
select is(
  (select array[s.backlog_under_24h, s.backlog_1_to_3d, s.backlog_over_3d, s.backlog]
     from public.team_csm_stats(now() - interval '7 days', now(), 'honda-quincy') s where s.user_id = :nora),
  array[1, 1, 1, 3]::bigint[],
  'csm.north''s own backlog: one review in each age bucket, the resolved one not counted'
);
select is_empty($$ select * from pg_temp.t37_mismatches(null) $$,
  'csm.north: every backlog row equals counting review_queue');
select is_empty($$ select * from pg_temp.t37_mismatches('honda-quincy') $$,
  'csm.north, one dealership: every backlog row equals counting review_queue');
select is(
  (select s.backlog from public.team_csm_stats(now() - interval '7 days', now(), 'ford-weymouth') s where s.user_id = :nora),
  0::bigint,
  'csm.north counts nothing of a dealership that is not hers'
);
reset role;

/** The manager */
set local role authenticated;
select tests.authenticate_as(:morgan);
select is_empty($$ select * from pg_temp.t37_mismatches(null) $$,
  'The manager: every backlog row equals counting review_queue');
select is_empty($$ select * from pg_temp.t37_mismatches('ford-weymouth') $$,
  'The manager, one dealership: every backlog row equals counting review_queue');
select ok(
  (select s.backlog from public.team_csm_stats(now() - interval '7 days', now()) s where s.user_id = :sam) >= 3,
  'The manager sees Sam''s fixture backlog'
);
select is(
  (select count(*) from public.team_csm_stats(now() - interval '7 days', now(), 'kia-hingham') s where s.backlog > 0),
  0::bigint,
  'The manager counts nothing of the unassigned dealership'
);
reset role;

/** The admin */
set local role authenticated;
select tests.authenticate_as(:admin);
select is_empty($$ select * from pg_temp.t37_mismatches(null) $$,
  'The admin: every backlog row equals counting review_queue');
select is_empty($$ select * from pg_temp.t37_mismatches('kia-hingham') $$,
  'The admin, one dealership: every backlog row equals counting review_queue');
select is(
  (select array[s.backlog_under_24h, s.backlog_1_to_3d, s.backlog_over_3d, s.backlog]
     from public.team_csm_stats(now() - interval '7 days', now(), 'kia-hingham') s where s.user_id is null),
  array[1, 1, 2, 4]::bigint[],
  'The admin''s Unassigned row for kia-hingham counts its four open reviews by age'
);
reset role;

/** After a review changes */
update public.call_reviews set status = 'resolved', resolved_at = now()
 where dealership_id = 'honda-quincy' and call_id = 't37-honda-quincy-48';
update public.call_reviews set assignee_id = :sam
 where dealership_id = 'ford-weymouth' and call_id = 't37-ford-weymouth-121';
set local role authenticated;
select tests.authenticate_as(:admin);
select is_empty($$ select * from pg_temp.t37_mismatches(null) $$,
  'After a resolution and an assignment: still equal to counting review_queue');
select is(
  (select s.backlog from public.team_csm_stats(now() - interval '7 days', now(), 'honda-quincy') s where s.user_id = :nora),
  2::bigint,
  'A resolved review leaves its assignee''s backlog'
);
reset role;

/** anon */
set local role anon;
select throws_ok(
  $$ select * from public.team_csm_stats(now() - interval '7 days', now()) $$,
  '42501', null,
  'anon cannot call team_csm_stats'
);
reset role;

select * from finish();
rollback;
