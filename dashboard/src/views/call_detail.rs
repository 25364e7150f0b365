//! One call: transcript, the stored analysis and every earlier attempt, timestamps,
//! metadata with Retell's own analysis, the raw payloads, re-analysis, the review
//! panel (status, notes, assignee, the workflow and the call's history) and the
//! future chat action.

use dioxus::prelude::*;
use serde_json::Value;

use crate::api::data::{AnalysisRow, CallDetail as Call, EventRow};
use crate::api::{use_api, ApiError};
use crate::components::{ErrorNote, Flash, Loading, ReviewControls, VerdictBadge};
use crate::format::{analyzer_label, duration, humanize, mask_phone};
use crate::platform;
use crate::review::{
    assign_candidates, assign_choice, history_text, AssignChoice, Change, ReviewState, ReviewStatus,
};
use crate::urlstate::ViewState;
use crate::views::queue::use_team_members;
use crate::views::shell::{use_dealerships, zone_of};
use crate::views::shell::{use_me, use_reviews_changed};
use crate::Route;

/// Re-indents stored JSON without reordering it (serde_json keeps insertion order
/// here), so what is shown is what Postgres holds.
pub fn pretty(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| text.to_string())
}

/// Speaker turns from `transcript_turns` ([{role, content}]), if the sender gave them.
pub fn turns(value: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Array(items)) = value else {
        return vec![];
    };
    items
        .iter()
        .filter_map(|t| {
            let content = t.get("content")?.as_str()?.to_string();
            let role = match t.get("role").and_then(Value::as_str).unwrap_or("") {
                "agent" | "assistant" => "Agent".to_string(),
                "user" | "customer" => "Customer".to_string(),
                other => humanize(other),
            };
            Some((role, content))
        })
        .collect()
}

#[component]
pub fn CallDetail(dealership_id: String, call_id: String, view: ViewState) -> Element {
    let api = use_api();
    let call = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api.clone();
        async move { api.call(&dealership_id, &call_id).await }
    }));
    let api2 = use_api();
    let mut analyses = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api2.clone();
        async move { api.analyses(&dealership_id, &call_id).await }
    }));
    let api3 = use_api();
    let events = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api3.clone();
        async move { api.events(&dealership_id, &call_id).await }
    }));
    let dealerships = use_dealerships();
    let zone = zone_of(&dealerships.read(), &dealership_id);

    let back = Route::Calls { view: view.clone() };
    let body = match &*call.read() {
        None => rsx! { Loading { what: "the call" } },
        Some(Err(e)) => rsx! { ErrorNote { error: e.clone() } },
        Some(Ok(c)) => rsx! {
            CallBody { call: c.clone(), zone: zone.clone() }
            AnalysisSection { analyses: analyses.read().clone(), on_requested: move |_| analyses.restart() }
            EventsSection { events: events.read().clone(), zone: zone.clone() }
        },
    };
    rsx! {
        Link { to: back, class: "back", "← Back to the list" }
        h1 { "Call {call_id}" }
        {body}
    }
}

#[component]
fn CallBody(call: Call, zone: String) -> Element {
    let api = use_api();
    let mut reanalysis = use_signal(|| None::<Result<i64, ApiError>>);
    let time = |iso: &Option<String>| {
        iso.as_deref()
            .map(|t| platform::format_in_zone(t, &zone, true))
            .unwrap_or_else(|| "–".into())
    };
    let spoken = turns(call.transcript_turns.as_ref());
    let plain = call.transcript.clone().unwrap_or_default();
    let reanalyze = {
        let (d, c) = (call.dealership_id.clone(), call.call_id.clone());
        move |_| {
            let (api, d, c) = (api.clone(), d.clone(), c.clone());
            async move { reanalysis.set(Some(api.request_reanalysis(&d, &c).await)) }
        }
    };
    let metadata = call
        .metadata
        .as_ref()
        .map(|m| serde_json::to_string_pretty(m).unwrap_or_default());
    let retell = call
        .retell_analysis
        .as_ref()
        .map(|m| serde_json::to_string_pretty(m).unwrap_or_default());

    rsx! {
        div { class: "detail-grid",
            section { class: "panel",
                h2 { "Summary" }
                dl { class: "facts",
                    dt { "Dealership" } dd { "{call.dealership_id}" }
                    dt { "Verdict" } dd { VerdictBadge { verdict: call.verdict.clone() }
                        if let Some(label) = analyzer_label(call.analysis_model.as_deref()) { span { class: "analyzer", "{label}" } } }
                    dt { "Score" } dd { {call.score.map(|s| s.to_string()).unwrap_or_else(|| "–".into())} }
                    dt { "Reasons" } dd { {call.reasons.iter().map(|r| humanize(r)).collect::<Vec<_>>().join("; ")} }
                    dt { "Flags" } dd { for f in call.flags.iter() { span { class: "flag", "{humanize(f)}" } } }
                    dt { "Customer" } dd { {mask_phone(call.customer_phone.as_deref())} }
                    dt { "Duration" } dd { {duration(call.duration_sec)} }
                    dt { "Occurred" } dd { id: "occurred-at", {time(&Some(call.first_event_at.clone()))} }
                    dt { "Started / ended" } dd { {time(&call.started_at)} " / " {time(&call.ended_at)} }
                    dt { "Analyzed" } dd { {time(&call.analyzed_at)} }
                    dt { "Status" } dd { {call.call_status.clone().unwrap_or_else(|| "–".into())} }
                    dt { "Direction" } dd { {call.direction.clone().unwrap_or_else(|| "–".into())} }
                    dt { "Agent" } dd { {call.agent_id.clone().unwrap_or_else(|| "–".into())} }
                    dt { "Disconnection" } dd { {call.disconnection_reason.as_deref().map(humanize).unwrap_or_else(|| "–".into())} }
                }
                div { class: "actions",
                    button { id: "reanalyze", onclick: reanalyze, "Re-analyze" }
                    match reanalysis() {
                        Some(Ok(job)) => rsx! { span { class: "muted", id: "reanalysis-result",
                            "Re-analysis queued (job {job}). The verdict updates when the worker finishes; reload to see it." } },
                        Some(Err(e)) => rsx! { span { class: "error", id: "reanalysis-result", "{e}" } },
                        None => rsx! {},
                    }
                }
            }
            ReviewPanel { dealership_id: call.dealership_id.clone(), call_id: call.call_id.clone(), zone: zone.clone() }
            section { class: "panel", id: "chat-panel",
                h2 { "Chat" }
                button { id: "chat-send", disabled: true, "Send message to customer (future)" }
                p { class: "muted", "Messaging customers from the dashboard is planned; for now, follow up by phone." }
            }
        }
        section { class: "panel", id: "transcript",
            h2 { "Transcript" }
            if !spoken.is_empty() {
                ol { class: "turns",
                    for (role, text) in spoken {
                        li { class: "turn", strong { "{role}: " } "{text}" }
                    }
                }
            } else if !plain.trim().is_empty() {
                pre { class: "plain-transcript", "{plain}" }
            } else {
                p { class: "muted", "No transcript yet." }
            }
        }
        if metadata.is_some() || retell.is_some() {
            section { class: "panel",
                h2 { "Metadata" }
                if let Some(m) = metadata { pre { class: "json", "{m}" } }
                if let Some(r) = retell {
                    h3 { "Retell's analysis" }
                    pre { class: "json", "{r}" }
                }
            }
        }
    }
}

/// The call's review: current state, the workflow (optimistic, rolled back with a
/// message when the database refuses), keyboard shortcuts, and the history.
#[component]
fn ReviewPanel(dealership_id: String, call_id: String, zone: String) -> Element {
    let api = use_api();
    let me = use_me();
    let mut changed = use_reviews_changed();
    let loaded = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api.clone();
        async move { api.review(&dealership_id, &call_id).await }
    }));
    let api2 = use_api();
    let mut history = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api2.clone();
        async move { api.history(&dealership_id, &call_id).await }
    }));
    let team = use_team_members();
    let mut state = use_signal(|| None::<ReviewState>);
    let mut composing = use_signal(|| None::<ReviewStatus>);
    let mut flash = use_signal(|| None::<Flash>);
    use_effect(move || {
        if let Some(Ok(row)) = &*loaded.read() {
            state.set(Some(match row {
                Some(r) => ReviewState {
                    status: Some(r.status),
                    assignee_id: r.assignee_id.clone(),
                    assignee_name: r.assignee.as_ref().map(|a| a.full_name.clone()),
                    notes: r.notes.clone(),
                },
                None => ReviewState {
                    status: None,
                    assignee_id: None,
                    assignee_name: None,
                    notes: None,
                },
            }));
        }
    });

    let act = {
        let api = use_api();
        let (d, c) = (dealership_id.clone(), call_id.clone());
        move |change: Change| {
            let Some(before) = state.peek().clone() else {
                return;
            };
            if let Err(why) = change.validate(before.status) {
                flash.set(Some(Flash {
                    ok: false,
                    text: why,
                }));
                return;
            }
            composing.set(None);
            state.set(Some(change.apply(&before)));
            flash.set(Some(Flash {
                ok: true,
                text: "Saving…".into(),
            }));
            let (api, d, c) = (api.clone(), d.clone(), c.clone());
            spawn(async move {
                match api.change_review(&d, &c, &change).await {
                    Ok(saved) => {
                        let shown = change.apply(&before);
                        state.set(Some(ReviewState {
                            status: Some(saved.status),
                            assignee_id: saved.assignee_id,
                            notes: saved.notes,
                            ..shown
                        }));
                        flash.set(Some(Flash {
                            ok: true,
                            text: change.confirmation(&c),
                        }));
                        history.restart();
                        *changed.write() += 1;
                    }
                    Err(e) => {
                        state.set(Some(before));
                        flash.set(Some(Flash {
                            ok: false,
                            text: format!("Not saved: {e}"),
                        }));
                    }
                }
            });
        }
    };

    let me_now = me.read().clone();
    let current = state.read().clone();
    let Some(current) = current else {
        return match &*loaded.read() {
            Some(Err(e)) => {
                rsx! { section { class: "panel", id: "review-panel", h2 { "Review" } ErrorNote { error: e.clone() } } }
            }
            _ => {
                rsx! { section { class: "panel", id: "review-panel", h2 { "Review" } Loading { what: "the review" } } }
            }
        };
    };
    let candidates = team()
        .map(|(m, a)| assign_candidates(&me_now, &m, &a, &dealership_id))
        .unwrap_or_default();
    let on_key = {
        let me_now = me_now.clone();
        let current = current.clone();
        let mut act = act.clone();
        move |e: KeyboardEvent| {
            if !me_now.role.can_review() {
                return;
            }
            let Key::Character(c) = e.key() else { return };
            if c == "c"
                && assign_choice(&me_now, current.assignee_id.as_deref()) == AssignChoice::Claim
            {
                act(Change::Assign {
                    to: Some(me_now.user_id.clone()),
                    name: Some(me_now.full_name.clone()),
                });
            } else if let Some(to) = ReviewStatus::from_shortcut(&c) {
                if to.needs_notes() {
                    composing.set(Some(to));
                } else {
                    act(Change::Status { to, notes: None });
                }
            }
        }
    };
    let assignee = match (&current.assignee_id, &current.assignee_name) {
        (Some(id), _) if *id == me_now.user_id => "You".to_string(),
        (Some(_), Some(name)) => name.clone(),
        (Some(_), None) => "Someone outside your view".to_string(),
        (None, _) => "Unassigned".to_string(),
    };

    rsx! {
        section { class: "panel", id: "review-panel", tabindex: "0", onkeydown: on_key,
            h2 { "Review" }
            dl { class: "facts",
                dt { "Status" } dd { strong { id: "review-status", "data-status": "{current.status.map(|s| s.as_str()).unwrap_or_default()}",
                    {current.status.map(|s| humanize(s.as_str())).unwrap_or_else(|| "No review".into())} } }
                dt { "Assignee" } dd { id: "review-assignee", "{assignee}" }
                dt { "Notes" } dd { id: "review-notes", {current.notes.clone().unwrap_or_else(|| "–".into())} }
            }
            div { id: "review-actions",
                ReviewControls {
                    state: current.clone(),
                    me: me_now.clone(),
                    candidates,
                    composing: composing(),
                    on_compose: move |s| composing.set(s),
                    on_change: act,
                }
            }
            div { id: "flash", class: "flash", role: "status", "aria-live": "polite",
                match flash() {
                    Some(f) if f.ok => rsx! { span { class: "ok", "{f.text}" } },
                    Some(f) => rsx! { span { class: "error", "{f.text}" } },
                    None => rsx! {},
                }
            }
            if me_now.role.can_review() {
                p { class: "muted", "Keys (with this panel focused): r reviewed · f follow-up · s resolve · e escalate · o re-open · c claim." }
            }
            h3 { "History" }
            match &*history.read() {
                None => rsx! { Loading { what: "the history" } },
                Some(Err(e)) => rsx! { ErrorNote { error: e.clone() } },
                Some(Ok(rows)) if rows.is_empty() => rsx! { p { class: "muted", "No review activity yet." } },
                Some(Ok(rows)) => rsx! {
                    ol { id: "review-history", class: "history",
                        for h in rows.iter() {
                            li { key: "{h.id}", class: "history-item", "data-to": "{h.to_status}",
                                span { class: "muted", {platform::format_in_zone(&h.created_at, &zone, true)} } " · "
                                {history_text(h.actor_name.as_deref(), h.from_status.as_deref(), &h.to_status, h.to_assignee_name.as_deref(), h.status_changed, h.assignee_changed)}
                                if let Some(n) = h.notes.clone() { div { class: "history-notes", "“{n}”" } }
                            }
                        }
                    }
                },
            }
        }
    }
}

#[component]
fn AnalysisSection(
    analyses: Option<Result<Vec<AnalysisRow>, ApiError>>,
    on_requested: EventHandler<()>,
) -> Element {
    let body = match analyses {
        None => rsx! { Loading { what: "analyses" } },
        Some(Err(e)) => rsx! { ErrorNote { error: e } },
        Some(Ok(rows)) if rows.is_empty() => rsx! { p { class: "muted", "Not analyzed yet." } },
        Some(Ok(rows)) => {
            let current = rows[0].clone();
            let earlier: Vec<AnalysisRow> = rows[1..].to_vec();
            rsx! {
                p { class: "muted",
                    "Attempt {current.id} · {current.status} · {current.model} · prompt {current.prompt_version} · {crate::time::utc_label(&current.created_at)}"
                }
                if let Some(err) = current.error.clone() { p { class: "error", "The analyzer failed: {err}" } }
                pre { class: "json", id: "analysis-json", {pretty(&current.analysis_text)} }
                if !earlier.is_empty() {
                    h3 { "Earlier attempts ({earlier.len()})" }
                    for a in earlier {
                        details { class: "attempt",
                            summary { "Attempt {a.id} · {humanize(&a.verdict)} · {a.status} · {a.model} · {crate::time::utc_label(&a.created_at)}" }
                            pre { class: "json", {pretty(&a.analysis_text)} }
                        }
                    }
                }
            }
        }
    };
    rsx! {
        section { class: "panel", id: "analysis",
            h2 { "Analysis" }
            {body}
            button { class: "link", onclick: move |_| on_requested.call(()), "Reload analyses" }
        }
    }
}

#[component]
fn EventsSection(events: Option<Result<Vec<EventRow>, ApiError>>, zone: String) -> Element {
    let body = match events {
        None => rsx! { Loading { what: "events" } },
        Some(Err(e)) => rsx! { ErrorNote { error: e } },
        Some(Ok(rows)) if rows.is_empty() => rsx! { p { class: "muted", "No events recorded." } },
        Some(Ok(rows)) => rsx! {
            for e in rows {
                details { class: "event", key: "{e.event_id}",
                    summary {
                        "{e.event_type} · occurred {platform::format_in_zone(&e.occurred_at, &zone, true)} · received {platform::format_in_zone(&e.received_at, &zone, true)}"
                    }
                    pre { class: "json", {serde_json::to_string_pretty(&e.raw_payload).unwrap_or_default()} }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_json_is_indented_in_its_stored_key_order() {
        let stored = r#"{"flags": [], "score": 91, "reasons": ["booked"], "verdict": "good", "confidence": 0.9, "recommended_action": "none"}"#;
        let shown = pretty(stored);
        let order: Vec<usize> = [
            "\"flags\"",
            "\"score\"",
            "\"reasons\"",
            "\"verdict\"",
            "\"confidence\"",
        ]
        .iter()
        .map(|k| shown.find(k).unwrap())
        .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "keys keep their order: {shown}"
        );
        assert!(shown.contains("\n  \"score\": 91"), "{shown}");
    }

    #[test]
    fn speaker_turns_are_read_and_named_for_people() {
        let value = serde_json::json!([{"role": "agent", "content": "Hi"}, {"role": "user", "content": "Oil change"}, {"bogus": 1}]);
        assert_eq!(
            turns(Some(&value)),
            vec![
                ("Agent".into(), "Hi".into()),
                ("Customer".into(), "Oil change".into())
            ]
        );
        assert!(turns(None).is_empty());
        assert!(turns(Some(&serde_json::json!("text"))).is_empty());
    }
}
