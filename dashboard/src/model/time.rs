//! Time windows of the call list and time formatting that does not need the browser.
//! "Now" is always passed in (the browser's clock on wasm), so this is host-testable.

use chrono::{DateTime, NaiveDate, Utc};

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: f64 = 24.0 * HOUR_MS;

/// Which calls the list shows, by when they happened.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Window {
    #[default]
    Last24h,
    Last7d,
    /// Whole days, `from` and `to` inclusive, as `YYYY-MM-DD`: the dealership's days
    /// when the call list shows one dealership, else UTC days (see [`Window::bounds_in_zone_ms`]).
    Custom {
        from: String,
        to: String,
    },
}

impl Window {
    /// A custom range, or `None` when a date is malformed or the range is reversed.
    pub fn custom(from: &str, to: &str) -> Option<Window> {
        let (f, t) = (parse_day(from)?, parse_day(to)?);
        (f <= t).then(|| Window::Custom {
            from: from.to_string(),
            to: to.to_string(),
        })
    }

    /// `[start, end)` in milliseconds since the epoch.
    pub fn bounds_ms(&self, now_ms: f64) -> (f64, f64) {
        match self {
            Window::Last24h => (now_ms - DAY_MS, now_ms),
            Window::Last7d => (now_ms - 7.0 * DAY_MS, now_ms),
            Window::Custom { from, to } => {
                let start = parse_day(from).map(day_start_ms).unwrap_or(now_ms - DAY_MS);
                let end = parse_day(to)
                    .map(|d| day_start_ms(d) + DAY_MS)
                    .unwrap_or(now_ms);
                (start, end)
            }
        }
    }

    /// `[start, end)` like [`Window::bounds_ms`], but a custom range's days are local
    /// days of a time zone: `offset_ms(t)` is the zone's offset from UTC (local minus
    /// UTC, in ms) at the instant `t`. The rolling windows do not depend on the zone.
    pub fn bounds_in_zone_ms(&self, now_ms: f64, offset_ms: impl Fn(f64) -> f64) -> (f64, f64) {
        match self {
            Window::Custom { from, to } => match (parse_day(from), parse_day(to)) {
                (Some(f), Some(t)) => (
                    local_to_utc_ms(day_start_ms(f), &offset_ms),
                    local_to_utc_ms(day_start_ms(t) + DAY_MS, &offset_ms),
                ),
                _ => self.bounds_ms(now_ms),
            },
            _ => self.bounds_ms(now_ms),
        }
    }

    /// How the window reads after "No calls …": `in the last 24 hours`,
    /// `on 2026-11-19 (America/New_York)`, `from 2026-11-14 to 2026-11-20 (UTC)`.
    pub fn phrase(&self, zone: &str) -> String {
        match self {
            Window::Custom { from, to } if from == to => format!("on {from} ({zone})"),
            Window::Custom { from, to } => format!("from {from} to {to} ({zone})"),
            other => format!("in the {}", other.label()),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Window::Last24h => "last 24 hours".into(),
            Window::Last7d => "last 7 days".into(),
            Window::Custom { from, to } if from == to => format!("{from} (UTC)"),
            Window::Custom { from, to } => format!("{from} to {to} (UTC)"),
        }
    }
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// The UTC instant of a local wall-clock time (both as ms since the epoch, the local
/// one as if it were UTC). The offset is looked up at a first guess and again at the
/// corrected instant, which settles it across a daylight-saving change.
fn local_to_utc_ms(local_ms: f64, offset_ms: &impl Fn(f64) -> f64) -> f64 {
    let guess = local_ms - offset_ms(local_ms);
    local_ms - offset_ms(guess)
}

fn day_start_ms(d: NaiveDate) -> f64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis() as f64)
        .unwrap_or_default()
}

/// `2026-11-20T10:00:00.000Z`: the form PostgREST filters and Postgres accept.
pub fn iso_from_ms(ms: f64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms as i64)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The `YYYY-MM-DD` (UTC) of an instant, for prefilling the custom range inputs.
pub fn day_from_ms(ms: f64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms as i64)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// A timestamp for people when the browser cannot localize it: `2026-11-20 10:00 UTC`.
pub fn utc_label(iso: &str) -> String {
    DateTime::parse_from_rfc3339(iso)
        .map(|t| {
            t.with_timezone(&Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| iso.to_string())
}

/// A chart's time-axis tick: `Nov 20` for a day, `Nov 20 10:00 UTC` for an hour
/// (in UTC like the bars' tooltips). Takes a date (`2026-11-20`) or a timestamp; a
/// day is read in the stamp's own offset, so a bucket that starts at a dealership's
/// midnight names that day.
pub fn axis_label(stamp: &str, hourly: bool) -> String {
    if let Ok(t) = DateTime::parse_from_rfc3339(stamp) {
        return if hourly {
            t.with_timezone(&Utc).format("%b %-d %H:%M UTC").to_string()
        } else {
            t.format("%b %-d").to_string()
        };
    }
    NaiveDate::parse_from_str(stamp, "%Y-%m-%d")
        .map(|d| d.format("%b %-d").to_string())
        .unwrap_or_else(|_| stamp.to_string())
}

/// A chart bucket's label in the screen's zone (`offset_ms`: that zone's offset at
/// an instant). An hour bucket reads `Dec 2 10:00` (its start, local); a day bucket
/// of the health chart is the 24 hours up to its end (the last one ends now), so it
/// is named for the local day it ends in: today's bar says today's date.
pub fn bucket_label(start_iso: &str, hourly: bool, offset_ms: impl Fn(f64) -> f64) -> String {
    let Ok(start) = DateTime::parse_from_rfc3339(start_iso) else {
        return start_iso.to_string();
    };
    let start_ms = start.timestamp_millis() as f64;
    let instant = if hourly {
        start_ms
    } else {
        start_ms + DAY_MS - 1.0
    };
    let local = DateTime::<Utc>::from_timestamp_millis((instant + offset_ms(instant)) as i64)
        .unwrap_or_default();
    if hourly {
        local.format("%b %-d %H:%M").to_string()
    } else {
        local.format("%b %-d").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_day_bar_ending_now_is_named_for_today_in_the_screens_zone() {
        let utc = |_: f64| 0.0;
        // The 7-day chart's last bucket: the 24 h ending at 2026-12-02 03:30 UTC.
        assert_eq!(
            bucket_label("2026-12-01T03:30:00+00:00", false, utc),
            "Dec 2"
        );
        // In New York (UTC-5) that moment is still Dec 1 evening.
        let new_york = |_: f64| -5.0 * 3_600_000.0;
        assert_eq!(
            bucket_label("2026-12-01T03:30:00+00:00", false, new_york),
            "Dec 1"
        );
        assert_eq!(
            bucket_label("2026-12-01T15:00:00+00:00", true, new_york),
            "Dec 1 10:00"
        );
        assert_eq!(bucket_label("garbage", true, utc), "garbage");
    }

    #[test]
    fn axis_ticks_name_the_day_or_the_hour_in_the_stamps_own_offset() {
        assert_eq!(axis_label("2026-11-20", false), "Nov 20");
        assert_eq!(axis_label("2026-11-03T00:00:00-05:00", false), "Nov 3");
        assert_eq!(
            axis_label("2026-11-20T05:00:00-05:00", true),
            "Nov 20 10:00 UTC"
        );
        assert_eq!(axis_label("garbage", false), "garbage");
    }

    const NOW: f64 = 1_795_000_000_000.0;

    #[test]
    fn the_rolling_windows_end_now_and_span_one_and_seven_days() {
        assert_eq!(Window::Last24h.bounds_ms(NOW), (NOW - DAY_MS, NOW));
        assert_eq!(Window::Last7d.bounds_ms(NOW), (NOW - 7.0 * DAY_MS, NOW));
    }

    #[test]
    fn a_custom_range_covers_whole_utc_days_including_the_last_one() {
        let w = Window::custom("2026-11-01", "2026-11-03").unwrap();
        let (start, end) = w.bounds_ms(NOW);
        assert_eq!(iso_from_ms(start), "2026-11-01T00:00:00.000Z");
        assert_eq!(iso_from_ms(end), "2026-11-04T00:00:00.000Z");
    }

    /// America/New_York: UTC-4 until 2026-11-01 06:00 UTC, UTC-5 after.
    fn new_york(t: f64) -> f64 {
        let change = DateTime::parse_from_rfc3339("2026-11-01T06:00:00Z")
            .unwrap()
            .timestamp_millis() as f64;
        if t < change {
            -4.0 * HOUR_MS
        } else {
            -5.0 * HOUR_MS
        }
    }

    #[test]
    fn a_custom_range_in_a_zone_covers_the_dealerships_local_days() {
        let w = Window::custom("2026-11-19", "2026-11-19").unwrap();
        let (start, end) = w.bounds_in_zone_ms(NOW, new_york);
        assert_eq!(iso_from_ms(start), "2026-11-19T05:00:00.000Z");
        assert_eq!(iso_from_ms(end), "2026-11-20T05:00:00.000Z");
    }

    #[test]
    fn a_local_range_across_the_daylight_saving_change_uses_each_days_offset() {
        let w = Window::custom("2026-10-31", "2026-11-01").unwrap();
        let (start, end) = w.bounds_in_zone_ms(NOW, new_york);
        assert_eq!(iso_from_ms(start), "2026-10-31T04:00:00.000Z");
        assert_eq!(iso_from_ms(end), "2026-11-02T05:00:00.000Z");
    }

    #[test]
    fn utc_is_the_zone_with_no_offset_and_rolling_windows_ignore_the_zone() {
        let w = Window::custom("2026-11-01", "2026-11-03").unwrap();
        assert_eq!(w.bounds_in_zone_ms(NOW, |_| 0.0), w.bounds_ms(NOW));
        assert_eq!(
            Window::Last7d.bounds_in_zone_ms(NOW, new_york),
            Window::Last7d.bounds_ms(NOW)
        );
    }

    #[test]
    fn the_window_reads_as_a_phrase_with_its_zone() {
        assert_eq!(Window::Last24h.phrase("UTC"), "in the last 24 hours");
        assert_eq!(
            Window::custom("2020-01-01", "2020-01-02")
                .unwrap()
                .phrase("UTC"),
            "from 2020-01-01 to 2020-01-02 (UTC)"
        );
        assert_eq!(
            Window::custom("2026-11-19", "2026-11-19")
                .unwrap()
                .phrase("America/New_York"),
            "on 2026-11-19 (America/New_York)"
        );
    }

    #[test]
    fn a_reversed_or_malformed_custom_range_is_refused() {
        assert_eq!(Window::custom("2026-11-03", "2026-11-01"), None);
        assert_eq!(Window::custom("yesterday", "2026-11-01"), None);
        assert!(
            Window::custom("2026-11-01", "2026-11-01").is_some(),
            "a single day is a valid range"
        );
    }

    #[test]
    fn timestamps_round_trip_between_iso_and_milliseconds() {
        let iso = "2026-11-20T10:05:00.250+00:00";
        let ms = DateTime::parse_from_rfc3339(iso)
            .unwrap()
            .timestamp_millis() as f64;
        assert_eq!(iso_from_ms(ms), "2026-11-20T10:05:00.250Z");
        assert_eq!(utc_label(iso), "2026-11-20 10:05 UTC");
        assert_eq!(day_from_ms(ms), "2026-11-20");
    }

    #[test]
    fn a_timestamp_that_cannot_be_read_is_shown_as_it_came() {
        assert_eq!(utc_label("not a time"), "not a time");
    }
}
