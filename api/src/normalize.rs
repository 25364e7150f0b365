//! Turns a verified, parsed webhook body into one [`Event`], whichever of the two
//! accepted shapes it has:
//!
//! - the **normalized contract** (`event_id`, `dealership_id`, `call_id`,
//!   `timestamp`, optional `transcript`, `customer`, `metadata`, `event_type`);
//! - **Retell's native envelope** (`event`/`event_type` + `call`/`data`), whose
//!   idempotency key, time and dealership are derived here.
//!
//! Pure and synchronous: no clock, no database, so every rule is unit-tested below.
//! Fields we do not interpret are not rejected; they stay in `raw_payload`.

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Longest accepted `event_id` / `call_id`: both are indexed, and btree index
/// entries have a size limit, so an absurd id must be a 422, not a database error.
pub const MAX_ID_CHARS: usize = 255;
/// Longest accepted event type name.
pub const MAX_EVENT_TYPE_CHARS: usize = 64;
/// Event type stored for normalized events that do not name one.
pub const DEFAULT_NORMALIZED_EVENT_TYPE: &str = "call_completed";
/// Lifecycle rank of normalized events (a completed call, like `call_ended`).
pub const NORMALIZED_RANK: i16 = 3;
/// Latest instant accepted as an epoch-milliseconds timestamp (9999-12-31T23:59:59.999Z);
/// keeps every time inside what both chrono and Postgres can represent.
const MAX_EPOCH_MS: i64 = 253_402_300_799_999;
/// Longest accepted `duration_ms`: what `calls.duration_sec` (an `int`) holds.
pub const MAX_DURATION_MS: i64 = i32::MAX as i64 * 1000;
/// Earliest time an event may carry (2020-01-01T00:00:00Z): nothing this system
/// monitors happened before, so an earlier time is a sender bug (often seconds
/// sent where milliseconds belong).
pub const EARLIEST_EVENT_MS: i64 = 1_577_836_800_000;
/// How far after its receipt an event may be dated. Generous for clock skew and
/// time-zone mistakes; anything later would win every "newer" comparison and
/// freeze the call, so it is refused.
pub const MAX_FUTURE: Duration = Duration::hours(24);

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

/// A contract violation, answered with 422. `field` is a JSON path such as
/// `customer.phone` or `call.transcript_object[2]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: expected {expected}{got}")]
pub struct ContractError {
    pub field: String,
    pub expected: String,
    /// What was found instead, pre-formatted as ", got ..." (or empty).
    pub got: String,
}

/// A well-formed time outside what the service accepts (before 2020, or more than
/// [`MAX_FUTURE`] after the event was received), answered with 422
/// `timestamp_out_of_range`. Such an event is never stored: a time far in the
/// future would win every "newer" comparison and freeze the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {value} is outside the accepted range {earliest} to {latest}")]
pub struct TimestampOutOfRange {
    /// JSON path of the offending field, e.g. `timestamp` or `call.end_timestamp`.
    pub field: String,
    pub value: String,
    pub earliest: String,
    /// [`MAX_FUTURE`] after the receive time.
    pub latest: String,
}

/// Why a body could not become an [`Event`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    #[error(transparent)]
    Contract(#[from] ContractError),
    #[error(transparent)]
    TimestampOutOfRange(#[from] TimestampOutOfRange),
}

impl NormalizeError {
    /// JSON path of the offending field.
    pub fn field(&self) -> &str {
        match self {
            NormalizeError::Contract(e) => &e.field,
            NormalizeError::TimestampOutOfRange(e) => &e.field,
        }
    }
}

/// Refuses a time before 2020 or more than [`MAX_FUTURE`] after `received_at`.
fn check_time_range(
    field: String,
    value: DateTime<Utc>,
    received_at: DateTime<Utc>,
) -> Result<(), TimestampOutOfRange> {
    let earliest = Utc
        .timestamp_millis_opt(EARLIEST_EVENT_MS)
        .single()
        .expect("a valid instant");
    let latest = received_at + MAX_FUTURE;
    if value < earliest || value > latest {
        let show = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        return Err(TimestampOutOfRange {
            field,
            value: value.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            earliest: show(earliest),
            latest: show(latest),
        });
    }
    Ok(())
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

/// Lifecycle rank of a native Retell event type.
pub fn retell_rank(event_type: &str) -> i16 {
    match event_type {
        "call_started" => 1,
        "call_ended" => 3,
        "call_analyzed" => 4,
        // transcript_updated, transfer_*, chat_* and types Retell adds later: an
        // update that must never outrank the end of the call.
        _ => 2,
    }
}

/// Normalizes a parsed body. `raw_body` is the exact bytes received (they seed
/// the native idempotency key); `received_at` is used when the body has no time,
/// and bounds the times it has (see [`TimestampOutOfRange`]).
pub fn normalize(
    raw_body: &[u8],
    payload: Map<String, Value>,
    received_at: DateTime<Utc>,
    agent_dealerships: &HashMap<String, String>,
) -> Result<Event, NormalizeError> {
    let mut payload = Value::Object(payload);
    let nul_replaced = replace_nul(&mut payload);
    let Value::Object(map) = &payload else {
        unreachable!("replace_nul keeps the object an object")
    };
    // Retell never sends an event_id; our contract always does. Anything that is
    // not recognisably Retell is held to the normalized contract, so `{}` gets a
    // helpful "event_id: required" rather than a guess.
    let is_native = !map.contains_key("event_id")
        && (map.contains_key("event") || map.contains_key("call") || map.contains_key("data"));
    let mut event = if is_native {
        normalize_native(raw_body, map, received_at, agent_dealerships)?
    } else {
        normalize_contract(map, received_at)?
    };
    event.raw_payload = payload;
    event.nul_replaced = nul_replaced;
    Ok(event)
}

fn normalize_contract(
    map: &Map<String, Value>,
    received_at: DateTime<Utc>,
) -> Result<Event, NormalizeError> {
    let body = Fields::root(map);
    let event_id = body.required_id("event_id")?.to_owned();

    const SLUG: &str = "a dealership slug: lowercase letters, digits and '-', starting with a letter or digit, at most 63 characters (e.g. toyota-braintree)";
    let dealership_id = body.required_str("dealership_id", SLUG)?;
    if !is_valid_dealership_slug(dealership_id) {
        return Err(body
            .error("dealership_id", SLUG, map.get("dealership_id"))
            .into());
    }
    let call_id = body.required_id("call_id")?.to_owned();

    const RFC3339: &str = "an RFC 3339 date-time with an offset, e.g. 2025-12-17T14:32:00Z or 2025-12-17T09:32:00-05:00";
    let timestamp = body.required_str("timestamp", RFC3339)?;
    let occurred_at = DateTime::parse_from_rfc3339(timestamp)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| body.error("timestamp", RFC3339, map.get("timestamp")))?;
    check_time_range(body.path("timestamp"), occurred_at, received_at)?;

    let event_type = match body.optional_str("event_type")? {
        Some(t) => checked_event_type(&body, "event_type", t)?,
        None => DEFAULT_NORMALIZED_EVENT_TYPE.to_owned(),
    };

    let transcript = body.optional_transcript("transcript")?;
    let (customer_phone, customer_name) = match body.optional_object("customer")? {
        Some(customer) => (
            customer.optional_str("phone")?.map(str::to_owned),
            customer.optional_str("name")?.map(str::to_owned),
        ),
        None => (None, None),
    };
    let metadata = body.optional_object("metadata")?;
    let duration_sec = match &metadata {
        Some(m) => m.optional_seconds("duration_sec")?,
        None => None,
    };

    Ok(Event {
        event_id,
        event_type,
        source: Source::Normalized,
        dealership: Dealership::FromPayload(dealership_id.to_owned()),
        call_id,
        occurred_at,
        rank: NORMALIZED_RANK,
        raw_payload: Value::Null,
        nul_replaced: false,
        transcript_sha256: transcript.as_deref().map(sha256_hex),
        transcript,
        transcript_turns: None,
        customer_phone,
        customer_name,
        agent_id: None,
        metadata: metadata.map(|m| Value::Object(m.map.clone())),
        call_status: None,
        direction: None,
        started_at: None,
        ended_at: None,
        duration_sec,
        disconnection_reason: None,
        retell_analysis: None,
    })
}

fn normalize_native(
    raw_body: &[u8],
    map: &Map<String, Value>,
    received_at: DateTime<Utc>,
    agent_dealerships: &HashMap<String, String>,
) -> Result<Event, NormalizeError> {
    let body = Fields::root(map);
    let type_key = if map.get("event").is_some_and(|v| !v.is_null()) {
        "event"
    } else {
        "event_type"
    };
    let event_type = match body.optional_str(type_key)? {
        Some(t) => checked_event_type(&body, type_key, t)?,
        None => {
            return Err(body
                .error(
                    "event",
                    "the Retell event type in `event` (or `event_type`), e.g. call_ended",
                    None,
                )
                .into())
        }
    };

    let call_key = if map.get("call").is_some_and(|v| !v.is_null()) {
        "call"
    } else {
        "data"
    };
    let Some(call) = body.optional_object(call_key)? else {
        return Err(body
            .error("call", "the Retell call object in `call` (or `data`)", None)
            .into());
    };
    let call_id = call.required_id("call_id")?.to_owned();

    let agent_id = call.optional_str("agent_id")?.map(str::to_owned);
    let call_status = call.optional_str("call_status")?.map(str::to_owned);
    let direction = call.optional_str("direction")?.map(str::to_owned);
    let started_at = call.optional_epoch_ms("start_timestamp")?;
    let ended_at = call.optional_epoch_ms("end_timestamp")?;
    for (key, time) in [("start_timestamp", started_at), ("end_timestamp", ended_at)] {
        if let Some(time) = time {
            check_time_range(call.path(key), time, received_at)?;
        }
    }
    let disconnection_reason = call
        .optional_str("disconnection_reason")?
        .map(str::to_owned);
    let transcript = call.optional_transcript("transcript")?;
    let transcript_turns = call.optional_turns("transcript_object")?;
    let metadata = call.optional_object("metadata")?;

    let duration_sec = match call.optional_duration_ms("duration_ms")? {
        Some(s) => Some(s),
        None => match &metadata {
            Some(m) => m.optional_seconds("duration_sec")?,
            None => None,
        },
    }
    .or_else(|| match (started_at, ended_at) {
        (Some(s), Some(e)) if e >= s => i32::try_from((e - s).num_seconds()).ok(),
        _ => None,
    });

    // Every documented field is held to its type whatever the event type (known
    // or not), as /openapi.json's RetellCall says; only its use depends on the type.
    let from_number = call.optional_str("from_number")?;
    let to_number = call.optional_str("to_number")?;
    let call_analysis = call.optional_object("call_analysis")?;

    // The caller's number: the far end of the call.
    let customer_phone = match direction.as_deref() {
        Some("inbound") => from_number,
        Some("outbound") => to_number,
        _ => None,
    }
    .map(str::to_owned);

    let retell_analysis = call_analysis
        .filter(|_| event_type == "call_analyzed")
        .map(|a| Value::Object(a.map.clone()));

    let dealership = resolve_native_dealership(
        metadata.as_ref(),
        agent_id.as_deref(),
        agent_dealerships,
        &call.path("metadata.dealership_id"),
    );

    let occurred_at = match event_type.as_str() {
        "call_started" => started_at,
        "call_ended" | "call_analyzed" => ended_at.or(started_at),
        _ => None,
    }
    .unwrap_or(received_at);

    let event_id = format!(
        "retell:{event_type}:{call_id}:{}",
        &sha256_hex_bytes(raw_body)[..16]
    );

    Ok(Event {
        event_id,
        rank: retell_rank(&event_type),
        event_type,
        source: Source::Retell,
        dealership,
        call_id,
        occurred_at,
        raw_payload: Value::Null,
        nul_replaced: false,
        transcript_sha256: transcript.as_deref().map(sha256_hex),
        transcript,
        transcript_turns,
        customer_phone,
        customer_name: None,
        agent_id,
        metadata: metadata.map(|m| Value::Object(m.map.clone())),
        call_status,
        direction,
        started_at,
        ended_at,
        duration_sec,
        disconnection_reason,
        retell_analysis,
    })
}

/// The agent mapping when `AGENT_DEALERSHIPS` knows the agent (a metadata
/// dealership that disagrees makes it a [`Dealership::Conflict`]), else
/// `call.metadata.dealership_id`, else unresolved. Configuration wins because
/// anyone who can get a call placed on an agent can put anything in its metadata.
/// A malformed slug from Retell is not rejected (Retell would retry and then drop
/// the event): it is ignored when the agent is mapped, else reported like a
/// missing one.
fn resolve_native_dealership(
    metadata: Option<&Fields<'_>>,
    agent_id: Option<&str>,
    agent_dealerships: &HashMap<String, String>,
    metadata_path: &str,
) -> Dealership {
    let mut problem = None;
    let mut from_payload = None;
    match metadata.and_then(|m| m.map.get("dealership_id")) {
        Some(Value::String(id)) if is_valid_dealership_slug(id) => from_payload = Some(id),
        Some(Value::Null) | None => {}
        Some(other) => {
            problem = Some(format!(
                "{metadata_path} is not a valid dealership slug ({})",
                describe(other)
            ))
        }
    }
    if let Some((agent, mapped)) = agent_id.and_then(|a| agent_dealerships.get(a).map(|m| (a, m))) {
        return match from_payload {
            Some(claimed) if claimed != mapped => Dealership::Conflict {
                agent_id: agent.to_owned(),
                payload: claimed.clone(),
                mapped: mapped.clone(),
            },
            _ => Dealership::FromAgent(mapped.clone()),
        };
    }
    if let Some(id) = from_payload {
        return Dealership::FromPayload(id.clone());
    }
    let reason = problem.unwrap_or_else(|| match agent_id {
        Some(a) => format!("no {metadata_path} and agent {a:?} is not mapped in AGENT_DEALERSHIPS"),
        None => format!("no {metadata_path} and no agent_id to look up in AGENT_DEALERSHIPS"),
    });
    Dealership::Unresolved { reason }
}

fn checked_event_type(body: &Fields<'_>, key: &str, t: &str) -> Result<String, ContractError> {
    if t.trim().is_empty() || t.chars().count() > MAX_EVENT_TYPE_CHARS {
        return Err(body.error(
            key,
            &format!("a non-empty event type of at most {MAX_EVENT_TYPE_CHARS} characters"),
            body.map.get(key),
        ));
    }
    Ok(t.to_owned())
}

/// Typed access to one JSON object, producing errors that name the full path.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Fields<'a> {
    fn root(map: &'a Map<String, Value>) -> Self {
        Fields {
            map,
            prefix: String::new(),
        }
    }

    fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    fn error(&self, key: &str, expected: &str, got: Option<&Value>) -> ContractError {
        ContractError {
            field: self.path(key),
            expected: expected.to_owned(),
            got: match got {
                None => ", but it is missing".to_owned(),
                Some(v) => format!(", got {}", describe(v)),
            },
        }
    }

    /// A present, non-null value (null counts as absent everywhere).
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn optional_str(&self, key: &str) -> Result<Option<&'a str>, ContractError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.error(key, "a string", Some(other))),
        }
    }

    /// A required, non-blank string; `expected` describes it in the error.
    fn required_str(&self, key: &str, expected: &str) -> Result<&'a str, ContractError> {
        match self.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
            other => Err(self.error(key, expected, other)),
        }
    }

    fn required_id(&self, key: &str) -> Result<&'a str, ContractError> {
        let s = self.required_str(key, "a non-empty string")?;
        if s.chars().count() > MAX_ID_CHARS {
            return Err(self.error(
                key,
                &format!("at most {MAX_ID_CHARS} characters"),
                self.get(key),
            ));
        }
        Ok(s)
    }

    fn optional_object(&self, key: &str) -> Result<Option<Fields<'a>>, ContractError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Fields {
                map,
                prefix: self.path(key),
            })),
            Some(other) => Err(self.error(key, "a JSON object", Some(other))),
        }
    }

    /// A transcript; blank ones count as absent so they never replace a real one.
    fn optional_transcript(&self, key: &str) -> Result<Option<String>, ContractError> {
        Ok(self
            .optional_str(key)?
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned))
    }

    fn optional_epoch_ms(&self, key: &str) -> Result<Option<DateTime<Utc>>, ContractError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        v.as_i64()
            .filter(|ms| (0..=MAX_EPOCH_MS).contains(ms))
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .map(Some)
            .ok_or_else(|| {
                self.error(
                    key,
                    "an integer number of milliseconds since the Unix epoch (e.g. 1765983120000)",
                    Some(v),
                )
            })
    }

    fn optional_duration_ms(&self, key: &str) -> Result<Option<i32>, ContractError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        v.as_i64()
            .filter(|ms| (0..=MAX_DURATION_MS).contains(ms))
            .and_then(|ms| i32::try_from((ms + 500) / 1000).ok())
            .map(Some)
            .ok_or_else(|| {
                self.error(
                    key,
                    &format!("an integer number of milliseconds from 0 to {MAX_DURATION_MS}"),
                    Some(v),
                )
            })
    }

    fn optional_seconds(&self, key: &str) -> Result<Option<i32>, ContractError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        v.as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0 && *s <= f64::from(i32::MAX))
            .map(|s| Some(s.round() as i32))
            .ok_or_else(|| self.error(key, "a non-negative number of seconds (e.g. 420)", Some(v)))
    }

    /// Retell's `transcript_object`, reduced to `[{role, content}]` (the per-word
    /// timings are large and nothing downstream reads them).
    fn optional_turns(&self, key: &str) -> Result<Option<Value>, ContractError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let Value::Array(items) = v else {
            return Err(self.error(key, "an array of {role, content} objects", Some(v)));
        };
        let mut turns = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let Value::Object(turn) = item else {
                return Err(self.error(
                    &format!("{key}[{i}]"),
                    "an object with role and content",
                    Some(item),
                ));
            };
            let mut kept = Map::new();
            for field in ["role", "content"] {
                match turn.get(field) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(text)) => {
                        kept.insert(field.to_owned(), Value::String(text.clone()));
                    }
                    Some(other) => {
                        return Err(self.error(
                            &format!("{key}[{i}].{field}"),
                            "a string",
                            Some(other),
                        ))
                    }
                }
            }
            turns.push(Value::Object(kept));
        }
        Ok(Some(Value::Array(turns)))
    }
}

/// A short description of a JSON value for error messages. Short strings are
/// quoted (they are usually the bad timestamp or slug); long ones are not, so a
/// message never echoes a transcript.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() <= 40 => format!("the string {s:?}"),
        Value::String(s) => format!("a string of {} characters", s.chars().count()),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Replaces NUL characters (which Postgres `text` and `jsonb` cannot hold) with
/// U+FFFD in every string and object key. Returns whether anything was replaced.
pub fn replace_nul(value: &mut Value) -> bool {
    match value {
        Value::String(s) if s.contains('\0') => {
            *s = s.replace('\0', "\u{FFFD}");
            true
        }
        Value::Array(items) => items.iter_mut().fold(false, |acc, v| replace_nul(v) | acc),
        Value::Object(map) => {
            let mut replaced = false;
            if map.keys().any(|k| k.contains('\0')) {
                let old = std::mem::take(map);
                for (k, v) in old {
                    map.insert(k.replace('\0', "\u{FFFD}"), v);
                }
                replaced = true;
            }
            map.values_mut()
                .fold(replaced, |acc, v| replace_nul(v) | acc)
        }
        _ => false,
    }
}

/// Lowercase hex SHA-256 of a string (the `calls.transcript_sha256` format).
pub fn sha256_hex(s: &str) -> String {
    sha256_hex_bytes(s.as_bytes())
}

fn sha256_hex_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const STARTED: &str = include_str!("../tests/fixtures/retell-call-started.json");
    const ENDED: &str = include_str!("../tests/fixtures/retell-call-ended.json");
    const ANALYZED: &str = include_str!("../tests/fixtures/retell-call-analyzed.json");
    const GOOD: &str = include_str!("../tests/fixtures/normalized-good.json");

    fn received() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
    }

    fn run_with(body: &str, agents: &HashMap<String, String>) -> Result<Event, NormalizeError> {
        let Value::Object(map) = serde_json::from_str(body).unwrap() else {
            panic!("test body is not an object")
        };
        normalize(body.as_bytes(), map, received(), agents)
    }

    fn run(body: &str) -> Result<Event, NormalizeError> {
        run_with(body, &HashMap::new())
    }

    fn field_of(body: Value) -> String {
        match run(&body.to_string()).expect_err("should violate the contract") {
            NormalizeError::Contract(e) => e.field,
            other => panic!("expected a contract violation, got {other:?}"),
        }
    }

    fn out_of_range(body: &str) -> TimestampOutOfRange {
        match run(body).expect_err("should be out of range") {
            NormalizeError::TimestampOutOfRange(e) => e,
            other => panic!("expected timestamp_out_of_range, got {other:?}"),
        }
    }

    fn ms(t: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(t).unwrap()
    }

    #[test]
    fn the_normalized_fixture_keeps_its_own_ids_and_fields() {
        let e = run(GOOD).unwrap();
        assert_eq!(e.source, Source::Normalized);
        assert_eq!(e.event_id, "evt_0001");
        assert_eq!(e.event_type, "call_completed");
        assert_eq!(
            e.dealership,
            Dealership::FromPayload("toyota-braintree".into())
        );
        assert_eq!(e.call_id, "call_0001");
        assert_eq!(e.occurred_at.to_rfc3339(), "2025-12-17T14:32:00+00:00");
        assert_eq!(e.rank, NORMALIZED_RANK);
        assert_eq!(e.customer_phone.as_deref(), Some("+15551234567"));
        assert_eq!(e.customer_name.as_deref(), Some("Dana Whitfield"));
        assert_eq!(e.duration_sec, Some(142));
        assert!(e
            .transcript
            .as_deref()
            .unwrap()
            .starts_with("Agent: Thanks"));
        assert_eq!(
            e.transcript_sha256.as_deref(),
            Some(sha256_hex(e.transcript.as_deref().unwrap()).as_str())
        );
        assert_eq!(e.raw_payload, serde_json::from_str::<Value>(GOOD).unwrap());
        assert!(e.has_judgeable_transcript());
    }

    #[test]
    fn a_normalized_timestamp_with_an_offset_is_converted_to_utc() {
        let e = run(r#"{"event_id":"e","dealership_id":"d","call_id":"c","timestamp":"2025-12-17T09:32:00-05:00"}"#).unwrap();
        assert_eq!(e.occurred_at.to_rfc3339(), "2025-12-17T14:32:00+00:00");
        assert_eq!(e.transcript, None);
        assert!(!e.has_judgeable_transcript());
    }

    #[test]
    fn a_normalized_event_type_is_kept_when_given() {
        let e = run(r#"{"event_id":"e","event_type":"call_corrected","dealership_id":"d","call_id":"c","timestamp":"2025-12-17T09:32:00Z"}"#).unwrap();
        assert_eq!(e.event_type, "call_corrected");
    }

    #[test]
    fn each_missing_normalized_field_is_named() {
        let full = json!({"event_id":"e","dealership_id":"d","call_id":"c","timestamp":"2025-12-17T14:32:00Z"});
        for key in ["event_id", "dealership_id", "call_id", "timestamp"] {
            let mut body = full.clone();
            body.as_object_mut().unwrap().remove(key);
            assert_eq!(field_of(body), key);
        }
    }

    #[test]
    fn wrong_normalized_types_are_named_with_their_path() {
        let base = json!({"event_id":"e","dealership_id":"d","call_id":"c","timestamp":"2025-12-17T14:32:00Z"});
        for (key, bad, field) in [
            ("event_id", json!(7), "event_id"),
            ("call_id", json!(""), "call_id"),
            ("timestamp", json!("yesterday"), "timestamp"),
            ("timestamp", json!(1765983120000_i64), "timestamp"),
            ("dealership_id", json!("Toyota Braintree"), "dealership_id"),
            ("transcript", json!(["a"]), "transcript"),
            ("customer", json!("+1555"), "customer"),
            (
                "customer",
                json!({"phone": 15551234567_i64}),
                "customer.phone",
            ),
            ("metadata", json!([1]), "metadata"),
            (
                "metadata",
                json!({"duration_sec": "420"}),
                "metadata.duration_sec",
            ),
            (
                "metadata",
                json!({"duration_sec": -1}),
                "metadata.duration_sec",
            ),
            ("event_id", json!("x".repeat(MAX_ID_CHARS + 1)), "event_id"),
        ] {
            let mut body = base.clone();
            body[key] = bad;
            assert_eq!(field_of(body), field);
        }
    }

    #[test]
    fn contract_errors_say_what_was_expected_and_found() {
        let err =
            run(r#"{"event_id":"e","dealership_id":"d","call_id":"c","timestamp":"yesterday"}"#)
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "timestamp: expected an RFC 3339 date-time with an offset, e.g. 2025-12-17T14:32:00Z or 2025-12-17T09:32:00-05:00, got the string \"yesterday\""
        );
    }

    #[test]
    fn an_empty_object_is_held_to_the_normalized_contract() {
        assert_eq!(field_of(json!({})), "event_id");
    }

    #[test]
    fn a_native_call_ended_derives_its_key_time_and_dealership() {
        let e = run(ENDED).unwrap();
        assert_eq!(e.source, Source::Retell);
        assert_eq!(e.event_type, "call_ended");
        let hash = sha256_hex(ENDED);
        assert_eq!(
            e.event_id,
            format!("retell:call_ended:call_8f2c1d9a7b:{}", &hash[..16])
        );
        assert_eq!(
            e.dealership,
            Dealership::FromPayload("ford-weymouth".into())
        );
        assert_eq!(e.occurred_at, ms(1765983301000));
        assert_eq!(e.started_at, Some(ms(1765983120000)));
        assert_eq!(e.ended_at, Some(ms(1765983301000)));
        assert_eq!(e.duration_sec, Some(181));
        assert_eq!(e.rank, 3);
        assert_eq!(e.call_status.as_deref(), Some("ended"));
        assert_eq!(e.direction.as_deref(), Some("inbound"));
        assert_eq!(e.customer_phone.as_deref(), Some("+15085550199"));
        assert_eq!(e.agent_id.as_deref(), Some("agent_5e1f0c"));
        assert_eq!(e.disconnection_reason.as_deref(), Some("user_hangup"));
        assert_eq!(e.retell_analysis, None);
        let turns = e.transcript_turns.clone().unwrap();
        assert_eq!(turns.as_array().unwrap().len(), 8);
        assert_eq!(
            turns[0],
            json!({"role":"agent","content":"Ford of Weymouth, this is the virtual assistant. How can I help?"})
        );
        assert!(e.has_judgeable_transcript());
    }

    #[test]
    fn a_native_call_started_happens_at_its_start_time() {
        let e = run(STARTED).unwrap();
        assert_eq!(e.rank, 1);
        assert_eq!(e.occurred_at, ms(1765983120000));
        assert_eq!(e.call_status.as_deref(), Some("ongoing"));
        assert_eq!(e.transcript, None);
    }

    #[test]
    fn only_call_analyzed_carries_retells_analysis() {
        let e = run(ANALYZED).unwrap();
        assert_eq!(e.rank, 4);
        assert_eq!(e.retell_analysis.unwrap()["user_sentiment"], "Positive");
        let mut ended: Value = serde_json::from_str(ENDED).unwrap();
        ended["call"]["call_analysis"] = json!({"call_summary": "early"});
        assert_eq!(run(&ended.to_string()).unwrap().retell_analysis, None);
    }

    #[test]
    fn older_native_spellings_event_type_and_data_are_accepted() {
        let body =
            ENDED
                .replacen("\"event\"", "\"event_type\"", 1)
                .replacen("\"call\":", "\"data\":", 1);
        let e = run(&body).unwrap();
        assert_eq!(e.event_type, "call_ended");
        assert_eq!(e.call_id, "call_8f2c1d9a7b");
    }

    #[test]
    fn transcript_updated_happens_at_receive_time_and_is_not_judged() {
        let e = run(r#"{"event":"transcript_updated","call":{"call_id":"c1","metadata":{"dealership_id":"d"},"start_timestamp":1765983120000,"transcript":"Agent: Hi"}}"#).unwrap();
        assert_eq!(e.rank, 2);
        assert_eq!(e.occurred_at, received());
        assert!(!e.has_judgeable_transcript());
    }

    #[test]
    fn repeated_transcript_updates_get_distinct_keys() {
        let a = run(
            r#"{"event":"transcript_updated","call":{"call_id":"c1","transcript":"Agent: Hi"}}"#,
        )
        .unwrap();
        let b = run(r#"{"event":"transcript_updated","call":{"call_id":"c1","transcript":"Agent: Hi\nUser: Yo"}}"#).unwrap();
        assert_ne!(a.event_id, b.event_id);
        assert!(a.event_id.starts_with("retell:transcript_updated:c1:"));
    }

    #[test]
    fn a_call_ended_without_an_end_time_falls_back_to_start_then_receive_time() {
        let e = run(
            r#"{"event":"call_ended","call":{"call_id":"c1","start_timestamp":1765983120000}}"#,
        )
        .unwrap();
        assert_eq!(e.occurred_at, ms(1765983120000));
        let e = run(r#"{"event":"call_ended","call":{"call_id":"c1"}}"#).unwrap();
        assert_eq!(e.occurred_at, received());
    }

    #[test]
    fn the_agent_mapping_resolves_a_dealership_when_metadata_has_none() {
        let agents = HashMap::from([("agent_x".to_owned(), "honda-quincy".to_owned())]);
        let body = r#"{"event":"call_ended","call":{"call_id":"c1","agent_id":"agent_x"}}"#;
        assert_eq!(
            run_with(body, &agents).unwrap().dealership,
            Dealership::FromAgent("honda-quincy".into())
        );
    }

    #[test]
    fn the_agent_mapping_wins_and_a_disagreeing_metadata_dealership_is_a_conflict() {
        // ENDED says ford-weymouth in call.metadata; the configuration says otherwise.
        let agents = HashMap::from([("agent_5e1f0c".to_owned(), "honda-quincy".to_owned())]);
        let e = run_with(ENDED, &agents).unwrap();
        assert_eq!(
            e.dealership,
            Dealership::Conflict {
                agent_id: "agent_5e1f0c".into(),
                payload: "ford-weymouth".into(),
                mapped: "honda-quincy".into(),
            }
        );
        assert_eq!(e.dealership.id(), None, "neither dealership is trusted");
        assert!(!e.has_judgeable_transcript());
        let (code, reason) = e.dealership.problem().unwrap();
        assert_eq!(code, "dealership_conflict");
        assert!(
            reason.contains("ford-weymouth")
                && reason.contains("honda-quincy")
                && reason.contains("agent_5e1f0c"),
            "{reason}"
        );
    }

    #[test]
    fn a_metadata_dealership_that_agrees_with_the_agent_mapping_resolves_from_the_mapping() {
        let agents = HashMap::from([("agent_5e1f0c".to_owned(), "ford-weymouth".to_owned())]);
        let e = run_with(ENDED, &agents).unwrap();
        assert_eq!(e.dealership, Dealership::FromAgent("ford-weymouth".into()));
        assert_eq!(e.dealership.problem(), None);
    }

    #[test]
    fn a_malformed_metadata_dealership_is_ignored_when_the_agent_is_mapped() {
        let agents = HashMap::from([("agent_x".to_owned(), "honda-quincy".to_owned())]);
        let body = r#"{"event":"call_ended","call":{"call_id":"c1","agent_id":"agent_x","metadata":{"dealership_id":"Honda Quincy"}}}"#;
        assert_eq!(
            run_with(body, &agents).unwrap().dealership,
            Dealership::FromAgent("honda-quincy".into())
        );
    }

    #[test]
    fn the_metadata_dealership_is_used_for_an_agent_the_mapping_does_not_know() {
        let agents = HashMap::from([("agent_other".to_owned(), "honda-quincy".to_owned())]);
        assert_eq!(
            run_with(ENDED, &agents).unwrap().dealership,
            Dealership::FromPayload("ford-weymouth".into())
        );
    }

    #[test]
    fn a_normalized_timestamp_in_the_year_9999_is_out_of_range_naming_the_field() {
        let e = out_of_range(
            r#"{"event_id":"e","dealership_id":"d","call_id":"c","timestamp":"9999-12-31T23:59:59Z"}"#,
        );
        assert_eq!(e.field, "timestamp");
        assert_eq!(e.value, "9999-12-31T23:59:59Z");
        assert_eq!(e.earliest, "2020-01-01T00:00:00Z");
        assert_eq!(e.latest, "2026-01-03T03:04:05Z", "one day after receipt");
        assert_eq!(
            e.to_string(),
            "timestamp: 9999-12-31T23:59:59Z is outside the accepted range 2020-01-01T00:00:00Z to 2026-01-03T03:04:05Z"
        );
    }

    #[test]
    fn a_timestamp_up_to_one_day_after_receipt_is_accepted_and_later_is_not() {
        let at = |ts: &str| {
            format!(r#"{{"event_id":"e","dealership_id":"d","call_id":"c","timestamp":"{ts}"}}"#)
        };
        // received() is 2026-01-02T03:04:05Z.
        assert!(run(&at("2026-01-03T03:04:05Z")).is_ok());
        assert!(run(&at("2026-01-02T22:04:05-05:00")).is_ok());
        let e = out_of_range(&at("2026-01-03T03:04:05.001Z"));
        assert_eq!(e.value, "2026-01-03T03:04:05.001Z");
    }

    #[test]
    fn a_timestamp_before_2020_is_out_of_range() {
        let e = out_of_range(
            r#"{"event_id":"e","dealership_id":"d","call_id":"c","timestamp":"2019-12-31T23:59:59Z"}"#,
        );
        assert_eq!(e.field, "timestamp");
        assert!(run(r#"{"event_id":"e","dealership_id":"d","call_id":"c","timestamp":"2020-01-01T00:00:00Z"}"#).is_ok());
    }

    #[test]
    fn native_start_and_end_times_are_held_to_the_same_range_whatever_the_event_type() {
        for (body, field) in [
            (
                r#"{"event":"call_ended","call":{"call_id":"c","end_timestamp":253402300799000}}"#,
                "call.end_timestamp",
            ),
            // Seconds where milliseconds belong: January 1970.
            (
                r#"{"event":"call_started","call":{"call_id":"c","start_timestamp":1765983120}}"#,
                "call.start_timestamp",
            ),
            // Not the event's own time, but stored on the call all the same.
            (
                r#"{"event":"transcript_updated","data":{"call_id":"c","start_timestamp":253402300799000}}"#,
                "data.start_timestamp",
            ),
        ] {
            assert_eq!(out_of_range(body).field, field, "{body}");
        }
    }

    #[test]
    fn an_unmapped_agent_leaves_the_dealership_unresolved() {
        let e = run(r#"{"event":"call_ended","call":{"call_id":"c1","agent_id":"agent_q","transcript":"Agent: Hi"}}"#).unwrap();
        let Dealership::Unresolved { reason } = &e.dealership else {
            panic!("expected unresolved, got {:?}", e.dealership)
        };
        assert!(reason.contains("agent_q"), "{reason}");
        assert!(!e.has_judgeable_transcript());
    }

    #[test]
    fn a_malformed_native_dealership_is_unresolved_not_rejected() {
        let e = run(r#"{"event":"call_ended","call":{"call_id":"c1","metadata":{"dealership_id":"Ford Weymouth"}}}"#).unwrap();
        let Dealership::Unresolved { reason } = &e.dealership else {
            panic!("expected unresolved, got {:?}", e.dealership)
        };
        assert!(reason.contains("call.metadata.dealership_id"), "{reason}");
    }

    #[test]
    fn outbound_calls_take_the_customer_from_to_number() {
        let e = run(r#"{"event":"call_ended","call":{"call_id":"c1","direction":"outbound","from_number":"+1000","to_number":"+2000"}}"#).unwrap();
        assert_eq!(e.customer_phone.as_deref(), Some("+2000"));
    }

    #[test]
    fn duration_falls_back_to_metadata_then_to_the_timestamps() {
        let e = run(
            r#"{"event":"call_ended","call":{"call_id":"c1","metadata":{"duration_sec":42.4}}}"#,
        )
        .unwrap();
        assert_eq!(e.duration_sec, Some(42));
        let e = run(r#"{"event":"call_ended","call":{"call_id":"c1","start_timestamp":1765983120000,"end_timestamp":1765983180000}}"#).unwrap();
        assert_eq!(e.duration_sec, Some(60));
    }

    #[test]
    fn native_contract_violations_name_the_field() {
        for (body, field) in [
            (json!({"event":"call_ended"}), "call"),
            (json!({"call":{"call_id":"c"}}), "event"),
            (json!({"event":"","call":{"call_id":"c"}}), "event"),
            (json!({"event":"call_ended","call":"c"}), "call"),
            (json!({"event":"call_ended","call":{}}), "call.call_id"),
            (
                json!({"event":"call_ended","data":{"call_id":5}}),
                "data.call_id",
            ),
            (
                json!({"event":"call_ended","call":{"call_id":"c","start_timestamp":"soon"}}),
                "call.start_timestamp",
            ),
            (
                json!({"event":"call_ended","call":{"call_id":"c","end_timestamp":-5}}),
                "call.end_timestamp",
            ),
            (
                json!({"event":"call_ended","call":{"call_id":"c","end_timestamp":9e18}}),
                "call.end_timestamp",
            ),
            (
                json!({"event":"call_ended","call":{"call_id":"c","duration_ms":1.5}}),
                "call.duration_ms",
            ),
            (
                json!({"event":"call_ended","call":{"call_id":"c","transcript_object":{}}}),
                "call.transcript_object",
            ),
            (
                json!({"event":"call_ended","call":{"call_id":"c","transcript_object":[{"role":"agent"},3]}}),
                "call.transcript_object[1]",
            ),
            (
                json!({"event":"call_ended","call":{"call_id":"c","metadata":"x"}}),
                "call.metadata",
            ),
        ] {
            assert_eq!(field_of(body.clone()), field, "{body}");
        }
    }

    #[test]
    fn an_unknown_event_type_is_stored_but_its_call_object_is_held_to_the_same_types() {
        let e = run(r#"{"event":"^","call":{"call_id":"c1","from_number":"+1"}}"#).unwrap();
        assert_eq!(e.event_type, "^");
        assert_eq!(e.rank, 2);
        // The schemathesis finding: a broken call object under an unknown type.
        for (call, field) in [
            (
                json!({"call_id":"c","call_analysis":"x"}),
                "call.call_analysis",
            ),
            (
                json!({"call_id":"c","from_number":false}),
                "call.from_number",
            ),
            (json!({"call_id":"c","to_number":1}), "call.to_number"),
            (
                json!({"call_id":"c","transcript_object":[{"role":7}]}),
                "call.transcript_object[0].role",
            ),
            (
                json!({"call_id":"c","duration_ms":MAX_DURATION_MS + 1}),
                "call.duration_ms",
            ),
        ] {
            for event in ["^", "call_ended", "call_analyzed", "transcript_updated"] {
                let body = json!({"event": event, "call": call});
                assert_eq!(field_of(body.clone()), field, "{body}");
            }
        }
    }

    #[test]
    fn unknown_fields_are_kept_in_the_raw_payload() {
        let body = r#"{"event":"call_ended","call":{"call_id":"c1","brand_new_field":{"x":1}},"extra":true}"#;
        let e = run(body).unwrap();
        assert_eq!(e.raw_payload["extra"], true);
        assert_eq!(e.raw_payload["call"]["brand_new_field"]["x"], 1);
    }

    #[test]
    fn nul_characters_are_replaced_in_values_and_keys() {
        let body = r#"{"event_id":"e","dealership_id":"d","call_id":"c","timestamp":"2025-12-17T14:32:00Z","transcript":"Agent: a\u0000b","metadata":{"k\u0000":"v"}}"#;
        let e = run(body).unwrap();
        assert!(e.nul_replaced);
        assert_eq!(e.transcript.as_deref(), Some("Agent: a\u{FFFD}b"));
        assert_eq!(e.raw_payload["metadata"]["k\u{FFFD}"], "v");
        assert!(!e.raw_payload.to_string().contains("\\u0000"));
    }

    #[test]
    fn blank_transcripts_count_as_absent() {
        let e = run(r#"{"event_id":"e","dealership_id":"d","call_id":"c","timestamp":"2025-12-17T14:32:00Z","transcript":"  \n"}"#).unwrap();
        assert_eq!(e.transcript, None);
        assert_eq!(e.transcript_sha256, None);
    }

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
