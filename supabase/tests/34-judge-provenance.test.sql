-- Provenance and judge errors (issue 13, sections 4 and 7; migration
-- 20261214000100): call_analyses.analyzer / prompt_sha256 / schema_sha256 /
-- dropped_quotes, reporting.eval_labels' current verdict, and
-- label_agreement()'s judge_errors, per role. Needs supabase/seed.sql.
--
-- Fixture (rolled back): jp-east (Nora North's), jp-west (Sam South's); Morgan
-- Manager sees both. Labelled calls and their current analysis:
--   jp-east e1: ok, 2 dropped quotes;  e2: ok, none;  e3: failed (no verdict)
--   jp-west w1: ok, 1 dropped quote
begin;
select plan(13);

insert into public.dealerships (id, name, timezone)
values ('jp-east', 'Provenance East', 'America/New_York'), ('jp-west', 'Provenance West', 'America/Chicago');
insert into public.user_dealerships (user_id, dealership_id)
values ('a0000000-0000-4000-8000-000000000003', 'jp-east'), ('a0000000-0000-4000-8000-000000000004', 'jp-west');
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, transcript, duration_sec)
values ('jp-east', 'e1', now(), now(), 'Agent: one', 60), ('jp-east', 'e2', now(), now(), 'Agent: two', 60),
       ('jp-east', 'e3', now(), now(), 'Agent: three', 60), ('jp-west', 'w1', now(), now(), 'Agent: four', 60);
insert into public.call_analyses
  (dealership_id, call_id, analysis, verdict, score, recommended_action, confidence, status, model, prompt_version,
   analyzer, prompt_sha256, schema_sha256, dropped_quotes)
values
  ('jp-east', 'e1', '{}', 'needs_review', 70, 'human_follow_up', 0.8, 'ok', 'gpt-x', 'analysis-v2',
   'openai', repeat('a', 64), repeat('b', 64), '{"not said","also not said"}'),
  ('jp-east', 'e2', '{}', 'good', 90, 'none', 0.8, 'ok', 'heuristic-v1', 'rules-v2',
   'heuristic', null, repeat('b', 64), '{}'),
  ('jp-east', 'e3', '{}', 'needs_review', null, 'human_follow_up', 0, 'failed', 'gpt-x', 'analysis-v2',
   'openai', repeat('a', 64), repeat('b', 64), '{}'),
  ('jp-west', 'w1', '{}', 'bad', 20, 'human_follow_up', 0.8, 'ok', 'gpt-x', 'analysis-v2',
   'openai', repeat('a', 64), repeat('b', 64), '{"invented"}');
insert into public.review_events (dealership_id, call_id, actor_id, from_status, to_status, kind, label_verdict, label_flags)
select d, c, 'a0000000-0000-4000-8000-000000000003', 'open', 'open', 'label', 'bad', '{}'
  from (values ('jp-east', 'e1'), ('jp-east', 'e2'), ('jp-east', 'e3'), ('jp-west', 'w1')) v (d, c);

/** The columns and what they accept */
select has_column('public', 'call_analyses', c, format('call_analyses.%s exists', c))
  from unnest(array['analyzer', 'prompt_sha256', 'schema_sha256', 'dropped_quotes']::name[]) c;
select throws_ok(
  $$ insert into public.call_analyses (dealership_id, call_id, analysis, verdict, score, recommended_action,
       confidence, status, model, prompt_version, analyzer)
     values ('jp-east', 'e2', '{}', 'good', 90, 'none', 0.8, 'ok', 'm', 'p', 'gpt') $$,
  '23514', null, 'analyzer is openai, heuristic or retell-signals');
select throws_ok(
  $$ insert into public.call_analyses (dealership_id, call_id, analysis, verdict, score, recommended_action,
       confidence, status, model, prompt_version, prompt_sha256)
     values ('jp-east', 'e2', '{}', 'good', 90, 'none', 0.8, 'ok', 'm', 'p', 'not-a-hash') $$,
  '23514', null, 'prompt_sha256 is 64 hex digits');

/** Morgan (manager): both dealerships */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select is(
  public.label_agreement('jp-east') -> 'judge_errors',
  '{"analyses": 2, "analyses_with_dropped_quotes": 1, "dropped_quotes": 2}'::jsonb,
  'manager, jp-east: two labelled calls with a current verdict, one with 2 invented quotes (the failed analysis is left out)');
select is(
  public.label_agreement('jp-west') -> 'judge_errors',
  '{"analyses": 1, "analyses_with_dropped_quotes": 1, "dropped_quotes": 1}'::jsonb,
  'manager, jp-west: one call with 1 invented quote');
select results_eq(
  $$ select id, current_verdict, current_model, current_prompt_version
       from reporting.eval_labels where dealership_id like 'jp-%' order by id $$,
  $$ values ('jp-east/e1', 'needs_review', 'gpt-x', 'analysis-v2'),
            ('jp-east/e2', 'good', 'heuristic-v1', 'rules-v2'),
            ('jp-east/e3', null, null, null),
            ('jp-west/w1', 'bad', 'gpt-x', 'analysis-v2') $$,
  'eval_labels carries each call''s current successful verdict, none for a failed one');

/** Nora (CSM of jp-east): only her dealership */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select is(
  public.label_agreement('jp-west') -> 'judge_errors',
  '{"analyses": 0, "analyses_with_dropped_quotes": 0, "dropped_quotes": 0}'::jsonb,
  'CSM: nothing of a dealership she does not see');
select is(
  public.label_agreement('jp-east') -> 'judge_errors',
  '{"analyses": 2, "analyses_with_dropped_quotes": 1, "dropped_quotes": 2}'::jsonb,
  'CSM: her own dealership''s judge errors');
select is(
  (select count(*)::int from reporting.eval_labels where dealership_id = 'jp-west'),
  0,
  'CSM: no eval labels of another dealership');

/** anon */
reset role;
set local role anon;
select throws_ok($$ select public.label_agreement() $$, '42501', null, 'anon cannot call label_agreement');

select * from finish();
rollback;
