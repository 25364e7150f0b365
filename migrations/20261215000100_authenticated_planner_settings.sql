/**
 * Planner settings for the dashboard's role (issue 14).
 *
 * PostgREST (v11.1 and later) applies the settings of the role it impersonates
 * (`alter role ... set`) to every request's transaction, as it does with the
 * `statement_timeout` Supabase sets on `authenticated`. Two of them decide what
 * the dashboard's reads cost at a million calls:
 *
 * - jit = off. The aggregates for a manager or an admin are planned as expensive
 *   (above jit_above_cost), so each request paid JIT compilation of its
 *   expressions (tens to hundreds of milliseconds) for queries that run in less.
 *   The dashboard's queries are short, repeated OLTP reads: compilation never
 *   pays back.
 * - plan_cache_mode = force_custom_plan. PostgREST sends each request as a
 *   prepared statement; after five runs Postgres may switch to a generic plan,
 *   planned without the values of the time bounds or of the caller's dealerships,
 *   which for the call list's first page sorted the whole window instead of
 *   reading the time index from the top. A custom plan per request costs a
 *   millisecond of planning and is planned with the real bounds. PL/pgSQL
 *   functions' statements follow the same setting.
 * - random_page_cost = 1.1 (the default, 4, models a spinning disk). The
 *   dashboard reads a working set that is in memory or on SSD, where a page read
 *   out of order costs about as much as the next one. With 4 the planner avoided
 *   walking the time index in order (it expected every row to be a random read)
 *   and instead read the whole window and sorted it: an admin's first page of the
 *   week's calls read ~15,600 rows at 200k calls (~12 ms) instead of 51 (~0.5 ms).
 *
 * Only `authenticated` (the dashboard's users) changes: the api, the worker and
 * Studio connect as their own roles and keep the server's settings. A SQL session
 * that switches with `set role authenticated` does not apply role settings (only
 * a login or PostgREST does).
 */

/** authenticated */
alter role authenticated set jit = off;
alter role authenticated set plan_cache_mode = force_custom_plan;
alter role authenticated set random_page_cost = 1.1;
