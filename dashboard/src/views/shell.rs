//! The signed-in frame: header with the user's name, role and dealerships, the
//! dealership selector (kept in the URL), navigation and sign-out.

use dioxus::prelude::*;

use crate::api::data::Dealership;
use crate::api::{auth, use_api};
use crate::components::{ErrorNote, Loading};
use crate::format::humanize;
use crate::Route;

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

    let view = route.view();
    let selected = view.dealership.clone().unwrap_or_else(|| "all".into());
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
            }
            label { class: "dealer-select",
                span { class: "sr-only", "Dealership" }
                select {
                    id: "dealership-select",
                    value: "{selected}",
                    onchange: move |e| {
                        let value = e.value();
                        let choice = (value != "all").then_some(value);
                        navigator.push(route.with_view(route.view().with_dealership(choice)));
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
        main { {body} }
    }
}
