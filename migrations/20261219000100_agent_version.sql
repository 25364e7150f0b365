/**
 * Issue 16, "Agents": Retell's agent version, stored, filterable and compared.
 *
 * - `calls.agent_version` and `events.agent_version` (integer, null when the
 *   sender did not say): Retell's `call.agent_version` (or `data.agent_version`).
 *   private.ingest_event takes it as a new last argument `p_agent_version`
 *   (default null) and stores it like agent_id: on the event as sent, on the call
 *   through private.merge_call_field (a newer event overwrites with its non-null
 *   value, an older one only fills a NULL). Nothing else in the function changes.
 * - Backfill: events from their stored raw_payload (the same key rule as the api:
 *   `call` when present, else `data`; only a JSON integer from 0 to 2^31-1), and
 *   each call from its newest event (rank, then occurred_at) that carries one.
 * - Column privileges: the API roles may read both columns (20261218000100 made
 *   calls and events column-granted; a new column is hidden until granted).
 * - An index for the call list's agent + version filter that leads with
 *   dealership_id, as every RLS policy filters on it.
 * - `calls_export` gains `agent_version` at the end (otherwise as 20261218000100
 *   left it).
 * - public.agent_version_comparison(p_dealership_id, p_hours): per agent and
 *   version over the last p_hours, the calls, the analyzed ones, the bad and
 *   upset shares and the failed handoffs, with the first and last call seen.
 *   Security invoker, like dealership_health: row-level security on calls decides
 *   the rows.
 *
 * The two ALTERs and the backfill UPDATEs rewrite rows of calls and events: on a
 * large production table, deploy in a quiet hour.
 */

/** The columns */
alter table public.calls add column agent_version integer null;
alter table public.events add column agent_version integer null;
comment on column public.calls.agent_version is 'Retell''s call.agent_version: the version of agent_id that took the call; merged like agent_id (newest event''s non-null value). Null when the sender did not say (our normalized contract never does). The call list filters on it.';
comment on column public.events.agent_version is 'Retell''s call.agent_version as this event carried it (null when absent).';

grant select (agent_version) on public.calls to anon, authenticated;
grant select (agent_version) on public.events to anon, authenticated;

/** The backfill */
create function private.retell_agent_version(p_payload jsonb) returns integer
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
  select case
           when jsonb_typeof(v) = 'number' and (v #>> '{}') ~ '^[0-9]{1,10}$'
                and (v #>> '{}')::bigint <= 2147483647
             then (v #>> '{}')::integer
         end
    from (select coalesce(nullif(p_payload -> 'call', 'null'::jsonb), p_payload -> 'data') -> 'agent_version' as v) s
$$;
comment on function private.retell_agent_version(jsonb) is 'call.agent_version (else data.agent_version) of a stored Retell payload when it is an integer from 0 to 2^31-1, else null. Used by the backfill of migration 20261219000100; the api reads the field itself.';
revoke execute on function private.retell_agent_version(jsonb) from public, anon, authenticated;

update public.events e
   set agent_version = private.retell_agent_version(e.raw_payload)
 where e.source = 'retell'
   and private.retell_agent_version(e.raw_payload) is not null;

update public.calls c
   set agent_version = v.agent_version
  from (
    select distinct on (e.dealership_id, e.call_id) e.dealership_id, e.call_id, e.agent_version
      from public.events e
     where e.dealership_id is not null and e.agent_version is not null
     -- The api's ranks (api::normalize::retell_rank): the newest event wins.
     order by e.dealership_id, e.call_id,
              case e.event_type when 'call_started' then 1 when 'call_ended' then 3 when 'call_analyzed' then 4 else 2 end desc,
              e.occurred_at desc, e.id desc
  ) v
 where c.dealership_id = v.dealership_id and c.call_id = v.call_id;

/** The filter's index */
create index calls_dealership_agent_version_time_idx
  on public.calls (dealership_id, agent_id, agent_version, first_event_at desc)
  where agent_id is not null;

/** Ingest: 20261208000100's function with p_agent_version added (marked "agent_version") */
drop function private.ingest_event(text, text, text, text, text, timestamptz, timestamptz, smallint, bytea, jsonb, boolean, text, jsonb, text, text, timestamptz, timestamptz, integer, text, jsonb, text, text, text, text, text, jsonb, jsonb);

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
  p_agent_version integer default null, -- agent_version
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
    raw_body, raw_payload, transcript, customer_phone, customer_name, agent_id, metadata,
    agent_version) -- agent_version
  values (
    p_event_id, p_event_type, p_source, p_dealership_id, p_call_id, p_occurred_at, p_received_at,
    p_raw_body, p_raw_payload, p_transcript, p_customer_phone, p_customer_name, p_agent_id, p_metadata,
    p_agent_version) -- agent_version
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
        first_event_at, last_event_at, last_event_rank,
        agent_version) -- agent_version
      values (
        p_dealership_id, p_call_id, p_call_status, p_direction, p_started_at, p_ended_at, p_duration_sec,
        p_transcript, p_transcript_turns, p_transcript_sha256, p_customer_phone, p_customer_name,
        p_agent_id, p_disconnection_reason, p_retell_analysis, p_metadata,
        coalesce(p_started_at, p_occurred_at), p_occurred_at, p_rank,
        p_agent_version) -- agent_version
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
        agent_version = private.merge_call_field(v_newer, p_agent_version, c.agent_version), -- agent_version
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
comment on function private.ingest_event(text, text, text, text, text, timestamptz, timestamptz, smallint, bytea, jsonb, boolean, text, jsonb, text, text, timestamptz, timestamptz, integer, text, jsonb, text, text, text, text, text, jsonb, jsonb, integer) is 'Stores one webhook event in one round trip (see migration 20261208000100; p_agent_version since 20261219000100). Called by the api inside its transaction; the api answers 200 only after the commit.';
revoke execute on function private.ingest_event(text, text, text, text, text, timestamptz, timestamptz, smallint, bytea, jsonb, boolean, text, jsonb, text, text, timestamptz, timestamptz, integer, text, jsonb, text, text, text, text, text, jsonb, jsonb, integer) from public, anon, authenticated;

/** The call list's export (as 20261218000100 left it), with agent_version at the end */
create or replace view public.calls_export
with (security_invoker = true)
as
select
  c.dealership_id,
  private.csv_safe(d.name) as dealership_name,
  private.csv_safe(c.call_id) as call_id,
  c.first_event_at,
  to_char(c.first_event_at at time zone d.timezone, 'YYYY-MM-DD HH24:MI') as local_time,
  private.csv_safe(d.timezone) as timezone,
  -- Only the last 4 digits ever leave the table through this view.
  case
    when c.customer_phone_last4 is null then null
    else '***' || c.customer_phone_last4
  end as customer_phone_masked,
  c.duration_sec,
  c.verdict,
  c.score,
  private.csv_safe(array_to_string(c.reasons, '; ')) as reasons_text,
  c.flags,
  private.csv_safe(array_to_string(c.flags, ', ')) as flags_text,
  c.review_status,
  private.csv_safe(c.analysis_model) as analysis_model,
  -- As 20261215000200: the stored column, GIN-indexed, under both names.
  c.transcript_tsv as transcript_search,
  c.transcript_tsv,
  private.csv_safe(c.agent_id) as agent_id,
  c.user_sentiment,
  c.agent_version
from public.calls c
join public.dealerships d on d.id = c.dealership_id;

comment on column public.calls_export.agent_version is 'Retell''s agent version (calls.agent_version); the list''s agent version filter.';

/** The comparison */
create function public.agent_version_comparison(p_dealership_id text default null, p_hours integer default 168)
returns table (
  agent_id text,
  agent_version integer,
  calls integer,
  analyzed integer,
  bad integer,
  upset integer,
  handoff_failed integer,
  bad_share numeric,
  upset_share numeric,
  first_seen_at timestamptz,
  last_seen_at timestamptz
)
language sql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
  select private.require_between('p_hours', p_hours, 1, 2160);
  -- RLS on calls already limits the rows to the caller's dealerships.
  select c.agent_id,
         c.agent_version,
         count(*)::integer,
         count(c.verdict)::integer,
         count(*) filter (where c.verdict = 'bad')::integer,
         count(*) filter (where c.verdict is not null and 'customer_upset' = any (c.flags))::integer,
         count(*) filter (where c.verdict is not null and 'handoff_failed' = any (c.flags))::integer,
         round((count(*) filter (where c.verdict = 'bad'))::numeric / nullif(count(c.verdict), 0), 4),
         round((count(*) filter (where c.verdict is not null and 'customer_upset' = any (c.flags)))::numeric
               / nullif(count(c.verdict), 0), 4),
         min(c.first_event_at),
         max(c.first_event_at)
    from public.calls c
   where c.agent_id is not null
     and c.first_event_at >= now() - make_interval(hours => p_hours)
     and c.first_event_at < now()
     and (p_dealership_id is null or c.dealership_id = p_dealership_id)
   group by c.agent_id, c.agent_version
   order by c.agent_id, c.agent_version desc nulls last
$$;
comment on function public.agent_version_comparison(text, integer) is 'Per Retell agent and agent version, the calls that started in the last p_hours (1 to 2160; 22023 otherwise), of one dealership or all the caller may see: calls, analyzed (with a verdict), bad, upset (customer_upset) and handoff_failed counts of the analyzed ones, bad_share and upset_share of the analyzed (0 to 1, null when none is analyzed), and the first and last call''s start. A null agent_version: calls whose sender did not say. Security invoker: row-level security on calls decides the rows.';
revoke execute on function public.agent_version_comparison(text, integer) from public, anon;
grant execute on function public.agent_version_comparison(text, integer) to authenticated;
