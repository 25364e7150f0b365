//! Turns a verified, parsed webhook body into one [`Event`], whichever of the two
//! accepted shapes it has:
//!
//! - the **normalized contract** (`event_id`, `dealership_id`, `call_id`,
//!   `timestamp`, optional `transcript`, `customer`, `metadata`, `event_type`);
//! - **Retell's native envelope** (`event`/`event_type` + `call`/`data`), whose
//!   idempotency key, time and dealership are derived here.
//!
//! Pure and synchronous: no clock, no database, so every rule is unit-tested beside it.
//! Fields we do not interpret are not rejected; they stay in `raw_payload`.
//!
//! - [`contract`]: the normalized contract;
//! - [`retell`]: Retell's native envelope;
//! - [`fields`]: typed field access with errors that name the JSON path;
//! - [`sanitize`]: NUL replacement and hashes;
//! - [`event`] and [`error`]: what comes out.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

mod contract;
mod error;
mod event;
mod fields;
mod retell;
mod sanitize;

pub use contract::{DEFAULT_NORMALIZED_EVENT_TYPE, NORMALIZED_RANK};
pub use error::{
    ContractError, NormalizeError, TimestampOutOfRange, EARLIEST_EVENT_MS, MAX_FUTURE,
};
pub use event::{is_valid_dealership_slug, Dealership, Event, Source};
pub use fields::{MAX_DURATION_MS, MAX_EVENT_TYPE_CHARS, MAX_ID_CHARS};
pub use retell::retell_rank;
pub use sanitize::{replace_nul, sha256_hex};

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
        retell::normalize_native(raw_body, map, received_at, agent_dealerships)?
    } else {
        contract::normalize_contract(map, received_at)?
    };
    event.raw_payload = payload;
    event.nul_replaced = nul_replaced;
    Ok(event)
}

/// Fixtures and shortcuts shared by the unit tests of each shape.
#[cfg(test)]
mod test_support {
    pub use super::*;
    pub use chrono::TimeZone;

    pub const STARTED: &str = include_str!("../../tests/fixtures/retell-call-started.json");
    pub const ENDED: &str = include_str!("../../tests/fixtures/retell-call-ended.json");
    pub const ANALYZED: &str = include_str!("../../tests/fixtures/retell-call-analyzed.json");
    pub const GOOD: &str = include_str!("../../tests/fixtures/normalized-good.json");

    pub fn received() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
    }

    pub fn run_with(body: &str, agents: &HashMap<String, String>) -> Result<Event, NormalizeError> {
        let Value::Object(map) = serde_json::from_str(body).unwrap() else {
            panic!("test body is not an object")
        };
        normalize(body.as_bytes(), map, received(), agents)
    }

    pub fn run(body: &str) -> Result<Event, NormalizeError> {
        run_with(body, &HashMap::new())
    }

    pub fn field_of(body: Value) -> String {
        match run(&body.to_string()).expect_err("should violate the contract") {
            NormalizeError::Contract(e) => e.field,
            other => panic!("expected a contract violation, got {other:?}"),
        }
    }

    pub fn out_of_range(body: &str) -> TimestampOutOfRange {
        match run(body).expect_err("should be out of range") {
            NormalizeError::TimestampOutOfRange(e) => e,
            other => panic!("expected timestamp_out_of_range, got {other:?}"),
        }
    }

    pub fn ms(t: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(t).unwrap()
    }
}
