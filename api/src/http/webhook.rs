//! `POST /webhooks/retell`: check the content type and size, authenticate the raw
//! bytes, parse, normalize (event times included), check the secret's dealership
//! scope, store durably, answer.
//!
//! The order matters: nothing is parsed before the signature is verified over the
//! exact bytes received, and nothing is answered 2xx before the transaction commits.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::json;
use tracing::field::Empty;
use tracing::Instrument;

use super::AppState;
use crate::db::{store_event, Stored};
use crate::decode::decode;
use crate::error::ApiError;
use crate::metrics::Outcome;
use crate::normalize::Event;
use crate::settings::SecretScope;
use crate::signature::{authenticate, AuthError};

/// The signature header Retell (and our senders) use.
pub const SIGNATURE_HEADER: &str = "x-retell-signature";

pub async fn receive(State(state): State<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let headers = request.headers().clone();
    // The head arrived within the server's header deadline (see `serve`); the body
    // gets the same time again, so a client trickling it cannot hold the connection.
    let body = tokio::time::timeout(
        state.cfg.request_timeout,
        Bytes::from_request(request, &state),
    )
    .await
    .map_err(|_| ApiError::RequestTimeout {
        secs: state.cfg.request_timeout.as_secs(),
    });
    // Filled in once the event is normalized, so every log line of this request
    // (including sqlx's and the error's) carries the ids.
    let span = tracing::info_span!(
        "webhook",
        event_id = Empty,
        call_id = Empty,
        dealership_id = Empty,
        event_type = Empty,
    );
    let result = match body {
        Ok(body) => {
            handle(&state, &headers, body)
                .instrument(span.clone())
                .await
        }
        Err(timeout) => Err(timeout),
    };
    let _entered = span.enter();

    let outcome = match &result {
        Ok(answer) => match answer.stored {
            Stored::Accepted { .. } => Outcome::Accepted,
            Stored::Duplicate => Outcome::Duplicate,
        },
        Err(e) if e.status_code().is_client_error() => Outcome::Rejected,
        Err(_) => Outcome::Failed,
    };
    state.metrics.observe(outcome, started.elapsed());

    match result {
        Ok(answer) => answer.into_response(),
        Err(e) => {
            state.metrics.reject(e.code());
            if e.status_code().is_client_error() {
                // The message never holds secrets or transcripts (see ApiError::message).
                tracing::warn!(error = e.code(), reason = %e, "webhook rejected");
            }
            e.into_response()
        }
    }
}

/// A 200 answer: the event was committed now, or had been before.
struct Answer {
    event_id: String,
    stored: Stored,
    /// Set when the event was stored without a dealership.
    warning: Option<String>,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let status = match self.stored {
            Stored::Accepted { .. } => "accepted",
            Stored::Duplicate => "duplicate",
        };
        let mut body = json!({ "status": status, "event_id": self.event_id });
        if let Some(w) = self.warning {
            body["warning"] = json!(w);
        }
        (StatusCode::OK, Json(body)).into_response()
    }
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Answer, ApiError> {
    let received_at = Utc::now();
    check_content_type(headers.get(header::CONTENT_TYPE))?;
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit: state.cfg.max_body_bytes,
            }
        } else {
            ApiError::BodyUnreadable
        }
    })?;

    // Two signature headers are ambiguous (a proxy and the sender may each pick a
    // different one), so neither is trusted.
    if headers.get_all(SIGNATURE_HEADER).iter().nth(1).is_some() {
        return Err(AuthError::Malformed("X-Retell-Signature appears more than once").into());
    }
    let sender = authenticate(
        headers.get(SIGNATURE_HEADER).map(HeaderValue::as_bytes),
        headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
        &body,
        received_at.timestamp_millis(),
        &state.cfg.webhook_secrets,
        state.cfg.allow_bearer,
    )?;

    let event = decode(&body, received_at, &state.cfg.agent_dealerships)?;
    let span = tracing::Span::current();
    span.record("event_id", event.event_id.as_str());
    span.record("call_id", event.call_id.as_str());
    span.record("event_type", event.event_type.as_str());
    if let Some(d) = event.dealership.id() {
        span.record("dealership_id", d);
    }
    check_scope(sender.scope, &event)?;
    let method = sender.method;

    let stored = store_event(&state.pool, &event, &body, received_at)
        .await
        .map_err(ApiError::from_db)?;

    match &stored {
        Stored::Duplicate => tracing::info!(auth = method.as_str(), "duplicate delivery ignored"),
        Stored::Accepted { job_id, unresolved } => {
            if *unresolved {
                state.metrics.unresolved_dealership();
            }
            if job_id.is_some() {
                state.metrics.job_enqueued();
            }
            if event.nul_replaced {
                state.metrics.nul_replaced();
            }
            tracing::info!(
                auth = method.as_str(),
                source = event.source.as_str(),
                analysis_job_id = job_id,
                unresolved_dealership = unresolved,
                nul_replaced = event.nul_replaced,
                "event stored"
            );
        }
    }
    let warning = match event.dealership.problem() {
        Some((code, reason)) if matches!(stored, Stored::Accepted { .. }) => Some(format!(
            "{code}: {reason}; the event is stored and listed in processing_errors"
        )),
        _ => None,
    };
    Ok(Answer {
        event_id: event.event_id,
        stored,
        warning,
    })
}

/// A scoped secret may write only events that resolve to one of its dealerships;
/// anything else is refused before storage, so it leaves no row at all.
fn check_scope(scope: &SecretScope, event: &Event) -> Result<(), ApiError> {
    let dealership = event.dealership.id();
    match scope {
        SecretScope::Only(allowed) if !scope.allows(dealership) => Err(ApiError::OutOfScope {
            dealership: dealership.map(str::to_owned),
            unresolved: event.dealership.problem().map(|(_, reason)| reason),
            allowed: allowed.iter().cloned().collect(),
        }),
        _ => Ok(()),
    }
}

/// Only JSON, and only UTF-8: the signature is over bytes we must later read as
/// UTF-8 JSON, so anything else is refused before the body is looked at.
fn check_content_type(value: Option<&HeaderValue>) -> Result<(), ApiError> {
    let Some(value) = value else {
        return Err(ApiError::UnsupportedMediaType(
            "no Content-Type header".into(),
        ));
    };
    let text = value.to_str().unwrap_or("");
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or("").trim();
    let charset_ok = parts.all(|param| match param.split_once('=') {
        Some((name, v)) if name.trim().eq_ignore_ascii_case("charset") => {
            v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        _ => true,
    });
    if essence.eq_ignore_ascii_case("application/json") && charset_ok {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type: {}",
            text.chars().take(100).collect::<String>()
        )))
    }
}
