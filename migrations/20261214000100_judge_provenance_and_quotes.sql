/**
 * Issue 13, sections 4 and 7: every analysis says exactly what produced it, and
 * the judge's invented quotes are kept as judge errors.
 *
 * - `call_analyses.analyzer`: openai, heuristic or retell-signals (null on rows
 *   written before this migration).
 * - `call_analyses.prompt_sha256` / `schema_sha256`: SHA-256 (hex) of the system
 *   prompt's text (null when no prompt ran) and of the output JSON schema.
 * - `call_analyses.dropped_quotes`: the judge's quotes that are not in the
 *   transcript, dropped by the worker (worker/src/analyzer/quotes.rs).
 * - `reporting.eval_labels` gains the call's current verdict, model and prompt
 *   version, so `cargo xtask eval --from-db` can list the verdicts a candidate
 *   judge would flip.
 * - `public.label_agreement()` gains `judge_errors`: over the labelled calls'
 *   current analyses, how many carry dropped quotes, and how many quotes.
 */

alter table public.call_analyses
  add column analyzer text null
    constraint call_analyses_analyzer_check check (analyzer in ('openai', 'heuristic', 'retell-signals')),
  add column prompt_sha256 text null
    constraint call_analyses_prompt_sha256_check check (prompt_sha256 ~ '^[0-9a-f]{64}$'),
  add column schema_sha256 text null
    constraint call_analyses_schema_sha256_check check (schema_sha256 ~ '^[0-9a-f]{64}$'),
  add column dropped_quotes text[] not null default '{}';

comment on column public.call_analyses.analyzer is 'What judged: openai (the LLM), heuristic (the offline rules) or retell-signals (Retell''s voicemail signal alone). Null on analyses stored before 20261214000100.';
comment on column public.call_analyses.prompt_sha256 is 'SHA-256 (hex) of the exact system prompt text the LLM was given; null when no prompt ran (heuristic, retell-signals, older rows).';
comment on column public.call_analyses.schema_sha256 is 'SHA-256 (hex) of the analysis JSON schema (domain::analysis::analysis_json_schema) the output was held to.';
comment on column public.call_analyses.dropped_quotes is 'Quotes the judge gave (evidence, or double-quoted words in a reason) that are not in the transcript; the worker dropped them. Each one is a judge error.';

/** reporting.eval_labels, with the current verdict (columns added at the end) */
create or replace view reporting.eval_labels
with (security_invoker = true)
as
select c.dealership_id || '/' || c.call_id as id,
       c.transcript,
       c.duration_sec,
       c.dealership_id,
       l.label_verdict::text as expected_verdict,
       l.label_flags as expected_flags,
       a.verdict::text as current_verdict,
       a.model as current_model,
       a.prompt_version as current_prompt_version
  from public.calls c
  cross join lateral (
    select e.label_verdict, e.label_flags
      from public.review_events e
     where e.dealership_id = c.dealership_id and e.call_id = c.call_id and e.kind = 'label'
     order by e.id desc
     limit 1
  ) l
  left join public.call_analyses a on a.id = c.latest_analysis_id and a.status = 'ok'
 where nullif(btrim(c.transcript), '') is not null;

comment on view reporting.eval_labels is 'The human labels as an evaluation set, one row per labelled call with a transcript, in the format of cargo xtask eval --labels FILE: {id, transcript, duration_sec, dealership_id, expected_verdict, expected_flags}, plus the current successful analysis (current_verdict, current_model, current_prompt_version; null when it failed) for shadow runs. select json_agg(e) from reporting.eval_labels e; gives the file. Uses each call''s newest label.';
comment on column reporting.eval_labels.current_verdict is 'The verdict of the call''s current analysis, when it succeeded: what a candidate judge''s verdict is compared with to list flips.';

/** public.label_agreement(), with judge_errors */
create or replace function public.label_agreement(p_dealership_id text default null) returns jsonb
language sql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
  with rows as (
    select a.*
      from reporting.label_agreement a
     where (p_dealership_id is null and a.breakdown in ('overall', 'dealership', 'model', 'prompt_version'))
        or (p_dealership_id is not null and a.dealership_id = p_dealership_id)
  ),
  flag_rows as (
    select f.*
      from reporting.label_flag_accuracy f
     where (p_dealership_id is null and f.breakdown = 'overall')
        or (p_dealership_id is not null and f.dealership_id = p_dealership_id)
  ),
  judged as (
    select cardinality(ca.dropped_quotes) as dropped
      from reporting.labelled_calls lc
      join public.call_analyses ca on ca.id = lc.analysis_id
     where p_dealership_id is null or lc.dealership_id = p_dealership_id
  )
  -- The argument is not echoed: about a dealership the caller cannot see, the
  -- answer holds nothing of it.
  select jsonb_build_object(
    'overall', (select to_jsonb(r) - 'breakdown' from rows r where r.breakdown in ('overall', 'dealership')
                 and (p_dealership_id is not null or r.breakdown = 'overall')
                 and (p_dealership_id is null or r.breakdown = 'dealership')),
    'dealerships', coalesce((select jsonb_agg(to_jsonb(r) - 'breakdown' order by r.dealership_id)
                               from rows r where p_dealership_id is null and r.breakdown = 'dealership'), '[]'),
    'models', coalesce((select jsonb_agg(to_jsonb(r) - 'breakdown' order by r.model)
                          from rows r where r.breakdown in ('model', 'dealership_model')), '[]'),
    'prompt_versions', coalesce((select jsonb_agg(to_jsonb(r) - 'breakdown' order by r.model, r.prompt_version)
                                   from rows r where r.breakdown in ('prompt_version', 'dealership_prompt_version')), '[]'),
    'flags', coalesce((select jsonb_agg(to_jsonb(f) - 'breakdown' order by f.flag) from flag_rows f), '[]'),
    'judge_errors', (select jsonb_build_object(
                        'analyses', count(*),
                        'analyses_with_dropped_quotes', count(*) filter (where j.dropped > 0),
                        'dropped_quotes', coalesce(sum(j.dropped), 0))
                       from judged j)
  )
$$;
comment on function public.label_agreement(text) is 'The team overview''s agreement panel: reporting.label_agreement and reporting.label_flag_accuracy as one object {overall, dealerships, models, prompt_versions, flags, judge_errors}, for every dealership the caller sees, or for p_dealership_id only (then dealerships is empty and the rest is within it). overall is null without labels. judge_errors counts, over the labelled calls'' current analyses, those with quotes not in the transcript (call_analyses.dropped_quotes). Security invoker: row-level security applies.';
