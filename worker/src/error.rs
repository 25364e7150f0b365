//! The worker's one error type. Job-level failures of the analyzer are not
//! errors here (they are outcomes, see `jobs`); these are the failures of the
//! worker itself: configuration, database, binding the health port.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use service_support::config::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("could not build the HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error("could not bind {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("unhealthy: {0}")]
    Unhealthy(String),
}

impl WorkerError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            WorkerError::Database(_) | WorkerError::Unhealthy(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine-readable code for the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            WorkerError::Config(_) => "config",
            WorkerError::Database(_) => "database_unavailable",
            WorkerError::HttpClient(_) => "http_client",
            WorkerError::Bind { .. } => "bind",
            WorkerError::Io(_) => "io",
            WorkerError::Unhealthy(_) => "unhealthy",
        }
    }
}

impl IntoResponse for WorkerError {
    fn into_response(self) -> Response {
        // Details go to the log; the response carries a code and a safe summary.
        tracing::warn!(error = %self, "request failed");
        let message = match &self {
            WorkerError::Unhealthy(m) => m.clone(),
            WorkerError::Database(_) => "the database is not reachable".to_string(),
            _ => "internal error".to_string(),
        };
        (
            self.status_code(),
            Json(json!({ "error": self.code(), "message": message })),
        )
            .into_response()
    }
}
