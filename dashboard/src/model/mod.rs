//! The pure part of the dashboard: no Dioxus, no network, host-tested. The review
//! status machine and who may do what, health, agent version and agreement
//! figures, how values read, time windows, keyboard shortcuts, CSV safety, the
//! queue's rows and how a confirmation names a call.

pub mod bulk;
pub mod call_name;
#[cfg(test)]
pub mod contrast;
pub mod csv;
pub mod format;
pub mod health_summary;
pub mod keys;
pub mod labelling;
pub mod queue_row;
pub mod review;
pub mod time;
pub mod version_comparison;
