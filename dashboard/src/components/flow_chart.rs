//! The team overview's chart: calls newly flagged against resolutions, per day, as
//! paired bars in inline SVG, so a growing backlog shows at a glance.

use dioxus::prelude::*;

use crate::components::AxisLabels;
use crate::model::time::axis_label;
use crate::state::team_view::{flow_bars, FlowDay};

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 90.0;

#[component]
pub fn FlowChart(days: Vec<FlowDay>) -> Element {
    let bars = flow_bars(&days, WIDTH, HEIGHT);
    let first = days.first().map(|d| axis_label(&d.day, false));
    let last = days.last().map(|d| axis_label(&d.day, false));
    rsx! {
        svg {
            class: "trend flow",
            id: "flow-chart",
            view_box: "0 0 {WIDTH} {HEIGHT}",
            preserve_aspect_ratio: "none",
            role: "img",
            "aria-label": "Flagged calls and resolutions per day",
            for (x, w, flagged, resolved, title) in bars {
                g {
                    title { "{title}" }
                    rect { class: "seg-flagged", x: "{x}", y: "{HEIGHT - flagged}", width: "{w}", height: "{flagged}" }
                    rect { class: "seg-resolved", x: "{x + w}", y: "{HEIGHT - resolved}", width: "{w}", height: "{resolved}" }
                }
            }
        }
        AxisLabels { first, last }
        div { class: "legend",
            span { class: "key seg-flagged", "Flagged" }
            span { class: "key seg-resolved", "Resolved" }
        }
    }
}
