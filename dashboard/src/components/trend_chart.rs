//! A small stacked bar chart of verdicts per hour or day, as inline SVG (no chart
//! library in the bundle).

use dioxus::prelude::*;

use crate::components::AxisLabels;
use crate::model::health_summary::{trend_bars, TrendBucket};
use crate::model::time::bucket_label;
use crate::platform;

const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 80.0;
const CLASSES: [&str; 4] = ["good", "needs_review", "bad", "unanalyzed"];

/// `hourly` picks the axis ticks' precision (hour buckets vs. day buckets); `zone`
/// is the screen's time zone (the dealership's, or the viewer's for all), named
/// under the chart.
#[component]
pub fn TrendChart(trend: Vec<TrendBucket>, label: String, hourly: bool, zone: String) -> Element {
    let name = {
        let zone = zone.clone();
        move |start: &str| bucket_label(start, hourly, |t| platform::zone_offset_ms(&zone, t))
    };
    let bars = trend_bars(&trend, WIDTH, HEIGHT, &name);
    let first = trend.first().map(|b| name(&b.bucket_start));
    let last = trend
        .last()
        .map(|b| format!("{} ({zone})", name(&b.bucket_start)));
    rsx! {
        svg {
            class: "trend",
            view_box: "0 0 {WIDTH} {HEIGHT}",
            preserve_aspect_ratio: "none",
            role: "img",
            "aria-label": "{label}",
            for bar in bars {
                g {
                    title { "{bar.title}" }
                    for (k, (y, h)) in bar.segments.into_iter().enumerate() {
                        if h > 0.0 {
                            rect { class: "seg-{CLASSES[k]}", x: "{bar.x}", y: "{y}", width: "{bar.width}", height: "{h}" }
                        }
                    }
                }
            }
        }
        AxisLabels { first, last }
    }
}
