//! What the api, worker and gateway binaries share: stopping on SIGINT/SIGTERM and
//! the tracing setup.

pub mod shutdown;
pub mod telemetry;
