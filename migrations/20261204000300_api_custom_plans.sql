/**
 * Plan every API request with its own values (issue 14).
 *
 * PostgREST sends each request as a prepared statement. After five executions
 * Postgres may switch to a generic plan, made without the request's values: it
 * does not know the time window or how many dealerships the caller's row-level
 * security allows, so for an admin's first page of a week of calls it sorted the
 * whole week (~650 ms at 1M calls) where the plan with the values reads 51 rows
 * in time order (~2 ms, the EXPLAIN of the same request). A custom plan per
 * request costs well under a millisecond of planning.
 *
 * PostgREST applies the settings of the role it switches to (authenticated) in
 * every request's transaction.
 */
alter role authenticated set plan_cache_mode = 'force_custom_plan';
