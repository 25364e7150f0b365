//! Tracing set-up: text lines for a terminal, JSON lines when `LOG_FORMAT=json`.
//!
//! Request spans carry the method and path only. The query string is left out on
//! purpose: Kong accepts the `apikey` as a query parameter, and keys must not be logged.

use tracing_subscriber::{fmt, EnvFilter};

use crate::settings::LogFormat;

/// Installs the global subscriber. `RUST_LOG` overrides the default `info` level.
/// Calling it twice (tests) is harmless: the first subscriber stays.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt().with_env_filter(filter).with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
