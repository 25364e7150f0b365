//! `api` binary: read the settings, start the webhook ingest service, stop on
//! SIGINT/SIGTERM. Everything else lives in the library.

use api::{Application, Settings};
use service_support::{shutdown, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            // Logging is not set up yet (LOG_FORMAT is itself a setting).
            eprintln!("api: {e}");
            std::process::exit(2);
        }
    };
    telemetry::init(settings.log_format, "info,sqlx=warn,tower_http=info");
    let app = Application::build(settings).await?;
    shutdown::cancel_on_signals(app.shutdown_token());
    app.run_until_stopped().await
}
