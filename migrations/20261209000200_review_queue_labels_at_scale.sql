-- The review queue with both later changes at once. 20261204000100 made the queue
-- read call_reviews once (verdict and score from the review's copy), so the
-- call_reviews_queue_* indexes serve its orders at a million calls; 20261207000200
-- and 000400 then added the human label and the audit-sample mark, on top of the
-- older shape (reporting.backlog joined to call_reviews a second time). This is
-- the queue of 20261207000400, same columns in the same order, read the way
-- 20261204000100 reads it.

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
       l.label_verdict,
       l.label_flags,
       l.label_verdict is not null
         and (l.label_verdict is distinct from r.verdict
              or l.label_flags is distinct from array(select f from unnest(c.flags) f order by f)) as label_disagrees,
       r.audit_sample
  from public.call_reviews r
  left join public.calls c
    on c.dealership_id = r.dealership_id and c.call_id = r.call_id
  left join public.dealerships d on d.id = r.dealership_id
  left join public.profiles p on p.user_id = r.assignee_id
  left join lateral (
    select e.label_verdict, e.label_flags
      from public.review_events e
     where e.dealership_id = r.dealership_id and e.call_id = r.call_id and e.kind = 'label'
     order by e.id desc
     limit 1
  ) l on true
 where r.status <> 'resolved';

comment on view public.review_queue is 'Every review that is not resolved, with the call''s verdict, score, flags and reasons, the assignee, the age, the newest human label (and whether it disagrees) and the audit-sample mark. The dashboard''s "My queue" is this view with verdict in (needs_review, bad) or audit_sample; the team overview''s unresolved list and its backlog numbers are this view too. Security invoker: the reader sees the rows of their dealerships. Reads call_reviews once (verdict and score from its copy of the call''s), so the queue''s orders use the call_reviews_queue_* indexes.';
