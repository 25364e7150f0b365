-- The planner settings of the dashboard's role (migration 20261215000100: jit,
-- plan_cache_mode, random_page_cost):
-- PostgREST applies the impersonated role's `alter role ... set` settings to each
-- request, so these decide how every dashboard query is planned. (That PostgREST
-- really applies them is shown by the benchmark's plans, which PostgREST explains
-- with `options=settings`: docs/performance.md.)
begin;
select plan(6);

select is(
  (select split_part(c, '=', 2)
     from pg_db_role_setting s
     join pg_roles r on r.oid = s.setrole
     cross join unnest(s.setconfig) c
    where r.rolname = 'authenticated' and s.setdatabase = 0 and c like 'jit=%'),
  'off',
  'authenticated runs without JIT compilation (its queries are short; compiling never paid back)'
);
select is(
  (select split_part(c, '=', 2)
     from pg_db_role_setting s
     join pg_roles r on r.oid = s.setrole
     cross join unnest(s.setconfig) c
    where r.rolname = 'authenticated' and s.setdatabase = 0 and c like 'plan_cache_mode=%'),
  'force_custom_plan',
  'authenticated plans every prepared statement with its values (no generic plans)'
);
select is(
  (select split_part(c, '=', 2)
     from pg_db_role_setting s
     join pg_roles r on r.oid = s.setrole
     cross join unnest(s.setconfig) c
    where r.rolname = 'authenticated' and s.setdatabase = 0 and c like 'random_page_cost=%'),
  '1.1',
  'authenticated costs a page read out of order like a page in memory or on SSD (random_page_cost 1.1)'
);
select is(
  (select split_part(c, '=', 2)
     from pg_db_role_setting s
     join pg_roles r on r.oid = s.setrole
     cross join unnest(s.setconfig) c
    where r.rolname = 'authenticated' and s.setdatabase = 0 and c like 'statement_timeout=%'),
  '8s',
  'authenticated keeps its 8 s statement timeout beside the new settings'
);
select is_empty(
  $$ select r.rolname || ': ' || c
       from pg_db_role_setting s
       join pg_roles r on r.oid = s.setrole
      cross join unnest(s.setconfig) c
      where r.rolname in ('anon', 'service_role', 'postgres', 'reporting_reader')
        and (c like 'jit=%' or c like 'plan_cache_mode=%' or c like 'random_page_cost=%') $$,
  'No other role changes its planner settings: the api, the worker, Studio and anon keep the server''s'
);
-- A setting applied by the role is what a signed-in request sees; pin that the
-- value is a valid one for this server (a typo would make PostgREST fail the
-- request with "invalid value for parameter").
select ok(
  (select 'force_custom_plan' = any (enumvals) from pg_settings where name = 'plan_cache_mode'),
  'force_custom_plan is a value this Postgres accepts for plan_cache_mode'
);

select * from finish();
rollback;
