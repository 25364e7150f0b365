//! The call page's label: the machine verdict beside the human one, and the form a
//! CSM or manager uses to confirm or correct it (verdict, flags, a short reason).
//! Works on any analyzed call, `good` ones included (spot checks). Saving goes
//! through `public.label_call`, which also claims an unassigned review.

use dioxus::prelude::*;

use crate::components::VerdictBadge;
use crate::hooks::use_api;
use crate::model::format::humanize;
use crate::model::labelling::{flag_names, Label, VERDICTS};
use crate::model::review::status_label;

#[component]
pub fn LabelForm(
    dealership_id: String,
    call_id: String,
    /// The call's current verdict and flags (the newest analysis).
    machine_verdict: Option<String>,
    machine_flags: Vec<String>,
    /// Whether the viewer may label (CSMs and managers; admins are read-only).
    can_review: bool,
    /// Called after a label is saved, so the review and its history reload.
    on_saved: EventHandler<()>,
) -> Element {
    let api = use_api();
    let mut latest = use_resource(use_reactive!(|dealership_id, call_id| {
        let api = api.clone();
        async move { api.latest_label(&dealership_id, &call_id).await }
    }));
    let machine = machine_verdict.clone().unwrap_or_default();
    let start = Label::confirming(&machine, &machine_flags);
    let mut draft = use_signal(|| start.clone());
    let mut open = use_signal(|| false);
    let mut result = use_signal(|| None::<Result<String, String>>);

    let save = {
        let api = use_api();
        let (d, c) = (dealership_id.clone(), call_id.clone());
        move |label: Label| {
            let (api, d, c) = (api.clone(), d.clone(), c.clone());
            result.set(Some(Ok("Saving…".into())));
            spawn(async move {
                match api.label_call(&d, &c, &label).await {
                    Ok(_) => {
                        result.set(Some(Ok(format!(
                            "Label saved: {}.",
                            status_label(&label.verdict)
                        ))));
                        open.set(false);
                        latest.restart();
                        on_saved.call(());
                    }
                    Err(e) => result.set(Some(Err(format!("Not saved: {e}")))),
                }
            });
        }
    };

    let human = match &*latest.read() {
        Some(Ok(Some(row))) => Some(row.clone()),
        _ => None,
    };
    let can_label = can_review && machine_verdict.is_some();
    let problem = draft.read().problem(&machine, &machine_flags);
    let correcting = draft.read().corrects(&machine, &machine_flags);

    rsx! {
        // Keys typed here must not reach the review panel's single-key shortcuts.
        div { id: "label-panel", class: "label-panel", onkeydown: move |e: KeyboardEvent| e.stop_propagation(),
            h3 { "Label" }
            dl { class: "facts label-compare",
                dt { "Analyzer" }
                dd { id: "label-machine",
                    VerdictBadge { verdict: machine_verdict.clone() }
                    for f in machine_flags.iter() { span { class: "flag", "{humanize(f)}" } }
                }
                dt { "Human" }
                dd { id: "label-human", "data-verdict": "{human.as_ref().and_then(|h| h.label_verdict.clone()).unwrap_or_default()}",
                    match &human {
                        Some(h) => rsx! {
                            VerdictBadge { verdict: h.label_verdict.clone() }
                            for f in h.label_flags.clone().unwrap_or_default().iter() { span { class: "flag", "{humanize(f)}" } }
                            span { class: "muted", " by {h.actor_name.clone().unwrap_or_else(|| \"someone\".into())}" }
                            if h.label_verdict != machine_verdict {
                                span { class: "badge label-disagrees", id: "label-disagrees", "Disagrees" }
                            }
                            if let Some(n) = h.notes.clone() { div { class: "history-notes", "“{n}”" } }
                        },
                        None => rsx! { span { class: "muted", "Not labelled yet" } },
                    }
                }
            }
            if can_label {
                div { class: "actions",
                    button { id: "label-confirm", class: "act",
                        title: "The verdict and flags are right",
                        onclick: {
                            let mut save = save.clone();
                            let start = start.clone();
                            move |_| save(start.clone())
                        },
                        "Confirm verdict" }
                    button { id: "label-correct", class: "act",
                        onclick: move |_| { let now = open(); open.set(!now); },
                        if open() { "Close correction" } else { "Correct…" } }
                }
                if open() {
                    form { id: "label-form", class: "label-form",
                        onsubmit: {
                            let mut save = save.clone();
                            move |e: FormEvent| {
                                e.prevent_default();
                                let label = draft();
                                if label.problem(&machine, &machine_flags).is_none() {
                                    save(label);
                                }
                            }
                        },
                        label { r#for: "label-verdict", "Verdict" }
                        select { id: "label-verdict",
                            onchange: move |e: FormEvent| draft.write().verdict = e.value(),
                            for v in VERDICTS {
                                option { key: "{v}", value: "{v}", selected: draft.read().verdict == v, {status_label(v)} }
                            }
                        }
                        fieldset { class: "label-flags",
                            legend { "Flags" }
                            for f in flag_names() {
                                label { key: "{f}", class: "check",
                                    input { r#type: "checkbox", class: "label-flag", value: "{f}",
                                        checked: draft.read().flags.iter().any(|x| x == f),
                                        onchange: move |_| draft.write().toggle(f) }
                                    " {humanize(f)}"
                                }
                            }
                        }
                        label { r#for: "label-reason", if correcting { "Reason (required)" } else { "Reason (optional)" } }
                        input { id: "label-reason", r#type: "text", maxlength: "500",
                            placeholder: "What did the analysis get wrong?",
                            value: "{draft.read().reason}",
                            oninput: move |e: FormEvent| draft.write().reason = e.value() }
                        button { id: "label-save", r#type: "submit", class: "confirm", disabled: problem.is_some(), "Save label" }
                        if let Some(p) = problem.clone() { span { class: "muted", id: "label-problem", "{p}" } }
                    }
                }
            }
            div { id: "label-result", class: "flash", role: "status", "aria-live": "polite",
                match result() {
                    Some(Ok(text)) => rsx! { span { class: "ok", "{text}" } },
                    Some(Err(text)) => rsx! { span { class: "error", "{text}" } },
                    None => rsx! {},
                }
            }
        }
    }
}
