/**
 * Sign-out revokes access at once, as Supabase documents for strict sign-out.
 *
 * An access token is a signed JWT that stays valid until it expires (up to an
 * hour). Signing out deletes the token's row in auth.sessions (GoTrue and the
 * local stand-in both do), so row-level security now also asks for a live
 * session: the token's `session_id` claim must name an auth.sessions row of the
 * same user that has not passed its `not_after`, and the user must exist, not be
 * soft-deleted and not be banned. Otherwise every helper below answers "nothing":
 * no role, no dealerships, no team, no profiles, and the review functions refuse
 * with 42501 "your session has ended".
 *
 * Reporting logins (docs/reporting.md) have no auth session: for them the login's
 * mapping in private.reporting_logins stands in for it, and the user checks
 * (deleted, banned) still apply.
 *
 * Cost: the check is two primary-key lookups inside the helpers that policies call
 * as `(select private.visible_dealership_ids())`, which Postgres evaluates once per
 * statement, so it does not grow with the number of rows read.
 */

/** The session check */
create function private.jwt_session_id() returns uuid
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
  -- A malformed claim means "no session", never an error.
  select case
    when s ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then s::uuid
  end
    from (select auth.jwt() ->> 'session_id' as s) claim
$$;
comment on function private.jwt_session_id() is 'The session_id claim of the current request''s JWT as a uuid; null when absent or malformed.';

-- plpgsql rather than sql: its query plan is cached for the session, where a sql
-- function that cannot be inlined is planned again on every call (measured with
-- pgbench: +0.5-1.0 ms per statement instead of +2.4-2.9 ms).
create function private.session_is_active() returns boolean
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return exists (
    select 1
      from auth.users u
     where u.id = auth.uid()
       and u.deleted_at is null
       and (u.banned_until is null or u.banned_until <= now())
       and (
         exists (
           select 1
             from auth.sessions s
            where s.id = private.jwt_session_id()
              and s.user_id = u.id
              and (s.not_after is null or s.not_after > now()))
         or exists (
           select 1
             from private.reporting_logins l
            where l.login_name = session_user::text
              and l.user_id = u.id)
       )
  );
end;
$$;
comment on function private.session_is_active() is 'True when the request''s user exists, is neither deleted nor banned, and either its JWT session_id names a live auth.sessions row of that user or the session is that user''s mapped reporting login. False after sign-out: every visibility helper then answers nothing.';

revoke execute on function private.jwt_session_id(), private.session_is_active() from public, anon;
grant execute on function private.jwt_session_id(), private.session_is_active() to authenticated, reporting_reader;

/** Every helper that reads auth.uid() asks it first */
create or replace function private.user_role() returns public.app_role
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select p.role
    from public.profiles p
   where p.user_id = auth.uid()
     and (select private.session_is_active())
$$;

create or replace function private.visible_dealership_ids() returns text[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select case
    when (select private.session_is_active()) then private.visible_dealership_ids_for(auth.uid())
    else '{}'::text[]
  end
$$;

create or replace function private.team_member_ids() returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select coalesce((
    select case p.role
      when 'admin' then array(select a.user_id from public.profiles a)
      when 'manager' then array(
        select p.user_id
        union
        select r.user_id from public.profiles r where r.manager_id = p.user_id)
      else array[p.user_id]
    end
      from public.profiles p
     where p.user_id = auth.uid()
       and (select private.session_is_active())
  ), '{}'::uuid[])
$$;

create or replace function private.visible_profile_ids() returns uuid[]
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  with me as (
    select p.user_id, p.role, p.manager_id
      from public.profiles p
     where p.user_id = auth.uid()
       and (select private.session_is_active())
  ),
  colleagues as (
    select ud.user_id
      from public.user_dealerships ud
     where ud.dealership_id = any (private.visible_dealership_ids())
  )
  select case
    when (select me.role from me) = 'admin' then array(select a.user_id from public.profiles a)
    else array(
      select me.user_id from me
      union
      select me.manager_id from me where me.manager_id is not null
      union
      select r.user_id from public.profiles r join me on me.role = 'manager' and r.manager_id = me.user_id
      union
      select c.user_id from colleagues c
      union
      select cp.manager_id
        from public.profiles cp
        join colleagues c on c.user_id = cp.user_id
       where cp.manager_id is not null)
  end
$$;

create or replace function private.authorize_call_action(p_dealership_id text, p_call_id text)
returns public.app_role
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_role public.app_role;
begin
  if auth.uid() is null then
    raise exception 'sign in first'
      using errcode = '42501';
  end if;
  if not private.session_is_active() then
    -- Signed out, banned or deleted: the token outlived the session it was issued for.
    raise exception 'your session has ended'
      using errcode = '42501', hint = 'Sign in again.';
  end if;
  v_role := private.user_role();
  if v_role is null then
    raise exception 'your account has no profile'
      using errcode = '42501', hint = 'Ask an admin to set up your profile.';
  end if;
  if v_role = 'admin' then
    raise exception 'admins have read-only access in the app'
      using errcode = '42501', hint = 'Review as a csm or manager account.';
  end if;
  if not private.can_see_dealership(p_dealership_id) then
    -- Same answer whether or not the dealership exists: nothing leaks.
    raise exception 'you are not assigned to dealership %', p_dealership_id
      using errcode = '42501';
  end if;
  if not exists (
    select 1 from public.calls c where c.dealership_id = p_dealership_id and c.call_id = p_call_id
  ) then
    raise exception 'call % of dealership % not found', p_call_id, p_dealership_id
      using errcode = 'PT404';
  end if;
  return v_role;
end;
$$;
