//! Percentiles of latency samples and the median and spread of repeated runs.

use serde_json::{json, Value};

/// Nearest-rank percentile (`p` in 0..=100) of samples in milliseconds.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// p50, p95, p99 and max of latency samples (ms), rounded to 0.1 ms.
pub fn latency_summary(samples: &mut [f64]) -> Value {
    samples.sort_by(f64::total_cmp);
    json!({
        "n": samples.len(),
        "p50_ms": round1(percentile(samples, 50.0)),
        "p95_ms": round1(percentile(samples, 95.0)),
        "p99_ms": round1(percentile(samples, 99.0)),
        "max_ms": round1(samples.last().copied().unwrap_or(f64::NAN)),
    })
}

/// Median of repeated measurements, with their minimum and maximum.
pub fn median_spread(values: &[f64]) -> Value {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let median = if v.is_empty() {
        f64::NAN
    } else if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    json!({
        "median": round1(median),
        "min": round1(v.first().copied().unwrap_or(f64::NAN)),
        "max": round1(v.last().copied().unwrap_or(f64::NAN)),
        "runs": v.iter().map(|x| round1(*x)).collect::<Vec<_>>(),
    })
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// p50, p95, min, max and the sample count of timings in milliseconds, rounded
/// to 0.1 ms (the dashboard queries report these).
pub fn summary(samples: &[f64]) -> Value {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    json!({
        "samples": sorted.len(),
        "p50_ms": round1(percentile(&sorted, 50.0)),
        "p95_ms": round1(percentile(&sorted, 95.0)),
        "min_ms": round1(sorted.first().copied().unwrap_or(f64::NAN)),
        "max_ms": round1(sorted.last().copied().unwrap_or(f64::NAN)),
    })
}

/// A JSON number for a Markdown cell (`-` when missing).
pub fn cell(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.is_finite() => format!("{x}"),
        _ => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s: Vec<f64> = (1..=100).map(f64::from).collect();
        let v = latency_summary(&mut s);
        assert_eq!(v["p50_ms"], 50.0);
        assert_eq!(v["p95_ms"], 95.0);
        assert_eq!(v["p99_ms"], 99.0);
        assert_eq!(v["max_ms"], 100.0);
    }

    #[test]
    fn median_of_an_even_count_is_the_middle_mean() {
        let v = median_spread(&[3.0, 1.0, 4.0, 2.0]);
        assert_eq!(v["median"], 2.5);
        assert_eq!(v["min"], 1.0);
        assert_eq!(v["max"], 4.0);
    }

    #[test]
    fn a_summary_has_the_nearest_rank_p50_and_p95() {
        let s: Vec<f64> = (1..=20).rev().map(f64::from).collect();
        let v = summary(&s);
        assert_eq!(v["samples"], 20);
        assert_eq!(v["p50_ms"], 10.0);
        assert_eq!(v["p95_ms"], 19.0);
        assert_eq!(v["min_ms"], 1.0);
        assert_eq!(v["max_ms"], 20.0);
    }
}
