//! The call's summary panel: who, when, the current verdict (with the Retell
//! signal that decided it, if one did), the reasons (each one that quotes the
//! transcript scrolls to the quote) and the Re-analyze button.

use dioxus::prelude::*;

use crate::api::data::{AnalysisRow, CallDetail as Call};
use crate::api::ApiError;
use crate::components::{RevealPhone, VerdictBadge};
use crate::hooks::use_api;
use crate::hooks::{use_dealerships, use_me};
use crate::model::format::{analyzer_label, duration, humanize};
use crate::platform;

use super::evidence::quote_id;
use super::signal_marker::SignalMarker;

#[component]
pub fn Summary(
    call: Call,
    zone: String,
    latest: Option<AnalysisRow>,
    /// Per reason, the highlighted quote it points at ([`super::evidence`]).
    targets: Vec<Option<usize>>,
    focused: Signal<Option<usize>>,
    on_reanalysis: EventHandler<()>,
) -> Element {
    let mut focused = focused;
    let api = use_api();
    let me = use_me();
    let dealer_name = use_dealerships()
        .read()
        .iter()
        .find(|d| d.id == call.dealership_id)
        .map(|d| d.name.clone())
        .unwrap_or_else(|| call.dealership_id.clone());
    let mut reanalysis = use_signal(|| None::<Result<i64, ApiError>>);
    let time = |iso: &Option<String>| {
        iso.as_deref()
            .map(|t| platform::format_in_zone(t, &zone, true))
            .unwrap_or_else(|| "–".into())
    };
    let reanalyze = {
        let (d, c) = (call.dealership_id.clone(), call.call_id.clone());
        move |_| {
            let (api, d, c) = (api.clone(), d.clone(), c.clone());
            async move {
                let result = api.request_reanalysis(&d, &c).await;
                if result.is_ok() {
                    on_reanalysis.call(());
                }
                reanalysis.set(Some(result))
            }
        }
    };
    let signals = latest.map(|a| a.retell_signals).unwrap_or_default();

    rsx! {
        section { class: "panel",
            h2 { "Summary" }
            dl { class: "facts",
                dt { "Dealership" } dd { "{dealer_name}" }
                dt { "Verdict" } dd { VerdictBadge { verdict: call.verdict.clone() }
                    if let Some(label) = analyzer_label(call.analysis_model.as_deref()) { span { class: "analyzer", "{label}" } }
                    SignalMarker { dom_id: "verdict-signal", codes: signals } }
                dt { "Score" } dd { {call.score.map(|s| s.to_string()).unwrap_or_else(|| "–".into())} }
                dt { "Reasons" } dd { id: "summary-reasons",
                    for (i, reason) in call.reasons.iter().enumerate() {
                        if i > 0 { "; " }
                        match targets.get(i).copied().flatten() {
                            // A reason that quotes the transcript links to the quote.
                            Some(q) => rsx! {
                                button { class: "link reason-link", "data-quote": "{q}",
                                    title: "Show the quoted words in the transcript",
                                    onclick: move |_| { focused.set(Some(q)); platform::scroll_to_center(&quote_id(q)); },
                                    "{humanize(reason)}" }
                            },
                            None => rsx! { span { class: "reason", "{humanize(reason)}" } },
                        }
                    }
                }
                dt { "Flags" } dd { for f in call.flags.iter() { span { class: "flag", "{humanize(f)}" } } }
                dt { "Customer" } dd { RevealPhone { key: "{call.dealership_id}/{call.call_id}", dealership_id: call.dealership_id.clone(), call_id: call.call_id.clone(),
                    last4: call.customer_phone_last4.clone(), can_reveal: me.read().role.can_review() } }
                dt { "Duration" } dd { {duration(call.duration_sec)} }
                dt { "Occurred" } dd { id: "occurred-at", {time(&Some(call.first_event_at.clone()))} }
                dt { "Started / ended" } dd { {time(&call.started_at)} " / " {time(&call.ended_at)} }
                dt { "Analyzed" } dd { {time(&call.analyzed_at)} }
                dt { "Status" } dd { {call.call_status.clone().unwrap_or_else(|| "–".into())} }
                dt { "Direction" } dd { {call.direction.clone().unwrap_or_else(|| "–".into())} }
                dt { "Agent" } dd { id: "call-agent", {call.agent_id.clone().unwrap_or_else(|| "–".into())}
                    if let Some(v) = call.agent_version { span { class: "muted", " · version {v}" } } }
                dt { "Disconnection" } dd { {call.disconnection_reason.as_deref().map(humanize).unwrap_or_else(|| "–".into())} }
            }
            // Admins are read-only: the database refuses them, so no button.
            if me.read().role.can_review() { div { class: "actions",
                button { id: "reanalyze", onclick: reanalyze, "Re-analyze" }
                match reanalysis() {
                    Some(Ok(_)) => rsx! { span { class: "muted", id: "reanalysis-result",
                        "Re-analysis requested. The new verdict appears here when it is ready." } },
                    Some(Err(e)) => rsx! { span { class: "error", id: "reanalysis-result", "{e}" } },
                    None => rsx! {},
                }
            } }
        }
    }
}
