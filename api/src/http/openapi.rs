//! `GET /openapi.json`: an OpenAPI 3.0 description of the webhook, every answer it
//! can give, and the operational routes. Hand-written (the contract is small and
//! its prose matters); a schema-driven fuzzer can generate requests from it.

use std::sync::OnceLock;

use axum::Json;
use serde_json::{json, Value};

use crate::error::{CLIENT_ERROR_CODES, RETRY_AFTER_SECS};
use crate::normalize::{
    DEFAULT_NORMALIZED_EVENT_TYPE, MAX_DURATION_MS, MAX_EVENT_TYPE_CHARS, MAX_ID_CHARS,
};

/// What the server counts as blank: Rust's `char::is_whitespace`, which `str::trim`
/// removes (the Unicode White_Space set), as inclusive ranges.
const BLANK: [(char, char); 10] = [
    ('\u{9}', '\u{d}'),
    (' ', ' '),
    ('\u{85}', '\u{85}'),
    ('\u{a0}', '\u{a0}'),
    ('\u{1680}', '\u{1680}'),
    ('\u{2000}', '\u{200a}'),
    ('\u{2028}', '\u{2029}'),
    ('\u{202f}', '\u{202f}'),
    ('\u{205f}', '\u{205f}'),
    ('\u{3000}', '\u{3000}'),
];

/// Ids and event types must hold a non-blank character (the server refuses blank
/// ones): a character outside [`BLANK`]. Spelled out, because a regex `\S` differs
/// from Rust's whitespace (U+0085 is whitespace to Rust, not to ECMAScript; U+FEFF
/// the other way round), and schemathesis found the difference.
fn not_blank() -> String {
    let class: String = BLANK
        .iter()
        .map(|&(a, b)| {
            if a == b {
                format!("\\u{:04x}", a as u32)
            } else {
                format!("\\u{:04x}-\\u{:04x}", a as u32, b as u32)
            }
        })
        .collect();
    format!("[^{class}]")
}

pub async fn serve() -> Json<Value> {
    Json(document().clone())
}

fn error_response(
    description: &str,
    codes: &[&str],
    example_code: &str,
    example_message: &str,
) -> Value {
    json!({
        "description": description,
        "content": { "application/json": {
            "schema": {
                "allOf": [ { "$ref": "#/components/schemas/Error" } ],
                "properties": { "error": { "type": "string", "enum": codes } }
            },
            "example": { "error": example_code, "message": example_message }
        }}
    })
}

/// The document (built once).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

fn build() -> Value {
    let unauthorized: Vec<&str> = CLIENT_ERROR_CODES
        .iter()
        .copied()
        .filter(|c| c.ends_with("_signature") || c.contains("bearer"))
        .collect();
    let error_codes: Vec<&str> = CLIENT_ERROR_CODES
        .iter()
        .copied()
        .chain([
            "database_unavailable",
            "internal_error",
            "not_found",
            "method_not_allowed",
        ])
        .collect();

    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Call-quality monitor: webhook ingest",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Receives call events from Retell (native envelope) and from internal senders (normalized contract). Every event is verified, stored durably in one transaction and answered 200 only after commit. See docs/webhook.md."
        },
        "servers": [ { "url": "http://127.0.0.1:54380", "description": "local stack" } ],
        "paths": {
            "/webhooks/retell": {
                "post": {
                    "operationId": "receiveWebhook",
                    "summary": "Store one call event (idempotent).",
                    "description": "Authenticate with X-Retell-Signature: v=<unix ms>,d=<hex HMAC-SHA256(secret, raw body bytes ++ v digits)>, valid for 5 minutes either way. Optionally (WEBHOOK_ALLOW_BEARER=true) Authorization: Bearer <secret>. A redelivered event_id answers 200 duplicate and changes nothing.",
                    "security": [ { "retellSignature": [] }, { "bearerSecret": [] } ],
                    "parameters": [ {
                        "name": "X-Retell-Signature",
                        "in": "header",
                        "required": false,
                        "description": "v=<unix milliseconds>,d=<64 lowercase hex digits>. Required unless bearer mode is enabled and used.",
                        "schema": { "type": "string", "pattern": "^v=[0-9]+,d=[0-9a-f]{64}$" },
                        "example": "v=1763640000000,d=2c9d7e45b71264553a857b41481c15e4563fad79dd2fa696489bed53f285a587"
                    } ],
                    "requestBody": {
                        "required": true,
                        "content": { "application/json": {
                            // anyOf: a body with an event_id is held to the normalized
                            // contract alone, even if it also has `event` and `call`.
                            "schema": { "anyOf": [
                                { "$ref": "#/components/schemas/NormalizedEvent" },
                                { "$ref": "#/components/schemas/RetellEvent" }
                            ] },
                            "examples": {
                                "normalized": { "value": {
                                    "event_id": "evt_123", "dealership_id": "toyota-braintree", "call_id": "call_456",
                                    "timestamp": "2025-12-17T14:32:00Z", "transcript": "Agent: Hello\nUser: Hi",
                                    "customer": { "phone": "+15551234567", "name": "Optional" },
                                    "metadata": { "duration_sec": 420, "channel": "phone", "ai_engine": "retell" }
                                } },
                                "retell": { "value": {
                                    "event": "call_ended",
                                    "call": { "call_id": "call_a1b2c3", "agent_id": "agent_x", "call_status": "ended",
                                              "metadata": { "dealership_id": "ford-weymouth" } }
                                } }
                            }
                        } }
                    },
                    "responses": {
                        "200": {
                            "description": "Committed now (accepted) or already stored (duplicate).",
                            "content": { "application/json": {
                                "schema": { "$ref": "#/components/schemas/IngestResult" },
                                "examples": {
                                    "accepted": { "value": { "status": "accepted", "event_id": "evt_123" } },
                                    "duplicate": { "value": { "status": "duplicate", "event_id": "evt_123" } },
                                    "unresolved": { "value": {
                                        "status": "accepted",
                                        "event_id": "retell:call_ended:call_a1b2c3:9f2c0e6b1d3a4c5e",
                                        "warning": "dealership_unresolved: no call.metadata.dealership_id and agent \"agent_x\" is not mapped in AGENT_DEALERSHIPS; the event is stored and listed in processing_errors"
                                    } }
                                }
                            } }
                        },
                        "400": error_response("The body is not one UTF-8 JSON object.", &["body_unreadable", "invalid_utf8", "invalid_json", "not_an_object"], "invalid_json", "The body is not valid JSON (expected value at line 1 column 1). Send one JSON object."),
                        "401": error_response("Missing, malformed, stale, future or wrong signature (or bearer token).", &unauthorized, "stale_signature", "The signature timestamp is 412s old; signatures are valid for 300s. Sign each delivery (and each retry) with the current time, and check the sender's clock."),
                        "403": error_response("The secret that authenticated the request may write only to some dealerships (WEBHOOK_SECRETS secret:dealer-a|dealer-b), and this event is for another one or for none. Nothing was stored.", &["dealership_out_of_scope"], "dealership_out_of_scope", "The secret this request was authenticated with may write only to honda-quincy, toyota-braintree; this event is for \"ford-weymouth\". Nothing was stored. Send it with a secret allowed to write that dealership."),
                        "408": error_response("The body did not arrive within API_REQUEST_TIMEOUT_SECS (default 10 s). Nothing was stored.", &["request_timeout"], "request_timeout", "The request body did not arrive completely within 10 s (API_REQUEST_TIMEOUT_SECS). Nothing was stored; send the whole event again in one go."),
                        "413": error_response("The body is larger than WEBHOOK_MAX_BODY_BYTES (default 1 MiB).", &["payload_too_large"], "payload_too_large", "The body is larger than 1048576 bytes (WEBHOOK_MAX_BODY_BYTES). Send a smaller event, e.g. without word-level timings."),
                        "415": error_response("Content-Type is not application/json (charset, if any, utf-8).", &["unsupported_media_type"], "unsupported_media_type", "Send the body as JSON with Content-Type: application/json (charset, if given, must be utf-8); got Content-Type: text/plain."),
                        "422": {
                            "description": "A contract violation, or a time before 2020 or more than 24 hours after receipt (timestamp_out_of_range); `field` names the JSON path.",
                            "content": { "application/json": {
                                "schema": { "$ref": "#/components/schemas/ContractViolation" },
                                "examples": {
                                    "contract_violation": { "value": {
                                        "error": "contract_violation",
                                        "field": "timestamp",
                                        "message": "timestamp: expected an RFC 3339 date-time with an offset, e.g. 2025-12-17T14:32:00Z or 2025-12-17T09:32:00-05:00, got the string \"yesterday\". See docs/webhook.md for both accepted payload shapes."
                                    } },
                                    "timestamp_out_of_range": { "value": {
                                        "error": "timestamp_out_of_range",
                                        "field": "call.end_timestamp",
                                        "message": "call.end_timestamp: 9999-12-31T23:59:59Z is outside the accepted range 2020-01-01T00:00:00Z to 2026-01-03T03:04:05Z: an event must be dated from 2020 to at most 24 hours after it is received. Send the time the event happened (Retell's times in milliseconds) and check the sender's clock. Nothing was stored."
                                    } }
                                }
                            } }
                        },
                        "500": error_response("Unexpected server error; nothing was stored. Retry later.", &["internal_error"], "internal_error", "The event could not be stored because of an internal error; retry later."),
                        "503": {
                            "description": "The database is unavailable; nothing was stored. Retry after Retry-After seconds.",
                            "headers": { "Retry-After": { "schema": { "type": "integer", "example": RETRY_AFTER_SECS } } },
                            "content": { "application/json": {
                                "schema": { "$ref": "#/components/schemas/Error" },
                                "example": { "error": "database_unavailable", "message": format!("The event was not stored because the database is unavailable. Nothing was recorded; retry the same delivery after {RETRY_AFTER_SECS} seconds.") }
                            } }
                        }
                    }
                }
            },
            "/healthz": { "get": {
                "operationId": "healthz", "summary": "Liveness: the process answers.", "security": [],
                "responses": { "200": { "description": "Up.", "content": { "application/json": {
                    "schema": { "type": "object", "properties": { "status": { "type": "string", "enum": ["ok"] } } } } } } }
            } },
            "/readyz": { "get": {
                "operationId": "readyz", "summary": "Readiness: the database answers.", "security": [],
                "responses": {
                    "200": { "description": "Ready.", "content": { "application/json": {
                        "schema": { "type": "object", "properties": { "status": { "type": "string", "enum": ["ready"] } } } } } },
                    "503": error_response("The database is unreachable.", &["database_unavailable"], "database_unavailable", "The database is unavailable.")
                }
            } },
            "/metrics": { "get": {
                "operationId": "metrics", "summary": "Prometheus metrics (text exposition format 0.0.4).", "security": [],
                "responses": { "200": { "description": "Metrics.", "content": { "text/plain": { "schema": { "type": "string" } } } } }
            } },
            "/openapi.json": { "get": {
                "operationId": "openapi", "summary": "This document.", "security": [],
                "responses": { "200": { "description": "OpenAPI 3.0 document.", "content": { "application/json": { "schema": { "type": "object" } } } } }
            } }
        },
        "components": {
            "securitySchemes": {
                "retellSignature": {
                    "type": "apiKey", "in": "header", "name": "X-Retell-Signature",
                    "description": "v=<unix ms>,d=<hex HMAC-SHA256 keyed with a webhook secret over the raw body bytes followed by the v digits>."
                },
                "bearerSecret": {
                    "type": "http", "scheme": "bearer",
                    "description": "Authorization: Bearer <webhook secret>. Off unless WEBHOOK_ALLOW_BEARER=true."
                }
            },
            "schemas": {
                "NormalizedEvent": {
                    "type": "object",
                    "description": "Our contract. Unknown extra fields are accepted and kept in the stored raw payload.",
                    "required": ["event_id", "dealership_id", "call_id", "timestamp"],
                    "properties": {
                        "event_id": { "type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS, "pattern": not_blank(), "description": "Idempotency key chosen by the sender." },
                        "event_type": { "type": "string", "minLength": 1, "maxLength": MAX_EVENT_TYPE_CHARS, "pattern": not_blank(), "nullable": true, "default": DEFAULT_NORMALIZED_EVENT_TYPE, "description": "Absent or null means the default." },
                        "dealership_id": { "type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$", "description": "Dealership slug; unknown ones are registered automatically (marked not set up). A secret scoped to some dealerships may name only those (else 403)." },
                        "call_id": { "type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS, "pattern": not_blank() },
                        "timestamp": { "type": "string", "format": "date-time", "description": "RFC 3339 with any offset; from 2020-01-01T00:00:00Z to at most 24 hours after receipt (else 422 timestamp_out_of_range)." },
                        "transcript": { "type": "string", "nullable": true },
                        "customer": { "type": "object", "nullable": true, "properties": {
                            "phone": { "type": "string", "nullable": true },
                            "name": { "type": "string", "nullable": true }
                        } },
                        "metadata": { "type": "object", "nullable": true, "properties": {
                            "duration_sec": { "type": "number", "minimum": 0, "maximum": 2147483647.0, "nullable": true }
                        }, "additionalProperties": true }
                    },
                    "additionalProperties": true
                },
                "RetellEvent": {
                    "type": "object",
                    "description": "Retell's native envelope. `event_type` is accepted for `event`, and `data` for `call`. The idempotency key is derived: retell:<event>:<call_id>:<first 16 hex digits of sha256(raw body)>.",
                    "required": ["event", "call"],
                    "properties": {
                        "event": { "type": "string", "minLength": 1, "maxLength": MAX_EVENT_TYPE_CHARS, "pattern": not_blank(),
                                   "example": "call_ended",
                                   "description": "call_started, call_ended, call_analyzed, transcript_updated, transfer_started, transfer_bridged, transfer_cancelled, transfer_ended. Any other type is stored too (ranked as a mid-call update), and its call object is held to the same RetellCall schema as a known type's." },
                        "call": { "$ref": "#/components/schemas/RetellCall" }
                    },
                    "additionalProperties": true
                },
                "RetellCall": {
                    "type": "object",
                    "required": ["call_id"],
                    "properties": {
                        "call_id": { "type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS, "pattern": not_blank() },
                        "agent_id": { "type": "string", "nullable": true },
                        "agent_version": { "type": "integer", "format": "int32", "minimum": 0, "maximum": 2147483647, "nullable": true, "description": "The version of agent_id that took the call; stored on the call (calls.agent_version) for the dashboard's filter and version comparison." },
                        "call_status": { "type": "string", "nullable": true, "example": "ended" },
                        "direction": { "type": "string", "nullable": true, "description": "inbound: the customer is from_number; outbound: the customer is to_number." },
                        "from_number": { "type": "string", "nullable": true },
                        "to_number": { "type": "string", "nullable": true },
                        "start_timestamp": { "type": "integer", "format": "int64", "minimum": 1577836800000_i64, "maximum": 253402300799999_i64, "nullable": true, "description": "Unix ms; from 2020 to at most 24 hours after receipt (else 422 timestamp_out_of_range)." },
                        "end_timestamp": { "type": "integer", "format": "int64", "minimum": 1577836800000_i64, "maximum": 253402300799999_i64, "nullable": true, "description": "Unix ms; from 2020 to at most 24 hours after receipt (else 422 timestamp_out_of_range)." },
                        "duration_ms": { "type": "integer", "format": "int64", "minimum": 0, "maximum": MAX_DURATION_MS, "nullable": true },
                        "transcript": { "type": "string", "nullable": true },
                        "transcript_object": { "type": "array", "nullable": true, "items": { "type": "object", "properties": {
                            "role": { "type": "string", "nullable": true }, "content": { "type": "string", "nullable": true } }, "additionalProperties": true } },
                        "disconnection_reason": { "type": "string", "nullable": true },
                        "metadata": { "type": "object", "nullable": true, "properties": {
                            "dealership_id": { "description": "A dealership slug (any other value, or none, leaves the event stored without a dealership: dealership_unresolved). Used only when AGENT_DEALERSHIPS does not map agent_id; one that disagrees with the mapping leaves the event unresolved (dealership_conflict)." },
                            "duration_sec": { "type": "number", "minimum": 0, "maximum": 2147483647.0, "nullable": true, "description": "Used when duration_ms is absent; checked either way." }
                        }, "additionalProperties": true },
                        "call_analysis": { "type": "object", "nullable": true, "additionalProperties": true, "description": "Retell's own analysis; stored only from call_analyzed, but held to this type in every event." }
                    },
                    "additionalProperties": true
                },
                "IngestResult": {
                    "type": "object",
                    "required": ["status", "event_id"],
                    "properties": {
                        "status": { "type": "string", "enum": ["accepted", "duplicate"] },
                        "event_id": { "type": "string" },
                        "warning": { "type": "string", "description": "Present when the event was stored without a dealership." }
                    }
                },
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": { "type": "string", "enum": error_codes },
                        "message": { "type": "string", "description": "What went wrong and how to fix it." }
                    }
                },
                "ContractViolation": {
                    "type": "object",
                    "required": ["error", "message", "field"],
                    "properties": {
                        "error": { "type": "string", "enum": ["contract_violation", "timestamp_out_of_range"] },
                        "message": { "type": "string" },
                        "field": { "type": "string", "description": "JSON path of the offending field, e.g. customer.phone." }
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schemas_blank_is_exactly_what_the_server_trims() {
        let in_blank = |c: char| BLANK.iter().any(|&(a, b)| (a..=b).contains(&c));
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(in_blank(c), c.is_whitespace(), "U+{:04X}", c as u32);
        }
        assert_eq!(
            not_blank(),
            "[^\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028-\\u2029\\u202f\\u205f\\u3000]"
        );
    }
}
