//! Dealership health, the first screen: "are our AI calls going well?" for the last
//! 24 hours and the last 7 days, aggregated by `rpc/dealership_health`.

use dioxus::prelude::*;

use domain::analysis::Flag;

use crate::components::{loaded, AgentVersions, DealershipCompare, Section, TrendChart};
use crate::hooks::use_api;
use crate::model::format::{humanize, percent};
use crate::model::review::{QueueState, Role};
use crate::state::call_list::ViewState;
use crate::Route;

#[component]
pub fn Health(view: ViewState) -> Element {
    let api = use_api();
    let dealerships = crate::hooks::use_dealerships();
    let zone = crate::views::shell::screen_zone(view.dealership.as_deref(), &dealerships.read())
        .unwrap_or_else(|| "UTC".into());
    let me = crate::hooks::use_me();
    // A CSM looking at all of her dealerships can compare them (managers and admins
    // have the team overview's dealership table).
    let compare =
        me.read().role == Role::Csm && view.dealership.is_none() && dealerships.read().len() >= 2;
    let dealership = view.dealership.clone();
    let waiting = use_resource(use_reactive!(|dealership| {
        let api = api.clone();
        async move { api.queue_count_in(dealership.as_deref()).await }
    }));
    // The queue is not limited to a period (an item flagged last week and still open
    // is waiting now), so it is shown once, with the queue's own count and link.
    let queue_link = Route::Queue {
        state: QueueState {
            dealership: view.dealership.clone(),
            ..QueueState::default()
        },
    };
    let waiting_text = match &*waiting.read() {
        Some(Ok(1)) => "1 flagged call is waiting in the review queue (any date).".to_string(),
        Some(Ok(n)) => format!("{n} flagged calls are waiting in the review queue (any date)."),
        Some(Err(e)) => format!("Review queue: {e}"),
        None => "Counting the review queue…".to_string(),
    };
    rsx! {
        h1 { "Dealership health" }
        p { id: "health-queue", class: "notice",
            "{waiting_text} "
            Link { to: queue_link, id: "health-queue-link", "Open the queue" }
        }
        div { class: "health-grid",
            HealthPanel { dealership: view.dealership.clone(), hours: 24 }
            HealthPanel { dealership: view.dealership.clone(), hours: 168 }
        }
        if compare {
            section { class: "panel", id: "compare",
                h2 { "Your dealerships side by side" }
                p { class: "muted", "The last 7 days ({zone}), the highest bad share first." }
                Section { what: "your dealerships' figures", DealershipCompare { zone: zone.clone() } }
            }
        }
        AgentVersions { dealership: view.dealership.clone(), zone }
    }
}

#[component]
fn HealthPanel(dealership: Option<String>, hours: i64) -> Element {
    let dealerships = crate::hooks::use_dealerships();
    let zone = crate::views::shell::screen_zone(dealership.as_deref(), &dealerships.read())
        .unwrap_or_else(|| "UTC".into());
    let title = if hours <= 24 {
        "Last 24 hours"
    } else {
        "Last 7 days"
    };
    let window = if hours <= 24 {
        crate::model::time::Window::Last24h
    } else {
        crate::model::time::Window::Last7d
    };
    let list_view = ViewState {
        dealership: dealership.clone(),
        window,
        ..ViewState::default()
    };

    rsx! {
        section { class: "panel health", "data-hours": "{hours}",
            h2 { "{title}" }
            Section { what: "the summary", Figures { dealership: dealership.clone(), hours, list_view: list_view.clone(), zone } }
            Link { to: Route::Calls { view: list_view.clone() }, class: "more", "See these calls" }
        }
    }
}

/// The period's figures, headline, top flags and chart.
#[component]
fn Figures(dealership: Option<String>, hours: i64, list_view: ViewState, zone: String) -> Element {
    let api = use_api();
    let report = use_resource(use_reactive!(|dealership, hours| {
        let api = api.clone();
        async move { api.health(dealership.as_deref(), hours).await }
    }));
    let r = loaded(&report)?;
    let (good, needs, bad) = r.current.shares();
    let avg = r
        .current
        .avg_score
        .map(|s| format!("{s:.0}"))
        .unwrap_or_else(|| "–".into());
    let changes: Vec<String> = [
        Some(r.volume_change()),
        r.good_share_change(),
        r.score_change(),
    ]
    .into_iter()
    .flatten()
    .collect();
    // Each top flag links to the list of those calls in this period.
    let flags: Vec<(String, Route)> = r
        .top_flags
        .iter()
        .zip(r.top_flags_text())
        .map(|(f, text)| {
            let view = ViewState {
                flags: Flag::parse(&f.flag).into_iter().collect(),
                ..list_view.clone()
            };
            (text, Route::Calls { view })
        })
        .collect();
    rsx! {
        p { class: "headline {r.mood().class()}", "data-mood": "{r.mood().label()}", "{r.headline()}" }
        dl { class: "stats",
            div { dt { "Calls" } dd { class: "calls-count", "{r.current.calls}" } }
            div { dt { "Good" } dd { class: "good", "{percent(good)}" } }
            div { dt { "Needs review" } dd { class: "needs_review", "{percent(needs)}" } }
            div { dt { "Bad" } dd { class: "bad", "{percent(bad)}" } }
            div { dt { "Average score" } dd { "{avg}" } }
        }
        p { class: "changes", {changes.join(" · ")} }
        if r.current.unanalyzed > 0 {
            p { class: "muted", "{r.current.unanalyzed} still being analyzed." }
        }
        h3 { "Top flags" }
        if flags.is_empty() {
            p { class: "muted", "No flags raised." }
        } else {
            ul { class: "flags",
                for (text, to) in flags { li { Link { to, class: "flag-link", "{text}" } } }
            }
        }
        h3 { if hours <= 24 { "Verdicts per hour" } else { "Verdicts per day" } }
        TrendChart { trend: r.trend.clone(), hourly: hours <= 24, zone: zone.clone(), label: format!("Verdicts per {}", if hours <= 24 { "hour" } else { "day" }) }
        div { class: "legend",
            for v in ["good", "needs_review", "bad"] {
                span { class: "key seg-{v}", "{humanize(v)}" }
            }
        }
    }
}
