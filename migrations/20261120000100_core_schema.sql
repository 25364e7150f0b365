/**
 * Core schema: tenants, people, the event log, calls, the analysis queue, analyses,
 * errors and reviews. Row-level security is enabled on every table here; the
 * policies that open it up per role live in the access-control migration.
 *
 * Runs unchanged on a real Supabase database (Postgres 15 locally, 17 hosted).
 */

/** Extensions (Supabase keeps them in `extensions`) */
create extension if not exists pg_trgm with schema extensions;

/** Enumerations */
create type public.app_role as enum ('csm', 'manager', 'admin');
create type public.review_status as enum ('open', 'reviewed', 'follow_up_needed', 'resolved', 'escalated');
create type public.verdict as enum ('good', 'needs_review', 'bad');
create type public.analysis_status as enum ('ok', 'failed');
create type public.job_status as enum ('queued', 'running', 'done', 'failed');

comment on type public.app_role is 'What a dashboard user may do: csm (their dealerships), manager (their team''s dealerships), admin (everything, read-only in the app).';
comment on type public.review_status is 'Where a flagged call stands in the follow-up workflow.';
comment on type public.verdict is 'The analyzer''s judgement of a call.';

/** Dealerships */
create table public.dealerships (
  id text primary key check (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name text not null,
  timezone text not null default 'America/New_York',
  auto_registered boolean not null default false,
  created_at timestamptz not null default now()
);
alter table public.dealerships enable row level security;
comment on table public.dealerships is 'One row per dealership (tenant). Unknown dealerships seen in webhook events are registered automatically (auto_registered = true); rename them here.';
comment on column public.dealerships.id is 'Slug used in events and URLs, e.g. toyota-braintree.';
comment on column public.dealerships.timezone is 'IANA time zone; the dashboard shows call times in it.';
comment on column public.dealerships.auto_registered is 'True when the row was created by ingest from an unknown dealership_id; an admin should give it a proper name and assign it.';

/** People */
create table public.profiles (
  user_id uuid primary key references auth.users (id) on delete cascade,
  full_name text not null default '',
  role public.app_role not null default 'csm',
  manager_id uuid null references public.profiles (user_id) on delete set null,
  created_at timestamptz not null default now(),
  check (manager_id is distinct from user_id)
);
alter table public.profiles enable row level security;
create index profiles_manager_id_idx on public.profiles (manager_id);
comment on table public.profiles is 'Dashboard users. Created automatically for each new auth user as a csm with no dealerships. Admins edit role and manager_id here (Supabase Studio).';
comment on column public.profiles.role is 'csm | manager | admin. Takes effect on the next query (RLS reads this table), and in the token at the next refresh.';
comment on column public.profiles.manager_id is 'For CSMs: the manager they report to. The manager sees the dealerships of every CSM that reports to them.';

create table public.user_dealerships (
  user_id uuid not null references public.profiles (user_id) on delete cascade,
  dealership_id text not null references public.dealerships (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (user_id, dealership_id)
);
alter table public.user_dealerships enable row level security;
create index user_dealerships_dealership_id_idx on public.user_dealerships (dealership_id);
comment on table public.user_dealerships is 'Which dealerships a user is assigned to. Admins manage it in Studio; the API cannot write it.';

/** Event log */
create table public.events (
  id bigint generated always as identity primary key,
  event_id text not null unique,
  event_type text not null,
  source text not null check (source in ('normalized', 'retell')),
  dealership_id text null references public.dealerships (id),
  call_id text not null,
  occurred_at timestamptz not null,
  received_at timestamptz not null default now(),
  raw_body bytea not null,
  raw_payload jsonb not null,
  transcript text null,
  customer_phone text null,
  customer_name text null,
  agent_id text null,
  metadata jsonb null
);
alter table public.events enable row level security;
create index events_dealership_call_idx on public.events (dealership_id, call_id, occurred_at);
create index events_received_at_idx on public.events (received_at);
comment on table public.events is 'Append-only log: one row per accepted webhook delivery, exactly as received. Never updated or deleted by the application.';
comment on column public.events.event_id is 'Idempotency key: the sender''s event_id (normalized contract) or retell:<event>:<call_id>:<sha256(body)[..16]> for Retell''s native events.';
comment on column public.events.source is 'Which payload shape arrived: normalized (our contract) or retell (native envelope).';
comment on column public.events.dealership_id is 'Null when the dealership could not be resolved; such events also appear in processing_errors.';
comment on column public.events.occurred_at is 'When the event happened according to the sender (timestamp, or the call''s start/end time for Retell events).';
comment on column public.events.raw_body is 'The exact request body bytes the signature was verified over.';
comment on column public.events.raw_payload is 'The body parsed as JSON (NUL characters, which Postgres text cannot hold, replaced by U+FFFD).';

/** Calls */
create table public.calls (
  dealership_id text not null references public.dealerships (id),
  call_id text not null,
  call_status text null,
  direction text null,
  started_at timestamptz null,
  ended_at timestamptz null,
  duration_sec integer null,
  transcript text null,
  transcript_turns jsonb null,
  transcript_sha256 text null,
  customer_phone text null,
  customer_name text null,
  agent_id text null,
  disconnection_reason text null,
  retell_analysis jsonb null,
  metadata jsonb null,
  first_event_at timestamptz not null,
  last_event_at timestamptz not null,
  last_event_rank smallint not null default 0,
  -- Current verdict, copied from the newest call_analyses row by a trigger so the
  -- call list can filter and sort on one table.
  latest_analysis_id bigint null,
  verdict public.verdict null,
  score smallint null,
  flags text[] not null default '{}',
  reasons text[] not null default '{}',
  analysis_model text null,
  analyzed_at timestamptz null,
  -- Current review status, copied from call_reviews by a trigger.
  review_status public.review_status null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (dealership_id, call_id)
);
alter table public.calls enable row level security;
create index calls_dealership_time_idx on public.calls (dealership_id, first_event_at desc, call_id);
create index calls_time_idx on public.calls (first_event_at desc, dealership_id, call_id);
create index calls_dealership_verdict_time_idx on public.calls (dealership_id, verdict, first_event_at desc);
create index calls_dealership_review_status_idx on public.calls (dealership_id, review_status) where review_status is not null;
create index calls_flags_idx on public.calls using gin (flags);
create index calls_transcript_fts_idx on public.calls using gin (to_tsvector('english', coalesce(transcript, '')));
comment on table public.calls is 'One row per call, kept current by ingest. Fields only move forward: an older or repeated event never overwrites newer state. verdict/score/flags/reasons mirror the newest analysis; review_status mirrors call_reviews.';
comment on column public.calls.first_event_at is 'When the call happened: its start time, else the earliest event time. The dashboard''s time filters use it.';
comment on column public.calls.last_event_at is 'occurred_at of the newest event applied; with last_event_rank it orders events so late arrivals cannot move state backwards.';
comment on column public.calls.last_event_rank is 'Lifecycle rank of the newest event applied: 1 started, 2 transcript/transfer updates, 3 ended, 4 analyzed (normalized events count as 3).';
comment on column public.calls.transcript_sha256 is 'Hex SHA-256 of transcript; analysis is only re-queued when it changes.';
comment on column public.calls.transcript_turns is 'Speaker turns [{role, content}] when the sender provided them.';
comment on column public.calls.retell_analysis is 'Retell''s own call_analysis (summary, sentiment, success) from call_analyzed.';

/** Analysis queue */
create table public.analysis_jobs (
  id bigint generated always as identity primary key,
  dealership_id text not null,
  call_id text not null,
  event_id text null references public.events (event_id),
  transcript_sha256 text null,
  reason text not null default 'ingest' check (reason in ('ingest', 'reanalysis')),
  requested_by uuid null references auth.users (id) on delete set null,
  status public.job_status not null default 'queued',
  attempts integer not null default 0,
  run_at timestamptz not null default now(),
  locked_by text null,
  locked_until timestamptz null,
  last_error text null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz null,
  foreign key (dealership_id, call_id) references public.calls (dealership_id, call_id) on delete cascade
);
alter table public.analysis_jobs enable row level security;
-- At most one pending job per call: a newer transcript is read by the pending job.
create unique index analysis_jobs_one_pending_per_call on public.analysis_jobs (dealership_id, call_id) where status in ('queued', 'running');
create index analysis_jobs_claim_idx on public.analysis_jobs (run_at, id) where status in ('queued', 'running');
create index analysis_jobs_event_id_idx on public.analysis_jobs (event_id);
create index analysis_jobs_requested_by_idx on public.analysis_jobs (requested_by);
comment on table public.analysis_jobs is 'The analysis queue. Workers claim rows with FOR UPDATE SKIP LOCKED and hold a lease (locked_by, locked_until) instead of a row lock during the LLM call; an expired lease is claimable again.';
comment on column public.analysis_jobs.locked_until is 'Lease expiry. A worker that dies leaves the lease to expire; another worker then takes the job.';
comment on column public.analysis_jobs.attempts is 'How many times a worker has claimed this job.';

create function public.notify_analysis_job() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  -- Delivered on commit only, so a worker never wakes for an uncommitted job.
  perform pg_notify('analysis_jobs', new.id::text);
  return new;
end;
$$;
revoke execute on function public.notify_analysis_job() from public, anon, authenticated;

create trigger analysis_jobs_notify
after insert on public.analysis_jobs
for each row execute function public.notify_analysis_job();

/** Analyses */
create table public.call_analyses (
  id bigint generated always as identity primary key,
  dealership_id text not null,
  call_id text not null,
  job_id bigint null references public.analysis_jobs (id) on delete set null,
  analysis jsonb not null,
  verdict public.verdict not null,
  score smallint null check (score between 0 and 100),
  reasons text[] not null default '{}',
  flags text[] not null default '{}',
  recommended_action text not null check (recommended_action in ('none', 'human_follow_up')),
  confidence real not null check (confidence between 0 and 1),
  status public.analysis_status not null,
  model text not null,
  prompt_version text not null,
  latency_ms integer null,
  prompt_tokens integer null,
  completion_tokens integer null,
  transcript_sha256 text null,
  transcript_truncated boolean not null default false,
  raw_response jsonb null,
  error text null,
  created_at timestamptz not null default now(),
  foreign key (dealership_id, call_id) references public.calls (dealership_id, call_id) on delete cascade
);
alter table public.call_analyses enable row level security;
create index call_analyses_call_idx on public.call_analyses (dealership_id, call_id, id desc);
create index call_analyses_job_id_idx on public.call_analyses (job_id);
create index call_analyses_created_at_idx on public.call_analyses (created_at);
comment on table public.call_analyses is 'Every analysis attempt, newest last. The newest row per call is its current verdict (mirrored onto calls). A failed attempt has status failed and verdict needs_review with reason analysis_failed.';
comment on column public.call_analyses.analysis is 'Exactly the JSON object the analyzer produced: verdict, score, reasons, flags, recommended_action, confidence.';
comment on column public.call_analyses.model is 'The LLM model name, or heuristic-v1 for the offline rules-based analyzer.';
comment on column public.call_analyses.prompt_version is 'Version of the prompt (or rule set) that produced this analysis.';
comment on column public.call_analyses.raw_response is 'The raw LLM response body, kept for audit.';

create function public.mirror_latest_analysis() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.calls c
     set latest_analysis_id = new.id,
         verdict = new.verdict,
         score = new.score,
         flags = new.flags,
         reasons = new.reasons,
         analysis_model = new.model,
         analyzed_at = new.created_at,
         updated_at = now()
   where c.dealership_id = new.dealership_id
     and c.call_id = new.call_id
     and (c.latest_analysis_id is null or c.latest_analysis_id < new.id);
  return new;
end;
$$;
revoke execute on function public.mirror_latest_analysis() from public, anon, authenticated;

create trigger call_analyses_mirror_latest
after insert on public.call_analyses
for each row execute function public.mirror_latest_analysis();

/** Processing errors */
create table public.processing_errors (
  id bigint generated always as identity primary key,
  stage text not null,
  event_id text null,
  call_id text null,
  dealership_id text null,
  error text not null,
  detail jsonb not null default '{}',
  created_at timestamptz not null default now()
);
alter table public.processing_errors enable row level security;
create index processing_errors_dealership_idx on public.processing_errors (dealership_id, created_at desc);
create index processing_errors_event_id_idx on public.processing_errors (event_id);
create index processing_errors_created_at_idx on public.processing_errors (created_at desc);
comment on table public.processing_errors is 'What went wrong, where (stage: ingest | analysis), with references to the event/call. Nothing is dropped: the event row stays in events.';

/** Reviews */
create table public.call_reviews (
  dealership_id text not null,
  call_id text not null,
  status public.review_status not null default 'open',
  assignee_id uuid null references public.profiles (user_id) on delete set null,
  notes text null,
  flagged_at timestamptz not null default now(),
  resolved_at timestamptz null,
  updated_by uuid null references public.profiles (user_id) on delete set null,
  updated_at timestamptz not null default now(),
  primary key (dealership_id, call_id),
  foreign key (dealership_id, call_id) references public.calls (dealership_id, call_id) on delete cascade
);
alter table public.call_reviews enable row level security;
create index call_reviews_assignee_idx on public.call_reviews (assignee_id, status);
create index call_reviews_status_idx on public.call_reviews (dealership_id, status, flagged_at);
create index call_reviews_updated_by_idx on public.call_reviews (updated_by);
comment on table public.call_reviews is 'Current follow-up state of each flagged call (verdict needs_review or bad). Changed only through public.review_call(), which also writes review_events.';
comment on column public.call_reviews.flagged_at is 'When the call was first flagged; time-to-resolution is measured from here.';
comment on column public.call_reviews.resolved_at is 'When the review last reached resolved; cleared on re-open.';

create table public.review_events (
  id bigint generated always as identity primary key,
  dealership_id text not null,
  call_id text not null,
  actor_id uuid null references public.profiles (user_id) on delete set null,
  from_status public.review_status null,
  to_status public.review_status not null,
  from_assignee uuid null,
  to_assignee uuid null,
  notes text null,
  created_at timestamptz not null default now(),
  foreign key (dealership_id, call_id) references public.calls (dealership_id, call_id) on delete cascade
);
alter table public.review_events enable row level security;
create index review_events_call_idx on public.review_events (dealership_id, call_id, created_at);
create index review_events_actor_idx on public.review_events (actor_id, created_at);
comment on table public.review_events is 'Append-only audit trail of every review change: who, from what, to what, when, with notes.';

create function public.mirror_review_status() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.calls c
     set review_status = new.status, updated_at = now()
   where c.dealership_id = new.dealership_id and c.call_id = new.call_id;
  return new;
end;
$$;
revoke execute on function public.mirror_review_status() from public, anon, authenticated;

create trigger call_reviews_mirror_status
after insert or update of status on public.call_reviews
for each row execute function public.mirror_review_status();

-- A flagged verdict opens a review (once per call; an existing review is left as it is).
create function public.open_review_for_flagged_call() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.verdict in ('needs_review', 'bad') then
    insert into public.call_reviews (dealership_id, call_id, status, flagged_at)
    values (new.dealership_id, new.call_id, 'open', new.created_at)
    on conflict (dealership_id, call_id) do nothing;
  end if;
  return new;
end;
$$;
revoke execute on function public.open_review_for_flagged_call() from public, anon, authenticated;

create trigger call_analyses_open_review
after insert on public.call_analyses
for each row execute function public.open_review_for_flagged_call();
