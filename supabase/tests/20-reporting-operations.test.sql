-- The SQL of docs/operations.md, character for character (the page shows the
-- command that diffs them), run on fixture data with a check of what each
-- statement did. Needs supabase/seed.sql (the demo users).
begin;
select plan(12);

create temp table ops (n integer primary key, what text not null, sql text not null);
insert into ops (n, what, sql) values
(1, 'first admin', $ops$
update public.profiles
   set role = 'admin'
 where user_id = (select id from auth.users where email = 'first.admin@example.com');
$ops$),
(2, 'requeue failed analyses', $ops$
insert into public.analysis_jobs (dealership_id, call_id, transcript_sha256, reason)
select c.dealership_id, c.call_id, c.transcript_sha256, 'reanalysis'
  from public.calls c
  join public.call_analyses a on a.id = c.latest_analysis_id
 where a.status = 'failed'
   and a.created_at > now() - interval '1 day'
   and nullif(btrim(c.transcript), '') is not null
on conflict (dealership_id, call_id) where status in ('queued', 'running')
do update set reason = 'reanalysis', updated_at = now()
 where analysis_jobs.status = 'queued';
$ops$),
(3, 're-run after a prompt change', $ops$
insert into public.analysis_jobs (dealership_id, call_id, transcript_sha256, reason, run_at)
select c.dealership_id, c.call_id, c.transcript_sha256, 'reanalysis',
       now() + (row_number() over (order by c.first_event_at desc) / 200) * interval '1 minute'
  from public.calls c
  join public.call_analyses a on a.id = c.latest_analysis_id
 where a.prompt_version <> 'analysis-v2'
   and nullif(btrim(c.transcript), '') is not null
   and c.first_event_at > now() - interval '30 days'
on conflict (dealership_id, call_id) where status in ('queued', 'running')
do update set reason = 'reanalysis', updated_at = now()
 where analysis_jobs.status = 'queued';
$ops$),
(4, 'queue progress', $ops$
select status, reason, count(*), min(run_at) as next_due
  from public.analysis_jobs
 where status in ('queued', 'running')
 group by status, reason;
$ops$),
(5, 're-create reporting logins', $ops$
select format('create role %I login password %L connection limit 3 in role reporting_reader;',
              login_name, encode(extensions.gen_random_bytes(18), 'base64'))
  from private.reporting_logins
 where not exists (select 1 from pg_roles r where r.rolname = login_name);
$ops$);

/** Fixtures */
insert into auth.users (instance_id, id, aud, role, email, raw_user_meta_data, created_at, updated_at)
values ('00000000-0000-0000-0000-000000000000', 'b0000000-0000-4000-8000-0000000000ad', 'authenticated',
        'authenticated', 'first.admin@example.com', '{}', now(), now());

-- Calls with transcripts, newest first, each with one analysis (the newest is current).
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, transcript, transcript_sha256)
select 'toyota-braintree', 'ops-' || k, now() - k * interval '1 second', now(),
       'Agent: Hello. User: I need an oil change.', md5(k::text)
  from generate_series(1, 450) k;
insert into public.calls (dealership_id, call_id, first_event_at, last_event_at, transcript, transcript_sha256)
values ('toyota-braintree', 'ops-v2', now() - interval '1 hour', now(), 'Agent: Hi.', md5('v2')),
       ('toyota-braintree', 'ops-old', now() - interval '40 days', now(), 'Agent: Hi.', md5('old')),
       ('toyota-braintree', 'ops-no-transcript', now() - interval '1 hour', now(), null, null),
       ('toyota-braintree', 'ops-failed-old', now() - interval '3 days', now(), 'Agent: Hi.', md5('fo'));
insert into public.call_analyses
  (dealership_id, call_id, analysis, verdict, score, reasons, recommended_action, confidence, status, model, prompt_version, created_at)
select c.dealership_id, c.call_id, '{}',
       case when c.call_id in ('ops-1', 'ops-failed-old') then 'needs_review' else 'good' end::public.verdict,
       case when c.call_id in ('ops-1', 'ops-failed-old') then null else 90 end,
       case when c.call_id in ('ops-1', 'ops-failed-old') then '{analysis_failed}'::text[] else '{}' end,
       case when c.call_id in ('ops-1', 'ops-failed-old') then 'human_follow_up' else 'none' end,
       case when c.call_id in ('ops-1', 'ops-failed-old') then 0 else 0.9 end,
       case when c.call_id in ('ops-1', 'ops-failed-old') then 'failed' else 'ok' end::public.analysis_status,
       'gpt-4o-mini',
       case when c.call_id = 'ops-v2' then 'analysis-v2' else 'analysis-v1' end,
       case when c.call_id = 'ops-failed-old' then now() - interval '3 days' else now() - interval '1 minute' end
  from public.calls c
 where c.call_id like 'ops-%';
-- ops-2 already has a pending job: it must not get a second one.
insert into public.analysis_jobs (dealership_id, call_id, reason, status)
values ('toyota-braintree', 'ops-2', 'ingest', 'queued');

/** First admin */
select lives_ok((select sql from ops where n = 1), 'The first-admin statement runs');
select is(
  (select role from public.profiles where user_id = 'b0000000-0000-4000-8000-0000000000ad'),
  'admin'::public.app_role,
  'The first-admin statement makes that user an admin'
);

/** Requeue failed analyses */
select lives_ok((select sql from ops where n = 2), 'The statement that requeues failed analyses runs');
select set_eq(
  $$ select call_id from public.analysis_jobs where call_id like 'ops-%' and reason = 'reanalysis' $$,
  array['ops-1'],
  'It queues a re-analysis of the call that failed in the last day, and of no other'
);

/** Re-run after a prompt change */
select lives_ok((select sql from ops where n = 3), 'The bulk re-analysis statement runs');
select is(
  (select count(*) from public.analysis_jobs where call_id like 'ops-%' and reason = 'reanalysis'),
  451::bigint,
  'It queues every recent call with a transcript and an older prompt once: 448 new jobs + ops-failed-old, ops-1''s job from above, and ops-2''s queued ingest job turned into a re-analysis'
);
select is_empty(
  $$ select call_id from public.analysis_jobs where call_id in ('ops-v2', 'ops-old', 'ops-no-transcript') $$,
  'It skips calls already on the new prompt, older than 30 days, or without a transcript'
);
select results_eq(
  $$ select min(run_at) - now(), max(run_at) - now() from public.analysis_jobs
      where call_id like 'ops-%' and reason = 'reanalysis' and call_id <> 'ops-1' $$,
  $$ values (interval '0', interval '2 minutes') $$,
  'It spreads the jobs at 200 a minute'
);
select results_eq(
  $$ select reason, status::text, run_at <= now() from public.analysis_jobs where call_id = 'ops-2' $$,
  $$ values ('reanalysis'::text, 'queued'::text, true) $$,
  'A call with a queued ingest job gets no second job: that job becomes a re-analysis, so the worker does not skip it'
);

/** Queue progress */
select isnt_empty((select sql from ops where n = 4), 'The queue progress query lists the pending jobs');

/** Re-create reporting logins */
create role ops_report_kept in role reporting_reader;
insert into private.reporting_logins (login_name, user_id)
values ('ops_report_kept', 'a0000000-0000-4000-8000-000000000002'),
       ('ops_report_lost', 'a0000000-0000-4000-8000-000000000001');
do $$
declare
  printed record;
begin
  for printed in execute (select sql from ops where n = 5) loop
    execute printed.format;
  end loop;
end
$$;
select ok(
  exists (select 1 from pg_roles where rolname = 'ops_report_lost' and rolcanlogin and rolconnlimit = 3)
    and pg_has_role('ops_report_lost', 'reporting_reader', 'member'),
  'The printed statements re-create a missing login in reporting_reader'
);
select is(
  (select count(*) from pg_roles where rolname in ('ops_report_kept', 'ops_report_lost')),
  2::bigint,
  'A login that still exists is left alone'
);

select * from finish();
rollback;
