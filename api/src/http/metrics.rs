//! `GET /metrics`: Prometheus text exposition of the webhook counters.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::AppState;

pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let pool = (state.pool.size(), state.pool.num_idle());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(pool),
    )
}
