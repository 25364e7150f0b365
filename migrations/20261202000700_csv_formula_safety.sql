/**
 * CSV formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-`
 * or `@` (and, in some programs, a tab or a carriage return) as a formula, so a
 * review note `=HYPERLINK("http://…","x")`, a sender's call id or an LLM-written
 * reason would become live in Excel. Both CSVs the dashboard saves are rendered by
 * PostgREST (`Accept: text/csv`) from a view, so the views neutralise such cells
 * the way OWASP recommends: a single quote in front (`'=HYPERLINK(…)`), which the
 * spreadsheet shows as text. Other values are unchanged.
 *
 * Only text columns go through `private.csv_safe`: numbers (score, duration, age)
 * stay numbers, and enum labels (verdict, status) and the values the views build
 * themselves (local time, masked phone, age bucket, timestamps) cannot start with
 * those characters. Filter columns keep their raw values.
 *
 * - `public.calls_export` (the call list's export) is replaced with the same columns.
 * - `public.review_queue_export` is new: the team's unresolved items as the
 *   dashboard exports them (it used to export `review_queue` as it is).
 */

/** The helper */
-- A SQL-standard body is bound when created (no search_path lookups at run time)
-- and can be inlined into the views.
create function private.csv_safe(p_value text) returns text
language sql
immutable
parallel safe
return case
  when left(p_value, 1) in ('=', '+', '-', '@', E'\t', E'\r') then '''' || p_value
  else p_value
end;
comment on function private.csv_safe(text) is 'The value with a single quote in front when it starts with =, +, -, @, a tab or a carriage return, so a spreadsheet shows it as text instead of running it as a formula (OWASP CSV injection). Null stays null. Used by the CSV views.';

-- The views are security_invoker: whoever reads them calls the helper.
revoke execute on function private.csv_safe(text) from public, anon;
-- The service role reads the views too: it bypasses RLS, not privileges. (Neither
-- needs usage on the schema: the views refer to the function itself, not its name.)
grant execute on function private.csv_safe(text) to authenticated, service_role;

/** The call list's export */
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
  -- The exact expression of calls_transcript_fts_idx: the view is inlined, so a
  -- `transcript_search=wfts(english).<q>` filter still uses the index.
  to_tsvector('english', coalesce(c.transcript, '')) as transcript_search
from public.calls c
join public.dealerships d on d.id = c.dealership_id;

comment on view public.calls_export is 'The call list formatted for people (CSV export: Accept: text/csv): local time in the dealership''s zone, masked phone, reasons and flags as text, text cells that a spreadsheet would run as a formula prefixed with a quote (private.csv_safe). Keeps the list''s filter columns. Security invoker: RLS on calls and dealerships applies.';
comment on column public.calls_export.dealership_name is 'The dealership''s display name (formula-safe).';
comment on column public.calls_export.call_id is 'The sender''s call id, formula-safe: an id starting with =, +, -, @, a tab or a CR gets a quote in front (filter on calls.call_id for such ids).';
comment on column public.calls_export.timezone is 'The dealership''s IANA time zone that local_time is in (formula-safe).';
comment on column public.calls_export.reasons_text is 'The analysis reasons joined with "; " (formula-safe).';
comment on column public.calls_export.flags_text is 'The flags joined with ", " (formula-safe).';
comment on column public.calls_export.analysis_model is 'The analyzer that produced the verdict (an LLM model name, or heuristic-* for the offline rules; formula-safe).';

/** The team's unresolved items, as exported */
create view public.review_queue_export
with (security_invoker = true)
as
select q.dealership_id,
       private.csv_safe(q.dealership_name) as dealership_name,
       private.csv_safe(q.call_id) as call_id,
       q.status,
       q.verdict,
       q.score,
       q.flags,
       q.assignee_id,
       private.csv_safe(q.assignee_name) as assignee_name,
       q.flagged_at,
       q.age_hours,
       q.age_bucket,
       private.csv_safe(q.notes) as notes
  from public.review_queue q;

comment on view public.review_queue_export is 'public.review_queue for the team overview''s CSV export (Accept: text/csv): the same rows, with the free-text columns (dealership_name, call_id, assignee_name, notes) formula-safe (private.csv_safe). Filter on dealership_id, assignee_id, age_bucket. Security invoker: the reader sees the rows of their dealerships.';
comment on column public.review_queue_export.call_id is 'The sender''s call id, formula-safe.';
comment on column public.review_queue_export.assignee_name is 'The assignee''s profiles.full_name (chosen at sign-up), formula-safe.';
comment on column public.review_queue_export.notes is 'The review''s current notes, formula-safe: a note starting with =, +, -, @, a tab or a CR gets a quote in front.';
comment on column public.review_queue_export.flags is 'The flags as a Postgres array ({a,b} in CSV, which a spreadsheet shows as text).';

revoke all on public.review_queue_export from public, anon, authenticated;
grant select on public.review_queue_export to authenticated, service_role;
