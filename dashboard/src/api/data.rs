//! The rows the dashboard reads through PostgREST, typed, and the queries that fetch
//! them. Which rows come back is decided by RLS alone.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{Api, ApiError};
use crate::health::HealthReport;
use crate::urlstate::ViewState;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Profile {
    pub full_name: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Dealership {
    pub id: String,
    pub name: String,
    pub timezone: String,
}

/// One row of the call list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CallRow {
    pub dealership_id: String,
    pub call_id: String,
    pub first_event_at: String,
    pub customer_phone: Option<String>,
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
    pub customer_phone: Option<String>,
    pub agent_id: Option<String>,
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
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct EventRow {
    pub event_id: String,
    pub event_type: String,
    pub occurred_at: String,
    pub received_at: String,
    pub raw_payload: Value,
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
                &[eq("user_id", user_id), pair("select", "full_name,role")],
            )
            .await?;
        Ok(rows.into_iter().next())
    }

    /// The dealerships the user may see (RLS filters the table).
    pub async fn dealerships(&self) -> Result<Vec<Dealership>, ApiError> {
        self.get(
            "dealerships",
            &[
                pair("select", "id,name,timezone"),
                pair("order", "name.asc"),
            ],
        )
        .await
    }

    pub async fn calls(&self, view: &ViewState, now_ms: f64) -> Result<Vec<CallRow>, ApiError> {
        self.get("calls", &view.list_query(now_ms)).await
    }

    pub async fn calls_csv(&self, view: &ViewState, now_ms: f64) -> Result<String, ApiError> {
        self.get_csv("calls", &view.csv_query(now_ms)).await
    }

    pub async fn call(&self, dealership_id: &str, call_id: &str) -> Result<CallDetail, ApiError> {
        let rows: Vec<CallDetail> = self
            .get(
                "calls",
                &[
                    eq("dealership_id", dealership_id),
                    eq("call_id", call_id),
                    pair("select", "*"),
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
            "id,created_at,status,verdict,model,prompt_version,analysis_text:analysis::text,error";
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

    pub async fn events(
        &self,
        dealership_id: &str,
        call_id: &str,
    ) -> Result<Vec<EventRow>, ApiError> {
        let select = "event_id,event_type,occurred_at,received_at,raw_payload";
        self.get(
            "events",
            &[
                eq("dealership_id", dealership_id),
                eq("call_id", call_id),
                pair("select", select),
                pair("order", "occurred_at.asc"),
            ],
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
