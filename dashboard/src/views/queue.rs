//! "My queue": the flagged calls (verdict needs_review or bad) of the user's
//! dealerships whose review is not resolved, worst or oldest first, with the review
//! workflow inline. Items assigned to others are shown, marked; unassigned ones can
//! be claimed. For an admin it is the same list, read-only.

use dioxus::prelude::*;

use crate::api::use_api;
use crate::components::{ErrorNote, Loading, ReviewList};
use crate::review::{QueueSort, QueueState, Role};
use crate::views::shell::use_me;
use crate::Route;

#[component]
pub fn Queue(state: QueueState) -> Element {
    let api = use_api();
    let me = use_me();
    let me_now = me.read().clone();
    let mut reloads = use_signal(|| 0u32);
    let changed = crate::views::shell::use_reviews_changed();
    let mut items = use_resource(use_reactive!(|state, me_now| {
        let api = api.clone();
        let _ = reloads();
        // After a saved change the list is reloaded, like the badge, so they agree.
        let _ = changed();
        async move { api.queue(&state, &me_now).await }
    }));
    let team = use_team_members();

    let chip = |label: &'static str, id: &'static str, next: QueueState, active: bool| {
        rsx! {
            Link { to: Route::Queue { state: next }, id: "{id}", class: if active { "chip active" } else { "chip" }, "{label}" }
        }
    };
    let title = if me_now.role == Role::Admin {
        "Review queue"
    } else {
        "My queue"
    };

    let body = match &*items.read() {
        None => rsx! { Loading { what: "the queue" } },
        Some(Err(e)) => rsx! { ErrorNote { error: e.clone(), on_retry: move |_| items.restart() } },
        Some(Ok(list)) => rsx! {
            ReviewList {
                key: "{state}-{me_now.user_id}-{reloads}",
                items: list.clone(),
                team: team(),
                show_dealership: state.dealership.is_none(),
                label: "Review queue".to_string(),
                empty: "Nothing waiting for review. Flagged calls appear here until their review is resolved.".to_string(),
            }
        },
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
        div { class: "actions",
            {chip("Worst first", "sort-worst", QueueState { sort: QueueSort::Worst, ..state.clone() }, state.sort == QueueSort::Worst)}
            {chip("Oldest first", "sort-oldest", QueueState { sort: QueueSort::Oldest, ..state.clone() }, state.sort == QueueSort::Oldest)}
            if me_now.role.can_review() {
                {chip("Only mine", "only-mine", QueueState { mine: !state.mine, ..state.clone() }, state.mine)}
            }
            button { class: "link", id: "queue-reload", onclick: move |_| *reloads.write() += 1, "Reload" }
        }
        {body}
    }
}

/// A manager's team (people and their dealership assignments), for the assignee
/// picker; `None` for everyone else, who cannot assign to others.
pub fn use_team_members() -> Memo<Option<crate::review::Team>> {
    let api = use_api();
    let me = use_me();
    let loaded = use_resource(move || {
        let api = api.clone();
        let role = me.read().role;
        async move {
            if role == Role::Manager {
                api.team_members().await.ok()
            } else {
                None
            }
        }
    });
    use_memo(move || loaded.read().clone().flatten())
}
