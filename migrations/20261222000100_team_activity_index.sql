/*
 * Team activity ("reviews done", resolutions, escalations) reads review_history
 * with status_changed is true and actor_id not null, newest first, 500 rows.
 * Through review_events_dealership_time_idx every such event of the period is
 * joined to its call before the sort keeps 500 (an admin's week: 30k call
 * lookups, 1.1 s at 1M calls). In time order through this index the scan can stop
 * after 500 rows, and only those are joined. The predicate is written as the view
 * and the dashboard's filter spell it (status_changed is `from_status is distinct
 * from to_status`, filtered with `is true`), so the planner sees that it applies.
 */
create index review_events_activity_time_idx on public.review_events (created_at desc, id desc)
  where actor_id is not null and ((from_status is distinct from to_status) is true);
