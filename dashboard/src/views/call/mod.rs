//! One call's page: it loads the call, its analyses and its events, and lays out
//! the panels, one file each: the summary with re-analysis (`summary`), the
//! review panel (`review_panel`), the transcript (`transcript`) with the
//! analysis's quotes highlighted (`evidence`) and the recording (`player`, read
//! from the events by `recording`), Retell's metadata (`metadata`), the stored
//! analysis and earlier attempts (`analyses`), the marker naming the Retell
//! signal that decided (`signal_marker`) and the raw events (`events`).

mod analyses;
mod events;
mod evidence;
mod metadata;
mod player;
mod recording;
mod review_panel;
mod signal_marker;
mod summary;
mod transcript;

use dioxus::prelude::*;

use crate::components::{loaded, settled, Section};
use crate::hooks::use_api;
use crate::hooks::use_dealerships;
use crate::model::format::mask_phone;
use crate::platform;
use crate::state::call_list::ViewState;
use crate::views::shell::{name_of, zone_of};
use crate::Route;

use analyses::AnalysisSection;
use events::EventsSection;
use metadata::MetadataSection;
use review_panel::ReviewPanel;
use summary::Summary;
use transcript::{shown_texts, TranscriptSection};

#[component]
pub fn CallDetail(dealership_id: String, call_id: String, view: ViewState) -> Element {
    let dealerships = use_dealerships();
    let zone = zone_of(&dealerships.read(), &dealership_id);
    let dealer_name = name_of(&dealerships.read(), &dealership_id);
    let back = Route::Calls { view: view.clone() };
    rsx! {
        Link { to: back, class: "back", "← Back to the list" }
        p { class: "muted", id: "call-id", "Call ID {call_id}" }
        // Keyed by the call, so opening another call loads it afresh.
        Section { what: "the call",
            CallPage { key: "{dealership_id}/{call_id}", dealership_id: dealership_id.clone(),
                call_id: call_id.clone(), zone, dealer_name } }
    }
}

/// The call, its analyses and its events, loaded here (the component that waits
/// owns what it waits for: see `components::section::loaded`), then the title and
/// the panels. A failed analyses or events load shows in its own panel.
#[component]
fn CallPage(dealership_id: String, call_id: String, zone: String, dealer_name: String) -> Element {
    let api = use_api();
    let (api1, api2, api3) = (api.clone(), api.clone(), api.clone());
    let mut call = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api1.clone();
        async move { api.call(&dealership_id, &call_id).await }
    }));
    let mut analyses = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api2.clone();
        async move { api.analyses(&dealership_id, &call_id).await }
    }));
    let mut events = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api3.clone();
        async move { api.events(&dealership_id, &call_id).await }
    }));
    // The quote a clicked reason points at, highlighted more strongly.
    let focused = use_signal(|| None::<usize>);

    // After a re-analysis request, wait for the worker's new attempt, then reload the
    // summary and the analyses together (so "Analyzed" is not left stale).
    let watch = {
        let (d, c) = (dealership_id.clone(), call_id.clone());
        move |_| {
            let (api, d, c) = (api.clone(), d.clone(), c.clone());
            spawn(async move {
                let before = api.analyses(&d, &c).await.map(|a| a.len()).unwrap_or(0);
                for _ in 0..60 {
                    platform::sleep_ms(2_000).await;
                    if api.analyses(&d, &c).await.map(|a| a.len()).unwrap_or(0) > before {
                        break;
                    }
                }
                call.restart();
                analyses.restart();
            });
        }
    };

    let c = loaded(&call)?;
    let analyses_now = settled(&analyses)?;
    let events_now = settled(&events)?;
    let title = format!(
        "Call with {} · {dealer_name} · {}",
        mask_phone(c.customer_phone_last4.as_deref()),
        platform::format_in_zone(&c.first_event_at, &zone, true)
    );
    // The current analysis, once loaded: its signals and evidence mark the page.
    let latest = analyses_now
        .as_ref()
        .ok()
        .and_then(|rows| rows.first().cloned());
    let loaded_events = events_now.clone().unwrap_or_default();
    let (roles, texts) = shown_texts(c.transcript_turns.as_ref(), c.transcript.as_deref());
    let quotes = evidence::quotes(
        &c.reasons,
        latest.as_ref().map(|a| a.analysis_text.as_str()),
    );
    let (pieces, found) = evidence::mark(&texts, &quotes);
    let targets = evidence::reason_targets(c.reasons.len(), &quotes, &found);
    rsx! {
        h1 { id: "call-title", "{title}" }
        div { class: "detail-grid",
            Summary { call: c.clone(), zone: zone.clone(), latest: latest.clone(), targets, focused, on_reanalysis: watch }
            Section { what: "the review",
                ReviewPanel { dealership_id: c.dealership_id.clone(), call_id: c.call_id.clone(), zone: zone.clone(),
                    verdict: c.verdict.clone(), flags: c.flags.clone() } }
            section { class: "panel", id: "chat-panel",
                h2 { "Chat" }
                button { id: "chat-send", disabled: true, "Send message to customer (future)" }
                p { class: "muted", "Messaging customers from the dashboard is planned; for now, follow up by phone." }
            }
        }
        TranscriptSection { roles, pieces, focused,
            recording: recording::recording_url(&loaded_events), starts: recording::turn_starts(&loaded_events) }
        MetadataSection { call: c.clone() }
        AnalysisSection { analyses: analyses_now, zone: zone.clone(),
            on_requested: move |_| { call.restart(); analyses.restart(); } }
        EventsSection { events: events_now, zone: zone.clone(), on_retry: move |_| events.restart() }
    }
}
