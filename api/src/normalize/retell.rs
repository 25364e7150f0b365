//! Retell's native envelope (`event`/`event_type` + `call`/`data`): the event type
//! and call object are read here, and the idempotency key, the event's time and
//! its dealership are derived.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::{check_time_range, NormalizeError};
use super::event::{is_valid_dealership_slug, Dealership, Event, Source};
use super::fields::{checked_event_type, describe, Fields};
use super::sanitize::{sha256_hex, sha256_hex_bytes};

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

pub(super) fn normalize_native(
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
    let agent_version = call.optional_version("agent_version")?;
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

    // Both are checked, even when duration_ms makes metadata's unnecessary: a
    // field the schema describes is never accepted out of its range.
    let metadata_duration = match &metadata {
        Some(m) => m.optional_seconds("duration_sec")?,
        None => None,
    };
    let duration_sec = call
        .optional_duration_ms("duration_ms")?
        .or(metadata_duration)
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
        agent_version,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::sanitize::sha256_hex;
    use crate::normalize::test_support::*;
    use crate::normalize::MAX_DURATION_MS;
    use serde_json::{json, Value};
    use std::collections::HashMap;

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
        assert_eq!(e.agent_version, Some(3));
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
            (
                json!({"event":"call_ended","call":{"call_id":"c","agent_version":"7"}}),
                "call.agent_version",
            ),
            (
                json!({"event":"call_ended","call":{"call_id":"c","agent_version":-1}}),
                "call.agent_version",
            ),
            (
                json!({"event":"call_ended","call":{"call_id":"c","agent_version":2.5}}),
                "call.agent_version",
            ),
            (
                json!({"event":"call_ended","data":{"call_id":"c","agent_version":2_147_483_648_i64}}),
                "data.agent_version",
            ),
            // Checked even when duration_ms makes it unnecessary (found by schemathesis).
            (
                json!({"event":"call_ended","call":{"call_id":"c","duration_ms":0,"metadata":{"duration_sec":3e9}}}),
                "call.metadata.duration_sec",
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
    fn the_agent_version_is_read_from_either_spelling_and_absent_or_null_is_none() {
        let version = |body: &str| run(body).unwrap().agent_version;
        assert_eq!(
            version(r#"{"event":"call_started","data":{"call_id":"c1","agent_version":0}}"#),
            Some(0)
        );
        assert_eq!(
            version(r#"{"event":"call_ended","call":{"call_id":"c1","agent_version":2147483647}}"#),
            Some(i32::MAX)
        );
        assert_eq!(
            version(r#"{"event":"call_ended","call":{"call_id":"c1","agent_version":null}}"#),
            None
        );
        assert_eq!(
            version(r#"{"event":"call_ended","call":{"call_id":"c1"}}"#),
            None
        );
    }

    #[test]
    fn unknown_fields_are_kept_in_the_raw_payload() {
        let body = r#"{"event":"call_ended","call":{"call_id":"c1","brand_new_field":{"x":1}},"extra":true}"#;
        let e = run(body).unwrap();
        assert_eq!(e.raw_payload["extra"], true);
        assert_eq!(e.raw_payload["call"]["brand_new_field"]["x"], 1);
    }
}
