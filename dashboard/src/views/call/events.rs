//! The call's events as received: type, when it happened and arrived, and the
//! payload (from `call_events`, its phone fields masked).

use dioxus::prelude::*;

use crate::api::data::EventRow;
use crate::api::ApiError;
use crate::components::Section;
use crate::platform;

/// `events`: what the call page loaded (the recording is read from it too).
#[component]
pub fn EventsSection(
    events: Result<Vec<EventRow>, ApiError>,
    zone: String,
    on_retry: EventHandler<()>,
) -> Element {
    rsx! {
        section { class: "panel", id: "events",
            h2 { "Events and raw payloads" }
            Section { what: "events", on_retry: move |_| on_retry.call(()), Events { events, zone } }
        }
    }
}

#[component]
fn Events(events: Result<Vec<EventRow>, ApiError>, zone: String) -> Element {
    let rows = events?;
    if rows.is_empty() {
        return rsx! { p { class: "muted", "No events recorded." } };
    }
    rsx! {
        for e in rows {
            details { class: "event", key: "{e.event_id}",
                summary {
                    "{e.event_type} · occurred {platform::format_in_zone(&e.occurred_at, &zone, true)} · received {platform::format_in_zone(&e.received_at, &zone, true)}"
                }
                pre { class: "json", {serde_json::to_string_pretty(&e.payload).unwrap_or_default()} }
            }
        }
    }
}
