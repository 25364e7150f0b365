//! Webhook ingest service: `POST /webhooks/retell` verifies a call event over its
//! raw bytes, normalizes either payload shape, stores it durably in one
//! statement (event, call, dealership, analysis job) and only then answers 200.
//!
//! `main.rs` only reads settings and calls [`Application`]; tests start the same
//! application on a random port.

// The OpenAPI document is one large `json!` literal.
#![recursion_limit = "512"]

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub mod db;
pub mod decode;
pub mod error;
pub mod http;
pub mod invariants;
pub mod metrics;
pub mod normalize;
mod serve;
pub mod settings;
pub mod signature;

pub use settings::Settings;

/// The bound, ready-to-run service.
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    router: axum::Router,
    pool: PgPool,
    shutdown: CancellationToken,
    header_timeout: std::time::Duration,
}

impl Application {
    /// Binds the listener and prepares the pool. The pool connects lazily, so the
    /// service starts (and `/healthz` answers) while the database is still coming
    /// up; `/readyz` says when it is reachable.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(settings.pool_size)
            .acquire_timeout(settings.acquire_timeout)
            // A 200 promises the event survives a Postgres crash, whatever the
            // server's default (the local stack runs synchronous_commit=off).
            .connect_lazy_with(
                settings
                    .connect_options()
                    .options([("synchronous_commit", "on")]),
            );
        let listener = TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("Failed to bind API_BIND={}", settings.bind))?;
        let local_addr = listener
            .local_addr()
            .context("Failed to read the bound address")?;
        tracing::info!(
            addr = %local_addr,
            secrets = settings.webhook_secrets.len(),
            scoped_secrets = settings.webhook_secrets.scoped(),
            allow_bearer = settings.allow_bearer,
            max_body_bytes = settings.max_body_bytes,
            request_timeout_secs = settings.request_timeout.as_secs(),
            pool_size = settings.pool_size,
            mapped_agents = settings.agent_dealerships.len(),
            "webhook ingest listening"
        );
        let header_timeout = settings.request_timeout;
        let state = http::AppState {
            pool: pool.clone(),
            cfg: Arc::new(settings),
            metrics: Arc::new(metrics::Metrics::new()),
        };
        Ok(Application {
            listener,
            local_addr,
            router: http::router(state),
            pool,
            shutdown: CancellationToken::new(),
            header_timeout,
        })
    }

    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Cancel it to stop: the listener closes, in-flight requests finish, then
    /// `run_until_stopped` returns.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        serve::serve(
            self.listener,
            self.router,
            self.header_timeout,
            self.shutdown.clone(),
        )
        .await;
        self.pool.close().await;
        tracing::info!("webhook ingest stopped");
        Ok(())
    }
}
