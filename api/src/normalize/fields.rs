//! Typed access to the fields of a JSON object, with errors that name the full
//! JSON path and say what was expected and found.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use super::error::ContractError;

/// Longest accepted `event_id` / `call_id`: both are indexed, and btree index
/// entries have a size limit, so an absurd id must be a 422, not a database error.
pub const MAX_ID_CHARS: usize = 255;
/// Longest accepted event type name.
pub const MAX_EVENT_TYPE_CHARS: usize = 64;
/// Latest instant accepted as an epoch-milliseconds timestamp (9999-12-31T23:59:59.999Z);
/// keeps every time inside what both chrono and Postgres can represent.
const MAX_EPOCH_MS: i64 = 253_402_300_799_999;
/// Longest accepted `duration_ms`: what `calls.duration_sec` (an `int`) holds.
pub const MAX_DURATION_MS: i64 = i32::MAX as i64 * 1000;

pub(super) fn checked_event_type(
    body: &Fields<'_>,
    key: &str,
    t: &str,
) -> Result<String, ContractError> {
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
pub(super) struct Fields<'a> {
    pub(super) map: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Fields<'a> {
    pub(super) fn root(map: &'a Map<String, Value>) -> Self {
        Fields {
            map,
            prefix: String::new(),
        }
    }

    pub(super) fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    pub(super) fn error(&self, key: &str, expected: &str, got: Option<&Value>) -> ContractError {
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
    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(super) fn optional_str(&self, key: &str) -> Result<Option<&'a str>, ContractError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.error(key, "a string", Some(other))),
        }
    }

    /// A required, non-blank string; `expected` describes it in the error.
    pub(super) fn required_str(&self, key: &str, expected: &str) -> Result<&'a str, ContractError> {
        match self.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
            other => Err(self.error(key, expected, other)),
        }
    }

    pub(super) fn required_id(&self, key: &str) -> Result<&'a str, ContractError> {
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

    pub(super) fn optional_object(&self, key: &str) -> Result<Option<Fields<'a>>, ContractError> {
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
    pub(super) fn optional_transcript(&self, key: &str) -> Result<Option<String>, ContractError> {
        Ok(self
            .optional_str(key)?
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned))
    }

    pub(super) fn optional_epoch_ms(
        &self,
        key: &str,
    ) -> Result<Option<DateTime<Utc>>, ContractError> {
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

    pub(super) fn optional_duration_ms(&self, key: &str) -> Result<Option<i32>, ContractError> {
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

    /// A non-negative whole number that fits an `int` (Retell's `agent_version`).
    pub(super) fn optional_version(&self, key: &str) -> Result<Option<i32>, ContractError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        v.as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| {
                self.error(
                    key,
                    &format!("a whole number from 0 to {} (e.g. 3)", i32::MAX),
                    Some(v),
                )
            })
    }

    pub(super) fn optional_seconds(&self, key: &str) -> Result<Option<i32>, ContractError> {
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
    pub(super) fn optional_turns(&self, key: &str) -> Result<Option<Value>, ContractError> {
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
pub(super) fn describe(v: &Value) -> String {
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
