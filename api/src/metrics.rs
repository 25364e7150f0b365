//! Prometheus metrics for the webhook, rendered in the text exposition format.
//!
//! Hand-rolled (a few counters and one histogram) rather than a metrics crate:
//! the set is small and fixed, and this keeps the dependency tree and the
//! exposition output obvious. Every label value is pre-registered at zero so
//! `rate()` works before the first rejection of a kind.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::error::CLIENT_ERROR_CODES;

/// How a webhook request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Stored (200 accepted).
    Accepted,
    /// Already stored before (200 duplicate).
    Duplicate,
    /// Refused as bad input or unauthenticated (4xx).
    Rejected,
    /// Not stored because of a server-side problem (5xx); the sender retries.
    Failed,
}

impl Outcome {
    const ALL: [Outcome; 4] = [
        Outcome::Accepted,
        Outcome::Duplicate,
        Outcome::Rejected,
        Outcome::Failed,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Duplicate => "duplicate",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
        }
    }
}

/// Upper bounds (seconds) of the latency histogram: fine-grained below the
/// 1 s answer budget, coarse above it.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

pub struct Metrics {
    requests: Mutex<BTreeMap<&'static str, u64>>,
    rejections: Mutex<BTreeMap<&'static str, u64>>,
    duplicates: AtomicU64,
    unresolved_dealerships: AtomicU64,
    jobs_enqueued: AtomicU64,
    nul_replaced: AtomicU64,
    bucket_counts: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Metrics {
            requests: Mutex::new(Outcome::ALL.iter().map(|o| (o.as_str(), 0)).collect()),
            rejections: Mutex::new(
                CLIENT_ERROR_CODES
                    .iter()
                    .map(|c| (*c, 0))
                    .chain([("database_unavailable", 0), ("internal_error", 0)])
                    .collect(),
            ),
            duplicates: AtomicU64::new(0),
            unresolved_dealerships: AtomicU64::new(0),
            jobs_enqueued: AtomicU64::new(0),
            nul_replaced: AtomicU64::new(0),
            bucket_counts: std::array::from_fn(|_| AtomicU64::new(0)),
            latency_count: AtomicU64::new(0),
            latency_sum_micros: AtomicU64::new(0),
        }
    }

    /// Records one finished webhook request.
    pub fn observe(&self, outcome: Outcome, elapsed: Duration) {
        *lock(&self.requests).entry(outcome.as_str()).or_insert(0) += 1;
        if outcome == Outcome::Duplicate {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        }
        let secs = elapsed.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS.iter().position(|le| secs <= *le) {
            self.bucket_counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Records why a request was refused (or failed), by error code.
    pub fn reject(&self, code: &'static str) {
        *lock(&self.rejections).entry(code).or_insert(0) += 1;
    }

    pub fn unresolved_dealership(&self) {
        self.unresolved_dealerships.fetch_add(1, Ordering::Relaxed);
    }

    pub fn job_enqueued(&self) {
        self.jobs_enqueued.fetch_add(1, Ordering::Relaxed);
    }

    pub fn nul_replaced(&self) {
        self.nul_replaced.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4). `pool` adds connection
    /// gauges: (open connections, idle connections).
    pub fn render(&self, pool: (u32, usize)) -> String {
        let mut out = String::new();
        counter_family(
            &mut out,
            "webhook_requests_total",
            "Webhook requests by outcome: accepted, duplicate, rejected (4xx), failed (5xx).",
            "outcome",
            &lock(&self.requests),
        );
        counter_family(
            &mut out,
            "webhook_rejections_total",
            "Webhook requests not stored, by error code.",
            "reason",
            &lock(&self.rejections),
        );
        for (name, help, value) in [
            (
                "webhook_duplicates_total",
                "Deliveries whose event_id was already stored.",
                &self.duplicates,
            ),
            (
                "webhook_unresolved_dealership_total",
                "Accepted events stored without a dealership (see processing_errors).",
                &self.unresolved_dealerships,
            ),
            (
                "webhook_analysis_jobs_enqueued_total",
                "Analysis jobs enqueued by accepted events.",
                &self.jobs_enqueued,
            ),
            (
                "webhook_nul_replaced_total",
                "Accepted events whose JSON held NUL characters (stored as U+FFFD).",
                &self.nul_replaced,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }

        let name = "webhook_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from receiving a webhook request to answering it.\n# TYPE {name} histogram"
        );
        let mut cumulative = 0;
        for (le, count) in LATENCY_BUCKETS.iter().zip(&self.bucket_counts) {
            cumulative += count.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let total = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let sum = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {total}");

        let (size, idle) = pool;
        let _ = writeln!(
            out,
            "# HELP db_pool_connections Open database connections by state.\n# TYPE db_pool_connections gauge"
        );
        let _ = writeln!(
            out,
            "db_pool_connections{{state=\"idle\"}} {idle}\ndb_pool_connections{{state=\"in_use\"}} {}",
            (size as usize).saturating_sub(idle)
        );
        out
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a counter map inconsistent.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn counter_family(
    out: &mut String,
    name: &str,
    help: &str,
    label: &str,
    values: &BTreeMap<&'static str, u64>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (value, count) in values {
        let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {count}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_show_up_in_counters_and_the_histogram() {
        let m = Metrics::new();
        m.observe(Outcome::Accepted, Duration::from_millis(3));
        m.observe(Outcome::Duplicate, Duration::from_millis(30));
        m.observe(Outcome::Rejected, Duration::from_secs(60));
        m.reject("invalid_signature");
        let text = m.render((3, 1));
        for line in [
            "webhook_requests_total{outcome=\"accepted\"} 1",
            "webhook_requests_total{outcome=\"duplicate\"} 1",
            "webhook_requests_total{outcome=\"failed\"} 0",
            "webhook_rejections_total{reason=\"invalid_signature\"} 1",
            "webhook_rejections_total{reason=\"payload_too_large\"} 0",
            "webhook_duplicates_total 1",
            "webhook_request_duration_seconds_bucket{le=\"0.005\"} 1",
            "webhook_request_duration_seconds_bucket{le=\"0.05\"} 2",
            "webhook_request_duration_seconds_bucket{le=\"10\"} 2",
            "webhook_request_duration_seconds_bucket{le=\"+Inf\"} 3",
            "webhook_request_duration_seconds_count 3",
            "db_pool_connections{state=\"in_use\"} 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
