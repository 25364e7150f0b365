-- private.ingest_event and the rules it is built from (migration 20261208000100):
-- the status rank, "is this event newer", the field merge, what one event stores,
-- a duplicate that changes nothing, and that no API role can call any of them.
-- The api's tests (api/tests/webhook/) cover ordering and enqueueing over HTTP.
begin;
select plan(18);

/** The rules, each written once */
select is(
  array[private.call_status_rank('registered'), private.call_status_rank('ongoing'),
        private.call_status_rank('ended'), private.call_status_rank('not_connected'),
        private.call_status_rank('error'), private.call_status_rank('something_new')],
  array[0, 1, 2, 2, 2, 1],
  'Status rank: registered 0, ongoing and unknown values 1, terminal 2'
);
select ok(
  private.event_is_newer(3::smallint, '2026-01-01 10:00+00', 2::smallint, '2026-01-01 11:00+00')
    and private.event_is_newer(2::smallint, '2026-01-01 10:00+00', 2::smallint, '2026-01-01 10:00+00')
    and not private.event_is_newer(2::smallint, '2026-01-01 12:00+00', 3::smallint, '2026-01-01 10:00+00'),
  'An event is newer by rank first, then by time; an equal pair counts as newer'
);
select is(
  array[private.call_status_after('ended', 'ongoing', true),
        private.call_status_after('ongoing', 'ended', false),
        private.call_status_after('ended', 'error', false),
        private.call_status_after('ended', 'error', true),
        private.call_status_after(null, 'registered', false),
        private.call_status_after('ongoing', null, true)],
  array['ended', 'ended', 'ended', 'error', 'registered', 'ongoing'],
  'Status never leaves a terminal state; an equal rank moves only with a newer event'
);
select is(
  array[private.merge_call_field(true, 'new'::text, 'old'), private.merge_call_field(false, 'new'::text, 'old'),
        private.merge_call_field(false, 'new'::text, null), private.merge_call_field(true, null::text, 'old')],
  array['new', 'old', 'new', 'old'],
  'A newer event overwrites with its non-null values; an older one only fills NULLs'
);

/** One event, end to end */
select is(
  (select row(outcome, job_id is not null)::text from private.ingest_event(
     'pgtap-ingest-1', 'call_ended', 'normalized', 'pgtap-ingest-dealer', 'pgtap-ingest-call',
     '2026-01-01 10:00+00', now(), 3::smallint, '\x7b7d', '{}', true, null, null,
     'ended', 'inbound', '2026-01-01 09:55+00', '2026-01-01 10:00+00', 300,
     'Agent: Hello. User: Book me in.', null, 'sha-1', '+15550000001', 'Pat', 'agent-1', 'user_hangup',
     null, '{"k": 1}')),
  '(accepted,t)',
  'A new call with a judgeable transcript is accepted and enqueued'
);
select is(
  (select row(name, auto_registered, set_up)::text from public.dealerships where id = 'pgtap-ingest-dealer'),
  '(pgtap-ingest-dealer,t,f)',
  'An unknown dealership is registered, not set up, named by its slug'
);
select is(
  (select row(call_status, transcript_sha256, first_event_at = '2026-01-01 09:55+00', last_event_rank)::text
     from public.calls where call_id = 'pgtap-ingest-call'),
  '(ended,sha-1,t,3)',
  'The call row holds the event''s fields; first_event_at is the start time'
);
select is(
  (select count(*)::int from public.analysis_jobs where call_id = 'pgtap-ingest-call' and status = 'queued'),
  1,
  'One analysis job is queued'
);

-- An older event with the same transcript: fills NULLs only, no new job.
select is(
  (select row(outcome, job_id)::text from private.ingest_event(
     'pgtap-ingest-2', 'call_started', 'retell', 'pgtap-ingest-dealer', 'pgtap-ingest-call',
     '2026-01-01 09:55+00', now(), 1::smallint, '\x7b7d', '{}', false, null, null,
     'ongoing', 'outbound', null, null, null, null, null, null, null, null, null, null,
     '{"sentiment": "x"}', null)),
  '(accepted,)',
  'An older event is accepted without a job'
);
select is(
  (select row(call_status, direction, retell_analysis, last_event_rank)::text
     from public.calls where call_id = 'pgtap-ingest-call'),
  '(ended,inbound,"{""sentiment"": ""x""}",3)',
  'The older event changed no set field and did not move the status back; it filled a NULL'
);

-- A duplicate event_id: nothing changes, and the dealership it named is not registered.
select is(
  (select row(outcome, job_id)::text from private.ingest_event(
     'pgtap-ingest-1', 'call_ended', 'normalized', 'pgtap-ingest-other-dealer', 'pgtap-ingest-call-2',
     '2026-01-01 10:00+00', now(), 3::smallint, '\x7b7d', '{}', true, null, null,
     'ended', null, null, null, null, 'Agent: Hi.', null, 'sha-2', null, null, null, null, null, null)),
  '(duplicate,)',
  'A repeated event_id is a duplicate'
);
select ok(
  not exists (select 1 from public.dealerships where id = 'pgtap-ingest-other-dealer')
    and not exists (select 1 from public.calls where call_id = 'pgtap-ingest-call-2'),
  'A duplicate registers no dealership and stores no call'
);

-- Without a dealership: stored, listed in processing_errors, no call row.
select is(
  (select row(outcome, job_id)::text from private.ingest_event(
     'pgtap-ingest-3', 'call_ended', 'retell', null, 'pgtap-ingest-call-3',
     '2026-01-01 10:00+00', now(), 3::smallint, '\x7b7d', '{}', false, 'dealership_unresolved', '{"reason": "no dealership"}',
     'ended', null, null, null, null, 'Agent: Hi.', null, 'sha-3', null, null, null, null, null, null)),
  '(unresolved,)',
  'An event without a dealership is stored as unresolved'
);
select is(
  (select row(error, detail ->> 'reason')::text from public.processing_errors where event_id = 'pgtap-ingest-3'),
  '(dealership_unresolved,"no dealership")',
  'Its processing error says why'
);

-- The same transcript again after the job finished: not queued twice.
update public.analysis_jobs set status = 'done' where call_id = 'pgtap-ingest-call';
select is(
  (select row(outcome, job_id)::text from private.ingest_event(
     'pgtap-ingest-4', 'call_analyzed', 'retell', 'pgtap-ingest-dealer', 'pgtap-ingest-call',
     '2026-01-01 10:01+00', now(), 4::smallint, '\x7b7d', '{}', true, null, null,
     'ended', null, null, null, null, 'Agent: Hello. User: Book me in.', null, 'sha-1', null, null, null, null, null, null)),
  '(accepted,)',
  'A transcript that was already queued once is not queued again'
);

/** No API role may call them */
select ok(
  not has_function_privilege('anon', 'private.ingest_event(text, text, text, text, text, timestamptz, timestamptz, smallint, bytea, jsonb, boolean, text, jsonb, text, text, timestamptz, timestamptz, integer, text, jsonb, text, text, text, text, text, jsonb, jsonb, integer)', 'execute')
    and not has_function_privilege('authenticated', 'private.ingest_event(text, text, text, text, text, timestamptz, timestamptz, smallint, bytea, jsonb, boolean, text, jsonb, text, text, timestamptz, timestamptz, integer, text, jsonb, text, text, text, text, text, jsonb, jsonb, integer)', 'execute'),
  'Neither anon nor authenticated can call private.ingest_event'
);
select ok(
  not has_function_privilege('authenticated', 'private.call_status_after(text, text, boolean)', 'execute')
    and not has_function_privilege('authenticated', 'private.event_is_newer(smallint, timestamptz, smallint, timestamptz)', 'execute')
    and not has_function_privilege('authenticated', 'private.merge_call_field(boolean, anyelement, anyelement)', 'execute')
    and not has_function_privilege('authenticated', 'private.call_status_rank(text)', 'execute'),
  'authenticated cannot call the rule helpers'
);
set local role authenticated;
select throws_ok(
  $$ select * from private.ingest_event('pgtap-ingest-5', 'call_ended', 'normalized', 'pgtap-ingest-dealer', 'x',
       now(), now(), 3::smallint, '\x7b7d', '{}', false, null, null, null, null, null, null, null, null, null,
       null, null, null, null, null, null, null) $$,
  '42501',
  null,
  'A signed-in user calling private.ingest_event is refused'
);
reset role;

select * from finish();
rollback;
