//! Bulk actions on the queue (mark reviewed, assign): each picked item goes through
//! the same review function as a single change (`review_call` / `assign_review`),
//! one request per row, so row-level security, the workflow's rules and the
//! history apply to every one of them. A refusal stops nothing: the others are
//! still sent, and the outcome says which were saved and why the rest were not.
//! Pure and host-tested.

/// What happened to a bulk action.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BulkOutcome {
    /// (dealership id, call id) of the rows the database saved.
    pub saved: Vec<(String, String)>,
    /// (dealership id, call id, why) of the rows it refused or never got.
    pub failed: Vec<(String, String, String)>,
}

impl BulkOutcome {
    pub fn total(&self) -> usize {
        self.saved.len() + self.failed.len()
    }

    /// The sentence shown (and announced) once every row has an answer, e.g.
    /// "Marked 2 of 3 calls reviewed. Not saved: the call from Dana at 3:05 PM (A
    /// review cannot move from resolved to reviewed.)". `done` is the past tense of
    /// the action with `{n}` for the count: "Marked {n} reviewed", "Assigned {n} to
    /// Sam South"; `name` names a refused row's call from (dealership id, call id).
    pub fn summary(&self, done: &str, name: impl Fn(&str, &str) -> String) -> String {
        let total = self.total();
        let calls = |n: usize| if n == 1 { "call" } else { "calls" };
        let count = if self.failed.is_empty() {
            format!("{} {}", total, calls(total))
        } else {
            format!("{} of {} {}", self.saved.len(), total, calls(total))
        };
        let mut text = format!("{}.", done.replace("{n}", &count));
        if !self.failed.is_empty() {
            let why: Vec<String> = self
                .failed
                .iter()
                .map(|(dealership, call, reason)| {
                    format!(
                        "{} ({})",
                        name(dealership, call),
                        reason.trim_end_matches('.')
                    )
                })
                .collect();
            text.push_str(&format!(" Not saved: {}.", why.join("; ")));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(_dealership: &str, call: &str) -> String {
        format!("the call {call}")
    }

    fn key(c: &str) -> (String, String) {
        ("honda-quincy".into(), c.into())
    }

    #[test]
    fn a_bulk_outcome_says_how_many_were_saved_and_why_the_others_were_not() {
        let all = BulkOutcome {
            saved: vec![key("c1"), key("c2")],
            failed: vec![],
        };
        assert_eq!(
            all.summary("Marked {n} reviewed", named),
            "Marked 2 calls reviewed."
        );
        let partial = BulkOutcome {
            saved: vec![key("c1")],
            failed: vec![(
                "honda-quincy".into(),
                "c3".into(),
                "A review cannot move from resolved to reviewed.".into(),
            )],
        };
        assert_eq!(
            partial.summary("Marked {n} reviewed", named),
            "Marked 1 of 2 calls reviewed. Not saved: the call c3 (A review cannot move from resolved to reviewed)."
        );
        let one = BulkOutcome {
            saved: vec![key("c1")],
            failed: vec![],
        };
        assert_eq!(
            one.summary("Assigned {n} to Sam South", named),
            "Assigned 1 call to Sam South."
        );
    }
}
