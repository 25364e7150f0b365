-- dealerships.set_up: a dealership the webhook registers from an unknown slug is
-- "not set up" until an admin finishes it; admins and managers who see it read
-- the flag (the dashboard marks it). Needs supabase/seed.sql (the demo users).
begin;
select plan(10);

select col_not_null('public', 'dealerships', 'set_up', 'dealerships.set_up is never null');
select col_default_is('public', 'dealerships', 'set_up', 'true',
  'A dealership an admin adds is set up unless said otherwise');
select ok(
  col_description('public.dealerships'::regclass,
    (select attnum from pg_attribute where attrelid = 'public.dealerships'::regclass and attname = 'set_up')
  ) like '%not set up%',
  'set_up explains itself in Studio'
);
select is(
  (select count(*)::int from public.dealerships
    where id in ('toyota-braintree', 'honda-quincy', 'ford-weymouth', 'nissan-plymouth', 'kia-hingham')
      and set_up),
  5,
  'The demo dealerships are set up'
);

/** Fixtures: one dealership as ingest registers it (api/src/store.rs), assigned to Nora North, and one an admin adds */
insert into public.dealerships (id, name, auto_registered, set_up)
values ('pgtap-registered', 'pgtap-registered', true, false);
insert into public.dealerships (id, name) values ('pgtap-added', 'Added Motors');
insert into public.user_dealerships (user_id, dealership_id)
values ('a0000000-0000-4000-8000-000000000003', 'pgtap-registered');

select is(
  (select set_up from public.dealerships where id = 'pgtap-added'), true,
  'A dealership inserted without set_up is set up'
);

/** Avery Admin */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select is(
  (select set_up from public.dealerships where id = 'pgtap-registered'), false,
  'The admin sees that a registered dealership is not set up'
);
select throws_ok(
  $$ update public.dealerships set set_up = true where id = 'pgtap-registered' $$,
  '42501', null,
  'The admin cannot mark it set up through the API (only in Studio, as the owner)'
);

/** Morgan Manager (Nora North reports to them) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select is(
  (select set_up from public.dealerships where id = 'pgtap-registered'), false,
  'A manager whose team has it sees that it is not set up'
);

/** Sam South (not assigned) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select is_empty(
  $$ select 1 from public.dealerships where id = 'pgtap-registered' $$,
  'A CSM it is not assigned to does not see it at all'
);

/** The owner (Studio) finishes it */
reset role;
update public.dealerships set name = 'Registered Motors', set_up = true where id = 'pgtap-registered';
select is(
  (select (set_up, auto_registered)::text from public.dealerships where id = 'pgtap-registered'),
  '(t,t)',
  'Once set up it stays marked as auto-registered: set_up is the state, auto_registered the origin'
);

select * from finish();
rollback;
