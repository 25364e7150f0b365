/**
 * Access control: who may read and change what.
 *
 * - Role and assignment lookups live in schema `private` (not exposed through the
 *   API) as `security definer` helpers. Policies call them wrapped in `(select ...)`
 *   so they run once per statement, and they read `profiles` / `user_dealerships`
 *   (never the token's role claim), so an admin's change in Studio applies to the
 *   next statement.
 * - Every public table gets read policies for `authenticated` only (plus the auth
 *   hook's read of profiles). Nobody but the service role (bypassrls) and the
 *   database owner writes ingest, analysis, people or assignment data; the write
 *   privileges are revoked as well (defense in depth).
 * - Reviews change only through `public.review_call()` / `public.assign_review()`,
 *   which write `call_reviews` and `review_events` in one statement.
 * - `public.request_reanalysis()` lets a CSM or manager queue a fresh analysis.
 * - `public.custom_access_token_hook()` adds the `user_role` claim for the UI.
 * - A trigger on `auth.users` creates each new user's profile (csm, no dealerships).
 * - The trigger that opens a review for a flagged analysis now audits it too.
 *
 * Error codes raised by the public functions (PostgREST turns them into HTTP):
 *   42501 not allowed (403), PT404 call not found (404),
 *   22023 invalid argument such as missing notes (400),
 *   P0001 not possible in the current state, e.g. a refused transition (400).
 */

/** Private schema */
create schema if not exists private;
comment on schema private is 'Helpers for row-level security and the public functions. Not exposed through the API; authenticated may only execute the helpers its policies call.';
revoke all on schema private from public;
-- Policies run with the querying role's privileges, so it must reach the helpers.
grant usage on schema private to authenticated;

/** Role and visibility helpers */
create function private.user_role() returns public.app_role
language sql
stable
security definer
set search_path = ''
as $$
  select p.role from public.profiles p where p.user_id = auth.uid()
$$;
comment on function private.user_role() is 'The current user''s role from profiles (null without a profile). Never read from the token.';

create function private.is_admin() returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(private.user_role() = 'admin', false)
$$;
comment on function private.is_admin() is 'True when the current user''s profile says admin.';

-- Takes a user id because the assignment function also asks it about the assignee.
-- Not granted to authenticated: it would reveal anyone's assignments.
create function private.visible_dealership_ids_for(p_user_id uuid) returns text[]
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((
    select case p.role
      when 'admin' then array(select d.id from public.dealerships d order by d.id)
      when 'manager' then array(
        select distinct ud.dealership_id
          from public.user_dealerships ud
         where ud.user_id = p.user_id
            or ud.user_id in (select r.user_id from public.profiles r where r.manager_id = p.user_id)
         order by 1)
      else array(
        select ud.dealership_id
          from public.user_dealerships ud
         where ud.user_id = p.user_id
         order by 1)
    end
      from public.profiles p
     where p.user_id = p_user_id
  ), '{}'::text[])
$$;
comment on function private.visible_dealership_ids_for(uuid) is 'Dealerships a user may see: csm = own assignments; manager = own plus those of everyone whose manager_id is them; admin = all; no profile = none.';

create function private.visible_dealership_ids() returns text[]
language sql
stable
security definer
set search_path = ''
as $$
  select private.visible_dealership_ids_for(auth.uid())
$$;
comment on function private.visible_dealership_ids() is 'Dealerships the current user may see. Policies use it as dealership_id = any ((select private.visible_dealership_ids())::text[]), which the planner evaluates once per statement and can match against indexes.';

create function private.can_see_dealership(p_dealership_id text) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(p_dealership_id = any (private.visible_dealership_ids()), false)
$$;
comment on function private.can_see_dealership(text) is 'True when the current user may see the dealership.';

create function private.team_member_ids() returns uuid[]
language sql
stable
security definer
set search_path = ''
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
  ), '{}'::uuid[])
$$;
comment on function private.team_member_ids() is 'Whose assignments the current user may read: themself; a manager also their direct reports; an admin everyone.';

create function private.visible_profile_ids() returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
  with me as (
    select p.user_id, p.role, p.manager_id from public.profiles p where p.user_id = auth.uid()
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
comment on function private.visible_profile_ids() is 'Profiles the current user may read (names shown as assignees and authors): themself, their manager, their direct reports (managers), everyone assigned to a dealership they see and those people''s managers; an admin everyone.';

revoke execute on all functions in schema private from public, anon, authenticated;
grant execute on function
  private.user_role(),
  private.is_admin(),
  private.visible_dealership_ids(),
  private.can_see_dealership(text),
  private.team_member_ids(),
  private.visible_profile_ids()
to authenticated;

/** Table privileges: the API roles read, RLS filters; only the owner and the service role write */
revoke insert, update, delete, truncate, references, trigger on all tables in schema public from anon, authenticated;
revoke all on all sequences in schema public from anon, authenticated;
grant select on all tables in schema public to anon, authenticated;

/** Indexes the policies need */
-- Every policy filters on dealership_id. analysis_jobs only had a partial index on
-- (dealership_id, call_id); this one also serves its foreign key to calls.
create index analysis_jobs_call_idx on public.analysis_jobs (dealership_id, call_id, id desc);

/** Read policies (anon has none: it reads nothing) */
-- "Their dealerships" = private.visible_dealership_ids(): a csm's own, a manager's
-- own plus their reports', an admin's all. Rows whose dealership could not be
-- resolved (events, processing_errors) are for admins only.
create policy "Users can view dealerships of their team; admins all"
  on public.dealerships for select to authenticated
  using (id = any ((select private.visible_dealership_ids())::text[]));

create policy "Users can view profiles of themselves and their colleagues"
  on public.profiles for select to authenticated
  using (user_id = any ((select private.visible_profile_ids())::uuid[]));

create policy "Users can view their own and their team's assignments"
  on public.user_dealerships for select to authenticated
  using (user_id = any ((select private.team_member_ids())::uuid[]));

create policy "Users can view events of their dealerships"
  on public.events for select to authenticated
  using (
    dealership_id = any ((select private.visible_dealership_ids())::text[])
    or (dealership_id is null and (select private.is_admin()))
  );

create policy "Users can view calls of their dealerships"
  on public.calls for select to authenticated
  using (dealership_id = any ((select private.visible_dealership_ids())::text[]));

create policy "Users can view analysis jobs of their dealerships"
  on public.analysis_jobs for select to authenticated
  using (dealership_id = any ((select private.visible_dealership_ids())::text[]));

create policy "Users can view analyses of their dealerships' calls"
  on public.call_analyses for select to authenticated
  using (dealership_id = any ((select private.visible_dealership_ids())::text[]));

create policy "Users can view processing errors of their dealerships"
  on public.processing_errors for select to authenticated
  using (
    dealership_id = any ((select private.visible_dealership_ids())::text[])
    or (dealership_id is null and (select private.is_admin()))
  );

create policy "Users can view reviews of their dealerships' calls"
  on public.call_reviews for select to authenticated
  using (dealership_id = any ((select private.visible_dealership_ids())::text[]));

create policy "Users can view review history of their dealerships' calls"
  on public.review_events for select to authenticated
  using (dealership_id = any ((select private.visible_dealership_ids())::text[]));

/** Access token hook (Supabase RBAC guide) */
create function public.custom_access_token_hook(event jsonb) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  claims jsonb;
  v_role public.app_role;
begin
  select p.role into v_role from public.profiles p where p.user_id = (event ->> 'user_id')::uuid;
  claims := coalesce(event -> 'claims', '{}'::jsonb);
  -- A user without a profile is treated as what the trigger would have made them.
  claims := jsonb_set(claims, '{user_role}', to_jsonb(coalesce(v_role, 'csm'::public.app_role)));
  return jsonb_set(event, '{claims}', claims);
end;
$$;
comment on function public.custom_access_token_hook(jsonb) is 'Supabase Auth custom access token hook: adds the user_role claim (csm | manager | admin) from profiles. For the UI only; RLS reads profiles itself.';

grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
revoke execute on function public.custom_access_token_hook(jsonb) from authenticated, anon, public;
grant select on table public.profiles to supabase_auth_admin;

create policy "Auth admin can read roles"
  on public.profiles for select to supabase_auth_admin
  using (true);

/** Profiles for new users */
create function private.handle_new_user() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (user_id, full_name, role)
  values (
    new.id,
    coalesce(nullif(btrim(new.raw_user_meta_data ->> 'full_name'), ''), new.email, ''),
    'csm'
  )
  on conflict (user_id) do nothing;
  return new;
end;
$$;
comment on function private.handle_new_user() is 'Creates the profile of a new auth user: role csm, no dealerships, name from user metadata full_name or the email.';

create trigger on_auth_user_created
after insert on auth.users
for each row execute function private.handle_new_user();

/** Reviews: transitions, authorization, the two functions that change them */
create function private.review_transition_allowed(
  p_from public.review_status,
  p_to public.review_status
) returns boolean
language sql
immutable
set search_path = ''
as $$
  select case
    -- No review yet: a person may open one (flag the call) or record any outcome.
    when p_from is null then p_to is not null
    when p_from = p_to then false
    -- Re-open from any other state.
    when p_to = 'open' then true
    when p_from = 'open' then p_to in ('reviewed', 'follow_up_needed', 'resolved', 'escalated')
    when p_from = 'reviewed' then p_to in ('follow_up_needed', 'resolved', 'escalated')
    when p_from = 'follow_up_needed' then p_to in ('reviewed', 'resolved', 'escalated')
    when p_from = 'escalated' then p_to in ('follow_up_needed', 'resolved')
    -- resolved only re-opens (handled above).
    else false
  end
$$;
comment on function private.review_transition_allowed(public.review_status, public.review_status) is 'The review workflow: open -> reviewed|follow_up_needed|resolved|escalated; reviewed -> follow_up_needed|resolved|escalated; follow_up_needed -> reviewed|resolved|escalated; escalated -> follow_up_needed|resolved; any other state -> open (re-open); never to the same state.';

-- Shared checks of the public functions. Raises instead of returning false so every
-- caller refuses with the same codes and messages.
create function private.authorize_call_action(p_dealership_id text, p_call_id text)
returns public.app_role
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_role public.app_role;
begin
  if auth.uid() is null then
    raise exception 'sign in first'
      using errcode = '42501';
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
comment on function private.authorize_call_action(text, text) is 'Raises 42501 unless the current user is a csm or manager who can see the dealership, PT404 if the call does not exist there; returns the role.';

revoke execute on function
  private.handle_new_user(),
  private.review_transition_allowed(public.review_status, public.review_status),
  private.authorize_call_action(text, text)
from public, anon, authenticated;

create function public.review_call(
  p_dealership_id text,
  p_call_id text,
  p_to_status public.review_status,
  p_notes text default null
) returns public.call_reviews
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_actor uuid := auth.uid();
  v_notes text := nullif(btrim(p_notes), '');
  v_current public.call_reviews;
  v_result public.call_reviews;
begin
  perform private.authorize_call_action(p_dealership_id, p_call_id);
  if p_to_status is null then
    raise exception 'p_to_status is required'
      using errcode = '22023';
  end if;

  loop
    select r.* into v_current
      from public.call_reviews r
     where r.dealership_id = p_dealership_id and r.call_id = p_call_id
       for update;

    if not private.review_transition_allowed(v_current.status, p_to_status) then
      raise exception 'a review cannot move from % to %', v_current.status, p_to_status
        using errcode = 'P0001',
              hint = 'Allowed: open -> reviewed|follow_up_needed|resolved|escalated; reviewed -> follow_up_needed|resolved|escalated; follow_up_needed -> reviewed|resolved|escalated; escalated -> follow_up_needed|resolved; any other state -> open.';
    end if;
    if p_to_status in ('resolved', 'escalated') and v_notes is null then
      raise exception 'notes are required to mark a review %', p_to_status
        using errcode = '22023';
    end if;

    if v_current.status is not null then
      -- State and audit row in one statement: both happen or neither does.
      with changed as (
        update public.call_reviews r
           set status = p_to_status,
               notes = coalesce(v_notes, r.notes),
               resolved_at = case
                 when p_to_status = 'resolved' then now()
                 when p_to_status = 'open' then null
                 else r.resolved_at
               end,
               updated_by = v_actor,
               updated_at = now()
         where r.dealership_id = p_dealership_id and r.call_id = p_call_id
        returning r.*
      ),
      audit as (
        insert into public.review_events
          (dealership_id, call_id, actor_id, from_status, to_status, from_assignee, to_assignee, notes)
        select c.dealership_id, c.call_id, v_actor, v_current.status, c.status,
               v_current.assignee_id, c.assignee_id, v_notes
          from changed c
      )
      select c.* into v_result from changed c;
      return v_result;
    end if;

    -- No review yet (e.g. a call judged good that a person wants to flag).
    begin
      with created as (
        insert into public.call_reviews as r
          (dealership_id, call_id, status, notes, flagged_at, resolved_at, updated_by, updated_at)
        values (
          p_dealership_id, p_call_id, p_to_status, v_notes, now(),
          case when p_to_status = 'resolved' then now() end,
          v_actor, now()
        )
        returning r.*
      ),
      audit as (
        insert into public.review_events
          (dealership_id, call_id, actor_id, from_status, to_status, from_assignee, to_assignee, notes)
        select c.dealership_id, c.call_id, v_actor, null, c.status, null, c.assignee_id, v_notes
          from created c
      )
      select c.* into v_result from created c;
      return v_result;
    exception when unique_violation then
      -- Someone created the review meanwhile: check the transition against theirs.
      null;
    end;
  end loop;
end;
$$;
comment on function public.review_call(text, text, public.review_status, text) is 'Moves a call''s review to p_to_status and appends the matching review_events row in the same statement. Notes are required for resolved and escalated. A call without a review gets one. Errors: 42501 not allowed, PT404 no such call, 22023 missing notes, P0001 transition not allowed.';

create function public.assign_review(
  p_dealership_id text,
  p_call_id text,
  p_assignee_id uuid
) returns public.call_reviews
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_actor uuid := auth.uid();
  v_role public.app_role;
  v_current public.call_reviews;
  v_result public.call_reviews;
begin
  v_role := private.authorize_call_action(p_dealership_id, p_call_id);

  loop
    select r.* into v_current
      from public.call_reviews r
     where r.dealership_id = p_dealership_id and r.call_id = p_call_id
       for update;

    if v_current.status is not null and v_current.assignee_id is not distinct from p_assignee_id then
      raise exception 'the review is already %',
        case when p_assignee_id is null then 'unassigned' else 'assigned to that person' end
        using errcode = 'P0001';
    end if;

    if v_role = 'csm' then
      if p_assignee_id is not null and p_assignee_id <> v_actor then
        raise exception 'CSMs can only assign reviews to themselves'
          using errcode = '42501', hint = 'Ask your manager to assign it.';
      end if;
      if p_assignee_id is not null and v_current.assignee_id is not null then
        raise exception 'the review is already assigned to someone else'
          using errcode = '42501', hint = 'Only a manager can reassign it.';
      end if;
      if p_assignee_id is null and v_current.assignee_id is distinct from v_actor then
        raise exception 'CSMs can only release reviews assigned to themselves'
          using errcode = '42501';
      end if;
    elsif p_assignee_id is not null then
      -- A manager assigns within the team: themself or a direct report...
      if p_assignee_id <> v_actor and not exists (
        select 1 from public.profiles p where p.user_id = p_assignee_id and p.manager_id = v_actor
      ) then
        raise exception 'you can only assign reviews to yourself or to people who report to you'
          using errcode = '42501';
      end if;
      -- ...who can also see the call.
      if not (p_dealership_id = any (private.visible_dealership_ids_for(p_assignee_id))) then
        raise exception 'that person is not assigned to dealership %', p_dealership_id
          using errcode = '22023', hint = 'Assign them to the dealership first (admin).';
      end if;
    end if;

    if v_current.status is not null then
      with changed as (
        update public.call_reviews r
           set assignee_id = p_assignee_id,
               updated_by = v_actor,
               updated_at = now()
         where r.dealership_id = p_dealership_id and r.call_id = p_call_id
        returning r.*
      ),
      audit as (
        insert into public.review_events
          (dealership_id, call_id, actor_id, from_status, to_status, from_assignee, to_assignee, notes)
        select c.dealership_id, c.call_id, v_actor, c.status, c.status,
               v_current.assignee_id, c.assignee_id, null
          from changed c
      )
      select c.* into v_result from changed c;
      return v_result;
    end if;

    -- No review yet: assigning one opens it.
    begin
      with created as (
        insert into public.call_reviews as r
          (dealership_id, call_id, status, assignee_id, flagged_at, updated_by, updated_at)
        values (p_dealership_id, p_call_id, 'open', p_assignee_id, now(), v_actor, now())
        returning r.*
      ),
      audit as (
        insert into public.review_events
          (dealership_id, call_id, actor_id, from_status, to_status, from_assignee, to_assignee, notes)
        select c.dealership_id, c.call_id, v_actor, null, c.status, null, c.assignee_id, null
          from created c
      )
      select c.* into v_result from created c;
      return v_result;
    exception when unique_violation then
      null;
    end;
  end loop;
end;
$$;
comment on function public.assign_review(text, text, uuid) is 'Sets or clears a review''s assignee and appends the matching review_events row in the same statement. CSMs may claim an unassigned review for themselves or release their own; managers may assign to themselves or a direct report who can see the dealership. A call without a review gets an open one. Errors: 42501 not allowed, PT404 no such call, 22023 assignee cannot see the dealership, P0001 no change.';

/** Re-analysis requests */
create function public.request_reanalysis(p_dealership_id text, p_call_id text) returns bigint
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_actor uuid := auth.uid();
  v_sha text;
  v_job_id bigint;
begin
  perform private.authorize_call_action(p_dealership_id, p_call_id);

  select c.transcript_sha256 into v_sha
    from public.calls c
   where c.dealership_id = p_dealership_id
     and c.call_id = p_call_id
     and nullif(btrim(c.transcript), '') is not null;
  if not found then
    raise exception 'call % has no transcript yet', p_call_id
      using errcode = 'P0001', hint = 'It is analyzed automatically once a transcript arrives.';
  end if;

  loop
    -- A queued ingest job would be skipped if the transcript was judged already, so
    -- it becomes a re-analysis: the reviewer's request is never silently dropped.
    update public.analysis_jobs j
       set reason = 'reanalysis', requested_by = v_actor, updated_at = now()
     where j.dealership_id = p_dealership_id
       and j.call_id = p_call_id
       and j.status = 'queued'
    returning j.id into v_job_id;
    if found then
      return v_job_id;
    end if;
    select j.id into v_job_id
      from public.analysis_jobs j
     where j.dealership_id = p_dealership_id
       and j.call_id = p_call_id
       and j.status = 'running';
    if found then
      return v_job_id;
    end if;

    insert into public.analysis_jobs (dealership_id, call_id, transcript_sha256, reason, requested_by)
    values (p_dealership_id, p_call_id, v_sha, 'reanalysis', v_actor)
    on conflict (dealership_id, call_id) where status in ('queued', 'running') do nothing
    returning id into v_job_id;
    if v_job_id is not null then
      return v_job_id;
    end if;
    -- A job appeared between the two statements: loop to return it.
  end loop;
end;
$$;
comment on function public.request_reanalysis(text, text) is 'Queues a re-analysis of a call that has a transcript (reason reanalysis, requested_by the caller) and returns the job id; returns the pending job instead if one is queued or running. Errors: 42501 not allowed, PT404 no such call, P0001 no transcript.';

revoke execute on function
  public.review_call(text, text, public.review_status, text),
  public.assign_review(text, text, uuid),
  public.request_reanalysis(text, text)
from public, anon;
grant execute on function
  public.review_call(text, text, public.review_status, text),
  public.assign_review(text, text, uuid),
  public.request_reanalysis(text, text)
to authenticated, service_role;

/** Reviews opened by analysis are audited too */
-- Replaces the core schema's version so the automatic open also leaves a
-- review_events row (actor null = the system), keeping state and history in step.
create or replace function public.open_review_for_flagged_call() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.verdict in ('needs_review', 'bad') then
    with opened as (
      insert into public.call_reviews (dealership_id, call_id, status, flagged_at)
      values (new.dealership_id, new.call_id, 'open', new.created_at)
      on conflict (dealership_id, call_id) do nothing
      returning dealership_id, call_id, status
    )
    insert into public.review_events (dealership_id, call_id, actor_id, from_status, to_status, notes, created_at)
    select o.dealership_id, o.call_id, null, null, o.status,
           format('Opened automatically: the analysis verdict was %s.', new.verdict), new.created_at
      from opened o;
  end if;
  return new;
end;
$$;
revoke execute on function public.open_review_for_flagged_call() from public, anon, authenticated;
