//! The review workflow's buttons for one review, used inline in the queue and the
//! team's unresolved list, and in the call detail: the transitions the database
//! allows from the current state, claim/release (CSM) or an assignee picker
//! (manager), and the notes form that resolving and escalating require. Admins get
//! none of it: the database would refuse them anyway. `compact` (the queue and the
//! unresolved list) puts the buttons on one line with short words, the notes form
//! below them, and can offer "Resolve and open next".

use dioxus::prelude::*;

use crate::model::review::{
    allowed_targets, assign_choice, AssignChoice, Change, Me, Member, ReviewState, ReviewStatus,
    StatusUi,
};

#[component]
pub fn ReviewControls(
    state: ReviewState,
    me: Me,
    /// People a manager may assign this review to (empty for others).
    candidates: Vec<Member>,
    /// The status whose notes form is open, if any (the parent keeps it, so the
    /// keyboard can open it too).
    composing: Option<ReviewStatus>,
    on_compose: EventHandler<Option<ReviewStatus>>,
    on_change: EventHandler<Change>,
    /// One line of short buttons (a list row) instead of the full labels.
    #[props(default)]
    compact: bool,
    /// Resolve with the note, then open the next item of the list.
    on_resolve_next: Option<EventHandler<String>>,
    /// A manager's reports who are not on this dealership: offered in the picker,
    /// choosing one adds the assignment first (`on_add_and_assign`).
    #[props(default)]
    addable: Vec<Member>,
    /// (user id, name) of a report to add to the dealership and assign.
    on_add_and_assign: Option<EventHandler<(String, String)>>,
) -> Element {
    if !me.role.can_review() {
        return rsx! { span { class: "muted read-only", "Read-only" } };
    }
    let targets = allowed_targets(state.status);
    let choice = assign_choice(&me, state.assignee_id.as_deref());
    let mut options = candidates.clone();
    if let (Some(id), Some(name)) = (&state.assignee_id, &state.assignee_name) {
        if !options.iter().any(|m| &m.user_id == id) {
            options.push(Member {
                user_id: id.clone(),
                full_name: name.clone(),
                role: String::new(),
                manager_id: None,
            });
        }
    }
    let current = state.assignee_id.clone().unwrap_or_default();
    let my_id = me.user_id.clone();
    let my_name = me.full_name.clone();
    let word = move |to: ReviewStatus| -> String {
        let base = if compact {
            to.short_label()
        } else {
            to.action_label()
        };
        if to.needs_notes() {
            format!("{base}…")
        } else {
            base.to_string()
        }
    };

    let buttons = rsx! {
        for to in targets {
            button {
                key: "{to.as_str()}",
                class: "act act-{to.as_str()}",
                title: "{to.action_label()} (key {to.shortcut()})",
                onclick: move |e: MouseEvent| {
                    e.stop_propagation();
                    if to.needs_notes() {
                        on_compose.call(Some(to));
                    } else {
                        on_change.call(Change::Status { to, notes: None });
                    }
                },
                {word(to)}
            }
        }
        match choice {
            AssignChoice::Claim => rsx! {
                button { class: "act act-claim", title: "Take it (key c)",
                    onclick: move |e: MouseEvent| {
                        e.stop_propagation();
                        on_change.call(Change::Assign { to: Some(my_id.clone()), name: Some(my_name.clone()) });
                    },
                    "Claim" }
            },
            AssignChoice::Release => rsx! {
                button { class: "act act-release",
                    onclick: move |e: MouseEvent| {
                        e.stop_propagation();
                        on_change.call(Change::Assign { to: None, name: None });
                    },
                    "Release" }
            },
            AssignChoice::Pick => rsx! {
                label { class: "assign",
                    span { class: "sr-only", "Assign to" }
                    select {
                        class: "assign-select",
                        value: "{current}",
                        onclick: move |e: MouseEvent| e.stop_propagation(),
                        onchange: {
                            let options = options.clone();
                            let addable = addable.clone();
                            move |e: FormEvent| {
                                let id = e.value();
                                if let Some(add) = id.strip_prefix("add:") {
                                    let name = addable.iter().find(|m| m.user_id == add).map(|m| m.full_name.clone()).unwrap_or_default();
                                    if let Some(handler) = on_add_and_assign {
                                        handler.call((add.to_string(), name));
                                    }
                                    return;
                                }
                                let name = options.iter().find(|m| m.user_id == id).map(|m| m.full_name.clone());
                                let to = (!id.is_empty()).then_some(id);
                                on_change.call(Change::Assign { to, name });
                            }
                        },
                        option { value: "", selected: current.is_empty(), "Unassigned" }
                        for m in options.iter() {
                            option { key: "{m.user_id}", value: "{m.user_id}", selected: m.user_id == current, "{m.full_name}" }
                        }
                        if on_add_and_assign.is_some() && !addable.is_empty() {
                            optgroup { label: "Not on this dealership: add and assign",
                                for m in addable.iter() {
                                    option { key: "add-{m.user_id}", value: "add:{m.user_id}", "{m.full_name} (add to this dealership)" }
                                }
                            }
                        }
                    }
                }
            },
            AssignChoice::None => rsx! {},
        }
    };
    let next = on_resolve_next.filter(|_| composing == Some(ReviewStatus::Resolved));

    rsx! {
        div { class: if compact { "review-controls compact" } else { "review-controls" },
            if compact {
                div { class: "action-bar", role: "group", "aria-label": "Review actions", {buttons} }
            } else {
                {buttons}
            }
            if let Some(to) = composing {
                NotesForm {
                    to,
                    on_submit: move |notes: String| on_change.call(Change::Status { to, notes: Some(notes) }),
                    on_submit_next: next,
                    on_cancel: move |_| on_compose.call(None),
                }
            }
        }
    }
}

/// The notes box's id (one box is open at a time on a page).
const NOTES_ID: &str = "notes-input";

/// The note that resolving or escalating needs. Ctrl+Enter saves, Escape cancels.
#[component]
fn NotesForm(
    to: ReviewStatus,
    on_submit: EventHandler<String>,
    /// A second button: save, then open the next item ("Resolve and open next").
    on_submit_next: Option<EventHandler<String>>,
    on_cancel: EventHandler<()>,
) -> Element {
    let mut notes = use_signal(String::new);
    // Opening the box moves the focus into it, so what is typed is the note (never a
    // shortcut of the list or panel behind it).
    use_effect(|| crate::platform::focus(NOTES_ID));
    rsx! {
        form {
            class: "notes-form",
            onclick: move |e: MouseEvent| e.stop_propagation(),
            onsubmit: move |e: FormEvent| {
                e.prevent_default();
                on_submit.call(notes());
            },
            label { r#for: NOTES_ID, class: "sr-only", "Notes to {to.action_label().to_lowercase()}" }
            textarea {
                id: NOTES_ID,
                class: "notes",
                rows: "2",
                placeholder: "Notes (required to {to.action_label().to_lowercase()}): what was done?",
                value: "{notes}",
                onmounted: move |e: MountedEvent| async move { let _ = e.set_focus(true).await; },
                oninput: move |e| notes.set(e.value()),
                onkeydown: move |e: KeyboardEvent| {
                    // Typing must not trigger the list's single-key shortcuts.
                    e.stop_propagation();
                    match e.key() {
                        Key::Escape => on_cancel.call(()),
                        Key::Enter if e.modifiers().ctrl() || e.modifiers().meta() => {
                            e.prevent_default();
                            on_submit.call(notes());
                        }
                        _ => {}
                    }
                },
            }
            button { r#type: "submit", class: "confirm", "{to.action_label()}" }
            if let Some(next) = on_submit_next {
                button { r#type: "button", class: "confirm-next", title: "Save, then open the next call of the list",
                    onclick: move |_| next.call(notes()),
                    "{to.action_label()} and open next" }
            }
            button { r#type: "button", class: "link cancel", onclick: move |_| on_cancel.call(()), "Cancel" }
        }
    }
}
