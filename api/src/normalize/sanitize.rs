//! What is done to every body before it is read: NUL characters, which Postgres
//! cannot store, are replaced; and the hashes that identify bodies and transcripts.

use serde_json::Value;
use sha2::{Digest, Sha256};

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

pub(super) fn sha256_hex_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use crate::normalize::test_support::*;

    #[test]
    fn nul_characters_are_replaced_in_values_and_keys() {
        let body = r#"{"event_id":"e","dealership_id":"d","call_id":"c","timestamp":"2025-12-17T14:32:00Z","transcript":"Agent: a\u0000b","metadata":{"k\u0000":"v"}}"#;
        let e = run(body).unwrap();
        assert!(e.nul_replaced);
        assert_eq!(e.transcript.as_deref(), Some("Agent: a\u{FFFD}b"));
        assert_eq!(e.raw_payload["metadata"]["k\u{FFFD}"], "v");
        assert!(!e.raw_payload.to_string().contains("\\u0000"));
    }
}
