-- The review's copy of its call's verdict and score (migration 20261204000100),
-- which the review queue filters and sorts on: set when a review opens, updated
-- when a newer analysis changes the call, and shown through the queue with the
-- same row-level security as before. Needs supabase/seed.sql (the demo users).
begin;
select plan(9);

\set nora '''a0000000-0000-4000-8000-000000000003'''
\set sam '''a0000000-0000-4000-8000-000000000004'''

/** Fixtures (as the owner): a call, then its analyses as the worker writes them */
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at)
values ('honda-quincy', 't33-a', now() - interval '1 hour', now()),
       ('honda-quincy', 't33-b', now() - interval '1 hour', now());

insert into public.call_analyses (dealership_id, call_id, analysis, verdict, score, reasons, flags,
                                  recommended_action, confidence, status, model, prompt_version)
values ('honda-quincy', 't33-a', '{}', 'bad', 12, '{upset}', '{customer_upset}',
        'human_follow_up', 0.9, 'ok', 'heuristic-v1', 'rules-v1');

select results_eq(
  $$ select verdict::text, score::int from public.call_reviews
      where dealership_id = 'honda-quincy' and call_id = 't33-a' $$,
  $$ values ('bad', 12) $$,
  'A review opened by a flagged analysis starts with the call''s verdict and score'
);

insert into public.call_analyses (dealership_id, call_id, analysis, verdict, score, reasons, flags,
                                  recommended_action, confidence, status, model, prompt_version)
values ('honda-quincy', 't33-a', '{}', 'needs_review', 48, '{}', '{}',
        'human_follow_up', 0.7, 'ok', 'heuristic-v1', 'rules-v2');

select results_eq(
  $$ select verdict::text, score::int from public.call_reviews
      where dealership_id = 'honda-quincy' and call_id = 't33-a' $$,
  $$ values ('needs_review', 48) $$,
  'A newer analysis changes the review''s copy with the call''s verdict'
);

-- An older analysis arriving late does not change the call, so not the review.
update public.calls set latest_analysis_id = latest_analysis_id
 where dealership_id = 'honda-quincy' and call_id = 't33-a';
select results_eq(
  $$ select verdict::text, score::int from public.call_reviews
      where dealership_id = 'honda-quincy' and call_id = 't33-a' $$,
  $$ values ('needs_review', 48) $$,
  'An update that leaves the verdict alone leaves the copy alone'
);

-- A review opened by hand on a call without a verdict has none either, and gets
-- one when the call is analysed.
insert into public.call_reviews (dealership_id, call_id, status, flagged_at)
values ('honda-quincy', 't33-b', 'open', now());
select results_eq(
  $$ select verdict::text, score::int from public.call_reviews
      where dealership_id = 'honda-quincy' and call_id = 't33-b' $$,
  $$ values (null::text, null::int) $$,
  'A review of a call without a verdict has no verdict'
);
insert into public.call_analyses (dealership_id, call_id, analysis, verdict, score, reasons, flags,
                                  recommended_action, confidence, status, model, prompt_version)
values ('honda-quincy', 't33-b', '{}', 'good', 91, '{}', '{}', 'none', 0.9, 'ok', 'heuristic-v1', 'rules-v1');
select results_eq(
  $$ select verdict::text, score::int from public.call_reviews
      where dealership_id = 'honda-quincy' and call_id = 't33-b' $$,
  $$ values ('good', 91) $$,
  'The first analysis of a call reviewed by hand fills in the copy'
);

select is_empty(
  $$ select r.call_id from public.call_reviews r
       join public.calls c on c.dealership_id = r.dealership_id and c.call_id = r.call_id
      where r.verdict is distinct from c.verdict or r.score is distinct from c.score $$,
  'Every review''s copy equals its call''s current verdict and score'
);

/** Through the queue, as the users */
set local role authenticated;
select tests.authenticate_as(:nora);
select results_eq(
  $$ select call_id, verdict::text, score::int, severity from public.review_queue
      where call_id like 't33-%' order by call_id $$,
  $$ values ('t33-a', 'needs_review', 48, 1), ('t33-b', 'good', 91, 2) $$,
  'The CSM of the dealership sees both in the queue with the current verdict and its severity'
);
select results_eq(
  $$ select call_id from public.review_queue
      where call_id like 't33-%' and verdict in ('needs_review', 'bad') $$,
  $$ values ('t33-a') $$,
  'Her queue (verdict needs_review or bad) holds the call whose current verdict is flagged, not the one now good'
);

select tests.authenticate_as(:sam);
select is_empty(
  $$ select call_id from public.review_queue where call_id like 't33-%' $$,
  'A CSM of another dealership sees neither'
);

select * from finish();
rollback;
