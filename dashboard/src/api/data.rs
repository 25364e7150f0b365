//! The rows the dashboard reads through PostgREST, typed, and the queries that fetch
//! them. Which rows come back is decided by RLS alone.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{Api, ApiError};
use crate::model::health_summary::HealthReport;
use crate::model::review::{Change, Me, Member, QueueState, ReviewState, ReviewStatus};
use crate::state::call_list::{ViewState, CSV_NUMERIC};
use crate::state::team_view::{FlowDay, TeamState, UNRESOLVED_CSV_NUMERIC};

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub user_id: String,
    pub full_name: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Dealership {
    pub id: String,
    pub name: String,
    pub timezone: String,
    /// False for a dealership the webhook registered from an unknown slug that no
    /// admin has finished yet (`dealerships.set_up`).
    pub set_up: bool,
}

/// The marker shown beside a dealership that is not set up.
pub const NOT_SET_UP: &str = "not set up";

impl Dealership {
    /// The name as lists show it: "(not set up)" follows a dealership that still
    /// needs an admin, so nobody mistakes its slug-for-a-name for a real one.
    pub fn label(&self) -> String {
        if self.set_up {
            self.name.clone()
        } else {
            format!("{} ({NOT_SET_UP})", self.name)
        }
    }
}

/// Whether `id` is in `dealerships` and not set up.
pub fn is_not_set_up(dealerships: &[Dealership], id: &str) -> bool {
    dealerships.iter().any(|d| d.id == id && !d.set_up)
}

/// One row of the call list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CallRow {
    pub dealership_id: String,
    pub call_id: String,
    pub first_event_at: String,
    /// The last 4 digits (empty for 4 digits or fewer); the full number only
    /// through `reveal_customer_phone`.
    pub customer_phone_last4: Option<String>,
    pub duration_sec: Option<i64>,
    pub verdict: Option<String>,
    pub score: Option<i64>,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub flags: Vec<String>,
    pub review_status: Option<String>,
    pub analysis_model: Option<String>,
}

/// The columns of [`CallDetail`]: the API roles may not read `customer_phone`
/// (nor `select=*`), only its last 4 digits.
const CALL_DETAIL_SELECT: &str = "dealership_id,call_id,call_status,direction,started_at,ended_at,\
duration_sec,transcript,transcript_turns,customer_phone_last4,agent_id,agent_version,\
disconnection_reason,retell_analysis,metadata,first_event_at,verdict,score,flags,reasons,\
analysis_model,analyzed_at,review_status";

/// The call as stored, for the detail page. Kept as JSON where the content varies by
/// sender (turns, metadata, Retell's analysis).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CallDetail {
    pub dealership_id: String,
    pub call_id: String,
    pub call_status: Option<String>,
    pub direction: Option<String>,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub duration_sec: Option<i64>,
    pub transcript: Option<String>,
    pub transcript_turns: Option<Value>,
    /// The last 4 digits (empty for 4 digits or fewer); the full number only
    /// through `reveal_customer_phone`.
    pub customer_phone_last4: Option<String>,
    pub agent_id: Option<String>,
    /// Retell's `agent_version` (migration 20261219000100).
    pub agent_version: Option<u32>,
    pub disconnection_reason: Option<String>,
    pub retell_analysis: Option<Value>,
    pub metadata: Option<Value>,
    pub first_event_at: String,
    pub verdict: Option<String>,
    pub score: Option<i64>,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub reasons: Vec<String>,
    pub analysis_model: Option<String>,
    pub analyzed_at: Option<String>,
    pub review_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AnalysisRow {
    pub id: i64,
    pub created_at: String,
    pub status: String,
    pub verdict: String,
    pub model: String,
    pub prompt_version: String,
    /// `analysis::text`: the stored JSON exactly, which we only re-indent.
    pub analysis_text: String,
    pub error: Option<String>,
    /// Retell's signals that decided or changed this verdict
    /// (`domain::signals::RetellSignal` codes).
    #[serde(default)]
    pub retell_signals: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EventRow {
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: String,
    pub received_at: String,
    /// The payload as received, with its phone fields masked (`call_events.payload`;
    /// the raw payload itself is not readable).
    pub payload: Value,
}

fn eq(key: &str, value: &str) -> (String, String) {
    (key.to_string(), format!("eq.{value}"))
}

fn pair(key: &str, value: &str) -> (String, String) {
    (key.to_string(), value.to_string())
}

impl Api {
    pub async fn profile(&self, user_id: &str) -> Result<Option<Profile>, ApiError> {
        let rows: Vec<Profile> = self
            .get(
                "profiles",
                &[
                    eq("user_id", user_id),
                    pair("select", "user_id,full_name,role"),
                ],
            )
            .await?;
        Ok(rows.into_iter().next())
    }

    /// The dealerships the user may see (RLS filters the table).
    pub async fn dealerships(&self) -> Result<Vec<Dealership>, ApiError> {
        self.get(
            "dealerships",
            &[
                pair("select", "id,name,timezone,set_up"),
                pair("order", "name.asc"),
            ],
        )
        .await
    }

    /// One page of the call list; `bounds` from [`ViewState::bounds_ms`].
    pub async fn calls(
        &self,
        view: &ViewState,
        bounds: (f64, f64),
    ) -> Result<Vec<CallRow>, ApiError> {
        self.get("calls", &view.list_query(bounds)).await
    }

    /// How many calls match the list's filters (all pages), counted by Postgres.
    pub async fn calls_total(&self, view: &ViewState, bounds: (f64, f64)) -> Result<u64, ApiError> {
        self.count("calls", &view.postgrest_filters(bounds)).await
    }

    /// The filtered list as CSV from the `calls_export` view, formatted for people
    /// and formula-safe.
    pub async fn calls_csv(
        &self,
        view: &ViewState,
        bounds: (f64, f64),
    ) -> Result<String, ApiError> {
        self.get_csv("calls_export", &view.csv_query(bounds), CSV_NUMERIC)
            .await
    }

    pub async fn call(&self, dealership_id: &str, call_id: &str) -> Result<CallDetail, ApiError> {
        let rows: Vec<CallDetail> = self
            .get(
                "calls",
                &[
                    eq("dealership_id", dealership_id),
                    eq("call_id", call_id),
                    pair("select", CALL_DETAIL_SELECT),
                ],
            )
            .await?;
        rows.into_iter().next().ok_or(ApiError::NotFound)
    }

    pub async fn analyses(
        &self,
        dealership_id: &str,
        call_id: &str,
    ) -> Result<Vec<AnalysisRow>, ApiError> {
        let select =
            "id,created_at,status,verdict,model,prompt_version,analysis_text:analysis::text,error,retell_signals";
        self.get(
            "call_analyses",
            &[
                eq("dealership_id", dealership_id),
                eq("call_id", call_id),
                pair("select", select),
                pair("order", "id.desc"),
            ],
        )
        .await
    }

    /// The call's events, oldest first, their phone fields masked by the database
    /// (`call_events`: the raw payloads themselves are not readable).
    pub async fn events(
        &self,
        dealership_id: &str,
        call_id: &str,
    ) -> Result<Vec<EventRow>, ApiError> {
        self.rpc(
            "call_events",
            &json!({ "p_dealership_id": dealership_id, "p_call_id": call_id }),
        )
        .await
    }

    /// Queues a new analysis; returns the job id (an already pending job's id if any).
    pub async fn request_reanalysis(
        &self,
        dealership_id: &str,
        call_id: &str,
    ) -> Result<i64, ApiError> {
        self.rpc(
            "request_reanalysis",
            &json!({ "p_dealership_id": dealership_id, "p_call_id": call_id }),
        )
        .await
    }

    pub async fn health(
        &self,
        dealership: Option<&str>,
        hours: i64,
    ) -> Result<HealthReport, ApiError> {
        self.rpc(
            "dealership_health",
            &json!({ "p_dealership_id": dealership, "p_hours": hours }),
        )
        .await
    }
}

/// One unresolved review (`review_queue`): the queue, and the team's unresolved list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct QueueItem {
    pub dealership_id: String,
    pub dealership_name: Option<String>,
    pub call_id: String,
    pub status: ReviewStatus,
    pub verdict: Option<String>,
    pub score: Option<i64>,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub reasons: Option<Vec<String>>,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub notes: Option<String>,
    pub flagged_at: String,
    pub age_hours: Option<f64>,
    /// The newest human label's verdict, and whether it disagrees with the analysis.
    #[serde(default)]
    pub label_verdict: Option<String>,
    #[serde(default)]
    pub label_disagrees: Option<bool>,
    /// Opened for the audit sample (a good verdict to label), not flagged.
    #[serde(default)]
    pub audit_sample: Option<bool>,
    /// Who called and when (migration 20261216000100): the number only masked
    /// (`***0142`), the call's time, the dealership's zone and Retell's summary.
    #[serde(default)]
    pub call_started_at: Option<String>,
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub customer_phone_masked: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub call_summary: Option<String>,
}

impl QueueItem {
    pub fn review(&self) -> ReviewState {
        ReviewState {
            status: Some(self.status),
            assignee_id: self.assignee_id.clone(),
            assignee_name: self.assignee_name.clone(),
            notes: self.notes.clone(),
        }
    }

    pub fn with_review(&self, r: &ReviewState) -> QueueItem {
        QueueItem {
            status: r.status.unwrap_or(self.status),
            assignee_id: r.assignee_id.clone(),
            assignee_name: r.assignee_name.clone(),
            notes: r.notes.clone(),
            ..self.clone()
        }
    }

    pub fn is(&self, dealership_id: &str, call_id: &str) -> bool {
        self.dealership_id == dealership_id && self.call_id == call_id
    }
}

/// A call's current review (`call_reviews` with the assignee's name).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReviewRow {
    pub status: ReviewStatus,
    pub assignee_id: Option<String>,
    pub notes: Option<String>,
    pub flagged_at: String,
    pub resolved_at: Option<String>,
    pub assignee: Option<NameOnly>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NameOnly {
    pub full_name: String,
}

/// What `review_call` / `assign_review` return: the updated `call_reviews` row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UpdatedReview {
    pub status: ReviewStatus,
    pub assignee_id: Option<String>,
    pub notes: Option<String>,
}

/// One row of a call's history (`review_history`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HistoryRow {
    pub id: i64,
    pub created_at: String,
    pub actor_name: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub to_assignee_name: Option<String>,
    pub notes: Option<String>,
    pub status_changed: bool,
    pub assignee_changed: bool,
    /// change | comment | label (`review_events.kind`).
    #[serde(default = "change_kind")]
    pub kind: String,
    pub label_verdict: Option<String>,
    pub label_flags: Option<Vec<String>>,
    pub machine_verdict: Option<String>,
    pub machine_flags: Option<Vec<String>>,
}

fn change_kind() -> String {
    "change".into()
}

/// A status change in the activity drill-down.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ActivityRow {
    pub id: i64,
    pub dealership_id: String,
    pub call_id: String,
    pub created_at: String,
    pub actor_name: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub notes: Option<String>,
    pub verdict: Option<String>,
    pub score: Option<i64>,
}

/// `team_csm_stats`: one person (or the Unassigned row, without user id).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CsmStats {
    pub user_id: Option<String>,
    pub full_name: String,
    pub role: Option<String>,
    #[serde(default)]
    pub dealership_ids: Vec<String>,
    pub reviews_done: i64,
    pub resolved: i64,
    pub escalations: i64,
    pub median_hours_to_resolution: Option<f64>,
    pub backlog_under_24h: i64,
    pub backlog_1_to_3d: i64,
    pub backlog_over_3d: i64,
    pub backlog: i64,
}

/// `team_dealership_stats`: one dealership.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DealershipStats {
    pub dealership_id: String,
    pub name: String,
    #[serde(default)]
    pub assigned_names: Vec<String>,
    pub unresolved: i64,
    pub oldest_unresolved_hours: Option<f64>,
    pub calls: i64,
    pub analyzed: i64,
    pub bad: i64,
    pub bad_share: Option<f64>,
}

impl Api {
    pub async fn queue(&self, state: &QueueState, me: &Me) -> Result<Vec<QueueItem>, ApiError> {
        self.get("review_queue", &state.list_query(me)).await
    }

    /// The nav badge: every queue item the user may see, counted by Postgres.
    pub async fn queue_count(&self) -> Result<u64, ApiError> {
        self.queue_count_in(None).await
    }

    /// The queue badge's count for one dealership (`None`: all the user's), so the
    /// health page's number is the queue's.
    /// Counted on `call_reviews`, not the `review_queue` view: the same rows (the
    /// view is the unresolved reviews, left-joined), without a lookup into `calls`
    /// per row (migration 20261221000100).
    pub async fn queue_count_in(&self, dealership: Option<&str>) -> Result<u64, ApiError> {
        let mut query = vec![
            pair("status", "neq.resolved"),
            pair("or", crate::model::review::QUEUE_VERDICTS),
            pair("select", "call_id"),
        ];
        if let Some(d) = dealership {
            query.push(eq("dealership_id", d));
        }
        self.count("call_reviews", &query).await
    }

    pub async fn review(
        &self,
        dealership_id: &str,
        call_id: &str,
    ) -> Result<Option<ReviewRow>, ApiError> {
        let rows: Vec<ReviewRow> = self
            .get(
                "call_reviews",
                &[
                    eq("dealership_id", dealership_id),
                    eq("call_id", call_id),
                    pair(
                        "select",
                        "status,assignee_id,notes,flagged_at,resolved_at,assignee:profiles!assignee_id(full_name)",
                    ),
                ],
            )
            .await?;
        Ok(rows.into_iter().next())
    }

    pub async fn history(
        &self,
        dealership_id: &str,
        call_id: &str,
    ) -> Result<Vec<HistoryRow>, ApiError> {
        self.get(
            "review_history",
            &[
                eq("dealership_id", dealership_id),
                eq("call_id", call_id),
                pair(
                    "select",
                    "id,created_at,actor_name,from_status,to_status,to_assignee_name,notes,status_changed,assignee_changed,kind,label_verdict,label_flags,machine_verdict,machine_flags",
                ),
                pair("order", "created_at.desc,id.desc"),
            ],
        )
        .await
    }

    /// Sends a change through the database function that owns it.
    pub async fn change_review(
        &self,
        dealership_id: &str,
        call_id: &str,
        change: &Change,
    ) -> Result<UpdatedReview, ApiError> {
        match change {
            Change::Status { to, notes } => {
                self.rpc(
                    "review_call",
                    &json!({
                        "p_dealership_id": dealership_id,
                        "p_call_id": call_id,
                        "p_to_status": to.as_str(),
                        "p_notes": notes.as_deref().map(str::trim).filter(|n| !n.is_empty()),
                    }),
                )
                .await
            }
            Change::Assign { to, .. } => {
                self.rpc(
                    "assign_review",
                    &json!({
                        "p_dealership_id": dealership_id,
                        "p_call_id": call_id,
                        "p_assignee_id": to,
                    }),
                )
                .await
            }
        }
    }

    /// People a manager may hand work to, with their assignments (RLS: the team's).
    pub async fn team_members(&self) -> Result<(Vec<Member>, Vec<(String, String)>), ApiError> {
        let members: Vec<Member> = self
            .get(
                "profiles",
                &[
                    pair("select", "user_id,full_name,role,manager_id"),
                    pair("role", "neq.admin"),
                    pair("order", "full_name.asc"),
                ],
            )
            .await?;
        #[derive(Deserialize)]
        struct Assignment {
            user_id: String,
            dealership_id: String,
        }
        let rows: Vec<Assignment> = self
            .get(
                "user_dealerships",
                &[pair("select", "user_id,dealership_id")],
            )
            .await?;
        Ok((
            members,
            rows.into_iter()
                .map(|a| (a.user_id, a.dealership_id))
                .collect(),
        ))
    }

    pub async fn csm_stats(
        &self,
        state: &TeamState,
        now_ms: f64,
        zone: &str,
    ) -> Result<Vec<CsmStats>, ApiError> {
        self.rpc("team_csm_stats", &state.csm_stats_args(now_ms, zone))
            .await
    }

    pub async fn dealership_stats(
        &self,
        state: &TeamState,
        now_ms: f64,
        zone: &str,
    ) -> Result<Vec<DealershipStats>, ApiError> {
        self.rpc(
            "team_dealership_stats",
            &state.dealership_stats_args(now_ms, zone),
        )
        .await
    }

    pub async fn daily_flow(
        &self,
        state: &TeamState,
        now_ms: f64,
        zone: &str,
    ) -> Result<Vec<FlowDay>, ApiError> {
        self.rpc("team_daily_flow", &state.flow_args(now_ms, zone))
            .await
    }

    pub async fn unresolved(
        &self,
        state: &TeamState,
        now_ms: f64,
        zone: &str,
    ) -> Result<Vec<QueueItem>, ApiError> {
        self.get("review_queue", &state.unresolved_query(now_ms, zone))
            .await
    }

    /// The unresolved items as CSV from `review_queue_export`: the queue's rows with
    /// the free-text cells (notes, names, call ids) formula-safe.
    pub async fn unresolved_csv(
        &self,
        state: &TeamState,
        now_ms: f64,
        zone: &str,
    ) -> Result<String, ApiError> {
        self.get_csv(
            "review_queue_export",
            &state.unresolved_csv_query(now_ms, zone),
            UNRESOLVED_CSV_NUMERIC,
        )
        .await
    }

    pub async fn activity(
        &self,
        state: &TeamState,
        now_ms: f64,
        zone: &str,
    ) -> Result<Vec<ActivityRow>, ApiError> {
        self.get("review_history", &state.activity_query(now_ms, zone))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dealership(id: &str, name: &str, set_up: bool) -> Dealership {
        Dealership {
            id: id.into(),
            name: name.into(),
            timezone: "America/New_York".into(),
            set_up,
        }
    }

    #[test]
    fn a_dealership_that_is_not_set_up_is_labelled_so() {
        let registered = dealership("subaru-hanover", "subaru-hanover", false);
        assert_eq!(registered.label(), "subaru-hanover (not set up)");
        let ready = dealership("honda-quincy", "Honda of Quincy", true);
        assert_eq!(ready.label(), "Honda of Quincy");
        let list = [registered, ready];
        assert!(is_not_set_up(&list, "subaru-hanover"));
        assert!(!is_not_set_up(&list, "honda-quincy"));
        assert!(!is_not_set_up(&list, "unknown"));
    }

    #[test]
    fn the_dealership_list_reads_the_set_up_column() {
        let rows: Vec<Dealership> = serde_json::from_str(
            r#"[{"id":"subaru-hanover","name":"subaru-hanover","timezone":"UTC","set_up":false}]"#,
        )
        .unwrap();
        assert!(!rows[0].set_up);
    }
}
