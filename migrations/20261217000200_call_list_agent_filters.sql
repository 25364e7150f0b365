/**
 * Issue 16, "Agents": the call list filters by Retell agent and by Retell's
 * `user_sentiment`, and its CSV export takes the same filters.
 *
 * - `calls.user_sentiment`: `retell_analysis ->> 'user_sentiment'` (Positive,
 *   Neutral, Negative, Unknown as Retell sends them), a stored generated column,
 *   so PostgREST filters it as a plain column (`user_sentiment=in.(Negative)`).
 * - Indexes that lead with `dealership_id` (every RLS policy filters on it) for
 *   the list's order within an agent or a sentiment.
 * - `calls_export` gains `agent_id` and `user_sentiment` at the end (the list's
 *   filter columns); its other columns are unchanged.
 *
 * Agent versions are not filterable: ingest does not store Retell's
 * `agent_version` on the call (it is only in `events.raw_payload`).
 */

/** The sentiment, as a column */
alter table public.calls
  add column user_sentiment text generated always as (retell_analysis ->> 'user_sentiment') stored;
comment on column public.calls.user_sentiment is 'Retell''s call_analysis.user_sentiment (Positive, Neutral, Negative, Unknown), generated from retell_analysis; null until Retell''s call_analyzed event arrives. The call list filters on it.';

create index calls_dealership_agent_time_idx
  on public.calls (dealership_id, agent_id, first_event_at desc)
  where agent_id is not null;
create index calls_dealership_sentiment_time_idx
  on public.calls (dealership_id, user_sentiment, first_event_at desc)
  where user_sentiment is not null;

/** The call list's export (as 20261215000200 left it), with the new filter columns at the end */
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
    when c.customer_phone is null then null
    when length(regexp_replace(c.customer_phone, '[^0-9]', '', 'g')) <= 4 then '***'
    else '***' || right(regexp_replace(c.customer_phone, '[^0-9]', '', 'g'), 4)
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

comment on column public.calls_export.agent_id is 'The Retell agent that took the call (formula-safe); the list''s agent filter.';
comment on column public.calls_export.user_sentiment is 'Retell''s user_sentiment (calls.user_sentiment); the list''s sentiment filter.';
