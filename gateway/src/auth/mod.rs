//! The GoTrue (Supabase Auth) subset served under `/auth/v1`: password and refresh
//! token grants, `GET /user`, `POST /logout`, `GET /health`.
//!
//! Only what the project uses is implemented, and each piece follows GoTrue's source
//! (status codes, error codes, JSON shapes, database writes). See docs/local-auth.md.

pub mod claims;
pub mod current_user;
pub mod error;
pub mod hook;
pub mod logout;
pub mod session_store;
pub mod token;
pub mod user_store;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use serde::de::DeserializeOwned;

use crate::AppState;
use error::AuthError;

/// GoTrue's default audience (`GOTRUE_JWT_AUD`).
pub const DEFAULT_AUDIENCE: &str = "authenticated";

/// GoTrue limits request bodies to 1 MB.
const BODY_LIMIT: usize = 1 << 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/token", post(token::token))
        .route("/user", get(current_user::get_user))
        .route("/logout", post(logout::logout))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(error::render))
}

/// GoTrue's health answer; its version names this stand-in so nobody mistakes it
/// for a real GoTrue. Served without the `apikey` check (see `crate::router`).
pub async fn health() -> impl IntoResponse {
    Json(serde_json::json!({
        "version": concat!("local-stand-in-", env!("CARGO_PKG_VERSION")),
        "name": "GoTrue",
        "description": "GoTrue is a user registration and authentication API",
    }))
}

/// chi's (GoTrue's router) plain-text 404.
async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, "404 page not found\n")
}

/// The audience asked for with `X-JWT-AUD`, else the default (GoTrue's `requestAud`).
pub fn request_audience(headers: &HeaderMap) -> String {
    headers
        .get("x-jwt-aud")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or(DEFAULT_AUDIENCE)
        .to_owned()
}

/// GoTrue reads the raw body as JSON whatever the Content-Type says.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, AuthError> {
    serde_json::from_slice(body).map_err(|e| {
        AuthError::bad_request(
            "bad_json",
            format!("Could not parse request body as JSON: {e}"),
        )
    })
}

/// Who is calling, recorded on sessions like GoTrue does.
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(Self { user_agent, ip })
    }
}
