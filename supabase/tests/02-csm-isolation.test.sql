-- A CSM against another dealership's rows, table by table, and against writes.
-- Nora North (csm): toyota-braintree, honda-quincy. Sam South (csm): ford-weymouth,
-- nissan-plymouth. Needs supabase/seed.sql (the demo users).
begin;
select plan(49);

/** Fixtures: in each demo dealership one flagged call with its whole trail, plus rows whose dealership is unknown (tests.seed_flagged_calls) */
select tests.seed_flagged_calls();

/** Nora North (csm of toyota-braintree, honda-quincy) reads her dealerships only */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000003');

select set_eq(
  $$ select id from public.dealerships $$,
  array['toyota-braintree', 'honda-quincy'],
  'A CSM sees exactly the dealerships assigned to her'
);
select set_eq(
  $$ select dealership_id from public.calls where call_id like 'pgtap-%' $$,
  array['toyota-braintree', 'honda-quincy'],
  'A CSM sees the calls of her dealerships'
);
select is_empty(
  $$ select call_id from public.calls where dealership_id not in ('toyota-braintree', 'honda-quincy') $$,
  'A CSM sees no call of another dealership'
);
select set_eq(
  $$ select dealership_id from public.events where event_id like 'pgtap-%' $$,
  array['toyota-braintree', 'honda-quincy'],
  'A CSM sees the events of her dealerships'
);
select is_empty(
  $$ select event_id from public.events
      where dealership_id is null or dealership_id not in ('toyota-braintree', 'honda-quincy') $$,
  'A CSM sees no event of another dealership, nor one whose dealership is unknown'
);
select set_eq(
  $$ select dealership_id from public.call_analyses where call_id like 'pgtap-%' $$,
  array['toyota-braintree', 'honda-quincy'],
  'A CSM sees the analyses of her dealerships'
);
select is_empty(
  $$ select id from public.call_analyses where dealership_id not in ('toyota-braintree', 'honda-quincy') $$,
  'A CSM sees no analysis of another dealership'
);
select set_eq(
  $$ select dealership_id from public.analysis_jobs where call_id like 'pgtap-%' $$,
  array['toyota-braintree', 'honda-quincy'],
  'A CSM sees the analysis jobs of her dealerships'
);
select is_empty(
  $$ select id from public.analysis_jobs where dealership_id not in ('toyota-braintree', 'honda-quincy') $$,
  'A CSM sees no analysis job of another dealership'
);
select set_eq(
  $$ select dealership_id from public.processing_errors where error = 'pgtap' $$,
  array['toyota-braintree', 'honda-quincy'],
  'A CSM sees the processing errors of her dealerships'
);
select is_empty(
  $$ select id from public.processing_errors
      where dealership_id is null or dealership_id not in ('toyota-braintree', 'honda-quincy') $$,
  'A CSM sees no processing error of another dealership, nor one whose dealership is unknown'
);
select set_eq(
  $$ select dealership_id from public.call_reviews where call_id like 'pgtap-%' $$,
  array['toyota-braintree', 'honda-quincy'],
  'A CSM sees the reviews of her dealerships'
);
select is_empty(
  $$ select call_id from public.call_reviews where dealership_id not in ('toyota-braintree', 'honda-quincy') $$,
  'A CSM sees no review of another dealership'
);
select set_eq(
  $$ select dealership_id from public.review_events where call_id like 'pgtap-%' $$,
  array['toyota-braintree', 'honda-quincy'],
  'A CSM sees the review history of her dealerships'
);
select is_empty(
  $$ select id from public.review_events where dealership_id not in ('toyota-braintree', 'honda-quincy') $$,
  'A CSM sees no review history of another dealership'
);
select set_eq(
  $$ select dealership_id from public.user_dealerships $$,
  array['toyota-braintree', 'honda-quincy'],
  'A CSM sees her own assignments only'
);
select set_eq(
  $$ select full_name from public.profiles $$,
  array['Nora North', 'Morgan Manager'],
  'A CSM sees her own profile and her manager''s, not a CSM of other dealerships'
);

/** ...and changes nothing except through the review functions */
select throws_ok(
  $$ update public.profiles set role = 'admin' where user_id = 'a0000000-0000-4000-8000-000000000003' $$,
  '42501', null,
  'A CSM cannot change her own role'
);
select throws_ok(
  $$ update public.profiles set manager_id = null where user_id = 'a0000000-0000-4000-8000-000000000003' $$,
  '42501', null,
  'A CSM cannot change whom she reports to'
);
select throws_ok(
  $$ insert into public.user_dealerships (user_id, dealership_id)
     values ('a0000000-0000-4000-8000-000000000003', 'ford-weymouth') $$,
  '42501', null,
  'A CSM cannot assign herself another dealership'
);
select throws_ok(
  $$ delete from public.user_dealerships where user_id = 'a0000000-0000-4000-8000-000000000003' $$,
  '42501', null,
  'A CSM cannot remove her assignments'
);
select throws_ok(
  $$ insert into public.dealerships (id, name) values ('pgtap-new', 'New') $$,
  '42501', null,
  'A CSM cannot create a dealership'
);
select throws_ok(
  $$ update public.dealerships set name = 'Renamed' where id = 'toyota-braintree' $$,
  '42501', null,
  'A CSM cannot rename her dealership'
);
select throws_ok(
  $$ insert into public.events (event_id, event_type, source, dealership_id, call_id, occurred_at, raw_body, raw_payload)
     values ('pgtap-forged', 'call_ended', 'normalized', 'toyota-braintree', 'pgtap-toyota-braintree', now(), '\x7b7d', '{}') $$,
  '42501', null,
  'A CSM cannot insert an event'
);
select throws_ok(
  $$ update public.calls set transcript = 'edited' where dealership_id = 'toyota-braintree' $$,
  '42501', null,
  'A CSM cannot edit a call of her dealership'
);
select throws_ok(
  $$ delete from public.calls where dealership_id = 'toyota-braintree' $$,
  '42501', null,
  'A CSM cannot delete a call of her dealership'
);
select throws_ok(
  $$ insert into public.call_analyses
       (dealership_id, call_id, analysis, verdict, recommended_action, confidence, status, model, prompt_version)
     values ('toyota-braintree', 'pgtap-toyota-braintree', '{}', 'good', 'none', 1, 'ok', 'forged', 'x') $$,
  '42501', null,
  'A CSM cannot insert an analysis'
);
select throws_ok(
  $$ insert into public.analysis_jobs (dealership_id, call_id) values ('toyota-braintree', 'pgtap-toyota-braintree') $$,
  '42501', null,
  'A CSM cannot enqueue an analysis job directly'
);
select throws_ok(
  $$ delete from public.processing_errors where dealership_id = 'toyota-braintree' $$,
  '42501', null,
  'A CSM cannot delete processing errors'
);
select throws_ok(
  $$ update public.call_reviews set status = 'resolved' where dealership_id = 'toyota-braintree' $$,
  '42501', null,
  'A CSM cannot update a review directly, only through review_call'
);
select throws_ok(
  $$ insert into public.review_events (dealership_id, call_id, to_status)
     values ('toyota-braintree', 'pgtap-toyota-braintree', 'resolved') $$,
  '42501', null,
  'A CSM cannot write review history directly'
);
select throws_ok(
  $$ delete from public.review_events where dealership_id = 'toyota-braintree' $$,
  '42501', null,
  'A CSM cannot erase review history'
);

/** ...and works on another dealership's calls through no function either */
select throws_ok(
  $$ select public.review_call('ford-weymouth', 'pgtap-ford-weymouth', 'reviewed', 'looked at it') $$,
  '42501', null,
  'A CSM cannot review a call of another dealership'
);
select throws_ok(
  $$ select public.review_call('ford-weymouth', 'pgtap-no-such-call', 'reviewed') $$,
  '42501', null,
  'A CSM gets the same refusal for a call that does not exist in another dealership, so nothing leaks'
);
select throws_ok(
  $$ select public.assign_review('ford-weymouth', 'pgtap-ford-weymouth', 'a0000000-0000-4000-8000-000000000003') $$,
  '42501', null,
  'A CSM cannot claim a review of another dealership'
);
select throws_ok(
  $$ select public.request_reanalysis('ford-weymouth', 'pgtap-ford-weymouth') $$,
  '42501', null,
  'A CSM cannot request a re-analysis of a call of another dealership'
);
select lives_ok(
  $$ select public.review_call('toyota-braintree', 'pgtap-toyota-braintree', 'reviewed', 'called the customer back') $$,
  'A CSM can review a call of her own dealership'
);
select throws_ok(
  $$ select public.review_call('toyota-braintree', 'pgtap-no-such-call', 'reviewed') $$,
  'PT404', null,
  'A CSM reviewing a missing call of her own dealership is told it is not found'
);
reset role;

select results_eq(
  $$ select status::text, updated_by from public.call_reviews
      where dealership_id = 'ford-weymouth' and call_id = 'pgtap-ford-weymouth' $$,
  $$ values ('open', null::uuid) $$,
  'The other dealership''s review is untouched after the refused attempts'
);

/** Sam South (csm of ford-weymouth, nissan-plymouth) sees nothing of Nora's */
set local role authenticated;
select tests.authenticate_as('a0000000-0000-4000-8000-000000000004');

select set_eq(
  $$ select id from public.dealerships $$,
  array['ford-weymouth', 'nissan-plymouth'],
  'The other CSM sees exactly his own dealerships'
);
select is_empty(
  $$ select call_id from public.calls where dealership_id in ('toyota-braintree', 'honda-quincy', 'kia-hingham') $$,
  'The other CSM sees no call of the first CSM''s dealerships, nor of the unassigned one'
);
select is_empty(
  $$ select event_id from public.events where dealership_id is distinct from 'ford-weymouth' and dealership_id is distinct from 'nissan-plymouth' $$,
  'The other CSM sees no event outside his dealerships'
);
select is_empty(
  $$ select id from public.call_analyses where dealership_id not in ('ford-weymouth', 'nissan-plymouth') $$,
  'The other CSM sees no analysis outside his dealerships'
);
select is_empty(
  $$ select id from public.analysis_jobs where dealership_id not in ('ford-weymouth', 'nissan-plymouth') $$,
  'The other CSM sees no analysis job outside his dealerships'
);
select is_empty(
  $$ select id from public.processing_errors where dealership_id is distinct from 'ford-weymouth' and dealership_id is distinct from 'nissan-plymouth' $$,
  'The other CSM sees no processing error outside his dealerships'
);
select is_empty(
  $$ select call_id from public.call_reviews where dealership_id not in ('ford-weymouth', 'nissan-plymouth') $$,
  'The other CSM sees no review outside his dealerships'
);
select is_empty(
  $$ select id from public.review_events where dealership_id not in ('ford-weymouth', 'nissan-plymouth') $$,
  'The other CSM does not see the first CSM''s review history'
);
select is_empty(
  $$ select user_id from public.user_dealerships where user_id <> 'a0000000-0000-4000-8000-000000000004' $$,
  'The other CSM sees no one else''s assignments'
);
select is_empty(
  $$ select user_id from public.profiles where user_id = 'a0000000-0000-4000-8000-000000000003' $$,
  'The other CSM does not see the profile of a CSM he shares no dealership with'
);
reset role;

select * from finish();
rollback;
