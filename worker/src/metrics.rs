//! Process-wide counters and the LLM latency histogram, rendered in the
//! Prometheus text format by `GET /metrics`.
//!
//! Plain atomics rather than a metrics crate: six series do not justify a
//! registry, and a `static` lets `run_one_job` count without threading a handle
//! through every call. Queue depth and oldest-job age are not kept here: they are
//! queried from Postgres at scrape time so every worker reports the same truth.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds (seconds) of the latency histogram buckets.
const LATENCY_BUCKETS: [f64; 11] = [0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0];

/// Counters for this process.
pub struct Metrics {
    pub jobs_claimed: AtomicU64,
    pub jobs_succeeded: AtomicU64,
    pub jobs_failed: AtomicU64,
    pub jobs_retried: AtomicU64,
    pub jobs_skipped: AtomicU64,
    pub leases_lost: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_ms: AtomicU64,
}

/// The one instance, shared by every job in the process.
pub static METRICS: Metrics = Metrics {
    jobs_claimed: AtomicU64::new(0),
    jobs_succeeded: AtomicU64::new(0),
    jobs_failed: AtomicU64::new(0),
    jobs_retried: AtomicU64::new(0),
    jobs_skipped: AtomicU64::new(0),
    leases_lost: AtomicU64::new(0),
    latency_buckets: [const { AtomicU64::new(0) }; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64::new(0),
    latency_sum_ms: AtomicU64::new(0),
};

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the duration of one LLM HTTP request (successful or not).
    pub fn observe_llm_latency(&self, ms: u64) {
        let secs = ms as f64 / 1000.0;
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// Renders every series; `queue` comes from the database at scrape time.
    pub fn render(&self, queue: Option<QueueStats>) -> String {
        let mut out = String::new();
        let counters = [
            (
                "worker_jobs_claimed_total",
                "Analysis jobs claimed by this process.",
                &self.jobs_claimed,
            ),
            (
                "worker_jobs_succeeded_total",
                "Jobs that stored an ok analysis.",
                &self.jobs_succeeded,
            ),
            (
                "worker_jobs_failed_total",
                "Jobs that failed for good (a failed analysis row was written).",
                &self.jobs_failed,
            ),
            (
                "worker_jobs_retried_total",
                "Jobs handed back to the queue with a backoff after a retryable failure.",
                &self.jobs_retried,
            ),
            (
                "worker_jobs_skipped_total",
                "Jobs finished without analysis (transcript unchanged or missing).",
                &self.jobs_skipped,
            ),
            (
                "worker_leases_lost_total",
                "Jobs whose result was discarded because another worker took over the lease.",
                &self.leases_lost,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }

        let name = "worker_llm_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Duration of LLM HTTP requests.\n# TYPE {name} histogram"
        );
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                self.latency_buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.latency_sum_ms.load(Ordering::Relaxed) as f64 / 1000.0
        );
        let _ = writeln!(out, "{name}_count {count}");

        if let Some(q) = queue {
            let _ = writeln!(
                out,
                "# HELP worker_queue_depth Analysis jobs waiting or running (all workers).\n# TYPE worker_queue_depth gauge\nworker_queue_depth{{status=\"queued\"}} {}\nworker_queue_depth{{status=\"running\"}} {}",
                q.queued, q.running
            );
            let _ = writeln!(
                out,
                "# HELP worker_oldest_queued_job_age_seconds Age of the oldest job that is due and not yet claimed.\n# TYPE worker_oldest_queued_job_age_seconds gauge\nworker_oldest_queued_job_age_seconds {}",
                q.oldest_queued_age_secs
            );
        }
        out
    }
}

/// Queue gauges read from `analysis_jobs` when `/metrics` is scraped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueStats {
    pub queued: i64,
    pub running: i64,
    /// 0 when nothing is waiting.
    pub oldest_queued_age_secs: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counts_every_observation() {
        let m = Metrics {
            jobs_claimed: AtomicU64::new(0),
            jobs_succeeded: AtomicU64::new(0),
            jobs_failed: AtomicU64::new(0),
            jobs_retried: AtomicU64::new(0),
            jobs_skipped: AtomicU64::new(0),
            leases_lost: AtomicU64::new(0),
            latency_buckets: [const { AtomicU64::new(0) }; LATENCY_BUCKETS.len()],
            latency_count: AtomicU64::new(0),
            latency_sum_ms: AtomicU64::new(0),
        };
        m.observe_llm_latency(300);
        m.observe_llm_latency(3000);
        let text = m.render(Some(QueueStats {
            queued: 3,
            running: 1,
            oldest_queued_age_secs: 12.5,
        }));
        assert!(text.contains("worker_llm_request_duration_seconds_bucket{le=\"0.25\"} 0"));
        assert!(text.contains("worker_llm_request_duration_seconds_bucket{le=\"0.5\"} 1"));
        assert!(text.contains("worker_llm_request_duration_seconds_bucket{le=\"4\"} 2"));
        assert!(text.contains("worker_llm_request_duration_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(text.contains("worker_llm_request_duration_seconds_sum 3.3"));
        assert!(text.contains("worker_queue_depth{status=\"queued\"} 3"));
        assert!(text.contains("worker_oldest_queued_job_age_seconds 12.5"));
    }
}
