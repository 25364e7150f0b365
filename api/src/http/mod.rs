//! HTTP surface: the shared state and the router. Each route module exports its
//! handlers; they are wired together here.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use sqlx::PgPool;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::settings::Settings;

mod health;
mod metrics;
mod openapi;
mod webhook;

pub use openapi::document as openapi_document;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub cfg: Arc<Settings>,
    pub metrics: Arc<Metrics>,
}

pub fn router(state: AppState) -> Router {
    let body_limit = state.cfg.max_body_bytes;
    Router::new()
        .route(
            "/webhooks/retell",
            post(webhook::receive).layer(DefaultBodyLimit::max(body_limit)),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
        .route("/openapi.json", get(openapi::serve))
        // JSON errors everywhere, so a schema-driven fuzzer sees one error shape.
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        // Method and path only: headers carry the signature, bodies carry transcripts.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}
