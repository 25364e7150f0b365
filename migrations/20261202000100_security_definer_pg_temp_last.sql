/**
 * Security definer functions search `pg_temp` last, and nobody but the owner
 * creates temporary objects.
 *
 * An empty search_path (`set search_path = ''`) is not empty: Postgres still
 * searches the session's temporary schema FIRST for relations and types. A caller
 * who can run SQL (a reporting login, or `authenticated` through any SQL path)
 * could create `pg_temp.text` as a domain whose check runs their own function, and
 * every unqualified `text` in a security definer body would then run that
 * function as the owner (PostgreSQL docs, "Writing SECURITY DEFINER Functions
 * Safely"). Naming `pg_temp` explicitly, and last, closes it: `pg_catalog` is
 * searched first, so `text`, `uuid`, `now()` and friends always mean the real
 * ones, and every name of ours is already schema-qualified.
 *
 * Rule for every later migration: every function says
 * `set search_path = pg_catalog, pg_temp` (a security definer one must) and
 * schema-qualifies every name outside pg_catalog. 00-security-invariants.test.sql
 * fails for any that does not, and 10-pg-temp-shadowing.test.sql attacks them.
 */

/** Every security definer function of ours (migrations 0100-0700) */
alter function public.mirror_latest_analysis() set search_path = pg_catalog, pg_temp;
alter function public.mirror_review_status() set search_path = pg_catalog, pg_temp;
alter function public.open_review_for_flagged_call() set search_path = pg_catalog, pg_temp;
alter function private.user_role() set search_path = pg_catalog, pg_temp;
alter function private.is_admin() set search_path = pg_catalog, pg_temp;
alter function private.visible_dealership_ids_for(uuid) set search_path = pg_catalog, pg_temp;
alter function private.visible_dealership_ids() set search_path = pg_catalog, pg_temp;
alter function private.can_see_dealership(text) set search_path = pg_catalog, pg_temp;
alter function private.team_member_ids() set search_path = pg_catalog, pg_temp;
alter function private.visible_profile_ids() set search_path = pg_catalog, pg_temp;
alter function private.handle_new_user() set search_path = pg_catalog, pg_temp;
alter function private.authorize_call_action(text, text) set search_path = pg_catalog, pg_temp;
alter function public.review_call(text, text, public.review_status, text) set search_path = pg_catalog, pg_temp;
alter function public.assign_review(text, text, uuid) set search_path = pg_catalog, pg_temp;
alter function public.request_reanalysis(text, text) set search_path = pg_catalog, pg_temp;
alter function private.reporting_login_ok() set search_path = pg_catalog, pg_temp;
alter function reporting.sign_in() set search_path = pg_catalog, pg_temp;
alter function private.check_dealership_timezone() set search_path = pg_catalog, pg_temp;

/** Functions that run inside them */
-- Not security definer, but they run with the owner's rights whenever a security
-- definer function calls them or fires them: the trigger that notifies the worker
-- fires inside request_reanalysis, the transition table is read by review_call.
-- The API functions and helpers are included so that one rule holds for every
-- function of ours: if it sets a search_path, pg_temp is last.
alter function public.notify_analysis_job() set search_path = pg_catalog, pg_temp;
alter function private.review_transition_allowed(public.review_status, public.review_status) set search_path = pg_catalog, pg_temp;
alter function public.custom_access_token_hook(jsonb) set search_path = pg_catalog, pg_temp;
alter function public.dealership_health(text, integer) set search_path = pg_catalog, pg_temp;
alter function private.calendar(timestamp, timestamp, interval) set search_path = pg_catalog, pg_temp;
alter function public.team_csm_stats(timestamptz, timestamptz, text) set search_path = pg_catalog, pg_temp;
alter function public.team_dealership_stats(timestamptz, timestamptz, uuid) set search_path = pg_catalog, pg_temp;
alter function public.team_daily_flow(timestamptz, timestamptz, uuid, text) set search_path = pg_catalog, pg_temp;

/** No temporary objects for anyone but the owner */
-- Nothing the API roles or the reporting logins run needs a temporary table, and
-- without TEMP a reporting login cannot even attempt the shadowing above. They
-- only ever had it through PUBLIC. The database owner keeps TEMP (it owns the
-- database), so migrations still work. On hosted Supabase, where the database may
-- belong to another role, this revoke may only warn: docs/security.md says how to
-- check, and the search_path above is what holds either way.
do $$
begin
  execute format('revoke temporary on database %I from public', current_database());
end
$$;
