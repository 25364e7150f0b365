//! The agent version comparison (`rpc/agent_version_comparison`, migration
//! 20261219000100): per Retell agent and version, the period's calls and their
//! bad and upset shares, under row-level security.

use serde_json::json;

use super::{Api, ApiError};
use crate::model::version_comparison::VersionRow;

impl Api {
    pub async fn agent_versions(
        &self,
        dealership: Option<&str>,
        hours: i64,
    ) -> Result<Vec<VersionRow>, ApiError> {
        self.rpc(
            "agent_version_comparison",
            &json!({ "p_dealership_id": dealership, "p_hours": hours }),
        )
        .await
    }
}
