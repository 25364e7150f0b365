//! `POST /auth/v1/logout?scope=global|local|others` -> 204.
//!
//! Sessions are deleted (their refresh tokens go with them, by foreign key), so
//! access tokens of those sessions fail `GET /user` with `session_not_found` and
//! their refresh tokens with `refresh_token_not_found`, as with GoTrue.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;

use super::current_user::Authenticated;
use super::error::AuthError;
use super::session_store;
use crate::AppState;

pub async fn logout(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> Result<StatusCode, AuthError> {
    let scope = query.get("scope").map(String::as_str).unwrap_or_default();
    let user_id = auth.user.id;
    match (scope, auth.session_id) {
        ("" | "global", _) | ("local" | "others", None) => {
            session_store::delete_user_sessions(&state.db, user_id).await?
        }
        ("local", Some(session_id)) => session_store::delete_session(&state.db, session_id).await?,
        ("others", Some(session_id)) => {
            session_store::delete_other_sessions(&state.db, user_id, session_id).await?
        }
        (other, _) => {
            return Err(AuthError::bad_request(
                "validation_failed",
                format!("Unsupported logout scope {other:?}"),
            ))
        }
    }
    tracing::info!(%user_id, scope = if scope.is_empty() { "global" } else { scope }, "logged out");
    Ok(StatusCode::NO_CONTENT)
}
