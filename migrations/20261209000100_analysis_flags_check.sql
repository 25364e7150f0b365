-- Flags are the analysis contract's flags (domain::analysis::Flag::ALL), nothing else.
-- The worker validates every analysis against the contract before storing it, so
-- this stops hand-written rows (fixtures, Studio edits, scripts) from inventing a
-- flag that no filter, chart or report knows. calls.flags is the newest analysis's
-- flags (copied by a trigger) and gets the same rule.
-- worker/tests/analysis/flags.rs checks that this list and the contract agree.

alter table public.call_analyses
  add constraint call_analyses_flags_known check (flags <@ array[
    'missed_appointment_confirmation', 'customer_upset', 'handoff_failed',
    'hallucinated_information', 'abandoned_call', 'voicemail'
  ]::text[]);

alter table public.calls
  add constraint calls_flags_known check (flags <@ array[
    'missed_appointment_confirmation', 'customer_upset', 'handoff_failed',
    'hallucinated_information', 'abandoned_call', 'voicemail'
  ]::text[]);
