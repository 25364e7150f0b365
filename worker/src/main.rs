//! The `worker` binary: read settings, start, stop on SIGINT/SIGTERM.

use std::process::ExitCode;

use service_support::{shutdown::cancel_on_signals, telemetry};
use worker::{Application, Settings};

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("worker: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(
        settings.log_format,
        "info,sqlx=warn,hyper=warn,reqwest=warn",
    );
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %e, "worker could not start");
            return ExitCode::FAILURE;
        }
    };
    cancel_on_signals(app.shutdown_token());
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "worker stopped with an error");
            ExitCode::FAILURE
        }
    }
}
