//! A list of unresolved reviews with the workflow inline: the CSM's queue and the
//! manager's unresolved list. Changes are shown at once and sent to `review_call` /
//! `assign_review`; a refusal puts the row back as it was and says why. Keyboard:
//! j/k or arrows move, Enter opens the call, r/f/o change the status, s/e open the
//! notes to resolve/escalate, c claims; every saved change is confirmed in words.
//! A row shows who called and when and what the call was about (not its raw id),
//! with one compact action bar; rows can be picked for bulk actions (row by row
//! through the same functions, [`crate::model::bulk`]), and "Resolve and open next" opens
//! the following item's call once the resolution is saved.

use dioxus::prelude::*;

use crate::api::data::QueueItem;
use crate::components::{BulkBar, ReviewControls, VerdictBadge};
use crate::hooks::use_api;
use crate::hooks::{use_me, use_reviews_changed};
use crate::model::bulk::BulkOutcome;
use crate::model::call_name::call_name;
use crate::model::format::humanize;
use crate::model::queue_row::{customer_label, phone_label, summary_text};
use crate::model::review::{
    addable_candidates, age_label, assign_candidates, assign_choice, optimistic, rollback,
    status_label, AssignChoice, Change, Me, Member, ReviewStatus, StatusUi, Team,
};
use crate::platform;
use crate::state::call_list::ViewState;
use crate::state::place::{self, row_key};
use crate::Route;

/// When the item's call started, in the screen's zone: the dealership's when the
/// list shows one, else the viewer's (the rows may span zones); labelled either way.
fn item_time(item: &QueueItem, show_dealership: bool) -> Option<String> {
    let zone = if show_dealership {
        platform::viewer_zone()
    } else {
        item.timezone.clone().unwrap_or_else(|| "UTC".into())
    };
    item.call_started_at
        .as_deref()
        .map(|t| platform::format_in_zone(t, &zone, true))
}

/// The item as a confirmation names it: who called and when, as its row shows.
fn item_name(item: &QueueItem, show_dealership: bool) -> String {
    call_name(
        item.customer_name.as_deref(),
        phone_label(item.customer_phone_masked.as_deref()).as_deref(),
        item_time(item, show_dealership).as_deref(),
    )
}

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

    // Rows picked for a bulk action, as (dealership, call id).
    let mut picked = use_signal(Vec::<(String, String)>::new);
    let mut bulk_busy = use_signal(|| false);
    let run_bulk = {
        let api = api.clone();
        move |change: Change, done: String| {
            let api = api.clone();
            let keys = picked.peek().clone();
            let shown = rows.peek().clone();
            if keys.is_empty() {
                return;
            }
            bulk_busy.set(true);
            flash_at.set(None);
            flash.set(Some(Flash {
                ok: true,
                text: format!("Saving {} calls…", keys.len()),
            }));
            spawn(async move {
                let mut outcome = BulkOutcome::default();
                // One request per row, in the list's order: each goes through the
                // review function's own checks and history, and a refusal does not
                // stop the others.
                for (d, c) in keys {
                    let current = shown.iter().find(|i| i.is(&d, &c)).map(|i| i.status);
                    if let Err(why) = change.validate(current) {
                        outcome.failed.push((d, c, why));
                        continue;
                    }
                    match api.change_review(&d, &c, &change).await {
                        Ok(_) => outcome.saved.push((d, c)),
                        Err(e) => outcome.failed.push((d, c, e.to_string())),
                    }
                }
                // The refused ones stay picked, to retry or look at.
                picked.set(
                    outcome
                        .failed
                        .iter()
                        .map(|(d, c, _)| (d.clone(), c.clone()))
                        .collect(),
                );
                flash.set(Some(Flash {
                    ok: outcome.failed.is_empty(),
                    text: outcome.summary(&done, |d, c| {
                        shown
                            .iter()
                            .find(|i| i.is(d, c))
                            .map_or_else(|| "a call".into(), |i| item_name(i, show_dealership))
                    }),
                }));
                bulk_busy.set(false);
                // Reload the list and the badge from the database.
                *changed.write() += 1;
            });
        }
    };

    let api_for_add = api.clone();
    let remember_after = remember.clone();
    let act = move |dealership_id: String,
                    call_id: String,
                    change: Change,
                    open_after: Option<(String, String)>| {
        let api = api.clone();
        let remember = remember_after.clone();
        let current = rows
            .peek()
            .iter()
            .find(|i| i.is(&dealership_id, &call_id))
            .cloned();
        let Some(current) = current else { return };
        let name = item_name(&current, show_dealership);
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
            text: format!("Saving {name}…"),
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
                        text: change.confirmation(&name),
                    }));
                    *changed.write() += 1;
                    // "Resolve and open next": saved, so on to the following item.
                    if let Some((d, c)) = open_after {
                        remember(&d, &c);
                        navigator.push(Route::CallDetail {
                            dealership_id: d,
                            call_id: c,
                            view: ViewState::default(),
                        });
                    }
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

    // A manager picks a report who is not on the dealership: add the assignment
    // (the database checks it is their report and their team's dealership), then
    // assign the review as usual.
    let add_and_assign = {
        let api = api_for_add;
        let act = act.clone();
        move |dealership_id: String, call_id: String, user_id: String, name: String| {
            let api = api.clone();
            let mut act = act.clone();
            flash_at.set(Some(row_key(&dealership_id, &call_id)));
            flash.set(Some(Flash {
                ok: true,
                text: format!("Adding {name} to the dealership…"),
            }));
            spawn(async move {
                match api
                    .assign_dealership_to_report(&user_id, &dealership_id)
                    .await
                {
                    Ok(_) => act(
                        dealership_id,
                        call_id,
                        Change::Assign {
                            to: Some(user_id),
                            name: Some(name),
                        },
                        None,
                    ),
                    Err(e) => flash.set(Some(Flash {
                        ok: false,
                        text: format!("Not saved: {e}"),
                    })),
                }
            });
        }
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
                        None,
                    );
                }
                Key::Character(c) if me_now.role.can_review() => {
                    if let Some(to) = crate::model::review::status_from_shortcut(&c) {
                        e.prevent_default();
                        if to.needs_notes() {
                            composing.set(Some((item.dealership_id, item.call_id, to)));
                        } else {
                            act(
                                item.dealership_id,
                                item.call_id,
                                Change::Status { to, notes: None },
                                None,
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
    let can_bulk = me_now.role.can_review();
    // Only rows still in the list count as picked (a reload may have removed some).
    let picked_now: Vec<(String, String)> = picked()
        .into_iter()
        .filter(|(d, c)| list.iter().any(|i| i.is(d, c)))
        .collect();
    let all_picked = !list.is_empty() && picked_now.len() == list.len();
    let every_key: Vec<(String, String)> = list
        .iter()
        .map(|i| (i.dealership_id.clone(), i.call_id.clone()))
        .collect();

    rsx! {
        div { id: "flash", class: "flash", role: "status", "aria-live": "polite",
            match flash() {
                Some(f) if f.ok => rsx! { span { class: "ok", "{f.text}" } },
                Some(f) => rsx! { span { class: "error", "{f.text}" } },
                None => rsx! {},
            }
        }
        if can_bulk && !picked_now.is_empty() {
            BulkBar {
                count: picked_now.len(),
                me: me_now.clone(),
                team: team.clone(),
                busy: bulk_busy(),
                on_reviewed: {
                    let mut run_bulk = run_bulk.clone();
                    move |_| run_bulk(Change::Status { to: ReviewStatus::Reviewed, notes: None }, "Marked {n} reviewed".to_string())
                },
                on_assign: {
                    let mut run_bulk = run_bulk.clone();
                    move |(to, name): (Option<String>, Option<String>)| {
                        let done = match &name {
                            Some(n) => format!("Assigned {{n}} to {n}"),
                            None => "Unassigned {n}".to_string(),
                        };
                        run_bulk(Change::Assign { to, name }, done)
                    }
                },
                on_clear: move |_| picked.set(vec![]),
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
                        th { class: "pick",
                            if can_bulk {
                                input { r#type: "checkbox", id: "pick-all", checked: all_picked,
                                    "aria-label": "Select every call shown for a bulk action",
                                    onchange: move |e: FormEvent| picked.set(if e.checked() { every_key.clone() } else { vec![] }) }
                            }
                        }
                        th { "Verdict" } th { "Customer and call" } th { "Summary" } th { "Status" } th { "Actions" }
                    } }
                    tbody {
                        for (i, item) in list.iter().enumerate() {
                            QueueRow {
                                key: "{item.dealership_id}/{item.call_id}",
                                item: item.clone(),
                                index: i,
                                selected: i == selected(),
                                can_pick: can_bulk,
                                picked: picked_now.iter().any(|(d, c)| item.is(d, c)),
                                on_pick: {
                                    let (d, c) = (item.dealership_id.clone(), item.call_id.clone());
                                    move |on: bool| {
                                        let now = picked.peek().clone();
                                        let mut next: Vec<(String, String)> = now.into_iter().filter(|(pd, pc)| !(*pd == d && *pc == c)).collect();
                                        if on {
                                            next.push((d.clone(), c.clone()));
                                        }
                                        picked.set(next);
                                    }
                                },
                                note: flash().filter(|_| match &flash_row {
                                    Some(key) => *key == row_key(&item.dealership_id, &item.call_id),
                                    None => flash_at().is_some() && i == selected_now,
                                }),
                                show_dealership,
                                me: me_now.clone(),
                                candidates: team.as_ref().map(|(m, a)| assign_candidates(&me_now, m, a, &item.dealership_id)).unwrap_or_default(),
                                addable: team.as_ref().map(|(m, a)| addable_candidates(&me_now, m, a, &item.dealership_id)).unwrap_or_default(),
                                on_add_and_assign: {
                                    let (d, c) = (item.dealership_id.clone(), item.call_id.clone());
                                    let mut add_and_assign = add_and_assign.clone();
                                    move |(user, name): (String, String)| add_and_assign(d.clone(), c.clone(), user, name)
                                },
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
                                    move |change: Change| act(d.clone(), c.clone(), change, None)
                                },
                                on_resolve_next: {
                                    let (d, c) = (item.dealership_id.clone(), item.call_id.clone());
                                    let next = list.get(i + 1).map(|n| (n.dealership_id.clone(), n.call_id.clone()));
                                    let mut act = act.clone();
                                    move |notes: String| act(d.clone(), c.clone(), Change::Status { to: ReviewStatus::Resolved, notes: Some(notes) }, next.clone())
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
    /// The row has a checkbox for bulk actions (people who can review).
    can_pick: bool,
    picked: bool,
    on_pick: EventHandler<bool>,
    /// The last confirmation or refusal, when it is about this row.
    note: Option<Flash>,
    show_dealership: bool,
    me: Me,
    candidates: Vec<Member>,
    /// A manager's reports not on this dealership (added, then assigned).
    addable: Vec<Member>,
    on_add_and_assign: EventHandler<(String, String)>,
    composing: Option<ReviewStatus>,
    on_select: EventHandler<()>,
    on_compose: EventHandler<Option<ReviewStatus>>,
    on_change: EventHandler<Change>,
    on_resolve_next: EventHandler<String>,
) -> Element {
    let mine = item.assignee_id.as_deref() == Some(me.user_id.as_str());
    let other = item.assignee_id.is_some() && !mine;
    let class = match (selected, other) {
        (true, true) => "queue-row selected assigned-other",
        (true, false) => "queue-row selected",
        (false, true) => "queue-row assigned-other",
        (false, false) => "queue-row",
    };
    let customer = customer_label(item.customer_name.as_deref());
    let phone = phone_label(item.customer_phone_masked.as_deref());
    let when = item_time(&item, show_dealership);
    let reasons = item.reasons.clone().unwrap_or_default();
    let (summary, from_retell) = summary_text(item.call_summary.as_deref(), &reasons);
    let reasons_line = reasons
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
            td { class: "pick",
                if can_pick {
                    input { r#type: "checkbox", class: "pick-box", checked: picked,
                        "aria-label": "Select the call of {customer} for a bulk action",
                        onclick: move |e: MouseEvent| e.stop_propagation(),
                        onchange: move |e: FormEvent| on_pick.call(e.checked()) }
                }
            }
            td { class: "verdict",
                VerdictBadge { verdict: item.verdict.clone() }
                span { class: "score", title: "Score", {item.score.map(|s| s.to_string()).unwrap_or_else(|| "–".into())} }
                if item.label_disagrees == Some(true) {
                    span { class: "badge label-disagrees", title: "A person's label disagrees with this verdict",
                        "Label: {status_label(item.label_verdict.as_deref().unwrap_or_default())}" }
                }
                if item.audit_sample == Some(true) { span { class: "badge audit-sample", title: "A good verdict drawn for labelling", "Audit sample" } }
            }
            td { class: "call",
                Link { to: Route::CallDetail { dealership_id: item.dealership_id.clone(), call_id: item.call_id.clone(), view: ViewState::default() },
                    class: "call-link customer", title: "Call {item.call_id}", "{customer}" }
                div { class: "call-meta muted",
                    if let Some(p) = phone { span { class: "phone", "{p}" } " · " }
                    if let Some(w) = when { span { class: "call-time", "{w}" } }
                }
                if show_dealership { div { class: "dealer muted", title: "{item.dealership_id}", {item.dealership_name.clone().unwrap_or_else(|| item.dealership_id.clone())} } }
            }
            td { class: "summary", title: "{summary}",
                div { class: if from_retell { "clamp retell-summary" } else { "clamp reasons-summary" }, "{summary}" }
                if from_retell && !reasons_line.is_empty() {
                    div { class: "reasons clamp1 muted", title: "{reasons_line}", "{reasons_line}" }
                }
            }
            td { class: "status",
                span { class: "status-text", {humanize(item.status.as_str())} }
                " · "
                span { class: "assignee",
                    if mine { strong { "You" } }
                    else if let Some(name) = item.assignee_name.clone() { span { class: "tag-other", title: "Assigned to someone else", "Assigned to {name}" } }
                    else if other { span { class: "tag-other", "Assigned to someone else" } }
                    else { span { class: "muted", "Unassigned" } }
                }
                " · "
                span { class: "age", title: "Waiting since flagged", {item.age_hours.map(age_label).unwrap_or_default()} }
                if let Some(n) = item.notes.clone().filter(|n| !n.trim().is_empty()) {
                    div { class: "notes-cell clamp1", title: "{n}", "Note: {n}" }
                }
            }
            td { class: "actions-cell",
                ReviewControls { state: item.review(), me, candidates, composing, on_compose, on_change, compact: true, on_resolve_next, addable, on_add_and_assign }
                // A visible copy beside the action; #flash above the list is the live region.
                if let Some(f) = note {
                    div { class: if f.ok { "row-flash ok" } else { "row-flash error" }, "aria-hidden": "true", "{f.text}" }
                }
            }
        }
    }
}
