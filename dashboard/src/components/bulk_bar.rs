//! The bar above a review list once rows are picked: how many, "Mark reviewed",
//! and "Claim" (a CSM) or "Assign to…" (a manager: himself or a direct report), and
//! "Clear". The list runs each action row by row ([`crate::model::bulk`]).

use dioxus::prelude::*;

use crate::model::review::{Me, Member, Role, Team};

#[component]
pub fn BulkBar(
    count: usize,
    me: Me,
    /// A manager's team, for "Assign to…".
    team: Option<Team>,
    /// A bulk action is on its way: the buttons wait.
    busy: bool,
    on_reviewed: EventHandler<()>,
    /// (assignee id, name); `None`: unassign.
    on_assign: EventHandler<(Option<String>, Option<String>)>,
    on_clear: EventHandler<()>,
) -> Element {
    let people: Vec<Member> = match (me.role, team) {
        (Role::Manager, Some((members, _))) => {
            let mut people: Vec<Member> = members
                .into_iter()
                .filter(|m| {
                    m.user_id == me.user_id || m.manager_id.as_deref() == Some(me.user_id.as_str())
                })
                .collect();
            people.sort_by(|a, b| a.full_name.cmp(&b.full_name));
            people
        }
        _ => vec![],
    };
    let (my_id, my_name) = (me.user_id.clone(), me.full_name.clone());
    rsx! {
        div { id: "bulk-bar", class: "bulk-bar", role: "group", "aria-label": "Bulk actions",
            strong { id: "bulk-count", "{count} selected" }
            button { id: "bulk-reviewed", class: "act", disabled: busy,
                title: "Mark every selected call reviewed, one by one",
                onclick: move |_| on_reviewed.call(()), "Mark reviewed" }
            if me.role == Role::Csm {
                button { id: "bulk-claim", class: "act", disabled: busy,
                    onclick: move |_| on_assign.call((Some(my_id.clone()), Some(my_name.clone()))), "Claim" }
            }
            if me.role == Role::Manager {
                label { class: "assign",
                    span { class: "sr-only", "Assign the selected calls to" }
                    select { id: "bulk-assign", disabled: busy, value: "",
                        onchange: {
                            let people = people.clone();
                            move |e: FormEvent| {
                                let id = e.value();
                                if id.is_empty() {
                                    return;
                                }
                                if id == "none" {
                                    on_assign.call((None, None));
                                } else {
                                    let name = people.iter().find(|m| m.user_id == id).map(|m| m.full_name.clone());
                                    on_assign.call((Some(id), name));
                                }
                            }
                        },
                        option { value: "", selected: true, "Assign to…" }
                        option { value: "none", "Unassigned" }
                        for m in people.iter() {
                            option { key: "{m.user_id}", value: "{m.user_id}", "{m.full_name}" }
                        }
                    }
                }
            }
            button { id: "bulk-clear", class: "link", onclick: move |_| on_clear.call(()), "Clear selection" }
        }
    }
}
