//! Durable ingest: everything one accepted event changes, in one transaction.
//!
//! Order inside the transaction: register the dealership (the event row
//! references it), insert the event (`on conflict do nothing` — the unique
//! `event_id` decides duplicates, even concurrent ones), then either record the
//! unresolved dealership or upsert the call monotonically and enqueue analysis
//! when the stored transcript changed (or was stored by events that are never
//! judged and has no job yet). The enqueue trigger's `pg_notify` is
//! delivered on commit, so the worker never wakes for an event that was rolled back.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use crate::normalize::{Dealership, Event};

/// What storing a delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// New event committed. `job_id` is set when analysis was enqueued.
    Accepted {
        job_id: Option<i64>,
        unresolved: bool,
    },
    /// The `event_id` was already stored; nothing changed.
    Duplicate,
}

/// Stores one delivery (see the module docs for what that covers).
#[tracing::instrument(skip_all)]
pub async fn store_event(
    pool: &PgPool,
    event: &Event,
    raw_body: &[u8],
    received_at: DateTime<Utc>,
) -> Result<Stored, sqlx::Error> {
    let mut tx = pool.begin().await?;

    if let Some(dealership_id) = event.dealership.id() {
        register_dealership(&mut tx, dealership_id).await?;
    }

    if insert_event(&mut tx, event, raw_body, received_at)
        .await?
        .is_none()
    {
        // Undo the (possibly) registered dealership too: a duplicate changes nothing.
        // A failed rollback still leaves nothing behind (the connection drops the
        // transaction), so the duplicate answer stands.
        if let Err(e) = tx.rollback().await {
            tracing::warn!(error = %e, "rollback after a duplicate failed");
        }
        return Ok(Stored::Duplicate);
    }

    let (job_id, unresolved) = match &event.dealership {
        Dealership::Unresolved { .. } | Dealership::Conflict { .. } => {
            record_unresolved_dealership(&mut tx, event).await?;
            (None, true)
        }
        Dealership::FromPayload(id) | Dealership::FromAgent(id) => {
            // Lock the call row (if any) so "before" and "after" are seen by this
            // transaction alone.
            let before = lock_call_transcript(&mut tx, id, &event.call_id).await?;
            let after = upsert_call(&mut tx, id, event).await?;
            let job_id = match after {
                Some(sha) if event.has_judgeable_transcript() => {
                    // A transcript is judged when it is new to the call, or when it
                    // only arrived with events that are never judged (Retell's last
                    // `transcript_updated` often carries the final transcript, and
                    // `call_ended` then changes nothing).
                    if before.as_deref() != Some(sha.as_str())
                        || !transcript_queued(&mut tx, id, &event.call_id, &sha).await?
                    {
                        enqueue_analysis(&mut tx, id, event, &sha).await?
                    } else {
                        None
                    }
                }
                _ => None,
            };
            (job_id, false)
        }
    };

    tx.commit().await?;
    Ok(Stored::Accepted { job_id, unresolved })
}

#[tracing::instrument(skip_all)]
async fn register_dealership(conn: &mut PgConnection, id: &str) -> Result<(), sqlx::Error> {
    // The name starts as the slug and the row is "not set up" until an admin
    // names, checks and assigns it in Studio (then sets set_up = true).
    sqlx::query!(
        r#"insert into public.dealerships (id, name, auto_registered, set_up)
           values ($1, $1, true, false)
           on conflict (id) do nothing"#,
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts the event; `None` when its `event_id` is already stored.
#[tracing::instrument(skip_all)]
async fn insert_event(
    conn: &mut PgConnection,
    event: &Event,
    raw_body: &[u8],
    received_at: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query!(
        r#"insert into public.events (
               event_id, event_type, source, dealership_id, call_id, occurred_at, received_at,
               raw_body, raw_payload, transcript, customer_phone, customer_name, agent_id, metadata)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
           on conflict (event_id) do nothing
           returning id"#,
        event.event_id,
        event.event_type,
        event.source.as_str(),
        event.dealership.id(),
        event.call_id,
        event.occurred_at,
        received_at,
        raw_body,
        event.raw_payload,
        event.transcript,
        event.customer_phone,
        event.customer_name,
        event.agent_id,
        event.metadata,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| r.id))
}

/// Records why an event was stored without a dealership: `dealership_unresolved`
/// (none could be found) or `dealership_conflict` (the payload and
/// `AGENT_DEALERSHIPS` disagree; both claims are kept in `detail`).
#[tracing::instrument(skip_all)]
async fn record_unresolved_dealership(
    conn: &mut PgConnection,
    event: &Event,
) -> Result<(), sqlx::Error> {
    let Some((error, reason)) = event.dealership.problem() else {
        return Ok(());
    };
    let mut detail = json!({
        "reason": reason,
        "agent_id": event.agent_id,
        "event_type": event.event_type,
        "source": event.source.as_str(),
    });
    if let Dealership::Conflict {
        payload, mapped, ..
    } = &event.dealership
    {
        detail["metadata_dealership_id"] = json!(payload);
        detail["mapped_dealership_id"] = json!(mapped);
    }
    sqlx::query!(
        r#"insert into public.processing_errors (stage, event_id, call_id, dealership_id, error, detail)
           values ('ingest', $1, $2, null, $3, $4)"#,
        event.event_id,
        event.call_id,
        error,
        detail,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks the call row and returns its transcript hash (`None` when the row does
/// not exist yet or has no transcript).
#[tracing::instrument(skip_all)]
async fn lock_call_transcript(
    conn: &mut PgConnection,
    dealership_id: &str,
    call_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select transcript_sha256 from public.calls
           where dealership_id = $1 and call_id = $2
           for update"#,
        dealership_id,
        call_id
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|r| r.transcript_sha256))
}

/// Inserts or monotonically updates the call; returns its transcript hash after.
///
/// An event is "newer" when its (rank, occurred_at) is at least the stored
/// (last_event_rank, last_event_at). Rank comes first: a mid-call update stamped
/// with its receive time must never outrank `call_ended`. A newer event overwrites
/// with its non-null values; an older one only fills NULLs. `call_status` never
/// moves from a terminal state (ended, not_connected, error) back to
/// registered/ongoing, whatever the event order.
#[tracing::instrument(skip_all)]
async fn upsert_call(
    conn: &mut PgConnection,
    dealership_id: &str,
    event: &Event,
) -> Result<Option<String>, sqlx::Error> {
    let first_event_at = event.started_at.unwrap_or(event.occurred_at);
    let row = sqlx::query!(
        r#"insert into public.calls as c (
               dealership_id, call_id, call_status, direction, started_at, ended_at, duration_sec,
               transcript, transcript_turns, transcript_sha256, customer_phone, customer_name,
               agent_id, disconnection_reason, retell_analysis, metadata,
               first_event_at, last_event_at, last_event_rank)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
           on conflict (dealership_id, call_id) do update set
               call_status = case
                   when excluded.call_status is null then c.call_status
                   when c.call_status is null then excluded.call_status
                   when (case when excluded.call_status = 'registered' then 0
                              when excluded.call_status in ('ended', 'not_connected', 'error') then 2
                              else 1 end)
                      > (case when c.call_status = 'registered' then 0
                              when c.call_status in ('ended', 'not_connected', 'error') then 2
                              else 1 end)
                       then excluded.call_status
                   when (case when excluded.call_status = 'registered' then 0
                              when excluded.call_status in ('ended', 'not_connected', 'error') then 2
                              else 1 end)
                      = (case when c.call_status = 'registered' then 0
                              when c.call_status in ('ended', 'not_connected', 'error') then 2
                              else 1 end)
                    and (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                       then excluded.call_status
                   else c.call_status
               end,
               direction = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then coalesce(excluded.direction, c.direction) else coalesce(c.direction, excluded.direction) end,
               started_at = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then coalesce(excluded.started_at, c.started_at) else coalesce(c.started_at, excluded.started_at) end,
               ended_at = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then coalesce(excluded.ended_at, c.ended_at) else coalesce(c.ended_at, excluded.ended_at) end,
               duration_sec = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then coalesce(excluded.duration_sec, c.duration_sec) else coalesce(c.duration_sec, excluded.duration_sec) end,
               transcript = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then coalesce(excluded.transcript, c.transcript) else coalesce(c.transcript, excluded.transcript) end,
               transcript_turns = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then coalesce(excluded.transcript_turns, c.transcript_turns) else coalesce(c.transcript_turns, excluded.transcript_turns) end,
               transcript_sha256 = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then coalesce(excluded.transcript_sha256, c.transcript_sha256) else coalesce(c.transcript_sha256, excluded.transcript_sha256) end,
               customer_phone = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then coalesce(excluded.customer_phone, c.customer_phone) else coalesce(c.customer_phone, excluded.customer_phone) end,
               customer_name = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then coalesce(excluded.customer_name, c.customer_name) else coalesce(c.customer_name, excluded.customer_name) end,
               agent_id = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then coalesce(excluded.agent_id, c.agent_id) else coalesce(c.agent_id, excluded.agent_id) end,
               disconnection_reason = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then coalesce(excluded.disconnection_reason, c.disconnection_reason) else coalesce(c.disconnection_reason, excluded.disconnection_reason) end,
               retell_analysis = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then coalesce(excluded.retell_analysis, c.retell_analysis) else coalesce(c.retell_analysis, excluded.retell_analysis) end,
               metadata = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then coalesce(excluded.metadata, c.metadata) else coalesce(c.metadata, excluded.metadata) end,
               -- The call's start time once known, else its earliest event.
               first_event_at = coalesce(
                   case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                       then coalesce(excluded.started_at, c.started_at) else coalesce(c.started_at, excluded.started_at) end,
                   least(c.first_event_at, excluded.first_event_at)),
               last_event_at = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then excluded.last_event_at else c.last_event_at end,
               last_event_rank = case when (excluded.last_event_rank, excluded.last_event_at) >= (c.last_event_rank, c.last_event_at)
                   then excluded.last_event_rank else c.last_event_rank end,
               updated_at = now()
           returning transcript_sha256"#,
        dealership_id,
        event.call_id,
        event.call_status,
        event.direction,
        event.started_at,
        event.ended_at,
        event.duration_sec,
        event.transcript,
        event.transcript_turns,
        event.transcript_sha256,
        event.customer_phone,
        event.customer_name,
        event.agent_id,
        event.disconnection_reason,
        event.retell_analysis,
        event.metadata,
        first_event_at,
        event.occurred_at,
        event.rank,
    )
    .fetch_one(conn)
    .await?;
    Ok(row.transcript_sha256)
}

/// Whether an analysis job was ever queued for this transcript of the call.
#[tracing::instrument(skip_all)]
async fn transcript_queued(
    conn: &mut PgConnection,
    dealership_id: &str,
    call_id: &str,
    transcript_sha256: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists (
               select 1 from public.analysis_jobs
               where dealership_id = $1 and call_id = $2 and transcript_sha256 = $3
           ) as "exists!""#,
        dealership_id,
        call_id,
        transcript_sha256,
    )
    .fetch_one(conn)
    .await
}

/// Enqueues analysis unless the call already has a pending job (which will read
/// the newest transcript when it runs). Returns the new job's id.
#[tracing::instrument(skip_all)]
async fn enqueue_analysis(
    conn: &mut PgConnection,
    dealership_id: &str,
    event: &Event,
    transcript_sha256: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query!(
        r#"insert into public.analysis_jobs (dealership_id, call_id, event_id, transcript_sha256)
           values ($1, $2, $3, $4)
           on conflict (dealership_id, call_id) where status in ('queued', 'running') do nothing
           returning id"#,
        dealership_id,
        event.call_id,
        event.event_id,
        transcript_sha256,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| r.id))
}

/// Readiness probe: a round trip through the pool.
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!("select 1 as \"one!\"")
        .fetch_one(pool)
        .await
        .map(|_| ())
}
