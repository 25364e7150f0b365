-- The customer's number (issue 16): the API roles read only its last 4 digits and
-- masked payloads; a csm or manager who may follow up reveals it, audited. Needs
-- supabase/seed.sql: Nora North (csm of toyota-braintree), Sam South (csm of
-- ford-weymouth), Morgan Manager, Avery Admin.
begin;
select plan(24);

insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, customer_phone)
values ('toyota-braintree', 't38-north', now(), now(), '+1 (617) 555-0101'),
       ('toyota-braintree', 't38-short', now(), now(), '123'),
       ('toyota-braintree', 't38-none', now(), now(), null),
       ('ford-weymouth', 't38-south', now(), now(), '+17815550199');
insert into public.events (event_id, event_type, source, dealership_id, call_id, occurred_at, raw_body, raw_payload, customer_phone)
values ('t38-e1', 'call_ended', 'retell', 'toyota-braintree', 't38-north', now(), '\x7b7d'::bytea,
        '{"event": "call_ended", "call": {"call_id": "t38-north", "from_number": "+16175550101", "to_number": "+17815550100", "direction": "inbound"}}',
        '+16175550101'),
       ('t38-e2', 'call_completed', 'normalized', 'toyota-braintree', 't38-north', now() + interval '1 second', '\x7b7d'::bytea,
        '{"event_id": "t38-e2", "customer": {"phone": "+1 617 555 0101", "name": "Pat"}, "data": {"from_number": "12"}}',
        '+16175550101'),
       ('t38-e3', 'call_ended', 'retell', 'ford-weymouth', 't38-south', now(), '\x7b7d'::bytea,
        '{"event": "call_ended", "call": {"call_id": "t38-south", "from_number": "+17815550199"}}',
        '+17815550199');

/** Nora (csm of toyota-braintree) */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');

select throws_ok(
  $$ select customer_phone from public.calls where call_id = 't38-north' $$,
  '42501', null,
  'A signed-in user cannot read calls.customer_phone'
);
select throws_ok(
  $$ select * from public.calls where call_id = 't38-north' $$,
  '42501', null,
  'Nor through select *'
);
select results_eq(
  $$ select call_id, customer_phone_last4 from public.calls where call_id like 't38-%' order by call_id $$,
  $$ values ('t38-none', null::text), ('t38-north', '0101'), ('t38-short', '') $$,
  'She reads the last 4 digits (empty for 4 digits or fewer, null when unknown), only of her dealership'
);
select throws_ok(
  $$ select raw_payload from public.events where event_id = 't38-e1' $$,
  '42501', null,
  'She cannot read events.raw_payload'
);
select throws_ok(
  $$ select raw_body from public.events where event_id = 't38-e1' $$,
  '42501', null,
  'nor events.raw_body'
);
select throws_ok(
  $$ select customer_phone from public.events where event_id = 't38-e1' $$,
  '42501', null,
  'nor events.customer_phone'
);
select results_eq(
  $$ select event_id, payload #>> '{call,from_number}', payload #>> '{call,to_number}', payload #>> '{call,direction}'
       from public.call_events('toyota-braintree', 't38-north') where event_id = 't38-e1' $$,
  $$ values ('t38-e1', '***0101', '***0100', 'inbound') $$,
  'call_events masks the Retell phone fields and keeps the rest'
);
select results_eq(
  $$ select payload #>> '{customer,phone}', payload #>> '{customer,name}', payload #>> '{data,from_number}'
       from public.call_events('toyota-braintree', 't38-north') where event_id = 't38-e2' $$,
  $$ values ('***0101', 'Pat', '***') $$,
  'and customer.phone and data.from_number (4 digits or fewer: ***)'
);
select is(
  (select count(*)::int from public.call_events('ford-weymouth', 't38-south')),
  0,
  'call_events shows nothing of a dealership she cannot see'
);
select is(
  public.reveal_customer_phone('toyota-braintree', 't38-north'),
  '+1 (617) 555-0101',
  'She reveals the full number of a call of her dealership'
);
select results_eq(
  $$ select user_id, dealership_id, call_id from public.phone_reveals where call_id = 't38-north' $$,
  $$ values ('a0000000-0000-4000-8000-000000000003'::uuid, 'toyota-braintree', 't38-north') $$,
  'The reveal is recorded: who, which call'
);
select throws_ok(
  $$ select public.reveal_customer_phone('ford-weymouth', 't38-south') $$,
  '42501', 'you are not assigned to dealership ford-weymouth',
  'She cannot reveal a number of a dealership she is not assigned to'
);
select throws_ok(
  $$ select public.reveal_customer_phone('toyota-braintree', 't38-none') $$,
  'PT404', 'the call has no customer number',
  'A call without a number says so'
);
select throws_ok(
  $$ select public.reveal_customer_phone('toyota-braintree', 't38-missing') $$,
  'PT404', null,
  'A call that does not exist says so'
);
select throws_ok(
  $$ insert into public.phone_reveals (user_id, dealership_id, call_id)
     values ('a0000000-0000-4000-8000-000000000003', 'toyota-braintree', 't38-north') $$,
  '42501', null,
  'Nobody writes reveals directly (no forged or deleted audit rows)'
);
select is(
  (select customer_phone_masked from public.calls_export where call_id = 't38-north'),
  '***0101',
  'The CSV export still shows ***<last 4>'
);

/** Sam (csm of ford-weymouth) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select is(
  (select count(*)::int from public.phone_reveals where call_id = 't38-north'),
  0,
  'Another dealership''s CSM does not see who revealed its numbers'
);

/** Morgan (manager of both) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select is(
  public.reveal_customer_phone('ford-weymouth', 't38-south'),
  '+17815550199',
  'A manager reveals the number of a team dealership''s call'
);
select is(
  (select count(*)::int from public.phone_reveals where call_id like 't38-%'),
  2,
  'The manager sees both reveals of the team'
);
select throws_ok(
  $$ select raw_payload from public.events where event_id = 't38-e3' $$,
  '42501', null,
  'A manager cannot read raw payloads either'
);

/** Avery (admin: read-only in the app) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select throws_ok(
  $$ select public.reveal_customer_phone('toyota-braintree', 't38-north') $$,
  '42501', 'admins have read-only access in the app',
  'An admin cannot reveal numbers in the app (Studio, as the service role, can read them)'
);

/** Anonymous */
reset role;
set local role anon;
select throws_ok(
  $$ select public.reveal_customer_phone('toyota-braintree', 't38-north') $$,
  '42501', null,
  'Anonymous callers cannot reveal numbers'
);
select throws_ok(
  $$ select customer_phone from public.calls $$,
  '42501', null,
  'nor read them'
);

/** The service role (api, worker, Studio) is unchanged */
reset role;
set local role service_role;
select is(
  (select customer_phone from public.calls where call_id = 't38-south'),
  '+17815550199',
  'The service role still reads the number'
);

select * from finish();
rollback;
