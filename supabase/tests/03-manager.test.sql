-- Managers within and outside their team. Morgan Manager manages Nora North
-- (toyota-braintree, honda-quincy) and Sam South (ford-weymouth, nissan-plymouth).
-- A second team (Olive Other managing Oscar Outside on kia-hingham) is created here.
-- Needs supabase/seed.sql (the demo users).
begin;
select plan(33);

/** Fixtures: in each demo dealership one flagged call with its whole trail, plus rows whose dealership is unknown (tests.seed_flagged_calls) */
select tests.seed_flagged_calls();

/** A second team: Olive Other (manager) and Oscar Outside (csm of kia-hingham) */
insert into auth.users (id, aud, role, email, raw_user_meta_data, created_at, updated_at)
values
  ('c0000000-0000-4000-8000-000000000001', 'authenticated', 'authenticated', 'olive@demo.test', '{"full_name": "Olive Other"}', now(), now()),
  ('c0000000-0000-4000-8000-000000000002', 'authenticated', 'authenticated', 'oscar@demo.test', '{"full_name": "Oscar Outside"}', now(), now());
update public.profiles set role = 'manager' where user_id = 'c0000000-0000-4000-8000-000000000001';
update public.profiles set manager_id = 'c0000000-0000-4000-8000-000000000001' where user_id = 'c0000000-0000-4000-8000-000000000002';
insert into public.user_dealerships (user_id, dealership_id) values ('c0000000-0000-4000-8000-000000000002', 'kia-hingham');

/** Morgan Manager reads the dealerships of the CSMs who report to him */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');

select set_eq(
  $$ select id from public.dealerships $$,
  array['toyota-braintree', 'honda-quincy', 'ford-weymouth', 'nissan-plymouth'],
  'A manager sees the dealerships of every CSM who reports to him'
);
select set_eq(
  $$ select dealership_id from public.calls where call_id like 'pgtap-%' $$,
  array['toyota-braintree', 'honda-quincy', 'ford-weymouth', 'nissan-plymouth'],
  'A manager sees the calls of his team''s dealerships'
);
select set_eq(
  $$ select dealership_id from public.call_reviews where call_id like 'pgtap-%' $$,
  array['toyota-braintree', 'honda-quincy', 'ford-weymouth', 'nissan-plymouth'],
  'A manager sees the reviews of his team''s dealerships'
);
select is_empty(
  $$ select call_id from public.calls where dealership_id = 'kia-hingham' $$,
  'A manager sees no call of a dealership outside his team'
);
select is_empty(
  $$ select event_id from public.events where dealership_id is null or dealership_id = 'kia-hingham' $$,
  'A manager sees no event outside his team, nor one whose dealership is unknown'
);
select is_empty(
  $$ select id from public.call_analyses where dealership_id = 'kia-hingham' $$,
  'A manager sees no analysis outside his team'
);
select is_empty(
  $$ select id from public.analysis_jobs where dealership_id = 'kia-hingham' $$,
  'A manager sees no analysis job outside his team'
);
select is_empty(
  $$ select id from public.processing_errors where dealership_id is null or dealership_id = 'kia-hingham' $$,
  'A manager sees no processing error outside his team, nor one whose dealership is unknown'
);
select is_empty(
  $$ select call_id from public.call_reviews where dealership_id = 'kia-hingham' $$,
  'A manager sees no review outside his team'
);
select is_empty(
  $$ select id from public.review_events where dealership_id = 'kia-hingham' $$,
  'A manager sees no review history outside his team'
);
select set_eq(
  $$ select full_name from public.profiles $$,
  array['Morgan Manager', 'Nora North', 'Sam South'],
  'A manager sees his own profile and his reports'', not another team''s'
);
select set_eq(
  $$ select user_id::text || ' ' || dealership_id from public.user_dealerships $$,
  array[
    'a0000000-0000-4000-8000-000000000003 toyota-braintree',
    'a0000000-0000-4000-8000-000000000003 honda-quincy',
    'a0000000-0000-4000-8000-000000000004 ford-weymouth',
    'a0000000-0000-4000-8000-000000000004 nissan-plymouth'],
  'A manager sees his reports'' assignments and not another team''s'
);

/** ...works on reviews there */
select lives_ok(
  $$ select public.review_call('ford-weymouth', 'pgtap-ford-weymouth', 'escalated', 'customer threatened to leave') $$,
  'A manager can review a call of a report''s dealership'
);
select is(
  (public.assign_review('toyota-braintree', 'pgtap-toyota-braintree', 'a0000000-0000-4000-8000-000000000003')).assignee_id,
  'a0000000-0000-4000-8000-000000000003'::uuid,
  'A manager can assign a review to the report who covers that dealership'
);
select is(
  (public.assign_review('toyota-braintree', 'pgtap-toyota-braintree', 'a0000000-0000-4000-8000-000000000002')).assignee_id,
  'a0000000-0000-4000-8000-000000000002'::uuid,
  'A manager can reassign a review to himself'
);
select is(
  (public.assign_review('toyota-braintree', 'pgtap-toyota-braintree', null)).assignee_id,
  null::uuid,
  'A manager can unassign a review'
);
select throws_ok(
  $$ select public.assign_review('toyota-braintree', 'pgtap-toyota-braintree', 'a0000000-0000-4000-8000-000000000004') $$,
  '22023', null,
  'A manager cannot assign a review to a report who does not cover that dealership'
);
select throws_ok(
  $$ select public.assign_review('toyota-braintree', 'pgtap-toyota-braintree', 'c0000000-0000-4000-8000-000000000002') $$,
  '42501', null,
  'A manager cannot assign a review to someone outside his team'
);
select lives_ok(
  $$ select public.request_reanalysis('honda-quincy', 'pgtap-honda-quincy') $$,
  'A manager can request a re-analysis of a call of his team'
);

/** ...and nowhere else */
select throws_ok(
  $$ select public.review_call('kia-hingham', 'pgtap-kia-hingham', 'reviewed', 'x') $$,
  '42501', null,
  'A manager cannot review a call outside his team'
);
select throws_ok(
  $$ select public.assign_review('kia-hingham', 'pgtap-kia-hingham', 'a0000000-0000-4000-8000-000000000002') $$,
  '42501', null,
  'A manager cannot assign a review outside his team'
);
select throws_ok(
  $$ select public.request_reanalysis('kia-hingham', 'pgtap-kia-hingham') $$,
  '42501', null,
  'A manager cannot request a re-analysis outside his team'
);
select throws_ok(
  $$ update public.profiles set manager_id = null where user_id = 'a0000000-0000-4000-8000-000000000004' $$,
  '42501', null,
  'A manager cannot change whom his reports report to'
);
select throws_ok(
  $$ insert into public.user_dealerships (user_id, dealership_id)
     values ('a0000000-0000-4000-8000-000000000003', 'ford-weymouth') $$,
  '42501', null,
  'A manager cannot assign dealerships to his reports'
);
select throws_ok(
  $$ update public.profiles set role = 'admin' where user_id = 'a0000000-0000-4000-8000-000000000002' $$,
  '42501', null,
  'A manager cannot promote himself'
);
reset role;

select results_eq(
  $$ select to_status::text, actor_id, from_assignee, to_assignee from public.review_events
      where dealership_id = 'toyota-braintree' and call_id = 'pgtap-toyota-braintree' and actor_id is not null
      order by id $$,
  $$ values
       ('open', 'a0000000-0000-4000-8000-000000000002'::uuid, null::uuid, 'a0000000-0000-4000-8000-000000000003'::uuid),
       ('open', 'a0000000-0000-4000-8000-000000000002'::uuid, 'a0000000-0000-4000-8000-000000000003'::uuid, 'a0000000-0000-4000-8000-000000000002'::uuid),
       ('open', 'a0000000-0000-4000-8000-000000000002'::uuid, 'a0000000-0000-4000-8000-000000000002'::uuid, null::uuid) $$,
  'Every assignment the manager made is in the review history, and the refused ones are not'
);

/** A manager with a dealership of his own sees it too */
insert into public.user_dealerships (user_id, dealership_id)
values ('a0000000-0000-4000-8000-000000000002', 'kia-hingham');

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select set_eq(
  $$ select id from public.dealerships $$,
  array['toyota-braintree', 'honda-quincy', 'ford-weymouth', 'nissan-plymouth', 'kia-hingham'],
  'A manager also sees the dealerships assigned to him directly'
);
reset role;
delete from public.user_dealerships
 where user_id = 'a0000000-0000-4000-8000-000000000002' and dealership_id = 'kia-hingham';

/** Olive Other, the other team's manager, is the mirror image */
set local role authenticated;
select tests.authenticate_as('c0000000-0000-4000-8000-000000000001');

select set_eq(
  $$ select id from public.dealerships $$,
  array['kia-hingham'],
  'The other manager sees only her team''s dealership'
);
select is_empty(
  $$ select call_id from public.calls where dealership_id <> 'kia-hingham' $$,
  'The other manager sees no call of the first team'
);
select is_empty(
  $$ select user_id from public.profiles
      where user_id in ('a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000004') $$,
  'The other manager sees no profile of the first team'
);
select throws_ok(
  $$ select public.review_call('toyota-braintree', 'pgtap-toyota-braintree', 'reviewed', 'x') $$,
  '42501', null,
  'The other manager cannot review a call of the first team'
);
select throws_ok(
  $$ select public.assign_review('kia-hingham', 'pgtap-kia-hingham', 'a0000000-0000-4000-8000-000000000003') $$,
  '42501', null,
  'The other manager cannot assign her review to someone who does not report to her'
);
select lives_ok(
  $$ select public.assign_review('kia-hingham', 'pgtap-kia-hingham', 'c0000000-0000-4000-8000-000000000002') $$,
  'The other manager can assign her dealership''s review to her report'
);
reset role;

select * from finish();
rollback;
