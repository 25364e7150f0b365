/**
 * The review queue's label columns, computed only when asked for (issue 14).
 *
 * 20261209000200 reads the newest human label of each review with a
 * `left join lateral (... limit 1)`. The planner cannot drop a lateral join, so
 * every read of the view looked up a label for every unresolved review it
 * counted, even a count or an aggregate that never uses the label: the queue's
 * badge count and team_dealership_stats' backlog paid one index probe (under
 * row-level security) per unresolved review, ~1.5 s for an admin at a million
 * calls. The same columns are now scalar subqueries over the same rows (the newest
 * label event by id), which Postgres evaluates only for the rows and columns a
 * query returns: a page of the queue looks up its 200 labels, a count none.
 *
 * Same columns, same types, same order, same values: label_verdict and
 * label_flags come from the review's newest kind = 'label' event (its id is
 * unique, so both come from the same event), label_disagrees compares them with
 * the review's verdict and the call's flags as before. Security invoker as before.
 */

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
       r.audit_sample
  from public.call_reviews r
  left join public.calls c
    on c.dealership_id = r.dealership_id and c.call_id = r.call_id
  left join public.dealerships d on d.id = r.dealership_id
  left join public.profiles p on p.user_id = r.assignee_id
 where r.status <> 'resolved';
