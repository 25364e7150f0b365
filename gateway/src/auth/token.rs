//! `POST /auth/v1/token?grant_type=password|refresh_token`.
//!
//! Password grant: GoTrue's checks in GoTrue's order, then one transaction that
//! creates the session and its first refresh token, runs the hook and commits before
//! the answer (an immediate `GET /user` must find the session).
//!
//! Refresh grant: legacy-token rotation as GoTrue does it. The token row and its
//! session are locked (`FOR UPDATE SKIP LOCKED`, retried for up to 5 s); a live token
//! is revoked and replaced by a child; a revoked token that is the parent of the
//! session's active token gets that active token back (the client lost the last
//! answer); any other revoked token is accepted only within the reuse interval, and
//! past it every token of the session is revoked and `refresh_token_already_used`
//! returned.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, SubsecRound, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

use super::claims::{base_claims, AuthenticationMethod};
use super::error::AuthError;
use super::session_store::{self, SessionRecord};
use super::user_store::{self, UserJson, UserRecord};
use super::{hook, parse_json, request_audience, ClientInfo};
use crate::AppState;

const INVALID_LOGIN: &str = "Invalid login credentials";
const REFRESH_RETRY_WINDOW: Duration = Duration::from_secs(5);

/// GoTrue's `AccessTokenResponse`.
#[derive(Debug, Serialize)]
pub struct AccessTokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    expires_at: i64,
    refresh_token: String,
    user: UserJson,
}

pub async fn token(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    client: ClientInfo,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AuthError> {
    let response = match query.get("grant_type").map(String::as_str) {
        Some("password") => password_grant(&state, &client, &headers, &body).await?,
        Some("refresh_token") => refresh_token_grant(&state, &client, &body).await?,
        // GoTrue really answers this with the invalid_credentials code.
        _ => {
            return Err(AuthError::bad_request(
                "invalid_credentials",
                "unsupported_grant_type",
            ))
        }
    };
    Ok((StatusCode::OK, Json(response)).into_response())
}

#[derive(Deserialize)]
struct PasswordGrantParams {
    email: Option<String>,
    phone: Option<String>,
    password: Option<String>,
}

async fn password_grant(
    state: &AppState,
    client: &ClientInfo,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<AccessTokenResponse, AuthError> {
    let params: PasswordGrantParams = parse_json(body)?;
    let email = params.email.unwrap_or_default();
    let phone = params.phone.unwrap_or_default();
    let password = params.password.unwrap_or_default();

    if !email.is_empty() && !phone.is_empty() {
        return Err(AuthError::bad_request(
            "validation_failed",
            "Only an email address or phone number should be provided on login.",
        ));
    }
    if email.is_empty() {
        if phone.is_empty() {
            return Err(AuthError::bad_request(
                "validation_failed",
                "missing email or phone",
            ));
        }
        // Phone logins are off, as in the project's supabase/config.toml.
        return Err(AuthError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "phone_provider_disabled",
            "Phone logins are disabled",
        ));
    }

    let aud = request_audience(headers);
    let user = user_store::find_user_by_email(&state.db, &email, &aud)
        .await
        .map_err(|e| AuthError::internal("Database error querying schema", e))?;
    let Some(user) = user else {
        if user_store::email_exists_outside_gotrue_lookup(&state.db, &email)
            .await
            .unwrap_or(false)
        {
            tracing::warn!(
                "sign-in refused: a user with this email exists but GoTrue would not find it \
                 (it needs instance_id = 00000000-0000-0000-0000-000000000000, aud = '{aud}', \
                 is_sso_user = false)"
            );
        }
        return Err(AuthError::bad_request("invalid_credentials", INVALID_LOGIN));
    };
    if !user.has_password() {
        return Err(AuthError::bad_request("invalid_credentials", INVALID_LOGIN));
    }
    if user.is_banned(Utc::now()) {
        return Err(AuthError::bad_request("user_banned", "User is banned"));
    }

    let hash = user.encrypted_password.clone().unwrap_or_default();
    // bcrypt at cost 10 takes tens of milliseconds of CPU: keep it off the reactor.
    let verified = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
        .await
        .map_err(|e| AuthError::internal("Password check failed", e))?;
    match verified {
        Ok(true) => {}
        Ok(false) => return Err(AuthError::bad_request("invalid_credentials", INVALID_LOGIN)),
        Err(e) => {
            return Err(AuthError::internal(
                "Stored password hash is not a bcrypt hash",
                e,
            ))
        }
    }

    if user.email_confirmed_at.is_none() {
        return Err(AuthError::bad_request(
            "email_not_confirmed",
            "Email not confirmed",
        ));
    }

    issue_session(state, user, client).await
}

/// Now, at the precision Postgres stores, so the times in this answer equal what a
/// later `GET /user` reads back.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

async fn issue_session(
    state: &AppState,
    mut user: UserRecord,
    client: &ClientInfo,
) -> Result<AccessTokenResponse, AuthError> {
    let now = now();
    let mut tx = state.db.begin().await?;
    let session = session_store::insert_session(
        &mut *tx,
        user.id,
        now,
        client.user_agent.as_deref(),
        client.ip.as_deref(),
    )
    .await
    .map_err(|e| AuthError::internal("Database error granting user", e))?;
    let refresh_token =
        session_store::insert_refresh_token(&mut *tx, user.id, session.id, None, now)
            .await
            .map_err(|e| AuthError::internal("Database error granting user", e))?;
    user_store::update_last_sign_in_at(&mut *tx, user.id, now).await?;
    user.last_sign_in_at = Some(now);
    user.updated_at = Some(now);
    let identities = user_store::list_identities(&mut *tx, user.id).await?;

    let (access_token, expires_at) = access_token(
        state,
        &mut tx,
        &user,
        &session,
        now,
        AuthenticationMethod::Password,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, session_id = %session.id, "signed in with password");

    Ok(AccessTokenResponse {
        access_token,
        token_type: "bearer",
        expires_in: expires_at - now.timestamp(),
        expires_at,
        refresh_token,
        user: UserJson::new(&user, &identities),
    })
}

/// Builds, customizes (hook) and signs an access token. Runs inside the caller's
/// transaction, last, because the hook switches the role for the rest of it.
async fn access_token(
    state: &AppState,
    conn: &mut PgConnection,
    user: &UserRecord,
    session: &SessionRecord,
    now: DateTime<Utc>,
    method: AuthenticationMethod,
) -> Result<(String, i64), AuthError> {
    let issued_at = now.timestamp();
    let expires_at = issued_at + state.cfg.jwt_expiry_secs;
    let mut claims = base_claims(&state.issuer, user, session, issued_at, expires_at);
    if let Some(hook_fn) = &state.cfg.custom_access_token_hook {
        claims = hook::customize_access_token(conn, hook_fn, user.id, claims, method).await?;
    }
    let token = state
        .keys
        .sign(&claims)
        .map_err(|e| AuthError::internal("error generating jwt token", e))?;
    Ok((token, expires_at))
}

#[derive(Deserialize)]
struct RefreshTokenGrantParams {
    refresh_token: Option<String>,
}

async fn refresh_token_grant(
    state: &AppState,
    client: &ClientInfo,
    body: &[u8],
) -> Result<AccessTokenResponse, AuthError> {
    let params: RefreshTokenGrantParams = parse_json(body)?;
    let token = params.refresh_token.unwrap_or_default();
    // Only legacy tokens are issued here; GoTrue's v2 (longer, signed) tokens fail its
    // parser with the same error.
    if !session_store::is_legacy_refresh_token(&token) {
        return Err(AuthError::bad_request(
            "validation_failed",
            "Refresh token is not valid",
        ));
    }

    let started = Instant::now();
    while started.elapsed() < REFRESH_RETRY_WINDOW {
        match try_refresh(state, client, &token).await? {
            Some(response) => return Ok(response),
            None => {
                // Another request holds the token or session row.
                let pause = rand::thread_rng().gen_range(10..30);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
        }
    }
    Err(AuthError::new(
        StatusCode::CONFLICT,
        "conflict",
        "Too many concurrent token refresh requests on the same session or refresh token",
    ))
}

fn refresh_token_not_found() -> AuthError {
    AuthError::bad_request(
        "refresh_token_not_found",
        "Invalid Refresh Token: Refresh Token Not Found",
    )
}

/// One attempt; `Ok(None)` means "rows locked, try again".
async fn try_refresh(
    state: &AppState,
    client: &ClientInfo,
    token: &str,
) -> Result<Option<AccessTokenResponse>, AuthError> {
    let now = now();
    let Some(found) = session_store::find_refresh_token(&state.db, token).await? else {
        return Err(refresh_token_not_found());
    };
    let Some(user_id) = found
        .user_id
        .as_deref()
        .and_then(|id| Uuid::parse_str(id).ok())
    else {
        return Err(refresh_token_not_found());
    };
    let Some(user) = user_store::find_user_by_id(&state.db, user_id).await? else {
        return Err(refresh_token_not_found());
    };
    if user.is_banned(now) {
        return Err(AuthError::bad_request(
            "user_banned",
            "Invalid Refresh Token: User Banned",
        ));
    }
    let session = match found.session_id {
        Some(id) => session_store::find_session(&state.db, id).await?,
        None => None,
    };
    let Some(session) = session else {
        session_store::delete_refresh_token(&state.db, found.id).await?;
        return Err(AuthError::bad_request(
            "session_not_found",
            "Invalid Refresh Token: No Valid Session Found",
        ));
    };
    if session.not_after.is_some_and(|not_after| now > not_after) {
        return Err(AuthError::bad_request(
            "session_expired",
            "Invalid Refresh Token: Session Expired",
        ));
    }

    let mut tx = state.db.begin().await?;
    let Some(locked) = session_store::lock_refresh_token(&mut *tx, token).await? else {
        return Ok(None);
    };
    let Some(session) = session_store::lock_session(&mut *tx, session.id).await? else {
        return Ok(None);
    };

    let mut issued: Option<String> = None;
    if locked.revoked.unwrap_or(false) {
        let active = session_store::find_active_refresh_token(&mut *tx, session.id).await?;
        match active {
            Some(active) if active.parent.as_deref() == Some(token) => {
                issued = active.token;
            }
            _ => {
                let revoked_at = locked.updated_at.unwrap_or(now);
                let reuse_until = revoked_at
                    + chrono::Duration::seconds(state.cfg.refresh_token_reuse_interval_secs);
                if now > reuse_until {
                    session_store::revoke_session_tokens(&mut *tx, session.id).await?;
                    // Committed on purpose: the revocation must stick although the
                    // request fails.
                    tx.commit().await?;
                    tracing::warn!(
                        session_id = %session.id,
                        "refresh token reused after rotation: session tokens revoked"
                    );
                    return Err(AuthError::bad_request(
                        "refresh_token_already_used",
                        "Invalid Refresh Token: Already Used",
                    ));
                }
            }
        }
    }
    let refresh_token = match issued {
        Some(token) => token,
        None => {
            session_store::revoke_refresh_token(&mut *tx, locked.id, now).await?;
            session_store::insert_refresh_token(&mut *tx, user.id, session.id, Some(token), now)
                .await?
        }
    };

    session_store::update_session_refresh_info(
        &mut *tx,
        session.id,
        now,
        client.user_agent.as_deref(),
        client.ip.as_deref(),
    )
    .await?;
    let identities = user_store::list_identities(&mut *tx, user.id).await?;
    let (access_token, expires_at) = access_token(
        state,
        &mut tx,
        &user,
        &session,
        now,
        AuthenticationMethod::TokenRefresh,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.id, session_id = %session.id, "refreshed session");

    Ok(Some(AccessTokenResponse {
        access_token,
        token_type: "bearer",
        expires_in: expires_at - now.timestamp(),
        expires_at,
        refresh_token,
        user: UserJson::new(&user, &identities),
    }))
}
