//! One call: transcript, the stored analysis and every earlier attempt, timestamps,
//! metadata with Retell's own analysis, the raw payloads, re-analysis, the review
//! panel (status, notes, assignee, the workflow and the call's history) and the
//! future chat action.

use dioxus::prelude::*;
use serde_json::Value;

use crate::api::data::{AnalysisRow, CallDetail as Call, EventRow};
use crate::api::{use_api, ApiError};
use crate::components::{
    ErrorNote, Flash, LabelForm, Loading, ReviewControls, ReviewNote, VerdictBadge,
};
use crate::format::{analyzer_label, duration, humanize, mask_phone};
use crate::labels::history_line;
use crate::platform;
use crate::review::{
    assign_candidates, assign_choice, note_text, notes_caption, AssignChoice, Change, ReviewState,
    ReviewStatus, StatusUi,
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

/// The stored analysis in words for the human view: verdict, score, confidence as a
/// rounded percentage (the float is stored as 0.699999988079071), reasons, flags and
/// the recommended action. The exact JSON stays in the collapsible raw view.
pub fn analysis_facts(text: &str) -> Vec<(&'static str, String)> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return vec![];
    };
    let list = |v: &Value| {
        v.as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(humanize)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    };
    let mut facts = Vec::new();
    if let Some(v) = map.get("verdict").and_then(Value::as_str) {
        facts.push(("Verdict", crate::review::status_label(v)));
    }
    if let Some(v) = map.get("score").and_then(Value::as_f64) {
        facts.push(("Score", format!("{v:.0}")));
    }
    if let Some(v) = map.get("confidence").and_then(Value::as_f64) {
        facts.push(("Confidence", format!("{:.0}%", v * 100.0)));
    }
    if let Some(v) = map.get("reasons").map(list).filter(|s| !s.is_empty()) {
        facts.push(("Reasons", v));
    }
    if let Some(v) = map.get("flags").map(list).filter(|s| !s.is_empty()) {
        facts.push(("Flags", v));
    }
    if let Some(v) = map.get("recommended_action").and_then(Value::as_str) {
        facts.push(("Recommended action", humanize(v)));
    }
    facts
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
    let mut call = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api.clone();
        async move { api.call(&dealership_id, &call_id).await }
    }));
    let api2 = use_api();
    let mut analyses = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api2.clone();
        async move { api.analyses(&dealership_id, &call_id).await }
    }));
    let api3 = use_api();
    let mut events = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api3.clone();
        async move { api.events(&dealership_id, &call_id).await }
    }));
    let dealerships = use_dealerships();
    let zone = zone_of(&dealerships.read(), &dealership_id);

    // After a re-analysis request, wait for the worker's new attempt, then reload the
    // summary and the analyses together (so "Analyzed" is not left stale).
    let watch = {
        let api = use_api();
        let (d, c) = (dealership_id.clone(), call_id.clone());
        move |_| {
            let (api, d, c) = (api.clone(), d.clone(), c.clone());
            spawn(async move {
                let before = api.analyses(&d, &c).await.map(|a| a.len()).unwrap_or(0);
                for _ in 0..60 {
                    platform::sleep_ms(2_000).await;
                    if api.analyses(&d, &c).await.map(|a| a.len()).unwrap_or(0) > before {
                        break;
                    }
                }
                call.restart();
                analyses.restart();
            });
        }
    };
    let dealer_name = dealerships
        .read()
        .iter()
        .find(|d| d.id == dealership_id)
        .map(|d| d.name.clone())
        .unwrap_or_else(|| dealership_id.clone());

    let back = Route::Calls { view: view.clone() };
    let (title, body) = match &*call.read() {
        None => (
            format!("Call at {dealer_name}"),
            rsx! { Loading { what: "the call" } },
        ),
        Some(Err(e)) => (
            format!("Call at {dealer_name}"),
            rsx! { ErrorNote { error: e.clone(), on_retry: move |_| call.restart() } },
        ),
        Some(Ok(c)) => (
            format!(
                "Call with {} · {dealer_name} · {}",
                mask_phone(c.customer_phone.as_deref()),
                platform::format_in_zone(&c.first_event_at, &zone, true)
            ),
            rsx! {
                CallBody { call: c.clone(), zone: zone.clone(), on_reanalysis: watch }
                AnalysisSection { analyses: analyses.read().clone(), zone: zone.clone(),
                    on_requested: move |_| { call.restart(); analyses.restart(); } }
                EventsSection { events: events.read().clone(), zone: zone.clone(), on_retry: move |_| events.restart() }
            },
        ),
    };
    rsx! {
        Link { to: back, class: "back", "← Back to the list" }
        h1 { id: "call-title", "{title}" }
        p { class: "muted", id: "call-id", "Call ID {call_id}" }
        {body}
    }
}

#[component]
fn CallBody(call: Call, zone: String, on_reanalysis: EventHandler<()>) -> Element {
    let api = use_api();
    let me = use_me();
    let dealer_name = use_dealerships()
        .read()
        .iter()
        .find(|d| d.id == call.dealership_id)
        .map(|d| d.name.clone())
        .unwrap_or_else(|| call.dealership_id.clone());
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
            async move {
                let result = api.request_reanalysis(&d, &c).await;
                if result.is_ok() {
                    on_reanalysis.call(());
                }
                reanalysis.set(Some(result))
            }
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
                    dt { "Dealership" } dd { "{dealer_name}" }
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
                // Admins are read-only: the database refuses them, so no button.
                if me.read().role.can_review() { div { class: "actions",
                    button { id: "reanalyze", onclick: reanalyze, "Re-analyze" }
                    match reanalysis() {
                        Some(Ok(_)) => rsx! { span { class: "muted", id: "reanalysis-result",
                            "Re-analysis requested. The new verdict appears here when it is ready." } },
                        Some(Err(e)) => rsx! { span { class: "error", id: "reanalysis-result", "{e}" } },
                        None => rsx! {},
                    }
                } }
            }
            ReviewPanel { dealership_id: call.dealership_id.clone(), call_id: call.call_id.clone(), zone: zone.clone(),
                verdict: call.verdict.clone(), flags: call.flags.clone() }
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
fn ReviewPanel(
    dealership_id: String,
    call_id: String,
    zone: String,
    verdict: Option<String>,
    flags: Vec<String>,
) -> Element {
    let api = use_api();
    let me = use_me();
    let mut changed = use_reviews_changed();
    let mut loaded = use_resource(use_reactive!(|dealership_id, call_id| {
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
                rsx! { section { class: "panel", id: "review-panel", h2 { "Review" } ErrorNote { error: e.clone(), on_retry: move |_| loaded.restart() } } }
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
            // Typing a note or picking an assignee: letters are text, not commands.
            if !me_now.role.can_review() || !crate::platform::focus_target().allows_shortcuts() {
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
            } else if let Some(to) = crate::review::status_from_shortcut(&c) {
                if to.needs_notes() {
                    composing.set(Some(to));
                } else {
                    act(Change::Status { to, notes: None });
                }
            }
        }
    };
    let reopened_note = notes_caption(current.status, current.notes.is_some()).is_some();
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
                dt { "Notes" }
                dd {
                    // The label sits in the value column so a long caption does not
                    // squeeze the notes into a narrow strip.
                    if let Some(caption) = notes_caption(current.status, current.notes.is_some()) {
                        div { id: "review-notes-label", class: "muted caption", "{caption}" }
                    }
                    span { id: "review-notes", class: if reopened_note { "muted" } else { "" },
                        {current.notes.clone().unwrap_or_else(|| "–".into())} }
                }
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
                ReviewNote { dealership_id: dealership_id.clone(), call_id: call_id.clone(), status: current.status,
                    on_saved: move |_| { loaded.restart(); history.restart(); *changed.write() += 1; } }
            }
            LabelForm { dealership_id: dealership_id.clone(), call_id: call_id.clone(),
                machine_verdict: verdict.clone(), machine_flags: flags.clone(), can_review: me_now.role.can_review(),
                on_saved: move |_| { loaded.restart(); history.restart(); *changed.write() += 1; } }
            h3 { "History" }
            match &*history.read() {
                None => rsx! { Loading { what: "the history" } },
                Some(Err(e)) => rsx! { ErrorNote { error: e.clone(), on_retry: move |_| history.restart() } },
                Some(Ok(rows)) if rows.is_empty() => rsx! { p { class: "muted", "No review activity yet." } },
                Some(Ok(rows)) => rsx! {
                    ol { id: "review-history", class: "history",
                        for h in rows.iter() {
                            li { key: "{h.id}", class: "history-item", "data-to": "{h.to_status}", "data-kind": "{h.kind}",
                                span { class: "muted", {platform::format_in_zone(&h.created_at, &zone, true)} } " · "
                                {history_line(h)}
                                if let Some(n) = h.notes.clone() { div { class: "history-notes", "“{note_text(&n)}”" } }
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
    zone: String,
    on_requested: EventHandler<()>,
) -> Element {
    let body = match analyses {
        None => rsx! { Loading { what: "analyses" } },
        Some(Err(e)) => rsx! { ErrorNote { error: e, on_retry: move |_| on_requested.call(()) } },
        Some(Ok(rows)) if rows.is_empty() => rsx! { p { class: "muted", "Not analyzed yet." } },
        Some(Ok(rows)) => {
            let current = rows[0].clone();
            let earlier: Vec<AnalysisRow> = rows[1..].to_vec();
            let facts = analysis_facts(&current.analysis_text);
            let when = |iso: &str| platform::format_in_zone(iso, &zone, true);
            rsx! {
                p { class: "muted",
                    "Latest analysis · {when(&current.created_at)} · {humanize(&current.status)} · {analyzer_label(Some(&current.model)).unwrap_or_else(|| current.model.clone())} · prompt {current.prompt_version}"
                }
                if let Some(err) = current.error.clone() { p { class: "error", "The analyzer failed: {err}" } }
                dl { class: "facts", id: "analysis-facts",
                    for (label, value) in facts {
                        dt { "{label}" } dd { "{value}" }
                    }
                }
                details { class: "raw",
                    summary { "Stored analysis (JSON)" }
                    pre { class: "json", id: "analysis-json", {pretty(&current.analysis_text)} }
                }
                if !earlier.is_empty() {
                    h3 { "Earlier analyses ({earlier.len()})" }
                    for a in earlier {
                        details { class: "attempt",
                            summary { "{when(&a.created_at)} · {crate::review::status_label(&a.verdict)} · {humanize(&a.status)} · {a.model}" }
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
fn EventsSection(
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
    fn the_human_view_of_an_analysis_rounds_the_confidence_and_names_codes_in_words() {
        let stored = r#"{"verdict": "needs_review", "score": 55, "confidence": 0.699999988079071, "reasons": ["slow answer"], "flags": ["customer_upset"], "recommended_action": "call_back"}"#;
        assert_eq!(
            analysis_facts(stored),
            vec![
                ("Verdict", "Needs review".to_string()),
                ("Score", "55".to_string()),
                ("Confidence", "70%".to_string()),
                ("Reasons", "Slow answer".to_string()),
                ("Flags", "Customer upset".to_string()),
                ("Recommended action", "Call back".to_string()),
            ]
        );
        assert!(analysis_facts("not json").is_empty());
    }

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
