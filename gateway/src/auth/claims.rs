//! Access token claims, signing and verification (HS256 with `JWT_SECRET`).
//!
//! The claim set is GoTrue's `AccessTokenClaims`: `iss, sub, aud, exp, iat, email,
//! phone, app_metadata, user_metadata, role, aal, amr, session_id, is_anonymous`.
//! Verification follows golang-jwt as GoTrue configures it: no clock leeway, `exp`
//! and `nbf` checked when present, audience checked later by the handler.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Map, Value};

use super::session_store::SessionRecord;
use super::user_store::UserRecord;

/// How the session was authenticated, as the hook's `authentication_method` and
/// GoTrue's `models.AuthenticationMethod` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthenticationMethod {
    Password,
    TokenRefresh,
}

impl AuthenticationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::TokenRefresh => "token_refresh",
        }
    }
}

#[derive(Debug, Serialize)]
struct AmrEntry {
    method: &'static str,
    timestamp: i64,
}

#[derive(Debug, Serialize)]
struct AccessTokenClaims {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    email: String,
    phone: String,
    app_metadata: Value,
    user_metadata: Value,
    role: String,
    aal: String,
    amr: Vec<AmrEntry>,
    session_id: String,
    is_anonymous: bool,
}

/// The claims GoTrue would put in a fresh access token, before the hook.
///
/// `amr` has one `password` entry stamped with the session's start: sessions are only
/// created by the password grant here, and GoTrue keeps a session's `amr` across
/// refreshes.
pub fn base_claims(
    issuer: &str,
    user: &UserRecord,
    session: &SessionRecord,
    issued_at: i64,
    expires_at: i64,
) -> Map<String, Value> {
    let claims = AccessTokenClaims {
        iss: issuer.to_owned(),
        sub: user.id.to_string(),
        aud: user.aud.clone().unwrap_or_default(),
        exp: expires_at,
        iat: issued_at,
        email: user.email.clone().unwrap_or_default(),
        phone: user.phone.clone().unwrap_or_default(),
        app_metadata: user.app_metadata(),
        user_metadata: user.user_metadata(),
        role: user.role.clone().unwrap_or_default(),
        aal: session.aal.clone().unwrap_or_else(|| "aal1".to_owned()),
        amr: vec![AmrEntry {
            method: AuthenticationMethod::Password.as_str(),
            timestamp: session
                .created_at
                .map_or(issued_at, |created| created.timestamp()),
        }],
        session_id: session.id.to_string(),
        is_anonymous: user.is_anonymous,
    };
    match serde_json::to_value(claims) {
        Ok(Value::Object(map)) => map,
        _ => unreachable!("a struct of plain fields serializes to an object"),
    }
}

/// HS256 keys derived from `JWT_SECRET`.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl JwtKeys {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
        }
    }

    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    /// Verifies signature and time claims; the error text follows golang-jwt's wording
    /// because GoTrue puts it into its `bad_jwt` message.
    pub fn verify(&self, token: &str) -> Result<Map<String, Value>, String> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => "token has invalid claims: token is expired".into(),
                ErrorKind::ImmatureSignature => {
                    "token has invalid claims: token is not valid yet".into()
                }
                ErrorKind::InvalidSignature => {
                    "token signature is invalid: signature is invalid".into()
                }
                ErrorKind::InvalidAlgorithm => {
                    "token is unverifiable: signing method is invalid".into()
                }
                _ => format!("token is malformed: {e}"),
            })
    }
}
