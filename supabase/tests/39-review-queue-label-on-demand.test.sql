-- public.review_queue's label columns as scalar subqueries (migration
-- 20261215000500): for every role, the view returns exactly what the lateral
-- join of 20261209000200 returned (written out below), on reviews without a
-- label, with an agreeing one, a disagreeing verdict, disagreeing flags (in
-- another order), and two labels (the newest counts). Needs supabase/seed.sql.
begin;
select plan(9);

\set admin '''a0000000-0000-4000-8000-000000000001'''
\set morgan '''a0000000-0000-4000-8000-000000000002'''
\set nora '''a0000000-0000-4000-8000-000000000003'''

insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, verdict, score, flags)
select d, 't39-' || d || '-' || n, now() - interval '2 hours', now(),
       case when n = 'good' then 'good' else 'bad' end::public.verdict, 20,
       case when n = 'none' then '{}'::text[] else array['handoff_failed', 'customer_upset'] end
  from unnest(array['honda-quincy', 'ford-weymouth', 'kia-hingham']) d,
       unnest(array['none', 'agree', 'verdict', 'flags', 'twice', 'good']) n;
insert into public.call_reviews (dealership_id, call_id, status, flagged_at)
select dealership_id, call_id, 'open', now() - interval '1 hour'
  from public.calls where call_id like 't39-%';

insert into public.review_events (dealership_id, call_id, actor_id, from_status, to_status, kind, label_verdict, label_flags, notes)
select c.dealership_id, c.call_id, :nora, 'open', 'open', 'label', l.v::public.verdict, l.f, 't39'
  from public.calls c
  join (values
    ('agree', 'bad', array['customer_upset', 'handoff_failed']),   -- same flags, sorted
    ('verdict', 'needs_review', array['customer_upset', 'handoff_failed']),
    ('flags', 'bad', array['customer_upset']),
    ('twice', 'good', array[]::text[]),                            -- older: disagrees
    ('good', 'good', array[]::text[])
  ) l (n, v, f) on c.call_id like '%-' || l.n
 where c.call_id like 't39-%'
 order by c.call_id;
-- The newest label of 'twice' agrees.
insert into public.review_events (dealership_id, call_id, actor_id, from_status, to_status, kind, label_verdict, label_flags, notes)
select dealership_id, call_id, :nora, 'open', 'open', 'label', 'bad', array['customer_upset', 'handoff_failed'], 't39 newer'
  from public.calls where call_id like 't39-%-twice';

-- The label columns as 20261209000200 computed them (a lateral join), with the
-- reader's rights like the view.
create temporary view t39_lateral with (security_invoker = true) as
select r.dealership_id, r.call_id, l.label_verdict, l.label_flags,
       l.label_verdict is not null
         and (l.label_verdict is distinct from r.verdict
              or l.label_flags is distinct from array(select f from unnest(c.flags) f order by f)) as label_disagrees
  from public.call_reviews r
  left join public.calls c on c.dealership_id = r.dealership_id and c.call_id = r.call_id
  left join lateral (
    select e.label_verdict, e.label_flags
      from public.review_events e
     where e.dealership_id = r.dealership_id and e.call_id = r.call_id and e.kind = 'label'
     order by e.id desc
     limit 1) l on true
 where r.status <> 'resolved';
grant select on t39_lateral to authenticated;

/** Known answers, as the owner */
select results_eq(
  $$ select split_part(call_id, '-', 4), label_verdict::text, label_disagrees
       from public.review_queue where dealership_id = 'honda-quincy' and call_id like 't39-%' order by call_id $$,
  $$ values ('agree', 'bad', false), ('flags', 'bad', true), ('good', 'good', true),
            ('none', null, false), ('twice', 'bad', false), ('verdict', 'needs_review', true) $$,
  'No label, an agreeing label (flags in any order), a disagreeing verdict or flags, and the newest of two labels'
);
select is(
  (select label_flags from public.review_queue where dealership_id = 'honda-quincy' and call_id = 't39-honda-quincy-twice'),
  array['customer_upset', 'handoff_failed'],
  'label_flags are the newest label''s'
);

/** Equal to the lateral join, for every role */
set local role authenticated;
select tests.authenticate_as(:nora);
select set_eq(
  $$ select dealership_id, call_id, label_verdict, label_flags, label_disagrees from public.review_queue where call_id like 't39-%' $$,
  $$ select dealership_id, call_id, label_verdict, label_flags, label_disagrees from t39_lateral where call_id like 't39-%' $$,
  'csm.north: the label columns equal the lateral join''s'
);
select is(
  (select count(*)::int from public.review_queue where call_id like 't39-%'),
  6,
  'csm.north sees her dealership''s fixture reviews only (honda-quincy)'
);
reset role;
set local role authenticated;
select tests.authenticate_as(:morgan);
select set_eq(
  $$ select dealership_id, call_id, label_verdict, label_flags, label_disagrees from public.review_queue where call_id like 't39-%' $$,
  $$ select dealership_id, call_id, label_verdict, label_flags, label_disagrees from t39_lateral where call_id like 't39-%' $$,
  'The manager: the label columns equal the lateral join''s'
);
select is_empty(
  $$ select call_id from public.review_queue where dealership_id = 'kia-hingham' and call_id like 't39-%' $$,
  'The manager sees nothing of the unassigned dealership, labels included'
);
reset role;
set local role authenticated;
select tests.authenticate_as(:admin);
select set_eq(
  $$ select dealership_id, call_id, label_verdict, label_flags, label_disagrees from public.review_queue where call_id like 't39-%' $$,
  $$ select dealership_id, call_id, label_verdict, label_flags, label_disagrees from t39_lateral where call_id like 't39-%' $$,
  'The admin: the label columns equal the lateral join''s'
);
select is(
  (select count(*)::int from public.review_queue where call_id like 't39-%'),
  18,
  'The admin sees every fixture review'
);
reset role;
set local role anon;
select throws_ok(
  $$ select call_id from public.review_queue where call_id like 't39-%' $$,
  '42501', null,
  'anon may not read the queue'
);
reset role;

select * from finish();
rollback;
