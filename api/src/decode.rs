//! An authenticated delivery's bytes to a normalized [`Event`]: UTF-8, one JSON
//! object, then [`normalize`]. The webhook handler and the fuzzers
//! (`fuzz/fuzz_targets/body.rs`) call this same function, and
//! [`crate::invariants::decoded`] says what must hold of its answer.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::ApiError;
use crate::normalize::{normalize, Event};

/// Decodes `body`, received at `received_at`; `agent_dealerships` is
/// `AGENT_DEALERSHIPS`.
pub fn decode(
    body: &[u8],
    received_at: DateTime<Utc>,
    agent_dealerships: &HashMap<String, String>,
) -> Result<Event, ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| ApiError::InvalidUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    let payload = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        Ok(other) => return Err(ApiError::NotAnObject(json_kind(&other))),
        Err(e) => return Err(ApiError::InvalidJson(e.to_string())),
    };
    Ok(normalize(body, payload, received_at, agent_dealerships)?)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
