-- assign_review as a CSM (claim and release only) and the audit trail it leaves.
-- The manager's side (assign within the team) is in 03-manager. Acting user: Nora
-- North (csm of toyota-braintree, honda-quincy). Needs supabase/seed.sql.
begin;
select plan(13);

/** Fixtures: in each demo dealership one flagged call with its whole trail, plus rows whose dealership is unknown (tests.seed_flagged_calls) */
select tests.seed_flagged_calls();
-- A call judged good: no review exists for it.
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at)
values ('honda-quincy', 'pgtap-good-call', now(), now());

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');

select is(
  (public.assign_review('toyota-braintree', 'pgtap-toyota-braintree', 'a0000000-0000-4000-8000-000000000003')).assignee_id,
  'a0000000-0000-4000-8000-000000000003'::uuid,
  'A CSM can claim an unassigned review of her dealership'
);
select throws_ok(
  $$ select public.assign_review('toyota-braintree', 'pgtap-toyota-braintree', 'a0000000-0000-4000-8000-000000000003') $$,
  'P0001', 'the review is already assigned to that person',
  'Claiming a review she already holds is refused as no change'
);
select throws_ok(
  $$ select public.assign_review('toyota-braintree', 'pgtap-toyota-braintree', 'a0000000-0000-4000-8000-000000000002') $$,
  '42501', 'CSMs can only assign reviews to themselves',
  'A CSM cannot hand a review to someone else'
);
select is(
  (public.assign_review('toyota-braintree', 'pgtap-toyota-braintree', null)).assignee_id,
  null::uuid,
  'A CSM can release a review she holds'
);
select throws_ok(
  $$ select public.assign_review('toyota-braintree', 'pgtap-toyota-braintree', null) $$,
  'P0001', 'the review is already unassigned',
  'Releasing an unassigned review is refused as no change'
);
reset role;

update public.call_reviews set assignee_id = 'a0000000-0000-4000-8000-000000000002'
 where dealership_id = 'honda-quincy' and call_id = 'pgtap-honda-quincy';

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select throws_ok(
  $$ select public.assign_review('honda-quincy', 'pgtap-honda-quincy', 'a0000000-0000-4000-8000-000000000003') $$,
  '42501', 'the review is already assigned to someone else',
  'A CSM cannot take over a review assigned to someone else'
);
select throws_ok(
  $$ select public.assign_review('honda-quincy', 'pgtap-honda-quincy', null) $$,
  '42501', 'CSMs can only release reviews assigned to themselves',
  'A CSM cannot release a review assigned to someone else'
);
select results_eq(
  $$ select status::text, assignee_id from public.assign_review('honda-quincy', 'pgtap-good-call', 'a0000000-0000-4000-8000-000000000003') $$,
  $$ values ('open', 'a0000000-0000-4000-8000-000000000003'::uuid) $$,
  'Claiming a call that has no review opens one assigned to her'
);
select throws_ok(
  $$ select public.assign_review('honda-quincy', 'pgtap-no-such-call', 'a0000000-0000-4000-8000-000000000003') $$,
  'PT404', null,
  'Claiming a call that does not exist in her dealership is answered not found'
);
reset role;

select results_eq(
  $$ select actor_id, from_status::text, to_status::text, from_assignee, to_assignee from public.review_events
      where dealership_id = 'toyota-braintree' and call_id = 'pgtap-toyota-braintree' order by id $$,
  $$ values
       (null::uuid, null::text, 'open'::text, null::uuid, null::uuid),
       ('a0000000-0000-4000-8000-000000000003'::uuid, 'open', 'open', null::uuid, 'a0000000-0000-4000-8000-000000000003'::uuid),
       ('a0000000-0000-4000-8000-000000000003'::uuid, 'open', 'open', 'a0000000-0000-4000-8000-000000000003'::uuid, null::uuid) $$,
  'The history shows the automatic open, then the claim and the release by the CSM, and no refused attempt'
);
select is(
  (select notes from public.review_events
    where dealership_id = 'toyota-braintree' and call_id = 'pgtap-toyota-braintree' and actor_id is null),
  'Opened automatically: the analysis verdict was bad.',
  'A review opened by a flagged analysis is audited with the reason'
);
select results_eq(
  $$ select actor_id, from_status::text, to_status::text, to_assignee from public.review_events
      where dealership_id = 'honda-quincy' and call_id = 'pgtap-good-call' $$,
  $$ values ('a0000000-0000-4000-8000-000000000003'::uuid, null::text, 'open'::text, 'a0000000-0000-4000-8000-000000000003'::uuid) $$,
  'The review opened by a claim is audited as coming from no review'
);
select is(
  (select review_status::text from public.calls where dealership_id = 'honda-quincy' and call_id = 'pgtap-good-call'),
  'open',
  'The call shows the review a claim opened'
);

select * from finish();
rollback;
