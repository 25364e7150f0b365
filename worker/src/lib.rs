//! The analysis worker: claims jobs from `public.analysis_jobs`, judges each
//! call with the OpenAI analyzer or the offline heuristic analyzer, and writes
//! `call_analyses` (and `processing_errors` on final failure).
//!
//! `Application::build(settings)` connects and binds the health/metrics port;
//! `run_until_stopped` runs the job loop and the HTTP server until the
//! shutdown token is cancelled (SIGINT/SIGTERM in the binary). Tests drive
//! single jobs with [`run_one_job`].

pub mod analyzer;
pub mod db;
pub mod error;
pub mod evaluation;
pub mod http;
pub mod jobs;
pub mod metrics;
pub mod runner;
pub mod settings;

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use analyzer::Analyzer;
pub use error::WorkerError;
pub use jobs::{run_one_job, JobOutcome, OutcomeKind, SkipReason};
pub use settings::{QueueSettings, Settings};

/// A built worker: connected, port bound, not yet running.
pub struct Application {
    listener: TcpListener,
    port: u16,
    pool: PgPool,
    analyzer: Arc<Analyzer>,
    settings: Settings,
    shutdown: CancellationToken,
}

impl Application {
    /// Connects to Postgres and binds `WORKER_BIND` (port 0 picks a free port).
    pub async fn build(settings: Settings) -> Result<Application, WorkerError> {
        // One connection per in-flight job, one for LISTEN, a few for claims,
        // lease renewals and probes.
        let pool = PgPoolOptions::new()
            .max_connections(u32::try_from(settings.queue.concurrency + 4).unwrap_or(u32::MAX))
            .acquire_timeout(Duration::from_secs(10))
            .connect(settings.database_url())
            .await?;
        Application::build_with_pool(settings, pool).await
    }

    /// Like [`Application::build`] with an existing pool.
    pub async fn build_with_pool(
        settings: Settings,
        pool: PgPool,
    ) -> Result<Application, WorkerError> {
        let analyzer = Arc::new(Analyzer::new(
            settings.openai.as_ref(),
            settings.max_transcript_chars,
        )?);
        let listener =
            TcpListener::bind(settings.bind)
                .await
                .map_err(|source| WorkerError::Bind {
                    addr: settings.bind,
                    source,
                })?;
        let port = listener.local_addr()?.port();
        Ok(Application {
            listener,
            port,
            pool,
            analyzer,
            settings,
            shutdown: CancellationToken::new(),
        })
    }

    /// The bound health/metrics port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cancelling this token starts a graceful shutdown.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Runs the job loop and the HTTP server until shutdown; returns once
    /// in-flight jobs are drained (or the grace period is over).
    pub async fn run_until_stopped(self) -> Result<(), WorkerError> {
        match &*self.analyzer {
            Analyzer::Heuristic(_) => tracing::warn!(
                model = analyzer::heuristic::MODEL,
                "OPENAI_API_KEY is not set: using the offline heuristic analyzer (rules, no LLM)"
            ),
            Analyzer::OpenAi(a) => tracing::info!(
                model = a.model(),
                prompt_version = a.prompt_version(),
                base_url = self.settings.openai.as_ref().map(|o| o.base_url.as_str()),
                "using the OpenAI analyzer"
            ),
        }
        let loop_state = Arc::new(runner::LoopState::default());
        let router = http::router(http::AppState {
            pool: self.pool.clone(),
            loop_state: loop_state.clone(),
            worker_id: self.settings.queue.worker_id.clone(),
            analyzer_model: self.analyzer.model().to_string(),
        });
        tracing::info!(port = self.port, "health and metrics listening");
        let token = self.shutdown.clone();
        let server = axum::serve(self.listener, router)
            .with_graceful_shutdown(self.shutdown.clone().cancelled_owned());
        let worker = async {
            let result = runner::run(
                self.pool.clone(),
                self.analyzer.clone(),
                self.settings.queue.clone(),
                self.shutdown.clone(),
                loop_state,
            )
            .await;
            // A loop that could not start must not leave the server running.
            token.cancel();
            result
        };
        let (worker_result, server_result) = tokio::join!(worker, server);
        worker_result?;
        server_result?;
        Ok(())
    }
}
