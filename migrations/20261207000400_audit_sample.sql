/**
 * Audit sample (issue 13): a small, configurable share of `good` verdicts opens a
 * review too, so that people label calls the judge passed and agreement is not
 * measured on flagged calls alone (a lenient judge is caught this way).
 *
 * - `app_settings.audit_sample_percent` (0-100, default 0 = off) is the share.
 * - Which calls are in the sample is decided by a hash of the dealership and call
 *   id, not by random(): a call is in or out once and for all (a re-analysis does
 *   not draw again), and a test can predict it.
 * - A sampled review is an ordinary open review with `call_reviews.audit_sample`
 *   set; the dashboard's queue shows it beside the flagged calls.
 */

/** The setting */
alter table public.app_settings
  add column audit_sample_percent numeric(4, 1) not null default 0
    check (audit_sample_percent between 0 and 100);
comment on column public.app_settings.audit_sample_percent is 'Share of good verdicts (in percent, one decimal, 0-100) that open an audit-sample review for a person to label. Default 0: off. Applies to analyses stored from now on.';

alter table public.call_reviews
  add column audit_sample boolean not null default false;
comment on column public.call_reviews.audit_sample is 'True when the review was opened for the audit sample (a good verdict drawn by app_settings.audit_sample_percent), not because the call was flagged.';

/** Whether a call is in the sample */
create function private.in_audit_sample(p_dealership_id text, p_call_id text, p_percent numeric)
returns boolean
language sql
immutable
set search_path = pg_catalog, pg_temp
as $$
  -- The first 32 bits of md5 as a number in [0, 1000): uniform enough for a share
  -- in tenths of a percent.
  select p_percent > 0
     and (('x' || substr(md5(p_dealership_id || '/' || p_call_id), 1, 8))::bit(32)::bigint % 1000)
         < round(p_percent * 10)
$$;
comment on function private.in_audit_sample(text, text, numeric) is 'True when the call falls in an audit sample of p_percent percent: a fixed hash of dealership and call id, so the answer never changes for a call.';
revoke execute on function private.in_audit_sample(text, text, numeric) from public, anon, authenticated;

/** Opening reviews: flagged verdicts as before, and the sample of good ones */
create or replace function public.open_review_for_flagged_call() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_percent numeric := coalesce((select s.audit_sample_percent from public.app_settings s), 0);
  v_sampled boolean;
begin
  v_sampled := new.verdict = 'good' and new.status = 'ok'
               and private.in_audit_sample(new.dealership_id, new.call_id, v_percent);
  if new.verdict in ('needs_review', 'bad') or v_sampled then
    with opened as (
      insert into public.call_reviews (dealership_id, call_id, status, flagged_at, audit_sample)
      values (new.dealership_id, new.call_id, 'open', new.created_at, v_sampled)
      on conflict (dealership_id, call_id) do nothing
      returning dealership_id, call_id, status
    )
    insert into public.review_events (dealership_id, call_id, actor_id, from_status, to_status, notes, created_at)
    select o.dealership_id, o.call_id, null, null, o.status,
           case when v_sampled
             then format('Opened for the audit sample (%s%% of good verdicts): confirm or correct the verdict.', v_percent)
             else format('Opened automatically: the analysis verdict was %s.', new.verdict)
           end,
           new.created_at
      from opened o;
  end if;
  return new;
end;
$$;
revoke execute on function public.open_review_for_flagged_call() from public, anon, authenticated;

/** The queue says which reviews are audit samples */
create or replace view public.review_queue
with (security_invoker = true)
as
select b.dealership_id,
       b.dealership_name,
       b.call_id,
       b.status,
       b.verdict,
       b.score,
       b.flags,
       c.reasons,
       b.assignee_id,
       b.assignee_name,
       r.notes,
       b.flagged_at,
       b.age_hours,
       case
         when b.flagged_at > now() - interval '24 hours' then 'under_24h'
         when b.flagged_at > now() - interval '3 days' then '1_to_3d'
         else 'over_3d'
       end as age_bucket,
       case b.verdict when 'bad' then 0 when 'needs_review' then 1 else 2 end as severity,
       b.last_activity_at,
       b.call_started_at,
       l.label_verdict,
       l.label_flags,
       l.label_verdict is not null
         and (l.label_verdict is distinct from b.verdict
              or l.label_flags is distinct from array(select f from unnest(b.flags) f order by f)) as label_disagrees,
       r.audit_sample
  from reporting.backlog b
  join public.call_reviews r
    on r.dealership_id = b.dealership_id and r.call_id = b.call_id
  left join public.calls c
    on c.dealership_id = b.dealership_id and c.call_id = b.call_id
  left join lateral (
    select e.label_verdict, e.label_flags
      from public.review_events e
     where e.dealership_id = b.dealership_id and e.call_id = b.call_id and e.kind = 'label'
     order by e.id desc
     limit 1
  ) l on true;

comment on column public.review_queue.audit_sample is 'True for a review opened for the audit sample (a good verdict to label), not because the call was flagged.';
