//! Webhook authentication: Retell's `X-Retell-Signature` HMAC scheme, and an
//! opt-in `Authorization: Bearer` fallback.
//!
//! Pure functions over the header values, the raw body bytes and `now`, so every
//! case (valid, tampered, stale, future, missing, rotated secrets) is unit-tested
//! without a server. The signature covers the exact bytes received: the body is
//! never parsed or re-serialized before it is verified.

use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use crate::settings::{SecretScope, WebhookSecrets};

type HmacSha256 = Hmac<Sha256>;

/// How far the signed timestamp may be from our clock, in either direction.
pub const TOLERANCE_MS: i64 = 5 * 60 * 1000;

/// Why a request was not authenticated. Each maps to a distinct 401 code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no X-Retell-Signature header")]
    Missing,
    #[error("malformed X-Retell-Signature header: {0}")]
    Malformed(&'static str),
    #[error("signature timestamp is {age_ms} ms in the past")]
    Stale { age_ms: i64 },
    #[error("signature timestamp is {ahead_ms} ms in the future")]
    Future { ahead_ms: i64 },
    #[error("signature does not match the body")]
    Invalid,
    #[error("bearer token does not match")]
    InvalidBearer,
    #[error("bearer authentication is disabled")]
    BearerNotAllowed,
}

impl AuthError {
    /// Stable machine-readable code for the JSON error body and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing_signature",
            AuthError::Malformed(_) => "malformed_signature",
            AuthError::Stale { .. } => "stale_signature",
            AuthError::Future { .. } => "future_signature",
            AuthError::Invalid => "invalid_signature",
            AuthError::InvalidBearer => "invalid_bearer_token",
            AuthError::BearerNotAllowed => "bearer_not_allowed",
        }
    }

    /// What went wrong and how the sender fixes it.
    pub fn message(&self) -> String {
        match self {
            AuthError::Missing => "Sign the request: send X-Retell-Signature: v=<unix ms>,d=<hex HMAC-SHA256 of the raw body bytes followed by the timestamp digits, keyed with the shared secret>.".into(),
            AuthError::Malformed(why) => format!(
                "X-Retell-Signature must look like v=1763640000000,d=<64 lowercase hex digits>: {why}."
            ),
            AuthError::Stale { age_ms } => format!(
                "The signature timestamp is {}s old; signatures are valid for 300s. Sign each delivery (and each retry) with the current time, and check the sender's clock.",
                age_ms / 1000
            ),
            AuthError::Future { ahead_ms } => format!(
                "The signature timestamp is {}s in the future; at most 300s of clock skew is tolerated. Check the sender's clock (NTP) and that v= is in milliseconds.",
                ahead_ms / 1000
            ),
            AuthError::Invalid => "The signature does not match. Compute HMAC-SHA256 over the exact body bytes sent followed by the v= timestamp digits, with a current secret, and do not re-serialize the JSON after signing.".into(),
            AuthError::InvalidBearer => "The bearer token is not one of the configured webhook secrets.".into(),
            AuthError::BearerNotAllowed => "Authorization: Bearer is disabled on this server (WEBHOOK_ALLOW_BEARER=false); sign the request with X-Retell-Signature instead.".into(),
        }
    }
}

/// How a request was authenticated (logged, so operators can see who still uses
/// the weaker bearer mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Signature,
    Bearer,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Signature => "signature",
            AuthMethod::Bearer => "bearer",
        }
    }
}

/// Who sent an authenticated delivery: how it proved it, and what the secret it
/// used may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender<'a> {
    pub method: AuthMethod,
    pub scope: &'a SecretScope,
}

/// Authenticates a delivery. A signature header, when present, always decides
/// (a bearer token cannot rescue a bad signature); otherwise a bearer token is
/// accepted only when `allow_bearer` is on.
pub fn authenticate<'a>(
    signature_header: Option<&[u8]>,
    authorization_header: Option<&[u8]>,
    body: &[u8],
    now_ms: i64,
    secrets: &'a WebhookSecrets,
    allow_bearer: bool,
) -> Result<Sender<'a>, AuthError> {
    let (method, index) = if let Some(sig) = signature_header {
        (
            AuthMethod::Signature,
            verify(Some(sig), body, now_ms, secrets)?,
        )
    } else {
        match authorization_header {
            Some(auth) if allow_bearer => (AuthMethod::Bearer, verify_bearer(auth, secrets)?),
            Some(auth) if is_bearer(auth) => return Err(AuthError::BearerNotAllowed),
            _ => return Err(AuthError::Missing),
        }
    };
    let entry = secrets
        .get(index)
        .expect("the verifiers return the index of a configured secret");
    Ok(Sender {
        method,
        scope: &entry.scope,
    })
}

/// The index of the matching secret, chosen without branching on secret data.
fn matching_index(matches: impl Iterator<Item = Choice>) -> Option<usize> {
    let mut matched = Choice::from(0);
    let mut index = 0u32;
    for (i, is_match) in matches.enumerate() {
        let i = u32::try_from(i).expect("fewer than 2^32 secrets");
        index = u32::conditional_select(&index, &i, is_match);
        matched |= is_match;
    }
    bool::from(matched).then_some(index as usize)
}

/// Verifies `X-Retell-Signature: v=<unix ms>,d=<hex hmac>` over `body ++ v` and
/// returns the index of the secret that signed it (its scope applies).
///
/// Every secret is tried (rotation); the comparison is constant-time.
pub fn verify(
    header: Option<&[u8]>,
    body: &[u8],
    now_ms: i64,
    secrets: &WebhookSecrets,
) -> Result<usize, AuthError> {
    let header = header.ok_or(AuthError::Missing)?;
    let header =
        std::str::from_utf8(header).map_err(|_| AuthError::Malformed("the header is not ASCII"))?;
    let (ts_digits, digest) = parse_header(header)?;
    let ts: i64 = ts_digits
        .parse()
        .map_err(|_| AuthError::Malformed("v= is too large to be a timestamp"))?;

    let skew = now_ms.saturating_sub(ts);
    if skew > TOLERANCE_MS {
        return Err(AuthError::Stale { age_ms: skew });
    }
    if skew < -TOLERANCE_MS {
        return Err(AuthError::Future {
            ahead_ms: skew.saturating_neg(),
        });
    }

    // Check every secret, without stopping at the first match, so the time taken
    // does not reveal which secret matched.
    let matches = secrets.iter().map(|entry| {
        let mut mac = HmacSha256::new_from_slice(entry.secret.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(body);
        // Retell signs the timestamp digits exactly as they appear in the header.
        mac.update(ts_digits.as_bytes());
        mac.finalize().into_bytes().as_slice().ct_eq(&digest)
    });
    matching_index(matches).ok_or(AuthError::Invalid)
}

/// Splits `v=<digits>,d=<64 hex>` (either order, optional spaces).
fn parse_header(header: &str) -> Result<(&str, [u8; 32]), AuthError> {
    let mut ts = None;
    let mut digest = None;
    for part in header.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("v=") {
            if ts.replace(v).is_some() {
                return Err(AuthError::Malformed("v= appears more than once"));
            }
        } else if let Some(d) = part.strip_prefix("d=") {
            if digest.replace(d).is_some() {
                return Err(AuthError::Malformed("d= appears more than once"));
            }
        } else {
            return Err(AuthError::Malformed("expected only v= and d= parts"));
        }
    }
    let ts = ts.ok_or(AuthError::Malformed("the v= timestamp is missing"))?;
    let digest = digest.ok_or(AuthError::Malformed("the d= digest is missing"))?;
    if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AuthError::Malformed(
            "v= must be the Unix time in milliseconds, digits only",
        ));
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(digest, &mut bytes)
        .map_err(|_| AuthError::Malformed("d= must be 64 hex digits (a SHA-256 HMAC)"))?;
    Ok((ts, bytes))
}

fn is_bearer(header: &[u8]) -> bool {
    header.len() >= 7 && header[..7].eq_ignore_ascii_case(b"bearer ")
}

/// Accepts `Authorization: Bearer <secret>` when the token equals a configured
/// secret (constant-time per secret); returns that secret's index.
pub fn verify_bearer(header: &[u8], secrets: &WebhookSecrets) -> Result<usize, AuthError> {
    if !is_bearer(header) {
        return Err(AuthError::Missing);
    }
    let token = header[7..].trim_ascii();
    let matches = secrets
        .iter()
        .map(|entry| entry.secret.expose_secret().as_bytes().ct_eq(token));
    matching_index(matches).ok_or(AuthError::InvalidBearer)
}

/// Builds a header value: what senders (and the tests) do. Defined in `domain`,
/// which the demo sender and the end-to-end tests share.
pub use domain::signature::sign;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::WebhookSecret;
    use secrecy::SecretString;

    // The recipe's test vector (Retell's Node SDK, Python hmac and openssl agree).
    const VECTOR_BODY: &str = r#"{"event":"call_ended","call":{"call_id":"call_a1b2c3","agent_id":"agent_x","call_status":"ended"}}"#;
    const VECTOR_KEY: &str = "key_0123456789abcdef0123456789abcdef";
    const VECTOR_TS: i64 = 1_763_640_000_000;
    const VECTOR_HEADER: &str =
        "v=1763640000000,d=2c9d7e45b71264553a857b41481c15e4563fad79dd2fa696489bed53f285a587";

    fn secrets(keys: &[&str]) -> WebhookSecrets {
        WebhookSecrets::new(keys.iter().map(|k| SecretString::from(*k)).collect())
    }

    fn check(header: &str, body: &str, now_ms: i64) -> Result<(), AuthError> {
        verify(
            Some(header.as_bytes()),
            body.as_bytes(),
            now_ms,
            &secrets(&[VECTOR_KEY]),
        )
        .map(|_| ())
    }

    #[test]
    fn signing_the_recipe_vector_reproduces_its_header() {
        assert_eq!(
            sign(VECTOR_BODY.as_bytes(), VECTOR_TS, VECTOR_KEY),
            VECTOR_HEADER
        );
    }

    #[test]
    fn the_recipe_vector_verifies() {
        assert_eq!(check(VECTOR_HEADER, VECTOR_BODY, VECTOR_TS), Ok(()));
    }

    #[test]
    fn a_tampered_body_is_invalid() {
        let tampered = VECTOR_BODY.replace("ended\"}", "ongoing\"}");
        assert_eq!(
            check(VECTOR_HEADER, &tampered, VECTOR_TS),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn a_tampered_timestamp_is_invalid() {
        let header = VECTOR_HEADER.replace("v=1763640000000", "v=1763640000001");
        assert_eq!(
            check(&header, VECTOR_BODY, VECTOR_TS),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn a_wrong_secret_is_invalid() {
        let result = verify(
            Some(VECTOR_HEADER.as_bytes()),
            VECTOR_BODY.as_bytes(),
            VECTOR_TS,
            &secrets(&["key_another_secret_entirely_000"]),
        );
        assert_eq!(result, Err(AuthError::Invalid));
    }

    #[test]
    fn any_of_several_rotating_secrets_verifies() {
        let result = verify(
            Some(VECTOR_HEADER.as_bytes()),
            VECTOR_BODY.as_bytes(),
            VECTOR_TS,
            &secrets(&["key_the_new_secret_0000000000", VECTOR_KEY]),
        );
        assert_eq!(result, Ok(1), "the second secret signed it");
    }

    #[test]
    fn exactly_five_minutes_of_skew_is_accepted_either_way() {
        assert_eq!(
            check(VECTOR_HEADER, VECTOR_BODY, VECTOR_TS + TOLERANCE_MS),
            Ok(())
        );
        assert_eq!(
            check(VECTOR_HEADER, VECTOR_BODY, VECTOR_TS - TOLERANCE_MS),
            Ok(())
        );
    }

    #[test]
    fn an_old_timestamp_is_stale() {
        let result = check(VECTOR_HEADER, VECTOR_BODY, VECTOR_TS + TOLERANCE_MS + 1);
        assert_eq!(
            result,
            Err(AuthError::Stale {
                age_ms: TOLERANCE_MS + 1
            })
        );
    }

    #[test]
    fn a_timestamp_from_the_future_is_rejected() {
        let result = check(VECTOR_HEADER, VECTOR_BODY, VECTOR_TS - TOLERANCE_MS - 1);
        assert_eq!(
            result,
            Err(AuthError::Future {
                ahead_ms: TOLERANCE_MS + 1
            })
        );
    }

    #[test]
    fn a_missing_header_is_missing() {
        let result = verify(
            None,
            VECTOR_BODY.as_bytes(),
            VECTOR_TS,
            &secrets(&[VECTOR_KEY]),
        );
        assert_eq!(result, Err(AuthError::Missing));
    }

    #[test]
    fn malformed_headers_are_malformed() {
        for header in [
            "",
            "garbage",
            "v=1763640000000",
            "d=2c9d7e45b71264553a857b41481c15e4563fad79dd2fa696489bed53f285a587",
            "v=abc,d=2c9d7e45b71264553a857b41481c15e4563fad79dd2fa696489bed53f285a587",
            "v=1763640000000,d=xyz",
            "v=1763640000000,d=2c9d",
            "v=99999999999999999999999,d=2c9d7e45b71264553a857b41481c15e4563fad79dd2fa696489bed53f285a587",
            "v=1,v=2,d=2c9d7e45b71264553a857b41481c15e4563fad79dd2fa696489bed53f285a587",
        ] {
            let result = check(header, VECTOR_BODY, VECTOR_TS);
            assert!(
                matches!(result, Err(AuthError::Malformed(_))),
                "{header:?} gave {result:?}"
            );
        }
    }

    #[test]
    fn parts_may_come_in_either_order_with_spaces() {
        let header =
            "d=2c9d7e45b71264553a857b41481c15e4563fad79dd2fa696489bed53f285a587, v=1763640000000";
        assert_eq!(check(header, VECTOR_BODY, VECTOR_TS), Ok(()));
    }

    #[test]
    fn a_signature_header_decides_even_when_a_bearer_token_is_present() {
        let secrets = secrets(&[VECTOR_KEY]);
        let result = authenticate(
            Some(b"v=1763640000000,d=00"),
            Some(format!("Bearer {VECTOR_KEY}").as_bytes()),
            VECTOR_BODY.as_bytes(),
            VECTOR_TS,
            &secrets,
            true,
        );
        assert!(matches!(result, Err(AuthError::Malformed(_))));
    }

    #[test]
    fn bearer_tokens_are_refused_unless_enabled() {
        let auth = format!("Bearer {VECTOR_KEY}");
        let secrets = secrets(&[VECTOR_KEY]);
        let run = |allow| {
            authenticate(
                None,
                Some(auth.as_bytes()),
                b"{}",
                VECTOR_TS,
                &secrets,
                allow,
            )
        };
        assert_eq!(
            run(false).map(|s| s.method),
            Err(AuthError::BearerNotAllowed)
        );
        assert_eq!(run(true).map(|s| s.method), Ok(AuthMethod::Bearer));
    }

    #[test]
    fn a_wrong_bearer_token_is_invalid() {
        let secrets = secrets(&[VECTOR_KEY]);
        let result = authenticate(
            None,
            Some(b"Bearer not-the-secret"),
            b"{}",
            VECTOR_TS,
            &secrets,
            true,
        );
        assert_eq!(result, Err(AuthError::InvalidBearer));
    }

    #[test]
    fn the_scope_of_the_secret_that_signed_or_was_presented_applies() {
        let scoped = SecretScope::Only(["toyota-braintree".to_owned()].into());
        let secrets = WebhookSecrets::with_scopes(vec![
            WebhookSecret {
                secret: SecretString::from("key_unscoped_retell_0123456789abcdef"),
                scope: SecretScope::Any,
            },
            WebhookSecret {
                secret: SecretString::from(VECTOR_KEY),
                scope: scoped.clone(),
            },
        ]);
        let signed = authenticate(
            Some(VECTOR_HEADER.as_bytes()),
            None,
            VECTOR_BODY.as_bytes(),
            VECTOR_TS,
            &secrets,
            false,
        )
        .unwrap();
        assert_eq!(signed.method, AuthMethod::Signature);
        assert_eq!(signed.scope, &scoped);

        let bearer = format!("Bearer {VECTOR_KEY}");
        let presented = authenticate(
            None,
            Some(bearer.as_bytes()),
            b"{}",
            VECTOR_TS,
            &secrets,
            true,
        )
        .unwrap();
        assert_eq!(presented.method, AuthMethod::Bearer);
        assert_eq!(presented.scope, &scoped);

        let other = "Bearer key_unscoped_retell_0123456789abcdef";
        let unscoped = authenticate(
            None,
            Some(other.as_bytes()),
            b"{}",
            VECTOR_TS,
            &secrets,
            true,
        )
        .unwrap();
        assert_eq!(unscoped.scope, &SecretScope::Any);
    }

    #[test]
    fn every_error_has_a_distinct_code() {
        let errors = [
            AuthError::Missing,
            AuthError::Malformed("x"),
            AuthError::Stale { age_ms: 1 },
            AuthError::Future { ahead_ms: 1 },
            AuthError::Invalid,
            AuthError::InvalidBearer,
            AuthError::BearerNotAllowed,
        ];
        let codes: std::collections::HashSet<_> = errors.iter().map(AuthError::code).collect();
        assert_eq!(codes.len(), errors.len());
    }
}
