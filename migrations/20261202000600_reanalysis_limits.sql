/**
 * Re-analysis limits: every on-request re-analysis is one more LLM call, so
 * `public.request_reanalysis()` now refuses a request that would run one
 *
 * - for a call that was re-analyzed on request less than
 *   `reanalysis_cooldown_minutes` ago (by anyone), or
 * - from a user who already made `reanalysis_daily_limit` such requests in the
 *   last 24 hours (a rolling window, not a calendar day),
 *
 * with SQLSTATE PT429, which PostgREST answers as HTTP 429: the message says which
 * limit, the hint how long to wait ("Try again in 7 min."), the detail the exact
 * time (`retry_after=2026-12-02T15:04:05Z`).
 *
 * What counts: a request that makes the worker run the analyzer once more, i.e.
 * a new re-analysis job, or a queued `ingest` job turned into a re-analysis (the
 * worker would have skipped it). Each is logged in `private.reanalysis_requests`,
 * and the limits count that log, not `analysis_jobs` (whose rows change reason,
 * requester and status after the fact). Asking while a re-analysis is queued, or
 * while any job is running, returns that job as before: it costs nothing more, so
 * it is neither refused nor counted.
 *
 * Concurrency: the function takes a transaction-level advisory lock on the call,
 * then one on the user, before it reads the log, and holds them until commit. Two
 * parallel requests of one user (or for one call) therefore run one after the
 * other, and the second sees the first's log row: they cannot both pass a limit.
 *
 * The limits live in `public.app_settings`, a single row that admins edit in
 * Supabase Studio (as the owner); signed-in users may read it, nobody else writes.
 */

/** Settings */
create table public.app_settings (
  id boolean primary key default true check (id),
  reanalysis_cooldown_minutes integer not null default 10
    check (reanalysis_cooldown_minutes between 0 and 1440),
  reanalysis_daily_limit integer not null default 50
    check (reanalysis_daily_limit between 0 and 10000)
);
alter table public.app_settings enable row level security;
comment on table public.app_settings is 'Settings admins change in Studio (as the owner); one row. Signed-in users may read it; only the owner and the service role write it. Deleting the row brings back the defaults.';
comment on column public.app_settings.id is 'Always true: the table holds a single row.';
comment on column public.app_settings.reanalysis_cooldown_minutes is 'Minutes after a re-analysis request during which nobody can request another one of the same call (0 = no cooldown, at most 1440). Default 10.';
comment on column public.app_settings.reanalysis_daily_limit is 'Re-analysis requests one user may make in any 24 hours (0 turns requests off, at most 10000). Default 50. Returning an already pending job does not count.';

insert into public.app_settings (id) values (true);

create policy "Signed-in users can read the app settings"
  on public.app_settings for select to authenticated
  using (true);

revoke all on public.app_settings from public, anon, authenticated;
grant select on public.app_settings to authenticated;
grant all on public.app_settings to service_role;

/** The log the limits count */
create table private.reanalysis_requests (
  id bigint generated always as identity primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  dealership_id text not null,
  call_id text not null,
  job_id bigint null references public.analysis_jobs (id) on delete set null,
  requested_at timestamptz not null default now(),
  foreign key (dealership_id, call_id) references public.calls (dealership_id, call_id) on delete cascade
);
-- Not exposed (schema private), and nobody but the owner reads it; RLS without a
-- policy makes sure of that should a grant ever be added by mistake.
alter table private.reanalysis_requests enable row level security;
revoke all on private.reanalysis_requests from public, anon, authenticated;
create index reanalysis_requests_user_idx on private.reanalysis_requests (user_id, requested_at);
create index reanalysis_requests_call_idx on private.reanalysis_requests (dealership_id, call_id, requested_at);
create index reanalysis_requests_job_idx on private.reanalysis_requests (job_id);
comment on table private.reanalysis_requests is 'One row per re-analysis request that made the worker analyze a call once more (new job, or a queued ingest job turned into a re-analysis). public.request_reanalysis counts it against app_settings; returning an already pending job is not logged.';
comment on column private.reanalysis_requests.job_id is 'The job the request created or converted (null once that job is deleted).';

/** request_reanalysis with limits */
create or replace function public.request_reanalysis(p_dealership_id text, p_call_id text) returns bigint
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_actor uuid := auth.uid();
  v_sha text;
  v_job_id bigint;
  v_pending_id bigint;
  v_pending_status public.job_status;
  v_pending_reason text;
  v_cooldown integer;
  v_limit integer;
  v_last timestamptz;
  v_count integer;
  v_retry timestamptz;
  v_message text;
  v_minutes integer;
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

  -- One request per call, then one per user, at a time, until commit: the log read
  -- below then includes every request that committed before. Always in this order,
  -- so two requests never wait for each other's second lock.
  perform pg_advisory_xact_lock(hashtextextended('request_reanalysis call ' || p_dealership_id || ' ' || p_call_id, 0));
  perform pg_advisory_xact_lock(hashtextextended('request_reanalysis user ' || v_actor::text, 0));

  loop
    v_pending_id := null;
    v_message := null;
    v_retry := null;
    select j.id, j.status, j.reason into v_pending_id, v_pending_status, v_pending_reason
      from public.analysis_jobs j
     where j.dealership_id = p_dealership_id
       and j.call_id = p_call_id
       and j.status in ('queued', 'running');
    -- A job that will analyze anyway: asking again costs nothing, so it is returned
    -- as it is, neither refused nor counted.
    if v_pending_id is not null and (v_pending_status = 'running' or v_pending_reason = 'reanalysis') then
      return v_pending_id;
    end if;

    -- From here on the worker runs the analyzer once more: the limits apply.
    select coalesce((select s.reanalysis_cooldown_minutes from public.app_settings s), 10),
           coalesce((select s.reanalysis_daily_limit from public.app_settings s), 50)
      into v_cooldown, v_limit;

    select max(r.requested_at) into v_last
      from private.reanalysis_requests r
     where r.dealership_id = p_dealership_id and r.call_id = p_call_id;
    select count(*) into v_count
      from private.reanalysis_requests r
     where r.user_id = v_actor and r.requested_at > now() - interval '24 hours';

    if v_last is not null and v_last + make_interval(mins => v_cooldown) > now() then
      v_retry := v_last + make_interval(mins => v_cooldown);
      v_message := format('call %s was re-analyzed less than %s minute%s ago',
                          p_call_id, v_cooldown, case when v_cooldown = 1 then '' else 's' end);
    elsif v_limit = 0 then
      v_message := 're-analysis on request is turned off';
    elsif v_count >= v_limit then
      -- The window frees a slot when the oldest request that keeps it full turns 24 h old.
      select r.requested_at + interval '24 hours' into v_retry
        from private.reanalysis_requests r
       where r.user_id = v_actor and r.requested_at > now() - interval '24 hours'
       order by r.requested_at
      offset v_count - v_limit
       limit 1;
      v_message := format('you have reached your limit of %s re-analyses in 24 hours', v_limit);
    end if;

    if v_message is not null then
      if v_retry is null then
        raise exception using
          message = v_message,
          errcode = 'PT429',
          hint = 'An admin can turn it on again in app_settings (reanalysis_daily_limit).';
      end if;
      -- Both rounded up, so neither says a time that is too early.
      v_minutes := greatest(1, ceil(extract(epoch from (v_retry - now())) / 60))::integer;
      v_retry := date_trunc('second', v_retry)
                 + case when v_retry > date_trunc('second', v_retry) then interval '1 second' else interval '0' end;
      raise exception using
        message = v_message,
        errcode = 'PT429',
        detail = 'retry_after=' || to_char(v_retry at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        hint = 'Try again in '
               || case when v_minutes < 60 then v_minutes || ' min'
                       when v_minutes % 60 = 0 then v_minutes / 60 || ' h'
                       else v_minutes / 60 || ' h ' || v_minutes % 60 || ' min' end
               || '.';
    end if;

    if v_pending_id is not null then
      -- A queued ingest job would be skipped if the transcript was judged already, so
      -- it becomes a re-analysis: the reviewer's request is never silently dropped.
      update public.analysis_jobs j
         set reason = 'reanalysis', requested_by = v_actor, updated_at = now()
       where j.id = v_pending_id
         and j.status = 'queued'
      returning j.id into v_job_id;
    else
      insert into public.analysis_jobs (dealership_id, call_id, transcript_sha256, reason, requested_by)
      values (p_dealership_id, p_call_id, v_sha, 'reanalysis', v_actor)
      on conflict (dealership_id, call_id) where status in ('queued', 'running') do nothing
      returning id into v_job_id;
    end if;
    if v_job_id is not null then
      insert into private.reanalysis_requests (user_id, dealership_id, call_id, job_id)
      values (v_actor, p_dealership_id, p_call_id, v_job_id);
      return v_job_id;
    end if;
    -- A worker took the queued job, or a job appeared, between the statements: look again.
  end loop;
end;
$$;
comment on function public.request_reanalysis(text, text) is 'Queues a re-analysis of a call that has a transcript (reason reanalysis, requested_by the caller) and returns the job id; returns the pending job instead if a re-analysis is queued or any job is running (free: not limited, not counted). A new job, or a queued ingest job turned into a re-analysis, is limited by app_settings: one per call per reanalysis_cooldown_minutes, reanalysis_daily_limit per user in 24 hours. Errors: 42501 not allowed, PT404 no such call, P0001 no transcript, PT429 a limit (hint: when to try again; detail: retry_after=<UTC time>).';
