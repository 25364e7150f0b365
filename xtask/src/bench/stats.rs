//! Percentiles of a set of timings, the way every part reports them.

use serde_json::{json, Value};

/// The `q`-quantile (0..=1) of sorted samples, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// p50, p95, min, max and the sample count of milliseconds, rounded to 0.1 ms.
pub fn summary(samples: &[f64]) -> Value {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let r = |x: f64| (x * 10.0).round() / 10.0;
    json!({
        "samples": sorted.len(),
        "p50_ms": r(quantile(&sorted, 0.50)),
        "p95_ms": r(quantile(&sorted, 0.95)),
        "min_ms": r(sorted.first().copied().unwrap_or(0.0)),
        "max_ms": r(sorted.last().copied().unwrap_or(0.0)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let s: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(quantile(&s, 0.5), 10.0);
        assert_eq!(quantile(&s, 0.95), 19.0);
        assert_eq!(quantile(&s, 1.0), 20.0);
        assert_eq!(quantile(&[7.0], 0.95), 7.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
