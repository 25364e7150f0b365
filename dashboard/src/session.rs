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

/// What to do when the session in memory and the one in localStorage differ.
#[derive(Debug, Clone, PartialEq)]
pub enum Reconcile {
    /// They agree (or both are absent).
    Keep,
    /// Another tab of the same user refreshed (or signed in): use its tokens.
    Adopt(Session),
    /// Signed out (here or in another tab), or another user signed in: this page's
    /// session is over.
    End,
}

/// localStorage is the source of truth: a page restored by the browser's Back button
/// (bfcache) still holds the old session in memory after a sign-out, and must not act
/// with it.
pub fn reconcile(memory: Option<&Session>, stored: Option<Session>) -> Reconcile {
    match (memory, stored) {
        (None, None) => Reconcile::Keep,
        (None, Some(stored)) => Reconcile::Adopt(stored),
        (Some(_), None) => Reconcile::End,
        (Some(m), Some(s)) if m.user.id != s.user.id => Reconcile::End,
        (Some(m), Some(s)) if m.access_token != s.access_token => Reconcile::Adopt(s),
        (Some(_), Some(_)) => Reconcile::Keep,
    }
}

impl SessionCtx {
    /// The access token to send, after checking the session is still the stored one;
    /// `None` (and the login screen) when it was signed out meanwhile.
    pub fn token(&self) -> Option<String> {
        self.sync();
        self.0
            .peek()
            .session
            .as_ref()
            .map(|s| s.access_token.clone())
    }

    /// Brings the in-memory session in line with localStorage (see [`reconcile`]).
    pub fn sync(&self) {
        let decision = reconcile(self.0.peek().session.as_ref(), Session::load());
        let mut state = self.0;
        match decision {
            Reconcile::Keep => {}
            Reconcile::Adopt(session) => state.set(AuthState {
                session: Some(session),
                notice: None,
            }),
            Reconcile::End => self.end(Some(SIGNED_OUT_NOTICE)),
        }
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

pub const SIGNED_OUT_NOTICE: &str =
    "You were signed out (in this or another tab). Please sign in again.";

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

    fn session_of(user: &str, token: &str) -> Session {
        Session {
            access_token: token.into(),
            user: SessionUser {
                id: user.into(),
                email: None,
            },
            ..session(1)
        }
    }

    #[test]
    fn a_page_whose_stored_session_was_signed_out_ends_its_own() {
        let memory = session_of("u1", "t1");
        assert_eq!(reconcile(Some(&memory), None), Reconcile::End);
    }

    #[test]
    fn a_page_ends_its_session_when_another_user_signed_in_meanwhile() {
        let memory = session_of("u1", "t1");
        let stored = session_of("u2", "t2");
        assert_eq!(reconcile(Some(&memory), Some(stored)), Reconcile::End);
    }

    #[test]
    fn tokens_refreshed_by_another_tab_of_the_same_user_are_adopted() {
        let memory = session_of("u1", "t1");
        let stored = session_of("u1", "t2");
        assert_eq!(
            reconcile(Some(&memory), Some(stored.clone())),
            Reconcile::Adopt(stored)
        );
        assert_eq!(
            reconcile(Some(&memory), Some(memory.clone())),
            Reconcile::Keep
        );
        assert_eq!(reconcile(None, None), Reconcile::Keep);
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
