-- Human labels (issue 13): label_call() per role, allowed and refused, what it stores
-- in the audit trail, and how the queue and history show it. Needs
-- supabase/seed.sql (the demo users): Nora North (csm of toyota-braintree),
-- Sam South (csm of ford-weymouth), Morgan Manager, Avery Admin.
begin;
select plan(26);

/** Fixtures: a flagged call (open review), a good call (no review), an unanalyzed call */
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, transcript)
values ('toyota-braintree', 't16-flagged', now(), now(), 'Agent: hello'),
       ('toyota-braintree', 't16-good', now(), now(), 'Agent: hello'),
       ('toyota-braintree', 't16-good-bad', now(), now(), 'Agent: hello'),
       ('toyota-braintree', 't16-unanalyzed', now(), now(), null),
       ('ford-weymouth', 't16-foreign', now(), now(), 'Agent: hello');
insert into public.call_analyses
  (dealership_id, call_id, analysis, verdict, score, flags, recommended_action, confidence, status, model, prompt_version)
values ('toyota-braintree', 't16-flagged', '{}', 'needs_review', 50, '{handoff_failed,customer_upset}', 'human_follow_up', 0.7, 'ok', 'gpt-test', 'p1'),
       ('toyota-braintree', 't16-good', '{}', 'good', 90, '{}', 'none', 0.9, 'ok', 'gpt-test', 'p1'),
       ('toyota-braintree', 't16-good-bad', '{}', 'good', 90, '{}', 'none', 0.9, 'ok', 'gpt-test', 'p1'),
       ('ford-weymouth', 't16-foreign', '{}', 'bad', 10, '{}', 'human_follow_up', 0.9, 'ok', 'gpt-test', 'p1');

/** Nora (csm) */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');

select results_eq(
  $$ select kind, label_verdict::text, label_flags, machine_verdict::text, machine_flags, notes
       from public.label_call('toyota-braintree', 't16-flagged', 'needs_review', '{handoff_failed,customer_upset}') $$,
  $$ values ('label', 'needs_review', '{customer_upset,handoff_failed}'::text[], 'needs_review',
             '{handoff_failed,customer_upset}'::text[], null::text) $$,
  'A CSM can confirm a verdict without a reason; the label and what she saw are stored, flags sorted'
);
select is(
  (select label_analysis_id from public.review_events where call_id = 't16-flagged' and kind = 'label'),
  (select latest_analysis_id from public.calls where call_id = 't16-flagged'),
  'The label names the analysis it confirms'
);
select is(
  (select assignee_id from public.call_reviews where call_id = 't16-flagged'),
  'a0000000-0000-4000-8000-000000000003'::uuid,
  'Labelling claims the unassigned review'
);
select throws_ok(
  $$ select public.label_call('toyota-braintree', 't16-flagged', 'bad', '{handoff_failed}') $$,
  '22023', 'a correction needs a short reason',
  'Correcting the verdict without a reason is refused'
);
select throws_ok(
  $$ select public.label_call('toyota-braintree', 't16-flagged', 'needs_review', '{handoff_failed}', '  ') $$,
  '22023', 'a correction needs a short reason',
  'Correcting only the flags with a blank reason is refused'
);
select results_eq(
  $$ select label_verdict::text, label_flags, notes
       from public.label_call('toyota-braintree', 't16-flagged', 'bad', '{hallucinated_information,handoff_failed,handoff_failed}',
                              'Agent quoted a price it cannot know') $$,
  $$ values ('bad', '{hallucinated_information,handoff_failed}'::text[], 'Agent quoted a price it cannot know') $$,
  'A CSM can correct the verdict and flags with a reason; a repeated flag is kept once'
);
select results_eq(
  $$ select label_verdict::text, label_disagrees from public.review_queue where call_id = 't16-flagged' $$,
  $$ values ('bad', true) $$,
  'The queue shows the newest label and that it disagrees with the verdict'
);
select results_eq(
  $$ select kind, label_verdict::text from public.review_history where call_id = 't16-flagged' and kind = 'label' order by id $$,
  $$ values ('label', 'needs_review'), ('label', 'bad') $$,
  'Both labels stay in the history, oldest first'
);
select throws_ok(
  $$ select public.label_call('toyota-braintree', 't16-flagged', 'bad', '{Not A Flag}', 'x') $$,
  '22023', 'a flag is a lower-case name such as handoff_failed',
  'A malformed flag is refused'
);
select throws_ok(
  $$ select public.label_call('toyota-braintree', 't16-flagged', 'bad', '{}', repeat('x', 501)) $$,
  '22023', 'a label''s reason is at most 500 characters (this one has 501)',
  'A reason over 500 characters is refused'
);
select throws_ok(
  $$ select public.label_call('toyota-braintree', 't16-flagged', null, '{}', 'x') $$,
  '22023', 'p_verdict is required (good, needs_review or bad)',
  'A label without a verdict is refused'
);
select throws_ok(
  $$ select public.label_call('toyota-braintree', 't16-unanalyzed', 'good') $$,
  'P0001', 'call t16-unanalyzed has no verdict to confirm or correct yet',
  'A call without an analysis cannot be labelled'
);

-- Spot checks of good calls from the call page.
select lives_ok(
  $$ select public.label_call('toyota-braintree', 't16-good', 'good') $$,
  'A CSM can confirm a good call that has no review'
);
select results_eq(
  $$ select status::text, assignee_id, resolved_at is not null from public.call_reviews where call_id = 't16-good' $$,
  $$ values ('resolved', 'a0000000-0000-4000-8000-000000000003'::uuid, true) $$,
  'Confirming a good call records a resolved review (nothing to follow up), hers'
);
select lives_ok(
  $$ select public.label_call('toyota-braintree', 't16-good-bad', 'bad', '{hallucinated_information}', 'Invented a recall date') $$,
  'A CSM can correct a good call to bad'
);
select results_eq(
  $$ select status::text, label_verdict::text, label_disagrees from public.review_queue where call_id = 't16-good-bad' $$,
  $$ values ('open', 'bad', true) $$,
  'A good call labelled bad enters the queue as an open review that shows the disagreement'
);
select throws_ok(
  $$ select public.label_call('ford-weymouth', 't16-foreign', 'good', '{}', 'not mine') $$,
  '42501', 'you are not assigned to dealership ford-weymouth',
  'A CSM cannot label another dealership''s call'
);
select throws_ok(
  $$ update public.review_events set label_verdict = 'good' where call_id = 't16-flagged' $$,
  '42501', null,
  'A CSM cannot rewrite a label in the history'
);

/** Sam (csm of ford-weymouth) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select is_empty(
  $$ select 1 from public.review_events where call_id like 't16-%' and kind = 'label' and dealership_id = 'toyota-braintree' $$,
  'A CSM of another dealership sees none of the labels'
);
select throws_ok(
  $$ select public.label_call('toyota-braintree', 't16-flagged', 'good', '{}', 'x') $$,
  '42501', 'you are not assigned to dealership toyota-braintree',
  'A CSM of another dealership cannot label'
);
select lives_ok(
  $$ select public.label_call('ford-weymouth', 't16-foreign', 'bad') $$,
  'A CSM can label her own dealership''s call'
);

/** Morgan (manager) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select is(
  (public.label_call('toyota-braintree', 't16-flagged', 'needs_review', '{handoff_failed}', 'Not invented after all')).actor_id,
  'a0000000-0000-4000-8000-000000000002'::uuid,
  'A manager can label a call of his team'
);
select is(
  (select assignee_id from public.call_reviews where call_id = 't16-flagged'),
  'a0000000-0000-4000-8000-000000000003'::uuid,
  'A manager''s label leaves an assigned review with its assignee'
);

/** Avery (admin) and anon */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select throws_ok(
  $$ select public.label_call('toyota-braintree', 't16-flagged', 'good') $$,
  '42501', 'admins have read-only access in the app',
  'An admin cannot label'
);
reset role;
set local role anon;
select throws_ok(
  $$ select public.label_call('toyota-braintree', 't16-flagged', 'good') $$,
  '42501', null,
  'anon cannot label'
);
reset role;
select is(
  (select count(*)::integer from public.review_events where call_id like 't16-%' and kind = 'label'),
  6,
  'Exactly the allowed labels were stored'
);

select * from finish();
rollback;
