/*
 * The team overview's daily chart in the screen's time zone (issue 16, "Time
 * zones": one rule everywhere, the dealership's zone when one is selected,
 * otherwise the viewer's). team_daily_flow bucketed by UTC day, so a call flagged
 * at 8 pm in Boston counted on the next day's bar.
 *
 * Same body as 20261204000200 (as 20261202000200 bounded it), with p_timezone
 * (default 'UTC', so existing callers are unchanged): the days, and each review
 * and resolution, are taken at time zone p_timezone. An unknown zone is refused
 * with 22023 (PostgREST: 400). The old four-argument function is dropped, so a
 * call through PostgREST has one candidate.
 */

drop function public.team_daily_flow(timestamptz, timestamptz, uuid, text);

create function public.team_daily_flow(
  p_from timestamptz,
  p_to timestamptz,
  p_csm uuid default null,
  p_dealership_id text default null,
  p_timezone text default 'UTC'
) returns table (
  day date,
  flagged bigint,
  resolved bigint
)
language plpgsql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
  perform private.require_period(p_from, p_to, interval '366 days');
  if p_timezone is null or not exists (select 1 from pg_catalog.pg_timezone_names z where z.name = p_timezone) then
    raise exception 'unknown time zone %', coalesce(p_timezone, 'null')
      using errcode = '22023', hint = 'Pass an IANA zone such as America/New_York, or UTC.';
  end if;
  return query
  with days as (
    -- At most 366 bars: the chart is a glance, not a report.
    select g::date as day
      from pg_catalog.generate_series(
             date_trunc('day', p_from at time zone p_timezone),
             date_trunc('day', (p_to - interval '1 microsecond') at time zone p_timezone),
             interval '1 day') g
     limit 366
  ),
  flagged as (
    select (r.flagged_at at time zone p_timezone)::date as day, count(*) as n
      from public.call_reviews r
     where (p_dealership_id is null or r.dealership_id = p_dealership_id)
       and (p_csm is null or r.dealership_id in (select ud.dealership_id from public.user_dealerships ud
                                                  where ud.user_id = p_csm))
       and r.flagged_at >= p_from
       and r.flagged_at < p_to
     group by 1
  ),
  resolved as (
    select (e.created_at at time zone p_timezone)::date as day, count(*) as n
      from public.review_events e
     where (p_dealership_id is null or e.dealership_id = p_dealership_id)
       and (p_csm is null or e.dealership_id in (select ud.dealership_id from public.user_dealerships ud
                                                  where ud.user_id = p_csm))
       and e.to_status = 'resolved'
       and e.from_status is distinct from e.to_status
       and e.actor_id is not null
       and (p_csm is null or e.actor_id = p_csm)
       and e.created_at >= p_from
       and e.created_at < p_to
     group by 1
  )
  select k.day, coalesce(f.n, 0)::bigint, coalesce(x.n, 0)::bigint
    from days k
    left join flagged f on f.day = k.day
    left join resolved x on x.day = k.day
   order by k.day;
end
$$;
comment on function public.team_daily_flow(timestamptz, timestamptz, uuid, text, text) is 'Per local day of p_timezone (default UTC) in [p_from, p_to): calls flagged and reviews resolved, for the caller''s dealerships (security invoker: RLS decides), optionally one CSM''s dealerships (and his resolutions) or one dealership. At most 366 days. Errors: 22023 a missing or reversed period, one over 366 days, or an unknown zone.';
revoke execute on function public.team_daily_flow(timestamptz, timestamptz, uuid, text, text) from public, anon;
grant execute on function public.team_daily_flow(timestamptz, timestamptz, uuid, text, text) to authenticated, service_role, reporting_reader;
