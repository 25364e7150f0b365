//! The signed-in frame: header with the user's name, role and dealerships, the
//! dealership selector (kept in the URL), navigation (with the queue's count badge)
//! and sign-out. It also provides who is signed in ([`use_me`]) and a counter that
//! pages bump after a saved review change ([`use_reviews_changed`]), which reloads
//! the badge. Admins get a note that they are read-only and where roles live.

use dioxus::prelude::*;

use crate::api::data::Dealership;
use crate::api::{auth, use_api};
use crate::components::{ErrorNote, Loading};
use crate::format::humanize;
use crate::review::{Me, QueueState, Role};
use crate::team::TeamState;
use crate::Route;

/// Who is signed in (profile id, name and role), for deciding which controls to show.
pub fn use_me() -> Signal<Me> {
    use_context::<Signal<Me>>()
}

/// Bumped after every saved review change.
#[derive(Clone, Copy, PartialEq)]
pub struct ReviewsChanged(pub Signal<u64>);

pub fn use_reviews_changed() -> Signal<u64> {
    use_context::<ReviewsChanged>().0
}

/// The dealerships the user may see, loaded once by the shell.
pub fn use_dealerships() -> Signal<Vec<Dealership>> {
    use_context::<Signal<Vec<Dealership>>>()
}

/// The time zone to show a dealership's call times in.
pub fn zone_of(dealerships: &[Dealership], id: &str) -> String {
    dealerships
        .iter()
        .find(|d| d.id == id)
        .map(|d| d.timezone.clone())
        .unwrap_or_else(|| "UTC".into())
}

#[component]
pub fn Shell() -> Element {
    let api = use_api();
    let route = use_route::<Route>();
    let navigator = use_navigator();
    let mut dealerships = use_context_provider(|| Signal::new(Vec::<Dealership>::new()));
    let mut me = use_context_provider(|| Signal::new(Me::default()));
    let changed = use_context_provider(|| ReviewsChanged(Signal::new(0u64))).0;

    let user_id = api
        .session
        .0
        .peek()
        .session
        .as_ref()
        .map(|s| s.user.id.clone())
        .unwrap_or_default();
    let profile = use_resource({
        let api = api.clone();
        move || {
            let (api, user_id) = (api.clone(), user_id.clone());
            async move { api.profile(&user_id).await }
        }
    });
    let loaded = use_resource({
        let api = api.clone();
        move || {
            let api = api.clone();
            async move { api.dealerships().await }
        }
    });
    use_effect(move || {
        if let Some(Ok(list)) = &*loaded.read() {
            dealerships.set(list.clone());
        }
    });
    use_effect(move || {
        if let Some(Ok(Some(p))) = &*profile.read() {
            me.set(Me {
                user_id: p.user_id.clone(),
                full_name: p.full_name.clone(),
                role: Role::parse(&p.role),
            });
        }
    });
    let queue_count = use_resource({
        let api = api.clone();
        move || {
            let api = api.clone();
            // Reading the counter subscribes: a saved change reloads the badge.
            let _ = changed();
            async move { api.queue_count().await }
        }
    });

    let view = route.view();
    let selected = route.dealership().unwrap_or_else(|| "all".into());
    let role = me.read().role;
    let badge = match &*queue_count.read() {
        Some(Ok(n)) => n.to_string(),
        _ => "…".into(),
    };
    let sign_out = {
        let api = api.clone();
        move |_| {
            let api = api.clone();
            async move {
                if let Some(token) = api.session.token() {
                    auth::sign_out(&api.config, &token).await;
                }
                api.session.end(None);
            }
        }
    };

    let who = match &*profile.read() {
        Some(Ok(Some(p))) => rsx! {
            span { id: "user-name", class: "name", "{p.full_name}" }
            span { id: "user-role", class: "role", "{humanize(&p.role)}" }
        },
        Some(Ok(None)) => rsx! { span { class: "name", "No profile yet" } },
        Some(Err(_)) => rsx! { span { class: "name", "Profile unavailable" } },
        None => rsx! { span { class: "name", "…" } },
    };
    let names: Vec<String> = dealerships.read().iter().map(|d| d.name.clone()).collect();
    let names = names.join(", ");

    let body = match &*loaded.read() {
        None => rsx! { Loading { what: "your dealerships" } },
        Some(Err(e)) => rsx! { ErrorNote { error: e.clone() } },
        Some(Ok(list)) if list.is_empty() => rsx! {
            p { class: "state empty", id: "no-dealerships",
                "No dealership is assigned to you yet, so there is nothing to show. Ask an admin to assign you." }
        },
        Some(Ok(_)) => rsx! { Outlet::<Route> {} },
    };

    rsx! {
        header {
            strong { class: "brand", "Call quality monitor" }
            nav {
                Link { to: Route::Health { view: view.scope_only() }, class: "nav", id: "nav-health", "Health" }
                Link { to: Route::Calls { view: view.scope_only() }, class: "nav", id: "nav-calls", "Calls" }
                Link { to: Route::Queue { state: QueueState { dealership: view.dealership.clone(), ..QueueState::default() } }, class: "nav", id: "nav-queue",
                    if role == Role::Admin { "Review queue" } else { "My queue" }
                    span { id: "queue-count", class: "count-badge", title: "Flagged calls waiting for review", "{badge}" }
                }
                if role.sees_team() {
                    Link { to: Route::Team { state: TeamState { dealership: view.dealership.clone(), ..TeamState::default() } }, class: "nav", id: "nav-team", "Team" }
                }
            }
            label { class: "dealer-select",
                span { class: "sr-only", "Dealership" }
                select {
                    id: "dealership-select",
                    value: "{selected}",
                    onchange: move |e| {
                        let value = e.value();
                        let choice = (value != "all").then_some(value);
                        navigator.push(route.with_dealership(choice));
                    },
                    option { value: "all", selected: selected == "all", "All my dealerships" }
                    for d in dealerships.read().iter() {
                        option { key: "{d.id}", value: "{d.id}", selected: selected == d.id, "{d.name}" }
                    }
                }
            }
            div { class: "who",
                {who}
                span { id: "user-dealerships", class: "dealerships", title: "{names}", "{names}" }
                button { id: "sign-out", class: "link", onclick: sign_out, "Sign out" }
            }
        }
        if role == Role::Admin {
            p { id: "admin-note", class: "notice admin-note",
                "You are signed in as an admin: you see every dealership, read-only. Roles, reporting lines and dealership assignments are managed in Supabase Studio (tables profiles and user_dealerships; see docs/admin.md)."
            }
        }
        main { {body} }
    }
}
