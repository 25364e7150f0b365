//! A small stacked bar chart of verdicts per hour or day, as inline SVG (no chart
//! library in the bundle).

use dioxus::prelude::*;

use crate::components::AxisLabels;
use crate::health::{trend_bars, TrendBucket};
use crate::time::axis_label;

const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 80.0;
const CLASSES: [&str; 4] = ["good", "needs_review", "bad", "unanalyzed"];

/// `hourly` picks the axis ticks' precision (hour buckets vs. day buckets).
#[component]
pub fn TrendChart(trend: Vec<TrendBucket>, label: String, hourly: bool) -> Element {
    let bars = trend_bars(&trend, WIDTH, HEIGHT);
    let first = trend.first().map(|b| axis_label(&b.bucket_start, hourly));
    let last = trend.last().map(|b| axis_label(&b.bucket_start, hourly));
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
