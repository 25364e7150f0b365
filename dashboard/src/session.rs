//! The signed-in session: what Supabase Auth returns, when it must be refreshed, how
//! it is kept in localStorage, and the context signal every page reads through
//! [`use_session`].

use dioxus::prelude::*;
use serde::{Deserialize, Serialize};

use crate::platform;

/// localStorage key. Holds tokens only (no profile data), like supabase-js does.
const STORAGE_KEY: &str = "dcm.session";
/// Refresh this long before the access token expires, so a request never races expiry.
pub const REFRESH_MARGIN_SECS: i64 = 60;

/// The parts of Supabase Auth's token response the dashboard keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub user: SessionUser,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
}

impl Session {
    /// Whether the access token is within [`REFRESH_MARGIN_SECS`] of expiring (or past it).
    pub fn needs_refresh(&self, now_secs: i64) -> bool {
        now_secs >= self.expires_at - REFRESH_MARGIN_SECS
    }

    /// Seconds until the refresh is due (0 when due now).
    pub fn refresh_due_in(&self, now_secs: i64) -> i64 {
        (self.expires_at - REFRESH_MARGIN_SECS - now_secs).max(0)
    }

    pub fn load() -> Option<Session> {
        platform::storage_get(STORAGE_KEY).and_then(|s| serde_json::from_str(&s).ok())
    }

    pub fn store(&self) {
        if let Ok(json) = serde_json::to_string(self) {
            platform::storage_set(STORAGE_KEY, &json);
        }
    }

    pub fn forget() {
        platform::storage_remove(STORAGE_KEY);
    }
}

/// Who is signed in and, after an involuntary sign-out, why.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuthState {
    pub session: Option<Session>,
    /// Shown on the login screen ("Your session expired…").
    pub notice: Option<String>,
}

/// The app-wide session signal.
#[derive(Clone, Copy, PartialEq)]
pub struct SessionCtx(pub Signal<AuthState>);

impl SessionCtx {
    pub fn token(&self) -> Option<String> {
        self.0
            .peek()
            .session
            .as_ref()
            .map(|s| s.access_token.clone())
    }

    pub fn signed_in(mut self, session: Session) {
        session.store();
        self.0.set(AuthState {
            session: Some(session),
            notice: None,
        });
    }

    /// Leaves the app for the login screen, with `notice` explaining why (None for a
    /// sign-out the user asked for).
    pub fn end(mut self, notice: Option<&str>) {
        Session::forget();
        self.0.set(AuthState {
            session: None,
            notice: notice.map(str::to_string),
        });
    }
}

pub const EXPIRED_NOTICE: &str =
    "Your session has ended (it expired or was signed out elsewhere). Please sign in again.";

pub fn use_session() -> SessionCtx {
    use_context::<SessionCtx>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(expires_at: i64) -> Session {
        Session {
            access_token: "a".into(),
            refresh_token: "r".into(),
            expires_at,
            user: SessionUser {
                id: "u".into(),
                email: None,
            },
        }
    }

    #[test]
    fn a_token_is_refreshed_a_minute_before_it_expires() {
        let s = session(10_000);
        assert!(!s.needs_refresh(10_000 - 61));
        assert!(s.needs_refresh(10_000 - 60));
        assert!(
            s.needs_refresh(20_000),
            "an expired token needs a refresh too"
        );
        assert_eq!(s.refresh_due_in(10_000 - 100), 40);
        assert_eq!(s.refresh_due_in(20_000), 0);
    }

    #[test]
    fn the_token_response_of_supabase_auth_reads_as_a_session() {
        let json = r#"{"access_token":"x.y.z","token_type":"bearer","expires_in":3600,"expires_at":1795000000,
            "refresh_token":"abc","user":{"id":"a0000000-0000-4000-8000-000000000003","email":"csm.north@demo.test","aud":"authenticated"}}"#;
        let s: Session = serde_json::from_str(json).unwrap();
        assert_eq!(s.expires_at, 1_795_000_000);
        assert_eq!(s.user.email.as_deref(), Some("csm.north@demo.test"));
    }
}
