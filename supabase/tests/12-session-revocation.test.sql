-- Sign-out revokes access at once: RLS and the review functions ask for a live
-- auth.sessions row named by the token's session_id, of the same user, and for a
-- user that is neither banned nor deleted (migration 20261202000300).
begin;
select plan(16);

insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, transcript, transcript_sha256)
values ('toyota-braintree', 'revoke-1', now() - interval '1 hour', now(), 'Agent: Hello. User: My brakes squeal.', md5('revoke-1'));
create temp table sessions_of (name text, id uuid);
grant all on sessions_of to public;

/** A live session reads */
set local role authenticated;
insert into sessions_of select 'nora', tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select isnt_empty(
  $$ select 1 from public.calls where call_id = 'revoke-1' $$,
  'With a live session, the CSM reads her dealership''s calls'
);

/** Signed out: the session row is gone (GoTrue deletes it on logout) */
reset role;
delete from auth.sessions where id = (select id from sessions_of where name = 'nora');
set local role authenticated;
select is_empty(
  $$ select 1 from public.calls union all select 1 from public.events union all select 1 from public.call_reviews $$,
  'After sign-out, the old token reads no calls, events or reviews'
);
select is_empty(
  $$ select 1 from public.dealerships union all select 1 from public.user_dealerships $$,
  'After sign-out, the old token reads no dealerships or assignments'
);
select is_empty(
  $$ select 1 from public.profiles $$,
  'After sign-out, the old token reads no profiles, not even its own'
);
select throws_ok(
  $$ select public.review_call('toyota-braintree', 'revoke-1', 'reviewed') $$,
  '42501', 'your session has ended',
  'After sign-out, review_call refuses: the session has ended'
);
select throws_ok(
  $$ select public.request_reanalysis('toyota-braintree', 'revoke-1') $$,
  '42501', 'your session has ended',
  'After sign-out, request_reanalysis refuses too'
);
select is(
  (public.dealership_health(null, 24) -> 'current' ->> 'calls')::int,
  0,
  'After sign-out, dealership_health counts nothing'
);

/** Tokens without a valid session */
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000003", "role": "authenticated"}';
select is_empty(
  $$ select 1 from public.calls $$,
  'A token without a session_id reads nothing'
);
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000003", "role": "authenticated", "session_id": "not-a-uuid"}';
select is_empty(
  $$ select 1 from public.calls $$,
  'A malformed session_id reads nothing, and is no error'
);
insert into sessions_of select 'sam', tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select set_config('request.jwt.claims',
  json_build_object('sub', 'a0000000-0000-4000-8000-000000000003', 'role', 'authenticated',
                    'session_id', (select id from sessions_of where name = 'sam'))::text, true);
select is_empty(
  $$ select 1 from public.calls where dealership_id = 'toyota-braintree' $$,
  'Another user''s live session does not count as the CSM''s'
);

/** A session past its not_after */
insert into sessions_of select 'nora2', tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
reset role;
update auth.sessions set not_after = now() - interval '1 second' where id = (select id from sessions_of where name = 'nora2');
set local role authenticated;
select is_empty(
  $$ select 1 from public.calls $$,
  'A session past its not_after reads nothing'
);

/** Banned and deleted users */
insert into sessions_of select 'nora3', tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select isnt_empty(
  $$ select 1 from public.calls where call_id = 'revoke-1' $$,
  'A fresh session reads again'
);
reset role;
update auth.users set banned_until = now() + interval '1 day' where id = 'a0000000-0000-4000-8000-000000000003';
set local role authenticated;
select is_empty(
  $$ select 1 from public.calls $$,
  'A banned user reads nothing, even with a live session'
);
reset role;
update auth.users set banned_until = now() - interval '1 day' where id = 'a0000000-0000-4000-8000-000000000003';
set local role authenticated;
select isnt_empty(
  $$ select 1 from public.calls where call_id = 'revoke-1' $$,
  'A ban that has run out no longer blocks'
);
reset role;
update auth.users set deleted_at = now() where id = 'a0000000-0000-4000-8000-000000000003';
set local role authenticated;
select is_empty(
  $$ select 1 from public.calls $$,
  'A soft-deleted user reads nothing'
);
reset role;

/** Reporting logins: their mapping stands in for a session, the user checks still apply */
create role revoke_login in role reporting_reader;
insert into private.reporting_logins (login_name, user_id) values ('revoke_login', 'a0000000-0000-4000-8000-000000000002');
update auth.users set banned_until = now() + interval '1 day' where id = 'a0000000-0000-4000-8000-000000000002';
set local session authorization revoke_login;
select reporting.sign_in();
select is_empty(
  $$ select 1 from public.calls $$,
  'The reporting login of a banned manager reads nothing'
);
reset session authorization;

select * from finish();
rollback;
