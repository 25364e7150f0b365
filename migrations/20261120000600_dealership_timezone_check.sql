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
  -- Converting a timestamp is the cheap check (pg_timezone_names reads every zone
  -- file, and this trigger also runs for each dealership ingest registers). An
  -- unknown zone raises 22023 `time zone "..." not recognized`.
  perform now() at time zone new.timezone;
  return new;
end;
$$;
revoke execute on function private.check_dealership_timezone() from public, anon, authenticated;
comment on function private.check_dealership_timezone() is 'Refuses a dealerships.timezone Postgres cannot convert to (a misspelled IANA name).';

create trigger dealerships_timezone_is_known
before insert or update of timezone on public.dealerships
for each row execute function private.check_dealership_timezone();
