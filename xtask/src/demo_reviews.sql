-- Demo data only (run by `cargo xtask up` after the worker judged the demo calls).
-- 1. Backdate the analyses and reviews to a few minutes after each call, as if the
--    stack had been running all week (they were all judged just now).
-- 2. Work part of the queue as the CSMs would, through the real review functions,
--    so call_reviews and review_events are consistent.
-- 3. Spread the resulting audit timestamps over the hours after each flag.
begin;

update public.call_analyses a
   set created_at = least(now(), c.first_event_at + interval '4 minutes')
  from public.calls c
 where c.dealership_id = a.dealership_id and c.call_id = a.call_id;
update public.calls
   set analyzed_at = least(now(), first_event_at + interval '4 minutes')
 where analyzed_at is not null;
update public.call_reviews r
   set flagged_at = least(now(), c.first_event_at + interval '4 minutes'),
       updated_at = least(now(), c.first_event_at + interval '4 minutes')
  from public.calls c
 where c.dealership_id = r.dealership_id and c.call_id = r.call_id;

do $$
declare
  r record;
  n integer := 0;
  actor uuid;
  -- RLS asks for a live session (migration 20261202000300): one per CSM, as if each
  -- had signed in, removed again at the end.
  north_session uuid := gen_random_uuid();
  south_session uuid := gen_random_uuid();
begin
  insert into auth.sessions (id, user_id, created_at, updated_at, aal)
  values (north_session, ':csm_north'::uuid, now(), now(), 'aal1'),
         (south_session, ':csm_south'::uuid, now(), now(), 'aal1');
  for r in
    select cr.dealership_id, cr.call_id, cr.flagged_at
      from public.call_reviews cr
     order by cr.call_id
  loop
    n := n + 1;
    actor := case
      when r.dealership_id in ('toyota-braintree', 'honda-quincy') then ':csm_north'::uuid
      when r.dealership_id in ('ford-weymouth', 'nissan-plymouth') then ':csm_south'::uuid
    end;
    -- kia-hingham has no CSM; calls from the last 12 hours are still waiting.
    continue when actor is null or r.flagged_at > now() - interval '12 hours' or n % 6 = 0;
    perform set_config('request.jwt.claims',
      json_build_object('sub', actor, 'role', 'authenticated', 'session_id',
        case when actor = ':csm_north'::uuid then north_session else south_session end)::text, true);
    perform public.assign_review(r.dealership_id, r.call_id, actor);
    case n % 6
      when 1, 2 then
        perform public.review_call(r.dealership_id, r.call_id, 'resolved',
          'Called the customer back and booked what they needed.');
      when 3 then
        perform public.review_call(r.dealership_id, r.call_id, 'reviewed', null);
      when 4 then
        perform public.review_call(r.dealership_id, r.call_id, 'follow_up_needed',
          'Left a voicemail; trying again tomorrow.');
      else
        if n % 4 = 1 then
          perform public.review_call(r.dealership_id, r.call_id, 'escalated',
            'Customer asked for the service manager; passed on.');
        end if;
    end case;
  end loop;
  perform set_config('request.jwt.claims', '', true);
  delete from auth.sessions where id in (north_session, south_session);
end
$$;

-- The automatic "opened" entry keeps the flag time; the CSMs' actions happened a
-- few hours later (never in the future).
update public.review_events e
   set created_at = case when e.actor_id is null then r.flagged_at
                         else least(now(), r.flagged_at + (interval '1 hour' * (1 + (e.id % 30)))) end
  from public.call_reviews r
 where r.dealership_id = e.dealership_id and r.call_id = e.call_id;
update public.call_reviews r
   set updated_at = coalesce((select max(e.created_at) from public.review_events e
                               where e.dealership_id = r.dealership_id and e.call_id = r.call_id), r.updated_at),
       resolved_at = case when r.status = 'resolved'
                          then (select max(e.created_at) from public.review_events e
                                 where e.dealership_id = r.dealership_id and e.call_id = r.call_id)
                     end;

commit;
