//! The review workflow as the browser sees it: states and the transitions the
//! database allows (`domain::review`'s table, so the UI only offers what
//! `review_call` would accept), which role may do what, keyboard
//! shortcuts, optimistic changes with their rollback (the queue's URL state is
//! `state/queue_view.rs`).
//! The database stays the judge: everything here only decides what to *show*.
//! Pure and host-tested.

use serde::Deserialize;

use crate::model::format::humanize;

/// The review states are `domain`'s (the `review_status` enum of Postgres); the
/// words, keys and notes rule the dashboard shows for them are [`StatusUi`].
pub use domain::review::ReviewStatus;

/// The queue's URL state and query live in their own module; re-exported here,
/// where the routes and views have always found them.
pub use crate::state::queue_view::{QueueState, QUEUE_VERDICTS};

/// How the dashboard presents a review status.
pub trait StatusUi: Sized {
    /// The button that moves a review here.
    fn action_label(self) -> &'static str;
    /// The button's word in the queue's compact action bar (the full label is its
    /// tooltip).
    fn short_label(self) -> &'static str;
    /// What the confirmation says once the database accepted the change, with
    /// `{call}` for the call's name ("this call", "the call from Dana at 3:05 PM").
    fn done_label(self) -> &'static str;
    /// Notes are required to reach these (the database refuses blank notes too).
    fn needs_notes(self) -> bool;
    /// The keyboard shortcut of the action that moves a review here.
    fn shortcut(self) -> char;
}

impl StatusUi for ReviewStatus {
    fn action_label(self) -> &'static str {
        match self {
            ReviewStatus::Open => "Re-open",
            ReviewStatus::Reviewed => "Mark reviewed",
            ReviewStatus::FollowUpNeeded => "Follow-up needed",
            ReviewStatus::Resolved => "Resolve",
            ReviewStatus::Escalated => "Escalate",
        }
    }

    fn short_label(self) -> &'static str {
        match self {
            ReviewStatus::Open => "Re-open",
            ReviewStatus::Reviewed => "Reviewed",
            ReviewStatus::FollowUpNeeded => "Follow-up",
            ReviewStatus::Resolved => "Resolve",
            ReviewStatus::Escalated => "Escalate",
        }
    }

    fn done_label(self) -> &'static str {
        match self {
            ReviewStatus::Open => "Re-opened {call}",
            ReviewStatus::Reviewed => "Marked {call} reviewed",
            ReviewStatus::FollowUpNeeded => "Marked {call} as needing follow-up",
            ReviewStatus::Resolved => "Resolved {call}",
            ReviewStatus::Escalated => "Escalated {call}",
        }
    }

    fn needs_notes(self) -> bool {
        self.requires_notes()
    }

    fn shortcut(self) -> char {
        match self {
            ReviewStatus::Open => 'o',
            ReviewStatus::Reviewed => 'r',
            ReviewStatus::FollowUpNeeded => 'f',
            ReviewStatus::Resolved => 's',
            ReviewStatus::Escalated => 'e',
        }
    }
}

/// The status whose action has this key.
pub fn status_from_shortcut(key: &str) -> Option<ReviewStatus> {
    ReviewStatus::ALL
        .into_iter()
        .find(|s| key.len() == 1 && key.starts_with(s.shortcut()))
}

/// Where a review may go from `from` (`None`: the call has no review yet):
/// `domain`'s table, the one `private.review_transition_allowed` has (compared pair
/// by pair with the database by the end-to-end test `review_transitions`); the same
/// state is never offered.
pub fn allowed_targets(from: Option<ReviewStatus>) -> Vec<ReviewStatus> {
    ReviewStatus::targets(from)
}

/// The signed-in user's role as `profiles` says (what the UI shows; RLS decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    Csm,
    Manager,
    Admin,
    /// No profile (yet): treated like a CSM without dealerships.
    #[default]
    Unknown,
}

impl Role {
    pub fn parse(s: &str) -> Role {
        match s {
            "csm" => Role::Csm,
            "manager" => Role::Manager,
            "admin" => Role::Admin,
            _ => Role::Unknown,
        }
    }

    /// Whether the review functions accept this role at all (admins are read-only).
    pub fn can_review(self) -> bool {
        matches!(self, Role::Csm | Role::Manager)
    }

    /// Managers (and admins, read-only) get the team overview.
    pub fn sees_team(self) -> bool {
        matches!(self, Role::Manager | Role::Admin)
    }
}

/// Who is signed in, for deciding which controls to show.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Me {
    pub user_id: String,
    pub full_name: String,
    pub role: Role,
}

/// What may be done about a review's assignee, given who holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignChoice {
    /// A CSM takes an unassigned review.
    Claim,
    /// A CSM gives back their own review.
    Release,
    /// A manager picks anyone on the team who can see the dealership (or nobody).
    Pick,
    /// Assigned to someone else, and this role cannot take it over.
    None,
}

pub fn assign_choice(me: &Me, assignee: Option<&str>) -> AssignChoice {
    match (me.role, assignee) {
        (Role::Manager, _) => AssignChoice::Pick,
        (Role::Csm, None) => AssignChoice::Claim,
        (Role::Csm, Some(a)) if a == me.user_id => AssignChoice::Release,
        _ => AssignChoice::None,
    }
}

/// A person a manager can hand work to.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Member {
    pub user_id: String,
    pub full_name: String,
    pub role: String,
    pub manager_id: Option<String>,
}

/// The people a manager may assign a review of `dealership` to: themself (they see
/// every dealership of their team) and each direct report assigned to it.
/// `assignments` are (user id, dealership id) rows. Mirrors `assign_review`.
pub fn assign_candidates(
    me: &Me,
    members: &[Member],
    assignments: &[(String, String)],
    dealership: &str,
) -> Vec<Member> {
    if me.role != Role::Manager {
        return vec![];
    }
    let mut out: Vec<Member> = members
        .iter()
        .filter(|m| {
            m.user_id == me.user_id
                || (m.manager_id.as_deref() == Some(me.user_id.as_str())
                    && assignments
                        .iter()
                        .any(|(u, d)| *u == m.user_id && d == dealership))
        })
        .cloned()
        .collect();
    out.sort_by(|a, b| a.full_name.cmp(&b.full_name));
    out
}

/// The CSMs who report to a manager but are not assigned to `dealership`: the
/// reassignment picker offers them too, with adding the assignment first
/// (`assign_dealership_to_report`). Empty for everyone but managers.
pub fn addable_candidates(
    me: &Me,
    members: &[Member],
    assignments: &[(String, String)],
    dealership: &str,
) -> Vec<Member> {
    if me.role != Role::Manager {
        return vec![];
    }
    let mut out: Vec<Member> = members
        .iter()
        .filter(|m| {
            m.role == "csm"
                && m.manager_id.as_deref() == Some(me.user_id.as_str())
                && !assignments
                    .iter()
                    .any(|(u, d)| *u == m.user_id && d == dealership)
        })
        .cloned()
        .collect();
    out.sort_by(|a, b| a.full_name.cmp(&b.full_name));
    out
}

/// A manager's team: the people and their (user id, dealership id) assignments.
pub type Team = (Vec<Member>, Vec<(String, String)>);

/// The part of a queue item an action changes (`Default`: no review yet).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReviewState {
    pub status: Option<ReviewStatus>,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub notes: Option<String>,
}

/// A change the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Status {
        to: ReviewStatus,
        notes: Option<String>,
    },
    Assign {
        to: Option<String>,
        name: Option<String>,
    },
}

impl Change {
    /// Checked before anything is sent, with the database's own rule, so the common
    /// mistake (no note) does not need a round trip.
    pub fn validate(&self, current: Option<ReviewStatus>) -> Result<(), String> {
        match self {
            Change::Status { to, notes } => {
                if !allowed_targets(current).contains(to) {
                    return Err(format!(
                        "A review cannot move from {} to {}.",
                        current.map(|s| s.as_str()).unwrap_or("no review"),
                        to.as_str()
                    ));
                }
                let blank = notes.as_deref().map(str::trim).unwrap_or("").is_empty();
                if to.needs_notes() && blank {
                    return Err(format!(
                        "Write a note first: it is required to mark a review {}.",
                        to.as_str().replace('_', " ")
                    ));
                }
                Ok(())
            }
            Change::Assign { .. } => Ok(()),
        }
    }

    /// The state shown while the request is on its way.
    pub fn apply(&self, state: &ReviewState) -> ReviewState {
        match self {
            Change::Status { to, notes } => ReviewState {
                status: Some(*to),
                notes: notes
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .or_else(|| state.notes.clone()),
                ..state.clone()
            },
            Change::Assign { to, name } => ReviewState {
                assignee_id: to.clone(),
                assignee_name: name.clone(),
                ..state.clone()
            },
        }
    }

    /// The visible confirmation once the database accepted it; `call` names the
    /// call ([`crate::model::call_name::call_name`], or "this call" on its own page).
    pub fn confirmation(&self, call: &str) -> String {
        match self {
            Change::Status { to, .. } => format!("{}.", to.done_label().replace("{call}", call)),
            Change::Assign { name: Some(n), .. } => format!("Assigned {call} to {n}."),
            Change::Assign { name: None, .. } => format!("Unassigned {call}."),
        }
    }
}

/// A list changed optimistically, with what is needed to put it back.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimistic<T> {
    pub items: Vec<T>,
    /// The item as it was and where it stood.
    pub undo: Option<(usize, T)>,
}

/// Replaces the item `matches` finds with `change(item)`; items for which `keep`
/// returns false leave the list (a resolved review leaves the queue).
pub fn optimistic<T: Clone>(
    items: &[T],
    matches: impl Fn(&T) -> bool,
    change: impl Fn(&T) -> T,
    keep: impl Fn(&T) -> bool,
) -> Optimistic<T> {
    let mut out = items.to_vec();
    let Some(index) = out.iter().position(&matches) else {
        return Optimistic {
            items: out,
            undo: None,
        };
    };
    let before = out[index].clone();
    let after = change(&before);
    if keep(&after) {
        out[index] = after;
    } else {
        out.remove(index);
    }
    Optimistic {
        items: out,
        undo: Some((index, before)),
    }
}

/// Puts the item back where it was after the database refused the change.
pub fn rollback<T: Clone>(items: &[T], matches: impl Fn(&T) -> bool, undo: (usize, T)) -> Vec<T> {
    let (index, before) = undo;
    let mut out = items.to_vec();
    match out.iter().position(matches) {
        Some(i) => out[i] = before,
        None => out.insert(index.min(out.len()), before),
    }
    out
}

/// "3 h", "2 d": how long a call has been waiting.
pub fn age_label(hours: f64) -> String {
    if hours < 1.0 {
        "< 1 h".into()
    } else if hours < 48.0 {
        format!("{:.0} h", hours.floor())
    } else {
        format!("{:.0} d", (hours / 24.0).floor())
    }
}

/// One line of a call's history, for people.
pub fn history_text(
    actor: Option<&str>,
    from: Option<&str>,
    to: &str,
    to_assignee: Option<&str>,
    status_changed: bool,
    assignee_changed: bool,
) -> String {
    let who = actor.unwrap_or("System");
    let words = status_label;
    if !status_changed && assignee_changed {
        return match to_assignee {
            Some(name) if Some(name) == actor => format!("{who} took it"),
            Some(name) => format!("{who} assigned it to {name}"),
            None => format!("{who} unassigned it"),
        };
    }
    match (actor, from) {
        (None, None) => "Opened automatically".into(),
        (_, None) => format!("{who} set it to {}", words(to)),
        (_, Some(f)) if to == "open" => format!("{who} re-opened it (was {})", words(f)),
        (_, Some(f)) => format!(
            "{who} changed the status from {} to {}",
            words(f),
            words(to)
        ),
    }
}

/// A review status or verdict code as people read it ("follow_up_needed" -> "Follow-up
/// needed"); unknown codes are humanized.
pub fn status_label(code: &str) -> String {
    match code {
        "open" => "Open".into(),
        "reviewed" => "Reviewed".into(),
        "follow_up_needed" => "Follow-up needed".into(),
        "resolved" => "Resolved".into(),
        "escalated" => "Escalated".into(),
        "needs_review" => "Needs review".into(),
        "good" => "Good".into(),
        "bad" => "Bad".into(),
        other => humanize(other),
    }
}

/// The caption over the review panel's stored note, if it needs one. Re-opening keeps the review's
/// notes (the database only replaces them with new ones) and the dashboard never
/// sends a note with a re-open, so on an open review they are the last resolution's
/// or escalation's words: labelled as such, not as the current note. The full trail
/// is the history (review_events).
pub fn notes_caption(status: Option<ReviewStatus>, has_notes: bool) -> Option<&'static str> {
    (status == Some(ReviewStatus::Open) && has_notes).then_some("Last note (before re-open)")
}

/// A history note with the codes the database writes into it ("the analysis verdict
/// was needs_review.") in words.
pub fn note_text(note: &str) -> String {
    match note.split_once("verdict was ") {
        Some((head, rest)) => {
            let code: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            format!(
                "{head}verdict was {}{}",
                status_label(&code),
                &rest[code.len()..]
            )
        }
        None => note.to_string(),
    }
}

/// Age buckets of the open backlog, as `review_queue.age_bucket` names them.
pub const AGE_BUCKETS: [(&str, &str); 3] = [
    ("under_24h", "< 24 h"),
    ("1_to_3d", "1–3 d"),
    ("over_3d", "> 3 d"),
];

/// The statuses an unresolved review can have (the queue never holds resolved ones).
pub fn unresolved_statuses() -> Vec<ReviewStatus> {
    ReviewStatus::ALL
        .into_iter()
        .filter(|s| *s != ReviewStatus::Resolved)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::ReviewStatus::*;
    use super::*;

    #[test]
    fn an_open_review_labels_its_kept_note_as_from_before_the_re_open() {
        assert_eq!(
            notes_caption(Some(ReviewStatus::Open), true),
            Some("Last note (before re-open)")
        );
        assert_eq!(notes_caption(Some(ReviewStatus::Open), false), None);
        assert_eq!(notes_caption(Some(ReviewStatus::Resolved), true), None);
        assert_eq!(notes_caption(None, false), None);
    }

    #[test]
    fn resolving_or_escalating_without_a_note_is_refused_before_sending() {
        let blank = Change::Status {
            to: Resolved,
            notes: Some("  ".into()),
        };
        assert!(blank.validate(Some(Open)).unwrap_err().contains("note"));
        let escalate = Change::Status {
            to: Escalated,
            notes: None,
        };
        assert!(escalate.validate(Some(Open)).is_err());
        let reviewed = Change::Status {
            to: Reviewed,
            notes: None,
        };
        assert_eq!(reviewed.validate(Some(Open)), Ok(()));
        let with_note = Change::Status {
            to: Resolved,
            notes: Some("called back".into()),
        };
        assert_eq!(with_note.validate(Some(Open)), Ok(()));
        assert!(
            with_note.validate(Some(Resolved)).is_err(),
            "same state is refused"
        );
    }

    #[test]
    fn admins_see_no_review_actions_and_csms_only_claim_or_release() {
        let admin = Me {
            user_id: "a".into(),
            full_name: String::new(),
            role: Role::Admin,
        };
        assert!(!admin.role.can_review());
        assert_eq!(assign_choice(&admin, None), AssignChoice::None);
        let csm = Me {
            user_id: "n".into(),
            full_name: String::new(),
            role: Role::Csm,
        };
        assert!(csm.role.can_review());
        assert_eq!(assign_choice(&csm, None), AssignChoice::Claim);
        assert_eq!(assign_choice(&csm, Some("n")), AssignChoice::Release);
        assert_eq!(assign_choice(&csm, Some("s")), AssignChoice::None);
        let manager = Me {
            user_id: "m".into(),
            full_name: String::new(),
            role: Role::Manager,
        };
        assert_eq!(assign_choice(&manager, Some("s")), AssignChoice::Pick);
        assert!(manager.role.sees_team() && admin.role.sees_team() && !csm.role.sees_team());
    }

    #[test]
    fn a_manager_can_assign_to_himself_and_to_reports_assigned_to_the_dealership() {
        let me = Me {
            user_id: "m".into(),
            full_name: String::new(),
            role: Role::Manager,
        };
        let member = |id: &str, name: &str, manager: Option<&str>| Member {
            user_id: id.into(),
            full_name: name.into(),
            role: "csm".into(),
            manager_id: manager.map(str::to_string),
        };
        let members = vec![
            member("n", "Nora North", Some("m")),
            member("s", "Sam South", Some("m")),
            member("m", "Morgan Manager", None),
            member("x", "Xavier Elsewhere", Some("other")),
        ];
        let assignments = vec![
            ("n".to_string(), "honda-quincy".to_string()),
            ("s".to_string(), "ford-weymouth".to_string()),
            ("x".to_string(), "honda-quincy".to_string()),
        ];
        let names: Vec<String> = assign_candidates(&me, &members, &assignments, "honda-quincy")
            .into_iter()
            .map(|m| m.full_name)
            .collect();
        assert_eq!(names, vec!["Morgan Manager", "Nora North"]);
        let csm = Me {
            user_id: "n".into(),
            full_name: String::new(),
            role: Role::Csm,
        };
        assert!(assign_candidates(&csm, &members, &assignments, "honda-quincy").is_empty());
    }

    #[test]
    fn a_manager_is_offered_every_report_not_on_the_dealership_to_add() {
        let me = Me {
            user_id: "m".into(),
            full_name: String::new(),
            role: Role::Manager,
        };
        let member = |id: &str, name: &str, role: &str, manager: Option<&str>| Member {
            user_id: id.into(),
            full_name: name.into(),
            role: role.into(),
            manager_id: manager.map(str::to_string),
        };
        let members = vec![
            member("n", "Nora North", "csm", Some("m")),
            member("s", "Sam South", "csm", Some("m")),
            member("m", "Morgan Manager", "manager", None),
            member("x", "Xavier Elsewhere", "csm", Some("other")),
        ];
        let assignments = vec![
            ("n".to_string(), "honda-quincy".to_string()),
            ("s".to_string(), "ford-weymouth".to_string()),
        ];
        let names = |d: &str| -> Vec<String> {
            addable_candidates(&me, &members, &assignments, d)
                .into_iter()
                .map(|m| m.full_name)
                .collect()
        };
        assert_eq!(names("honda-quincy"), vec!["Sam South"]);
        assert_eq!(names("kia-hingham"), vec!["Nora North", "Sam South"]);
        let csm = Me {
            role: Role::Csm,
            ..me.clone()
        };
        assert!(addable_candidates(&csm, &members, &assignments, "honda-quincy").is_empty());
    }

    #[test]
    fn an_optimistic_change_is_shown_at_once_and_rolled_back_in_place_on_refusal() {
        let items = vec![("a", Open), ("b", Open), ("c", Reviewed)];
        let changed = optimistic(
            &items,
            |i| i.0 == "b",
            |i| (i.0, Resolved),
            |i| i.1 != Resolved,
        );
        assert_eq!(
            changed.items,
            vec![("a", Open), ("c", Reviewed)],
            "a resolved item leaves the queue at once"
        );
        let restored = rollback(&changed.items, |i| i.0 == "b", changed.undo.unwrap());
        assert_eq!(restored, items, "refused: it is back where it was");

        let reviewed = optimistic(&items, |i| i.0 == "a", |i| (i.0, Reviewed), |_| true);
        assert_eq!(reviewed.items[0], ("a", Reviewed));
        let restored = rollback(&reviewed.items, |i| i.0 == "a", reviewed.undo.unwrap());
        assert_eq!(restored, items);

        let missing = optimistic(&items, |i| i.0 == "zz", |i| *i, |_| true);
        assert_eq!(missing.undo, None);
    }

    #[test]
    fn the_optimistic_state_keeps_old_notes_unless_new_ones_are_written() {
        let state = ReviewState {
            status: Some(Open),
            assignee_id: None,
            assignee_name: None,
            notes: Some("first".into()),
        };
        let reviewed = Change::Status {
            to: Reviewed,
            notes: None,
        }
        .apply(&state);
        assert_eq!(reviewed.notes.as_deref(), Some("first"));
        assert_eq!(reviewed.status, Some(Reviewed));
        let resolved = Change::Status {
            to: Resolved,
            notes: Some("done".into()),
        }
        .apply(&state);
        assert_eq!(resolved.notes.as_deref(), Some("done"));
        let assigned = Change::Assign {
            to: Some("s".into()),
            name: Some("Sam South".into()),
        };
        assert_eq!(
            assigned.apply(&state).assignee_name.as_deref(),
            Some("Sam South")
        );
        assert_eq!(
            assigned.confirmation("this call"),
            "Assigned this call to Sam South."
        );
        let resolve = Change::Status {
            to: ReviewStatus::Resolved,
            notes: Some("done".into()),
        };
        assert_eq!(
            resolve.confirmation("the call from Dana at 3:05 PM"),
            "Resolved the call from Dana at 3:05 PM."
        );
        for status in ReviewStatus::ALL {
            assert!(
                status.done_label().contains("{call}"),
                "{status:?} names the call"
            );
        }
    }

    #[test]
    fn each_action_has_its_own_shortcut_key() {
        let keys: std::collections::HashSet<char> =
            ReviewStatus::ALL.iter().map(|s| s.shortcut()).collect();
        assert_eq!(keys.len(), 5);
        assert!(!keys.contains(&'j') && !keys.contains(&'k') && !keys.contains(&'c'));
        assert_eq!(status_from_shortcut("s"), Some(Resolved));
        assert_eq!(status_from_shortcut("x"), None);
        assert_eq!(status_from_shortcut("so"), None);
    }

    #[test]
    fn history_lines_say_who_did_what() {
        assert_eq!(
            history_text(None, None, "open", None, true, false),
            "Opened automatically"
        );
        assert_eq!(
            history_text(
                Some("Nora North"),
                Some("open"),
                "resolved",
                None,
                true,
                false
            ),
            "Nora North changed the status from Open to Resolved"
        );
        assert_eq!(
            note_text("Opened automatically: the analysis verdict was needs_review."),
            "Opened automatically: the analysis verdict was Needs review."
        );
        assert_eq!(note_text("called back, fixed"), "called back, fixed");
        assert_eq!(
            history_text(
                Some("Nora North"),
                Some("resolved"),
                "open",
                None,
                true,
                false
            ),
            "Nora North re-opened it (was Resolved)"
        );
        assert_eq!(
            history_text(
                Some("Nora North"),
                Some("open"),
                "open",
                Some("Nora North"),
                false,
                true
            ),
            "Nora North took it"
        );
        assert_eq!(
            history_text(
                Some("Morgan Manager"),
                Some("open"),
                "open",
                Some("Sam South"),
                false,
                true
            ),
            "Morgan Manager assigned it to Sam South"
        );
    }

    #[test]
    fn ages_read_in_hours_then_days() {
        assert_eq!(age_label(0.5), "< 1 h");
        assert_eq!(age_label(5.7), "5 h");
        assert_eq!(age_label(47.9), "47 h");
        assert_eq!(age_label(73.0), "3 d");
    }
}
