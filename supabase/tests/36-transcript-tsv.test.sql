-- The stored transcript tsvector and its search (migration 20261215000200): the
-- column is exactly the old index expression and follows the transcript, the GIN
-- index answers the column (the old computed field transcript_search(calls) is
-- gone since 20261218000100: column privileges refuse whole-row functions), and what each role
-- finds through it is what row-level security lets it read. Needs
-- supabase/seed.sql (the demo users).
--
-- Fixture calls (rolled back), each with a word no other transcript has:
--   honda-quincy   t36-north   "quokkanorth"  (csm.north, the manager, the admin)
--   ford-weymouth  t36-south   "quokkasouth"  (csm.south, the manager, the admin)
--   kia-hingham    t36-kia     "quokkakia"    (the admin only)
--   honda-quincy   t36-empty   no transcript
begin;
select plan(17);

\set admin '''a0000000-0000-4000-8000-000000000001'''
\set morgan '''a0000000-0000-4000-8000-000000000002'''
\set nora '''a0000000-0000-4000-8000-000000000003'''

insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, transcript)
values
  ('honda-quincy', 't36-north', now() - interval '1 hour', now(), 'Agent: Honda of Quincy. User: My quokkanorth is making noises.'),
  ('ford-weymouth', 't36-south', now() - interval '1 hour', now(), 'Agent: Ford of Weymouth. User: The quokkasouth light is on.'),
  ('kia-hingham', 't36-kia', now() - interval '1 hour', now(), 'Agent: Kia of Hingham. User: I want a quokkakia.'),
  ('honda-quincy', 't36-empty', now() - interval '1 hour', now(), null);

/** The column */
select ok(
  exists (select 1 from pg_attribute
           where attrelid = 'public.calls'::regclass and attname = 'transcript_tsv'
             and attgenerated = 's' and atttypid = 'tsvector'::regtype),
  'calls.transcript_tsv is a stored generated tsvector column'
);
select is_empty(
  $$ select call_id from public.calls
      where call_id like 't36-%'
        and transcript_tsv is distinct from to_tsvector('english', coalesce(transcript, '')) $$,
  'The stored value is the old index expression, to_tsvector(''english'', coalesce(transcript, '''')), also without a transcript'
);
update public.calls set transcript = 'Agent: Honda of Quincy. User: Now it is the wallabynorth.'
 where dealership_id = 'honda-quincy' and call_id = 't36-north';
select is(
  (select array[transcript_tsv @@ websearch_to_tsquery('english', 'wallabynorth'),
                transcript_tsv @@ websearch_to_tsquery('english', 'quokkanorth')]
     from public.calls where dealership_id = 'honda-quincy' and call_id = 't36-north'),
  array[true, false],
  'A new transcript replaces the stored lexemes (the new word matches, the old one no longer does)'
);
update public.calls set transcript = 'Agent: Honda of Quincy. User: My quokkanorth is making noises.'
 where dealership_id = 'honda-quincy' and call_id = 't36-north';

/** The indexes */
select ok(
  exists (select 1 from pg_indexes
           where schemaname = 'public' and tablename = 'calls' and indexname = 'calls_transcript_tsv_idx'
             and indexdef like '%USING gin (transcript_tsv)%'),
  'calls_transcript_tsv_idx is a GIN index on the stored column'
);
select hasnt_index('public', 'calls', 'calls_transcript_fts_idx',
  'The expression index it replaces is gone (the same lexemes were maintained twice)');

set local enable_seqscan = off;
create temporary table t36_plans (query text, plan text) on commit drop;
do $$
declare
  r record;
  q text;
begin
  foreach q in array array[
    $q$select call_id from public.calls where transcript_tsv @@ websearch_to_tsquery('english', 'quokkanorth')$q$,
    $q$select call_id from public.calls_export where transcript_tsv @@ websearch_to_tsquery('english', 'quokkanorth')$q$,
    $q$select call_id from public.calls_export where transcript_search @@ websearch_to_tsquery('english', 'quokkanorth')$q$]
  loop
    for r in execute 'explain (costs off) ' || q loop
      insert into t36_plans values (q, r."QUERY PLAN");
    end loop;
  end loop;
end
$$;
select is(
  (select count(distinct query)::int from t36_plans
    where query like '%from public.calls %' and plan like '%calls_transcript_tsv_idx%'),
  1,
  'On calls, the column is answered by calls_transcript_tsv_idx'
);
select is(
  (select count(distinct query)::int from t36_plans p
    where exists (select 1 from t36_plans q where q.query = p.query and q.plan like '%transcript_tsv @@%')
      and not exists (select 1 from t36_plans q where q.query = p.query and q.plan like '%to_tsvector%')),
  3,
  'Every form of the search (the column, both calls_export columns) compares the stored column and computes no tsvector'
);
reset enable_seqscan;

/** csm.north */
set local role authenticated;
select tests.authenticate_as(:nora);
select results_eq(
  $$ select call_id from public.calls where transcript_tsv @@ websearch_to_tsquery('english', 'quokkanorth') $$,
  $$ values ('t36-north'::text) $$,
  'csm.north finds her dealership''s call by a word of its transcript'
);
select is_empty(
  $$ select call_id from public.calls
      where transcript_tsv @@ websearch_to_tsquery('english', 'quokkasouth')
         or transcript_tsv @@ websearch_to_tsquery('english', 'quokkakia') $$,
  'csm.north finds no call of another dealership by its words'
);
select results_eq(
  $$ select call_id from public.calls_export
      where transcript_tsv @@ websearch_to_tsquery('english', 'quokkanorth or quokkasouth or quokkakia') $$,
  $$ values ('t36-north'::text) $$,
  'The CSV export''s search finds only her own call'
);
select is_empty(
  $$ select call_id from public.calls
      where call_id like 't36-%' and transcript_tsv @@ websearch_to_tsquery('english', 'the') $$,
  'A search of stop words only matches nothing (documented: no lexeme to look for)'
);
select results_eq(
  $$ select call_id from public.calls
      where call_id like 't36-%' and transcript_tsv @@ websearch_to_tsquery('english', '"making noises"') $$,
  $$ values ('t36-north'::text) $$,
  'A quoted phrase matches the words in that order (websearch syntax, stemmed)'
);
reset role;

/** The manager */
set local role authenticated;
select tests.authenticate_as(:morgan);
select set_eq(
  $$ select call_id from public.calls
      where transcript_tsv @@ websearch_to_tsquery('english', 'quokkanorth or quokkasouth or quokkakia') $$,
  array['t36-north', 't36-south'],
  'The manager finds the calls of both CSMs'' dealerships, not the unassigned one'
);
reset role;

/** The admin */
set local role authenticated;
select tests.authenticate_as(:admin);
select set_eq(
  $$ select call_id from public.calls
      where transcript_tsv @@ websearch_to_tsquery('english', 'quokkanorth or quokkasouth or quokkakia') $$,
  array['t36-north', 't36-south', 't36-kia'],
  'The admin finds every dealership''s call'
);
reset role;

/** anon */
set local role anon;
select is_empty(
  $$ select call_id from public.calls where transcript_tsv @@ websearch_to_tsquery('english', 'quokkanorth') $$,
  'anon finds nothing'
);
select throws_ok(
  $$ select call_id from public.calls_export where transcript_tsv @@ websearch_to_tsquery('english', 'quokkanorth') $$,
  '42501', null,
  'anon may not read the export view at all'
);
reset role;

/** A signed-in user whose session ended */
set local role authenticated;
select set_config('request.jwt.claims',
  json_build_object('sub', :admin, 'role', 'authenticated', 'session_id', gen_random_uuid())::text, true);
select is_empty(
  $$ select call_id from public.calls where transcript_tsv @@ websearch_to_tsquery('english', 'quokkakia') $$,
  'A token whose session is not live finds nothing, even the admin''s'
);
reset role;

select * from finish();
rollback;
