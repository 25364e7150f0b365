//! The optional second listener: serves the built dashboard (a single-page app).
//!
//! Files are served from `DASHBOARD_DIR`, precompressed `.br`/`.gz` siblings when
//! present, otherwise compressed on the fly. Paths that look like app routes (no file
//! extension) fall back to `index.html`, so deep links survive a reload; a missing
//! asset (`/x.js`) stays a 404 instead of answering HTML to a script tag.
//! `index.html` and `config.json` are sent with `Cache-Control: no-cache` because they
//! change on every build/configuration while keeping their names.

use std::path::PathBuf;

use axum::extract::Request;
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};

pub fn router(dir: PathBuf) -> Router {
    let index = dir.join("index.html");
    let spa_fallback = move |request: Request| {
        let index = index.clone();
        async move {
            let last_segment = request.uri().path().rsplit('/').next().unwrap_or_default();
            if last_segment.contains('.') {
                return StatusCode::NOT_FOUND.into_response();
            }
            match ServeFile::new(index).oneshot(request).await {
                Ok(response) => response.into_response(),
                Err(never) => match never {},
            }
        }
    };
    let files = ServeDir::new(dir)
        .append_index_html_on_directories(true)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(spa_fallback.into_service());

    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(no_cache_for_entry_points))
        .layer(CompressionLayer::new())
}

async fn no_cache_for_entry_points(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html || path.ends_with("/config.json") || path.ends_with("/index.html") {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}
