//! What must hold of the webhook's decoding and authentication for *any* input:
//! the properties the coverage-guided fuzzers (`fuzz/fuzz_targets/`) check on
//! every execution, and the corpus replay tests check on every `cargo test`.
//! Each returns `Err` with a sentence naming the broken property.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::decode::decode;
use crate::error::ApiError;
use crate::normalize::{
    is_valid_dealership_slug, Event, Source, EARLIEST_EVENT_MS, MAX_EVENT_TYPE_CHARS, MAX_FUTURE,
    MAX_ID_CHARS,
};

/// The largest key a Postgres btree index entry holds (a third of a page, less
/// overhead): `events.event_id` is unique, so every id must fit.
const MAX_INDEX_ENTRY_BYTES: usize = 2_700;
use crate::settings::WebhookSecrets;
use crate::signature::{sign, verify, AuthError, TOLERANCE_MS};

/// Decodes `body` and checks the answer: a refusal is a 4xx with a code; an
/// accepted event is within every bound the database relies on; and decoding is
/// deterministic.
pub fn decoded(body: &[u8], received_at: DateTime<Utc>) -> Result<(), String> {
    let agents = [("agent_fuzz".to_string(), "fuzz-motors".to_string())]
        .into_iter()
        .collect();
    let first = decode(body, received_at, &agents);
    let second = decode(body, received_at, &agents);
    match (&first, &second) {
        (Ok(a), Ok(b)) if a == b => {}
        (Err(a), Err(b)) if a.code() == b.code() => {}
        _ => return Err("decoding the same bytes twice gave different answers".into()),
    }
    match first {
        Ok(event) => accepted_event(&event, received_at),
        Err(e) => refusal(&e),
    }
}

fn refusal(e: &ApiError) -> Result<(), String> {
    let status = e.status_code();
    if !status.is_client_error() {
        return Err(format!("a bad body got {status} ({})", e.code()));
    }
    if e.code().is_empty() || e.message().is_empty() {
        return Err(format!("the {status} answer has no code or message"));
    }
    Ok(())
}

fn accepted_event(e: &Event, received_at: DateTime<Utc>) -> Result<(), String> {
    if e.call_id.trim().is_empty() || e.call_id.chars().count() > MAX_ID_CHARS {
        return Err(format!("call_id {:?} is blank or too long", e.call_id));
    }
    // A normalized event's id is the sender's, held to the same bound; a Retell
    // event's is built from its type, call id and body hash, so it may be longer,
    // but it must always fit a unique-index entry.
    let id_limit = match e.source {
        Source::Normalized => MAX_ID_CHARS,
        Source::Retell => "retell:".len() + MAX_EVENT_TYPE_CHARS + 1 + MAX_ID_CHARS + 1 + 16,
    };
    if e.event_id.trim().is_empty()
        || e.event_id.chars().count() > id_limit
        || e.event_id.len() > MAX_INDEX_ENTRY_BYTES
    {
        return Err(format!("event_id {:?} is blank or too long", e.event_id));
    }
    if e.event_type.trim().is_empty() || e.event_type.chars().count() > MAX_EVENT_TYPE_CHARS {
        return Err(format!(
            "event type {:?} is blank or too long",
            e.event_type
        ));
    }
    let earliest = DateTime::<Utc>::from_timestamp_millis(EARLIEST_EVENT_MS).expect("a valid time");
    if e.occurred_at < earliest || e.occurred_at > received_at + MAX_FUTURE {
        return Err(format!("occurred_at {} is out of bounds", e.occurred_at));
    }
    if !(1..=4).contains(&e.rank) {
        return Err(format!("rank {} is not 1 to 4", e.rank));
    }
    if let Some(d) = e.dealership.id() {
        if !is_valid_dealership_slug(d) {
            return Err(format!("dealership {d:?} is not a valid slug"));
        }
    }
    if e.duration_sec.is_some_and(|d| d < 0) {
        return Err("a negative duration".into());
    }
    // calls.agent_version is an int the schema bounds at 0.
    if e.agent_version.is_some_and(|v| v < 0) {
        return Err("a negative agent version".into());
    }
    match (&e.transcript, &e.transcript_sha256) {
        (None, None) => {}
        (Some(t), Some(sha)) if !t.trim().is_empty() => {
            if *sha != hex::encode(Sha256::digest(t.as_bytes())) {
                return Err("transcript_sha256 is not the transcript's hash".into());
            }
        }
        _ => return Err("a blank transcript, or a hash without its transcript".into()),
    }
    if !e.raw_payload.is_object() {
        return Err("the stored payload is not an object".into());
    }
    // Postgres text and jsonb cannot hold NUL: every string must be free of it.
    if has_nul(&e.raw_payload) {
        return Err("a NUL character survived normalization".into());
    }
    Ok(())
}

fn has_nul(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Arbitrary header bytes over a body: never a panic, and never accepted (a
/// fuzzer cannot forge an HMAC; acceptance would mean the parser let something
/// through without one).
pub fn forged_header(header: &[u8], body: &[u8], now_ms: i64) -> Result<(), String> {
    let secrets = WebhookSecrets::new(vec!["key_fuzz_0123456789".to_string().into()]);
    match verify(Some(header), body, now_ms, &secrets) {
        Ok(_) => Err(format!(
            "the header {:?} was accepted without a valid HMAC",
            String::from_utf8_lossy(header)
        )),
        Err(_) => Ok(()),
    }
}

/// A genuine signature of `body` by one of two rotated secrets, made `skew_ms`
/// before now: accepted (with that secret's index) exactly when the skew is
/// within the tolerance; the same header over the body with one byte changed is
/// refused as not matching.
pub fn genuine_header(
    body: &[u8],
    skew_ms: i64,
    which: usize,
    flip_at: usize,
) -> Result<(), String> {
    let keys = ["key_fuzz_old_0123456789", "key_fuzz_new_9876543210"];
    let which = which % keys.len();
    let secrets = WebhookSecrets::new(keys.iter().map(|k| k.to_string().into()).collect());
    let now_ms: i64 = 1_800_000_000_000;
    let ts = now_ms.saturating_sub(skew_ms).max(0);
    let header = sign(body, ts, keys[which]);
    let result = verify(Some(header.as_bytes()), body, now_ms, &secrets);
    let skew = now_ms - ts;
    match (&result, skew.abs() <= TOLERANCE_MS) {
        (Ok(index), true) if *index == which => {}
        (Err(AuthError::Stale { .. }), false) if skew > 0 => {}
        (Err(AuthError::Future { .. }), false) if skew < 0 => {}
        _ => return Err(format!("a genuine header {skew} ms old got {result:?}")),
    }
    if !body.is_empty() && skew.abs() <= TOLERANCE_MS {
        let mut tampered = body.to_vec();
        let at = flip_at % tampered.len();
        tampered[at] ^= 0x01;
        let result = verify(Some(header.as_bytes()), &tampered, now_ms, &secrets);
        if result != Err(AuthError::Invalid) {
            return Err(format!("a tampered body got {result:?}"));
        }
    }
    Ok(())
}

/// The receive time the fuzzers and the corpus replay use.
pub fn fuzz_received_at() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(1_800_000_000_000).expect("a valid time")
}

/// One input of the signature fuzzer: the first byte picks the property, the
/// rest is split into its arguments, so every byte string is a valid case.
pub fn signature_case(data: &[u8]) -> Result<(), String> {
    let Some((&mode, rest)) = data.split_first() else {
        return Ok(());
    };
    if mode % 2 == 0 {
        // A header, then the body after the first newline.
        let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let (header, body) = rest.split_at(split);
        forged_header(header, body, 1_800_000_000_000)
    } else {
        let mut head = [0u8; 10];
        let n = rest.len().min(head.len());
        head[..n].copy_from_slice(&rest[..n]);
        // About ±655 s around now: either side of the 300 s tolerance.
        let skew = i64::from(i16::from_le_bytes([head[0], head[1]])) * 20;
        genuine_header(
            &rest[n..],
            skew,
            usize::from(head[4]),
            usize::from(u16::from_le_bytes([head[5], head[6]])),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_invariant_rejects_what_it_names() {
        // A well-formed forged header is refused, so the invariant holds...
        let forged = format!("v=1800000000000,d={}", "ab".repeat(32));
        assert!(forged_header(forged.as_bytes(), b"{}", 1_800_000_000_000).is_ok());
        // ...and a genuine one would break it: the check can fail.
        let genuine = sign(b"{}", 1_800_000_000_000, "key_fuzz_0123456789");
        assert!(forged_header(genuine.as_bytes(), b"{}", 1_800_000_000_000).is_err());
        assert!(genuine_header(b"{\"a\":1}", 1_000, 1, 3).is_ok());
        assert!(genuine_header(b"{\"a\":1}", TOLERANCE_MS + 1, 0, 0).is_ok());
        assert!(genuine_header(b"{\"a\":1}", -TOLERANCE_MS - 1, 0, 0).is_ok());
    }

    #[test]
    fn an_accepted_event_with_a_negative_agent_version_breaks_the_invariant() {
        let received = fuzz_received_at();
        let body = br#"{"event":"call_ended","call":{"call_id":"c1","agent_version":4}}"#;
        let agents = std::collections::HashMap::new();
        let mut event = decode(body, received, &agents).expect("an accepted event");
        assert!(accepted_event(&event, received).is_ok());
        event.agent_version = Some(-1);
        assert!(accepted_event(&event, received).is_err());
    }

    #[test]
    fn a_refusal_that_is_not_a_client_error_breaks_the_invariant() {
        assert!(refusal(&ApiError::InvalidJson("x".into())).is_ok());
        let unavailable = ApiError::from_db(sqlx::Error::PoolTimedOut);
        assert!(refusal(&unavailable).is_err());
    }
}
