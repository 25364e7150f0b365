/**
 * Transcript search at a million calls (issue 14).
 *
 * The search was `transcript_search=wfts(english).<q>`, a computed field whose body
 * is the expression of the GIN index calls_transcript_fts_idx. The GIN index
 * answers "which calls of all time match", but the dashboard asks for this
 * week's newest matches among the caller's dealerships, so the planner reads the
 * week through the time index and evaluates `to_tsvector` on every transcript it
 * passes: seconds for an admin. Now the tsvector is stored with the row
 * (`calls.transcript_tsv`, a stored generated column), so the same plan only
 * compares a stored value, and the GIN index is on that column.
 *
 * Same results: the column is exactly the old expression,
 * `to_tsvector('english', coalesce(transcript, ''))`, and the dashboard's
 * filter is the same `wfts(english)` (websearch_to_tsquery) on it. The old
 * computed field `transcript_search` and the `calls_export` column of that name
 * stay, and now read the stored column.
 *
 * Adding a stored generated column rewrites `calls` once, under an exclusive
 * lock (on a big production table: run it in a quiet hour).
 */

/** The stored tsvector */
alter table public.calls
  add column transcript_tsv tsvector
  generated always as (to_tsvector('english', coalesce(transcript, ''))) stored;
comment on column public.calls.transcript_tsv is 'The transcript as English lexemes, to_tsvector(''english'', coalesce(transcript, '''')), kept by Postgres (stored generated column). The dashboard''s search: transcript_tsv=wfts(english).<words> (websearch_to_tsquery: every word, "quoted phrases", or, -word; English stemming; stop words ignored). GIN-indexed.';

create index calls_transcript_tsv_idx on public.calls using gin (transcript_tsv);
-- The expression index is the same lexemes a second time, maintained on every write.
drop index public.calls_transcript_fts_idx;

/** The computed field, for clients that still send transcript_search */
-- Still an inlinable SQL function (no `set` clause; it names only its argument's
-- column), so `transcript_search=wfts(english).<q>` becomes a filter on the
-- stored column and uses calls_transcript_tsv_idx.
create or replace function public.transcript_search(public.calls) returns tsvector
language sql
immutable
as $$
  select $1.transcript_tsv
$$;
comment on function public.transcript_search(public.calls) is 'Computed field kept for older clients (PostgREST: transcript_search=wfts(english).<words>): the stored calls.transcript_tsv, so the GIN index calls_transcript_tsv_idx is used. The dashboard filters on transcript_tsv itself.';

/** The call list's export */
-- Same columns as before (transcript_search now reads the stored column), plus
-- transcript_tsv at the end, so the export filters exactly like the list.
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
  c.transcript_tsv as transcript_search,
  c.transcript_tsv
from public.calls c
join public.dealerships d on d.id = c.dealership_id;

comment on column public.calls_export.transcript_search is 'Kept for older clients: the same as transcript_tsv.';
comment on column public.calls_export.transcript_tsv is 'calls.transcript_tsv, for the search filter (transcript_tsv=wfts(english).<words>); not meant to be selected into the CSV.';
