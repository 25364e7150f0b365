//! Review workflow states, mirroring the `review_status` enum in Postgres.

use serde::{Deserialize, Serialize};

/// Where a flagged call stands in the follow-up workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Open,
    Reviewed,
    FollowUpNeeded,
    Resolved,
    Escalated,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 5] = [
        ReviewStatus::Open,
        ReviewStatus::Reviewed,
        ReviewStatus::FollowUpNeeded,
        ReviewStatus::Resolved,
        ReviewStatus::Escalated,
    ];

    /// The database / wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Open => "open",
            ReviewStatus::Reviewed => "reviewed",
            ReviewStatus::FollowUpNeeded => "follow_up_needed",
            ReviewStatus::Resolved => "resolved",
            ReviewStatus::Escalated => "escalated",
        }
    }

    /// Whether moving to this status requires a note.
    pub fn requires_notes(self) -> bool {
        matches!(self, ReviewStatus::Resolved | ReviewStatus::Escalated)
    }
}
