-- assign_dealership_to_report (migration 20261216000200): a manager adds a
-- dealership assignment for a CSM who reports to them, on a dealership the team
-- already has, and can then assign that CSM a review of it; everyone else, and
-- every other target, is refused. Needs supabase/seed.sql (the demo users: Morgan
-- Manager manages Nora North, toyota-braintree and honda-quincy, and Sam South,
-- ford-weymouth and nissan-plymouth; kia-hingham is nobody's).
begin;
select plan(15);

\set admin '''a0000000-0000-4000-8000-000000000001'''
\set manager '''a0000000-0000-4000-8000-000000000002'''
\set nora '''a0000000-0000-4000-8000-000000000003'''
\set sam '''a0000000-0000-4000-8000-000000000004'''

select tests.seed_flagged_calls();

select ok(
  not ('honda-quincy' = any (private.visible_dealership_ids_for(:sam))),
  'precondition: Sam is not on honda-quincy'
);

/** Manager: allowed for a report, on a dealership of the team */
set local role authenticated;
select tests.authenticate_as(:manager);
select throws_ok(
  format($$ select public.assign_review('honda-quincy', 'pgtap-honda-quincy', %L) $$, :sam),
  '22023', 'that person is not assigned to dealership honda-quincy',
  'Before: the manager cannot assign Sam a Quincy review'
);
select results_eq(
  format($$ select user_id, dealership_id from public.assign_dealership_to_report(%L, 'honda-quincy') $$, :sam),
  format($$ values (%L::uuid, 'honda-quincy'::text) $$, :sam),
  'The manager adds Sam (a report) to honda-quincy (Nora''s, so the team''s)'
);
select is(
  (public.assign_review('honda-quincy', 'pgtap-honda-quincy', :sam)).assignee_id,
  :sam::uuid,
  'Then the manager can assign Sam the Quincy review'
);
select results_eq(
  format($$ select count(*)::int from public.assign_dealership_to_report(%L, 'honda-quincy') $$, :sam),
  $$ values (1) $$,
  'Adding it again is no error and returns the assignment (idempotent)'
);

/** Manager: refused */
select throws_ok(
  format($$ select public.assign_dealership_to_report(%L, 'kia-hingham') $$, :sam),
  '42501', 'you are not assigned to dealership kia-hingham',
  'Not on a dealership nobody of the team is on'
);
select throws_ok(
  format($$ select public.assign_dealership_to_report(%L, 'no-such-dealership') $$, :sam),
  '42501', 'you are not assigned to dealership no-such-dealership',
  'An unknown dealership gets the same answer'
);
select throws_ok(
  format($$ select public.assign_dealership_to_report(%L, 'honda-quincy') $$, :admin),
  '42501', 'you can only add assignments for CSMs who report to you',
  'Not for someone who does not report to the manager'
);
select throws_ok(
  format($$ select public.assign_dealership_to_report(%L, 'ford-weymouth') $$, :manager),
  '42501', 'you can only add assignments for CSMs who report to you',
  'Not for the manager himself'
);
select throws_ok(
  $$ select public.assign_dealership_to_report(null, 'honda-quincy') $$,
  '22023', 'p_user_id and p_dealership_id are required',
  'A missing argument is a 22023'
);

/** CSM and admin: refused */
select tests.authenticate_as(:nora);
select throws_ok(
  format($$ select public.assign_dealership_to_report(%L, 'toyota-braintree') $$, :sam),
  '42501', 'only managers can add a dealership assignment in the app',
  'A CSM cannot add assignments'
);
select tests.authenticate_as(:admin);
select throws_ok(
  format($$ select public.assign_dealership_to_report(%L, 'kia-hingham') $$, :sam),
  '42501', 'only managers can add a dealership assignment in the app',
  'An admin is read-only in the app (assignments are made in the admin console)'
);
reset role;

select is(
  (select array_agg(dealership_id order by dealership_id) from public.user_dealerships where user_id = :sam),
  array['ford-weymouth', 'honda-quincy', 'nissan-plymouth'],
  'Only the allowed assignment was added'
);

/** anon, and direct writes */
select ok(
  not has_function_privilege('anon', 'public.assign_dealership_to_report(uuid, text)', 'execute')
    and has_function_privilege('authenticated', 'public.assign_dealership_to_report(uuid, text)', 'execute'),
  'anon cannot call it; authenticated can'
);
set local role authenticated;
select tests.authenticate_as(:manager);
select throws_ok(
  format($$ insert into public.user_dealerships (user_id, dealership_id) values (%L, 'kia-hingham') $$, :sam),
  '42501', null,
  'A manager still cannot write user_dealerships directly'
);
reset role;

select * from finish();
rollback;
