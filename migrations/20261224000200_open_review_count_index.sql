/*
 * The open-review count of dealership_health ("waiting for review") at a million
 * calls (issue 14).
 *
 * It counted `calls.review_status = 'open'` through calls_dealership_review_status_idx
 * (dealership_id, review_status). Under RLS the leading column's condition is
 * `dealership_id = any(<the caller's dealerships>)`, a runtime array, and with it
 * Postgres 15 applies the second column's equality as a filter, not as an index
 * condition: the scan read every reviewed call of the caller's dealerships (380,000
 * index entries for an admin, ~85 ms) to count the ~20,000 open ones. This partial
 * index holds only the open ones, so the count reads those (7 ms for an admin).
 *
 * The call list's "review open" filter can use it too (a bitmap with the time
 * index); the benchmark measures both (docs/performance.md).
 */
create index calls_open_review_dealership_idx on public.calls (dealership_id)
  where review_status = 'open';
