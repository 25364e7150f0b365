//! Errors answered by the gateway layer itself (the part that plays Kong).
//!
//! The project convention is `{"error": code, "message": ...}`, but this crate
//! impersonates Kong, and supabase-js and PostgREST clients expect Kong's exact
//! bodies: `{"message": ...}`. Errors of the auth endpoints use GoTrue's shapes
//! instead (see `auth::error`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// No `apikey` header or query parameter (Kong key-auth).
    #[error("No API key found in request")]
    MissingApiKey,
    /// An `apikey` that is neither the anon nor the service role key.
    #[error("Invalid authentication credentials")]
    InvalidApiKey,
    /// PostgREST could not be reached or broke the connection.
    #[error("An invalid response was received from the upstream server")]
    BadGateway(#[source] reqwest::Error),
    /// A path outside `/auth/v1` and `/rest/v1`.
    #[error("no Route matched with those values")]
    NoRoute,
}

impl GatewayError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::MissingApiKey | Self::InvalidApiKey => StatusCode::UNAUTHORIZED,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::NoRoute => StatusCode::NOT_FOUND,
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        if let Self::BadGateway(source) = &self {
            tracing::error!(error = %source, "PostgREST request failed");
        }
        let status = self.status_code();
        let mut response = (
            status,
            Json(serde_json::json!({ "message": self.to_string() })),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            // Kong's key-auth plugin sends this challenge with its 401s.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Key realm=\"kong\""),
            );
        }
        response
    }
}
