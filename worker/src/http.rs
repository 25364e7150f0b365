//! `GET /healthz` and `GET /metrics`, for `up`, deployments and Prometheus.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::db;
use crate::error::WorkerError;
use crate::metrics::METRICS;
use crate::runner::LoopState;

/// A probe must answer quickly even when the database hangs.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub loop_state: Arc<LoopState>,
    pub worker_id: String,
    pub analyzer_model: String,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// 200 when the job loop runs and the database answers; 503 JSON otherwise.
async fn healthz(State(s): State<AppState>) -> Result<Json<Value>, WorkerError> {
    if !s.loop_state.is_running() {
        return Err(WorkerError::Unhealthy(
            "the job loop is not running".to_string(),
        ));
    }
    match tokio::time::timeout(PROBE_TIMEOUT, db::ping(&s.pool)).await {
        Err(_) => Err(WorkerError::Unhealthy(
            "the database did not answer in time".to_string(),
        )),
        Ok(Err(e)) => Err(WorkerError::Database(e)),
        Ok(Ok(())) => Ok(Json(json!({
            "status": "ok",
            "worker_id": s.worker_id,
            "analyzer": s.analyzer_model,
        }))),
    }
}

/// Prometheus text format; queue gauges are omitted when the database is down
/// (the counters are still worth scraping then).
async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    let queue = match tokio::time::timeout(PROBE_TIMEOUT, db::queue_stats(&s.pool)).await {
        Ok(Ok(q)) => Some(q),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "could not read queue stats");
            None
        }
        Err(_) => None,
    };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        METRICS.render(queue),
    )
}
