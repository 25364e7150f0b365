/**
 * The queue badge's count, read from call_reviews alone (issue 14: the badge count
 * took 1,460 / 2,039 ms p50 / p95 for an admin and 122 / 152 ms for a manager at
 * 1M calls, bench run d82724b8c6).
 *
 * The dashboard counted `review_queue` rows with PostgREST's count=exact. The view
 * left-joins calls, dealerships and profiles under their own row-level security,
 * so even a count does one security-barrier lookup into calls per unresolved
 * review (64,000 for an admin there). The badge's rows are exactly the view's rows
 * with the queue's verdict filter, and the view's rows are the call_reviews rows
 * whose status is not resolved: its joins are left joins, which never drop a row,
 * and the verdict, audit_sample and status it filters on are call_reviews' own
 * columns. So the dashboard now counts `call_reviews` with the same filters
 * (`status=neq.resolved`, `or=(verdict.in.(needs_review,bad),audit_sample.is.true)`),
 * under call_reviews' policy, the one the view applies to its base rows.
 *
 * This partial index holds exactly those rows, keyed by dealership_id (every RLS
 * policy filters on it), so the count is an index-only scan of the caller's
 * dealerships. Its predicate is written the way PostgREST sends the filter
 * (`audit_sample is true`), so the planner can prove the query implies it.
 * pgTAP 41 checks the two counts agree for each role.
 */
create index call_reviews_queue_badge_idx on public.call_reviews (dealership_id)
  where status <> 'resolved'
    and (verdict in ('needs_review', 'bad') or audit_sample is true);

comment on index public.call_reviews_queue_badge_idx is 'The queue badge count: unresolved reviews the queue shows (verdict needs_review or bad, or audit-sampled), by dealership. The dashboard counts call_reviews with exactly this predicate.';
