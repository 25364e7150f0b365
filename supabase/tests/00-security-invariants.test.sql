-- Structural guarantees that must hold for every table and function, present and
-- future: a new table without RLS, a write grant to the API roles, a write policy,
-- a view that bypasses RLS or an exposed helper fails this file.
begin;
select plan(27);

/** Row-level security everywhere the API can reach */
select is_empty(
  $$ select n.nspname || '.' || c.relname
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('public', 'reporting')
        and c.relkind in ('r', 'p')
        and not c.relrowsecurity $$,
  'Every table in the exposed schemas (public, reporting) has row-level security enabled'
);

select is_empty(
  $$ select n.nspname || '.' || c.relname
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('public', 'reporting')
        and c.relkind in ('v', 'm')
        and not coalesce('security_invoker=true' = any (c.reloptions), false) $$,
  'Every view in the exposed schemas runs with the caller''s rights (security_invoker), so RLS applies through it'
);

select is_empty(
  $$ select c.relname || ': ' || r.rolname || ' ' || p.priv
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
      cross join (values ('anon'), ('authenticated')) r (rolname)
      cross join (values ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) p (priv)
      where n.nspname in ('public', 'reporting')
        and c.relkind in ('r', 'p', 'v', 'm')
        and has_table_privilege(r.rolname, c.oid, p.priv) $$,
  'anon and authenticated hold no insert, update, delete or truncate privilege on any exposed table'
);

select is_empty(
  $$ select tablename || ': ' || policyname
       from pg_policies
      where schemaname in ('public', 'reporting')
        and cmd <> 'SELECT' $$,
  'No policy in the exposed schemas lets anyone write: writes go through functions or the service role'
);

select is_empty(
  $$ select tablename || ': ' || policyname
       from pg_policies
      where schemaname in ('public', 'reporting')
        and ('anon' = any (roles) or 'public' = any (roles)) $$,
  'No policy applies to anon or to every role'
);

select is_empty(
  $$ select p.oid::regprocedure::text
       from pg_proc p
       join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'private', 'reporting')
        and p.prosecdef
        and not exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%') $$,
  'Every security definer function pins its search_path'
);

select is_empty(
  $$ select p.oid::regprocedure::text || ': ' || coalesce(array_to_string(p.proconfig, ' '), 'no settings')
       from pg_proc p
       join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'private', 'reporting', 'tests')
        and (p.prosecdef or exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%'))
        and not exists (
          select 1
            from unnest(p.proconfig) c
           where c like 'search_path=%'
             and btrim(split_part(c, ',', array_length(string_to_array(c, ','), 1)), ' "') = 'pg_temp'
             and btrim(split_part(substr(c, length('search_path=') + 1), ',', 1), ' "') = 'pg_catalog') $$,
  'Every function that sets a search_path, and every security definer function, searches pg_catalog first and pg_temp last (an empty search_path still searches pg_temp first)'
);

select ok(
  not exists (
    select 1
      from pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
     where d.datname = current_database()
       and a.grantee = 0
       and a.privilege_type = 'TEMPORARY'),
  'PUBLIC may not create temporary objects in this database'
);
select ok(
  not has_database_privilege('reporting_reader', current_database(), 'TEMP'),
  'Reporting logins may not create temporary objects (no pg_temp shadowing)'
);

/** The private schema */
select ok(
  not has_schema_privilege('anon', 'private', 'usage'),
  'anon cannot use the private schema'
);
select ok(
  has_schema_privilege('authenticated', 'private', 'usage'),
  'authenticated can use the private schema, which its policies call into'
);
select ok(
  not has_function_privilege('authenticated', 'private.visible_dealership_ids_for(uuid)', 'execute'),
  'authenticated cannot ask which dealerships another user sees'
);
select ok(
  not has_function_privilege('authenticated', 'private.authorize_call_action(text, text)', 'execute'),
  'authenticated cannot call the internal authorization helper'
);
select ok(
  has_function_privilege('authenticated', 'private.visible_dealership_ids()', 'execute'),
  'authenticated can execute the visibility helper its policies use'
);
select set_eq(
  $$ select p.oid::regprocedure::text
       from pg_proc p
       join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'private'
        and has_function_privilege('authenticated', p.oid, 'execute') $$,
  array[
    -- what its policies call
    'private.user_role()', 'private.is_admin()', 'private.visible_dealership_ids()',
    'private.can_see_dealership(text)', 'private.team_member_ids()', 'private.visible_profile_ids()',
    -- what its security-invoker views call: the reporting calendar, the CSV cell guard
    'private.calendar(timestamp without time zone,timestamp without time zone,interval)',
    'private.csv_safe(text)',
    -- what the helpers call as the caller: the session check's claim parser
    'private.jwt_session_id()', 'private.session_is_active()',
    -- what the security-invoker RPCs call to bound their arguments
    'private.require_between(text,bigint,bigint,bigint)',
    'private.require_period(timestamp with time zone,timestamp with time zone,interval)'
  ],
  'authenticated may execute no other private function than the helpers its policies, security-invoker views and RPCs call (a new one must be revoked from public or listed here)'
);

/** Who may call the public functions */
select ok(
  has_function_privilege('authenticated', 'public.review_call(text, text, public.review_status, text)', 'execute'),
  'authenticated can call review_call'
);
select ok(
  has_function_privilege('authenticated', 'public.assign_review(text, text, uuid)', 'execute'),
  'authenticated can call assign_review'
);
select ok(
  has_function_privilege('authenticated', 'public.request_reanalysis(text, text)', 'execute'),
  'authenticated can call request_reanalysis'
);
select ok(
  not has_function_privilege('anon', 'public.review_call(text, text, public.review_status, text)', 'execute'),
  'anon cannot call review_call'
);
select ok(
  not has_function_privilege('anon', 'public.assign_review(text, text, uuid)', 'execute'),
  'anon cannot call assign_review'
);
select ok(
  not has_function_privilege('anon', 'public.request_reanalysis(text, text)', 'execute'),
  'anon cannot call request_reanalysis'
);
select ok(
  has_function_privilege('supabase_auth_admin', 'public.custom_access_token_hook(jsonb)', 'execute'),
  'supabase_auth_admin can run the access token hook'
);
select ok(
  not has_function_privilege('authenticated', 'public.custom_access_token_hook(jsonb)', 'execute')
    and not has_function_privilege('anon', 'public.custom_access_token_hook(jsonb)', 'execute'),
  'Neither authenticated nor anon can run the access token hook'
);
select is_empty(
  $$ select p.oid::regprocedure::text
       from pg_proc p
       join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public'
        and p.prorettype = 'trigger'::regtype
        and (has_function_privilege('anon', p.oid, 'execute')
             or has_function_privilege('authenticated', p.oid, 'execute')) $$,
  'No trigger function in public is executable by the API roles'
);

/** Foreign keys are indexed (cascades and joins stay fast at a million calls) */
select is_empty(
  $$ select c.conrelid::regclass::text || ': ' || c.conname
       from pg_constraint c
      where c.contype = 'f'
        and c.connamespace in (select oid from pg_namespace where nspname in ('public', 'reporting'))
        and not exists (
          select 1
            from pg_index i
           where i.indrelid = c.conrelid
             and i.indpred is null
             and (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] @> c.conkey
             and (i.indkey::int2[])[0:array_length(c.conkey, 1) - 1] <@ c.conkey) $$,
  'Every foreign key in the exposed schemas has an index that starts with its columns'
);

/** The tables the dashboard reads exist */
select has_table('public'::name, 'call_reviews'::name, 'call_reviews exists');
select has_table('public'::name, 'review_events'::name, 'review_events exists');

select * from finish();
rollback;
