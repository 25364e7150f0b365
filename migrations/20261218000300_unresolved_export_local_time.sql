/*
 * The unresolved list's CSV names each item's time in its dealership's zone, as
 * the call list's export does (issue 16, "Time zones": the unresolved CSV was UTC
 * only). Two columns at the end of review_queue_export: flagged_local_time
 * (YYYY-MM-DD HH24:MI in the dealership's zone) and timezone (that zone's name,
 * formula-safe like every text column of the view). flagged_at stays, with its
 * offset. Otherwise as 20261202000700 made it: same rows, security invoker.
 */

create or replace view public.review_queue_export
with (security_invoker = true)
as
select q.dealership_id,
       private.csv_safe(q.dealership_name) as dealership_name,
       private.csv_safe(q.call_id) as call_id,
       q.status,
       q.verdict,
       q.score,
       q.flags,
       q.assignee_id,
       private.csv_safe(q.assignee_name) as assignee_name,
       q.flagged_at,
       q.age_hours,
       q.age_bucket,
       private.csv_safe(q.notes) as notes,
       to_char(q.flagged_at at time zone q.timezone, 'YYYY-MM-DD HH24:MI') as flagged_local_time,
       private.csv_safe(q.timezone) as timezone
  from public.review_queue q;

comment on column public.review_queue_export.flagged_local_time is 'When the call was flagged, in its dealership''s zone (YYYY-MM-DD HH24:MI); flagged_at keeps the instant with its offset.';
comment on column public.review_queue_export.timezone is 'The dealership''s IANA zone that flagged_local_time is in.';
