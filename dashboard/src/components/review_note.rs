//! A note on a review at any time: a comment on its own (`comment_on_review`), or
//! with a status change the workflow allows (`review_call` with the note), so
//! "Follow-up needed" and every other move can carry one. Both land in the history.

use dioxus::prelude::*;

use crate::hooks::use_api;
use crate::model::review::{allowed_targets, ReviewStatus, StatusUi};

#[component]
pub fn ReviewNote(
    dealership_id: String,
    call_id: String,
    /// The review's current status (`None`: the call has no review, so a comment
    /// cannot be added, only a status change).
    status: Option<ReviewStatus>,
    /// Called after the note is saved, so the review and its history reload.
    on_saved: EventHandler<()>,
) -> Element {
    let mut text = use_signal(String::new);
    let mut to = use_signal(|| None::<ReviewStatus>);
    let mut result = use_signal(|| None::<Result<String, String>>);
    let api = use_api();
    let targets = allowed_targets(status);

    let submit = {
        let (d, c) = (dealership_id.clone(), call_id.clone());
        move |e: FormEvent| {
            e.prevent_default();
            let note = text().trim().to_string();
            if note.is_empty() {
                result.set(Some(Err("Write the note first.".into())));
                return;
            }
            let (api, d, c, target) = (api.clone(), d.clone(), c.clone(), to());
            result.set(Some(Ok("Saving…".into())));
            spawn(async move {
                let saved = match target {
                    Some(s) => api
                        .change_review(
                            &d,
                            &c,
                            &crate::model::review::Change::Status {
                                to: s,
                                notes: Some(note.clone()),
                            },
                        )
                        .await
                        .map(|_| format!("Note saved; status now {}.", s.action_label())),
                    None => api
                        .comment_on_review(&d, &c, &note)
                        .await
                        .map(|_| "Comment added to the history.".to_string()),
                };
                match saved {
                    Ok(msg) => {
                        text.set(String::new());
                        to.set(None);
                        result.set(Some(Ok(msg)));
                        on_saved.call(());
                    }
                    Err(e) => result.set(Some(Err(format!("Not saved: {e}")))),
                }
            });
        }
    };

    rsx! {
        // Typing here must not reach the review panel's single-key shortcuts.
        form { id: "review-note", class: "review-note", onsubmit: submit,
            onkeydown: move |e: KeyboardEvent| e.stop_propagation(),
            label { r#for: "review-note-text", "Note or comment" }
            textarea { id: "review-note-text", rows: "2", maxlength: "2000",
                placeholder: "What happened, what is next…",
                value: "{text}",
                oninput: move |e: FormEvent| text.set(e.value()) }
            label { r#for: "review-note-status", "With" }
            select { id: "review-note-status",
                onchange: move |e: FormEvent| { let v = e.value(); to.set(ReviewStatus::ALL.into_iter().find(|s| s.as_str() == v)) },
                option { value: "", selected: to().is_none(),
                    if status.is_some() { "no status change (comment)" } else { "choose a status" } }
                for s in targets {
                    option { key: "{s.as_str()}", value: "{s.as_str()}", selected: to() == Some(s), "{s.action_label()}" }
                }
            }
            button { id: "review-note-save", r#type: "submit", class: "confirm",
                disabled: status.is_none() && to().is_none(),
                if to().is_some() { "Save note and status" } else { "Add comment" } }
            div { id: "review-note-result", class: "flash", role: "status", "aria-live": "polite",
                match result() {
                    Some(Ok(t)) => rsx! { span { class: "ok", "{t}" } },
                    Some(Err(t)) => rsx! { span { class: "error", "{t}" } },
                    None => rsx! {},
                }
            }
        }
    }
}
