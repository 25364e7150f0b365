//! `GET /auth/v1/user`, and [`Authenticated`]: GoTrue's `requireAuthentication`
//! (bearer token, signature and expiry, then the user and the session it names must
//! still exist).

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::Json;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::error::AuthError;
use super::request_audience;
use super::session_store;
use super::user_store::{self, UserJson, UserRecord};
use crate::AppState;

/// A request whose bearer token is valid and whose user and session still exist.
pub struct Authenticated {
    pub user: UserRecord,
    /// `None` when the token has no (or the nil) `session_id` claim.
    pub session_id: Option<Uuid>,
    pub claims: Map<String, Value>,
}

/// GoTrue's bearer regexp: `(?i)^bearer (\S+$)`.
fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_at_checked(7)?;
    (scheme.eq_ignore_ascii_case("bearer ")
        && !token.is_empty()
        && !token.chars().any(char::is_whitespace))
    .then_some(token)
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AuthError> {
        let token = bearer_token(parts).ok_or_else(|| {
            AuthError::new(
                StatusCode::UNAUTHORIZED,
                "no_authorization",
                "This endpoint requires a valid Bearer token",
            )
        })?;
        let claims = state.keys.verify(token).map_err(|reason| {
            AuthError::forbidden(
                "bad_jwt",
                format!("invalid JWT: unable to parse or verify signature, {reason}"),
            )
        })?;

        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if sub.is_empty() {
            return Err(AuthError::forbidden(
                "bad_jwt",
                "invalid claim: missing sub claim",
            ));
        }
        let user_id = Uuid::parse_str(sub).map_err(|_| {
            AuthError::bad_request("bad_jwt", "invalid claim: sub claim must be a UUID")
        })?;
        let user = user_store::find_user_by_id(&state.db, user_id)
            .await?
            .ok_or_else(|| {
                AuthError::forbidden(
                    "user_not_found",
                    "User from sub claim in JWT does not exist",
                )
            })?;

        let session_claim = claims
            .get("session_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut session_id = None;
        if !session_claim.is_empty() && session_claim != Uuid::nil().to_string() {
            let id = Uuid::parse_str(session_claim).map_err(|_| {
                AuthError::forbidden("bad_jwt", "invalid claim: session_id claim must be a UUID")
            })?;
            if session_store::find_session(&state.db, id).await?.is_none() {
                return Err(AuthError::forbidden(
                    "session_not_found",
                    "Session from session_id claim in JWT does not exist",
                ));
            }
            session_id = Some(id);
        }

        if user.is_banned(chrono::Utc::now()) {
            return Err(AuthError::forbidden("user_banned", "User is banned"));
        }
        Ok(Self {
            user,
            session_id,
            claims,
        })
    }
}

pub async fn get_user(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    auth: Authenticated,
) -> Result<Json<UserJson>, AuthError> {
    let audience = match auth.claims.get("aud") {
        Some(Value::String(aud)) => Some(aud.as_str()),
        Some(Value::Array(list)) => list.first().and_then(Value::as_str),
        _ => None,
    };
    if audience != Some(request_audience(&headers).as_str()) {
        return Err(AuthError::bad_request(
            "validation_failed",
            "Token audience doesn't match request audience",
        ));
    }
    let identities = user_store::list_identities(&state.db, auth.user.id).await?;
    Ok(Json(UserJson::new(&auth.user, &identities)))
}
