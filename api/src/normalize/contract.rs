//! Our normalized contract: `event_id`, `dealership_id`, `call_id`, `timestamp`,
//! optional `event_type`, `transcript`, `customer` and `metadata`. The sender
//! chooses the idempotency key and names the dealership.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::{check_time_range, NormalizeError};
use super::event::{is_valid_dealership_slug, Dealership, Event, Source};
use super::fields::{checked_event_type, Fields};
use super::sanitize::sha256_hex;

/// Event type stored for normalized events that do not name one.
pub const DEFAULT_NORMALIZED_EVENT_TYPE: &str = "call_completed";
/// Lifecycle rank of normalized events (a completed call, like `call_ended`).
pub const NORMALIZED_RANK: i16 = 3;

pub(super) fn normalize_contract(
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
        agent_version: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::sanitize::sha256_hex;
    use crate::normalize::test_support::*;
    use serde_json::json;

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
    fn blank_transcripts_count_as_absent() {
        let e = run(r#"{"event_id":"e","dealership_id":"d","call_id":"c","timestamp":"2025-12-17T14:32:00Z","transcript":"  \n"}"#).unwrap();
        assert_eq!(e.transcript, None);
        assert_eq!(e.transcript_sha256, None);
    }
}
