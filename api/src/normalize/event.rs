//! What a delivery becomes: one [`Event`], where its dealership came from, and
//! which payload shape it arrived in.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Which payload shape arrived (stored in `events.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Normalized,
    Retell,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Normalized => "normalized",
            Source::Retell => "retell",
        }
    }
}

/// Where the event's dealership came from, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dealership {
    /// From the payload (`dealership_id` or `call.metadata.dealership_id`).
    FromPayload(String),
    /// From `AGENT_DEALERSHIPS`, keyed by the call's `agent_id`.
    FromAgent(String),
    /// Not resolvable: the event is stored with no dealership and reported in
    /// `processing_errors` (nothing is lost, and the sender is not asked to retry).
    Unresolved { reason: String },
    /// `call.metadata.dealership_id` names another dealership than the one
    /// `AGENT_DEALERSHIPS` maps the agent to. Neither is trusted: the event is
    /// stored with no dealership, like an unresolved one, and the conflict is
    /// reported in `processing_errors`.
    Conflict {
        agent_id: String,
        /// What the payload claimed.
        payload: String,
        /// What the configuration says.
        mapped: String,
    },
}

impl Dealership {
    pub fn id(&self) -> Option<&str> {
        match self {
            Dealership::FromPayload(id) | Dealership::FromAgent(id) => Some(id),
            Dealership::Unresolved { .. } | Dealership::Conflict { .. } => None,
        }
    }

    /// For an event stored without a dealership: the `processing_errors.error`
    /// code and a sentence saying why.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        match self {
            Dealership::FromPayload(_) | Dealership::FromAgent(_) => None,
            Dealership::Unresolved { reason } => Some(("dealership_unresolved", reason.clone())),
            Dealership::Conflict {
                agent_id,
                payload,
                mapped,
            } => Some((
                "dealership_conflict",
                format!(
                    "call.metadata.dealership_id is {payload:?} but AGENT_DEALERSHIPS maps agent {agent_id:?} to {mapped:?}; neither is trusted"
                ),
            )),
        }
    }
}

/// One webhook delivery, normalized. Field names follow `events` and `calls`.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_id: String,
    pub event_type: String,
    pub source: Source,
    pub dealership: Dealership,
    pub call_id: String,
    pub occurred_at: DateTime<Utc>,
    /// Orders events of one call: 1 started, 2 transcript/transfer updates and
    /// unknown types, 3 ended (and normalized events), 4 analyzed.
    pub rank: i16,
    /// The whole body as JSON, with NUL characters replaced.
    pub raw_payload: Value,
    /// True when at least one NUL character was replaced by U+FFFD.
    pub nul_replaced: bool,
    /// Non-blank transcript, else `None`.
    pub transcript: Option<String>,
    /// Lowercase hex SHA-256 of `transcript`.
    pub transcript_sha256: Option<String>,
    /// `[{role, content}]` from Retell's `transcript_object`, without word timings.
    pub transcript_turns: Option<Value>,
    pub customer_phone: Option<String>,
    pub customer_name: Option<String>,
    pub agent_id: Option<String>,
    /// Retell's `call.agent_version`: which version of `agent_id` took the call.
    pub agent_version: Option<i32>,
    pub metadata: Option<Value>,
    pub call_status: Option<String>,
    pub direction: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_sec: Option<i32>,
    pub disconnection_reason: Option<String>,
    /// Retell's own `call_analysis`, only from `call_analyzed`.
    pub retell_analysis: Option<Value>,
}

impl Event {
    /// Whether this event carries a transcript that should be judged once the
    /// call's stored transcript changes. Mid-call `transcript_updated` snapshots
    /// are never judged, and calls without a dealership have no row to judge.
    pub fn has_judgeable_transcript(&self) -> bool {
        self.transcript.is_some()
            && self.event_type != "transcript_updated"
            && self.dealership.id().is_some()
    }
}

/// Same rule as the `dealerships.id` check constraint: `^[a-z0-9][a-z0-9-]{0,62}$`.
pub fn is_valid_dealership_slug(s: &str) -> bool {
    let bytes = s.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slug_rule_matches_the_database_check() {
        for ok in ["toyota-braintree", "a", "0-x", &"a".repeat(63)] {
            assert!(is_valid_dealership_slug(ok), "{ok}");
        }
        for bad in ["", "-a", "Toyota", "a_b", "a b", &"a".repeat(64), "é"] {
            assert!(!is_valid_dealership_slug(bad), "{bad}");
        }
    }
}
