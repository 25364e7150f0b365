//! Supabase Auth calls, the same ones `@supabase/supabase-js` makes: password
//! sign-in, refresh, `GET /user` (is this session still alive?) and logout.

use serde_json::json;

use super::{classify, ApiError};
use crate::config::Config;
use crate::session::Session;

async fn token_grant(
    config: &Config,
    grant: &str,
    body: serde_json::Value,
) -> Result<Session, ApiError> {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/auth/v1/token?grant_type={grant}",
            config.supabase_url
        ))
        .header("apikey", &config.supabase_anon_key)
        .json(&body)
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|_| ApiError::Network)?;
    if status != 200 {
        return Err(match classify(status, &text) {
            // A refused refresh token means the session is gone, not bad input.
            ApiError::Refused(_) | ApiError::Forbidden(_) if grant == "refresh_token" => {
                ApiError::SignedOut
            }
            other => other,
        });
    }
    serde_json::from_str(&text).map_err(|_| ApiError::Server)
}

pub async fn sign_in(config: &Config, email: &str, password: &str) -> Result<Session, ApiError> {
    token_grant(
        config,
        "password",
        json!({ "email": email, "password": password }),
    )
    .await
}

pub async fn refresh(config: &Config, refresh_token: &str) -> Result<Session, ApiError> {
    token_grant(
        config,
        "refresh_token",
        json!({ "refresh_token": refresh_token }),
    )
    .await
}

/// Whether Supabase Auth still accepts the access token (a revoked session does not,
/// even before the token expires).
pub async fn check(config: &Config, access_token: &str) -> Result<(), ApiError> {
    let response = reqwest::Client::new()
        .get(format!("{}/auth/v1/user", config.supabase_url))
        .header("apikey", &config.supabase_anon_key)
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    match response.status().as_u16() {
        200 => Ok(()),
        401 | 403 | 404 => Err(ApiError::SignedOut),
        _ => Err(ApiError::Server),
    }
}

/// Ends the session on the server too; failure is ignored because the local session
/// is dropped regardless.
pub async fn sign_out(config: &Config, access_token: &str) {
    let _ = reqwest::Client::new()
        .post(format!(
            "{}/auth/v1/logout?scope=local",
            config.supabase_url
        ))
        .header("apikey", &config.supabase_anon_key)
        .bearer_auth(access_token)
        .send()
        .await;
}

/// Loads `/config.json` from the site's own origin.
pub async fn load_config() -> Result<Config, String> {
    let url = format!("{}/config.json", crate::platform::origin());
    let response = reqwest::Client::new().get(url).send().await.map_err(|_| {
        "Could not load the app configuration (config.json). Check your connection and reload."
            .to_string()
    })?;
    if !response.status().is_success() {
        return Err("The app configuration (config.json) is missing on the server.".into());
    }
    let text = response
        .text()
        .await
        .map_err(|_| "Could not read config.json.".to_string())?;
    Config::parse(&text)
}
