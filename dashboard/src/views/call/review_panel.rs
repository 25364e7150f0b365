//! The call's review panel: current state, the workflow buttons (optimistic,
//! rolled back with a message when the database refuses), keyboard shortcuts,
//! notes and comments, the human label, and the call's history.

use dioxus::prelude::*;

use crate::api::data::ReviewRow;
use crate::components::{loaded, Flash, LabelForm, ReviewControls, ReviewNote, Section};
use crate::hooks::use_api;
use crate::hooks::use_team_members;
use crate::hooks::{use_me, use_reviews_changed};
use crate::model::format::humanize;
use crate::model::labelling::history_line;
use crate::model::review::{
    assign_candidates, assign_choice, note_text, notes_caption, AssignChoice, Change, ReviewState,
    ReviewStatus, StatusUi,
};
use crate::platform;

/// The call's review: current state, the workflow (optimistic, rolled back with a
/// message when the database refuses), keyboard shortcuts, and the history.
#[component]
pub fn ReviewPanel(
    dealership_id: String,
    call_id: String,
    zone: String,
    verdict: Option<String>,
    flags: Vec<String>,
) -> Element {
    let api = use_api();
    let me = use_me();
    let mut changed = use_reviews_changed();
    let mut review = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api.clone();
        async move { api.review(&dealership_id, &call_id).await }
    }));
    let team = use_team_members();
    let mut state = use_signal(|| None::<ReviewState>);
    let mut composing = use_signal(|| None::<ReviewStatus>);
    let mut flash = use_signal(|| None::<Flash>);
    // The panel's own copy, changed at once by an action and replaced by the
    // database's answer (or put back when it refuses); a reload replaces it too.
    use_effect(move || {
        if let Some(Ok(row)) = &*review.read() {
            state.set(Some(review_state(row.as_ref())));
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
                            text: change.confirmation("this call"),
                        }));
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
    // Waits (in the section around it) for the first answer.
    let first = loaded(&review)?;
    let current = state
        .read()
        .clone()
        .unwrap_or_else(|| review_state(first.as_ref()));
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
            } else if let Some(to) = crate::model::review::status_from_shortcut(&c) {
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
                    on_saved: move |_| { review.restart(); *changed.write() += 1; } }
            }
            LabelForm { dealership_id: dealership_id.clone(), call_id: call_id.clone(),
                machine_verdict: verdict.clone(), machine_flags: flags.clone(), can_review: me_now.role.can_review(),
                on_saved: move |_| { review.restart(); *changed.write() += 1; } }
            h3 { "History" }
            Section { what: "the history",
                History { dealership_id: dealership_id.clone(), call_id: call_id.clone(), zone: zone.clone() } }
        }
    }
}

/// The panel's state as the database has it (`None`: no review row).
fn review_state(row: Option<&ReviewRow>) -> ReviewState {
    match row {
        Some(r) => ReviewState {
            status: Some(r.status),
            assignee_id: r.assignee_id.clone(),
            assignee_name: r.assignee.as_ref().map(|a| a.full_name.clone()),
            notes: r.notes.clone(),
        },
        None => ReviewState::default(),
    }
}

/// The call's review history, newest last; reloaded after every saved review
/// change (the shell's counter, which the panel bumps).
#[component]
fn History(dealership_id: String, call_id: String, zone: String) -> Element {
    let api = use_api();
    let changed = use_reviews_changed();
    let history = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api.clone();
        // Reading the counter subscribes.
        let _ = changed();
        async move { api.history(&dealership_id, &call_id).await }
    }));
    let rows = loaded(&history)?;
    if rows.is_empty() {
        return rsx! { p { class: "muted", "No review activity yet." } };
    }
    rsx! {
        ol { id: "review-history", class: "history",
            for h in rows.iter() {
                li { key: "{h.id}", class: "history-item", "data-to": "{h.to_status}", "data-kind": "{h.kind}",
                    span { class: "muted", {platform::format_in_zone(&h.created_at, &zone, true)} } " · "
                    {history_line(h)}
                    if let Some(n) = h.notes.clone() { div { class: "history-notes", "“{note_text(&n)}”" } }
                }
            }
        }
    }
}
