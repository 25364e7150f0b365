/**
 * Ingest in one round trip: everything one accepted webhook event changes, in one
 * function the api calls inside its transaction.
 *
 * Before, the api sent about seven statements per event (dealership, event, lock
 * the call, upsert it, check the queue, enqueue) and the upsert spelled the "is this
 * event newer" comparison 17 times and the status-rank CASE four times. The rules
 * are unchanged; each is now written once:
 *   - private.call_status_rank: registered 0, ongoing and unknown 1, terminal 2;
 *   - private.event_is_newer: (rank, occurred_at) at least the stored pair;
 *   - private.call_status_after: status never moves back from a terminal state;
 *   - private.merge_call_field: a newer event overwrites with its non-null
 *     values, an older one only fills NULLs;
 *   - private.ingest_event: the whole transaction body, in the same order as
 *     before (dealership, event, then the unresolved record or the monotonic call
 *     upsert and the enqueue).
 */

create function private.call_status_rank(status text) returns integer
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  select case
           when status = 'registered' then 0
           when status in ('ended', 'not_connected', 'error') then 2
           else 1
         end
$$;
comment on function private.call_status_rank(text) is 'Lifecycle order of calls.call_status: registered 0, ongoing (and unknown values) 1, terminal (ended, not_connected, error) 2.';

create function private.event_is_newer(
  incoming_rank smallint,
  incoming_at timestamptz,
  stored_rank smallint,
  stored_at timestamptz
) returns boolean
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  -- Rank first: a mid-call update stamped with its receive time never outranks call_ended.
  select (incoming_rank, incoming_at) >= (stored_rank, stored_at)
$$;
comment on function private.event_is_newer(smallint, timestamptz, smallint, timestamptz) is 'Whether an event (rank, occurred_at) is at least as new as what the call row last applied (last_event_rank, last_event_at).';

create function private.call_status_after(stored text, incoming text, newer boolean) returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  select case
           when incoming is null then stored
           when stored is null then incoming
           when private.call_status_rank(incoming) > private.call_status_rank(stored) then incoming
           when private.call_status_rank(incoming) = private.call_status_rank(stored) and newer then incoming
           else stored
         end
$$;
comment on function private.call_status_after(text, text, boolean) is 'The call status after an event: a higher lifecycle rank wins; an equal rank wins only from a newer event; a terminal status is never left.';

create function private.merge_call_field(newer boolean, incoming anyelement, stored anyelement)
returns anyelement
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  select case when newer then coalesce(incoming, stored) else coalesce(stored, incoming) end
$$;
comment on function private.merge_call_field(boolean, anyelement, anyelement) is 'A newer event overwrites a call field with its non-null value; an older one only fills a NULL.';

/**
 * The outcome is 'duplicate' (the event_id was stored before: nothing changed,
 * not even a dealership registered for it), 'unresolved' (stored without a
 * dealership and listed in processing_errors) or 'accepted'; job_id is set when
 * analysis was enqueued. The enqueue trigger's pg_notify is delivered on commit.
 */
create function private.ingest_event(
  p_event_id text,
  p_event_type text,
  p_source text,
  p_dealership_id text,
  p_call_id text,
  p_occurred_at timestamptz,
  p_received_at timestamptz,
  p_rank smallint,
  p_raw_body bytea,
  p_raw_payload jsonb,
  p_judgeable boolean,
  p_problem text,
  p_problem_detail jsonb,
  p_call_status text,
  p_direction text,
  p_started_at timestamptz,
  p_ended_at timestamptz,
  p_duration_sec integer,
  p_transcript text,
  p_transcript_turns jsonb,
  p_transcript_sha256 text,
  p_customer_phone text,
  p_customer_name text,
  p_agent_id text,
  p_disconnection_reason text,
  p_retell_analysis jsonb,
  p_metadata jsonb,
  out outcome text,
  out job_id bigint
)
language plpgsql
security invoker
set search_path = pg_catalog, pg_temp
as $$
declare
  v_registered boolean := false;
  v_event_row bigint;
  v_before_sha text;
  v_stored_rank smallint;
  v_stored_at timestamptz;
  v_after_sha text;
  v_newer boolean;
begin
  -- The event row references the dealership. The name starts as the slug and the
  -- row is "not set up" until an admin names, checks and assigns it in Studio.
  if p_dealership_id is not null
     and not exists (select 1 from public.dealerships d where d.id = p_dealership_id) then
    insert into public.dealerships (id, name, auto_registered, set_up)
    values (p_dealership_id, p_dealership_id, true, false)
    on conflict (id) do nothing
    returning true into v_registered;
  end if;

  -- The unique event_id decides duplicates, even concurrent ones.
  insert into public.events (
    event_id, event_type, source, dealership_id, call_id, occurred_at, received_at,
    raw_body, raw_payload, transcript, customer_phone, customer_name, agent_id, metadata)
  values (
    p_event_id, p_event_type, p_source, p_dealership_id, p_call_id, p_occurred_at, p_received_at,
    p_raw_body, p_raw_payload, p_transcript, p_customer_phone, p_customer_name, p_agent_id, p_metadata)
  on conflict (event_id) do nothing
  returning id into v_event_row;

  if v_event_row is null then
    -- A duplicate changes nothing: undo the dealership this call registered.
    if v_registered then
      delete from public.dealerships d where d.id = p_dealership_id;
    end if;
    outcome := 'duplicate';
    return;
  end if;

  if p_dealership_id is null then
    if p_problem is not null then
      insert into public.processing_errors (stage, event_id, call_id, dealership_id, error, detail)
      values ('ingest', p_event_id, p_call_id, null, p_problem, coalesce(p_problem_detail, '{}'::jsonb));
    end if;
    outcome := 'unresolved';
    return;
  end if;

  -- Lock the call row so "before" and "after" are seen by this transaction alone.
  -- When it does not exist yet, insert it; a concurrent insert that wins the race
  -- sends us round again to lock and merge into its row.
  loop
    select c.transcript_sha256, c.last_event_rank, c.last_event_at
      into v_before_sha, v_stored_rank, v_stored_at
      from public.calls c
     where c.dealership_id = p_dealership_id and c.call_id = p_call_id
       for update;

    if not found then
      v_before_sha := null;
      insert into public.calls (
        dealership_id, call_id, call_status, direction, started_at, ended_at, duration_sec,
        transcript, transcript_turns, transcript_sha256, customer_phone, customer_name,
        agent_id, disconnection_reason, retell_analysis, metadata,
        first_event_at, last_event_at, last_event_rank)
      values (
        p_dealership_id, p_call_id, p_call_status, p_direction, p_started_at, p_ended_at, p_duration_sec,
        p_transcript, p_transcript_turns, p_transcript_sha256, p_customer_phone, p_customer_name,
        p_agent_id, p_disconnection_reason, p_retell_analysis, p_metadata,
        coalesce(p_started_at, p_occurred_at), p_occurred_at, p_rank)
      on conflict (dealership_id, call_id) do nothing
      returning transcript_sha256 into v_after_sha;
      exit when found;
    else
      v_newer := private.event_is_newer(p_rank, p_occurred_at, v_stored_rank, v_stored_at);
      update public.calls c set
        call_status = private.call_status_after(c.call_status, p_call_status, v_newer),
        direction = private.merge_call_field(v_newer, p_direction, c.direction),
        started_at = private.merge_call_field(v_newer, p_started_at, c.started_at),
        ended_at = private.merge_call_field(v_newer, p_ended_at, c.ended_at),
        duration_sec = private.merge_call_field(v_newer, p_duration_sec, c.duration_sec),
        transcript = private.merge_call_field(v_newer, p_transcript, c.transcript),
        transcript_turns = private.merge_call_field(v_newer, p_transcript_turns, c.transcript_turns),
        transcript_sha256 = private.merge_call_field(v_newer, p_transcript_sha256, c.transcript_sha256),
        customer_phone = private.merge_call_field(v_newer, p_customer_phone, c.customer_phone),
        customer_name = private.merge_call_field(v_newer, p_customer_name, c.customer_name),
        agent_id = private.merge_call_field(v_newer, p_agent_id, c.agent_id),
        disconnection_reason = private.merge_call_field(v_newer, p_disconnection_reason, c.disconnection_reason),
        retell_analysis = private.merge_call_field(v_newer, p_retell_analysis, c.retell_analysis),
        metadata = private.merge_call_field(v_newer, p_metadata, c.metadata),
        -- The call's start time once known, else its earliest event.
        first_event_at = coalesce(
          private.merge_call_field(v_newer, p_started_at, c.started_at),
          least(c.first_event_at, coalesce(p_started_at, p_occurred_at))),
        last_event_at = case when v_newer then p_occurred_at else c.last_event_at end,
        last_event_rank = case when v_newer then p_rank else c.last_event_rank end,
        updated_at = pg_catalog.now()
       where c.dealership_id = p_dealership_id and c.call_id = p_call_id
      returning c.transcript_sha256 into v_after_sha;
      exit;
    end if;
  end loop;

  outcome := 'accepted';
  -- A transcript is judged when it is new to the call, or when it only arrived
  -- with events that are never judged (Retell's last transcript_updated often
  -- carries the final transcript, and call_ended then changes nothing). At most
  -- one job is pending per call; it reads the newest transcript when it runs.
  if p_judgeable and v_after_sha is not null
     and (v_before_sha is distinct from v_after_sha
          or not exists (
            select 1 from public.analysis_jobs j
             where j.dealership_id = p_dealership_id and j.call_id = p_call_id
               and j.transcript_sha256 = v_after_sha)) then
    insert into public.analysis_jobs (dealership_id, call_id, event_id, transcript_sha256)
    values (p_dealership_id, p_call_id, p_event_id, v_after_sha)
    on conflict (dealership_id, call_id) where status in ('queued', 'running') do nothing
    returning id into job_id;
  end if;
end;
$$;
comment on function private.ingest_event(text, text, text, text, text, timestamptz, timestamptz, smallint, bytea, jsonb, boolean, text, jsonb, text, text, timestamptz, timestamptz, integer, text, jsonb, text, text, text, text, text, jsonb, jsonb) is 'Stores one webhook event in one round trip (see the migration header). Called by the api inside its transaction; the api answers 200 only after the commit.';

revoke execute on function private.call_status_rank(text) from public, anon, authenticated;
revoke execute on function private.event_is_newer(smallint, timestamptz, smallint, timestamptz) from public, anon, authenticated;
revoke execute on function private.call_status_after(text, text, boolean) from public, anon, authenticated;
revoke execute on function private.merge_call_field(boolean, anyelement, anyelement) from public, anon, authenticated;
revoke execute on function private.ingest_event(text, text, text, text, text, timestamptz, timestamptz, smallint, bytea, jsonb, boolean, text, jsonb, text, text, timestamptz, timestamptz, integer, text, jsonb, text, text, text, text, text, jsonb, jsonb) from public, anon, authenticated;
