//! Review workflow states, mirroring the `review_status` enum in Postgres, and the
//! transitions between them, mirroring `private.review_transition_allowed` (the
//! end-to-end test `review_transitions` compares every pair with the database's).

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

    /// Whether the workflow lets a review move from `from` (`None`: the call has no
    /// review yet) to `to`. The same table as `private.review_transition_allowed`:
    /// any status for a call without a review; never the same status; re-open from
    /// anywhere; a resolved review only re-opens; an escalated one goes on to
    /// follow-up needed or resolved.
    pub fn transition_allowed(from: Option<ReviewStatus>, to: ReviewStatus) -> bool {
        use ReviewStatus::*;
        let Some(from) = from else {
            return true;
        };
        from != to
            && matches!(
                (from, to),
                (_, Open)
                    | (Open, _)
                    | (Reviewed, FollowUpNeeded | Resolved | Escalated)
                    | (FollowUpNeeded, Reviewed | Resolved | Escalated)
                    | (Escalated, FollowUpNeeded | Resolved)
            )
    }

    /// Every status a review may move to from `from`, in [`ReviewStatus::ALL`]'s order.
    pub fn targets(from: Option<ReviewStatus>) -> Vec<ReviewStatus> {
        ReviewStatus::ALL
            .into_iter()
            .filter(|to| ReviewStatus::transition_allowed(from, *to))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::ReviewStatus::{self, *};

    #[test]
    // The table as docs/data-model.md writes it. This test cannot see the database:
    // the end-to-end test `review_transitions` compares every pair with
    // `private.review_transition_allowed`.
    fn the_transitions_are_the_table_data_model_md_documents() {
        assert_eq!(
            ReviewStatus::targets(Some(Open)),
            vec![Reviewed, FollowUpNeeded, Resolved, Escalated]
        );
        assert_eq!(
            ReviewStatus::targets(Some(Reviewed)),
            vec![Open, FollowUpNeeded, Resolved, Escalated]
        );
        assert_eq!(
            ReviewStatus::targets(Some(FollowUpNeeded)),
            vec![Open, Reviewed, Resolved, Escalated]
        );
        assert_eq!(
            ReviewStatus::targets(Some(Escalated)),
            vec![Open, FollowUpNeeded, Resolved]
        );
        assert_eq!(
            ReviewStatus::targets(Some(Resolved)),
            vec![Open],
            "only re-open"
        );
        assert_eq!(ReviewStatus::targets(None), ReviewStatus::ALL.to_vec());
    }

    #[test]
    fn a_review_never_moves_to_the_status_it_has() {
        for s in ReviewStatus::ALL {
            assert!(!ReviewStatus::transition_allowed(Some(s), s), "{s:?}");
        }
    }
}
