//! The queue's URL state and its PostgREST query:
//! `/queue?d=&sort=oldest&mine=1&verdict=bad&flags=customer_upset&status=open,escalated&age=over_3d`.
//! Every filter is in the address, so a filtered queue can be shared as a link and
//! survives a reload. Pure and host-tested.

use crate::model::review::ReviewStatus;
use crate::model::review::{unresolved_statuses, AGE_BUCKETS};

/// How the queue is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueSort {
    /// Bad before needs review, lowest score first, then oldest.
    #[default]
    Worst,
    /// Flagged longest ago first.
    Oldest,
    /// Flagged most recently first.
    Newest,
}

impl QueueSort {
    pub const ALL: [QueueSort; 3] = [QueueSort::Worst, QueueSort::Oldest, QueueSort::Newest];

    /// The `sort` value in the URL (`None`: the default, written as nothing).
    fn code(self) -> Option<&'static str> {
        match self {
            QueueSort::Worst => None,
            QueueSort::Oldest => Some("oldest"),
            QueueSort::Newest => Some("newest"),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            QueueSort::Worst => "Worst first",
            QueueSort::Oldest => "Oldest first",
            QueueSort::Newest => "Newest first",
        }
    }

    /// The element id of its chip.
    pub fn id(self) -> &'static str {
        match self {
            QueueSort::Worst => "sort-worst",
            QueueSort::Oldest => "sort-oldest",
            QueueSort::Newest => "sort-newest",
        }
    }

    /// PostgREST's `order`: each is the column order of a `call_reviews_queue_*`
    /// index (newest first reads the oldest-first index backwards).
    fn order(self) -> &'static str {
        match self {
            QueueSort::Worst => {
                "severity.asc,score.asc.nullsfirst,flagged_at.asc,dealership_id.asc,call_id.asc"
            }
            QueueSort::Oldest => "flagged_at.asc,dealership_id.asc,call_id.asc",
            QueueSort::Newest => "flagged_at.desc,dealership_id.desc,call_id.desc",
        }
    }
}

/// The verdicts the queue holds, as its verdict filter offers them: `good` ones are
/// only there as audit samples.
pub const QUEUE_VERDICT_CHOICES: [(&str, &str); 3] = [
    ("bad", "Bad"),
    ("needs_review", "Needs review"),
    ("good", "Audit sample (good)"),
];

/// The queue's URL state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueState {
    pub dealership: Option<String>,
    pub sort: QueueSort,
    /// Only items assigned to me.
    pub mine: bool,
    /// `bad`, `needs_review`, `good` (audit samples); empty: all of them.
    pub verdicts: Vec<String>,
    /// Analyzer flag codes; an item with any of them matches. Empty: any.
    pub flags: Vec<String>,
    /// Review statuses; empty: every unresolved one.
    pub statuses: Vec<ReviewStatus>,
    /// An age bucket of `review_queue.age_bucket` (how long it has waited).
    pub age: Option<String>,
}

/// The most items the queue page loads at once; the badge counts them all.
pub const QUEUE_LIMIT: usize = 200;

pub const QUEUE_COLUMNS: &str = "dealership_id,dealership_name,call_id,status,verdict,score,flags,reasons,assignee_id,assignee_name,notes,flagged_at,age_hours,label_verdict,label_disagrees,audit_sample,call_started_at,customer_name,customer_phone_masked,timezone,call_summary";

/// The queue's calls: flagged verdicts, and good ones drawn for the audit sample
/// (a PostgREST `or` filter).
pub const QUEUE_VERDICTS: &str = "(verdict.in.(needs_review,bad),audit_sample.is.true)";

/// `list` with `value` added, or removed when it was there.
pub fn toggled<T: PartialEq + Clone>(list: &[T], value: T) -> Vec<T> {
    if list.contains(&value) {
        list.iter().filter(|v| **v != value).cloned().collect()
    } else {
        let mut out = list.to_vec();
        out.push(value);
        out
    }
}

impl QueueState {
    /// Whether a filter beyond the dealership and "only mine" is set.
    pub fn is_filtered(&self) -> bool {
        !self.verdicts.is_empty()
            || !self.flags.is_empty()
            || !self.statuses.is_empty()
            || self.age.is_some()
    }

    /// The same dealership, sort and "only mine" without the other filters.
    pub fn without_filters(&self) -> QueueState {
        QueueState {
            dealership: self.dealership.clone(),
            sort: self.sort,
            mine: self.mine,
            ..QueueState::default()
        }
    }

    /// PostgREST filters of the queue: verdict needs_review or bad, or an audit
    /// sample (the view holds only unresolved reviews), narrowed by the URL's filters.
    pub fn filters(&self, me: &crate::model::review::Me) -> Vec<(String, String)> {
        let mut q = vec![("or".to_string(), QUEUE_VERDICTS.to_string())];
        if let Some(d) = &self.dealership {
            q.push(("dealership_id".into(), format!("eq.{d}")));
        }
        // Until the profile has loaded there is no id to filter on.
        if self.mine && !me.user_id.is_empty() {
            q.push(("assignee_id".into(), format!("eq.{}", me.user_id)));
        }
        if !self.verdicts.is_empty() {
            q.push((
                "verdict".into(),
                format!("in.({})", self.verdicts.join(",")),
            ));
        }
        if !self.flags.is_empty() {
            q.push(("flags".into(), format!("ov.{{{}}}", self.flags.join(","))));
        }
        if !self.statuses.is_empty() {
            let codes: Vec<&str> = self.statuses.iter().map(|s| s.as_str()).collect();
            q.push(("status".into(), format!("in.({})", codes.join(","))));
        }
        if let Some(age) = &self.age {
            q.push(("age_bucket".into(), format!("eq.{age}")));
        }
        q
    }

    pub fn list_query(&self, me: &crate::model::review::Me) -> Vec<(String, String)> {
        let mut q = self.filters(me);
        q.push(("select".into(), QUEUE_COLUMNS.into()));
        q.push(("order".into(), self.sort.order().into()));
        q.push(("limit".into(), QUEUE_LIMIT.to_string()));
        q
    }

    pub fn to_query_string(&self) -> String {
        let mut parts: Vec<(&str, String)> = Vec::new();
        if let Some(d) = &self.dealership {
            parts.push(("d", d.clone()));
        }
        if let Some(code) = self.sort.code() {
            parts.push(("sort", code.into()));
        }
        if self.mine {
            parts.push(("mine", "1".into()));
        }
        if !self.verdicts.is_empty() {
            parts.push(("verdict", self.verdicts.join(",")));
        }
        if !self.flags.is_empty() {
            parts.push(("flags", self.flags.join(",")));
        }
        if !self.statuses.is_empty() {
            let codes: Vec<&str> = self.statuses.iter().map(|s| s.as_str()).collect();
            parts.push(("status", codes.join(",")));
        }
        if let Some(a) = &self.age {
            parts.push(("age", a.clone()));
        }
        crate::state::querystring::write(parts)
    }

    /// Reads the URL; unknown values are dropped (a typo never becomes a filter
    /// PostgREST would refuse).
    pub fn parse(query: &str) -> QueueState {
        let mut state = QueueState::default();
        let list = |value: &str| -> Vec<String> {
            value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect()
        };
        for (key, value) in crate::state::querystring::pairs(query) {
            match key.as_str() {
                "d" if !value.is_empty() && value != "all" => state.dealership = Some(value),
                "sort" => {
                    state.sort = QueueSort::ALL
                        .into_iter()
                        .find(|s| s.code() == Some(value.as_str()))
                        .unwrap_or_default()
                }
                "mine" if value == "1" => state.mine = true,
                "verdict" => {
                    state.verdicts = list(&value)
                        .into_iter()
                        .filter(|v| QUEUE_VERDICT_CHOICES.iter().any(|(c, _)| c == v))
                        .collect()
                }
                "flags" => {
                    state.flags = list(&value)
                        .into_iter()
                        .filter(|f| domain::analysis::Flag::parse(f).is_some())
                        .collect()
                }
                "status" => {
                    state.statuses = list(&value)
                        .into_iter()
                        .filter_map(|v| unresolved_statuses().into_iter().find(|s| s.as_str() == v))
                        .collect()
                }
                "age" if AGE_BUCKETS.iter().any(|(k, _)| *k == value) => state.age = Some(value),
                _ => {}
            }
        }
        state
    }
}

impl From<&str> for QueueState {
    fn from(query: &str) -> Self {
        QueueState::parse(query)
    }
}

impl std::fmt::Display for QueueState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_query_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::review::{Me, Role};

    fn me() -> Me {
        Me {
            user_id: "n".into(),
            full_name: String::new(),
            role: Role::Csm,
        }
    }

    fn value<'a>(q: &'a [(String, String)], key: &str) -> Vec<&'a str> {
        q.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    #[test]
    fn the_queue_asks_for_flagged_unresolved_calls_in_the_chosen_order() {
        let worst = QueueState::default().list_query(&me());
        assert!(worst.contains(&("or".into(), QUEUE_VERDICTS.into())));
        let order = value(&worst, "order")[0];
        assert!(order.starts_with("severity.asc,score.asc"), "{order}");
        let oldest = QueueState {
            sort: QueueSort::Oldest,
            mine: true,
            dealership: Some("honda-quincy".into()),
            ..QueueState::default()
        };
        let q = oldest.list_query(&me());
        assert_eq!(
            value(&q, "order"),
            vec!["flagged_at.asc,dealership_id.asc,call_id.asc"]
        );
        assert_eq!(value(&q, "assignee_id"), vec!["eq.n"]);
        assert_eq!(value(&q, "dealership_id"), vec!["eq.honda-quincy"]);
        let newest = QueueState {
            sort: QueueSort::Newest,
            ..QueueState::default()
        };
        assert_eq!(
            value(&newest.list_query(&me()), "order"),
            vec!["flagged_at.desc,dealership_id.desc,call_id.desc"]
        );
        assert_eq!(QueueState::default().to_query_string(), "");
    }

    #[test]
    fn every_queue_filter_goes_to_postgrest_and_round_trips_through_the_url() {
        let state = QueueState {
            dealership: Some("honda-quincy".into()),
            sort: QueueSort::Newest,
            mine: false,
            verdicts: vec!["bad".into(), "good".into()],
            flags: vec!["customer_upset".into(), "handoff_failed".into()],
            statuses: vec![ReviewStatus::Open, ReviewStatus::Escalated],
            age: Some("over_3d".into()),
        };
        let q = state.filters(&me());
        assert_eq!(value(&q, "verdict"), vec!["in.(bad,good)"]);
        assert_eq!(
            value(&q, "flags"),
            vec!["ov.{customer_upset,handoff_failed}"]
        );
        assert_eq!(value(&q, "status"), vec!["in.(open,escalated)"]);
        assert_eq!(value(&q, "age_bucket"), vec!["eq.over_3d"]);
        assert_eq!(
            value(&q, "or"),
            vec![QUEUE_VERDICTS],
            "the filters narrow the queue, never widen it"
        );
        let written = state.to_query_string();
        assert_eq!(
            written,
            "d=honda-quincy&sort=newest&verdict=bad,good&flags=customer_upset,handoff_failed&status=open,escalated&age=over_3d"
        );
        assert_eq!(QueueState::parse(&written), state);
        assert!(state.is_filtered());
        let cleared = state.without_filters();
        assert!(!cleared.is_filtered());
        assert_eq!(cleared.dealership.as_deref(), Some("honda-quincy"));
        assert_eq!(cleared.sort, QueueSort::Newest);
    }

    #[test]
    fn unknown_queue_filter_values_are_dropped() {
        let state = QueueState::parse(
            "verdict=bad,awful&flags=customer_upset,x)&status=resolved,open&age=forever&sort=sideways",
        );
        assert_eq!(state.verdicts, vec!["bad"]);
        assert_eq!(state.flags, vec!["customer_upset"]);
        assert_eq!(
            state.statuses,
            vec![ReviewStatus::Open],
            "resolved is never in the queue"
        );
        assert_eq!(state.age, None);
        assert_eq!(state.sort, QueueSort::Worst);
    }

    #[test]
    fn a_chip_toggles_its_value_in_and_out_of_a_filter() {
        let on = toggled(&["bad".to_string()], "good".to_string());
        assert_eq!(on, vec!["bad", "good"]);
        assert_eq!(toggled(&on, "bad".to_string()), vec!["good"]);
    }
}
