//! `/rest/v1/*` -> PostgREST, the way Supabase's Kong route does it.
//!
//! The prefix is stripped; method, headers (Prefer, Range, Accept, Accept-Profile,
//! Content-Profile, ...), query and body are streamed through unchanged, and so is
//! the answer (status, Content-Range, Location, body). Like Kong's key-auth with
//! `hide_credentials`, the `apikey` header and query parameter are not forwarded
//! (PostgREST would read an `apikey` query parameter as a column filter). When the
//! client sent no `Authorization`, the key becomes the bearer token, so PostgREST
//! runs the request as that key's role.

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;

use crate::apikey::PresentedApiKey;
use crate::error::GatewayError;
use crate::AppState;

/// The path prefix Supabase uses for PostgREST.
pub const PREFIX: &str = "/rest/v1";

/// Connection-level headers (RFC 9110 section 7.6.1) that a proxy must not forward.
const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
];

pub async fn forward(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, GatewayError> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().strip_prefix(PREFIX).unwrap_or("");
    let path = if path.is_empty() { "/" } else { path };
    let query = parts
        .uri
        .query()
        .map(without_api_key)
        .filter(|q| !q.is_empty())
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let url = format!("{}{path}{query}", state.cfg.postgrest_url);

    let mut headers = forwardable(&parts.headers);
    headers.remove(header::HOST);
    headers.remove("apikey");
    if !headers.contains_key(header::AUTHORIZATION) {
        if let Some(PresentedApiKey(key)) = parts.extensions.get::<PresentedApiKey>() {
            if let Ok(value) = HeaderValue::from_str(&format!("Bearer {key}")) {
                headers.insert(header::AUTHORIZATION, value);
            }
        }
    }

    let mut upstream = state.http.request(parts.method, url).headers(headers);
    // A GET or a body-less DELETE must stay body-less upstream: a streamed body would
    // turn into `Transfer-Encoding: chunked`.
    if !body.is_end_stream() {
        upstream = upstream.body(reqwest::Body::wrap_stream(body.into_data_stream()));
    }
    let answer = upstream.send().await.map_err(GatewayError::BadGateway)?;

    let mut response = Response::builder().status(answer.status());
    if let Some(out) = response.headers_mut() {
        *out = forwardable(answer.headers());
    }
    Ok(response
        .body(Body::from_stream(answer.bytes_stream()))
        .expect("status and headers come from a valid response"))
}

fn forwardable(headers: &HeaderMap) -> HeaderMap {
    let mut out = headers.clone();
    for name in HOP_BY_HOP.iter().chain([&header::TRANSFER_ENCODING]) {
        out.remove(name);
    }
    out
}

/// Drops `apikey=...` pairs and keeps every other pair byte for byte, so PostgREST
/// sees exactly the filters the client encoded.
fn without_api_key(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !name.is_empty() && name != "apikey"
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::without_api_key;

    #[test]
    fn the_apikey_query_parameter_is_removed_and_the_rest_kept_verbatim() {
        assert_eq!(
            without_api_key("select=id,body&apikey=abc.def&body=eq.a%20b&order=id.desc"),
            "select=id,body&body=eq.a%20b&order=id.desc"
        );
        assert_eq!(without_api_key("apikey=abc"), "");
    }
}
