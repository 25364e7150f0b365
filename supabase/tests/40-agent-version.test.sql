-- Retell's agent version (issue 16 "Agents"; migration 20261219000100): stored
-- on events and calls by private.ingest_event with the monotonic rule, read back
-- from old payloads by the backfill's function, readable by the API roles under
-- RLS, in calls_export, and compared per agent and version by
-- public.agent_version_comparison for each role. Needs supabase/seed.sql: Nora
-- North (csm), Sam South (csm), Morgan Manager (their manager), Avery Admin.
--
-- Fixture (rolled back): av-east (Nora's), av-west (Sam's), av-none (nobody's).
begin;
select plan(28);

/** The columns and the index */
select col_type_is('public', 'calls', 'agent_version', 'integer', 'calls.agent_version is an integer');
select col_type_is('public', 'events', 'agent_version', 'integer', 'events.agent_version is an integer');
select has_index('public', 'calls', 'calls_dealership_agent_version_time_idx',
  'the agent + version filter has an index that leads with dealership_id');
select ok(
  has_column_privilege('authenticated', 'public.calls', 'agent_version', 'select')
    and has_column_privilege('anon', 'public.calls', 'agent_version', 'select')
    and has_column_privilege('authenticated', 'public.events', 'agent_version', 'select'),
  'the API roles are granted the new columns (RLS still decides the rows)');

/** The backfill's reading of a stored payload: the api's rule */
select is(
  array[private.retell_agent_version('{"call": {"agent_version": 7}}'),
        private.retell_agent_version('{"data": {"agent_version": 6}}'),
        private.retell_agent_version('{"call": null, "data": {"agent_version": 0}}'),
        private.retell_agent_version('{"call": {"agent_version": 2147483647}}')],
  array[7, 6, 0, 2147483647],
  'call.agent_version, else data.agent_version, 0 to 2^31-1');
select is(
  array[private.retell_agent_version('{"call": {"agent_version": "7"}}'),
        private.retell_agent_version('{"call": {"agent_version": -1}}'),
        private.retell_agent_version('{"call": {"agent_version": 2.5}}'),
        private.retell_agent_version('{"call": {"agent_version": 2147483648}}'),
        private.retell_agent_version('{"call": {"call_id": "c"}}'),
        private.retell_agent_version('{"event_id": "e"}')],
  array[null, null, null, null, null, null]::integer[],
  'anything else, or nothing, is null');

/** Ingest: stored as sent on the event; merged like agent_id on the call */
select is(
  (select outcome from private.ingest_event(
     't40-ev1', 'call_started', 'retell', 'av-east', 't40-ingest', '2026-01-01 10:00+00', now(), 1::smallint,
     '\x7b7d', '{}', false, null, null, 'ongoing', 'inbound', '2026-01-01 10:00+00', null, null,
     null, null, null, null, null, 'agent_t40_x', null, null, null, 6)),
  'accepted', 'call_started with version 6 is accepted');
select is((select agent_version from public.calls where call_id = 't40-ingest'), 6,
  'a new call takes the event''s version');
select is(
  (select outcome from private.ingest_event(
     't40-ev2', 'call_ended', 'retell', 'av-east', 't40-ingest', '2026-01-01 10:05+00', now(), 3::smallint,
     '\x7b7d', '{}', false, null, null, 'ended', null, null, '2026-01-01 10:05+00', null,
     null, null, null, null, null, 'agent_t40_x', null, null, null, 7)),
  'accepted', 'call_ended with version 7 is accepted');
select is((select agent_version from public.calls where call_id = 't40-ingest'), 7,
  'a newer event overwrites the version');
select is(
  (select outcome from private.ingest_event(
     't40-ev3', 'transcript_updated', 'retell', 'av-east', 't40-ingest', '2026-01-01 10:03+00', now(), 2::smallint,
     '\x7b7d', '{}', false, null, null, null, null, null, null, null,
     null, null, null, null, null, 'agent_t40_x', null, null, null, 5)),
  'accepted', 'an older transcript_updated with version 5 is accepted');
select is(
  (select outcome from private.ingest_event(
     't40-ev4', 'call_analyzed', 'retell', 'av-east', 't40-ingest', '2026-01-01 10:05+00', now(), 4::smallint,
     '\x7b7d', '{}', false, null, null, 'ended', null, null, null, null,
     null, null, null, null, null, 'agent_t40_x', null, null, null, null)),
  'accepted', 'a newer call_analyzed without a version is accepted');
select is((select agent_version from public.calls where call_id = 't40-ingest'), 7,
  'neither an older event''s version nor a newer event''s null replaces it');
select results_eq(
  $$ select event_id, agent_version from public.events where call_id = 't40-ingest' order by event_id $$,
  $$ values ('t40-ev1', 6), ('t40-ev2', 7), ('t40-ev3', 5), ('t40-ev4', null::integer) $$,
  'each event keeps the version it carried');
-- Newest first without a version, then an older one with version 9.
select is(
  (select outcome from private.ingest_event(
     't40-ev5', 'call_analyzed', 'retell', 'av-east', 't40-late', '2026-01-01 11:05+00', now(), 4::smallint,
     '\x7b7d', '{}', false, null, null, 'ended', null, null, null, null,
     null, null, null, null, null, 'agent_t40_x', null, null, null, null)),
  'accepted', 'a version-less call_analyzed arrives first');
select is(
  (select outcome from private.ingest_event(
     't40-ev6', 'call_started', 'retell', 'av-east', 't40-late', '2026-01-01 11:00+00', now(), 1::smallint,
     '\x7b7d', '{}', false, null, null, 'ongoing', null, null, null, null,
     null, null, null, null, null, 'agent_t40_x', null, null, null, 9)),
  'accepted', 'then the older call_started with version 9');
select is((select agent_version from public.calls where call_id = 't40-late'), 9,
  'an older event fills a NULL version');
delete from public.analysis_jobs where call_id in ('t40-ingest', 't40-late');
delete from public.events where call_id in ('t40-ingest', 't40-late');
delete from public.calls where call_id in ('t40-ingest', 't40-late');

/** The comparison's fixture */
insert into public.dealerships (id, name, timezone)
values ('av-west', 'Versions West', 'America/Chicago'), ('av-none', 'Versions Nobody', 'UTC')
on conflict (id) do nothing;
update public.dealerships set name = 'Versions East', timezone = 'America/New_York' where id = 'av-east';
insert into public.user_dealerships (user_id, dealership_id)
values ('a0000000-0000-4000-8000-000000000003', 'av-east'), ('a0000000-0000-4000-8000-000000000004', 'av-west');
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, agent_id, agent_version, verdict, flags)
values ('av-east', 'e1', now() - interval '30 hours', now(), 'agent_t40_x', 6, 'good', '{}'),
       ('av-east', 'e2', now() - interval '20 hours', now(), 'agent_t40_x', 6, 'bad', '{customer_upset}'),
       ('av-east', 'e3', now() - interval '10 hours', now(), 'agent_t40_x', 6, 'good', '{}'),
       ('av-east', 'e4', now() - interval '9 hours', now(), 'agent_t40_x', 6, null, '{}'),
       ('av-east', 'e5', now() - interval '5 hours', now(), 'agent_t40_x', 7, 'bad', '{handoff_failed}'),
       ('av-east', 'e6', now() - interval '4 hours', now(), 'agent_t40_x', 7, 'bad', '{customer_upset}'),
       ('av-east', 'e7', now() - interval '3 hours', now(), 'agent_t40_x', 7, 'good', '{}'),
       ('av-east', 'e8', now() - interval '2 hours', now(), 'agent_t40_x', null, 'good', '{}'),
       ('av-east', 'e9', now() - interval '10 days', now(), 'agent_t40_x', 5, 'bad', '{}'),
       ('av-west', 'w1', now() - interval '2 hours', now(), 'agent_t40_x', 7, 'good', '{}'),
       ('av-west', 'w2', now() - interval '2 hours', now(), 'agent_t40_y', 1, 'bad', '{}'),
       ('av-none', 'n1', now() - interval '2 hours', now(), 'agent_t40_x', 7, 'bad', '{}');
insert into public.events (event_id, event_type, source, dealership_id, call_id, occurred_at, raw_body, raw_payload, agent_id, agent_version)
values ('t40-e7', 'call_ended', 'retell', 'av-east', 'e7', now(), '\x7b7d', '{}', 'agent_t40_x', 7),
       ('t40-w1', 'call_ended', 'retell', 'av-west', 'w1', now(), '\x7b7d', '{}', 'agent_t40_x', 7);

/** Nora (csm of av-east) */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select results_eq(
  $$ select agent_id, agent_version, calls, analyzed, bad, upset, handoff_failed, bad_share, upset_share
       from public.agent_version_comparison(null, 168) where agent_id like 'agent_t40_%' $$,
  $$ values ('agent_t40_x', 7, 3, 3, 2, 1, 1, 0.6667, 0.3333),
            ('agent_t40_x', 6, 4, 3, 1, 1, 0, 0.3333, 0.3333),
            ('agent_t40_x', null::integer, 1, 1, 0, 0, 0, 0.0000, 0.0000) $$,
  'CSM: per version of her dealership''s calls in the period, newest version first (not w1, w2, n1, nor e9 of 10 days ago)');
select ok(
  (select first_seen_at <= now() - interval '30 hours' and last_seen_at >= now() - interval '9 hours'
          and last_seen_at < now() - interval '8 hours'
     from public.agent_version_comparison('av-east', 168) where agent_id = 'agent_t40_x' and agent_version = 6),
  'CSM: the first and last call of version 6 are e1''s and e4''s start');
select is_empty(
  $$ select 1 from public.agent_version_comparison('av-west', 168) $$,
  'CSM: nothing of a dealership she cannot see, even by name');
select results_eq(
  $$ select call_id, agent_version from public.calls_export where agent_id = 'agent_t40_x' and agent_version = 7 order by call_id $$,
  $$ values ('e5', 7), ('e6', 7), ('e7', 7) $$,
  'CSM: the list and its export filter on agent + version, her calls only');
select results_eq(
  $$ select event_id, agent_version from public.events where event_id like 't40-%' $$,
  $$ values ('t40-e7', 7) $$,
  'CSM: events.agent_version of her dealership only');

/** Sam (csm of av-west) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select results_eq(
  $$ select agent_id, agent_version, calls, bad, bad_share
       from public.agent_version_comparison(null, 168) where agent_id like 'agent_t40_%' $$,
  $$ values ('agent_t40_x', 7, 1, 0, 0.0000), ('agent_t40_y', 1, 1, 1, 1.0000) $$,
  'the other CSM: only his dealership''s agents and versions');

/** Morgan (manager of both) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select results_eq(
  $$ select calls, analyzed, bad, bad_share
       from public.agent_version_comparison(null, 168) where agent_id = 'agent_t40_x' and agent_version = 7 $$,
  $$ values (4, 4, 2, 0.5000) $$,
  'manager: version 7 at both team dealerships (not av-none)');

/** Avery (admin) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select results_eq(
  $$ select calls, bad, bad_share
       from public.agent_version_comparison(null, 168) where agent_id = 'agent_t40_x' and agent_version = 7 $$,
  $$ values (5, 3, 0.6000) $$,
  'admin: every dealership''s version 7, the unassigned one too');
select results_eq(
  $$ select agent_version, calls from public.agent_version_comparison('av-east', 720) where agent_id = 'agent_t40_x' and agent_version = 5 $$,
  $$ values (5, 1) $$,
  'a 30-day period reaches e9''s version 5');
select throws_ok(
  $$ select * from public.agent_version_comparison(null, 0) $$,
  '22023', null, 'p_hours below 1 is refused as bad input');

/** anon */
reset role;
set local role anon;
select throws_ok(
  $$ select * from public.agent_version_comparison(null, 168) $$,
  '42501', null, 'anon may not call the comparison');

select * from finish();
rollback;
