-- CSV formula injection (migration 20261202000700): private.csv_safe, and the two
-- views PostgREST renders as CSV for the dashboard (calls_export, review_queue_export).
-- A text cell that starts with =, +, -, @, a tab or a CR comes out with a single
-- quote in front; other text, numbers and filter columns are unchanged.
-- Needs supabase/seed.sql (Nora North: csm of toyota-braintree and honda-quincy).
begin;
select plan(20);

\set nora '''a0000000-0000-4000-8000-000000000003'''

/** Fixtures (as the owner, rolled back): a call id, a reason, a flag and a note starting with each character */
create temp table dangerous (n int, lead text);
insert into dangerous values (1, '='), (2, '+'), (3, '-'), (4, '@'), (5, E'\t'), (6, E'\r');
grant select on dangerous to authenticated;
-- Flags are limited to the contract's (migration 20261209000100), so no real row can
-- carry a flag starting with '='. The quoting of flags_text is defence in depth: drop
-- the check inside this rolled-back transaction to show it still holds.
alter table public.calls drop constraint calls_flags_known;

insert into public.calls
  (dealership_id, call_id, first_event_at, last_event_at, duration_sec, verdict, score, reasons, flags, analysis_model)
select 'honda-quincy', x.lead || 'HYPERLINK("http://evil.example/?' || x.n || '","x")', now() - x.n * interval '1 minute', now(),
       60, 'bad'::public.verdict, 0, array[x.lead || 'cmd|'' /C calc''!A0', 'second reason'], array[x.lead || 'flag', 'other'], x.lead || 'model'
  from dangerous x
union all
select 'honda-quincy', 't32-plain', now(), now(), 0, 'bad', 0,
       '{"customer waited; no callback = upset"}', '{customer_upset}', 'heuristic-v1';

insert into public.call_reviews (dealership_id, call_id, status, assignee_id, notes, flagged_at)
select c.dealership_id, c.call_id, 'open'::public.review_status, :nora::uuid,
       (select x.lead from dangerous x where c.call_id like x.lead || '%') || 'HYPERLINK("http://evil.example","click")',
       now() - interval '2 hours'
  from public.calls c
 where c.dealership_id = 'honda-quincy' and c.call_id like '%HYPERLINK%'
union all
select 'honda-quincy', 't32-plain', 'open', :nora, 'Called back: A=B, 2+2 at 10am - fine', now() - interval '2 hours';

-- A display name chosen at sign-up reaches the unresolved CSV as the assignee.
update public.profiles set full_name = '@SUM(1+1)*cmd|'' /C calc''!A0' where user_id = :nora;
insert into public.dealerships (id, name) values ('t32-evil', '=HYPERLINK("http://evil.example","Dealer")');

/** The helper */
select results_eq(
  $$ select private.csv_safe(x.lead || '1+1') from dangerous x order by x.n $$,
  $$ values ('''=1+1'), ('''+1+1'), ('''-1+1'), ('''@1+1'), (E'''\t1+1'), (E'''\r1+1') $$,
  'csv_safe puts a quote in front of text starting with =, +, -, @, a tab or a carriage return'
);
select results_eq(
  $$ select private.csv_safe(v) from unnest(array['Toyota of Braintree', 'a=b', ' =1', '', '''=1', E'x\n=1']) with ordinality u (v, i) order by i $$,
  $$ values ('Toyota of Braintree'), ('a=b'), (' =1'), (''), ('''=1'), (E'x\n=1') $$,
  'Other text is unchanged, including a value already quoted (so applying it twice changes nothing)'
);
select ok(private.csv_safe(null) is null, 'Null stays null (an empty CSV cell)');
select ok(
  (select provolatile = 'i' and not prosecdef from pg_proc where oid = 'private.csv_safe(text)'::regprocedure),
  'csv_safe is immutable and runs with the caller''s rights'
);
select ok(
  has_function_privilege('authenticated', 'private.csv_safe(text)', 'execute')
    and has_function_privilege('service_role', 'private.csv_safe(text)', 'execute')
    and not has_function_privilege('anon', 'private.csv_safe(text)', 'execute'),
  'authenticated and the service role, who read the security-invoker views, may execute csv_safe; anon may not'
);

/** calls_export keeps its shape */
select results_eq(
  $$ select a.attname::text collate "default", format_type(a.atttypid, a.atttypmod)
       from pg_attribute a
      where a.attrelid = 'public.calls_export'::regclass and a.attnum > 0 and not a.attisdropped
      order by a.attnum $$,
  $$ values ('dealership_id', 'text'), ('dealership_name', 'text'), ('call_id', 'text'),
            ('first_event_at', 'timestamp with time zone'), ('local_time', 'text'), ('timezone', 'text'),
            ('customer_phone_masked', 'text'), ('duration_sec', 'integer'), ('verdict', 'verdict'),
            ('score', 'smallint'), ('reasons_text', 'text'), ('flags', 'text[]'), ('flags_text', 'text'),
            ('review_status', 'review_status'), ('analysis_model', 'text'), ('transcript_search', 'tsvector'),
            -- the stored column the list's search filters on (migration 20261215000200)
            ('transcript_tsv', 'tsvector'),
            -- the call list's agent and sentiment filters (migration 20261217000200)
            ('agent_id', 'text'), ('user_sentiment', 'text'),
            -- the call list's agent version filter (migration 20261219000100)
            ('agent_version', 'integer') $$,
  'calls_export keeps its columns and their types: numbers stay numbers'
);
select is(
  (select reloptions from pg_class where oid = 'public.calls_export'::regclass),
  array['security_invoker=true'],
  'calls_export still runs with the caller''s rights'
);

/** calls_export, as a CSM reads it */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select results_eq(
  $$ select e.call_id, e.reasons_text, e.flags_text, e.analysis_model
       from public.calls_export e
       join dangerous x on e.first_event_at = now() - x.n * interval '1 minute'
      where e.dealership_id = 'honda-quincy' and e.call_id <> 't32-plain'
      order by x.n $$,
  $$ select '''' || x.lead || 'HYPERLINK("http://evil.example/?' || x.n || '","x")',
            '''' || x.lead || 'cmd|'' /C calc''!A0; second reason',
            '''' || x.lead || 'flag, other',
            '''' || x.lead || 'model'
       from dangerous x order by x.n $$,
  'A call id, reasons, flags and model starting with =, +, -, @, a tab or a CR come out of calls_export quoted'
);
select results_eq(
  $$ select call_id, reasons_text, flags_text, analysis_model, score, duration_sec
       from public.calls_export where call_id = 't32-plain' $$,
  $$ values ('t32-plain', 'customer waited; no callback = upset', 'customer_upset', 'heuristic-v1', 0::smallint, 0) $$,
  'Ordinary text is unchanged, and the numbers stay numbers'
);
select is(
  (select count(*)::int from public.calls_export where dealership_id = 'honda-quincy' and verdict = 'bad' and flags && '{customer_upset}'),
  1,
  'The filter columns keep their raw values'
);
reset role;

insert into public.calls (dealership_id, call_id, first_event_at, last_event_at)
values ('t32-evil', 't32-evil-call', now(), now());
select is(
  (select dealership_name from public.calls_export where call_id = 't32-evil-call'),
  '''=HYPERLINK("http://evil.example","Dealer")',
  'A dealership name starting with = comes out quoted'
);

/** review_queue_export */
select is(
  (select reloptions from pg_class where oid = 'public.review_queue_export'::regclass),
  array['security_invoker=true'],
  'review_queue_export runs with the caller''s rights'
);
select ok(
  not has_table_privilege('anon', 'public.review_queue_export', 'select')
    and has_table_privilege('authenticated', 'public.review_queue_export', 'select')
    and not has_table_privilege('authenticated', 'public.review_queue_export', 'insert')
    and not has_table_privilege('authenticated', 'public.review_queue_export', 'update')
    and not has_table_privilege('authenticated', 'public.review_queue_export', 'delete'),
  'anon cannot read review_queue_export; authenticated may only read it'
);

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select results_eq(
  $$ select e.call_id, e.notes
       from public.review_queue_export e
       join dangerous x on e.flagged_at = now() - interval '2 hours' and e.notes like '''' || x.lead || '%'
      where e.dealership_id = 'honda-quincy' and e.call_id <> 't32-plain'
      order by x.n $$,
  $$ select '''' || x.lead || 'HYPERLINK("http://evil.example/?' || x.n || '","x")',
            '''' || x.lead || 'HYPERLINK("http://evil.example","click")'
       from dangerous x order by x.n $$,
  'A note and a call id starting with =, +, -, @, a tab or a CR come out of review_queue_export quoted'
);
select is(
  (select notes from public.review_queue_export where call_id = 't32-plain'),
  'Called back: A=B, 2+2 at 10am - fine',
  'An ordinary note is unchanged'
);
select is(
  (select assignee_name from public.review_queue_export where call_id = 't32-plain'),
  '''@SUM(1+1)*cmd|'' /C calc''!A0',
  'An assignee''s name starting with @ comes out quoted'
);
select results_eq(
  $$ select score, age_hours, age_bucket, dealership_name from public.review_queue_export where call_id = 't32-plain' $$,
  $$ values (0::smallint, 2.0::numeric, 'under_24h', 'Honda of Quincy') $$,
  'Numbers, the age bucket and an ordinary dealership name are unchanged'
);
select results_eq(
  $$ select timezone, (flagged_local_time || ':00')::timestamp at time zone timezone = date_trunc('minute', flagged_at)
       from public.review_queue_export where call_id = 't32-plain' $$,
  $$ values ('America/New_York', true) $$,
  'The export names when each item was flagged in its dealership''s zone (Honda of Quincy: New York), and that local time is the same instant'
);
select set_eq(
  $$ select dealership_id, call_id, status::text from public.review_queue_export $$,
  $$ select dealership_id, private.csv_safe(call_id), status::text from public.review_queue $$,
  'review_queue_export has exactly the review queue''s rows for the reader (RLS through review_queue)'
);
reset role;

set local role service_role;
select lives_ok(
  $$ select count(*) from public.calls_export union all select count(*) from public.review_queue_export $$,
  'The service role can read both views'
);
reset role;

select * from finish();
rollback;
