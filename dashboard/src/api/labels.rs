//! The network calls of labels, comments and the agreement panel: `label_call`,
//! `comment_on_review`, a call's newest label (`review_history`, kind label) and
//! `label_agreement`.

use serde::Deserialize;
use serde_json::json;

use super::{Api, ApiError};
use crate::model::labelling::{Agreement, Label};

/// A call's newest label, as the call page shows it beside the machine verdict.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LabelRow {
    pub id: i64,
    pub created_at: String,
    pub actor_name: Option<String>,
    pub label_verdict: Option<String>,
    #[serde(default)]
    pub label_flags: Option<Vec<String>>,
    pub machine_verdict: Option<String>,
    pub notes: Option<String>,
}

/// The history row a label or comment writes (only its id is used).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Written {
    pub id: i64,
}

impl Api {
    pub async fn latest_label(
        &self,
        dealership_id: &str,
        call_id: &str,
    ) -> Result<Option<LabelRow>, ApiError> {
        let rows: Vec<LabelRow> = self
            .get(
                "review_history",
                &[
                    ("dealership_id".into(), format!("eq.{dealership_id}")),
                    ("call_id".into(), format!("eq.{call_id}")),
                    ("kind".into(), "eq.label".into()),
                    (
                        "select".into(),
                        "id,created_at,actor_name,label_verdict,label_flags,machine_verdict,notes"
                            .into(),
                    ),
                    ("order".into(), "id.desc".into()),
                    ("limit".into(), "1".into()),
                ],
            )
            .await?;
        Ok(rows.into_iter().next())
    }

    pub async fn label_call(
        &self,
        dealership_id: &str,
        call_id: &str,
        label: &Label,
    ) -> Result<Written, ApiError> {
        let reason = label.reason.trim();
        self.rpc(
            "label_call",
            &json!({
                "p_dealership_id": dealership_id,
                "p_call_id": call_id,
                "p_verdict": label.verdict,
                "p_flags": label.flags,
                "p_reason": (!reason.is_empty()).then_some(reason),
            }),
        )
        .await
    }

    pub async fn comment_on_review(
        &self,
        dealership_id: &str,
        call_id: &str,
        comment: &str,
    ) -> Result<Written, ApiError> {
        self.rpc(
            "comment_on_review",
            &json!({ "p_dealership_id": dealership_id, "p_call_id": call_id, "p_comment": comment }),
        )
        .await
    }

    /// The agreement panel's figures, for one dealership or all the user sees.
    pub async fn label_agreement(&self, dealership: Option<&str>) -> Result<Agreement, ApiError> {
        self.rpc("label_agreement", &json!({ "p_dealership_id": dealership }))
            .await
    }
}
