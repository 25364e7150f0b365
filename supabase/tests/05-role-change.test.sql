-- Changes made as the database owner (what an admin does in Studio) take effect on
-- the very next statement, and the token's claims are never trusted for access.
-- Needs supabase/seed.sql (the demo users).
begin;
select plan(14);

/** Fixtures: in each demo dealership one flagged call with its whole trail, plus rows whose dealership is unknown (tests.seed_flagged_calls) */
select tests.seed_flagged_calls();

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select set_eq(
  $$ select id from public.dealerships $$,
  array['toyota-braintree', 'honda-quincy'],
  'Before any change the CSM sees her two dealerships'
);
reset role;

/** Promotion to admin */
update public.profiles set role = 'admin' where user_id = 'a0000000-0000-4000-8000-000000000003';

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select is(
  (select count(*)::int from public.calls where call_id like 'pgtap-%'), 5,
  'Promoted to admin by the owner, she sees every call on her next statement'
);
select throws_ok(
  $$ select public.review_call('toyota-braintree', 'pgtap-toyota-braintree', 'reviewed', 'x') $$,
  '42501', 'admins have read-only access in the app',
  'Promoted to admin, she can no longer review on her next statement'
);
reset role;

/** Manager without reports, then with one */
update public.profiles set role = 'manager' where user_id = 'a0000000-0000-4000-8000-000000000003';

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select set_eq(
  $$ select id from public.dealerships $$,
  array['toyota-braintree', 'honda-quincy'],
  'Made a manager with no reports yet, she sees her own dealerships only'
);
reset role;

update public.profiles set manager_id = 'a0000000-0000-4000-8000-000000000003' where user_id = 'a0000000-0000-4000-8000-000000000004';

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select set_eq(
  $$ select id from public.dealerships $$,
  array['toyota-braintree', 'honda-quincy', 'ford-weymouth', 'nissan-plymouth'],
  'Once a CSM reports to her, she sees his dealerships on her next statement'
);
reset role;

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select set_eq(
  $$ select id from public.dealerships $$,
  array['toyota-braintree', 'honda-quincy'],
  'The CSM''s previous manager loses his dealerships on his next statement'
);
reset role;

/** Back to csm: reports no longer count */
update public.profiles set role = 'csm' where user_id = 'a0000000-0000-4000-8000-000000000003';

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select set_eq(
  $$ select id from public.dealerships $$,
  array['toyota-braintree', 'honda-quincy'],
  'Demoted to csm, she sees only her own dealerships again, even with someone still reporting to her'
);
reset role;

/** Removing an assignment */
delete from public.user_dealerships
 where user_id = 'a0000000-0000-4000-8000-000000000003' and dealership_id = 'honda-quincy';

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select is_empty(
  $$ select call_id from public.calls where dealership_id = 'honda-quincy' $$,
  'Unassigned from a dealership, the CSM no longer sees its calls on her next statement'
);
select throws_ok(
  $$ select public.review_call('honda-quincy', 'pgtap-honda-quincy', 'reviewed', 'x') $$,
  '42501', null,
  'Unassigned from a dealership, the CSM can no longer review its calls'
);
select isnt_empty(
  $$ select call_id from public.calls where dealership_id = 'toyota-braintree' $$,
  'The CSM still sees the calls of the dealership she kept'
);

/** The token's claims grant nothing */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select set_config('request.jwt.claims',
  (current_setting('request.jwt.claims')::jsonb || '{"user_role": "admin"}')::text, true);
select is_empty(
  $$ select call_id from public.calls where dealership_id <> 'toyota-braintree' $$,
  'A user_role claim of admin in the token does not widen what a CSM sees'
);
select throws_ok(
  $$ update public.profiles set role = 'admin' where user_id = 'a0000000-0000-4000-8000-000000000003' $$,
  '42501', null,
  'A user_role claim of admin in the token does not let a CSM change roles'
);
reset role;

/** A deleted user loses everything */
-- Sam signed in earlier; the owner deletes the account, which ends the session too.
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
reset role;
delete from auth.users where id = 'a0000000-0000-4000-8000-000000000004';
set local role authenticated;
select is_empty(
  $$ select call_id from public.calls $$,
  'A user deleted by the owner sees nothing with a token that is still valid'
);
select throws_ok(
  $$ select public.review_call('ford-weymouth', 'pgtap-ford-weymouth', 'reviewed', 'x') $$,
  '42501', 'your session has ended',
  'A user deleted by the owner cannot review with a token that is still valid'
);
reset role;

select * from finish();
rollback;
