//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the
//! database answers too, so a load balancer stops sending webhooks we could not store).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::AppState;
use crate::db;
use crate::error::ApiError;

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    db::ping(&state.pool)
        .await
        .map_err(ApiError::DatabaseUnavailable)?;
    Ok(Json(json!({ "status": "ready" })))
}
