-- The audit sample (issue 13): app_settings.audit_sample_percent of good verdicts
-- open a review for labelling. Which calls: a fixed hash of dealership and call id.
-- Needs supabase/seed.sql (the demo users).
begin;
select plan(9);

select is(
  (select audit_sample_percent from public.app_settings),
  0.0,
  'The audit sample is off by default'
);
select ok(
  private.in_audit_sample('toyota-braintree', 'any-call', 100) and not private.in_audit_sample('toyota-braintree', 'any-call', 0),
  'Everything is in a 100% sample and nothing in a 0% one'
);
select is(
  private.in_audit_sample('toyota-braintree', 't17-x', 7.5),
  private.in_audit_sample('toyota-braintree', 't17-x', 7.5),
  'Whether a call is in the sample does not change between draws'
);
select ok(
  (select count(*) filter (where private.in_audit_sample('toyota-braintree', 'c' || i, 10))
     from generate_series(1, 10000) i) between 900 and 1100,
  'A 10% sample draws about 10% of calls (900-1100 of 10000)'
);

/** With the sample at 100%, every good verdict opens a review */
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at)
values ('toyota-braintree', 't17-off', now(), now()),
       ('toyota-braintree', 't17-on', now(), now()),
       ('toyota-braintree', 't17-failed', now(), now());
insert into public.call_analyses
  (dealership_id, call_id, analysis, verdict, score, flags, recommended_action, confidence, status, model, prompt_version)
values ('toyota-braintree', 't17-off', '{}', 'good', 90, '{}', 'none', 0.9, 'ok', 'm', 'p');
update public.app_settings set audit_sample_percent = 100;
insert into public.call_analyses
  (dealership_id, call_id, analysis, verdict, score, flags, recommended_action, confidence, status, model, prompt_version)
values ('toyota-braintree', 't17-on', '{}', 'good', 90, '{}', 'none', 0.9, 'ok', 'm', 'p'),
       ('toyota-braintree', 't17-failed', '{}', 'needs_review', null, '{}', 'human_follow_up', 0, 'failed', 'm', 'p');

select is_empty(
  $$ select 1 from public.call_reviews where call_id = 't17-off' $$,
  'With the sample off, a good verdict opens no review'
);
select results_eq(
  $$ select status::text, audit_sample, assignee_id from public.call_reviews where call_id = 't17-on' $$,
  $$ values ('open', true, null::uuid) $$,
  'A sampled good verdict opens an unassigned review marked audit_sample'
);
select is(
  (select notes from public.review_events where call_id = 't17-on'),
  'Opened for the audit sample (100.0% of good verdicts): confirm or correct the verdict.',
  'Its history says why it was opened'
);
select is(
  (select audit_sample from public.call_reviews where call_id = 't17-failed'),
  false,
  'A flagged verdict opens an ordinary review, not an audit sample'
);

set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');
select results_eq(
  $$ select verdict::text, audit_sample from public.review_queue where call_id = 't17-on' $$,
  $$ values ('good', true) $$,
  'The CSM''s queue shows the sampled good call as an audit sample'
);

select * from finish();
rollback;
