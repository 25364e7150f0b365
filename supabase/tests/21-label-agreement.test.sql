-- Agreement between the analyzer and human labels (issue 13): reporting.labelled_calls,
-- reporting.label_agreement (agreement, Cohen's kappa, good-on-bad, confusion),
-- reporting.label_flag_accuracy, reporting.eval_labels and public.label_agreement(),
-- against figures computed by hand, per role. Needs supabase/seed.sql.
--
-- Fixture dealerships (rolled back): ag-east (Nora North), ag-west (Sam South);
-- Morgan Manager sees both. (human label, analyzer verdict) per call:
--   ag-east, gpt-x/p1: e1 good/good, e2 good/good, e3 good/needs_review,
--                      e4 bad/good, e5 bad/bad, e6 needs_review/needs_review
--   ag-east, gpt-x/p2: e7 needs_review/bad, e8 bad/bad, e9 good/good (an older label
--                      said bad), e10 needs_review/good
--   ag-east:           e11 labelled, but its current analysis failed: left out
--   ag-west, heuristic-v1/rules-v1: w1 bad/bad, w2 bad/good, w3 good/good, w4 good/good
-- Hand-computed kappa = (p_o - p_e) / (1 - p_e):
--   ag-east   n=10, agreed 6: p_o = .6; labels g4 n3 b3, verdicts g5 n2 b3:
--             p_e = (20 + 6 + 9) / 100 = .35; kappa = .25 / .65 = .385
--   ag-west   n=4, agreed 3: p_o = .75; labels g2 b2, verdicts g3 b1:
--             p_e = (6 + 2) / 16 = .5; kappa = .25 / .5 = .5
--   overall   n=14, agreed 9; labels g6 n3 b5, verdicts g8 n2 b4:
--             p_e = (48 + 6 + 20) / 196; kappa = (126 - 74) / (196 - 74) = 52 / 122 = .426
--   gpt-x/p1  n=6, agreed 4; labels g3 n1 b2, verdicts g3 n2 b1: p_e = 13/36; kappa = 11/23 = .478
--   gpt-x/p2  n=4, agreed 2; labels g1 n2 b1, verdicts g2 b2: p_e = .25; kappa = .25/.75 = .333
begin;
select plan(23);

/** Fixtures */
insert into public.dealerships (id, name, timezone)
values ('ag-east', 'Agreement East', 'America/New_York'), ('ag-west', 'Agreement West', 'America/Los_Angeles');
insert into public.user_dealerships (user_id, dealership_id)
values ('a0000000-0000-4000-8000-000000000003', 'ag-east'), ('a0000000-0000-4000-8000-000000000004', 'ag-west');

create temporary table t21 (d text, c text, human text, machine text, model text, prompt text,
                            human_flags text[], machine_flags text[], status text) on commit drop;
insert into t21 values
  ('ag-east', 'e1', 'good', 'good', 'gpt-x', 'p1', '{}', '{}', 'ok'),
  ('ag-east', 'e2', 'good', 'good', 'gpt-x', 'p1', '{}', '{}', 'ok'),
  ('ag-east', 'e3', 'good', 'needs_review', 'gpt-x', 'p1', '{}', '{customer_upset}', 'ok'),
  ('ag-east', 'e4', 'bad', 'good', 'gpt-x', 'p1', '{hallucinated_information}', '{}', 'ok'),
  ('ag-east', 'e5', 'bad', 'bad', 'gpt-x', 'p1', '{hallucinated_information}', '{hallucinated_information}', 'ok'),
  ('ag-east', 'e6', 'needs_review', 'needs_review', 'gpt-x', 'p1', '{}', '{}', 'ok'),
  ('ag-east', 'e7', 'needs_review', 'bad', 'gpt-x', 'p2', '{customer_upset}', '{hallucinated_information,customer_upset}', 'ok'),
  ('ag-east', 'e8', 'bad', 'bad', 'gpt-x', 'p2', '{}', '{}', 'ok'),
  ('ag-east', 'e9', 'good', 'good', 'gpt-x', 'p2', '{}', '{}', 'ok'),
  ('ag-east', 'e10', 'needs_review', 'good', 'gpt-x', 'p2', '{}', '{}', 'ok'),
  ('ag-east', 'e11', 'bad', 'needs_review', 'gpt-x', 'p2', '{}', '{}', 'failed'),
  ('ag-west', 'w1', 'bad', 'bad', 'heuristic-v1', 'rules-v1', '{}', '{}', 'ok'),
  ('ag-west', 'w2', 'bad', 'good', 'heuristic-v1', 'rules-v1', '{}', '{}', 'ok'),
  ('ag-west', 'w3', 'good', 'good', 'heuristic-v1', 'rules-v1', '{}', '{}', 'ok'),
  ('ag-west', 'w4', 'good', 'good', 'heuristic-v1', 'rules-v1', '{}', '{}', 'ok');

insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, transcript, duration_sec)
select d, c, now(), now(), 'Agent: transcript of ' || c, 60 from t21;
insert into public.call_analyses
  (dealership_id, call_id, analysis, verdict, score, flags, recommended_action, confidence, status, model, prompt_version)
select d, c, '{}', machine::public.verdict, 50, machine_flags, 'none', 0.5, status::public.analysis_status, model, prompt
  from t21;
-- e9's older label disagreed; only the newest label counts.
insert into public.review_events (dealership_id, call_id, actor_id, from_status, to_status, kind, label_verdict, label_flags, created_at)
values ('ag-east', 'e9', 'a0000000-0000-4000-8000-000000000003', 'open', 'open', 'label', 'bad', '{}', now() - interval '1 hour');
insert into public.review_events (dealership_id, call_id, actor_id, from_status, to_status, kind, label_verdict, label_flags, notes)
select d, c, 'a0000000-0000-4000-8000-000000000003', 'open', 'open', 'label', human::public.verdict, human_flags, 'label of ' || c
  from t21 order by d, c;

/** Shape and privileges */
select has_view('reporting'::name, v::name, format('reporting.%s exists', v))
  from unnest(array['labelled_calls', 'label_agreement', 'label_flag_accuracy', 'eval_labels']) v;
select columns_are('reporting'::name, 'eval_labels'::name,
  array['id', 'transcript', 'duration_sec', 'dealership_id', 'expected_verdict', 'expected_flags',
        'current_verdict', 'current_model', 'current_prompt_version']::name[],
  'eval_labels has exactly the fields of the eval file format, and the current verdict for shadow runs');
select ok(
  not has_function_privilege('anon', 'public.label_agreement(text)', 'execute'),
  'anon cannot call label_agreement'
);

/** Morgan (manager): both dealerships */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');

select results_eq(
  $$ select breakdown, dealership_id, model, prompt_version, labelled, agreed, agreement, kappa, good_on_bad
       from reporting.label_agreement
      where dealership_id like 'ag-%' or (dealership_id is null and model in ('gpt-x', 'heuristic-v1'))
      order by breakdown, dealership_id, model, prompt_version $$,
  $$ values
       ('dealership', 'ag-east', null, null, 10::bigint, 6::bigint, 0.600, 0.385, 1::bigint),
       ('dealership', 'ag-west', null, null, 4::bigint, 3::bigint, 0.750, 0.500, 1::bigint),
       ('dealership_model', 'ag-east', 'gpt-x', null, 10::bigint, 6::bigint, 0.600, 0.385, 1::bigint),
       ('dealership_model', 'ag-west', 'heuristic-v1', null, 4::bigint, 3::bigint, 0.750, 0.500, 1::bigint),
       ('dealership_prompt_version', 'ag-east', 'gpt-x', 'p1', 6::bigint, 4::bigint, 0.667, 0.478, 1::bigint),
       ('dealership_prompt_version', 'ag-east', 'gpt-x', 'p2', 4::bigint, 2::bigint, 0.500, 0.333, 0::bigint),
       ('dealership_prompt_version', 'ag-west', 'heuristic-v1', 'rules-v1', 4::bigint, 3::bigint, 0.750, 0.500, 1::bigint),
       ('model', null, 'gpt-x', null, 10::bigint, 6::bigint, 0.600, 0.385, 1::bigint),
       ('model', null, 'heuristic-v1', null, 4::bigint, 3::bigint, 0.750, 0.500, 1::bigint),
       ('prompt_version', null, 'gpt-x', 'p1', 6::bigint, 4::bigint, 0.667, 0.478, 1::bigint),
       ('prompt_version', null, 'gpt-x', 'p2', 4::bigint, 2::bigint, 0.500, 0.333, 0::bigint),
       ('prompt_version', null, 'heuristic-v1', 'rules-v1', 4::bigint, 3::bigint, 0.750, 0.500, 1::bigint) $$,
  'Per dealership, model and prompt version: labelled, agreed, agreement, kappa and good-on-bad match the hand-computed figures'
);
select results_eq(
  $$ select labelled, agreed, agreement, kappa, good_on_bad from reporting.label_agreement where breakdown = 'overall' $$,
  $$ values (14::bigint, 9::bigint, 0.643, 0.426, 2::bigint) $$,
  'Overall (both dealerships): kappa 52/122 = 0.426, two good-on-bad'
);
select is(
  (select confusion from reporting.label_agreement where breakdown = 'dealership' and dealership_id = 'ag-east'),
  '{"good": {"good": 3, "needs_review": 1, "bad": 0},
    "needs_review": {"good": 1, "needs_review": 1, "bad": 1},
    "bad": {"good": 1, "needs_review": 0, "bad": 2}}'::jsonb,
  'The confusion matrix of ag-east is {label: {analyzer: calls}}, every cell present'
);
select is(
  (select dealership_name from reporting.label_agreement where breakdown = 'dealership' and dealership_id = 'ag-west'),
  'Agreement West',
  'Dealership rows carry the dealership''s name'
);
select is_empty(
  $$ select 1 from reporting.labelled_calls where call_id = 'e11' $$,
  'A call whose current analysis failed is not counted'
);
select is(
  (select human_verdict::text from reporting.labelled_calls where dealership_id = 'ag-east' and call_id = 'e9'),
  'good',
  'A relabelled call counts with its newest label'
);
select results_eq(
  $$ select flag, true_positives, false_positives, false_negatives, flag_precision, flag_recall
       from reporting.label_flag_accuracy where breakdown = 'dealership' and dealership_id = 'ag-east' order by flag $$,
  $$ values ('customer_upset', 1::bigint, 1::bigint, 0::bigint, 0.500, 1.000),
            ('hallucinated_information', 1::bigint, 1::bigint, 1::bigint, 0.500, 0.500) $$,
  'Per-flag precision and recall of ag-east match the hand count (e3, e4, e5, e7)'
);

/** The dashboard's function */
select is(
  (public.label_agreement() -> 'overall' ->> 'kappa')::numeric,
  0.426,
  'label_agreement() gives the overall kappa'
);
select is(
  (select array_agg(x ->> 'dealership_id' order by x ->> 'dealership_id')
     from jsonb_array_elements(public.label_agreement() -> 'dealerships') x
    where x ->> 'dealership_id' like 'ag-%'),
  array['ag-east', 'ag-west'],
  'label_agreement() lists each dealership'
);
select results_eq(
  $$ select (a -> 'overall' ->> 'labelled')::integer, (a -> 'overall' ->> 'kappa')::numeric,
            jsonb_array_length(a -> 'dealerships'), jsonb_array_length(a -> 'prompt_versions'),
            jsonb_array_length(a -> 'flags')
       from public.label_agreement('ag-east') a $$,
  $$ values (10, 0.385, 0, 2, 2) $$,
  'label_agreement(dealership) narrows every figure to that dealership'
);

/** reporting.eval_labels */
select results_eq(
  $$ select id, transcript, duration_sec, expected_verdict, expected_flags
       from reporting.eval_labels where dealership_id = 'ag-east' and id in ('ag-east/e4', 'ag-east/e9') order by id $$,
  $$ values ('ag-east/e4', 'Agent: transcript of e4', 60, 'bad', '{hallucinated_information}'::text[]),
            ('ag-east/e9', 'Agent: transcript of e9', 60, 'good', '{}'::text[]) $$,
  'eval_labels gives each labelled call as an eval case with its newest label'
);
select is(
  (select count(*)::integer from reporting.eval_labels where dealership_id like 'ag-%'),
  15,
  'Every labelled call with a transcript is an eval case (a failed analysis does not matter to a label)'
);

/** Nora (csm of ag-east only) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select results_eq(
  $$ select labelled, agreement, kappa from reporting.label_agreement where breakdown = 'overall' $$,
  $$ values (10::bigint, 0.600, 0.385) $$,
  'A CSM''s overall figures count only her dealerships (ag-east)'
);
select is_empty(
  $$ select 1 from reporting.label_agreement where dealership_id = 'ag-west'
     union all select 1 from reporting.eval_labels where dealership_id = 'ag-west'
     union all select 1 from reporting.label_flag_accuracy where dealership_id = 'ag-west' $$,
  'A CSM sees no figures or labels of another dealership'
);
select is(
  public.label_agreement('ag-west') -> 'overall',
  'null'::jsonb,
  'label_agreement() about another dealership answers nothing'
);

/** Sam (csm of ag-west only) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select results_eq(
  $$ select labelled, agreement, kappa, good_on_bad from reporting.label_agreement where breakdown = 'overall' $$,
  $$ values (4::bigint, 0.750, 0.500, 1::bigint) $$,
  'The other CSM''s overall figures are ag-west''s'
);

/** Undefined kappa */
reset role;
delete from public.review_events where dealership_id = 'ag-west' and call_id <> 'w3' and kind = 'label';
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select results_eq(
  $$ select labelled, agreement, kappa from reporting.label_agreement where breakdown = 'overall' $$,
  $$ values (1::bigint, 1.000, null::numeric) $$,
  'Kappa is null when chance agreement is 1 (a single label and verdict)'
);

select * from finish();
rollback;
