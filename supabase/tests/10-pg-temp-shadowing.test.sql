-- The pg_temp hijack, attempted. A caller who can run SQL shadows the types
-- `text` and `uuid` and our enums with domains whose check runs the caller's own
-- function, and shadows the tables our helpers read with temporary tables, then
-- calls every security definer function it can reach. Nothing may run as the
-- owner: each function's search_path is `pg_catalog, pg_temp` (migration
-- 20261202000100), so `text` means pg_catalog.text and `public.profiles` the real
-- table. A control function with the old empty search_path shows that the trap
-- really is armed and would fire as the owner.
--
-- The attackers: a signed-in CSM (`authenticated`) and a manager's reporting login.
-- Both get TEMP inside this transaction only: in production nobody but the owner
-- has it (00-security-invariants checks that), but the search_path must hold even
-- where it is granted.
begin;
select plan(15);

/** Fixtures */
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, transcript, transcript_sha256)
values ('toyota-braintree', 'shadow-1', now() - interval '1 hour', now(), 'Agent: Hello. User: My brakes squeal.', md5('shadow-1'));
-- A good verdict (no review yet), so label_call has an analysis to correct.
insert into public.call_analyses
  (dealership_id, call_id, analysis, verdict, score, flags, recommended_action, confidence, status, model, prompt_version)
values ('toyota-braintree', 'shadow-1', '{}', 'good', 90, '{}', 'none', 0.9, 'ok', 'heuristic-v1', 'pgtap');

create temp table hits (who pg_catalog.text, phase pg_catalog.text);
grant all on hits to public;
create function pg_temp.trap(v pg_catalog.text) returns boolean
language plpgsql
as $$
begin
  insert into pg_temp.hits values (current_user::pg_catalog.text, pg_catalog.current_setting('pgtap.phase', true));
  return true;
end;
$$;
grant execute on function pg_temp.trap(pg_catalog.text) to public;

-- The old style, for the control: security definer with an empty search_path.
create function private.shadow_control_empty_path() returns pg_catalog.text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v text := 'looked up';
begin
  return v;
end;
$$;
grant execute on function private.shadow_control_empty_path() to authenticated, reporting_reader;

create temp table owner (name pg_catalog.text);
insert into owner select pg_get_userbyid(p.proowner) from pg_proc p where p.oid = 'private.user_role'::regproc;
grant select on owner to public;

create role shadow_login login in role reporting_reader;
insert into private.reporting_logins (login_name, user_id) values ('shadow_login', 'a0000000-0000-4000-8000-000000000002');
create temp table results (who pg_catalog.text, what pg_catalog.text, value pg_catalog.text);
grant all on results to public;

/** A reporting login has no TEMP: it cannot even set the trap */
set local session authorization shadow_login;
select throws_ok(
  $$ create temp table pg_temp.attempt (a integer) $$,
  '42501', null,
  'A reporting login cannot create temporary objects'
);
reset session authorization;
-- From here on it may, as if an operator had granted TEMP by mistake.
do $$ begin execute format('grant temporary on database %I to shadow_login', current_database()); end $$;

/** Nora North (csm) sets the trap and calls what she can reach (phases csm-*) */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
create domain pg_temp.text as pg_catalog.text check (pg_temp.trap(value));
create domain pg_temp.uuid as pg_catalog.uuid check (pg_temp.trap(value::pg_catalog.text));
create domain pg_temp.review_status as public.review_status check (pg_temp.trap(value::pg_catalog.text));
create domain pg_temp.app_role as public.app_role check (pg_temp.trap(value::pg_catalog.text));
create temp table profiles (user_id pg_catalog.uuid, role pg_catalog.text, manager_id pg_catalog.uuid, full_name pg_catalog.text);
insert into profiles values ('a0000000-0000-4000-8000-000000000003', 'admin', null, 'Nora North');
create temp table user_dealerships (user_id pg_catalog.uuid, dealership_id pg_catalog.text);
insert into user_dealerships values ('a0000000-0000-4000-8000-000000000003', 'kia-hingham');
create temp table calls (dealership_id pg_catalog.text, call_id pg_catalog.text);
insert into calls values ('kia-hingham', 'shadow-1');

select set_config('pgtap.phase', 'csm-arm', true);
select 'armed'::text;

select set_config('pgtap.phase', 'csm-targets', true);
insert into results select 'csm', 'user_role', private.user_role()::pg_catalog.text;
insert into results select 'csm', 'is_admin', private.is_admin()::pg_catalog.text;
insert into results select 'csm', 'visible', private.visible_dealership_ids()::pg_catalog.text;
insert into results select 'csm', 'can_see_kia', private.can_see_dealership('kia-hingham')::pg_catalog.text;
insert into results select 'csm', 'team', pg_catalog.array_length(private.team_member_ids(), 1)::pg_catalog.text;
insert into results select 'csm', 'profiles', pg_catalog.array_length(private.visible_profile_ids(), 1)::pg_catalog.text;
insert into results select 'csm', 'session', private.session_is_active()::pg_catalog.text;
insert into results select 'csm', 'review', (public.review_call('toyota-braintree', 'shadow-1', 'follow_up_needed', 'shadow note')).status::pg_catalog.text;
-- review_call claimed the review for her (acting claims), so assign_review releases it.
insert into results select 'csm', 'assign', coalesce((public.assign_review('toyota-braintree', 'shadow-1', null)).assignee_id::pg_catalog.text, 'released');
insert into results select 'csm', 'label', (public.label_call('toyota-braintree', 'shadow-1', 'bad', '{customer_upset}', 'shadow reason')).kind;
insert into results select 'csm', 'comment', (public.comment_on_review('toyota-braintree', 'shadow-1', 'shadow comment')).kind;
insert into results select 'csm', 'reanalysis', (public.request_reanalysis('toyota-braintree', 'shadow-1') is not null)::pg_catalog.text;
insert into results select 'csm', 'calls', pg_catalog.count(*)::pg_catalog.text from public.calls where call_id = 'shadow-1';

select set_config('pgtap.phase', 'csm-control', true);
insert into results select 'csm', 'control', private.shadow_control_empty_path();

select set_config('pgtap.phase', 'done', true);
drop table profiles, user_dealerships, calls;
drop domain pg_temp.text, pg_temp.uuid, pg_temp.review_status, pg_temp.app_role;
reset role;

/** Morgan Manager's reporting login does the same (phases login-*) */
set local session authorization shadow_login;
create domain pg_temp.text as pg_catalog.text check (pg_temp.trap(value));
create domain pg_temp.uuid as pg_catalog.uuid check (pg_temp.trap(value::pg_catalog.text));
create domain pg_temp.app_role as public.app_role check (pg_temp.trap(value::pg_catalog.text));
create temp table reporting_logins (login_name pg_catalog.text, user_id pg_catalog.uuid);
insert into reporting_logins values ('shadow_login', 'a0000000-0000-4000-8000-000000000001');

select set_config('pgtap.phase', 'login-arm', true);
select 'armed'::text;

select set_config('pgtap.phase', 'login-targets', true);
insert into results select 'login', 'sign_in', reporting.sign_in();
insert into results select 'login', 'login_ok', private.reporting_login_ok()::pg_catalog.text;
insert into results select 'login', 'visible', private.visible_dealership_ids()::pg_catalog.text;
insert into results select 'login', 'backlog', pg_catalog.count(*)::pg_catalog.text from reporting.backlog;

select set_config('pgtap.phase', 'login-control', true);
insert into results select 'login', 'control', private.shadow_control_empty_path();

select set_config('pgtap.phase', 'done', true);
drop table reporting_logins;
drop domain pg_temp.text, pg_temp.uuid, pg_temp.app_role;
reset session authorization;

/** What happened */
select ok(
  exists (select 1 from hits where phase = 'csm-arm' and who = 'authenticated'),
  'The CSM''s trap is armed: an unqualified text in her own SQL runs it'
);
select is_empty(
  $$ select who from hits where phase = 'csm-targets' and who <> 'authenticated' $$,
  'No security definer function the CSM called ran her trap as its owner'
);
select ok(
  exists (select 1 from hits where phase = 'csm-control' and who = (select name from owner)),
  'Control: a security definer function with an empty search_path would have run the CSM''s trap as the owner'
);
select ok(
  exists (select 1 from hits where phase = 'login-arm' and who = 'shadow_login'),
  'The reporting login''s trap is armed'
);
select is_empty(
  $$ select who from hits where phase = 'login-targets' and who <> 'shadow_login' $$,
  'No security definer function the reporting login called ran its trap as the owner'
);
select ok(
  exists (select 1 from hits where phase = 'login-control' and who = (select name from owner)),
  'Control: the empty search_path would have run the reporting login''s trap as the owner too'
);
select is(
  (select value from results where who = 'csm' and what = 'user_role'),
  'csm',
  'A temporary profiles table does not make the CSM an admin'
);
select is(
  (select value from results where who = 'csm' and what = 'visible'),
  '{honda-quincy,toyota-braintree}',
  'A temporary user_dealerships table does not widen what the CSM sees'
);
select is(
  (select value from results where who = 'csm' and what = 'can_see_kia'),
  'false',
  'The CSM still cannot see the unassigned dealership'
);
select is(
  (select value from results where who = 'csm' and what = 'review'),
  'follow_up_needed',
  'review_call still works on the real tables under the shadowing'
);
select is(
  (select value from results where who = 'csm' and what = 'calls'),
  '1',
  'public.calls is the real table for the CSM, under RLS'
);
select is(
  (select value from results where who = 'login' and what = 'sign_in'),
  'reading as Morgan Manager (manager)',
  'A temporary reporting_logins table does not let the login sign in as the admin'
);
select is(
  (select value from results where who = 'login' and what = 'visible'),
  '{ford-weymouth,honda-quincy,nissan-plymouth,toyota-braintree}',
  'The reporting login sees its manager''s dealerships, not the admin''s'
);
select is(
  (select value from results where who = 'csm' and what = 'session'),
  'true',
  'The CSM''s session check read the real auth.sessions'
);

select * from finish();
rollback;
