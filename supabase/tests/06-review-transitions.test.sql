-- Every review transition review_call allows or refuses, the notes rule, resolved_at,
-- and the audit row each change leaves. The workflow:
--   open             -> reviewed | follow_up_needed | resolved | escalated
--   reviewed         -> follow_up_needed | resolved | escalated
--   follow_up_needed -> reviewed | resolved | escalated
--   escalated        -> follow_up_needed | resolved
--   any other state  -> open (re-open); never to the same state
-- Notes are required for resolved and escalated. Acting user: Nora North (csm of
-- toyota-braintree). Needs supabase/seed.sql (the demo users).
begin;
select plan(42);

/** Fixtures: one call per (from, to) pair with its review in state "from", and
    one call per target state without any review */
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at)
select 'toyota-braintree', 'pgtap-t-' || f || '-' || t, now(), now()
  from unnest(enum_range(null::public.review_status)) f,
       unnest(enum_range(null::public.review_status)) t;
insert into public.call_reviews (dealership_id, call_id, status, notes, resolved_at, flagged_at)
select 'toyota-braintree', 'pgtap-t-' || f || '-' || t, f, 'first note',
       case when f = 'resolved' then now() - interval '1 day' end, now() - interval '2 days'
  from unnest(enum_range(null::public.review_status)) f,
       unnest(enum_range(null::public.review_status)) t;
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at)
select 'toyota-braintree', 'pgtap-new-' || t, now(), now()
  from unnest(enum_range(null::public.review_status)) t;

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');

/** From each state to each state (notes given, so only the transition decides) */
select throws_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-open-open', 'open', 'pgtap note') $$, 'P0001', 'a review cannot move from open to open', 'open -> open is refused: a review cannot stay in the same state');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-open-reviewed', 'reviewed', 'pgtap note') $$, 'open -> reviewed is allowed');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-open-follow_up_needed', 'follow_up_needed', 'pgtap note') $$, 'open -> follow_up_needed is allowed');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-open-resolved', 'resolved', 'pgtap note') $$, 'open -> resolved is allowed');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-open-escalated', 'escalated', 'pgtap note') $$, 'open -> escalated is allowed');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-reviewed-open', 'open', 'pgtap note') $$, 'reviewed -> open is allowed');
select throws_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-reviewed-reviewed', 'reviewed', 'pgtap note') $$, 'P0001', 'a review cannot move from reviewed to reviewed', 'reviewed -> reviewed is refused: a review cannot stay in the same state');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-reviewed-follow_up_needed', 'follow_up_needed', 'pgtap note') $$, 'reviewed -> follow_up_needed is allowed');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-reviewed-resolved', 'resolved', 'pgtap note') $$, 'reviewed -> resolved is allowed');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-reviewed-escalated', 'escalated', 'pgtap note') $$, 'reviewed -> escalated is allowed');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-follow_up_needed-open', 'open', 'pgtap note') $$, 'follow_up_needed -> open is allowed');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-follow_up_needed-reviewed', 'reviewed', 'pgtap note') $$, 'follow_up_needed -> reviewed is allowed');
select throws_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-follow_up_needed-follow_up_needed', 'follow_up_needed', 'pgtap note') $$, 'P0001', 'a review cannot move from follow_up_needed to follow_up_needed', 'follow_up_needed -> follow_up_needed is refused: a review cannot stay in the same state');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-follow_up_needed-resolved', 'resolved', 'pgtap note') $$, 'follow_up_needed -> resolved is allowed');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-follow_up_needed-escalated', 'escalated', 'pgtap note') $$, 'follow_up_needed -> escalated is allowed');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-resolved-open', 'open', 'pgtap note') $$, 'resolved -> open is allowed');
select throws_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-resolved-reviewed', 'reviewed', 'pgtap note') $$, 'P0001', 'a review cannot move from resolved to reviewed', 'resolved -> reviewed is refused: not part of the workflow');
select throws_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-resolved-follow_up_needed', 'follow_up_needed', 'pgtap note') $$, 'P0001', 'a review cannot move from resolved to follow_up_needed', 'resolved -> follow_up_needed is refused: not part of the workflow');
select throws_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-resolved-resolved', 'resolved', 'pgtap note') $$, 'P0001', 'a review cannot move from resolved to resolved', 'resolved -> resolved is refused: a review cannot stay in the same state');
select throws_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-resolved-escalated', 'escalated', 'pgtap note') $$, 'P0001', 'a review cannot move from resolved to escalated', 'resolved -> escalated is refused: not part of the workflow');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-escalated-open', 'open', 'pgtap note') $$, 'escalated -> open is allowed');
select throws_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-escalated-reviewed', 'reviewed', 'pgtap note') $$, 'P0001', 'a review cannot move from escalated to reviewed', 'escalated -> reviewed is refused: not part of the workflow');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-escalated-follow_up_needed', 'follow_up_needed', 'pgtap note') $$, 'escalated -> follow_up_needed is allowed');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-escalated-resolved', 'resolved', 'pgtap note') $$, 'escalated -> resolved is allowed');
select throws_ok($$ select public.review_call('toyota-braintree', 'pgtap-t-escalated-escalated', 'escalated', 'pgtap note') $$, 'P0001', 'a review cannot move from escalated to escalated', 'escalated -> escalated is refused: a review cannot stay in the same state');

/** A call without a review: any target state opens one with that state */
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-new-open', 'open', 'pgtap note') $$, 'A call without a review can be given one in state open');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-new-reviewed', 'reviewed', 'pgtap note') $$, 'A call without a review can be given one in state reviewed');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-new-follow_up_needed', 'follow_up_needed', 'pgtap note') $$, 'A call without a review can be given one in state follow_up_needed');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-new-resolved', 'resolved', 'pgtap note') $$, 'A call without a review can be given one in state resolved');
select lives_ok($$ select public.review_call('toyota-braintree', 'pgtap-new-escalated', 'escalated', 'pgtap note') $$, 'A call without a review can be given one in state escalated');

/** Notes */
select throws_ok(
  $$ select public.review_call('toyota-braintree', 'pgtap-t-open-open', 'resolved') $$,
  '22023', 'notes are required to mark a review resolved',
  'Resolving without notes is refused'
);
select throws_ok(
  $$ select public.review_call('toyota-braintree', 'pgtap-t-open-open', 'escalated', '   ') $$,
  '22023', 'notes are required to mark a review escalated',
  'Escalating with blank notes is refused'
);
select is(
  (public.review_call('toyota-braintree', 'pgtap-t-open-open', 'follow_up_needed')).notes,
  'first note',
  'A change without notes keeps the review''s current notes'
);
select throws_ok(
  $$ select public.review_call('toyota-braintree', 'pgtap-t-reviewed-reviewed', null) $$,
  '22023', 'p_to_status is required',
  'A missing target state is refused'
);
reset role;

/** What the allowed changes left behind, and what the refused ones did not */
select set_eq(
  $$ select call_id, status::text from public.call_reviews where call_id like 'pgtap-t-%' and call_id <> 'pgtap-t-open-open' $$,
  $$ values
       ('pgtap-t-open-reviewed', 'reviewed'),
       ('pgtap-t-open-follow_up_needed', 'follow_up_needed'),
       ('pgtap-t-open-resolved', 'resolved'),
       ('pgtap-t-open-escalated', 'escalated'),
       ('pgtap-t-reviewed-open', 'open'),
       ('pgtap-t-reviewed-reviewed', 'reviewed'),
       ('pgtap-t-reviewed-follow_up_needed', 'follow_up_needed'),
       ('pgtap-t-reviewed-resolved', 'resolved'),
       ('pgtap-t-reviewed-escalated', 'escalated'),
       ('pgtap-t-follow_up_needed-open', 'open'),
       ('pgtap-t-follow_up_needed-reviewed', 'reviewed'),
       ('pgtap-t-follow_up_needed-follow_up_needed', 'follow_up_needed'),
       ('pgtap-t-follow_up_needed-resolved', 'resolved'),
       ('pgtap-t-follow_up_needed-escalated', 'escalated'),
       ('pgtap-t-resolved-open', 'open'),
       ('pgtap-t-resolved-reviewed', 'resolved'),
       ('pgtap-t-resolved-follow_up_needed', 'resolved'),
       ('pgtap-t-resolved-resolved', 'resolved'),
       ('pgtap-t-resolved-escalated', 'resolved'),
       ('pgtap-t-escalated-open', 'open'),
       ('pgtap-t-escalated-reviewed', 'escalated'),
       ('pgtap-t-escalated-follow_up_needed', 'follow_up_needed'),
       ('pgtap-t-escalated-resolved', 'resolved'),
       ('pgtap-t-escalated-escalated', 'escalated') $$,
  'Each review ends in the target state when the transition was allowed and stays put when it was refused'
);
select set_eq(
  $$ select call_id, from_status::text, to_status::text from public.review_events
      where call_id like 'pgtap-t-%' and call_id <> 'pgtap-t-open-open' $$,
  $$ values
       ('pgtap-t-open-reviewed', 'open', 'reviewed'),
       ('pgtap-t-open-follow_up_needed', 'open', 'follow_up_needed'),
       ('pgtap-t-open-resolved', 'open', 'resolved'),
       ('pgtap-t-open-escalated', 'open', 'escalated'),
       ('pgtap-t-reviewed-open', 'reviewed', 'open'),
       ('pgtap-t-reviewed-follow_up_needed', 'reviewed', 'follow_up_needed'),
       ('pgtap-t-reviewed-resolved', 'reviewed', 'resolved'),
       ('pgtap-t-reviewed-escalated', 'reviewed', 'escalated'),
       ('pgtap-t-follow_up_needed-open', 'follow_up_needed', 'open'),
       ('pgtap-t-follow_up_needed-reviewed', 'follow_up_needed', 'reviewed'),
       ('pgtap-t-follow_up_needed-resolved', 'follow_up_needed', 'resolved'),
       ('pgtap-t-follow_up_needed-escalated', 'follow_up_needed', 'escalated'),
       ('pgtap-t-resolved-open', 'resolved', 'open'),
       ('pgtap-t-escalated-open', 'escalated', 'open'),
       ('pgtap-t-escalated-follow_up_needed', 'escalated', 'follow_up_needed'),
       ('pgtap-t-escalated-resolved', 'escalated', 'resolved') $$,
  'Each allowed transition left exactly one review_events row from the old to the new state, and refused ones none'
);
select is_empty(
  $$ select e.id from public.review_events e
      where e.call_id like 'pgtap-%'
        and (e.actor_id is distinct from 'a0000000-0000-4000-8000-000000000003' or e.notes is distinct from 'pgtap note')
        and e.call_id <> 'pgtap-t-open-open' $$,
  'Every review_events row names the acting user and the notes given'
);
select set_eq(
  $$ select call_id, from_status::text, to_status::text from public.review_events where call_id like 'pgtap-new-%' $$,
  $$ values ('pgtap-new-open', null, 'open'), ('pgtap-new-reviewed', null, 'reviewed'),
            ('pgtap-new-follow_up_needed', null, 'follow_up_needed'), ('pgtap-new-resolved', null, 'resolved'),
            ('pgtap-new-escalated', null, 'escalated') $$,
  'A review created by review_call is audited as coming from no review'
);
select is_empty(
  $$ select r.call_id from public.call_reviews r
       join public.calls c using (dealership_id, call_id)
      where r.call_id like 'pgtap-%' and c.review_status is distinct from r.status $$,
  'calls.review_status mirrors every review''s current state'
);
select ok(
  (select resolved_at is not null and updated_by = 'a0000000-0000-4000-8000-000000000003'
     from public.call_reviews where call_id = 'pgtap-t-open-resolved'),
  'Resolving records resolved_at and who did it'
);
select is(
  (select resolved_at from public.call_reviews where call_id = 'pgtap-t-resolved-open'),
  null,
  'Re-opening a resolved review clears resolved_at'
);
select ok(
  (select resolved_at is not null from public.call_reviews where call_id = 'pgtap-new-resolved'),
  'A review created directly as resolved records resolved_at'
);

select * from finish();
rollback;
