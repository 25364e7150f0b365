/**
 * Dealership time zones must be names Postgres knows: the dashboard and the
 * reporting views bucket days with `at time zone dealerships.timezone`, and one
 * misspelled zone (edited in Studio) would make every query touching that
 * dealership fail with "time zone not recognized".
 */

/** Validation */
create function private.check_dealership_timezone() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from pg_catalog.pg_timezone_names where name = new.timezone) then
    raise exception 'unknown time zone "%" for dealership %', new.timezone, new.id
      using errcode = '22023',
            hint = 'Use an IANA name such as America/New_York or America/Chicago.';
  end if;
  return new;
end;
$$;
revoke execute on function private.check_dealership_timezone() from public, anon, authenticated;
comment on function private.check_dealership_timezone() is 'Refuses a dealerships.timezone that is not an IANA zone name Postgres knows.';

create trigger dealerships_timezone_is_known
before insert or update of timezone on public.dealerships
for each row execute function private.check_dealership_timezone();
