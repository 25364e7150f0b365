/**
 * Human labels (issue 13): a CSM or manager confirms or corrects a call's verdict.
 *
 * - A label is a review_events row of kind `label`: the person's verdict and
 *   flags (label_verdict, label_flags), their reason in notes, and what they were
 *   shown (the analysis: label_analysis_id, machine_verdict, machine_flags). So
 *   labels live per review, in the audit trail, under the same row-level security
 *   as the rest of the history, and are written only by `public.label_call()`.
 * - A call's label is its newest label row; an older one stays in the history.
 * - Labelling is acting: it claims an unassigned review like review_call(). A
 *   call without a review (a `good` call spot-checked from the call page) gets
 *   one: `resolved` when the person says good (nothing to follow up), `open`
 *   otherwise (the judge missed a problem, so it enters the queue).
 * - `public.review_history` and `public.review_queue` gain the label columns; the
 *   queue also says whether the label disagrees with the current verdict.
 */

/** Label columns of the audit trail */
alter table public.review_events
  add column label_verdict public.verdict null,
  add column label_flags text[] null,
  add column label_analysis_id bigint null references public.call_analyses (id) on delete set null,
  add column machine_verdict public.verdict null,
  add column machine_flags text[] null,
  add constraint review_events_label_shape check (
    (kind = 'label') = (label_verdict is not null)
    and (kind = 'label') = (label_flags is not null)
  );
comment on column public.review_events.label_verdict is 'For kind label: the verdict the person gave the call.';
comment on column public.review_events.label_flags is 'For kind label: the flags the person gave the call (sorted, each once; may be empty).';
comment on column public.review_events.label_analysis_id is 'For kind label: the analysis the person saw and confirmed or corrected (null once it is deleted).';
comment on column public.review_events.machine_verdict is 'For kind label: that analysis''s verdict, copied so the label keeps its context.';
comment on column public.review_events.machine_flags is 'For kind label: that analysis''s flags, copied likewise.';

create index review_events_label_analysis_idx on public.review_events (label_analysis_id);
-- A call's newest label, and every labelled call, without reading the whole history.
create index review_events_labels_idx on public.review_events (dealership_id, call_id, id desc) where kind = 'label';

/** Writing a label */
create function public.label_call(
  p_dealership_id text,
  p_call_id text,
  p_verdict public.verdict,
  p_flags text[] default '{}',
  p_reason text default null
) returns public.review_events
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_actor uuid := auth.uid();
  v_reason text := nullif(pg_catalog.btrim(p_reason), '');
  v_flags text[];
  v_analysis public.call_analyses;
  v_review public.call_reviews;
  v_result public.review_events;
begin
  perform private.authorize_call_action(p_dealership_id, p_call_id);
  if p_verdict is null then
    raise exception 'p_verdict is required (good, needs_review or bad)'
      using errcode = '22023';
  end if;
  if pg_catalog.cardinality(coalesce(p_flags, '{}')) > 12 then
    raise exception 'at most 12 flags'
      using errcode = '22023';
  end if;
  if exists (
    select 1 from pg_catalog.unnest(coalesce(p_flags, '{}')) f
     where f is null or f !~ '^[a-z][a-z_]{0,62}$'
  ) then
    raise exception 'a flag is a lower-case name such as handoff_failed'
      using errcode = '22023';
  end if;
  v_flags := array(select distinct f from pg_catalog.unnest(coalesce(p_flags, '{}')) f order by f);
  if pg_catalog.length(v_reason) > 500 then
    raise exception 'a label''s reason is at most 500 characters (this one has %)', pg_catalog.length(v_reason)
      using errcode = '22023';
  end if;

  select a.* into v_analysis
    from public.calls c
    join public.call_analyses a on a.id = c.latest_analysis_id
   where c.dealership_id = p_dealership_id and c.call_id = p_call_id;
  if not found then
    raise exception 'call % has no verdict to confirm or correct yet', p_call_id
      using errcode = 'P0001', hint = 'It is analyzed once a transcript arrives.';
  end if;
  if v_reason is null
     and (p_verdict <> v_analysis.verdict
          or v_flags <> array(select f from pg_catalog.unnest(v_analysis.flags) f order by f)) then
    raise exception 'a correction needs a short reason'
      using errcode = '22023', hint = 'Say what the analysis got wrong.';
  end if;

  loop
    select r.* into v_review
      from public.call_reviews r
     where r.dealership_id = p_dealership_id and r.call_id = p_call_id
       for update;

    if v_review.status is not null then
      -- Labelling is acting: an unassigned review becomes the labeller's.
      if v_review.assignee_id is null then
        update public.call_reviews r
           set assignee_id = v_actor, updated_by = v_actor, updated_at = pg_catalog.now()
         where r.dealership_id = p_dealership_id and r.call_id = p_call_id;
      end if;
      insert into public.review_events
        (dealership_id, call_id, actor_id, from_status, to_status, from_assignee, to_assignee,
         notes, kind, label_verdict, label_flags, label_analysis_id, machine_verdict, machine_flags)
      values (p_dealership_id, p_call_id, v_actor, v_review.status, v_review.status,
              v_review.assignee_id, coalesce(v_review.assignee_id, v_actor),
              v_reason, 'label', p_verdict, v_flags, v_analysis.id, v_analysis.verdict, v_analysis.flags)
      returning * into v_result;
      return v_result;
    end if;

    -- No review yet: a spot check of a call nobody flagged.
    begin
      insert into public.call_reviews
        (dealership_id, call_id, status, assignee_id, notes, flagged_at, resolved_at, updated_by, updated_at)
      values (
        p_dealership_id, p_call_id,
        case when p_verdict = 'good' then 'resolved' else 'open' end::public.review_status,
        v_actor, v_reason, pg_catalog.now(),
        case when p_verdict = 'good' then pg_catalog.now() end,
        v_actor, pg_catalog.now()
      );
      insert into public.review_events
        (dealership_id, call_id, actor_id, from_status, to_status, from_assignee, to_assignee,
         notes, kind, label_verdict, label_flags, label_analysis_id, machine_verdict, machine_flags)
      values (p_dealership_id, p_call_id, v_actor, null,
              case when p_verdict = 'good' then 'resolved' else 'open' end::public.review_status,
              null, v_actor,
              v_reason, 'label', p_verdict, v_flags, v_analysis.id, v_analysis.verdict, v_analysis.flags)
      returning * into v_result;
      return v_result;
    exception when unique_violation then
      -- Someone opened the review meanwhile: label that one.
      null;
    end;
  end loop;
end;
$$;
comment on function public.label_call(text, text, public.verdict, text[], text) is 'Records the caller''s label of a call (kind label in review_events): their verdict and flags against the call''s current analysis, with a reason (required when it corrects the verdict or flags, at most 500 characters). Claims an unassigned review; a call without a review gets one, resolved for a good label and open otherwise. Errors: 42501 not allowed, PT404 no such call, 22023 bad verdict, flags or reason, P0001 the call has no analysis yet.';

revoke execute on function public.label_call(text, text, public.verdict, text[], text) from public, anon;
grant execute on function public.label_call(text, text, public.verdict, text[], text) to authenticated, service_role;

/** The history shows what each row records, labels included */
create or replace view public.review_history
with (security_invoker = true)
as
select e.id,
       e.dealership_id,
       e.call_id,
       e.created_at,
       e.actor_id,
       a.full_name as actor_name,
       e.from_status,
       e.to_status,
       e.from_assignee,
       fa.full_name as from_assignee_name,
       e.to_assignee,
       ta.full_name as to_assignee_name,
       e.notes,
       e.from_status is distinct from e.to_status as status_changed,
       e.from_assignee is distinct from e.to_assignee as assignee_changed,
       c.verdict,
       c.score,
       e.kind,
       e.label_verdict,
       e.label_flags,
       e.machine_verdict,
       e.machine_flags
  from public.review_events e
  left join public.profiles a on a.user_id = e.actor_id
  left join public.profiles fa on fa.user_id = e.from_assignee
  left join public.profiles ta on ta.user_id = e.to_assignee
  left join public.calls c on c.dealership_id = e.dealership_id and c.call_id = e.call_id;

comment on column public.review_history.status_changed is 'True for a status change (a review); false for an assignment, a comment or a label that changed no status.';
comment on column public.review_history.kind is 'change (status and/or assignee), comment (a note only) or label (label_verdict and label_flags, reason in notes).';
comment on column public.review_history.machine_verdict is 'For a label: the verdict of the analysis the person saw.';

/** The queue shows each review's label and whether it disagrees */
create or replace view public.review_queue
with (security_invoker = true)
as
select b.dealership_id,
       b.dealership_name,
       b.call_id,
       b.status,
       b.verdict,
       b.score,
       b.flags,
       c.reasons,
       b.assignee_id,
       b.assignee_name,
       r.notes,
       b.flagged_at,
       b.age_hours,
       case
         when b.flagged_at > now() - interval '24 hours' then 'under_24h'
         when b.flagged_at > now() - interval '3 days' then '1_to_3d'
         else 'over_3d'
       end as age_bucket,
       case b.verdict when 'bad' then 0 when 'needs_review' then 1 else 2 end as severity,
       b.last_activity_at,
       b.call_started_at,
       l.label_verdict,
       l.label_flags,
       l.label_verdict is not null
         and (l.label_verdict is distinct from b.verdict
              or l.label_flags is distinct from array(select f from unnest(b.flags) f order by f)) as label_disagrees
  from reporting.backlog b
  join public.call_reviews r
    on r.dealership_id = b.dealership_id and r.call_id = b.call_id
  left join public.calls c
    on c.dealership_id = b.dealership_id and c.call_id = b.call_id
  left join lateral (
    select e.label_verdict, e.label_flags
      from public.review_events e
     where e.dealership_id = b.dealership_id and e.call_id = b.call_id and e.kind = 'label'
     order by e.id desc
     limit 1
  ) l on true;

comment on column public.review_queue.label_verdict is 'The newest human label''s verdict (null when nobody labelled the call).';
comment on column public.review_queue.label_flags is 'The newest human label''s flags.';
comment on column public.review_queue.label_disagrees is 'True when a person labelled the call and their verdict or flags differ from the call''s current analysis.';
