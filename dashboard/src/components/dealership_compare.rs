//! "Your dealerships side by side": on the health page of a CSM who looks after
//! several dealerships, the last 7 days of each in one table, worst bad share
//! first (`team_dealership_stats`, security invoker: row-level security keeps it
//! to her dealerships). Each row opens that dealership's health, its calls, its
//! bad calls and its review queue.

use dioxus::prelude::*;

use crate::api::data::DealershipStats;
use crate::components::{loaded, Empty};
use crate::hooks::use_api;
use crate::model::format::percent;
use crate::model::review::age_label;
use crate::platform;
use crate::state::call_list::ViewState;
use crate::state::queue_view::QueueState;
use crate::state::team_view::TeamState;
use crate::Route;

/// Worst first: the higher bad share (none analyzed last), then the longer backlog,
/// then by name.
pub fn worst_first(rows: &mut [DealershipStats]) {
    rows.sort_by(|a, b| {
        let share = |r: &DealershipStats| r.bad_share.unwrap_or(-1.0);
        share(b)
            .total_cmp(&share(a))
            .then(b.unresolved.cmp(&a.unresolved))
            .then_with(|| a.name.cmp(&b.name))
    });
}

/// `zone`: the viewer's, in which "the last 7 days" are counted.
#[component]
pub fn DealershipCompare(zone: String) -> Element {
    let api = use_api();
    let stats = use_resource(use_reactive!(|zone| {
        let api = api.clone();
        async move {
            api.dealership_stats(&TeamState::default(), platform::now_ms(), &zone)
                .await
        }
    }));
    let mut rows = loaded(&stats)?;
    if rows.is_empty() {
        return rsx! { Empty { message: "No dealership to compare." } };
    }
    worst_first(&mut rows);
    let window = TeamState::default().window;
    let calls = |d: &str, bad: bool| Route::Calls {
        view: ViewState::dealership_calls(d, window.clone(), bad),
    };
    rsx! {
        div { class: "table-wrap",
            table { class: "calls cards", id: "dealership-compare",
                thead { tr {
                    th { "Dealership" } th { "Calls" } th { "Bad" } th { "Waiting for review" } th { "Oldest waiting" }
                } }
                tbody {
                    for row in rows.iter() {
                        tr { class: "compare-row", key: "{row.dealership_id}", "data-dealership": "{row.dealership_id}",
                            td { "data-label": "Dealership",
                                Link { class: "compare-health", to: Route::Health { view: ViewState { dealership: Some(row.dealership_id.clone()), ..ViewState::default() } },
                                    "{row.name}" }
                            }
                            td { class: "calls-count", "data-label": "Calls", Link { to: calls(&row.dealership_id, false), "{row.calls}" } }
                            td { class: "bad-share", "data-label": "Bad",
                                Link { to: calls(&row.dealership_id, true), {row.bad_share.map(percent).unwrap_or_else(|| "–".into())} }
                                span { class: "muted", " ({row.bad} of {row.analyzed} analyzed)" }
                            }
                            td { class: "unresolved", "data-label": "Waiting for review",
                                Link { to: Route::Queue { state: QueueState { dealership: Some(row.dealership_id.clone()), ..QueueState::default() } }, "{row.unresolved}" } }
                            td { class: "oldest", "data-label": "Oldest waiting", {row.oldest_unresolved_hours.map(age_label).unwrap_or_else(|| "–".into())} }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, bad_share: Option<f64>, unresolved: i64) -> DealershipStats {
        DealershipStats {
            dealership_id: id.into(),
            name: id.into(),
            assigned_names: vec![],
            unresolved,
            oldest_unresolved_hours: None,
            calls: 10,
            analyzed: 10,
            bad: 0,
            bad_share,
        }
    }

    #[test]
    fn the_worst_bad_share_comes_first_then_the_longer_backlog_and_unanalyzed_last() {
        let mut rows = vec![
            row("none-analyzed", None, 9),
            row("fine", Some(0.02), 1),
            row("bad", Some(0.3), 0),
            row("fine-longer-backlog", Some(0.02), 5),
        ];
        worst_first(&mut rows);
        let order: Vec<&str> = rows.iter().map(|r| r.dealership_id.as_str()).collect();
        assert_eq!(
            order,
            ["bad", "fine-longer-backlog", "fine", "none-analyzed"]
        );
    }
}
