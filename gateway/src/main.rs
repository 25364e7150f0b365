//! `gateway`: the local Supabase stand-in (Kong + GoTrue subset + dashboard files).
//! Configuration comes from the environment; see docs/local-auth.md.

use std::process::ExitCode;

use gateway::{Application, Settings};
use service_support::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One readable line naming the variable or port at fault.
            eprintln!("gateway: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    telemetry::init(settings.log_format, "info");
    Application::build(settings)
        .await?
        .run_until_stopped()
        .await
}
