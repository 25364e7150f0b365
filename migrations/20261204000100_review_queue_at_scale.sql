/**
 * The review queue at a million calls (issue 14).
 *
 * `public.review_queue` read `reporting.backlog` and then joined call_reviews and
 * calls a second time for the notes and reasons. Under row-level security the
 * planner cannot estimate `dealership_id = any(<the caller's dealerships>)`,
 * guessed one row per side, and chose nested loops over every unresolved review:
 * 109 s for an admin's first page at 1M calls. Now:
 *
 * - the view reads call_reviews once, with left joins (calls, dealerships,
 *   profiles) the planner can drop when a query does not use their columns;
 * - call_reviews carries a copy of the call's current verdict and score (kept in
 *   step by triggers, like calls.verdict mirrors the newest analysis), so the
 *   queue's filter (verdict) and both of its orders (worst first, oldest first)
 *   are answered by one partial index each, and a first page reads ~200 index
 *   entries instead of sorting the whole backlog.
 *
 * Same rows, same columns, same order, same row-level security: the view is still
 * security_invoker, and call_reviews' policy is the calls' policy (same dealership).
 */

/** The call's verdict and score on its review */
alter table public.call_reviews
  add column verdict public.verdict null,
  add column score smallint null;
comment on column public.call_reviews.verdict is 'Copy of calls.verdict (the call''s current verdict), kept in step by triggers so the review queue can filter and sort on one table.';
comment on column public.call_reviews.score is 'Copy of calls.score, kept in step like verdict.';

update public.call_reviews r
   set verdict = c.verdict, score = c.score
  from public.calls c
 where c.dealership_id = r.dealership_id and c.call_id = r.call_id
   and (r.verdict is distinct from c.verdict or r.score is distinct from c.score);

-- A new review starts with the call's current verdict.
create function private.review_copies_call_verdict() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  select c.verdict, c.score into new.verdict, new.score
    from public.calls c
   where c.dealership_id = new.dealership_id and c.call_id = new.call_id;
  return new;
end;
$$;
comment on function private.review_copies_call_verdict() is 'Before insert on call_reviews: copies the call''s verdict and score onto the review.';
revoke execute on function private.review_copies_call_verdict() from public, anon, authenticated;

create trigger call_reviews_copy_call_verdict
before insert on public.call_reviews
for each row execute function private.review_copies_call_verdict();

-- A newer analysis changes the call's verdict: its review follows.
create function private.call_verdict_to_review() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  update public.call_reviews r
     set verdict = new.verdict, score = new.score
   where r.dealership_id = new.dealership_id and r.call_id = new.call_id
     and (r.verdict is distinct from new.verdict or r.score is distinct from new.score);
  return new;
end;
$$;
comment on function private.call_verdict_to_review() is 'After update of verdict or score on calls: copies them onto the call''s review, if it has one.';
revoke execute on function private.call_verdict_to_review() from public, anon, authenticated;

create trigger calls_verdict_to_review
after update of verdict, score on public.calls
for each row
when (old.verdict is distinct from new.verdict or old.score is distinct from new.score)
execute function private.call_verdict_to_review();

/** The queue's indexes: unresolved reviews only, in each of the queue's orders */
-- Worst first: the same expression as the view's severity column.
create index call_reviews_queue_worst_idx on public.call_reviews (
  (case verdict when 'bad' then 0 when 'needs_review' then 1 else 2 end),
  score nulls first, flagged_at, dealership_id, call_id)
  where status <> 'resolved';
-- Oldest first, and the team overview's unresolved list.
create index call_reviews_queue_oldest_idx on public.call_reviews (flagged_at, dealership_id, call_id)
  include (verdict)
  where status <> 'resolved';
-- One dealership's queue and its badge count.
create index call_reviews_queue_dealership_idx on public.call_reviews (dealership_id, flagged_at)
  include (verdict, assignee_id)
  where status <> 'resolved';
-- The superseded indexes of the old view (backlog_age is the oldest-first one
-- without its tie-breakers; backlog_idx the per-dealership one without verdict).
drop index public.call_reviews_backlog_age_idx;
drop index public.call_reviews_backlog_idx;

/** The queue: call_reviews once, verdict and score from the review's copy */
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
       c.first_event_at as call_started_at
  from public.call_reviews r
  left join public.calls c
    on c.dealership_id = r.dealership_id and c.call_id = r.call_id
  left join public.dealerships d on d.id = r.dealership_id
  left join public.profiles p on p.user_id = r.assignee_id
 where r.status <> 'resolved';

comment on view public.review_queue is 'Every review that is not resolved, with the call''s verdict, score, flags and reasons, the assignee and the age. The dashboard''s "My queue" is this view with verdict in (needs_review, bad); the team overview''s unresolved list and its backlog numbers are this view too. Security invoker: the reader sees the rows of their dealerships. Reads call_reviews once (verdict and score from its copy of the call''s), so the queue''s orders use the call_reviews_queue_* indexes.';

/** reporting.backlog reads the same way */
create or replace view reporting.backlog
with (security_invoker = true)
as
select r.dealership_id,
       d.name as dealership_name,
       r.call_id,
       r.status,
       r.verdict,
       r.score,
       c.flags,
       r.assignee_id,
       p.full_name as assignee_name,
       r.flagged_at,
       now() - r.flagged_at as age,
       round((extract(epoch from now() - r.flagged_at) / 3600)::numeric, 1) as age_hours,
       r.updated_at as last_activity_at,
       c.first_event_at as call_started_at
  from public.call_reviews r
  left join public.calls c
    on c.dealership_id = r.dealership_id and c.call_id = r.call_id
  left join public.dealerships d on d.id = r.dealership_id
  left join public.profiles p on p.user_id = r.assignee_id
 where r.status <> 'resolved';

-- calls_open_review_idx only served backlog's old join condition.
drop index public.calls_open_review_idx;
