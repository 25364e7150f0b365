//! The signed-in frame: header with the user's name, role and dealerships, the
//! dealership selector (kept in the URL), navigation (with the queue's count badge)
//! and sign-out. It also provides the contexts behind `crate::hooks`: who is
//! signed in and the dealerships (memos derived from what it loads), and a counter that pages bump after a saved review
//! change, which reloads the badge. Admins get a note that they are read-only and where roles live.

use dioxus::prelude::*;

use crate::api::auth;
use crate::api::data::Dealership;
use crate::api::ApiError;
use crate::components::{loaded, Section};
use crate::hooks::use_api;
use crate::hooks::ReviewsChanged;
use crate::model::format::{compact_names, humanize};
use crate::model::review::{Me, QueueState, Role};
use crate::state::team_view::TeamState;
use crate::Route;

/// The time zone to show a dealership's call times in.
pub fn zone_of(dealerships: &[Dealership], id: &str) -> String {
    dealerships
        .iter()
        .find(|d| d.id == id)
        .map(|d| d.timezone.clone())
        .unwrap_or_else(|| "UTC".into())
}

/// The one time-zone rule of every screen: the selected dealership's zone, or the
/// viewer's own when all dealerships are shown (they may span zones). `None` while
/// the dealership list is still loading, so nothing is computed in the wrong zone.
pub fn screen_zone(dealership: Option<&str>, dealerships: &[Dealership]) -> Option<String> {
    match dealership {
        None => Some(crate::platform::viewer_zone()),
        Some(id) => dealerships
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.timezone.clone()),
    }
}

/// A dealership's display name, or its id when the list does not have it.
pub fn name_of(dealerships: &[Dealership], id: &str) -> String {
    dealerships
        .iter()
        .find(|d| d.id == id)
        .map(|d| d.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// The role badge: "CSM" is an acronym, the others are words.
pub fn role_label(role: &str) -> String {
    match role {
        "csm" => "CSM".into(),
        other => humanize(other),
    }
}

#[component]
pub fn Shell() -> Element {
    let api = use_api();
    let route = use_route::<Route>();
    let navigator = use_navigator();
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
    let mut loaded = use_resource({
        let api = api.clone();
        move || {
            let api = api.clone();
            async move { api.dealerships().await }
        }
    });
    // What the pages read through `crate::hooks`: derived from the two loads, never
    // copied into by an effect.
    let dealerships = use_memo(move || match &*loaded.read() {
        Some(Ok(list)) => list.clone(),
        _ => Vec::<Dealership>::new(),
    });
    use_context_provider(|| dealerships);
    let me = use_memo(move || match &*profile.read() {
        Some(Ok(Some(p))) => Me {
            user_id: p.user_id.clone(),
            full_name: p.full_name.clone(),
            role: Role::parse(&p.role),
        },
        _ => Me::default(),
    });
    use_context_provider(|| me);
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
                // Forget the session locally first, so other tabs and a page restored
                // by Back see it gone at once, then revoke it on the server (this
                // session only: the user's other devices stay signed in).
                let token = api
                    .session
                    .0
                    .peek()
                    .session
                    .as_ref()
                    .map(|s| s.access_token.clone());
                api.session.end(None);
                if let Some(token) = token {
                    // Not tied to this (now unmounted) component, so it is not cancelled.
                    let config = api.config.clone();
                    dioxus::core::spawn_forever(
                        async move { auth::sign_out(&config, &token).await },
                    );
                }
            }
        }
    };

    let who = match &*profile.read() {
        Some(Ok(Some(p))) => rsx! {
            span { id: "user-name", class: "name", "{p.full_name}" }
            span { id: "user-role", class: "role", "{role_label(&p.role)}" }
        },
        Some(Ok(None)) => rsx! { span { class: "name", "No profile yet" } },
        Some(Err(_)) => rsx! { span { class: "name", "Profile unavailable" } },
        None => rsx! { span { class: "name", "…" } },
    };
    let names: Vec<String> = dealerships.read().iter().map(|d| d.name.clone()).collect();
    let (shown, more) = compact_names(&names);
    let names = names.join(", ");

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
                    if selected != "all" && !dealerships.read().iter().any(|d| d.id == selected) {
                        option { value: "{selected}", selected: true, disabled: true, "Not available" }
                    }
                    for d in dealerships.read().iter() {
                        option { key: "{d.id}", value: "{d.id}", selected: selected == d.id, "data-set-up": "{d.set_up}", "{d.label()}" }
                    }
                }
            }
            div { class: "who",
                {who}
                span { id: "user-dealerships", class: "dealerships", title: "{names}", "{shown}"
                    if more > 0 { span { class: "more", " +{more}" } }
                }
                button { id: "sign-out", class: "link", onclick: sign_out, "Sign out" }
            }
        }
        if role == Role::Admin {
            p { id: "admin-note", class: "notice admin-note",
                "You are signed in as an admin: you can see every dealership, but not change reviews here. To change someone's role, manager or dealerships, use the admin console (Supabase Studio): the people are in “profiles”, their dealerships in “user_dealerships”."
            }
        }
        main {
            Section { what: "your dealerships", on_retry: move |_| loaded.restart(),
                Pages { dealerships: loaded, selected: selected.clone() } }
        }
    }
}

/// The signed-in pages, once the dealership list has loaded: the routed page, or
/// why there is none (no dealership yet, or one in the URL the user may not see).
#[component]
fn Pages(dealerships: Resource<Result<Vec<Dealership>, ApiError>>, selected: String) -> Element {
    let route = use_route::<Route>();
    let list = loaded(&dealerships)?;
    if list.is_empty() {
        return rsx! {
            p { class: "state empty", id: "no-dealerships",
                "No dealership is assigned to you yet, so there is nothing to show. Ask an admin to assign you." }
        };
    }
    // A dealership in the URL that RLS does not show (someone else's, or a typo):
    // say so, rather than an empty page that reads as "no calls".
    if route
        .dealership()
        .is_some_and(|d| !list.iter().any(|x| x.id == d))
    {
        return rsx! {
            div { class: "state empty", id: "no-access", role: "alert",
                p { "You don't have access to this dealership (or it doesn't exist): “{selected}”." }
                Link { to: route.with_dealership(None), "Show all my dealerships" }
            }
        };
    }
    rsx! { Outlet::<Route> {} }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_role_badge_spells_csm_as_an_acronym() {
        assert_eq!(super::role_label("csm"), "CSM");
        assert_eq!(super::role_label("manager"), "Manager");
    }
}
