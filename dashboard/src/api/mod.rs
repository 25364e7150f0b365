//! Every network call of the dashboard: Supabase Auth (`/auth/v1`) and PostgREST
//! (`/rest/v1`) with the user's JWT, so row-level security decides every row. Errors
//! are turned into [`ApiError`], whose text is written for people, never raw JSON.

pub mod assignments;
pub mod auth;
pub mod data;
pub mod labels;
pub mod phone;
pub mod versions;

use dioxus::prelude::*;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::config::Config;
use crate::session::{use_session, SessionCtx, EXPIRED_NOTICE};

/// What went wrong, in words a dashboard user can act on.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The request never got an answer.
    Network,
    /// The token was refused: the session is over.
    SignedOut,
    /// Signed in, but the role or assignments do not allow this.
    Forbidden(String),
    NotFound,
    /// The server refused the request for a reason it explained (already worded).
    Refused(String),
    /// Wrong email or password.
    BadCredentials,
    /// The server failed or answered something we cannot read.
    Server,
}

/// So a section (`components::Section`) can catch it with `?`.
impl std::error::Error for ApiError {}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Network => {
                f.write_str("Could not reach the server. Check your connection and try again.")
            }
            ApiError::SignedOut => f.write_str("You are signed out. Please sign in again."),
            ApiError::Forbidden(what) => write!(f, "Your role does not allow this: {what}"),
            ApiError::NotFound => {
                f.write_str("Nothing here is visible for your role (or it does not exist).")
            }
            ApiError::Refused(why) => f.write_str(why),
            ApiError::BadCredentials => f.write_str("Wrong email or password."),
            ApiError::Server => {
                f.write_str("The server had a problem answering. Try again in a moment.")
            }
        }
    }
}

/// PostgREST's and Supabase Auth's error bodies (either shape).
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
}

/// Maps a failed response to an [`ApiError`]. Messages from our own SQL functions
/// (P0001, 22023, and PT429 with its hint saying when to try again) are written for
/// people and are passed on; anything else is not.
pub fn classify(status: u16, body: &str) -> ApiError {
    let parsed: ErrorBody = serde_json::from_str(body).unwrap_or_default();
    let code = parsed.code.as_ref().map(|c| {
        c.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| c.to_string())
    });
    let message = parsed.message.or(parsed.msg);
    match status {
        401 => ApiError::SignedOut,
        403 => ApiError::Forbidden(match message {
            Some(m) if code.as_deref() == Some("42501") => forbidden_words(&m),
            _ => "this action is not available to you.".into(),
        }),
        404 => ApiError::NotFound,
        400 if parsed.error_code.as_deref() == Some("invalid_credentials") => {
            ApiError::BadCredentials
        }
        400 | 409 | 422 if matches!(code.as_deref(), Some("P0001") | Some("22023")) => {
            ApiError::Refused(message.unwrap_or_else(|| "The request was refused.".into()))
        }
        400 if message
            .as_deref()
            .is_some_and(|m| m.contains("Invalid login")) =>
        {
            ApiError::BadCredentials
        }
        400 | 422 => ApiError::Refused("The request was refused by the server.".into()),
        // A limit of ours (request_reanalysis: cooldown, daily cap): what and when.
        429 if code.as_deref() == Some("PT429") => {
            ApiError::Refused(match (message, parsed.hint) {
                (Some(m), Some(h)) => format!("{m}. {h}"),
                (Some(m), None) => m,
                _ => "Too many requests. Try again later.".into(),
            })
        }
        429 => ApiError::Refused("Too many requests. Try again in a moment.".into()),
        _ => ApiError::Server,
    }
}

/// `0-0/42` or `*/0` -> 42 / 0.
pub fn total_of_content_range(header: &str) -> Option<u64> {
    header.rsplit_once('/')?.1.trim().parse().ok()
}

fn forbidden_words(message: &str) -> String {
    if message.contains("read-only") || message.contains("admin") {
        "admins have read-only access.".into()
    } else if message.contains("dealership") || message.contains("sign in") {
        "this call is not in your dealerships, or your role cannot change it.".into()
    } else {
        // The review functions' other refusals are written for people
        // ("CSMs can only assign reviews to themselves").
        format!("{message}.")
    }
}

/// Signed-in access to PostgREST. Any 401 ends the session, so an expired or revoked
/// token sends the user to the login screen wherever it is noticed.
#[derive(Clone, PartialEq)]
pub struct Api {
    pub config: Config,
    pub session: SessionCtx,
}

pub fn use_api() -> Api {
    Api {
        config: use_context::<Config>(),
        session: use_session(),
    }
}

impl Api {
    fn rest_url(&self, path: &str) -> String {
        format!("{}/rest/v1/{path}", self.config.supabase_url)
    }

    fn authorized(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, ApiError> {
        let token = self.session.token().ok_or(ApiError::SignedOut)?;
        Ok(request
            .header("apikey", &self.config.supabase_anon_key)
            .bearer_auth(token))
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<String, ApiError> {
        let response = self
            .authorized(request)?
            .send()
            .await
            .map_err(|_| ApiError::Network)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(|_| ApiError::Network)?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        let error = classify(status, &body);
        if error == ApiError::SignedOut {
            self.session.end(Some(EXPIRED_NOTICE));
        }
        Err(error)
    }

    /// GET /rest/v1/<table>?<query> as JSON.
    pub async fn get<T: DeserializeOwned>(
        &self,
        table: &str,
        query: &[(String, String)],
    ) -> Result<T, ApiError> {
        let request = reqwest::Client::new()
            .get(self.rest_url(table))
            .query(query);
        let body = self.send(request).await?;
        serde_json::from_str(&body).map_err(|_| ApiError::Server)
    }

    /// The same rows as CSV (PostgREST renders it with `Accept: text/csv`), with
    /// every text cell that a spreadsheet would run as a formula quoted
    /// ([`crate::model::csv::neutralise`]); the `numeric` columns are left as they are.
    /// Every CSV the dashboard saves comes from here.
    pub async fn get_csv(
        &self,
        table: &str,
        query: &[(String, String)],
        numeric: &[&str],
    ) -> Result<String, ApiError> {
        let request = reqwest::Client::new()
            .get(self.rest_url(table))
            .query(query)
            .header("accept", "text/csv");
        let csv = self.send(request).await?;
        Ok(crate::model::csv::neutralise(&csv, numeric))
    }

    /// How many rows match `query`, counted by Postgres (`Prefer: count=exact`;
    /// the total is the part of `Content-Range` after the slash). One row is asked
    /// for, so nothing else is downloaded.
    pub async fn count(&self, table: &str, query: &[(String, String)]) -> Result<u64, ApiError> {
        let mut query = query.to_vec();
        // One small column: without a select PostgREST reads `*`, which the
        // column privileges of `calls` refuse (the customer's number).
        if !query.iter().any(|(k, _)| k == "select") {
            query.push(("select".into(), "dealership_id".into()));
        }
        query.push(("limit".into(), "1".into()));
        let request = reqwest::Client::new()
            .get(self.rest_url(table))
            .query(&query)
            .header("prefer", "count=exact");
        let response = self
            .authorized(request)?
            .send()
            .await
            .map_err(|_| ApiError::Network)?;
        let status = response.status().as_u16();
        let range = response
            .headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.text().await.map_err(|_| ApiError::Network)?;
        if !(200..300).contains(&status) {
            let error = classify(status, &body);
            if error == ApiError::SignedOut {
                self.session.end(Some(EXPIRED_NOTICE));
            }
            return Err(error);
        }
        range
            .as_deref()
            .and_then(total_of_content_range)
            .ok_or(ApiError::Server)
    }

    /// POST /rest/v1/rpc/<function> with named arguments.
    pub async fn rpc<T: DeserializeOwned>(
        &self,
        function: &str,
        args: &serde_json::Value,
    ) -> Result<T, ApiError> {
        let request = reqwest::Client::new()
            .post(self.rest_url(&format!("rpc/{function}")))
            .json(args);
        let body = self.send(request).await?;
        serde_json::from_str(&body).map_err(|_| ApiError::Server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_jwt_means_signed_out() {
        let body = r#"{"code":"PGRST301","details":null,"hint":null,"message":"JWT expired"}"#;
        assert_eq!(classify(401, body), ApiError::SignedOut);
    }

    #[test]
    fn an_admin_refused_a_write_is_told_it_is_read_only() {
        let body = r#"{"code":"42501","message":"admins are read-only in the app","details":null,"hint":null}"#;
        assert_eq!(
            classify(403, body).to_string(),
            "Your role does not allow this: admins have read-only access."
        );
    }

    #[test]
    fn messages_of_our_sql_functions_are_shown_but_other_errors_are_not() {
        let ours = r#"{"code":"P0001","message":"call has no transcript to analyze"}"#;
        assert_eq!(
            classify(400, ours),
            ApiError::Refused("call has no transcript to analyze".into())
        );
        let internal = r#"{"code":"42703","message":"column calls.bogus does not exist"}"#;
        assert!(
            !classify(400, internal).to_string().contains("bogus"),
            "no internals leak to the user"
        );
        assert_eq!(classify(502, "<html>bad gateway</html>"), ApiError::Server);
    }

    #[test]
    fn a_reanalysis_limit_says_which_limit_and_when_to_try_again() {
        let cooldown = r#"{"code":"PT429","message":"call c1 was re-analyzed less than 10 minutes ago","details":"retry_after=2026-12-02T15:04:05Z","hint":"Try again in 7 min."}"#;
        assert_eq!(
            classify(429, cooldown),
            ApiError::Refused(
                "call c1 was re-analyzed less than 10 minutes ago. Try again in 7 min.".into()
            )
        );
        let cap = r#"{"code":"PT429","message":"you have reached your limit of 50 re-analyses in 24 hours","details":"retry_after=2026-12-03T09:00:00Z","hint":"Try again in 23 h 49 min."}"#;
        assert_eq!(
            classify(429, cap).to_string(),
            "you have reached your limit of 50 re-analyses in 24 hours. Try again in 23 h 49 min."
        );
        assert_eq!(
            classify(429, "rate limited"),
            ApiError::Refused("Too many requests. Try again in a moment.".into()),
            "another 429 is still a refusal, not a server failure"
        );
    }

    #[test]
    fn the_total_is_read_from_postgrests_content_range() {
        assert_eq!(total_of_content_range("0-0/42"), Some(42));
        assert_eq!(total_of_content_range("*/0"), Some(0));
        assert_eq!(total_of_content_range("0-0/*"), None, "no count asked for");
    }

    #[test]
    fn a_refused_review_change_is_explained_in_words() {
        let outside =
            r#"{"code":"42501","message":"you are not assigned to dealership ford-weymouth"}"#;
        assert_eq!(
            classify(403, outside).to_string(),
            "Your role does not allow this: this call is not in your dealerships, or your role cannot change it."
        );
        let notes = r#"{"code":"22023","message":"notes are required to mark a review resolved"}"#;
        assert_eq!(
            classify(400, notes),
            ApiError::Refused("notes are required to mark a review resolved".into())
        );
    }

    #[test]
    fn wrong_credentials_are_recognized_in_both_auth_error_shapes() {
        let new_shape =
            r#"{"code":400,"error_code":"invalid_credentials","msg":"Invalid login credentials"}"#;
        let old_shape = r#"{"error":"invalid_grant","error_description":"Invalid login credentials","message":"Invalid login credentials"}"#;
        assert_eq!(classify(400, new_shape), ApiError::BadCredentials);
        assert_eq!(classify(400, old_shape), ApiError::BadCredentials);
    }
}
