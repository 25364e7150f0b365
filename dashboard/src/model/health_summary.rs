//! The dealership health summary: the shape `rpc/dealership_health` returns, and the
//! words and chart geometry built from it. Pure and host-tested; the view only lays
//! these out.

use serde::Deserialize;

use crate::model::format::{humanize, percent};

/// Counts for one period, as aggregated by Postgres.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
pub struct PeriodStats {
    pub calls: i64,
    pub good: i64,
    pub needs_review: i64,
    pub bad: i64,
    pub unanalyzed: i64,
    pub avg_score: Option<f64>,
}

impl PeriodStats {
    fn analyzed(&self) -> i64 {
        self.good + self.needs_review + self.bad
    }

    /// Shares of good / needs_review / bad among analyzed calls (0 when none).
    pub fn shares(&self) -> (f64, f64, f64) {
        let n = self.analyzed();
        if n == 0 {
            return (0.0, 0.0, 0.0);
        }
        let n = n as f64;
        (
            self.good as f64 / n,
            self.needs_review as f64 / n,
            self.bad as f64 / n,
        )
    }

    /// Calls a person should look at.
    pub fn follow_up(&self) -> i64 {
        self.needs_review + self.bad
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FlagCount {
    pub flag: String,
    pub calls: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TrendBucket {
    pub bucket_start: String,
    pub good: i64,
    pub needs_review: i64,
    pub bad: i64,
    pub unanalyzed: i64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HealthReport {
    pub hours: i64,
    pub current: PeriodStats,
    pub previous: PeriodStats,
    pub top_flags: Vec<FlagCount>,
    pub trend: Vec<TrendBucket>,
    pub waiting_for_review: i64,
}

/// The headline's thresholds (docs/dashboard.md, "Health headline"), on the
/// period's analyzed calls. Any one of the first group makes it "Needs attention".
pub const ATTENTION_BAD_SHARE: f64 = 0.15;
pub const ATTENTION_UPSET: i64 = 5;
pub const ATTENTION_UPSET_SHARE: f64 = 0.10;
pub const ATTENTION_HANDOFFS: i64 = 3;
pub const ATTENTION_HANDOFF_SHARE: f64 = 0.05;
pub const ATTENTION_GOOD_SHARE: f64 = 0.5;
/// Short of those, either of these makes it "Mixed"; otherwise "Mostly good".
pub const MIXED_BAD_SHARE: f64 = 0.05;
pub const MOSTLY_GOOD_SHARE: f64 = 0.8;

/// The headline's verdict on a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mood {
    MostlyGood,
    Mixed,
    NeedsAttention,
}

impl Mood {
    pub fn label(self) -> &'static str {
        match self {
            Mood::MostlyGood => "Mostly good",
            Mood::Mixed => "Mixed",
            Mood::NeedsAttention => "Needs attention",
        }
    }

    /// The CSS class of the headline.
    pub fn class(self) -> &'static str {
        match self {
            Mood::MostlyGood => "mood-good",
            Mood::Mixed => "mood-mixed",
            Mood::NeedsAttention => "mood-attention",
        }
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl HealthReport {
    pub fn period_label(&self) -> &'static str {
        if self.hours <= 24 {
            "last 24 hours"
        } else {
            "last 7 days"
        }
    }

    /// Calls of the period raised with `flag` (from `top_flags`, the five most
    /// frequent: a flag outside them counts as 0).
    pub fn flag_count(&self, flag: &str) -> i64 {
        self.top_flags
            .iter()
            .find(|f| f.flag == flag)
            .map_or(0, |f| f.calls)
    }

    /// How the period stands, by the thresholds of docs/dashboard.md.
    pub fn mood(&self) -> Mood {
        let c = &self.current;
        let analyzed = c.analyzed().max(1) as f64;
        let (good, _, bad) = c.shares();
        let upset = self.flag_count("customer_upset");
        let handoffs = self.flag_count("handoff_failed");
        if bad >= ATTENTION_BAD_SHARE
            || upset >= ATTENTION_UPSET
            || upset as f64 / analyzed >= ATTENTION_UPSET_SHARE
            || handoffs >= ATTENTION_HANDOFFS
            || handoffs as f64 / analyzed >= ATTENTION_HANDOFF_SHARE
            || good < ATTENTION_GOOD_SHARE
        {
            Mood::NeedsAttention
        } else if bad >= MIXED_BAD_SHARE || good < MOSTLY_GOOD_SHARE {
            Mood::Mixed
        } else {
            Mood::MostlyGood
        }
    }

    /// The one sentence that answers "are our AI calls going well?": the mood, then
    /// what matters most, in this order: the bad share, upset customers, failed
    /// handoffs; then how many calls are flagged for review.
    pub fn headline(&self) -> String {
        let c = &self.current;
        if c.calls == 0 {
            return format!("No calls in the {}.", self.period_label());
        }
        if c.analyzed() == 0 {
            return format!(
                "{} so far, none analyzed yet.",
                plural(c.calls, "call", "calls")
            );
        }
        let (good, _, bad) = c.shares();
        let follow = match c.follow_up() {
            0 => "none flagged".to_string(),
            1 => "1 call flagged for review".to_string(),
            n => format!("{n} calls flagged for review"),
        };
        let mood = self.mood();
        if mood == Mood::MostlyGood {
            return format!("{}: {} good, {follow}", mood.label(), percent(good));
        }
        let mut parts = vec![format!("{} bad", percent(bad))];
        let upset = self.flag_count("customer_upset");
        if upset > 0 {
            parts.push(plural(upset, "upset customer", "upset customers"));
        }
        let handoffs = self.flag_count("handoff_failed");
        if handoffs > 0 {
            parts.push(plural(handoffs, "failed handoff", "failed handoffs"));
        }
        parts.push(follow);
        format!("{}: {}", mood.label(), parts.join(", "))
    }

    /// Change in call volume against the previous period of the same length.
    pub fn volume_change(&self) -> String {
        change_text(
            self.current.calls as f64,
            self.previous.calls as f64,
            "calls",
        )
    }

    /// Change of the good share, in percentage points.
    pub fn good_share_change(&self) -> Option<String> {
        if self.current.analyzed() == 0 || self.previous.analyzed() == 0 {
            return None;
        }
        let delta = (self.current.shares().0 - self.previous.shares().0) * 100.0;
        Some(match delta.round() as i64 {
            0 => "good share unchanged".into(),
            d if d > 0 => format!("good share up {d} pts"),
            d => format!("good share down {} pts", -d),
        })
    }

    /// Change of the average score, in points.
    pub fn score_change(&self) -> Option<String> {
        let (now, before) = (self.current.avg_score?, self.previous.avg_score?);
        let delta = now - before;
        Some(if delta.abs() < 0.5 {
            "average score unchanged".into()
        } else if delta > 0.0 {
            format!("average score up {delta:.0}")
        } else {
            format!("average score down {:.0}", -delta)
        })
    }

    pub fn top_flags_text(&self) -> Vec<String> {
        self.top_flags
            .iter()
            .map(|f| format!("{} ({})", humanize(&f.flag), f.calls))
            .collect()
    }
}

/// Below this many calls in the previous period a change is given as counts.
const SMALL_BASE: f64 = 10.0;

fn change_text(now: f64, before: f64, what: &str) -> String {
    if before == 0.0 {
        return if now == 0.0 {
            format!("no {what} in either period")
        } else {
            format!("no {what} in the previous period")
        };
    }
    // Against a handful of calls a percentage is absurd ("up 33500%"): give the counts.
    if before < SMALL_BASE || now / before >= 4.0 {
        return format!(
            "{} {what} vs {} in the previous period",
            now as i64, before as i64
        );
    }
    let pct = ((now - before) / before * 100.0).round() as i64;
    match pct {
        0 => format!("{what} unchanged vs previous period"),
        p if p > 0 => format!("{what} up {p}% vs previous period"),
        p => format!("{what} down {}% vs previous period", -p),
    }
}

/// One stacked bar of the trend chart, in SVG user units.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub width: f64,
    /// (y, height) of the good, needs_review, bad and unanalyzed segments, bottom up.
    pub segments: [(f64, f64); 4],
    pub title: String,
}

/// Stacked bars scaled to the busiest bucket, in a `width` x `height` box; `label`
/// names a bucket (from its start) in the tooltip.
pub fn trend_bars(
    trend: &[TrendBucket],
    width: f64,
    height: f64,
    label: impl Fn(&str) -> String,
) -> Vec<Bar> {
    let max = trend
        .iter()
        .map(|b| b.good + b.needs_review + b.bad + b.unanalyzed)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = width / trend.len().max(1) as f64;
    trend
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut y = height;
            let mut segments = [(0.0, 0.0); 4];
            for (k, n) in [b.good, b.needs_review, b.bad, b.unanalyzed]
                .into_iter()
                .enumerate()
            {
                let h = n as f64 / max * height;
                y -= h;
                segments[k] = (y, h);
            }
            Bar {
                x: i as f64 * slot + slot * 0.1,
                width: slot * 0.8,
                segments,
                title: format!(
                    "{}: {} good, {} needs review, {} bad, {} not analyzed",
                    label(&b.bucket_start),
                    b.good,
                    b.needs_review,
                    b.bad,
                    b.unanalyzed
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(good: i64, needs_review: i64, bad: i64, avg: Option<f64>) -> PeriodStats {
        PeriodStats {
            calls: good + needs_review + bad,
            good,
            needs_review,
            bad,
            unanalyzed: 0,
            avg_score: avg,
        }
    }

    fn report(current: PeriodStats, previous: PeriodStats) -> HealthReport {
        HealthReport {
            hours: 24,
            current,
            previous,
            top_flags: vec![],
            trend: vec![],
            waiting_for_review: 0,
        }
    }

    #[test]
    fn a_mostly_good_day_says_so_with_the_follow_up_count() {
        let r = report(stats(43, 2, 1, Some(88.0)), PeriodStats::default());
        assert_eq!(
            r.headline(),
            "Mostly good: 93% good, 3 calls flagged for review"
        );
    }

    fn with_flags(mut r: HealthReport, flags: &[(&str, i64)]) -> HealthReport {
        r.top_flags = flags
            .iter()
            .map(|(flag, calls)| FlagCount {
                flag: flag.to_string(),
                calls: *calls,
            })
            .collect();
        r
    }

    #[test]
    fn a_bad_day_asks_for_attention() {
        let r = report(stats(4, 3, 3, Some(50.0)), PeriodStats::default());
        assert_eq!(
            r.headline(),
            "Needs attention: 30% bad, 6 calls flagged for review"
        );
        let r = report(stats(16, 3, 1, None), PeriodStats::default());
        assert_eq!(r.headline(), "Mixed: 5% bad, 4 calls flagged for review");
        let r = report(stats(6, 1, 0, None), PeriodStats::default());
        assert_eq!(
            r.headline(),
            "Mostly good: 86% good, 1 call flagged for review"
        );
    }

    #[test]
    fn the_issues_mixed_day_23_percent_bad_and_12_upset_customers_needs_attention() {
        // 100 analyzed: 60 good, 17 needs review, 23 bad; 12 upset, 2 failed handoffs.
        let r = with_flags(
            report(stats(60, 17, 23, Some(61.0)), PeriodStats::default()),
            &[("customer_upset", 12), ("handoff_failed", 2)],
        );
        assert_eq!(r.mood(), Mood::NeedsAttention);
        assert_eq!(
            r.headline(),
            "Needs attention: 23% bad, 12 upset customers, 2 failed handoffs, 40 calls flagged for review"
        );
    }

    #[test]
    fn upset_customers_or_failed_handoffs_alone_reach_the_attention_threshold() {
        let good_day = || report(stats(95, 4, 1, None), PeriodStats::default());
        assert_eq!(good_day().mood(), Mood::MostlyGood);
        let upset = with_flags(good_day(), &[("customer_upset", ATTENTION_UPSET)]);
        assert_eq!(upset.mood(), Mood::NeedsAttention);
        let upset = with_flags(good_day(), &[("customer_upset", ATTENTION_UPSET - 1)]);
        assert_eq!(upset.mood(), Mood::MostlyGood, "4 of 100 is below both");
        let handoffs = with_flags(good_day(), &[("handoff_failed", ATTENTION_HANDOFFS)]);
        assert_eq!(handoffs.mood(), Mood::NeedsAttention);
        // On a small day the share decides: 1 upset customer of 8 calls is 12.5%.
        let small = with_flags(
            report(stats(8, 0, 0, None), PeriodStats::default()),
            &[("customer_upset", 1)],
        );
        assert_eq!(small.mood(), Mood::NeedsAttention);
    }

    #[test]
    fn a_quiet_period_and_an_unanalyzed_one_have_their_own_headlines() {
        let r = report(PeriodStats::default(), PeriodStats::default());
        assert_eq!(r.headline(), "No calls in the last 24 hours.");
        let waiting = PeriodStats {
            calls: 2,
            unanalyzed: 2,
            ..Default::default()
        };
        assert_eq!(
            report(waiting, PeriodStats::default()).headline(),
            "2 calls so far, none analyzed yet."
        );
    }

    #[test]
    fn changes_compare_with_the_previous_period() {
        let r = report(stats(16, 2, 2, Some(80.0)), stats(8, 0, 2, Some(70.0)));
        assert_eq!(r.volume_change(), "calls up 100% vs previous period");
        assert_eq!(
            r.good_share_change().as_deref(),
            Some("good share unchanged")
        );
        assert_eq!(r.score_change().as_deref(), Some("average score up 10"));
        let r = report(stats(1, 0, 0, Some(90.0)), PeriodStats::default());
        assert_eq!(r.volume_change(), "no calls in the previous period");
        assert_eq!(r.good_share_change(), None);
    }

    #[test]
    fn against_a_tiny_previous_period_the_change_is_given_as_counts_not_a_percentage() {
        let r = report(stats(300, 20, 15, None), stats(1, 0, 0, None));
        assert_eq!(r.volume_change(), "335 calls vs 1 in the previous period");
        let r = report(stats(50, 0, 0, None), stats(10, 0, 0, None));
        assert_eq!(r.volume_change(), "50 calls vs 10 in the previous period");
    }

    #[test]
    fn the_report_reads_the_rpc_json() {
        let json = serde_json::json!({
            "hours": 168, "start_at": "x", "end_at": "y",
            "current": {"calls": 3, "good": 1, "needs_review": 1, "bad": 1, "unanalyzed": 0, "avg_score": 61.5},
            "previous": {"calls": 0, "good": 0, "needs_review": 0, "bad": 0, "unanalyzed": 0, "avg_score": null},
            "top_flags": [{"flag": "customer_upset", "calls": 2}],
            "trend": [{"bucket_start": "2026-11-20T10:00:00+00:00", "good": 1, "needs_review": 0, "bad": 0, "unanalyzed": 0}],
            "waiting_for_review": 2
        });
        let r: HealthReport = serde_json::from_value(json).unwrap();
        assert_eq!(r.period_label(), "last 7 days");
        assert_eq!(r.top_flags_text(), vec!["Customer upset (2)".to_string()]);
        assert_eq!(r.current.avg_score, Some(61.5));
    }

    #[test]
    fn trend_bars_stack_to_the_busiest_buckets_height() {
        let b = |good, bad| TrendBucket {
            bucket_start: "2026-11-20T10:00:00+00:00".into(),
            good,
            needs_review: 0,
            bad,
            unanalyzed: 0,
        };
        let bars = trend_bars(&[b(2, 2), b(1, 0)], 100.0, 40.0, |s| s.to_string());
        assert_eq!(bars.len(), 2);
        assert_eq!(
            bars[0].segments[0],
            (20.0, 20.0),
            "good is the bottom half of the tallest bar"
        );
        assert_eq!(
            bars[0].segments[2],
            (0.0, 20.0),
            "bad sits on top and reaches the top"
        );
        assert_eq!(bars[1].segments[0], (30.0, 10.0));
        assert!(bars[1].x > bars[0].x + bars[0].width, "bars do not overlap");
    }
}
