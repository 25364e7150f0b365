//! The manager's team overview as URL state and queries: filters (CSM, dealership,
//! period) kept in the query string, the RPC arguments of the overview functions,
//! the PostgREST filters of the drill-down lists (unresolved items, review
//! activity) and the geometry of the flagged-vs-resolved chart. The numbers come
//! from SQL (`team_csm_stats`, `team_dealership_stats`, `team_daily_flow`); this
//! only asks for them. Pure and host-tested.

use serde_json::{json, Value};

use crate::model::review::{ReviewStatus, AGE_BUCKETS};
use crate::model::time::{iso_from_ms, Window};
use crate::state::call_list::CSV_LIMIT;

/// What the activity drill-down lists.
pub const ACTIVITY_KINDS: [&str; 3] = ["done", "resolved", "escalated"];

/// `/team?csm=&d=&range=&from=&to=`, plus `age` and `status` (unresolved list) or
/// `kind` (activity list) for the drill-downs. The period defaults to the last 7
/// days; the unresolved list also takes `range=all` (flagged at any time), which
/// the backlog numbers link to, since they count the backlog as of now.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamState {
    pub dealership: Option<String>,
    /// A user id; `unassigned` in the unresolved list means nobody's.
    pub csm: Option<String>,
    pub window: Window,
    pub age: Option<String>,
    pub kind: Option<String>,
    /// Unresolved list: only these review statuses (empty: every unresolved one).
    pub statuses: Vec<ReviewStatus>,
    /// Unresolved list: items flagged at any time, not only in `window`.
    pub all_time: bool,
}

impl Default for TeamState {
    fn default() -> Self {
        TeamState {
            dealership: None,
            csm: None,
            window: Window::Last7d,
            age: None,
            kind: None,
            statuses: Vec::new(),
            all_time: false,
        }
    }
}

pub const UNASSIGNED: &str = "unassigned";

const UNRESOLVED_COLUMNS: &str = "dealership_id,dealership_name,call_id,status,verdict,score,flags,reasons,assignee_id,assignee_name,notes,flagged_at,age_hours,call_started_at,customer_name,customer_phone_masked,timezone,call_summary";
// Columns of `review_queue_export` (the free-text ones formula-safe, migration
// 20261202000700), which filters and orders like `review_queue`.
const UNRESOLVED_CSV_COLUMNS: &str = "dealership_id,dealership_name,call_id,status,verdict,score,flags,assignee_name,flagged_at,age_hours,age_bucket,notes,flagged_local_time,timezone";
/// The unresolved list's order, on screen and in its CSV: oldest first.
const UNRESOLVED_ORDER: &str = "flagged_at.asc,dealership_id.asc,call_id.asc";
/// The unresolved export's number columns, left as they are by the formula guard.
pub const UNRESOLVED_CSV_NUMERIC: &[&str] = &["score", "age_hours"];
const ACTIVITY_COLUMNS: &str =
    "id,dealership_id,call_id,created_at,actor_name,from_status,to_status,notes,verdict,score";

impl TeamState {
    /// The filters only, without a drill-down: what the overview links carry.
    pub fn filters_only(&self) -> TeamState {
        TeamState {
            age: None,
            kind: None,
            statuses: Vec::new(),
            all_time: false,
            ..self.clone()
        }
    }

    /// The backlog as of now behind an overview number: every unresolved item
    /// whenever it was flagged, so the list has as many rows as the number says.
    pub fn backlog(&self) -> TeamState {
        TeamState {
            all_time: true,
            ..self.filters_only()
        }
    }

    pub fn with_dealership(&self, dealership: Option<String>) -> TeamState {
        TeamState {
            dealership,
            ..self.clone()
        }
    }

    /// The period's `[from, to)`: a custom range's days are local days of `zone`
    /// (the screen's zone: the dealership's, or the viewer's for all of them).
    fn period(&self, now_ms: f64, zone: &str) -> (String, String) {
        let (start, end) = self
            .window
            .bounds_in_zone_ms(now_ms, |t| crate::platform::zone_offset_ms(zone, t));
        (iso_from_ms(start), iso_from_ms(end))
    }

    fn csm_uuid(&self) -> Option<&str> {
        self.csm.as_deref().filter(|c| *c != UNASSIGNED)
    }

    pub fn csm_stats_args(&self, now_ms: f64, zone: &str) -> Value {
        let (from, to) = self.period(now_ms, zone);
        json!({ "p_from": from, "p_to": to, "p_dealership_id": self.dealership })
    }

    pub fn dealership_stats_args(&self, now_ms: f64, zone: &str) -> Value {
        let (from, to) = self.period(now_ms, zone);
        json!({ "p_from": from, "p_to": to, "p_csm": self.csm_uuid() })
    }

    pub fn flow_args(&self, now_ms: f64, zone: &str) -> Value {
        let (from, to) = self.period(now_ms, zone);
        json!({ "p_from": from, "p_to": to, "p_csm": self.csm_uuid(), "p_dealership_id": self.dealership, "p_timezone": zone })
    }

    /// The unresolved items (`review_queue`): the team's, narrowed by CSM (the
    /// assignee), dealership, age bucket, review status and the period in which they
    /// were flagged (`flagged_at`; none with `all_time`, as the backlog numbers
    /// count them).
    pub fn unresolved_filters(&self, now_ms: f64, zone: &str) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if !self.all_time {
            let (from, to) = self.period(now_ms, zone);
            q.push(("flagged_at".into(), format!("gte.{from}")));
            q.push(("flagged_at".into(), format!("lt.{to}")));
        }
        if !self.statuses.is_empty() {
            let codes: Vec<&str> = self.statuses.iter().map(|s| s.as_str()).collect();
            q.push(("status".into(), format!("in.({})", codes.join(","))));
        }
        if let Some(d) = &self.dealership {
            q.push(("dealership_id".into(), format!("eq.{d}")));
        }
        match self.csm.as_deref() {
            Some(UNASSIGNED) => q.push(("assignee_id".into(), "is.null".into())),
            Some(id) => q.push(("assignee_id".into(), format!("eq.{id}"))),
            None => {}
        }
        if let Some(age) = &self.age {
            q.push(("age_bucket".into(), format!("eq.{age}")));
        }
        q
    }

    pub fn unresolved_query(&self, now_ms: f64, zone: &str) -> Vec<(String, String)> {
        let mut q = self.unresolved_filters(now_ms, zone);
        q.push(("select".into(), UNRESOLVED_COLUMNS.into()));
        q.push(("order".into(), UNRESOLVED_ORDER.into()));
        q.push(("limit".into(), "500".into()));
        q
    }

    pub fn unresolved_csv_query(&self, now_ms: f64, zone: &str) -> Vec<(String, String)> {
        let mut q = self.unresolved_filters(now_ms, zone);
        q.push(("select".into(), UNRESOLVED_CSV_COLUMNS.into()));
        q.push(("order".into(), UNRESOLVED_ORDER.into()));
        q.push(("limit".into(), CSV_LIMIT.to_string()));
        q
    }

    /// The unresolved list's heading, naming every filter that narrows it:
    /// "Unresolved items: Honda of Quincy · assigned to Nora North · escalated ·
    /// waiting > 3 d · flagged in the last 7 days". `scope` is the dealership's name
    /// (or "all dealerships"); `person` the selected CSM's name, when known.
    pub fn unresolved_heading(&self, scope: &str, person: Option<&str>) -> String {
        let mut parts = vec![scope.to_string()];
        match (self.csm.as_deref(), person) {
            (None, _) => {}
            (Some(UNASSIGNED), _) => parts.push("unassigned".into()),
            (Some(_), Some(name)) => parts.push(format!("assigned to {name}")),
            (Some(_), None) => parts.push("assigned to the selected person".into()),
        }
        if !self.statuses.is_empty() {
            let words: Vec<String> = self
                .statuses
                .iter()
                .map(|s| crate::model::review::status_label(s.as_str()).to_lowercase())
                .collect();
            parts.push(words.join(" or "));
        }
        if let Some((_, label)) = AGE_BUCKETS
            .iter()
            .find(|(k, _)| Some(*k) == self.age.as_deref())
        {
            parts.push(format!("waiting {label}"));
        }
        parts.push(match &self.window {
            _ if self.all_time => "flagged at any time".into(),
            Window::Custom { .. } => format!("flagged {}", self.window.label()),
            _ => format!("flagged in the {}", self.window.label()),
        });
        format!("Unresolved items: {}", parts.join(" · "))
    }

    /// The line above the activity list: how many changes on how many calls, since
    /// "reviews done" counts calls while the list shows every change (re-opens too).
    pub fn activity_summary(calls: &[(String, String)], limit_reached: bool) -> String {
        let changes = calls.len();
        let mut distinct: Vec<&(String, String)> = calls.iter().collect();
        distinct.sort();
        distinct.dedup();
        let on = distinct.len();
        let mut text = format!(
            "{changes} status change{} on {on} call{}",
            if changes == 1 { "" } else { "s" },
            if on == 1 { "" } else { "s" }
        );
        if limit_reached {
            text.push_str(&format!(" (the latest {ACTIVITY_LIMIT} shown)"));
        }
        text.push_str(". \"Reviews done\" counts the calls; every change is listed.");
        text
    }

    /// The status changes behind "reviews done", "resolved" and "escalations"
    /// (`review_history`), with the same definition as `team_csm_stats`.
    pub fn activity_query(&self, now_ms: f64, zone: &str) -> Vec<(String, String)> {
        let (from, to) = self.period(now_ms, zone);
        let mut q = vec![
            ("status_changed".to_string(), "is.true".to_string()),
            ("actor_id".into(), "not.is.null".into()),
            ("created_at".into(), format!("gte.{from}")),
            ("created_at".into(), format!("lt.{to}")),
        ];
        if let Some(d) = &self.dealership {
            q.push(("dealership_id".into(), format!("eq.{d}")));
        }
        if let Some(id) = self.csm_uuid() {
            q.push(("actor_id".into(), format!("eq.{id}")));
        }
        match self.kind.as_deref() {
            Some("resolved") => q.push(("to_status".into(), "eq.resolved".into())),
            Some("escalated") => q.push(("to_status".into(), "eq.escalated".into())),
            _ => {}
        }
        q.push(("select".into(), ACTIVITY_COLUMNS.into()));
        q.push(("order".into(), "created_at.desc,id.desc".into()));
        q.push(("limit".into(), ACTIVITY_LIMIT.to_string()));
        q
    }

    pub fn to_query_string(&self) -> String {
        let mut parts: Vec<(&str, String)> = Vec::new();
        if let Some(d) = &self.dealership {
            parts.push(("d", d.clone()));
        }
        if let Some(c) = &self.csm {
            parts.push(("csm", c.clone()));
        }
        match &self.window {
            _ if self.all_time => parts.push(("range", "all".into())),
            Window::Last7d => {}
            Window::Last24h => parts.push(("range", "24h".into())),
            Window::Custom { from, to } => {
                parts.push(("range", "custom".into()));
                parts.push(("from", from.clone()));
                parts.push(("to", to.clone()));
            }
        }
        if let Some(a) = &self.age {
            parts.push(("age", a.clone()));
        }
        if let Some(k) = &self.kind {
            parts.push(("kind", k.clone()));
        }
        if !self.statuses.is_empty() {
            let codes: Vec<&str> = self.statuses.iter().map(|s| s.as_str()).collect();
            parts.push(("status", codes.join(",")));
        }
        crate::state::querystring::write(parts)
    }

    pub fn parse(query: &str) -> TeamState {
        let mut state = TeamState::default();
        let (mut range, mut from, mut to) = (None, None, None);
        for (key, value) in crate::state::querystring::pairs(query) {
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "d" if value != "all" => state.dealership = Some(value),
                "csm" if value != "all" => state.csm = Some(value),
                "range" => range = Some(value),
                "from" => from = Some(value),
                "to" => to = Some(value),
                "age" if AGE_BUCKETS.iter().any(|(k, _)| *k == value) => state.age = Some(value),
                "kind" if ACTIVITY_KINDS.contains(&value.as_str()) => state.kind = Some(value),
                "status" => {
                    state.statuses = value
                        .split(',')
                        .filter_map(|v| {
                            crate::model::review::unresolved_statuses()
                                .into_iter()
                                .find(|s| s.as_str() == v)
                        })
                        .collect()
                }
                _ => {}
            }
        }
        state.all_time = range.as_deref() == Some("all");
        state.window = match (range.as_deref(), from, to) {
            (Some("24h"), _, _) => Window::Last24h,
            (Some("custom"), Some(from), Some(to)) => {
                Window::custom(&from, &to).unwrap_or(Window::Last7d)
            }
            _ => Window::Last7d,
        };
        state
    }
}

impl From<&str> for TeamState {
    fn from(query: &str) -> Self {
        TeamState::parse(query)
    }
}

impl std::fmt::Display for TeamState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_query_string())
    }
}

/// One day of the chart: calls newly flagged and resolutions made.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct FlowDay {
    pub day: String,
    pub flagged: i64,
    pub resolved: i64,
}

/// A pair of bars (flagged, resolved) per day, side by side, scaled to the busiest
/// day: (x, width, flagged height, resolved height, tooltip).
pub fn flow_bars(days: &[FlowDay], width: f64, height: f64) -> Vec<(f64, f64, f64, f64, String)> {
    if days.is_empty() {
        return vec![];
    }
    let max = days
        .iter()
        .map(|d| d.flagged.max(d.resolved))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = width / days.len() as f64;
    let bar = (slot * 0.4).max(1.0);
    days.iter()
        .enumerate()
        .map(|(i, d)| {
            (
                i as f64 * slot + slot * 0.1,
                bar,
                d.flagged as f64 / max * height,
                d.resolved as f64 / max * height,
                format!("{}: {} flagged, {} resolved", d.day, d.flagged, d.resolved),
            )
        })
        .collect()
}

/// The headline of the chart: is the backlog growing in this period?
pub fn flow_summary(days: &[FlowDay]) -> (i64, i64, String) {
    let flagged: i64 = days.iter().map(|d| d.flagged).sum();
    let resolved: i64 = days.iter().map(|d| d.resolved).sum();
    let words = match flagged - resolved {
        0 => "Resolutions keep pace with incoming flagged calls.".to_string(),
        n if n > 0 => format!("Backlog growing: {n} more flagged than resolved."),
        n => format!("Backlog shrinking: {} more resolved than flagged.", -n),
    };
    (flagged, resolved, words)
}

/// At most this many rows in the activity list.
pub const ACTIVITY_LIMIT: usize = 500;

#[cfg(test)]
mod tests {
    #[test]
    fn the_activity_summary_counts_changes_and_distinct_calls() {
        let rows = vec![
            ("d".to_string(), "c1".to_string()),
            ("d".to_string(), "c1".to_string()),
            ("d".to_string(), "c2".to_string()),
        ];
        let text = super::TeamState::activity_summary(&rows, false);
        assert!(text.starts_with("3 status changes on 2 calls."), "{text}");
        let one = super::TeamState::activity_summary(&rows[..1], true);
        assert!(
            one.starts_with("1 status change on 1 call (the latest 500 shown)."),
            "{one}"
        );
    }

    use super::*;

    const NOW: f64 = 1_795_000_000_000.0;

    fn sample() -> TeamState {
        TeamState {
            dealership: Some("honda-quincy".into()),
            csm: Some("a0000000-0000-4000-8000-000000000003".into()),
            window: Window::Custom {
                from: "2026-11-01".into(),
                to: "2026-11-07".into(),
            },
            age: Some("1_to_3d".into()),
            kind: None,
            statuses: vec![ReviewStatus::Escalated],
            all_time: false,
        }
    }

    #[test]
    fn the_team_filters_survive_the_url_and_default_to_the_last_seven_days() {
        let s = sample();
        assert_eq!(TeamState::parse(&s.to_query_string()), s);
        assert_eq!(TeamState::default().to_query_string(), "");
        assert_eq!(TeamState::parse("").window, Window::Last7d);
        assert_eq!(TeamState::parse("range=24h").window, Window::Last24h);
        let odd = TeamState::parse("age=forever&kind=nap&csm=all&d=all");
        assert_eq!(odd, TeamState::default(), "unknown values are ignored");
    }

    #[test]
    fn the_overview_functions_get_the_period_and_filters() {
        let s = sample();
        let args = s.csm_stats_args(NOW, "UTC");
        assert_eq!(args["p_from"], "2026-11-01T00:00:00.000Z");
        assert_eq!(args["p_to"], "2026-11-08T00:00:00.000Z");
        assert_eq!(args["p_dealership_id"], "honda-quincy");
        assert_eq!(
            s.dealership_stats_args(NOW, "UTC")["p_csm"],
            "a0000000-0000-4000-8000-000000000003"
        );
        let flow = s.flow_args(NOW, "UTC");
        assert_eq!(flow["p_dealership_id"], "honda-quincy");
        // The chart's days are the screen zone's local days.
        assert_eq!(
            s.flow_args(NOW, "America/New_York")["p_timezone"],
            "America/New_York"
        );
        let all = TeamState::default().flow_args(NOW, "UTC");
        assert!(all["p_csm"].is_null() && all["p_dealership_id"].is_null());
        let unassigned = TeamState {
            csm: Some(UNASSIGNED.into()),
            ..TeamState::default()
        };
        assert!(unassigned.dealership_stats_args(NOW, "UTC")["p_csm"].is_null());
    }

    #[test]
    fn a_backlog_number_drills_down_to_the_same_filters_on_the_queue_view() {
        let backlog = sample().backlog();
        assert!(backlog.all_time && backlog.age.is_none() && backlog.statuses.is_empty());
        let with_age = TeamState {
            age: Some("1_to_3d".into()),
            ..backlog
        };
        let q = with_age.unresolved_query(NOW, "UTC");
        assert!(q.contains(&("dealership_id".into(), "eq.honda-quincy".into())));
        assert!(q.contains(&(
            "assignee_id".into(),
            "eq.a0000000-0000-4000-8000-000000000003".into()
        )));
        assert!(q.contains(&("age_bucket".into(), "eq.1_to_3d".into())));
        assert!(
            q.iter().all(|(k, _)| k != "flagged_at"),
            "the backlog (as of now) is not windowed"
        );
        assert_eq!(
            TeamState::parse(&with_age.to_query_string()),
            TeamState {
                window: Window::Last7d,
                ..with_age
            },
            "range=all survives the URL (in place of the period, which it makes moot)"
        );
        let nobody = TeamState {
            csm: Some(UNASSIGNED.into()),
            ..TeamState::default()
        };
        assert!(nobody
            .unresolved_query(NOW, "UTC")
            .contains(&("assignee_id".into(), "is.null".into())));
        let csv = sample().unresolved_csv_query(NOW, "UTC");
        assert!(csv.contains(&("limit".into(), CSV_LIMIT.to_string())));
    }

    #[test]
    fn the_unresolved_lists_period_and_status_filters_narrow_its_rows() {
        let q = sample().unresolved_query(NOW, "UTC");
        let flagged: Vec<&str> = q
            .iter()
            .filter(|(k, _)| k == "flagged_at")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(
            flagged,
            vec![
                "gte.2026-11-01T00:00:00.000Z",
                "lt.2026-11-08T00:00:00.000Z"
            ],
            "flagged within the custom period"
        );
        assert!(q.contains(&("status".into(), "in.(escalated)".into())));
        let day = TeamState {
            window: Window::Last24h,
            ..TeamState::default()
        };
        let q = day.unresolved_query(NOW, "UTC");
        assert!(q.contains(&(
            "flagged_at".into(),
            format!("gte.{}", iso_from_ms(NOW - 86_400_000.0))
        )));
        assert_eq!(
            sample().unresolved_csv_query(NOW, "UTC")[..4],
            sample().unresolved_query(NOW, "UTC")[..4],
            "the CSV has the list's filters"
        );
        assert_eq!(TeamState::parse(&sample().to_query_string()), sample());
        assert_eq!(
            TeamState::parse("status=escalated,resolved,nonsense").statuses,
            vec![ReviewStatus::Escalated],
            "resolved items are never unresolved; unknown codes are dropped"
        );
    }

    #[test]
    fn the_unresolved_heading_names_the_person_and_every_filter() {
        assert_eq!(
            sample().unresolved_heading("Honda of Quincy", Some("Nora North")),
            "Unresolved items: Honda of Quincy · assigned to Nora North · escalated · waiting 1–3 d · flagged 2026-11-01 to 2026-11-07 (UTC)"
        );
        assert_eq!(
            TeamState::default().unresolved_heading("all dealerships", None),
            "Unresolved items: all dealerships · flagged in the last 7 days"
        );
        let nobody = TeamState {
            csm: Some(UNASSIGNED.into()),
            all_time: true,
            ..TeamState::default()
        };
        assert_eq!(
            nobody.unresolved_heading("all dealerships", None),
            "Unresolved items: all dealerships · unassigned · flagged at any time"
        );
        let someone = TeamState {
            csm: Some("x".into()),
            ..TeamState::default()
        };
        assert!(someone
            .unresolved_heading("all dealerships", None)
            .contains("assigned to the selected person"));
    }

    #[test]
    fn the_unresolved_exports_number_columns_are_in_its_header() {
        let header: Vec<&str> = UNRESOLVED_CSV_COLUMNS.split(',').collect();
        assert!(UNRESOLVED_CSV_NUMERIC.iter().all(|n| header.contains(n)));
        let csv = format!(
            "{}\ntoyota-braintree,\"Toyota of Braintree\",-c1,open,bad,-5,{{}},\"@Nora\",\"2026-11-20 10:00:00+00\",-0.5,under_24h,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\n",
            UNRESOLVED_CSV_COLUMNS
        );
        assert_eq!(
            crate::model::csv::neutralise(&csv, UNRESOLVED_CSV_NUMERIC).lines().nth(1),
            Some("toyota-braintree,\"Toyota of Braintree\",'-c1,open,bad,-5,{},\"'@Nora\",\"2026-11-20 10:00:00+00\",-0.5,under_24h,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"")
        );
    }

    #[test]
    fn an_activity_number_drills_down_to_the_status_changes_in_the_period() {
        let s = TeamState {
            kind: Some("resolved".into()),
            ..sample()
        };
        let q = s.activity_query(NOW, "UTC");
        assert!(q.contains(&("to_status".into(), "eq.resolved".into())));
        assert!(q.contains(&("status_changed".into(), "is.true".into())));
        assert!(q.contains(&("created_at".into(), "gte.2026-11-01T00:00:00.000Z".into())));
        assert!(q.contains(&("created_at".into(), "lt.2026-11-08T00:00:00.000Z".into())));
        assert!(q.contains(&(
            "actor_id".into(),
            "eq.a0000000-0000-4000-8000-000000000003".into()
        )));
        let done = TeamState {
            kind: Some("done".into()),
            ..sample()
        };
        assert!(done
            .activity_query(NOW, "UTC")
            .iter()
            .all(|(k, _)| k != "to_status"));
    }

    #[test]
    fn the_chart_scales_to_the_busiest_day_and_says_whether_the_backlog_grows() {
        let days = vec![
            FlowDay {
                day: "2026-11-01".into(),
                flagged: 4,
                resolved: 2,
            },
            FlowDay {
                day: "2026-11-02".into(),
                flagged: 1,
                resolved: 0,
            },
        ];
        let bars = flow_bars(&days, 200.0, 80.0);
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[0].2, 80.0, "the busiest bar is full height");
        assert_eq!(bars[0].3, 40.0);
        assert_eq!(bars[1].0, 110.0, "second slot starts halfway plus margin");
        assert!(bars[1].4.contains("1 flagged, 0 resolved"));
        let (flagged, resolved, words) = flow_summary(&days);
        assert_eq!((flagged, resolved), (5, 2));
        assert_eq!(words, "Backlog growing: 3 more flagged than resolved.");
        assert!(flow_bars(&[], 10.0, 10.0).is_empty());
    }
}
