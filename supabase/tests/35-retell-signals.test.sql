-- Retell's signals on an analysis (issue 13, section 5; migration
-- 20261217000100): call_analyses.retell_signals accepts only
-- domain::signals::RetellSignal's codes, and each role reads it on exactly the
-- analyses it may see and cannot write it. Needs supabase/seed.sql.
--
-- Fixture (rolled back): rs-east (Nora North's), rs-west (Sam South's); Morgan
-- Manager sees both. e1 was decided by in_voicemail, w1 changed by
-- transfer_failed.
begin;
select plan(12);

insert into public.dealerships (id, name, timezone)
values ('rs-east', 'Signals East', 'America/New_York'), ('rs-west', 'Signals West', 'America/Chicago');
insert into public.user_dealerships (user_id, dealership_id)
values ('a0000000-0000-4000-8000-000000000003', 'rs-east'), ('a0000000-0000-4000-8000-000000000004', 'rs-west');
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, transcript)
values ('rs-east', 'e1', now(), now(), 'Agent: one'), ('rs-west', 'w1', now(), now(), 'Agent: two');
insert into public.call_analyses
  (dealership_id, call_id, analysis, verdict, score, recommended_action, confidence, status, model, prompt_version,
   analyzer, retell_signals)
values
  ('rs-east', 'e1', '{}', 'needs_review', 55, 'human_follow_up', 0.9, 'ok', 'heuristic-v1', 'retell-signals-v1',
   'retell-signals', '{in_voicemail}'),
  ('rs-west', 'w1', '{}', 'bad', 30, 'human_follow_up', 0.8, 'ok', 'heuristic-v1', 'rules-v2',
   'heuristic', '{transfer_failed}');

/** The column and what it accepts */
select has_column('public', 'call_analyses', 'retell_signals', 'call_analyses.retell_signals exists');
select col_default_is('public', 'call_analyses', 'retell_signals', '{}'::text[], 'an analysis no signal changed has none');
select lives_ok(
  $$ insert into public.call_analyses (dealership_id, call_id, analysis, verdict, score, recommended_action,
       confidence, status, model, prompt_version, retell_signals)
     values ('rs-east', 'e1', '{}', 'needs_review', 60, 'human_follow_up', 0.8, 'ok', 'm', 'p',
             '{in_voicemail,voicemail_reached,call_successful_false,user_sentiment_negative,transfer_cancelled,transfer_failed}') $$,
  'every code of domain::signals::RetellSignal is accepted');
select throws_ok(
  $$ insert into public.call_analyses (dealership_id, call_id, analysis, verdict, score, recommended_action,
       confidence, status, model, prompt_version, retell_signals)
     values ('rs-east', 'e1', '{}', 'good', 90, 'none', 0.8, 'ok', 'm', 'p', '{user_sentiment_positive}') $$,
  '23514', null, 'a code that is not a signal is refused');

/** Nora (CSM of rs-east) */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select results_eq(
  $$ select retell_signals from public.call_analyses where dealership_id = 'rs-east' and call_id = 'e1' order by id limit 1 $$,
  $$ values ('{in_voicemail}'::text[]) $$,
  'CSM: reads which signal decided her dealership''s call');
select is_empty(
  $$ select retell_signals from public.call_analyses where dealership_id = 'rs-west' $$,
  'CSM: nothing of another dealership''s analyses');
select throws_ok(
  $$ update public.call_analyses set retell_signals = '{}' where dealership_id = 'rs-east' $$,
  '42501', null, 'CSM: cannot change the recorded signals');

/** Sam (CSM of rs-west) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select results_eq(
  $$ select retell_signals from public.call_analyses where dealership_id like 'rs-%' $$,
  $$ values ('{transfer_failed}'::text[]) $$,
  'the other CSM: only his own dealership''s signals');

/** Morgan (manager of both) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select is(
  (select count(*)::int from public.call_analyses where dealership_id like 'rs-%' and retell_signals <> '{}'),
  3,
  'manager: the signals of both team dealerships');
select throws_ok(
  $$ insert into public.call_analyses (dealership_id, call_id, analysis, verdict, score, recommended_action,
       confidence, status, model, prompt_version, retell_signals)
     values ('rs-east', 'e1', '{}', 'good', 90, 'none', 0.8, 'ok', 'm', 'p', '{}') $$,
  '42501', null, 'manager: cannot write an analysis');

/** Avery (admin) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select is(
  (select count(*)::int from public.call_analyses where dealership_id like 'rs-%' and retell_signals <> '{}'),
  3,
  'admin: every dealership''s signals');

/** anon */
reset role;
set local role anon;
select is_empty(
  $$ select retell_signals from public.call_analyses where dealership_id like 'rs-%' $$,
  'anon: nothing');

select * from finish();
rollback;
