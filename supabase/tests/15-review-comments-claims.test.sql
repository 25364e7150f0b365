-- Notes with any status change, comments at any time, and acting claims (issue 16):
-- comment_on_review() per role, allowed and refused, and review_call() assigning an
-- unassigned review to whoever acts. Needs supabase/seed.sql (the demo users):
-- Nora North (csm of toyota-braintree, honda-quincy), Sam South (csm of
-- ford-weymouth), Morgan Manager (their manager), Avery Admin.
begin;
select plan(22);

/** Fixtures: flagged calls with open, unassigned reviews */
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at)
values ('toyota-braintree', 't15-comment', now(), now()),
       ('toyota-braintree', 't15-claim', now(), now()),
       ('toyota-braintree', 't15-theirs', now(), now()),
       ('toyota-braintree', 't15-manager', now(), now()),
       ('toyota-braintree', 't15-new', now(), now()),
       ('toyota-braintree', 't15-no-review', now(), now()),
       ('ford-weymouth', 't15-foreign', now(), now());
insert into public.call_reviews (dealership_id, call_id, status, assignee_id)
values ('toyota-braintree', 't15-comment', 'resolved', null),
       ('toyota-braintree', 't15-claim', 'open', null),
       ('toyota-braintree', 't15-theirs', 'open', 'a0000000-0000-4000-8000-000000000002'),
       ('toyota-braintree', 't15-manager', 'open', null),
       ('ford-weymouth', 't15-foreign', 'open', null);

/** Nora (csm): comments */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');

select is(
  (public.comment_on_review('toyota-braintree', 't15-comment', '  Called back, left a voicemail.  ')).notes,
  'Called back, left a voicemail.',
  'A CSM can comment on a review of her dealership, even a resolved one; the comment is trimmed'
);
select results_eq(
  $$ select kind, from_status::text, to_status::text, actor_id, from_assignee, to_assignee
       from public.review_history where call_id = 't15-comment' $$,
  $$ values ('comment', 'resolved', 'resolved', 'a0000000-0000-4000-8000-000000000003'::uuid, null::uuid, null::uuid) $$,
  'The comment is in the history as kind comment, by her, changing neither status nor assignee'
);
select results_eq(
  $$ select status::text, assignee_id from public.call_reviews where call_id = 't15-comment' $$,
  $$ values ('resolved', null::uuid) $$,
  'Commenting does not claim the review or change its status'
);
select is(
  (select status_changed or assignee_changed from public.review_history where call_id = 't15-comment'),
  false,
  'The history marks a comment as neither a status nor an assignee change'
);
select throws_ok(
  $$ select public.comment_on_review('toyota-braintree', 't15-comment', '   ') $$,
  '22023', 'a comment needs some text',
  'A blank comment is refused'
);
select throws_ok(
  $$ select public.comment_on_review('toyota-braintree', 't15-comment', repeat('x', 2001)) $$,
  '22023', 'a comment is at most 2000 characters (this one has 2001)',
  'A comment over 2000 characters is refused'
);
select throws_ok(
  $$ select public.comment_on_review('toyota-braintree', 't15-no-review', 'hello') $$,
  'P0001', 'call t15-no-review has no review to comment on',
  'A call without a review cannot be commented on'
);
select throws_ok(
  $$ select public.comment_on_review('ford-weymouth', 't15-foreign', 'not mine') $$,
  '42501', 'you are not assigned to dealership ford-weymouth',
  'A CSM cannot comment on another dealership''s review'
);
select throws_ok(
  $$ insert into public.review_events (dealership_id, call_id, to_status, kind, notes)
     values ('toyota-braintree', 't15-comment', 'resolved', 'comment', 'forged') $$,
  '42501', null,
  'A CSM cannot write a comment into the history directly'
);

/** Nora (csm): acting claims */
select is(
  (public.review_call('toyota-braintree', 't15-claim', 'follow_up_needed', 'Customer wants a call on Friday')).assignee_id,
  'a0000000-0000-4000-8000-000000000003'::uuid,
  'Acting on an unassigned review assigns it to the CSM who acts'
);
select results_eq(
  $$ select kind, from_status::text, to_status::text, from_assignee, to_assignee, notes
       from public.review_history where call_id = 't15-claim' $$,
  $$ values ('change', 'open', 'follow_up_needed', null::uuid, 'a0000000-0000-4000-8000-000000000003'::uuid,
             'Customer wants a call on Friday') $$,
  'One history row records the status change, its note (follow-up needed takes one) and the claim'
);
select is(
  (public.review_call('toyota-braintree', 't15-theirs', 'reviewed')).assignee_id,
  'a0000000-0000-4000-8000-000000000002'::uuid,
  'Acting on a review assigned to someone else leaves it theirs'
);
select is(
  (public.review_call('toyota-braintree', 't15-new', 'escalated', 'Flagging by hand')).assignee_id,
  'a0000000-0000-4000-8000-000000000003'::uuid,
  'A review created by acting on a call without one is the actor''s'
);
select is(
  (public.review_call('toyota-braintree', 't15-claim', 'reviewed')).notes,
  'Customer wants a call on Friday',
  'A change without a note keeps the review''s notes'
);

/** Sam (csm of ford-weymouth) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');
select throws_ok(
  $$ select public.comment_on_review('toyota-braintree', 't15-comment', 'peeking') $$,
  '42501', 'you are not assigned to dealership toyota-braintree',
  'A CSM of another dealership cannot comment'
);
select is_empty(
  $$ select 1 from public.review_history where call_id = 't15-comment' $$,
  'A CSM of another dealership does not see the comment'
);
select lives_ok(
  $$ select public.comment_on_review('ford-weymouth', 't15-foreign', 'Mine to look at') $$,
  'A CSM can comment on her own dealership''s review'
);

/** Morgan (manager) */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select lives_ok(
  $$ select public.comment_on_review('toyota-braintree', 't15-comment', 'Thanks, Nora.') $$,
  'A manager can comment on a review of his team''s dealership'
);
select is(
  (public.review_call('toyota-braintree', 't15-manager', 'reviewed', 'Looked at it')).assignee_id,
  'a0000000-0000-4000-8000-000000000002'::uuid,
  'Acting on an unassigned review assigns it to the manager who acts'
);

/** Avery (admin, read-only) and anon */
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select throws_ok(
  $$ select public.comment_on_review('toyota-braintree', 't15-comment', 'admin note') $$,
  '42501', 'admins have read-only access in the app',
  'An admin cannot comment'
);
reset role;
set local role anon;
select throws_ok(
  $$ select public.comment_on_review('toyota-braintree', 't15-comment', 'anon note') $$,
  '42501', null,
  'anon cannot comment'
);
reset role;
select is(
  (select count(*)::integer from public.review_events where call_id = 't15-comment' and kind = 'comment'),
  2,
  'Only the allowed comments reached the history'
);

select * from finish();
rollback;
