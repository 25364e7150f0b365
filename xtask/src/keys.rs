//! Local-only credentials: Supabase's well-known local JWT secret and the anon and
//! service-role keys it signs (byte for byte the keys `supabase start` prints), and
//! the webhook secret, generated once per checkout, and the demo users' password.

use anyhow::{Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;

/// The demo users' password (README, `stack.env`).
pub const DEMO_PASSWORD: &str = "demo-password-123";

/// Supabase's published local-development secret. Never used outside the local stack.
pub const JWT_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

/// An HS256 JWT over exactly `payload` (the header is fixed, as Supabase's local keys use).
pub fn sign_hs256(secret: &str, payload: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(payload);
    let signing_input = format!("{header}.{body}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length works");
    mac.update(signing_input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

pub fn anon_key() -> String {
    sign_hs256(
        JWT_SECRET,
        r#"{"iss":"supabase-demo","role":"anon","exp":1983812996}"#,
    )
}

pub fn service_role_key() -> String {
    sign_hs256(
        JWT_SECRET,
        r#"{"iss":"supabase-demo","role":"service_role","exp":1983812996}"#,
    )
}

/// The api's shortest accepted webhook secret, in bytes (`MIN_SECRET_LEN` in
/// api/src/settings.rs).
const API_MIN_SECRET_LEN: usize = 32;

/// A random 32-byte hex secret (70 characters with its prefix).
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// Whether the api accepts `secret` as one unscoped `WEBHOOK_SECRETS` entry: long
/// enough, and without the `,` and `:` that separate entries and scopes.
fn api_accepts(secret: &str) -> bool {
    secret.len() >= API_MIN_SECRET_LEN
        && !secret.contains([',', ':'])
        && !secret.chars().any(char::is_whitespace)
}

/// Reads the secret stored at `path`, creating it on first use (or replacing
/// one the api would refuse, e.g. a short one written by hand).
pub fn persistent_secret(path: &Path) -> Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_string();
        if api_accepts(&existing) {
            return Ok(existing);
        }
    }
    let secret = random_secret();
    std::fs::create_dir_all(path.parent().context("secret path has a parent")?)?;
    std::fs::write(path, format!("{secret}\n"))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_webhook_secret_is_one_the_api_accepts() {
        let secret = random_secret();
        assert!(api_accepts(&secret), "{secret}");
        assert_eq!(secret.len(), 70);
        assert_ne!(secret, random_secret());
    }

    #[test]
    fn a_stored_secret_the_api_would_refuse_is_replaced() {
        let dir = std::env::temp_dir().join(format!("xtask-keys-{}", std::process::id()));
        let path = dir.join("webhook_secret");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, "whsec_too_short\n").unwrap();
        let replaced = persistent_secret(&path).unwrap();
        assert!(api_accepts(&replaced), "{replaced}");
        assert_eq!(persistent_secret(&path).unwrap(), replaced, "then kept");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn local_keys_match_the_ones_supabase_publishes() {
        assert_eq!(anon_key(), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0");
        assert_eq!(service_role_key(), "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU");
    }
}
