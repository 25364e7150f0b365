//! Kong's key-auth, as Supabase configures it: every `/auth/v1` and `/rest/v1`
//! request carries the project's anon or service role key in an `apikey` header
//! (or, as Kong also allows, an `apikey` query parameter).

use axum::extract::{Query, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use subtle::ConstantTimeEq;

use crate::error::GatewayError;
use crate::AppState;

/// The key a request presented, kept for the proxy (which forwards it as the
/// bearer token when the client sent no `Authorization`).
#[derive(Clone)]
pub struct PresentedApiKey(pub String);

/// Where Kong finds the key: the header first, then the query string.
pub fn find_api_key(request: &Request) -> Option<String> {
    if let Some(value) = request.headers().get("apikey") {
        return value.to_str().ok().map(str::to_owned);
    }
    Query::<HashMap<String, String>>::try_from_uri(request.uri())
        .ok()
        .and_then(|Query(params)| params.get("apikey").cloned())
}

/// Rejects requests without a known key; runs before routing to auth or PostgREST.
pub async fn require_api_key(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let key = match find_api_key(&request) {
        Some(key) if !key.is_empty() => key,
        _ => return GatewayError::MissingApiKey.into_response(),
    };
    // Constant-time: the service role key is a secret worth not leaking by timing.
    let known = state.cfg.api_keys().iter().fold(false, |found, candidate| {
        found | bool::from(candidate.as_bytes().ct_eq(key.as_bytes()))
    });
    if !known {
        return GatewayError::InvalidApiKey.into_response();
    }
    request.extensions_mut().insert(PresentedApiKey(key));
    next.run(request).await
}
