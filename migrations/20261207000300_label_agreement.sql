/**
 * Judge-versus-human agreement (issue 13), computed in SQL from the labels.
 *
 * - `reporting.labelled_calls`: one row per labelled call, pairing its newest
 *   label with its *current* analysis (calls.latest_analysis_id) when that one
 *   succeeded (a failed analysis is no verdict to agree with). The model and
 *   prompt version are that analysis's.
 * - `reporting.label_agreement`: labelled count, agreement, Cohen's kappa,
 *   good-on-bad and the confusion matrix, overall and per dealership, model and
 *   prompt version (and the last two within each dealership).
 * - `reporting.label_flag_accuracy`: per flag, the analyzer's precision and
 *   recall against the labels, overall and per dealership.
 * - `reporting.eval_labels`: the labelled calls in the format of
 *   `cargo xtask eval --labels FILE` (the JSON files in worker/tests/fixtures).
 * - `public.label_agreement()`: the same figures as one JSON object for the
 *   dashboard's team overview (PostgREST exposes `public` only).
 *
 * Everything is security invoker: the reader's row-level security decides which
 * calls are counted. docs/analysis.md gives the formulas.
 */

/** reporting.labelled_calls */
create view reporting.labelled_calls
with (security_invoker = true)
as
select c.dealership_id,
       c.call_id,
       l.id as label_event_id,
       l.created_at as labelled_at,
       l.actor_id as labelled_by,
       l.label_verdict as human_verdict,
       l.label_flags as human_flags,
       l.notes as reason,
       a.id as analysis_id,
       a.verdict as machine_verdict,
       array(select f from unnest(a.flags) f order by f) as machine_flags,
       a.model,
       a.prompt_version,
       l.label_verdict = a.verdict as verdict_agrees
  from public.calls c
  cross join lateral (
    select e.*
      from public.review_events e
     where e.dealership_id = c.dealership_id and e.call_id = c.call_id and e.kind = 'label'
     order by e.id desc
     limit 1
  ) l
  join public.call_analyses a on a.id = c.latest_analysis_id and a.status = 'ok';

comment on view reporting.labelled_calls is 'Every call a person labelled: its newest label (human_verdict, human_flags, reason) beside its current successful analysis (machine_verdict, machine_flags, model, prompt_version). Calls whose current analysis failed are left out. The rows behind reporting.label_agreement.';
comment on column reporting.labelled_calls.label_event_id is 'The review_events row (kind label) of the newest label.';
comment on column reporting.labelled_calls.analysis_id is 'The call''s current analysis (calls.latest_analysis_id), which may be newer than the one the person saw.';
comment on column reporting.labelled_calls.verdict_agrees is 'human_verdict = machine_verdict.';

/** reporting.label_agreement */
create view reporting.label_agreement
with (security_invoker = true)
as
with cells as (
  select case
           when grouping(lc.dealership_id) = 0 and grouping(lc.prompt_version) = 0 then 'dealership_prompt_version'
           when grouping(lc.dealership_id) = 0 and grouping(lc.model) = 0 then 'dealership_model'
           when grouping(lc.dealership_id) = 0 then 'dealership'
           when grouping(lc.prompt_version) = 0 then 'prompt_version'
           when grouping(lc.model) = 0 then 'model'
           else 'overall'
         end as breakdown,
         lc.dealership_id,
         lc.model,
         lc.prompt_version,
         count(*) as labelled,
         count(*) filter (where lc.verdict_agrees) as agreed,
         -- h_* = human (expected), m_* = machine (got).
         count(*) filter (where lc.human_verdict = 'good' and lc.machine_verdict = 'good') as h_good_m_good,
         count(*) filter (where lc.human_verdict = 'good' and lc.machine_verdict = 'needs_review') as h_good_m_needs_review,
         count(*) filter (where lc.human_verdict = 'good' and lc.machine_verdict = 'bad') as h_good_m_bad,
         count(*) filter (where lc.human_verdict = 'needs_review' and lc.machine_verdict = 'good') as h_needs_review_m_good,
         count(*) filter (where lc.human_verdict = 'needs_review' and lc.machine_verdict = 'needs_review') as h_needs_review_m_needs_review,
         count(*) filter (where lc.human_verdict = 'needs_review' and lc.machine_verdict = 'bad') as h_needs_review_m_bad,
         count(*) filter (where lc.human_verdict = 'bad' and lc.machine_verdict = 'good') as h_bad_m_good,
         count(*) filter (where lc.human_verdict = 'bad' and lc.machine_verdict = 'needs_review') as h_bad_m_needs_review,
         count(*) filter (where lc.human_verdict = 'bad' and lc.machine_verdict = 'bad') as h_bad_m_bad
    from reporting.labelled_calls lc
   group by grouping sets (
     (), (lc.model), (lc.model, lc.prompt_version),
     (lc.dealership_id), (lc.dealership_id, lc.model), (lc.dealership_id, lc.model, lc.prompt_version)
   )
),
chance as (
  -- Expected agreement by chance: sum over verdicts of (human share x machine share).
  select c.*,
         (  (c.h_good_m_good + c.h_good_m_needs_review + c.h_good_m_bad)::numeric
              * (c.h_good_m_good + c.h_needs_review_m_good + c.h_bad_m_good)
          + (c.h_needs_review_m_good + c.h_needs_review_m_needs_review + c.h_needs_review_m_bad)::numeric
              * (c.h_good_m_needs_review + c.h_needs_review_m_needs_review + c.h_bad_m_needs_review)
          + (c.h_bad_m_good + c.h_bad_m_needs_review + c.h_bad_m_bad)::numeric
              * (c.h_good_m_bad + c.h_needs_review_m_bad + c.h_bad_m_bad)
         ) / (c.labelled::numeric * c.labelled) as p_chance
    from cells c
)
select ch.breakdown,
       ch.dealership_id,
       d.name as dealership_name,
       ch.model,
       ch.prompt_version,
       ch.labelled,
       ch.agreed,
       round(ch.agreed::numeric / ch.labelled, 3) as agreement,
       -- Undefined (null) when chance agreement is 1: every label and verdict the same.
       case when ch.p_chance < 1
         then round((ch.agreed::numeric / ch.labelled - ch.p_chance) / (1 - ch.p_chance), 3)
       end as kappa,
       ch.h_bad_m_good as good_on_bad,
       jsonb_build_object(
         'good', jsonb_build_object('good', ch.h_good_m_good, 'needs_review', ch.h_good_m_needs_review, 'bad', ch.h_good_m_bad),
         'needs_review', jsonb_build_object('good', ch.h_needs_review_m_good, 'needs_review', ch.h_needs_review_m_needs_review, 'bad', ch.h_needs_review_m_bad),
         'bad', jsonb_build_object('good', ch.h_bad_m_good, 'needs_review', ch.h_bad_m_needs_review, 'bad', ch.h_bad_m_bad)
       ) as confusion
  from chance ch
  left join public.dealerships d on d.id = ch.dealership_id;

comment on view reporting.label_agreement is 'How often the analyzer agrees with the people who labelled calls (reporting.labelled_calls): one row per breakdown group. breakdown = overall | model | prompt_version | dealership | dealership_model | dealership_prompt_version; the columns that do not apply to a breakdown are null. No labels, no rows.';
comment on column reporting.label_agreement.breakdown is 'overall (all calls the reader sees), model, prompt_version (within a model), dealership, dealership_model, dealership_prompt_version.';
comment on column reporting.label_agreement.labelled is 'Labelled calls in the group.';
comment on column reporting.label_agreement.agreed is 'Of those, calls where the analyzer''s verdict equals the label''s.';
comment on column reporting.label_agreement.agreement is 'agreed / labelled, three decimals (0.8 = 80%).';
comment on column reporting.label_agreement.kappa is 'Cohen''s kappa over the three verdicts: (p_o - p_e) / (1 - p_e), p_o = agreement, p_e = sum over verdicts of (share of labels with it) x (share of analyses with it). Three decimals; null when p_e = 1.';
comment on column reporting.label_agreement.good_on_bad is 'Calls a person labelled bad that the analyzer called good: the misses that matter most.';
comment on column reporting.label_agreement.confusion is 'The confusion matrix as {label verdict: {analyzer verdict: calls}}, every cell present, e.g. {"bad": {"good": 1, ...}, ...}.';

/** reporting.label_flag_accuracy */
create view reporting.label_flag_accuracy
with (security_invoker = true)
as
with flags as (
  select distinct f.flag
    from reporting.labelled_calls lc
   cross join unnest(lc.human_flags || lc.machine_flags) as f (flag)
),
counts as (
  select case when grouping(lc.dealership_id) = 0 then 'dealership' else 'overall' end as breakdown,
         lc.dealership_id,
         f.flag,
         count(*) as labelled,
         count(*) filter (where f.flag = any (lc.machine_flags) and f.flag = any (lc.human_flags)) as true_positives,
         count(*) filter (where f.flag = any (lc.machine_flags) and not f.flag = any (lc.human_flags)) as false_positives,
         count(*) filter (where not f.flag = any (lc.machine_flags) and f.flag = any (lc.human_flags)) as false_negatives
    from reporting.labelled_calls lc
   cross join flags f
   group by grouping sets ((f.flag), (lc.dealership_id, f.flag))
)
select k.breakdown,
       k.dealership_id,
       d.name as dealership_name,
       k.flag,
       k.labelled,
       k.true_positives,
       k.false_positives,
       k.false_negatives,
       round(k.true_positives::numeric / nullif(k.true_positives + k.false_positives, 0), 3) as flag_precision,
       round(k.true_positives::numeric / nullif(k.true_positives + k.false_negatives, 0), 3) as flag_recall
  from counts k
  left join public.dealerships d on d.id = k.dealership_id;

comment on view reporting.label_flag_accuracy is 'Per flag, how the analyzer''s flags compare with the labels'' flags on the labelled calls: true/false positives, false negatives, precision and recall; overall and per dealership (breakdown). Lists every flag that the analyzer or a person used on a labelled call the reader sees.';
comment on column reporting.label_flag_accuracy.labelled is 'Labelled calls in the group (the denominator of neither figure; for context).';
comment on column reporting.label_flag_accuracy.true_positives is 'Calls where both the analyzer and the label have the flag.';
comment on column reporting.label_flag_accuracy.false_positives is 'Calls where the analyzer has the flag and the label does not.';
comment on column reporting.label_flag_accuracy.false_negatives is 'Calls where the label has the flag and the analyzer does not.';
comment on column reporting.label_flag_accuracy.flag_precision is 'true_positives / (true_positives + false_positives), three decimals; null when the analyzer never used the flag.';
comment on column reporting.label_flag_accuracy.flag_recall is 'true_positives / (true_positives + false_negatives), three decimals; null when no label has the flag.';

/** reporting.eval_labels */
create view reporting.eval_labels
with (security_invoker = true)
as
select c.dealership_id || '/' || c.call_id as id,
       c.transcript,
       c.duration_sec,
       c.dealership_id,
       l.label_verdict::text as expected_verdict,
       l.label_flags as expected_flags
  from public.calls c
  cross join lateral (
    select e.label_verdict, e.label_flags
      from public.review_events e
     where e.dealership_id = c.dealership_id and e.call_id = c.call_id and e.kind = 'label'
     order by e.id desc
     limit 1
  ) l
 where nullif(btrim(c.transcript), '') is not null;

comment on view reporting.eval_labels is 'The human labels as an evaluation set, one row per labelled call with a transcript, in the format of cargo xtask eval --labels FILE: {id, transcript, duration_sec, dealership_id, expected_verdict, expected_flags}. select json_agg(e) from reporting.eval_labels e; gives the file. Uses each call''s newest label.';
comment on column reporting.eval_labels.id is '<dealership_id>/<call_id>: unique across dealerships.';

/** Who may read the views (as for the other reporting views) */
revoke all on reporting.labelled_calls, reporting.label_agreement, reporting.label_flag_accuracy, reporting.eval_labels from public, anon;
grant select on reporting.labelled_calls, reporting.label_agreement, reporting.label_flag_accuracy, reporting.eval_labels
  to authenticated, service_role, reporting_reader;

/** The dashboard's figures */
create function public.label_agreement(p_dealership_id text default null) returns jsonb
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
    'flags', coalesce((select jsonb_agg(to_jsonb(f) - 'breakdown' order by f.flag) from flag_rows f), '[]')
  )
$$;
comment on function public.label_agreement(text) is 'The team overview''s agreement panel: reporting.label_agreement and reporting.label_flag_accuracy as one object {overall, dealerships, models, prompt_versions, flags}, for every dealership the caller sees, or for p_dealership_id only (then dealerships is empty and the rest is within it). overall is null without labels. Security invoker: row-level security applies.';
revoke execute on function public.label_agreement(text) from public, anon;
grant execute on function public.label_agreement(text) to authenticated, service_role;
