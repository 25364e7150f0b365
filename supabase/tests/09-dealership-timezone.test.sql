-- Dealership time zones: only names Postgres knows are accepted, as the owner
-- edits them in Studio or as ingest registers a dealership.
begin;
select plan(4);

select lives_ok(
  $$ update public.dealerships set timezone = 'America/Chicago' where id = 'kia-hingham' $$,
  'An IANA zone name is accepted'
);
select throws_ok(
  $$ update public.dealerships set timezone = 'America/Bostn' where id = 'kia-hingham' $$,
  '22023', null,
  'A misspelled zone is refused, so the views that bucket days by it keep working'
);
select throws_ok(
  $$ insert into public.dealerships (id, name, timezone) values ('tz-check', 'Tz', 'Mars/Olympus') $$,
  '22023', null,
  'A new dealership with an unknown zone is refused'
);
select lives_ok(
  $$ insert into public.dealerships (id, name) values ('tz-default', 'Tz default') $$,
  'A dealership registered with the default zone is accepted'
);

select * from finish();
rollback;
