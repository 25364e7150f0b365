/**
 * The call list as people read it, for the dashboard's CSV export: local time in the
 * dealership's zone, the customer's phone masked to its last 4 digits, reasons and
 * flags joined into plain text. PostgREST renders `Accept: text/csv` from whatever
 * columns it is given, so the formatting has to happen here, not in the browser.
 *
 * The view also carries the raw columns the call list filters on (dealership_id,
 * first_event_at, verdict, score, flags, review_status, transcript_search), so the
 * export sends exactly the list's filters. It is security_invoker: the calls and
 * dealerships policies of the caller apply, as for `GET /rest/v1/calls`.
 */
create view public.calls_export
with (security_invoker = true)
as
select
  c.dealership_id,
  d.name as dealership_name,
  c.call_id,
  c.first_event_at,
  to_char(c.first_event_at at time zone d.timezone, 'YYYY-MM-DD HH24:MI') as local_time,
  d.timezone,
  -- Only the last 4 digits ever leave the table through this view.
  case
    when c.customer_phone is null then null
    when length(regexp_replace(c.customer_phone, '[^0-9]', '', 'g')) <= 4 then '***'
    else '***' || right(regexp_replace(c.customer_phone, '[^0-9]', '', 'g'), 4)
  end as customer_phone_masked,
  c.duration_sec,
  c.verdict,
  c.score,
  array_to_string(c.reasons, '; ') as reasons_text,
  c.flags,
  array_to_string(c.flags, ', ') as flags_text,
  c.review_status,
  c.analysis_model,
  -- The exact expression of calls_transcript_fts_idx: the view is inlined, so a
  -- `transcript_search=wfts(english).<q>` filter still uses the index.
  to_tsvector('english', coalesce(c.transcript, '')) as transcript_search
from public.calls c
join public.dealerships d on d.id = c.dealership_id;

comment on view public.calls_export is 'The call list formatted for people (CSV export: Accept: text/csv): local time in the dealership''s zone, masked phone, reasons and flags as text. Keeps the list''s filter columns. Security invoker: RLS on calls and dealerships applies.';
comment on column public.calls_export.dealership_id is 'Filter column: the dealership slug.';
comment on column public.calls_export.dealership_name is 'The dealership''s display name.';
comment on column public.calls_export.first_event_at is 'Filter and sort column: when the call happened (timestamptz).';
comment on column public.calls_export.local_time is 'When the call happened, in the dealership''s time zone, as YYYY-MM-DD HH24:MI.';
comment on column public.calls_export.timezone is 'The dealership''s IANA time zone that local_time is in.';
comment on column public.calls_export.customer_phone_masked is 'The customer''s number reduced to its last 4 digits (***0101); *** when it has 4 digits or fewer; null when unknown.';
comment on column public.calls_export.duration_sec is 'Call length in seconds.';
comment on column public.calls_export.verdict is 'Current verdict (good, needs_review, bad), null before analysis.';
comment on column public.calls_export.score is 'Current score 0-100.';
comment on column public.calls_export.reasons_text is 'The analysis reasons joined with "; ".';
comment on column public.calls_export.flags is 'Filter column: the flags as an array (flags=ov.{...} / cs.{...}).';
comment on column public.calls_export.flags_text is 'The flags joined with ", ".';
comment on column public.calls_export.review_status is 'Current review status, null when the call was never flagged.';
comment on column public.calls_export.analysis_model is 'The analyzer that produced the verdict (an LLM model name, or heuristic-* for the offline rules).';
comment on column public.calls_export.transcript_search is 'Filter column for transcript search (transcript_search=wfts(english).<words>); same expression as calls_transcript_fts_idx.';

-- Default privileges would give authenticated every privilege; reading is all it needs.
revoke all on public.calls_export from public, anon, authenticated;
grant select on public.calls_export to authenticated, service_role;
