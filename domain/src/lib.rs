//! Types shared by the api, the worker and the dashboard.
//!
//! Kept free of server-only crates so the dashboard can use it on wasm32.

pub mod analysis;
pub mod evidence;
pub mod review;
pub mod signals;
pub mod signature;
