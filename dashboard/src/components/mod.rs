//! Small widgets shared by the pages: the loading/error `Section`, the verdict
//! badge, the empty state, the trend and flow charts, the review workflow controls
//! and list, the label form, the note box, the agreement panel, the agent version
//! panel, a CSM's dealerships side by side and the review lists' bulk bar.

mod agent_versions;
mod agreement_panel;
mod bulk_bar;
mod dealership_compare;
mod flow_chart;
mod label_form;
mod queue_filters;
mod reveal_phone;
mod review_controls;
mod review_list;
mod review_note;
mod section;
mod trend_chart;

pub use agent_versions::AgentVersions;
pub use agreement_panel::AgreementPanel;
pub use bulk_bar::BulkBar;
pub use dealership_compare::DealershipCompare;
pub use flow_chart::FlowChart;
pub use label_form::LabelForm;
pub use queue_filters::QueueFilters;
pub use reveal_phone::RevealPhone;
pub use review_controls::ReviewControls;
pub use review_list::{Flash, ReviewList};
pub use review_note::ReviewNote;
pub use section::{loaded, settled, Section};
pub use trend_chart::TrendChart;

use dioxus::prelude::*;

use crate::api::ApiError;
use crate::model::format::humanize;

#[component]
pub fn VerdictBadge(verdict: Option<String>) -> Element {
    match verdict {
        Some(v) => rsx! { span { class: "badge verdict-{v}", "{humanize(&v)}" } },
        None => rsx! { span { class: "badge verdict-none", "Not analyzed" } },
    }
}

#[component]
pub fn Loading(what: String) -> Element {
    rsx! { p { class: "state loading", role: "status", "Loading {what}…" } }
}

#[component]
pub fn Empty(message: String) -> Element {
    rsx! { p { class: "state empty", "{message}" } }
}

/// An error in plain words, with a Retry button when the page can reload what
/// failed. A signed-out error needs no message here: the session has already ended
/// and the login screen explains it.
#[component]
pub fn ErrorNote(error: ApiError, on_retry: Option<EventHandler<()>>) -> Element {
    rsx! {
        p { class: "state error", role: "alert", "{error} "
            if let Some(retry) = on_retry {
                button { class: "retry", onclick: move |_| retry.call(()), "Retry" }
            }
        }
    }
}

/// A chart's time axis, kept minimal: the first bucket under the left edge and the
/// last under the right (one label when there is a single bucket).
#[component]
pub fn AxisLabels(first: Option<String>, last: Option<String>) -> Element {
    let last = last.filter(|l| Some(l) != first.as_ref());
    rsx! {
        div { class: "axis", "aria-hidden": "true",
            span { class: "axis-first", {first.unwrap_or_default()} }
            if let Some(l) = last { span { class: "axis-last", "{l}" } }
        }
    }
}
