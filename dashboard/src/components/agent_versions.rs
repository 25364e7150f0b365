//! The health page's agent version panel (issue 16 "Agents"): did the new agent
//! version make calls worse? Per Retell agent, a sentence comparing the newest
//! version's bad share with the previous one's, then every version's figures;
//! each row opens the call list filtered by that agent and version.

use dioxus::prelude::*;

use crate::components::{loaded, Section};
use crate::hooks::use_api;
use crate::model::labelling::share_text;
use crate::model::time::Window;
use crate::model::version_comparison::{by_agent, VersionRow};
use crate::platform;
use crate::state::call_list::ViewState;
use crate::Route;

/// The panel's period: the last 7 days, the health page's longer window.
const PERIOD_HOURS: i64 = 168;

/// `zone`: the screen's time zone (the dealership's, else the viewer's), which
/// the first and last call times are shown in.
#[component]
pub fn AgentVersions(dealership: Option<String>, zone: String) -> Element {
    rsx! {
        section { class: "panel agent-versions", id: "agent-versions",
            h2 { "Agent versions" }
            p { class: "muted", id: "agent-versions-period", "Last 7 days · times in {zone}" }
            Section { what: "agent versions", Versions { dealership, zone } }
        }
    }
}

#[component]
fn Versions(dealership: Option<String>, zone: String) -> Element {
    let api = use_api();
    let rows = use_resource(use_reactive!(|dealership| {
        let api = api.clone();
        async move {
            api.agent_versions(dealership.as_deref(), PERIOD_HOURS)
                .await
        }
    }));
    let list = loaded(&rows)?;
    if list.is_empty() {
        return rsx! {
            p { class: "muted", id: "agent-versions-empty",
                "No call of the last 7 days names the Retell agent that took it." }
        };
    }
    let groups = by_agent(&list);
    let link = |r: &VersionRow| Route::Calls {
        view: ViewState {
            dealership: dealership.clone(),
            window: Window::Last7d,
            agent: Some(r.agent_id.clone()),
            agent_version: r.agent_version,
            ..ViewState::default()
        },
    };
    let when = |iso: &str| platform::format_in_zone(iso, &zone, true);
    rsx! {
        ul { class: "version-sentences",
            for g in groups.iter() {
                li { key: "{g.agent_id}", class: "version-sentence {g.trend().map(|t| t.class()).unwrap_or_default()}",
                    "data-agent": "{g.agent_id}", "data-trend": "{g.trend().map(|t| t.class()).unwrap_or_default()}",
                    {g.sentence()} }
            }
        }
        // Card rows on a phone, like the call list.
        table { class: "grid cards", id: "agent-versions-table",
            thead { tr {
                th { "Agent" } th { "Version" } th { "Calls" } th { "Bad" } th { "Upset" }
                th { "Failed handoffs" } th { "First call" } th { "Last call" }
            } }
            tbody {
                for r in groups.iter().flat_map(|g| g.rows.iter()) {
                    tr { key: "{r.agent_id}-{r.agent_version.map(|v| v.to_string()).unwrap_or_default()}",
                        class: "version-row", "data-agent": "{r.agent_id}",
                        "data-version": "{r.agent_version.map(|v| v.to_string()).unwrap_or_default()}",
                        td { Link { to: link(r), class: "version-link", "{r.agent_id}" } }
                        td { "data-label": "Version", {r.agent_version.map(|v| v.to_string()).unwrap_or_else(|| "unknown".into())} }
                        td { "data-label": "Calls", "{r.calls}" }
                        td { class: "bad-share", "data-label": "Bad", "data-share": "{r.bad_share.unwrap_or_default()}",
                            {share_text(r.bad_share)} span { class: "muted", " ({r.bad} of {r.analyzed})" } }
                        td { "data-label": "Upset", {share_text(r.upset_share)} span { class: "muted", " ({r.upset})" } }
                        td { "data-label": "Failed handoffs", "{r.handoff_failed}" }
                        td { "data-label": "First call", {when(&r.first_seen_at)} }
                        td { "data-label": "Last call", {when(&r.last_seen_at)} }
                    }
                }
            }
        }
        p { class: "muted",
            "Shares are of the analyzed calls. A row opens its calls; an unknown version opens all of the agent's." }
    }
}
