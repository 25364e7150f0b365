//! A list of unresolved reviews with the workflow inline: the CSM's queue and the
//! manager's unresolved list. Changes are shown at once and sent to `review_call` /
//! `assign_review`; a refusal puts the row back as it was and says why. Keyboard:
//! j/k or arrows move, Enter opens the call, r/f/o change the status, s/e open the
//! notes to resolve/escalate, c claims; every saved change is confirmed in words.

use dioxus::prelude::*;

use crate::api::data::QueueItem;
use crate::api::use_api;
use crate::components::{ReviewControls, VerdictBadge};
use crate::format::humanize;
use crate::place::{self, row_key};
use crate::platform;
use crate::review::{
    age_label, assign_candidates, assign_choice, optimistic, rollback, status_label, AssignChoice,
    Change, Me, Member, ReviewStatus, StatusUi, Team,
};
use crate::urlstate::ViewState;
use crate::views::shell::{use_me, use_reviews_changed};
use crate::Route;

/// A confirmation (ok) or a refusal, shown in the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

#[component]
pub fn ReviewList(
    items: Vec<QueueItem>,
    /// A manager's team and its assignments, for the assignee picker.
    team: Option<Team>,
    show_dealership: bool,
    /// What the list is called for screen readers.
    label: String,
    /// Shown when no row is left. The list shows it itself (rather than the page
    /// swapping it out) so the confirmation of the last row's change stays visible.
    empty: String,
) -> Element {
    let api = use_api();
    let me = use_me();
    let mut changed = use_reviews_changed();
    let mut rows = use_signal(|| items.clone());
    // A reload (new filter, sort, or a change elsewhere) replaces the shown rows; the
    // list is not remounted for it, so without this it would keep the old ones.
    use_effect(use_reactive!(|items| rows.set(items)));
    let mut selected = use_signal(|| 0usize);
    let mut composing = use_signal(|| None::<(String, String, ReviewStatus)>);
    let mut flash = use_signal(|| None::<Flash>);
    // The row the last confirmation belongs to: it is shown beside that row's actions.
    let mut flash_at = use_signal(|| None::<String>);
    let navigator = use_navigator();
    let here = use_route::<Route>().to_string();
    // Back from a call: select its row again and scroll to where the page was, once
    // the rows are there.
    let mut restored = use_signal(|| false);
    {
        let here = here.clone();
        use_effect(move || {
            let list = rows.read();
            if *restored.peek() || list.is_empty() {
                return;
            }
            restored.set(true);
            let Some(found) = place::take(&here) else {
                return;
            };
            if let Some(i) = list
                .iter()
                .position(|r| row_key(&r.dealership_id, &r.call_id) == found.row)
            {
                selected.set(i);
            }
            spawn(async move {
                platform::sleep_ms(0).await;
                platform::scroll_to_y(found.scroll_y);
            });
        });
    }
    let remember = {
        let here = here.clone();
        move |d: &str, c: &str| place::remember(&here, row_key(d, c))
    };

    let act = move |dealership_id: String, call_id: String, change: Change| {
        let api = api.clone();
        let current = rows
            .peek()
            .iter()
            .find(|i| i.is(&dealership_id, &call_id))
            .cloned();
        let Some(current) = current else { return };
        if let Err(why) = change.validate(Some(current.status)) {
            flash_at.set(Some(row_key(&dealership_id, &call_id)));
            flash.set(Some(Flash {
                ok: false,
                text: why,
            }));
            return;
        }
        composing.set(None);
        flash_at.set(Some(row_key(&dealership_id, &call_id)));
        let (d, c) = (dealership_id.clone(), call_id.clone());
        let shown = optimistic(
            &rows.peek(),
            |i| i.is(&d, &c),
            |i| i.with_review(&change.apply(&i.review())),
            |i| i.status != ReviewStatus::Resolved,
        );
        rows.set(shown.items);
        flash.set(Some(Flash {
            ok: true,
            text: format!("Saving call {call_id}…"),
        }));
        spawn(async move {
            match api.change_review(&dealership_id, &call_id, &change).await {
                Ok(saved) => {
                    // The database's answer wins over what was guessed.
                    let fixed: Vec<QueueItem> = rows
                        .peek()
                        .iter()
                        .map(|i| {
                            if i.is(&dealership_id, &call_id) {
                                QueueItem {
                                    status: saved.status,
                                    assignee_id: saved.assignee_id.clone(),
                                    notes: saved.notes.clone(),
                                    ..i.clone()
                                }
                            } else {
                                i.clone()
                            }
                        })
                        .collect();
                    rows.set(fixed);
                    flash.set(Some(Flash {
                        ok: true,
                        text: change.confirmation(&call_id),
                    }));
                    *changed.write() += 1;
                }
                Err(e) => {
                    if let Some(undo) = shown.undo {
                        let back = rollback(&rows.peek(), |i| i.is(&dealership_id, &call_id), undo);
                        rows.set(back);
                    }
                    flash.set(Some(Flash {
                        ok: false,
                        text: format!("Not saved: {e}"),
                    }));
                }
            }
        });
    };

    let list = rows.read().clone();
    let count = list.len();
    let me_now = me.read().clone();

    // Moves the selection and scrolls the row into view.
    let mut select = move |i: usize| {
        selected.set(i);
        platform::scroll_into_view(&format!("queue-row-{i}"));
    };
    let on_key = {
        let list = list.clone();
        let me_now = me_now.clone();
        let mut act = act.clone();
        let remember = remember.clone();
        move |e: KeyboardEvent| {
            if count == 0 {
                return;
            }
            // Typing a note, picking an assignee: letters are text, not commands.
            let focus = platform::focus_target();
            if !focus.allows_shortcuts() {
                return;
            }
            let current = selected().min(count - 1);
            let item = list[current].clone();
            match e.key() {
                Key::ArrowDown => {
                    e.prevent_default();
                    select((current + 1).min(count - 1));
                }
                Key::ArrowUp => {
                    e.prevent_default();
                    select(current.saturating_sub(1));
                }
                Key::Enter if focus.allows_enter() => {
                    remember(&item.dealership_id, &item.call_id);
                    navigator.push(Route::CallDetail {
                        dealership_id: item.dealership_id,
                        call_id: item.call_id,
                        view: ViewState::default(),
                    });
                }
                Key::Escape => composing.set(None),
                Key::Character(c) if c == "j" => select((current + 1).min(count - 1)),
                Key::Character(c) if c == "k" => select(current.saturating_sub(1)),
                Key::Character(c)
                    if c == "c"
                        && me_now.role.can_review()
                        && assign_choice(&me_now, item.assignee_id.as_deref())
                            == AssignChoice::Claim =>
                {
                    act(
                        item.dealership_id,
                        item.call_id,
                        Change::Assign {
                            to: Some(me_now.user_id.clone()),
                            name: Some(me_now.full_name.clone()),
                        },
                    );
                }
                Key::Character(c) if me_now.role.can_review() => {
                    if let Some(to) = crate::review::status_from_shortcut(&c) {
                        e.prevent_default();
                        if to.needs_notes() {
                            composing.set(Some((item.dealership_id, item.call_id, to)));
                        } else {
                            act(
                                item.dealership_id,
                                item.call_id,
                                Change::Status { to, notes: None },
                            );
                        }
                    }
                }
                _ => {}
            }
        }
    };
    // The confirmation goes beside the row it is about; when that row has left the
    // list (resolved), beside the row now selected in its place.
    let flash_row = flash_at().filter(|key| {
        list.iter()
            .any(|i| row_key(&i.dealership_id, &i.call_id) == *key)
    });
    let selected_now = selected().min(count.saturating_sub(1));

    rsx! {
        div { id: "flash", class: "flash", role: "status", "aria-live": "polite",
            match flash() {
                Some(f) if f.ok => rsx! { span { class: "ok", "{f.text}" } },
                Some(f) => rsx! { span { class: "error", "{f.text}" } },
                None => rsx! {},
            }
        }
        if list.is_empty() {
            p { class: "state empty", id: "queue-empty", "{empty}" }
        } else {
            div {
                class: "table-wrap",
                id: "review-list",
                tabindex: "0",
                "aria-label": "{label}. Keys: j/k move, Enter opens, r reviewed, f follow-up, s resolve, e escalate, o re-open, c claim.",
                onkeydown: on_key,
                table { class: "calls queue cards",
                    thead { tr {
                        th { "Verdict" } th { "Score" } th { "Call" }
                        if show_dealership { th { "Dealership" } }
                        th { "Reasons" } th { "Status" } th { "Assignee" } th { "Waiting" } th { "Notes" } th { "Actions" }
                    } }
                    tbody {
                        for (i, item) in list.iter().enumerate() {
                            QueueRow {
                                key: "{item.dealership_id}/{item.call_id}",
                                item: item.clone(),
                                index: i,
                                selected: i == selected(),
                                note: flash().filter(|_| match &flash_row {
                                    Some(key) => *key == row_key(&item.dealership_id, &item.call_id),
                                    None => flash_at().is_some() && i == selected_now,
                                }),
                                show_dealership,
                                me: me_now.clone(),
                                candidates: team.as_ref().map(|(m, a)| assign_candidates(&me_now, m, a, &item.dealership_id)).unwrap_or_default(),
                                composing: composing().filter(|(d, c, _)| item.is(d, c)).map(|(_, _, s)| s),
                                on_select: {
                                    let (d, c) = (item.dealership_id.clone(), item.call_id.clone());
                                    let remember = remember.clone();
                                    // A click may be the call's link: remember the place first.
                                    move |_| { selected.set(i); remember(&d, &c) }
                                },
                                on_compose: {
                                    let (d, c) = (item.dealership_id.clone(), item.call_id.clone());
                                    move |s: Option<ReviewStatus>| composing.set(s.map(|s| (d.clone(), c.clone(), s)))
                                },
                                on_change: {
                                    let (d, c) = (item.dealership_id.clone(), item.call_id.clone());
                                    let mut act = act.clone();
                                    move |change: Change| act(d.clone(), c.clone(), change)
                                },
                            }
                        }
                    }
                }
            }
        }
    }
}

#[component]
fn QueueRow(
    item: QueueItem,
    index: usize,
    selected: bool,
    /// The last confirmation or refusal, when it is about this row.
    note: Option<Flash>,
    show_dealership: bool,
    me: Me,
    candidates: Vec<Member>,
    composing: Option<ReviewStatus>,
    on_select: EventHandler<()>,
    on_compose: EventHandler<Option<ReviewStatus>>,
    on_change: EventHandler<Change>,
) -> Element {
    let mine = item.assignee_id.as_deref() == Some(me.user_id.as_str());
    let other = item.assignee_id.is_some() && !mine;
    let class = match (selected, other) {
        (true, true) => "queue-row selected assigned-other",
        (true, false) => "queue-row selected",
        (false, true) => "queue-row assigned-other",
        (false, false) => "queue-row",
    };
    let reasons = item
        .reasons
        .clone()
        .unwrap_or_default()
        .iter()
        .take(2)
        .map(|r| humanize(r))
        .collect::<Vec<_>>()
        .join("; ");
    rsx! {
        tr {
            class: "{class}",
            id: "queue-row-{index}",
            "data-dealership": "{item.dealership_id}",
            "data-call": "{item.call_id}",
            "data-status": "{item.status.as_str()}",
            "data-assignee": "{item.assignee_id.clone().unwrap_or_default()}",
            onclick: move |_| on_select.call(()),
            td { VerdictBadge { verdict: item.verdict.clone() }
                if item.label_disagrees == Some(true) {
                    span { class: "badge label-disagrees", title: "A person's label disagrees with this verdict",
                        "Label: {status_label(item.label_verdict.as_deref().unwrap_or_default())}" }
                }
                if item.audit_sample == Some(true) { span { class: "badge audit-sample", title: "A good verdict drawn for labelling", "Audit sample" } }
            }
            td { "data-label": "Score", {item.score.map(|s| s.to_string()).unwrap_or_else(|| "–".into())} }
            td { class: "call", Link { to: Route::CallDetail { dealership_id: item.dealership_id.clone(), call_id: item.call_id.clone(), view: ViewState::default() }, class: "call-link", "{item.call_id}" } }
            if show_dealership { td { class: "dealer", {item.dealership_name.clone().unwrap_or_else(|| item.dealership_id.clone())} } }
            td { class: "reasons", title: "{reasons}", div { class: "clamp", "{reasons}" } }
            td { class: "status", "data-label": "Status", {humanize(item.status.as_str())} }
            td { class: "assignee",
                if mine { strong { "You" } }
                else if let Some(name) = item.assignee_name.clone() { span { class: "tag-other", title: "Assigned to someone else", "Assigned to {name}" } }
                else if other { span { class: "tag-other", "Assigned to someone else" } }
                else { span { class: "muted", "Unassigned" } }
            }
            td { class: "age", "data-label": "Waiting", {item.age_hours.map(age_label).unwrap_or_default()} }
            td { class: "notes-cell", "data-label": "Notes", {item.notes.clone().unwrap_or_default()} }
            td { class: "actions-cell",
                ReviewControls { state: item.review(), me, candidates, composing, on_compose, on_change }
                // A visible copy beside the action; #flash above the list is the live region.
                if let Some(f) = note {
                    div { class: if f.ok { "row-flash ok" } else { "row-flash error" }, "aria-hidden": "true", "{f.text}" }
                }
            }
        }
    }
}
