//! What the api, worker and gateway binaries share: reading configuration, stopping
//! on SIGINT/SIGTERM and the tracing setup.

pub mod config;
pub mod shutdown;
pub mod telemetry;
