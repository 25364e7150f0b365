-- The call list's agent and sentiment filters (issue 16 "Agents"; migration
-- 20261217000200): calls.user_sentiment is Retell's user_sentiment, the
-- filters' indexes exist, and each role filters only the calls it may see, in
-- the list and in calls_export. Needs supabase/seed.sql.
--
-- Fixture (rolled back): ag-east (Nora North's), ag-west (Sam South's); Morgan
-- Manager sees both. Agent agent_a took e1 (Negative) and w1 (Negative);
-- agent_b took e2 (Positive); e3 has no Retell analysis yet.
begin;
select plan(12);

insert into public.dealerships (id, name, timezone)
values ('ag-east', 'Agents East', 'America/New_York'), ('ag-west', 'Agents West', 'America/Chicago');
insert into public.user_dealerships (user_id, dealership_id)
values ('a0000000-0000-4000-8000-000000000003', 'ag-east'), ('a0000000-0000-4000-8000-000000000004', 'ag-west');
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, agent_id, retell_analysis)
values ('ag-east', 'e1', now(), now(), 'agent_a', '{"user_sentiment": "Negative", "call_successful": false}'),
       ('ag-east', 'e2', now(), now(), 'agent_b', '{"user_sentiment": "Positive"}'),
       ('ag-east', 'e3', now(), now(), 'agent_a', null),
       ('ag-west', 'w1', now(), now(), 'agent_a', '{"user_sentiment": "Negative"}');

/** The column and the indexes */
select results_eq(
  $$ select call_id, user_sentiment from public.calls where dealership_id = 'ag-east' order by call_id $$,
  $$ values ('e1', 'Negative'), ('e2', 'Positive'), ('e3', null) $$,
  'user_sentiment is Retell''s, null before call_analyzed');
select throws_ok(
  $$ update public.calls set user_sentiment = 'Positive' where call_id = 'e1' $$,
  '428C9', null, 'user_sentiment cannot be written: it follows retell_analysis');
update public.calls set retell_analysis = '{"user_sentiment": "Neutral"}' where dealership_id = 'ag-east' and call_id = 'e3';
select is(
  (select user_sentiment from public.calls where dealership_id = 'ag-east' and call_id = 'e3'),
  'Neutral', 'a later call_analyzed moves it with retell_analysis');
select has_index('public', 'calls', 'calls_dealership_agent_time_idx', 'the agent filter has an index that leads with dealership_id');
select has_index('public', 'calls', 'calls_dealership_sentiment_time_idx', 'the sentiment filter has an index that leads with dealership_id');

/** Nora (CSM of ag-east) */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select results_eq(
  $$ select call_id from public.calls where agent_id = 'agent_a' and user_sentiment in ('Negative') and dealership_id like 'ag-%' $$,
  $$ values ('e1') $$,
  'CSM: agent_a''s negative calls are her own only (not ag-west''s w1)');
select results_eq(
  $$ select call_id, agent_id, user_sentiment from public.calls_export where agent_id = 'agent_b' and dealership_id like 'ag-%' $$,
  $$ values ('e2', 'agent_b', 'Positive') $$,
  'CSM: the export filters the same way');

/** Sam (CSM of ag-west) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select results_eq(
  $$ select call_id from public.calls_export where user_sentiment = 'Negative' and dealership_id like 'ag-%' $$,
  $$ values ('w1') $$,
  'the other CSM: only his own dealership''s negative calls');
select is_empty(
  $$ select 1 from public.calls where agent_id = 'agent_b' and dealership_id like 'ag-%' $$,
  'the other CSM: nothing of an agent that took only her calls');

/** Morgan (manager of both) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select is(
  (select count(*)::int from public.calls where agent_id = 'agent_a' and dealership_id like 'ag-%'),
  3, 'manager: agent_a''s calls at both team dealerships');

/** anon */
reset role;
set local role anon;
select is_empty(
  $$ select 1 from public.calls where agent_id = 'agent_a' $$,
  'anon: no calls, whatever the filter');
select throws_ok(
  $$ select 1 from public.calls_export where agent_id = 'agent_a' $$,
  '42501', null, 'anon: may not read calls_export');

select * from finish();
rollback;
