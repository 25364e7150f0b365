/**
 * Review notes, comments and acting claims (issue 16).
 *
 * - `review_events.kind` says what a history row records: `change` (a status
 *   and/or assignee change, every row before this migration), `comment` (a note
 *   written without changing anything) or `label` (a person's verdict on the call,
 *   see the next migration). Comments and labels keep from_status = to_status when
 *   they change no status, so the throughput figures (status changes only) are
 *   unchanged.
 * - `public.comment_on_review()` appends a comment to a call's history at any
 *   time, whatever the review's state (resolved included). It changes neither the
 *   status nor the assignee, and does not claim the review.
 * - `public.review_call()` already takes a note with any status change; it now
 *   also *claims*: acting on an unassigned review assigns it to whoever acts (CSM
 *   or manager), in the same statement and the same history row
 *   (from_assignee null, to_assignee the actor). A review assigned to someone else
 *   stays theirs. docs/data-model.md ("Acting claims") explains it.
 */

/** What a history row records */
alter table public.review_events
  add column kind text not null default 'change'
    check (kind in ('change', 'comment', 'label'));
comment on column public.review_events.kind is 'change: a status and/or assignee change; comment: a note only (nothing else changed); label: a person''s verdict and flags on the call (label_* columns), with its reason in notes.';

/** Comments */
create function public.comment_on_review(
  p_dealership_id text,
  p_call_id text,
  p_comment text
) returns public.review_events
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_comment text := nullif(pg_catalog.btrim(p_comment), '');
  v_review public.call_reviews;
  v_result public.review_events;
begin
  perform private.authorize_call_action(p_dealership_id, p_call_id);
  if v_comment is null then
    raise exception 'a comment needs some text'
      using errcode = '22023';
  end if;
  if pg_catalog.length(v_comment) > 2000 then
    raise exception 'a comment is at most 2000 characters (this one has %)', pg_catalog.length(v_comment)
      using errcode = '22023';
  end if;

  -- The row lock orders a comment against a concurrent status change.
  select r.* into v_review
    from public.call_reviews r
   where r.dealership_id = p_dealership_id and r.call_id = p_call_id
     for update;
  if not found then
    raise exception 'call % has no review to comment on', p_call_id
      using errcode = 'P0001',
            hint = 'Flag the call (or label it) first; then comment.';
  end if;

  insert into public.review_events
    (dealership_id, call_id, actor_id, from_status, to_status, from_assignee, to_assignee, notes, kind)
  values (p_dealership_id, p_call_id, auth.uid(), v_review.status, v_review.status,
          v_review.assignee_id, v_review.assignee_id, v_comment, 'comment')
  returning * into v_result;
  return v_result;
end;
$$;
comment on function public.comment_on_review(text, text, text) is 'Appends a comment (kind comment) to the history of a call''s review, in any state. Changes neither status nor assignee. Errors: 42501 not allowed, PT404 no such call, 22023 blank or over 2000 characters, P0001 the call has no review.';

revoke execute on function public.comment_on_review(text, text, text) from public, anon;
grant execute on function public.comment_on_review(text, text, text) to authenticated, service_role;

/** review_call claims an unassigned review for the actor */
create or replace function public.review_call(
  p_dealership_id text,
  p_call_id text,
  p_to_status public.review_status,
  p_notes text default null
) returns public.call_reviews
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_actor uuid := auth.uid();
  v_notes text := nullif(pg_catalog.btrim(p_notes), '');
  v_current public.call_reviews;
  v_result public.call_reviews;
begin
  perform private.authorize_call_action(p_dealership_id, p_call_id);
  if p_to_status is null then
    raise exception 'p_to_status is required'
      using errcode = '22023';
  end if;

  loop
    select r.* into v_current
      from public.call_reviews r
     where r.dealership_id = p_dealership_id and r.call_id = p_call_id
       for update;

    if not private.review_transition_allowed(v_current.status, p_to_status) then
      raise exception 'a review cannot move from % to %', v_current.status, p_to_status
        using errcode = 'P0001',
              hint = 'Allowed: open -> reviewed|follow_up_needed|resolved|escalated; reviewed -> follow_up_needed|resolved|escalated; follow_up_needed -> reviewed|resolved|escalated; escalated -> follow_up_needed|resolved; any other state -> open.';
    end if;
    if p_to_status in ('resolved', 'escalated') and v_notes is null then
      raise exception 'notes are required to mark a review %', p_to_status
        using errcode = '22023';
    end if;

    if v_current.status is not null then
      -- State and audit row in one statement: both happen or neither does.
      -- Acting on an unassigned review claims it for the actor.
      with changed as (
        update public.call_reviews r
           set status = p_to_status,
               notes = coalesce(v_notes, r.notes),
               assignee_id = coalesce(r.assignee_id, v_actor),
               resolved_at = case
                 when p_to_status = 'resolved' then pg_catalog.now()
                 when p_to_status = 'open' then null
                 else r.resolved_at
               end,
               updated_by = v_actor,
               updated_at = pg_catalog.now()
         where r.dealership_id = p_dealership_id and r.call_id = p_call_id
        returning r.*
      ),
      audit as (
        insert into public.review_events
          (dealership_id, call_id, actor_id, from_status, to_status, from_assignee, to_assignee, notes)
        select c.dealership_id, c.call_id, v_actor, v_current.status, c.status,
               v_current.assignee_id, c.assignee_id, v_notes
          from changed c
      )
      select c.* into v_result from changed c;
      return v_result;
    end if;

    -- No review yet (e.g. a call judged good that a person wants to flag): the
    -- new review is the actor's.
    begin
      with created as (
        insert into public.call_reviews as r
          (dealership_id, call_id, status, assignee_id, notes, flagged_at, resolved_at, updated_by, updated_at)
        values (
          p_dealership_id, p_call_id, p_to_status, v_actor, v_notes, pg_catalog.now(),
          case when p_to_status = 'resolved' then pg_catalog.now() end,
          v_actor, pg_catalog.now()
        )
        returning r.*
      ),
      audit as (
        insert into public.review_events
          (dealership_id, call_id, actor_id, from_status, to_status, from_assignee, to_assignee, notes)
        select c.dealership_id, c.call_id, v_actor, null, c.status, null, c.assignee_id, v_notes
          from created c
      )
      select c.* into v_result from created c;
      return v_result;
    exception when unique_violation then
      -- Someone created the review meanwhile: check the transition against theirs.
      null;
    end;
  end loop;
end;
$$;
comment on function public.review_call(text, text, public.review_status, text) is 'Moves a call''s review to p_to_status and appends the matching review_events row in the same statement, with the note if one is given (any status). Notes are required for resolved and escalated. Acting on an unassigned review assigns it to the actor (a review assigned to someone else stays theirs). A call without a review gets one, assigned to the actor. Errors: 42501 not allowed, PT404 no such call, 22023 missing notes, P0001 transition not allowed.';
