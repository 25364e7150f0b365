//! Durable ingest: everything one accepted event changes, in one statement.
//!
//! `private.ingest_event` (migration `20261208000100_ingest_event.sql`, with
//! `p_agent_version` since `20261219000100_agent_version.sql`) does it
//! all, in this order: register the dealership (the event row references it),
//! insert the event (`on conflict do nothing`: the unique `event_id` decides
//! duplicates, even concurrent ones), then either record the unresolved dealership
//! or upsert the call monotonically and enqueue analysis when the stored
//! transcript changed (or was stored by events that are never judged and has no
//! job yet).
//!
//! The call runs as one statement outside an explicit transaction, so it costs
//! one round trip. Postgres commits an implicit transaction before it reports the
//! statement done (`ReadyForQuery`), and sqlx's `fetch_one` reads up to that
//! message, so a returned row means a committed event: the handler answers 200
//! only after it. The enqueue trigger's `pg_notify` is delivered on that commit,
//! so the worker never wakes for an event that was rolled back.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

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

/// Stores one delivery (see the module docs for what that covers); returns once
/// it is committed.
#[tracing::instrument(skip_all)]
pub async fn store_event(
    pool: &PgPool,
    event: &Event,
    raw_body: &[u8],
    received_at: DateTime<Utc>,
) -> Result<Stored, sqlx::Error> {
    let problem = event.dealership.problem();
    let row = sqlx::query!(
        r#"select outcome as "outcome!", job_id
             from private.ingest_event(
                 $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                 $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)"#,
        event.event_id,
        event.event_type,
        event.source.as_str(),
        event.dealership.id(),
        event.call_id,
        event.occurred_at,
        received_at,
        event.rank,
        raw_body,
        event.raw_payload,
        event.has_judgeable_transcript(),
        problem.as_ref().map(|(code, _)| *code),
        problem
            .as_ref()
            .map(|(_, reason)| problem_detail(event, reason)),
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
        event.agent_version,
    )
    .fetch_one(pool)
    .await?;
    let stored = match row.outcome.as_str() {
        "duplicate" => Stored::Duplicate,
        outcome => Stored::Accepted {
            job_id: row.job_id,
            unresolved: outcome == "unresolved",
        },
    };
    Ok(stored)
}

/// The `processing_errors.detail` of an event stored without a dealership:
/// why, and for a conflict both claims.
fn problem_detail(event: &Event, reason: &str) -> Value {
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
    detail
}

/// Readiness probe: a round trip through the pool.
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!("select 1 as \"one!\"")
        .fetch_one(pool)
        .await
        .map(|_| ())
}
