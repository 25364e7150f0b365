//! The call's events as received: type, when it happened and arrived, and the
//! payload (from `call_events`, its phone fields masked).

use dioxus::prelude::*;

use crate::api::data::EventRow;
use crate::api::ApiError;
use crate::components::{ErrorNote, Loading};
use crate::platform;

#[component]
pub fn EventsSection(
    events: Option<Result<Vec<EventRow>, ApiError>>,
    zone: String,
    on_retry: EventHandler<()>,
) -> Element {
    let body = match events {
        None => rsx! { Loading { what: "events" } },
        Some(Err(e)) => rsx! { ErrorNote { error: e, on_retry: move |_| on_retry.call(()) } },
        Some(Ok(rows)) if rows.is_empty() => rsx! { p { class: "muted", "No events recorded." } },
        Some(Ok(rows)) => rsx! {
            for e in rows {
                details { class: "event", key: "{e.event_id}",
                    summary {
                        "{e.event_type} · occurred {platform::format_in_zone(&e.occurred_at, &zone, true)} · received {platform::format_in_zone(&e.received_at, &zone, true)}"
                    }
                    pre { class: "json", {serde_json::to_string_pretty(&e.payload).unwrap_or_default()} }
                }
            }
        },
    };
    rsx! {
        section { class: "panel", id: "events",
            h2 { "Events and raw payloads" }
            {body}
        }
    }
}
