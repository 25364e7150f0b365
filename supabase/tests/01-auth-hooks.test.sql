-- The profile trigger on auth.users and the custom access token hook.
-- Needs supabase/seed.sql (the demo users).
begin;
select plan(15);

/** A new auth user gets a csm profile and nothing else */
insert into auth.users (id, aud, role, email, raw_user_meta_data, created_at, updated_at)
values
  ('b0000000-0000-4000-8000-000000000001', 'authenticated', 'authenticated',
   'new.hire@demo.test', '{"full_name": "Nina Newhire"}', now(), now()),
  ('b0000000-0000-4000-8000-000000000002', 'authenticated', 'authenticated',
   'no.name@demo.test', '{}', now(), now());

select results_eq(
  $$ select full_name, role::text, manager_id from public.profiles
      where user_id = 'b0000000-0000-4000-8000-000000000001' $$,
  $$ values ('Nina Newhire', 'csm', null::uuid) $$,
  'A new user gets a profile with role csm, no manager and the full_name from the sign-up metadata'
);
select is(
  (select full_name from public.profiles where user_id = 'b0000000-0000-4000-8000-000000000002'),
  'no.name@demo.test',
  'A new user without a full_name in the metadata is named after their email'
);
select is_empty(
  $$ select 1 from public.user_dealerships
      where user_id in ('b0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000002') $$,
  'A new user is assigned to no dealership'
);

insert into public.calls (dealership_id, call_id, first_event_at, last_event_at)
values ('toyota-braintree', 'pgtap-call-1', now(), now());

set local role authenticated;
select tests.authenticate_as('b0000000-0000-4000-8000-000000000001');

select is_empty(
  $$ select id from public.dealerships $$,
  'A new user sees no dealership until an admin assigns one'
);
select is_empty(
  $$ select call_id from public.calls $$,
  'A new user sees no call until an admin assigns a dealership'
);
select results_eq(
  $$ select user_id from public.profiles $$,
  $$ values ('b0000000-0000-4000-8000-000000000001'::uuid) $$,
  'A new user sees only their own profile'
);
select throws_ok(
  $$ update public.profiles set role = 'admin' where user_id = 'b0000000-0000-4000-8000-000000000001' $$,
  '42501', null,
  'A new user cannot promote themself'
);
reset role;

/** The access token hook adds user_role from profiles */
set local role supabase_auth_admin;

select is(
  public.custom_access_token_hook(jsonb_build_object(
    'user_id', 'a0000000-0000-4000-8000-000000000001',
    'authentication_method', 'password',
    'claims', jsonb_build_object('sub', 'a0000000-0000-4000-8000-000000000001', 'role', 'authenticated', 'aud', 'authenticated')
  )) -> 'claims' ->> 'user_role',
  'admin',
  'The hook gives the admin the user_role claim admin'
);
select is(
  public.custom_access_token_hook(jsonb_build_object(
    'user_id', 'a0000000-0000-4000-8000-000000000002',
    'authentication_method', 'token_refresh',
    'claims', jsonb_build_object('sub', 'a0000000-0000-4000-8000-000000000002', 'role', 'authenticated')
  )) -> 'claims' ->> 'user_role',
  'manager',
  'The hook gives the manager the user_role claim manager'
);
select is(
  public.custom_access_token_hook(jsonb_build_object(
    'user_id', 'a0000000-0000-4000-8000-000000000003',
    'authentication_method', 'password',
    'claims', jsonb_build_object('sub', 'a0000000-0000-4000-8000-000000000003', 'role', 'authenticated')
  )) -> 'claims' ->> 'user_role',
  'csm',
  'The hook gives a CSM the user_role claim csm'
);
select is(
  public.custom_access_token_hook(jsonb_build_object(
    'user_id', 'c0000000-0000-4000-8000-00000000dead',
    'authentication_method', 'password',
    'claims', jsonb_build_object('sub', 'c0000000-0000-4000-8000-00000000dead', 'role', 'authenticated')
  )) -> 'claims' ->> 'user_role',
  'csm',
  'The hook defaults to csm for a user without a profile'
);
select is(
  public.custom_access_token_hook(jsonb_build_object(
    'user_id', 'a0000000-0000-4000-8000-000000000003',
    'authentication_method', 'password',
    'claims', jsonb_build_object(
      'sub', 'a0000000-0000-4000-8000-000000000003', 'role', 'authenticated', 'aud', 'authenticated',
      'aal', 'aal1', 'session_id', 's-1', 'email', 'csm.north@demo.test', 'phone', '', 'is_anonymous', false)
  )) - 'claims',
  jsonb_build_object('user_id', 'a0000000-0000-4000-8000-000000000003', 'authentication_method', 'password'),
  'The hook returns the rest of the event unchanged'
);
select is(
  public.custom_access_token_hook(jsonb_build_object(
    'user_id', 'a0000000-0000-4000-8000-000000000003',
    'authentication_method', 'password',
    'claims', jsonb_build_object(
      'sub', 'a0000000-0000-4000-8000-000000000003', 'role', 'authenticated', 'aud', 'authenticated',
      'aal', 'aal1', 'session_id', 's-1', 'email', 'csm.north@demo.test', 'phone', '', 'is_anonymous', false)
  )) -> 'claims',
  jsonb_build_object(
    'sub', 'a0000000-0000-4000-8000-000000000003', 'role', 'authenticated', 'aud', 'authenticated',
    'aal', 'aal1', 'session_id', 's-1', 'email', 'csm.north@demo.test', 'phone', '', 'is_anonymous', false,
    'user_role', 'csm'),
  'The hook keeps every required claim and only adds user_role'
);
select is(
  (select count(*)::int from public.profiles where user_id in (
    'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000002',
    'a0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000004')),
  4,
  'supabase_auth_admin can read every profile (policy "Auth admin can read roles")'
);
reset role;

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select throws_ok(
  $$ select public.custom_access_token_hook('{"user_id": "a0000000-0000-4000-8000-000000000001", "claims": {}}') $$,
  '42501', null,
  'A signed-in user, even an admin, cannot call the access token hook'
);
reset role;

select * from finish();
rollback;
