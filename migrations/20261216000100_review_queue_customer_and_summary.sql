/**
 * The review queue shows who called, when, and what the call was about (issue 16,
 * "Queue density"): the customer's name, the number masked to its last 4 digits,
 * the call's time and the dealership's time zone to show it in, and Retell's own
 * summary of the call. The dashboard shows these instead of the raw call id.
 *
 * The view of 20261215000500 (labels as scalar subqueries, computed only when
 * asked for) with four columns appended (create or replace view only allows new
 * columns at the end): same rows, same joins, same
 * security_invoker row-level security (call_reviews' policy and the calls',
 * dealerships' and profiles' policies through the joins), so the queue's orders
 * still read the call_reviews_queue_* indexes. The grants stay as they were
 * (authenticated, service_role, reporting_reader; anon nothing).
 *
 * Only the masked number leaves Postgres through the view, as in calls_export.
 * The summary is cut to 300 characters: the queue shows one or two lines of it.
 */

/** The queue with the customer, the call's zone and Retell's summary */
create or replace view public.review_queue
with (security_invoker = true)
as
select r.dealership_id,
       d.name as dealership_name,
       r.call_id,
       r.status,
       r.verdict,
       r.score,
       c.flags,
       c.reasons,
       r.assignee_id,
       p.full_name as assignee_name,
       r.notes,
       r.flagged_at,
       round((extract(epoch from now() - r.flagged_at) / 3600)::numeric, 1) as age_hours,
       case
         when r.flagged_at > now() - interval '24 hours' then 'under_24h'
         when r.flagged_at > now() - interval '3 days' then '1_to_3d'
         else 'over_3d'
       end as age_bucket,
       -- Worst first: bad, then needs_review, then calls flagged by hand.
       case r.verdict when 'bad' then 0 when 'needs_review' then 1 else 2 end as severity,
       r.updated_at as last_activity_at,
       c.first_event_at as call_started_at,
       (select e.label_verdict
          from public.review_events e
         where e.dealership_id = r.dealership_id and e.call_id = r.call_id and e.kind = 'label'
         order by e.id desc
         limit 1) as label_verdict,
       (select e.label_flags
          from public.review_events e
         where e.dealership_id = r.dealership_id and e.call_id = r.call_id and e.kind = 'label'
         order by e.id desc
         limit 1) as label_flags,
       coalesce((
         select e.label_verdict is not null
                and (e.label_verdict is distinct from r.verdict
                     or e.label_flags is distinct from array(select f from unnest(c.flags) f order by f))
           from public.review_events e
          where e.dealership_id = r.dealership_id and e.call_id = r.call_id and e.kind = 'label'
          order by e.id desc
          limit 1), false) as label_disagrees,
       r.audit_sample,
       -- New in this migration:
       c.customer_name,
       -- Only the last 4 digits ever leave the table through this view.
       case
         when c.customer_phone is null then null
         when length(regexp_replace(c.customer_phone, '[^0-9]', '', 'g')) <= 4 then '***'
         else '***' || right(regexp_replace(c.customer_phone, '[^0-9]', '', 'g'), 4)
       end as customer_phone_masked,
       d.timezone,
       left(c.retell_analysis ->> 'call_summary', 300) as call_summary
  from public.call_reviews r
  left join public.calls c
    on c.dealership_id = r.dealership_id and c.call_id = r.call_id
  left join public.dealerships d on d.id = r.dealership_id
  left join public.profiles p on p.user_id = r.assignee_id
 where r.status <> 'resolved';

comment on view public.review_queue is 'Every review that is not resolved, with the call''s verdict, score, flags and reasons, the assignee, the age, the newest human label (and whether it disagrees), the audit-sample mark, and who called and when (customer name, the number masked to its last 4 digits, the call''s time and the dealership''s zone) with Retell''s summary. The dashboard''s "My queue" is this view with verdict in (needs_review, bad) or audit_sample; the team overview''s unresolved list and its backlog numbers are this view too. Security invoker: the reader sees the rows of their dealerships. Reads call_reviews once (verdict and score from its copy of the call''s), so the queue''s orders use the call_reviews_queue_* indexes.';
comment on column public.review_queue.customer_phone_masked is 'The customer''s number reduced to its last 4 digits (***0101); *** when it has 4 digits or fewer; null when unknown. The full number never leaves through this view.';
comment on column public.review_queue.timezone is 'The dealership''s IANA time zone, in which the dashboard shows call_started_at.';
comment on column public.review_queue.call_summary is 'Retell''s own summary of the call (retell_analysis.call_summary from call_analyzed), at most 300 characters; null when Retell sent none.';
