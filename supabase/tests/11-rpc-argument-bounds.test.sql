-- Arguments that size work are bounded, and out-of-range values are refused with
-- 22023 (PostgREST: 400) and a message that names the argument and its range.
-- The API roles carry Supabase's statement timeouts.
begin;
select plan(17);

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');

/** dealership_health: p_hours between 1 and 2160 */
select lives_ok(
  $$ select public.dealership_health(null, 24) $$,
  'dealership_health accepts 24 hours'
);
select lives_ok(
  $$ select public.dealership_health('toyota-braintree', 2160) $$,
  'dealership_health accepts 90 days (2160 hours), the upper bound'
);
select throws_ok(
  $$ select public.dealership_health(null, 1000000) $$,
  '22023', 'p_hours must be between 1 and 2160 (got 1000000)',
  'dealership_health refuses a million hours with a message naming the argument and its range'
);
select throws_ok(
  $$ select public.dealership_health(null, 2161) $$,
  '22023', 'p_hours must be between 1 and 2160 (got 2161)',
  'dealership_health refuses one hour more than 90 days'
);
select throws_ok(
  $$ select public.dealership_health(null, 0) $$,
  '22023', 'p_hours must be between 1 and 2160 (got 0)',
  'dealership_health refuses zero hours'
);
select throws_ok(
  $$ select public.dealership_health(null, -5) $$,
  '22023', 'p_hours must be between 1 and 2160 (got -5)',
  'dealership_health refuses negative hours'
);
select throws_ok(
  $$ select public.dealership_health(null, null) $$,
  '22023', 'p_hours must be between 1 and 2160 (got null)',
  'dealership_health refuses a null p_hours'
);

/** The team overview: a period of at most 366 days, p_from before p_to */
select lives_ok(
  $$ select * from public.team_csm_stats(now() - interval '7 days', now()) $$,
  'team_csm_stats accepts the last 7 days'
);
select lives_ok(
  $$ select * from public.team_daily_flow(now() - interval '366 days', now()) $$,
  'team_daily_flow accepts 366 days, the upper bound'
);
select throws_ok(
  $$ select * from public.team_daily_flow('0001-01-01', '9999-01-01') $$,
  '22023', null,
  'team_daily_flow refuses a period of thousands of years'
);
select throws_like(
  $$ select * from public.team_csm_stats(now() - interval '400 days', now()) $$,
  'p_from and p_to must be at most 366 days apart%',
  'team_csm_stats refuses 400 days, saying the limit'
);
select throws_ok(
  $$ select * from public.team_dealership_stats(now(), now() - interval '1 day') $$,
  '22023', null,
  'team_dealership_stats refuses p_to before p_from'
);
select throws_like(
  $$ select * from public.team_dealership_stats(now(), now()) $$,
  'p_from must be before p_to%',
  'team_dealership_stats refuses an empty period'
);
select throws_ok(
  $$ select * from public.team_daily_flow(null, now()) $$,
  '22023', 'p_from and p_to are required',
  'team_daily_flow refuses a missing p_from'
);
select throws_ok(
  $$ select * from public.team_csm_stats(now() - interval '1 day', null) $$,
  '22023', 'p_from and p_to are required',
  'team_csm_stats refuses a missing p_to'
);
reset role;

/** Statement timeouts, as Supabase sets them */
select is(
  (select split_part(c, '=', 2)
     from pg_db_role_setting s
     join pg_roles r on r.oid = s.setrole
     cross join unnest(s.setconfig) c
    where r.rolname = 'authenticated' and s.setdatabase = 0 and c like 'statement_timeout=%'),
  '8s',
  'authenticated has an 8 s statement timeout'
);
select is(
  (select split_part(c, '=', 2)
     from pg_db_role_setting s
     join pg_roles r on r.oid = s.setrole
     cross join unnest(s.setconfig) c
    where r.rolname = 'anon' and s.setdatabase = 0 and c like 'statement_timeout=%'),
  '3s',
  'anon has a 3 s statement timeout'
);

select * from finish();
rollback;
