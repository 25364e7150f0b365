//! "My queue": the flagged calls (verdict needs_review or bad) of the user's
//! dealerships whose review is not resolved, worst or oldest first, with the review
//! workflow inline. Items assigned to others are shown, marked; unassigned ones can
//! be claimed. Filters (verdict, status, age, flag) and the sort are in the URL;
//! rows can be picked for bulk actions. For an admin it is the same list, read-only.

use dioxus::prelude::*;

use crate::components::{loaded, QueueFilters, ReviewList, Section};
use crate::hooks::use_api;
use crate::hooks::{use_me, use_team_members};
use crate::model::review::{QueueState, Role};

#[component]
pub fn Queue(state: QueueState) -> Element {
    let me = use_me();
    let me_now = me.read().clone();
    let mut reloads = use_signal(|| 0u32);

    let title = if me_now.role == Role::Admin {
        "Review queue"
    } else {
        "My queue"
    };

    rsx! {
        h1 { "{title}" }
        p { class: "muted",
            "Calls judged needs review or bad whose review is not resolved. "
            if me_now.role.can_review() {
                "Keys: j/k move · Enter opens · r reviewed · f follow-up · s resolve · e escalate · o re-open · c claim."
            } else {
                "Admins see the queue read-only."
            }
        }
        QueueFilters { state: state.clone(), can_review: me_now.role.can_review() }
        div { class: "actions",
            button { class: "link", id: "queue-reload", onclick: move |_| *reloads.write() += 1, "Reload" }
        }
        Section { what: "the queue", QueueItems { state, reloads: reloads() } }
    }
}

/// The queue's rows, loaded for the filters; `reloads` counts the Reload button's
/// presses.
#[component]
fn QueueItems(state: QueueState, reloads: u32) -> Element {
    let api = use_api();
    let me = use_me();
    let me_now = me.read().clone();
    let changed = crate::hooks::use_reviews_changed();
    let items = use_resource(use_reactive!(|state, me_now, reloads| {
        let api = api.clone();
        let _ = reloads;
        // After a saved change the list is reloaded, like the badge, so they agree.
        let _ = changed();
        async move { api.queue(&state, &me_now).await }
    }));
    let team = use_team_members();
    let list = loaded(&items)?;
    rsx! {
        p { class: "muted", id: "queue-shown", {shown_line(list.len(), state.is_filtered())} }
        div { ReviewList {
            key: "{state}-{me_now.user_id}-{reloads}",
            items: list,
            team: team(),
            show_dealership: state.dealership.is_none(),
            label: "Review queue".to_string(),
            empty: if state.is_filtered() {
                "No call in the queue matches these filters.".to_string()
            } else {
                "Nothing waiting for review. Flagged calls appear here until their review is resolved.".to_string()
            },
        } }
    }
}

/// "12 calls match these filters", "40 calls waiting (the first 200 shown)".
fn shown_line(count: usize, filtered: bool) -> String {
    let calls = if count == 1 { "call" } else { "calls" };
    let mut line = if filtered {
        format!("{count} {calls} match these filters")
    } else {
        format!("{count} {calls} waiting")
    };
    if count >= crate::state::queue_view::QUEUE_LIMIT {
        line.push_str(&format!(
            " (the first {} shown)",
            crate::state::queue_view::QUEUE_LIMIT
        ));
    }
    line
}
