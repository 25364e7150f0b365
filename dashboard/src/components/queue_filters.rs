//! The queue's filters and sort, every one a link to the queue's URL with that
//! filter changed, so the address always says what the list shows: sort (worst,
//! oldest, newest first), verdict, review status, how long it has waited, a flag,
//! and "Only mine".

use dioxus::prelude::*;

use crate::model::format::humanize;
use crate::model::review::status_label;
use crate::model::review::{unresolved_statuses, AGE_BUCKETS};
use crate::state::queue_view::{toggled, QueueSort, QueueState, QUEUE_VERDICT_CHOICES};
use crate::Route;

#[component]
pub fn QueueFilters(state: QueueState, can_review: bool) -> Element {
    let navigator = use_navigator();
    let chip = |label: String, id: String, next: QueueState, active: bool| {
        rsx! {
            Link { to: Route::Queue { state: next }, id: "{id}", class: if active { "chip active" } else { "chip" }, "{label}" }
        }
    };
    let flag_now = state.flags.first().cloned().unwrap_or_default();
    rsx! {
        div { class: "filters", id: "queue-filters",
            div { class: "row",
                span { class: "label", "Sort" }
                for sort in QueueSort::ALL {
                    {chip(sort.label().into(), sort.id().into(), QueueState { sort, ..state.clone() }, state.sort == sort)}
                }
                if can_review {
                    {chip("Only mine".into(), "only-mine".into(), QueueState { mine: !state.mine, ..state.clone() }, state.mine)}
                }
            }
            div { class: "row",
                span { class: "label", "Verdict" }
                for (code, label) in QUEUE_VERDICT_CHOICES {
                    {chip(label.into(), format!("qv-{code}"), QueueState { verdicts: toggled(&state.verdicts, code.to_string()), ..state.clone() }, state.verdicts.iter().any(|v| v == code))}
                }
            }
            div { class: "row",
                span { class: "label", "Status" }
                for s in unresolved_statuses() {
                    {chip(status_label(s.as_str()), format!("qs-{}", s.as_str()), QueueState { statuses: toggled(&state.statuses, s), ..state.clone() }, state.statuses.contains(&s))}
                }
            }
            div { class: "row",
                span { class: "label", "Waiting" }
                {chip("Any".into(), "qa-any".into(), QueueState { age: None, ..state.clone() }, state.age.is_none())}
                for (key, label) in AGE_BUCKETS {
                    {chip(label.into(), format!("qa-{key}"), QueueState { age: Some(key.to_string()), ..state.clone() }, state.age.as_deref() == Some(key))}
                }
                label { class: "flag-filter",
                    span { class: "label", "Flag" }
                    select { id: "queue-flag", value: "{flag_now}",
                        onchange: {
                            let state = state.clone();
                            move |e: FormEvent| {
                                let v = e.value();
                                let flags = if v.is_empty() { vec![] } else { vec![v] };
                                navigator.push(Route::Queue { state: QueueState { flags, ..state.clone() } });
                            }
                        },
                        option { value: "", selected: flag_now.is_empty(), "Any flag" }
                        for f in domain::analysis::Flag::ALL {
                            option { key: "{f.as_str()}", value: "{f.as_str()}", selected: flag_now == f.as_str(), {humanize(f.as_str())} }
                        }
                    }
                }
                if state.is_filtered() {
                    Link { id: "queue-clear-filters", to: Route::Queue { state: state.without_filters() }, "Clear filters" }
                }
            }
        }
    }
}
