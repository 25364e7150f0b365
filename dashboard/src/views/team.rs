//! The manager's team overview and its drill-downs. Every number comes from SQL
//! (`team_csm_stats`, `team_dealership_stats`, `team_daily_flow`) and links to the
//! rows behind it: the unresolved items (`review_queue`, with the workflow inline,
//! so a manager can reassign or resolve) or the status changes (`review_history`).
//! Filters (CSM, dealership, period) live in the URL.

use dioxus::prelude::*;

use crate::api::data::{is_not_set_up, CsmStats, DealershipStats, NOT_SET_UP};
use crate::api::ApiError;
use crate::components::{loaded, AgreementPanel, Empty, FlowChart, ReviewList, Section};
use crate::hooks::use_api;
use crate::hooks::use_team_members;
use crate::hooks::{use_dealerships, use_me};
use crate::model::format::{humanize, percent};
use crate::model::review::{age_label, status_label, Role};
use crate::model::review::{unresolved_statuses, AGE_BUCKETS};
use crate::model::time::{day_from_ms, Window};
use crate::platform;
use crate::state::call_list::ViewState;
use crate::state::queue_view::toggled;
use crate::state::team_view::{flow_summary, TeamState, UNASSIGNED};
use crate::views::shell::{screen_zone, zone_of};
use crate::Route;

#[component]
pub fn Team(state: TeamState) -> Element {
    let dealerships = use_dealerships();
    let zone = team_zone(&state, &dealerships.read());
    let me = use_me();

    rsx! {
        h1 { "Team overview" }
        if me.read().role == Role::Csm {
            p { class: "muted", "This overview is meant for managers; as a CSM you see your own numbers." }
        }
        div { TeamFilters { key: "{state}", state: state.clone(), to: TeamRoute::Overview } }
        div { class: "actions",
            Link { id: "team-unresolved-link", to: Route::TeamUnresolved { state: state.filters_only() }, "Unresolved items across the team →" }
        }
        section { class: "panel", id: "team-people",
            h2 { "Per person" }
            p { class: "muted", "Reviews, resolutions and escalations in the period; backlog (unresolved, assigned to them) as of now, by how long it has waited." }
            Section { what: "the team's numbers", People { state: state.clone() } }
        }
        div { class: "health-grid",
            section { class: "panel", id: "team-flow",
                h2 { "Flagged calls vs. resolutions per day ({zone})" }
                Section { what: "the chart", Flow { state: state.clone() } }
            }
            section { class: "panel", id: "team-dealerships",
                h2 { "Per dealership" }
                Section { what: "the dealerships", Dealerships { state: state.clone() } }
            }
        }
        AgreementPanel { dealership: state.dealership.clone() }
    }
}

/// Per person: `team_csm_stats`, narrowed to the CSM filter.
#[component]
fn People(state: TeamState) -> Element {
    let api = use_api();
    let dealerships = use_dealerships();
    let csm = use_resource(use_reactive!(|state| {
        let api = api.clone();
        let zone = team_zone(&state, &dealerships.read());
        async move { api.csm_stats(&state, platform::now_ms(), &zone).await }
    }));
    let rows = loaded(&csm)?;
    if rows.is_empty() {
        return rsx! { Empty { message: "Nobody on your team yet." } };
    }
    let rows: Vec<CsmStats> = rows
        .into_iter()
        .filter(|r| {
            state.csm.is_none()
                || r.user_id == state.csm
                || (state.csm.as_deref() == Some(UNASSIGNED) && r.user_id.is_none())
        })
        .collect();
    rsx! { CsmTable { rows, state: state.clone() } }
}

/// Per dealership: `team_dealership_stats`.
#[component]
fn Dealerships(state: TeamState) -> Element {
    let api = use_api();
    let dealerships = use_dealerships();
    let dealers = use_resource(use_reactive!(|state| {
        let api = api.clone();
        let zone = team_zone(&state, &dealerships.read());
        async move {
            api.dealership_stats(&state, platform::now_ms(), &zone)
                .await
        }
    }));
    // team_dealership_stats has no dealership argument: the header's selector
    // narrows its rows here, like the other parts of the page.
    let rows: Vec<DealershipStats> = loaded(&dealers)?
        .into_iter()
        .filter(|r| {
            state
                .dealership
                .as_ref()
                .is_none_or(|d| *d == r.dealership_id)
        })
        .collect();
    rsx! { DealershipTable { rows, state: state.clone() } }
}

/// Flagged calls vs. resolutions per day: `team_daily_flow`.
#[component]
fn Flow(state: TeamState) -> Element {
    let api = use_api();
    let dealerships = use_dealerships();
    let flow = use_resource(use_reactive!(|state| {
        let api = api.clone();
        let zone = team_zone(&state, &dealerships.read());
        async move { api.daily_flow(&state, platform::now_ms(), &zone).await }
    }));
    let days = loaded(&flow)?;
    let (flagged, resolved, words) = flow_summary(&days);
    rsx! {
        p { id: "flow-summary", class: "headline",
            span { id: "flow-flagged", "{flagged}" } " flagged · "
            span { id: "flow-resolved", "{resolved}" } " resolved. " "{words}"
        }
        FlowChart { days }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum TeamRoute {
    Overview,
    Unresolved,
    Activity,
}

impl TeamRoute {
    fn route(self, state: TeamState) -> Route {
        match self {
            TeamRoute::Overview => Route::Team { state },
            TeamRoute::Unresolved => Route::TeamUnresolved { state },
            TeamRoute::Activity => Route::TeamActivity { state },
        }
    }
}

/// CSM and period filters (the dealership is the header's selector).
#[component]
fn TeamFilters(state: TeamState, to: TeamRoute) -> Element {
    let navigator = use_navigator();
    let dealerships = use_dealerships();
    let zone = team_zone(&state, &dealerships.read());
    let me = use_me();
    let members = use_team_members();
    let (from_initial, to_initial) = match &state.window {
        Window::Custom { from, to } => (from.clone(), to.clone()),
        _ => {
            let now = platform::now_ms();
            (day_from_ms(now - 7.0 * 86_400_000.0), day_from_ms(now))
        }
    };
    let mut from = use_signal(|| from_initial);
    let mut until = use_signal(|| to_initial);
    let mut error = use_signal(|| None::<&'static str>);
    // The date boxes are only shown for a custom period, so they never contradict a
    // selected "Last 24 h".
    let mut custom_open = use_signal(|| matches!(state.window, Window::Custom { .. }));
    let current = state.csm.clone().unwrap_or_else(|| "all".into());
    let me_id = me.read().user_id.clone();
    // A manager's people; an admin (no picker data) filters by the rows' ids instead.
    let people: Vec<(String, String)> = members()
        .map(|(m, _)| {
            m.into_iter()
                .filter(|p| p.user_id == me_id || p.manager_id.as_deref() == Some(me_id.as_str()))
                .map(|p| (p.user_id, p.full_name))
                .collect()
        })
        .unwrap_or_default();

    let window_chip = |label: &'static str, id: &'static str, window: Window| {
        let active = state.window == window && !custom_open() && !state.all_time;
        let next = TeamState {
            window,
            all_time: false,
            ..state.clone()
        };
        rsx! { Link { id: "{id}", class: if active { "chip active" } else { "chip" }, to: to.route(next), "{label}" } }
    };

    rsx! {
        div { class: "filters",
            div { class: "row",
                span { class: "label", "Period" }
                {window_chip("Last 24 h", "team-range-24h", Window::Last24h)}
                {window_chip("Last 7 days", "team-range-7d", Window::Last7d)}
                // Only the unresolved list has a backlog "as of now" to show.
                if to == TeamRoute::Unresolved {
                    Link { id: "team-range-all", class: if state.all_time && !custom_open() { "chip active" } else { "chip" },
                        to: to.route(TeamState { all_time: true, ..state.clone() }), "Any time" }
                }
                button { id: "team-range-custom", class: if custom_open() { "chip active" } else { "chip" },
                    onclick: move |_| custom_open.set(true), "Custom…" }
                if custom_open() {
                    input { r#type: "date", "aria-label": "From ({zone})", value: "{from}", oninput: move |e| from.set(e.value()) }
                    input { r#type: "date", "aria-label": "To ({zone})", value: "{until}", oninput: move |e| until.set(e.value()) }
                    button { class: "chip", id: "team-range-apply", onclick: {
                        let state = state.clone();
                        move |_| match Window::custom(&from(), &until()) {
                            Some(window) => { error.set(None); navigator.push(to.route(TeamState { window, all_time: false, ..state.clone() })); }
                            None => error.set(Some("Pick a start date on or before the end date.")),
                        }
                    }, "Apply dates" }
                    span { class: "muted", "(days in {zone})" }
                    if let Some(msg) = error() { span { class: "error", "{msg}" } }
                }
            }
            div { class: "row",
                span { class: "label", "CSM" }
                select {
                    id: "team-csm",
                    value: "{current}",
                    onchange: {
                        let state = state.clone();
                        move |e: FormEvent| {
                            let v = e.value();
                            navigator.push(to.route(TeamState { csm: (v != "all").then_some(v), ..state.clone() }));
                        }
                    },
                    option { value: "all", selected: current == "all", "Everyone" }
                    for (id, name) in people.iter() {
                        option { key: "{id}", value: "{id}", selected: *id == current, "{name}" }
                    }
                    if to == TeamRoute::Unresolved {
                        option { value: UNASSIGNED, selected: current == UNASSIGNED, "Unassigned" }
                    }
                    if let Some(c) = state.csm.clone().filter(|c| c != UNASSIGNED && !people.iter().any(|(id, _)| id == c)) {
                        option { value: "{c}", selected: true, "Selected person" }
                    }
                }
                span { class: "muted", id: "team-period",
                    if state.all_time && to == TeamRoute::Unresolved { "Period: any time" } else { "Period: {state.window.label()}" }
                }
            }
        }
    }
}

#[component]
fn CsmTable(rows: Vec<CsmStats>, state: TeamState) -> Element {
    let filters = state.filters_only();
    let activity = |row: &CsmStats, kind: &str| Route::TeamActivity {
        state: TeamState {
            csm: row.user_id.clone(),
            kind: Some(kind.to_string()),
            ..filters.clone()
        },
    };
    // The backlog is counted as of now, whenever the items were flagged: its list too.
    let backlog_state = state.backlog();
    let backlog = |row: &CsmStats, age: Option<&str>| Route::TeamUnresolved {
        state: TeamState {
            csm: Some(row.user_id.clone().unwrap_or_else(|| UNASSIGNED.into())),
            age: age.map(str::to_string),
            ..backlog_state.clone()
        },
    };
    rsx! {
        div { class: "table-wrap",
            table { class: "calls", id: "csm-stats",
                thead { tr {
                    th { "Person" } th { "Dealerships" } th { "Reviews done" } th { "Resolved" } th { "Escalated" }
                    th { title: "Median time from flagged to resolved", "Median to resolve" }
                    for (_, label) in AGE_BUCKETS { th { title: "Open backlog waiting {label}", "{label}" } }
                    th { "Backlog" }
                } }
                tbody {
                    for row in rows.iter() {
                        tr { class: "csm-row", key: "{row.full_name}", "data-user": "{row.user_id.clone().unwrap_or_else(|| UNASSIGNED.into())}",
                            td { strong { "{row.full_name}" } if let Some(r) = &row.role { " " span { class: "muted", {humanize(r)} } } }
                            td { class: "dealer", {row.dealership_ids.join(", ")} }
                            if row.user_id.is_some() {
                                td { class: "reviews-done", Link { to: activity(row, "done"), "{row.reviews_done}" } }
                                td { class: "resolved", Link { to: activity(row, "resolved"), "{row.resolved}" } }
                                td { class: "escalations", Link { to: activity(row, "escalated"), "{row.escalations}" } }
                                td { class: "median", {row.median_hours_to_resolution.map(|h| format!("{h:.1} h")).unwrap_or_else(|| "–".into())} }
                            } else {
                                td { "–" } td { "–" } td { "–" } td { "–" }
                            }
                            td { class: "b-under_24h", Link { to: backlog(row, Some("under_24h")), "{row.backlog_under_24h}" } }
                            td { class: "b-1_to_3d", Link { to: backlog(row, Some("1_to_3d")), "{row.backlog_1_to_3d}" } }
                            td { class: "b-over_3d", Link { to: backlog(row, Some("over_3d")), "{row.backlog_over_3d}" } }
                            td { class: "backlog", Link { to: backlog(row, None), strong { "{row.backlog}" } } }
                        }
                    }
                }
            }
        }
    }
}

#[component]
fn DealershipTable(rows: Vec<DealershipStats>, state: TeamState) -> Element {
    // A hook: before the early return, so every render calls it.
    let dealerships = use_dealerships();
    if rows.is_empty() {
        return rsx! { Empty { message: "No dealership matches these filters." } };
    }
    let calls_view = |d: &str, bad: bool| ViewState::dealership_calls(d, state.window.clone(), bad);
    rsx! {
        div { class: "table-wrap",
            table { class: "calls", id: "dealership-stats",
                thead { tr {
                    th { "Dealership" } th { "Assigned" } th { "Unresolved" } th { "Oldest unresolved" } th { "Calls" } th { "Bad" }
                } }
                tbody {
                    for row in rows.iter() {
                        tr { class: "dealer-row", key: "{row.dealership_id}", "data-dealership": "{row.dealership_id}",
                            td { "{row.name}"
                                if is_not_set_up(&dealerships.read(), &row.dealership_id) {
                                    span { class: "not-set-up", title: "Registered by the webhook from an unknown dealership id; an admin still has to name and assign it.", "{NOT_SET_UP}" }
                                }
                            }
                            td { class: "muted assigned",
                                if row.assigned_names.is_empty() { em { "Nobody assigned" } } else { {row.assigned_names.join(", ")} }
                            }
                            td { class: "unresolved", Link { to: Route::TeamUnresolved { state: TeamState { dealership: Some(row.dealership_id.clone()), csm: None, ..state.backlog() } }, "{row.unresolved}" } }
                            td { class: "oldest", {row.oldest_unresolved_hours.map(age_label).unwrap_or_else(|| "–".into())} }
                            td { class: "calls-count", Link { to: Route::Calls { view: calls_view(&row.dealership_id, false) }, "{row.calls}" } }
                            td { class: "bad-share",
                                Link { to: Route::Calls { view: calls_view(&row.dealership_id, true) },
                                    {row.bad_share.map(percent).unwrap_or_else(|| "–".into())}
                                }
                                span { class: "muted", " ({row.bad} of {row.analyzed})" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Unresolved items across the team, with the same filters, the workflow inline
/// (reassign, resolve) and CSV export.
#[component]
pub fn TeamUnresolved(state: TeamState) -> Element {
    rsx! {
        Link { to: Route::Team { state: state.filters_only() }, class: "back", "← Team overview" }
        Section { what: "the unresolved items", UnresolvedPage { state } }
    }
}

/// The page itself, which owns the list it waits for (see
/// `components::section::loaded`): the heading names the CSM from its rows.
#[component]
fn UnresolvedPage(state: TeamState) -> Element {
    let api = use_api();
    let dealerships = use_dealerships();
    let mut reloads = use_signal(|| 0u32);
    let changed = crate::hooks::use_reviews_changed();
    let items = use_resource(use_reactive!(|state| {
        let api = api.clone();
        let _ = reloads();
        // A saved change (a reassignment, a resolution) reloads the list and its count,
        // so a row that no longer matches the filters leaves it.
        let _ = changed();
        let zone = team_zone(&state, &dealerships.read());
        async move { api.unresolved(&state, platform::now_ms(), &zone).await }
    }));
    let team = use_team_members();
    let mut export = use_signal(|| None::<Result<String, ApiError>>);
    let on_export = {
        let api = use_api();
        let state = state.clone();
        move |_| {
            let (api, state) = (api.clone(), state.clone());
            async move {
                export.set(Some(Ok("Preparing the CSV…".into())));
                let zone = team_zone(&state, &dealerships.read());
                let result = api
                    .unresolved_csv(&state, platform::now_ms(), &zone)
                    .await
                    .and_then(|csv| {
                        platform::download("unresolved.csv", "text/csv", &csv)
                            .map(|_| "CSV downloaded.".to_string())
                            .map_err(ApiError::Refused)
                    });
                export.set(Some(result));
            }
        }
    };

    let name_of = |id: &str| {
        dealerships
            .read()
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let list = loaded(&items)?;
    let scope = match &state.dealership {
        Some(d) => name_of(d),
        None => "all dealerships".into(),
    };
    // The selected CSM's name: from the manager's team, else from the rows (every
    // row of a CSM-filtered list is assigned to that person).
    let person = state
        .csm
        .clone()
        .filter(|c| c != UNASSIGNED)
        .and_then(|id| {
            let from_team = team().and_then(|(members, _)| {
                members
                    .into_iter()
                    .find(|m| m.user_id == id)
                    .map(|m| m.full_name)
            });
            from_team.or_else(|| {
                list.iter().find_map(|i| {
                    (i.assignee_id.as_deref() == Some(id.as_str()))
                        .then(|| i.assignee_name.clone())
                        .flatten()
                })
            })
        });
    let heading = state.unresolved_heading(&scope, person.as_deref());

    rsx! {
        h1 { id: "unresolved-heading", "{heading}" }
        div { TeamFilters { key: "{state}", state: state.clone(), to: TeamRoute::Unresolved } }
        div { class: "actions",
            span { class: "label muted", "Waiting" }
            Link { class: if state.age.is_none() { "chip active" } else { "chip" }, to: Route::TeamUnresolved { state: TeamState { age: None, ..state.clone() } }, "Any" }
            for (key, label) in AGE_BUCKETS {
                Link { key: "{key}", class: if state.age.as_deref() == Some(key) { "chip active" } else { "chip" },
                    to: Route::TeamUnresolved { state: TeamState { age: Some(key.to_string()), ..state.clone() } }, "{label}" }
            }
        }
        div { class: "actions", id: "unresolved-status",
            span { class: "label muted", "Status" }
            Link { class: if state.statuses.is_empty() { "chip active" } else { "chip" }, id: "status-any",
                to: Route::TeamUnresolved { state: TeamState { statuses: vec![], ..state.clone() } }, "Any" }
            for s in unresolved_statuses() {
                Link { key: "{s.as_str()}", id: "status-{s.as_str()}",
                    class: if state.statuses.contains(&s) { "chip active" } else { "chip" },
                    to: Route::TeamUnresolved { state: TeamState { statuses: toggled(&state.statuses, s), ..state.clone() } },
                    {status_label(s.as_str())} }
            }
        }
        div { class: "actions",
            button { id: "export-unresolved", onclick: on_export, "Export CSV" }
            match export() {
                Some(Ok(msg)) => rsx! { span { class: "muted", "{msg}" } },
                Some(Err(e)) => rsx! { span { class: "error", "{e}" } },
                None => rsx! {},
            }
            button { class: "link", onclick: move |_| *reloads.write() += 1, "Reload" }
        }
        p { class: "muted", id: "unresolved-count", "{list.len()} unresolved" }
        div { ReviewList {
            key: "{state}-{reloads}",
            items: list,
            team: team(),
            show_dealership: state.dealership.is_none(),
            label: "Unresolved items".to_string(),
            empty: "No unresolved items match these filters.".to_string(),
        } }
    }
}

/// The status changes behind "reviews done", "resolved" and "escalations".
#[component]
pub fn TeamActivity(state: TeamState) -> Element {
    let what = match state.kind.as_deref() {
        Some("resolved") => "Resolutions",
        Some("escalated") => "Escalations",
        _ => "Reviews (status changes)",
    };
    rsx! {
        Link { to: Route::Team { state: state.filters_only() }, class: "back", "← Team overview" }
        h1 { "{what}" }
        div { TeamFilters { key: "{state}", state: state.clone(), to: TeamRoute::Activity } }
        Section { what: "the activity", Activity { state } }
    }
}

#[component]
fn Activity(state: TeamState) -> Element {
    let api = use_api();
    let dealerships = use_dealerships();
    let rows = use_resource(use_reactive!(|state| {
        let api = api.clone();
        let zone = team_zone(&state, &dealerships.read());
        async move { api.activity(&state, platform::now_ms(), &zone).await }
    }));
    let list = loaded(&rows)?;
    if list.is_empty() {
        return rsx! { Empty { message: "Nothing in this period." } };
    }
    rsx! {
        p { class: "muted", id: "activity-count",
            {TeamState::activity_summary(
                &list.iter().map(|r| (r.dealership_id.clone(), r.call_id.clone())).collect::<Vec<_>>(),
                list.len() >= crate::state::team_view::ACTIVITY_LIMIT,
            )}
        }
        div { class: "table-wrap",
            table { class: "calls", id: "activity",
                thead { tr { th { "When" } th { "Who" } th { "Call" } th { "Change" } th { "Verdict" } th { "Notes" } } }
                tbody {
                    for row in list.iter() {
                        tr { key: "{row.id}", class: "activity-row", "data-call": "{row.call_id}",
                            td { class: "time", {platform::format_in_zone(&row.created_at, &zone_of(&dealerships.read(), &row.dealership_id), true)} }
                            td { {row.actor_name.clone().unwrap_or_else(|| "–".into())} }
                            td { Link { to: Route::CallDetail { dealership_id: row.dealership_id.clone(), call_id: row.call_id.clone(), view: ViewState::default() }, "{row.call_id}" }
                                 span { class: "muted", " {row.dealership_id}" } }
                            td { {crate::model::review::status_label(row.from_status.as_deref().unwrap_or("none"))} " → " {crate::model::review::status_label(&row.to_status)} }
                            td { crate::components::VerdictBadge { verdict: row.verdict.clone() } }
                            td { {row.notes.clone().unwrap_or_default()} }
                        }
                    }
                }
            }
        }
    }
}

/// The team screens' zone, by the one rule: the selected dealership's, else the
/// viewer's. Custom ranges are local days of it, and the daily chart's bars too.
fn team_zone(state: &TeamState, dealerships: &[crate::api::data::Dealership]) -> String {
    screen_zone(state.dealership.as_deref(), dealerships).unwrap_or_else(platform::viewer_zone)
}
