//! The service's one error type and its HTTP mapping.
//!
//! Every error answer is `{"error": "<code>", "message": "<what and how to fix>"}`
//! (422 adds `field`). Codes are stable: senders and dashboards may match on them.
//! Internal details (SQL errors, hostnames) are logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::normalize::{ContractError, NormalizeError, TimestampOutOfRange};
use crate::signature::AuthError;

/// Seconds a sender should wait before retrying after a 503.
pub const RETRY_AFTER_SECS: u32 = 5;

/// Every client-error code the webhook can answer with (metrics pre-register
/// them, the OpenAPI document lists them).
pub const CLIENT_ERROR_CODES: &[&str] = &[
    "missing_signature",
    "malformed_signature",
    "stale_signature",
    "future_signature",
    "invalid_signature",
    "invalid_bearer_token",
    "bearer_not_allowed",
    "unsupported_media_type",
    "payload_too_large",
    "body_unreadable",
    "request_timeout",
    "invalid_utf8",
    "invalid_json",
    "not_an_object",
    "contract_violation",
    "timestamp_out_of_range",
    "dealership_out_of_scope",
];

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unsupported content type ({0})")]
    UnsupportedMediaType(String),
    #[error("body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("request body could not be read")]
    BodyUnreadable,
    /// The body did not arrive completely within `API_REQUEST_TIMEOUT_SECS`.
    #[error("request body not received within {secs} s")]
    RequestTimeout { secs: u64 },
    #[error(transparent)]
    Unauthorized(#[from] AuthError),
    #[error("body is not valid UTF-8 (first bad byte at offset {valid_up_to})")]
    InvalidUtf8 { valid_up_to: usize },
    #[error("body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("body is {0}, not a JSON object")]
    NotAnObject(&'static str),
    #[error(transparent)]
    Contract(#[from] ContractError),
    #[error(transparent)]
    TimestampOutOfRange(#[from] TimestampOutOfRange),
    /// The secret that authenticated the request is scoped to other dealerships
    /// (or the event resolves to none). Nothing is stored.
    #[error("dealership {dealership:?} is outside the secret's scope")]
    OutOfScope {
        /// The event's dealership; `None` when it resolves to none.
        dealership: Option<String>,
        /// Why it resolves to none (the unresolved reason), when it does.
        unresolved: Option<String>,
        /// The dealerships the secret may write.
        allowed: Vec<String>,
    },
    #[error("database unavailable")]
    DatabaseUnavailable(#[source] sqlx::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
    #[error("no such route")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
}

impl ApiError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::BodyUnreadable
            | ApiError::InvalidUtf8 { .. }
            | ApiError::InvalidJson(_)
            | ApiError::NotAnObject(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::OutOfScope { .. } => StatusCode::FORBIDDEN,
            ApiError::Contract(_) | ApiError::TimestampOutOfRange(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::BodyUnreadable => "body_unreadable",
            ApiError::RequestTimeout { .. } => "request_timeout",
            ApiError::Unauthorized(e) => e.code(),
            ApiError::InvalidUtf8 { .. } => "invalid_utf8",
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::NotAnObject(_) => "not_an_object",
            ApiError::Contract(_) => "contract_violation",
            ApiError::TimestampOutOfRange(_) => "timestamp_out_of_range",
            ApiError::OutOfScope { .. } => "dealership_out_of_scope",
            ApiError::DatabaseUnavailable(_) => "database_unavailable",
            ApiError::Internal(_) => "internal_error",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
        }
    }

    /// What went wrong and how to fix it, safe to show the sender.
    pub fn message(&self) -> String {
        match self {
            ApiError::UnsupportedMediaType(found) => format!(
                "Send the body as JSON with Content-Type: application/json (charset, if given, must be utf-8); got {found}."
            ),
            ApiError::PayloadTooLarge { limit } => format!(
                "The body is larger than {limit} bytes (WEBHOOK_MAX_BODY_BYTES). Send a smaller event, e.g. without word-level timings."
            ),
            ApiError::BodyUnreadable => {
                "The request body could not be read completely; resend the event.".into()
            }
            ApiError::RequestTimeout { secs } => format!(
                "The request body did not arrive completely within {secs} s (API_REQUEST_TIMEOUT_SECS). Nothing was stored; send the whole event again in one go."
            ),
            ApiError::Unauthorized(e) => e.message(),
            ApiError::InvalidUtf8 { valid_up_to } => format!(
                "The body must be UTF-8 encoded JSON; the bytes at offset {valid_up_to} are not valid UTF-8."
            ),
            ApiError::InvalidJson(detail) => {
                format!("The body is not valid JSON ({detail}). Send one JSON object.")
            }
            ApiError::NotAnObject(kind) => format!(
                "The body is {kind}; send one JSON object (the normalized contract or Retell's {{\"event\", \"call\"}} envelope)."
            ),
            ApiError::Contract(e) => format!(
                "{e}. See docs/webhook.md for both accepted payload shapes."
            ),
            ApiError::TimestampOutOfRange(e) => format!(
                "{e}: an event must be dated from 2020 to at most 24 hours after it is received. Send the time the event happened (Retell's times in milliseconds) and check the sender's clock. Nothing was stored."
            ),
            ApiError::OutOfScope {
                dealership,
                unresolved,
                allowed,
            } => {
                let allowed = allowed.join(", ");
                match (dealership, unresolved) {
                    (Some(d), _) => format!(
                        "The secret this request was authenticated with may write only to {allowed}; this event is for {d:?}. Nothing was stored. Send it with a secret allowed to write that dealership."
                    ),
                    (None, reason) => format!(
                        "The secret this request was authenticated with may write only to {allowed}; this event resolves to no dealership ({}). Nothing was stored. Name one of those dealerships in the event.",
                        reason.as_deref().unwrap_or("none given")
                    ),
                }
            }
            ApiError::DatabaseUnavailable(_) => format!(
                "The event was not stored because the database is unavailable. Nothing was recorded; retry the same delivery after {RETRY_AFTER_SECS} seconds."
            ),
            ApiError::Internal(_) => {
                "The event could not be stored because of an internal error; retry later.".into()
            }
            ApiError::NotFound => {
                "No such route. Webhooks go to POST /webhooks/retell; see GET /openapi.json.".into()
            }
            ApiError::MethodNotAllowed => {
                "This route does not accept this method; see GET /openapi.json.".into()
            }
        }
    }

    /// Classifies a database error: connectivity and transient conflicts become
    /// 503 (the sender retries and nothing is lost); anything else is a bug, 500.
    pub fn from_db(error: sqlx::Error) -> Self {
        if is_transient(&error) {
            ApiError::DatabaseUnavailable(error)
        } else {
            ApiError::Internal(anyhow::Error::new(error).context("Failed to store the event"))
        }
    }
}

impl From<NormalizeError> for ApiError {
    fn from(e: NormalizeError) -> Self {
        match e {
            NormalizeError::Contract(e) => ApiError::Contract(e),
            NormalizeError::TimestampOutOfRange(e) => ApiError::TimestampOutOfRange(e),
        }
    }
}

fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 57P0x: shutdown/cannot connect now;
            // 53: insufficient resources; 40001/40P01: serialization/deadlock.
            code.starts_with("08")
                || code.starts_with("57P0")
                || code.starts_with("53")
                || code == "40001"
                || code == "40P01"
        }),
        _ => false,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::DatabaseUnavailable(e) => {
                tracing::error!(error = %e, "database unavailable; answered 503")
            }
            ApiError::Internal(e) => tracing::error!(error = ?e, "internal error; answered 500"),
            _ => {}
        }
        let mut body = json!({ "error": self.code(), "message": self.message() });
        match &self {
            ApiError::Contract(e) => body["field"] = json!(e.field),
            ApiError::TimestampOutOfRange(e) => body["field"] = json!(e.field),
            _ => {}
        }
        let mut response = (self.status_code(), Json(body)).into_response();
        if matches!(self, ApiError::DatabaseUnavailable(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_errors() -> Vec<ApiError> {
        vec![
            ApiError::UnsupportedMediaType("text/plain".into()),
            ApiError::PayloadTooLarge { limit: 1 },
            ApiError::BodyUnreadable,
            ApiError::RequestTimeout { secs: 10 },
            ApiError::Unauthorized(AuthError::Missing),
            ApiError::Unauthorized(AuthError::Malformed("x")),
            ApiError::Unauthorized(AuthError::Stale { age_ms: 1 }),
            ApiError::Unauthorized(AuthError::Future { ahead_ms: 1 }),
            ApiError::Unauthorized(AuthError::Invalid),
            ApiError::Unauthorized(AuthError::InvalidBearer),
            ApiError::Unauthorized(AuthError::BearerNotAllowed),
            ApiError::InvalidUtf8 { valid_up_to: 0 },
            ApiError::InvalidJson("x".into()),
            ApiError::NotAnObject("an array"),
            ApiError::Contract(ContractError {
                field: "f".into(),
                expected: "x".into(),
                got: String::new(),
            }),
            ApiError::TimestampOutOfRange(TimestampOutOfRange {
                field: "timestamp".into(),
                value: "9999-12-31T23:59:59Z".into(),
                earliest: "2020-01-01T00:00:00Z".into(),
                latest: "2026-01-03T03:04:05Z".into(),
            }),
            ApiError::OutOfScope {
                dealership: Some("ford-weymouth".into()),
                unresolved: None,
                allowed: vec!["toyota-braintree".into()],
            },
        ]
    }

    #[test]
    fn every_webhook_client_error_code_is_listed() {
        let listed: std::collections::HashSet<_> = CLIENT_ERROR_CODES.iter().copied().collect();
        for e in client_errors() {
            assert!(e.status_code().is_client_error(), "{e:?}");
            assert!(listed.contains(e.code()), "{} is not listed", e.code());
        }
        assert_eq!(listed.len(), client_errors().len());
    }

    #[test]
    fn pool_timeouts_and_io_errors_are_unavailable_not_internal() {
        assert_eq!(
            ApiError::from_db(sqlx::Error::PoolTimedOut).status_code(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(
            ApiError::from_db(sqlx::Error::Io(io)).status_code(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            ApiError::from_db(sqlx::Error::RowNotFound).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn an_out_of_range_timestamp_is_a_422_naming_the_field_and_the_range() {
        let error = ApiError::TimestampOutOfRange(TimestampOutOfRange {
            field: "call.end_timestamp".into(),
            value: "9999-12-31T23:59:59Z".into(),
            earliest: "2020-01-01T00:00:00Z".into(),
            latest: "2026-01-03T03:04:05Z".into(),
        });
        assert_eq!(error.status_code(), StatusCode::UNPROCESSABLE_ENTITY);
        let message = error.message();
        for part in [
            "call.end_timestamp",
            "9999-12-31T23:59:59Z",
            "2020-01-01T00:00:00Z",
            "2026-01-03T03:04:05Z",
        ] {
            assert!(message.contains(part), "{part} missing from {message}");
        }
    }

    #[test]
    fn an_event_outside_the_secrets_scope_is_a_403_naming_both_sides() {
        let error = ApiError::OutOfScope {
            dealership: Some("ford-weymouth".into()),
            unresolved: None,
            allowed: vec!["honda-quincy".into(), "toyota-braintree".into()],
        };
        assert_eq!(error.status_code(), StatusCode::FORBIDDEN);
        let message = error.message();
        assert!(
            message.contains("\"ford-weymouth\"")
                && message.contains("honda-quincy, toyota-braintree")
                && message.contains("Nothing was stored"),
            "{message}"
        );
        let unresolved = ApiError::OutOfScope {
            dealership: None,
            unresolved: Some("no call.metadata.dealership_id".into()),
            allowed: vec!["honda-quincy".into()],
        };
        assert!(unresolved
            .message()
            .contains("resolves to no dealership (no call.metadata.dealership_id)"));
    }

    #[test]
    fn a_503_carries_retry_after() {
        let response = ApiError::DatabaseUnavailable(sqlx::Error::PoolTimedOut).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
    }
}
