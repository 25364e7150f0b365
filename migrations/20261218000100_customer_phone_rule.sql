/*
 * One rule for the customer's phone number (issue 16).
 *
 * The dashboard masked the number in the browser, but the full number reached
 * the browser anyway: in calls.customer_phone and in the raw event payloads
 * (call.from_number / call.to_number, customer.phone). Now:
 *
 * - The API roles (anon, authenticated) cannot read calls.customer_phone, nor
 *   events.raw_body, events.raw_payload or events.customer_phone: column
 *   privileges, so no query shape (select=*, embedding, a view read with the
 *   caller's rights) gets them. They read calls.customer_phone_last4 instead.
 * - public.call_events(dealership, call) returns a call's events with the
 *   payload's phone fields masked, under the same visibility as events.
 * - public.reveal_customer_phone(dealership, call) returns the full number to
 *   a user who may follow up on the call (a csm or manager who can see its
 *   dealership: private.authorize_call_action) and records who revealed which
 *   call's number, and when, in public.phone_reveals.
 *
 * Not masked: a number spoken in the transcript, or one a sender puts in free-form
 * metadata or Retell's dynamic variables; the rule covers the fields that carry
 * the caller's number by contract.
 *
 * The service role (api, worker) and the reporting logins are unchanged.
 * A column added to calls or events later is not readable by the API roles
 * until a migration grants it (docs/data-model.md says so).
 */

/** The masks. A stored generated column rewrites calls once, under an exclusive
 * lock (as 20261215000200's and 20261217000200's do): on a large production
 * table, deploy in a quiet hour. */
alter table public.calls
  add column customer_phone_last4 text
  generated always as (
    case
      when customer_phone is null then null
      when length(regexp_replace(customer_phone, '[^0-9]', '', 'g')) <= 4 then ''
      else right(regexp_replace(customer_phone, '[^0-9]', '', 'g'), 4)
    end
  ) stored;
comment on column public.calls.customer_phone_last4 is 'The last 4 digits of customer_phone; empty when it has 4 digits or fewer; null when unknown. What the API roles may read (they cannot read customer_phone; see public.reveal_customer_phone).';

create function private.mask_phone_text(p_value jsonb) returns jsonb
language sql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
  select case
    when p_value is null or jsonb_typeof(p_value) <> 'string' then p_value
    when length(regexp_replace(p_value #>> '{}', '[^0-9]', '', 'g')) <= 4 then to_jsonb('***'::text)
    else to_jsonb('***' || right(regexp_replace(p_value #>> '{}', '[^0-9]', '', 'g'), 4))
  end
$$;

create function private.mask_payload_phones(p_payload jsonb) returns jsonb
language plpgsql
immutable
parallel safe
set search_path = pg_catalog, pg_temp
as $$
declare
  v_payload jsonb := p_payload;
  v_path text[];
begin
  foreach v_path slice 1 in array array[
    array['call', 'from_number'], array['call', 'to_number'],
    array['data', 'from_number'], array['data', 'to_number'],
    array['customer', 'phone']
  ] loop
    if v_payload #> v_path is not null then
      v_payload := jsonb_set(v_payload, v_path, private.mask_phone_text(v_payload #> v_path));
    end if;
  end loop;
  return v_payload;
end
$$;
revoke execute on function private.mask_phone_text(jsonb), private.mask_payload_phones(jsonb)
  from public, anon, authenticated;
comment on function private.mask_payload_phones(jsonb) is 'The payload with every phone field of both shapes (call/data from_number and to_number, customer.phone) reduced to ***<last 4 digits>.';

/** Column privileges: everything but the number and the raw payloads */
revoke select on public.calls, public.events from anon, authenticated;
do $$
declare
  v_table text;
  v_columns text;
begin
  foreach v_table in array array['calls', 'events'] loop
    select string_agg(quote_ident(column_name), ', ' order by ordinal_position)
      into v_columns
      from information_schema.columns
     where table_schema = 'public' and table_name = v_table
       and column_name not in ('customer_phone', 'raw_body', 'raw_payload');
    execute format('grant select (%s) on public.%I to anon, authenticated', v_columns, v_table);
  end loop;
end
$$;

/** The computed field transcript_search(calls) takes the whole row, and a
 * whole-row reference needs every column, so column privileges refuse it to the
 * API roles. Clients filter on the stored column instead:
 * transcript_tsv=wfts(english).<words> (the dashboard has since 20261215000200;
 * calls_export keeps both names). */
drop function public.transcript_search(public.calls);

/** A call's events, payload masked */
create function public.call_events(p_dealership_id text, p_call_id text)
returns table (
  event_id text,
  event_type text,
  occurred_at timestamptz,
  received_at timestamptz,
  payload jsonb
)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select e.event_id, e.event_type, e.occurred_at, e.received_at,
         private.mask_payload_phones(e.raw_payload)
    from public.events e
   where e.dealership_id = p_dealership_id
     and e.call_id = p_call_id
     and private.can_see_dealership(p_dealership_id)
   order by e.occurred_at, e.id
$$;
comment on function public.call_events(text, text) is 'The events of one call, oldest first, with the payload''s phone fields masked (private.mask_payload_phones). Empty unless the caller can see the dealership.';
revoke execute on function public.call_events(text, text) from public, anon;
grant execute on function public.call_events(text, text) to authenticated;

/** Revealing the number, audited */
create table public.phone_reveals (
  id bigint generated always as identity primary key,
  -- Kept when the person is deleted (docs/admin.md "Delete user"): the audit row
  -- stays, without whom.
  user_id uuid null references public.profiles (user_id) on delete set null,
  dealership_id text not null,
  call_id text not null,
  revealed_at timestamptz not null default now(),
  foreign key (dealership_id, call_id) references public.calls (dealership_id, call_id) on delete cascade
);
create index phone_reveals_call_idx on public.phone_reveals (dealership_id, call_id, revealed_at desc);
create index phone_reveals_user_idx on public.phone_reveals (user_id);
alter table public.phone_reveals enable row level security;
comment on table public.phone_reveals is 'Who revealed which call''s customer number, and when (user_id null: the person was deleted since). Written only by public.reveal_customer_phone.';

create policy "Users can view number reveals of their dealerships' calls"
  on public.phone_reveals for select to authenticated
  using (dealership_id = any ((select private.visible_dealership_ids())::text[]));
revoke all on public.phone_reveals from anon, authenticated;
grant select on public.phone_reveals to authenticated;

create function public.reveal_customer_phone(p_dealership_id text, p_call_id text)
returns text
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_phone text;
begin
  -- 42501 unless a csm or manager who can see the dealership; PT404 without the call.
  perform private.authorize_call_action(p_dealership_id, p_call_id);
  select c.customer_phone into v_phone
    from public.calls c
   where c.dealership_id = p_dealership_id and c.call_id = p_call_id;
  if v_phone is null then
    raise exception 'the call has no customer number'
      using errcode = 'PT404';
  end if;
  insert into public.phone_reveals (user_id, dealership_id, call_id)
  values (auth.uid(), p_dealership_id, p_call_id);
  return v_phone;
end
$$;
comment on function public.reveal_customer_phone(text, text) is 'The full customer number of a call, for a csm or manager who can see its dealership; each call records a public.phone_reveals row. Errors: 42501 not allowed, PT404 no such call or no number.';
revoke execute on function public.reveal_customer_phone(text, text) from public, anon;
grant execute on function public.reveal_customer_phone(text, text) to authenticated;

/** The two views that show the mask read it from customer_phone_last4: they run
 * with the caller's rights, so they could not read customer_phone any more.
 * Same columns, same values (***<last 4>, *** for 4 digits or fewer, null when
 * unknown); otherwise as 20261217000200 and 20261216000100 left them. */
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
  c.user_sentiment
from public.calls c
join public.dealerships d on d.id = c.dealership_id;

create or replace view public.review_queue
with (security_invoker = true)
as
select r.dealership_id,
       d.name as dealership_name,
       r.call_id,
       r.status,
       r.verdict,
       r.score,
       c.flags,
       c.reasons,
       r.assignee_id,
       p.full_name as assignee_name,
       r.notes,
       r.flagged_at,
       round((extract(epoch from now() - r.flagged_at) / 3600)::numeric, 1) as age_hours,
       case
         when r.flagged_at > now() - interval '24 hours' then 'under_24h'
         when r.flagged_at > now() - interval '3 days' then '1_to_3d'
         else 'over_3d'
       end as age_bucket,
       -- Worst first: bad, then needs_review, then calls flagged by hand.
       case r.verdict when 'bad' then 0 when 'needs_review' then 1 else 2 end as severity,
       r.updated_at as last_activity_at,
       c.first_event_at as call_started_at,
       (select e.label_verdict
          from public.review_events e
         where e.dealership_id = r.dealership_id and e.call_id = r.call_id and e.kind = 'label'
         order by e.id desc
         limit 1) as label_verdict,
       (select e.label_flags
          from public.review_events e
         where e.dealership_id = r.dealership_id and e.call_id = r.call_id and e.kind = 'label'
         order by e.id desc
         limit 1) as label_flags,
       coalesce((
         select e.label_verdict is not null
                and (e.label_verdict is distinct from r.verdict
                     or e.label_flags is distinct from array(select f from unnest(c.flags) f order by f))
           from public.review_events e
          where e.dealership_id = r.dealership_id and e.call_id = r.call_id and e.kind = 'label'
          order by e.id desc
          limit 1), false) as label_disagrees,
       r.audit_sample,
       c.customer_name,
       -- Only the last 4 digits ever leave the table through this view.
       case
         when c.customer_phone_last4 is null then null
         else '***' || c.customer_phone_last4
       end as customer_phone_masked,
       d.timezone,
       left(c.retell_analysis ->> 'call_summary', 300) as call_summary
  from public.call_reviews r
  left join public.calls c
    on c.dealership_id = r.dealership_id and c.call_id = r.call_id
  left join public.dealerships d on d.id = r.dealership_id
  left join public.profiles p on p.user_id = r.assignee_id
 where r.status <> 'resolved';
