//! Every quote a judge gives must be in the transcript (docs/analysis.md,
//! "Quotes are checked").
//!
//! An `evidence` item that does not appear in the transcript is dropped; a
//! reason with a quoted fragment that does not appear is dropped whole (its
//! claim rests on words nobody said). Each dropped quote is a judge error,
//! stored in `call_analyses.dropped_quotes` and counted on the agreement panel.
//! A `good` verdict that came with an invented quote is not trusted: it becomes
//! `needs_review`, so a person looks. Matching is `domain::evidence`'s, the same
//! the dashboard uses to highlight quotes.

use domain::analysis::{Analysis, RecommendedAction, Verdict};
use domain::evidence::{appears_in, quoted_fragments};

use super::heuristic::{GOOD_MIN, NEEDS_REVIEW_MIN};

/// Removes the quotes `transcript` does not contain; returns them.
pub fn drop_unsupported_quotes(analysis: &mut Analysis, transcript: &str) -> Vec<String> {
    let mut dropped = Vec::new();
    analysis.evidence.retain(|quote| {
        let found = appears_in(transcript, quote);
        if !found {
            dropped.push(quote.clone());
        }
        found
    });
    analysis.reasons.retain(|reason| {
        let missing: Vec<&str> = quoted_fragments(reason)
            .into_iter()
            .filter(|q| !appears_in(transcript, q))
            .collect();
        dropped.extend(missing.iter().map(|q| q.to_string()));
        missing.is_empty()
    });
    if dropped.is_empty() {
        return dropped;
    }
    let note = format!(
        "{} quote(s) from the judge are not in the transcript and were dropped",
        dropped.len()
    );
    if analysis.verdict == Verdict::Good {
        analysis.verdict = Verdict::NeedsReview;
        let score = analysis.score.unwrap_or(GOOD_MIN - 1);
        analysis.score = Some(score.clamp(NEEDS_REVIEW_MIN, GOOD_MIN - 1));
        analysis.recommended_action = RecommendedAction::HumanFollowUp;
        analysis.reasons.push(format!(
            "{note}; a good verdict on invented evidence is not trusted"
        ));
    } else {
        analysis.reasons.push(note);
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::analysis::Flag;

    const T: &str = "Agent: Toyota of Braintree, how can I help?\nUser: My car is making a grinding noise.\nAgent: You're booked for Thursday at 9 AM.";

    fn judged(verdict: Verdict, score: u8, evidence: &[&str], reasons: &[&str]) -> Analysis {
        Analysis {
            evidence: evidence.iter().map(|s| s.to_string()).collect(),
            verdict,
            score: Some(score),
            reasons: reasons.iter().map(|s| s.to_string()).collect(),
            flags: vec![],
            recommended_action: RecommendedAction::None,
            confidence: 0.9,
        }
    }

    #[test]
    fn quotes_that_are_in_the_transcript_stay() {
        let mut a = judged(
            Verdict::Good,
            88,
            &["You're booked for Thursday at 9 AM"],
            &["agent read back \"booked for Thursday at 9 AM\""],
        );
        let before = a.clone();
        assert!(drop_unsupported_quotes(&mut a, T).is_empty());
        assert_eq!(a, before);
    }

    #[test]
    fn an_invented_evidence_quote_is_dropped_and_good_becomes_needs_review() {
        let mut a = judged(
            Verdict::Good,
            90,
            &["Your car is ready for pickup today", "grinding noise"],
            &["the booking was read back"],
        );
        let dropped = drop_unsupported_quotes(&mut a, T);
        assert_eq!(dropped, vec!["Your car is ready for pickup today"]);
        assert_eq!(a.evidence, vec!["grinding noise"]);
        assert_eq!(a.verdict, Verdict::NeedsReview);
        assert_eq!(a.score, Some(GOOD_MIN - 1));
        assert_eq!(a.recommended_action, RecommendedAction::HumanFollowUp);
        assert!(a.reasons.last().unwrap().contains("not trusted"), "{a:?}");
        assert!(a.validate().is_ok());
    }

    #[test]
    fn a_reason_resting_on_an_invented_quote_is_dropped_whole() {
        let mut a = judged(
            Verdict::Bad,
            20,
            &[],
            &[
                "caller said \"I want a manager now\"",
                "caller reported \"a grinding noise\"",
            ],
        );
        a.flags = vec![Flag::CustomerUpset];
        let dropped = drop_unsupported_quotes(&mut a, T);
        assert_eq!(dropped, vec!["I want a manager now"]);
        assert_eq!(a.reasons[0], "caller reported \"a grinding noise\"");
        assert_eq!(a.reasons.len(), 2, "the note is added: {a:?}");
        assert_eq!(a.verdict, Verdict::Bad, "only good is downgraded");
        assert_eq!(a.score, Some(20));
    }
}
