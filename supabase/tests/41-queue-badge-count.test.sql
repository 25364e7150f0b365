-- The queue badge's count (migration 20261221000100): the dashboard counts
-- call_reviews with the queue's filters instead of the review_queue view. For each
-- role the two counts agree, on a fixture with every case the filter decides
-- (bad and needs_review under review, an audit-sampled good call, a plain good
-- one, a resolved bad one), and each role counts only its own dealerships'. The
-- partial index holds exactly the badge's rows. Needs supabase/seed.sql: Nora
-- North (csm: toyota-braintree, honda-quincy), Sam South (csm: ford-weymouth,
-- nissan-plymouth), Morgan Manager (their manager), Avery Admin; kia-hingham is
-- nobody's.
begin;
select plan(10);

\set admin '''a0000000-0000-4000-8000-000000000001'''
\set morgan '''a0000000-0000-4000-8000-000000000002'''
\set nora '''a0000000-0000-4000-8000-000000000003'''
\set sam '''a0000000-0000-4000-8000-000000000004'''

select has_index('public', 'call_reviews', 'call_reviews_queue_badge_idx',
  'the badge count has its partial index');

-- Fixture, as the owner: five cases in each demo dealership.
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, verdict, score)
select d, 't41-' || d || '-' || k, now() - interval '3 hours', now(), v::public.verdict, 40
  from unnest(array['toyota-braintree', 'honda-quincy', 'ford-weymouth', 'nissan-plymouth', 'kia-hingham']) d,
       (values ('bad-open', 'bad'), ('nr-follow', 'needs_review'), ('good-sampled', 'good'),
               ('good-plain', 'good'), ('bad-resolved', 'bad')) c (k, v);
insert into public.call_reviews (dealership_id, call_id, status, flagged_at, audit_sample)
select dealership_id, call_id,
       case when call_id like '%-nr-follow' then 'follow_up_needed'
            when call_id like '%-good-plain' then 'reviewed'
            else 'open' end::public.review_status,
       now() - interval '2 hours',
       call_id like '%-good-sampled'
  from public.calls where call_id like 't41-%';
update public.call_reviews
   set status = 'resolved', resolved_at = now()
 where call_id like 't41-%-bad-resolved';

-- Both counts, over the fixture's rows, as the current user.
create function pg_temp.badge_counts() returns table (from_reviews bigint, from_view bigint)
language sql
as $$
  select (select count(*) from public.call_reviews
           where call_id like 't41-%' and status <> 'resolved'
             and (verdict in ('needs_review', 'bad') or audit_sample is true)),
         (select count(*) from public.review_queue
           where call_id like 't41-%'
             and (verdict in ('needs_review', 'bad') or audit_sample is true))
$$;

select is((select count(*) from public.call_reviews
            where call_id like 't41-%' and status <> 'resolved'
              and (verdict in ('needs_review', 'bad') or audit_sample is true)),
  15::bigint, 'the fixture has three badge rows in each of the five dealerships');

set local role authenticated;

select tests.authenticate_as(:nora);
select is((select from_reviews from pg_temp.badge_counts()), 6::bigint,
  'Nora counts the badge rows of her two dealerships');
select is((select from_reviews from pg_temp.badge_counts()), (select from_view from pg_temp.badge_counts()),
  'Nora: call_reviews counts what review_queue shows');

select tests.authenticate_as(:sam);
select is((select from_reviews from pg_temp.badge_counts()), 6::bigint,
  'Sam counts the badge rows of his two dealerships');
select is((select from_reviews from pg_temp.badge_counts()), (select from_view from pg_temp.badge_counts()),
  'Sam: call_reviews counts what review_queue shows');

select tests.authenticate_as(:morgan);
select is((select from_reviews from pg_temp.badge_counts()), (select from_view from pg_temp.badge_counts()),
  'Morgan: call_reviews counts what review_queue shows');

select tests.authenticate_as(:admin);
select is((select from_reviews from pg_temp.badge_counts()), 15::bigint,
  'the admin counts every dealership''s badge rows');
select is((select from_reviews from pg_temp.badge_counts()), (select from_view from pg_temp.badge_counts()),
  'the admin: call_reviews counts what review_queue shows');

reset role;
set local role anon;
select is((select count(*) from public.call_reviews where call_id like 't41-%'), 0::bigint,
  'anon counts no review (no policy gives it a row)');

select * from finish();
rollback;
