//! A manager adds a dealership assignment for a CSM who reports to them
//! (`rpc/assign_dealership_to_report`, migration 20261216000200), so a review of
//! that dealership can then be assigned to the CSM. The database decides who may.

use serde::Deserialize;
use serde_json::json;

use super::{Api, ApiError};

/// The assignment as the function returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Assignment {
    pub user_id: String,
    pub dealership_id: String,
}

impl Api {
    pub async fn assign_dealership_to_report(
        &self,
        user_id: &str,
        dealership_id: &str,
    ) -> Result<Assignment, ApiError> {
        self.rpc(
            "assign_dealership_to_report",
            &json!({ "p_user_id": user_id, "p_dealership_id": dealership_id }),
        )
        .await
    }
}
