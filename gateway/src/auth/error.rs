//! GoTrue's error contract for `/auth/v1`.
//!
//! GoTrue answers in one of two shapes, chosen by the request's
//! `X-Supabase-Api-Version` header (supabase-js always sends `2024-01-01`):
//! - 2024-01-01 and later: `{"code": "<error_code>", "message": "..."}`, and the
//!   version echoed in the response header (supabase-js reads the code only then);
//! - no header (curl, older clients): `{"code": <status>, "error_code": "...", "msg": "..."}`.
//!
//! Handlers return [`AuthError`]; its response carries the error in an extension and
//! [`render`] (a middleware on the auth router) writes the body for the request's version.
//! Both shapes also set `x-sb-error-code` when there is a code, as GoTrue does.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;

pub const API_VERSION_HEADER: &str = "x-supabase-api-version";
const API_VERSION_2024_01_01: &str = "2024-01-01";

/// An error as GoTrue's `HTTPError`: a status, an optional machine-readable code
/// and a message meant for the client.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status}: {message}")]
pub struct AuthError {
    pub status: StatusCode,
    pub code: Option<&'static str>,
    pub message: String,
}

impl AuthError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: Some(code),
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// A 500 whose cause is logged here and not sent to the client.
    pub fn internal(message: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "{message}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected_failure",
            message,
        )
    }

    /// An error without an error code (GoTrue's hook errors): rendered as
    /// `unexpected_failure` for 500s and `unknown` otherwise.
    pub fn uncoded(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code: None,
            message: message.into(),
        }
    }

    fn effective_code(&self) -> &'static str {
        match self.code {
            Some(code) => code,
            None if self.status == StatusCode::INTERNAL_SERVER_ERROR => "unexpected_failure",
            None => "unknown",
        }
    }

    fn render_for(&self, version: ApiVersion) -> Response {
        let body = match version {
            ApiVersion::V20240101 => serde_json::json!({
                "code": self.effective_code(),
                "message": self.message,
            }),
            ApiVersion::Initial => serde_json::json!({
                "code": self.status.as_u16(),
                "error_code": self.effective_code(),
                "msg": self.message,
            }),
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(code) = self.code {
            headers.insert("x-sb-error-code", HeaderValue::from_static(code));
        }
        if version == ApiVersion::V20240101 {
            headers.insert(
                API_VERSION_HEADER,
                HeaderValue::from_static(API_VERSION_2024_01_01),
            );
        }
        response
    }
}

impl From<sqlx::Error> for AuthError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal("Database error", error)
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        // Legacy shape as a fallback; `render` replaces it with the request's version.
        let mut response = self.render_for(ApiVersion::Initial);
        response.extensions_mut().insert(self);
        response
    }
}

/// The API versions GoTrue distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    Initial,
    V20240101,
}

impl ApiVersion {
    /// GoTrue's `DetermineClosestAPIVersion`: a `YYYY-MM-DD` date on or after
    /// 2024-01-01 selects that version; anything else (absent, older, unparsable)
    /// the initial one.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let cutoff = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
        headers
            .get(API_VERSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok())
            .filter(|date| *date >= cutoff)
            .map_or(Self::Initial, |_| Self::V20240101)
    }
}

/// Middleware: renders [`AuthError`]s in the shape the request asked for.
pub async fn render(request: Request, next: Next) -> Response {
    let version = ApiVersion::from_headers(request.headers());
    let mut response = next.run(request).await;
    match response.extensions_mut().remove::<AuthError>() {
        Some(error) => error.render_for(version),
        None => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(API_VERSION_HEADER, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn api_version_dates_on_or_after_2024_01_01_select_the_new_shape() {
        assert_eq!(
            ApiVersion::from_headers(&headers("2024-01-01")),
            ApiVersion::V20240101
        );
        assert_eq!(
            ApiVersion::from_headers(&headers("2025-06-30")),
            ApiVersion::V20240101
        );
        assert_eq!(
            ApiVersion::from_headers(&headers("2023-12-31")),
            ApiVersion::Initial
        );
        assert_eq!(
            ApiVersion::from_headers(&headers("garbage")),
            ApiVersion::Initial
        );
        assert_eq!(
            ApiVersion::from_headers(&HeaderMap::new()),
            ApiVersion::Initial
        );
    }

    #[test]
    fn uncoded_errors_get_gotrue_fallback_codes() {
        let e = AuthError::uncoded(StatusCode::INTERNAL_SERVER_ERROR, "x");
        assert_eq!(e.effective_code(), "unexpected_failure");
        let e = AuthError::uncoded(StatusCode::FORBIDDEN, "x");
        assert_eq!(e.effective_code(), "unknown");
    }
}
