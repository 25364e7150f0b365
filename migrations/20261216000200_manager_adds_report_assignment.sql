/**
 * A manager adds a dealership assignment for a CSM who reports to them (issue 16,
 * "Reassignment"): the dashboard's reassignment offers every CSM of the team, and
 * for one not yet on the call's dealership it offers to add that assignment first.
 *
 * `public.assign_dealership_to_report(p_user_id, p_dealership_id)` is the only
 * write to `user_dealerships` the API has; direct writes stay refused (RLS, no
 * grants). It adds, never removes, and only:
 * - for a signed-in manager with a live session (CSMs and admins are refused:
 *   admins assign in the admin console);
 * - for a CSM whose `manager_id` is the caller;
 * - on a dealership the caller already sees (their own or one of their reports'),
 *   so a manager cannot widen their team's reach to a dealership nobody of theirs
 *   is on.
 * It is idempotent: an assignment that exists is returned as it is.
 */

create function public.assign_dealership_to_report(
  p_user_id uuid,
  p_dealership_id text
) returns public.user_dealerships
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_actor uuid := auth.uid();
  v_row public.user_dealerships;
begin
  if v_actor is null then
    raise exception 'sign in first'
      using errcode = '42501';
  end if;
  if not private.session_is_active() then
    raise exception 'your session has ended'
      using errcode = '42501', hint = 'Sign in again.';
  end if;
  if private.user_role() is distinct from 'manager'::public.app_role then
    raise exception 'only managers can add a dealership assignment in the app'
      using errcode = '42501', hint = 'Admins assign dealerships in the admin console.';
  end if;
  if p_user_id is null or p_dealership_id is null then
    raise exception 'p_user_id and p_dealership_id are required'
      using errcode = '22023';
  end if;
  if not exists (
    select 1 from public.profiles p
     where p.user_id = p_user_id and p.manager_id = v_actor and p.role = 'csm'::public.app_role
  ) then
    raise exception 'you can only add assignments for CSMs who report to you'
      using errcode = '42501';
  end if;
  if not private.can_see_dealership(p_dealership_id) then
    -- Same answer whether or not the dealership exists: nothing leaks.
    raise exception 'you are not assigned to dealership %', p_dealership_id
      using errcode = '42501';
  end if;

  insert into public.user_dealerships (user_id, dealership_id)
  values (p_user_id, p_dealership_id)
  on conflict (user_id, dealership_id) do nothing;

  select ud.* into v_row
    from public.user_dealerships ud
   where ud.user_id = p_user_id and ud.dealership_id = p_dealership_id;
  return v_row;
end;
$$;

comment on function public.assign_dealership_to_report(uuid, text) is 'A manager assigns a CSM who reports to them to a dealership the manager already sees (their own or a report''s), so a review of it can be assigned to that CSM. Adds only; idempotent (an existing assignment is returned). Errors: 42501 not a signed-in manager, not their report, or a dealership outside their team; 22023 missing argument.';

revoke execute on function public.assign_dealership_to_report(uuid, text) from public, anon;
grant execute on function public.assign_dealership_to_report(uuid, text) to authenticated;

comment on table public.user_dealerships is 'Which dealerships a user is assigned to. Admins manage it in Studio; a manager can add (never remove) an assignment of a CSM who reports to them on a dealership of their team through public.assign_dealership_to_report. The API cannot write the table directly.';
