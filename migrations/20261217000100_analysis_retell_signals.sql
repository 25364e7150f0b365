/**
 * Issue 13, section 5: the call page shows which of Retell's signals decided or
 * changed a verdict, read from a column instead of from reason text.
 *
 * - `call_analyses.retell_signals`: the codes of domain::signals::RetellSignal
 *   that decided the verdict (in_voicemail, voicemail_reached: no judge ran) or
 *   changed the judge's (call_successful_false, user_sentiment_negative: a
 *   needs_review second opinion; transfer_cancelled, transfer_failed: bad with
 *   handoff_failed). Empty when no signal mattered, and on analyses stored
 *   before this migration (their reasons still start with "Retell signal").
 *
 * Read like the rest of call_analyses: the existing select policy (rows of the
 * caller's dealerships) applies, and only the worker (owner) writes.
 */

alter table public.call_analyses
  add column retell_signals text[] not null default '{}'
    constraint call_analyses_retell_signals_check check (
      retell_signals <@ array['in_voicemail', 'voicemail_reached', 'call_successful_false',
                              'user_sentiment_negative', 'transfer_cancelled', 'transfer_failed']::text[]);

comment on column public.call_analyses.retell_signals is 'Retell signals that decided this verdict (in_voicemail, voicemail_reached: the judge did not run) or changed the judge''s (call_successful_false, user_sentiment_negative: good became needs_review; transfer_cancelled, transfer_failed: bad with handoff_failed). Codes of domain::signals::RetellSignal; empty when none did, and on analyses stored before 20261217000100.';
