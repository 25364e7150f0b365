//! Retell's own signals about a call, applied around either judge with
//! deterministic rules (docs/analysis.md, "Retell's signals"):
//!
//! 1. `call_analysis.in_voicemail = true` or `disconnection_reason =
//!    voicemail_reached`: the call is a `voicemail`, decided without an LLM call.
//! 2. `call_analysis.call_successful = false`, or `user_sentiment = Negative`,
//!    while the judge says `good`: a `needs_review` second opinion whose reason
//!    names the disagreement.
//! 3. A transfer Retell reports as cancelled or failed (`disconnection_reason`
//!    `transfer_cancelled` or `transfer_failed`): `handoff_failed`, `bad`.
//!
//! Every reason a signal adds starts with "Retell signal", an analysis decided
//! by rule 1 carries `prompt_version = "retell-signals-v1"`, and every signal
//! that decided or changed the verdict is recorded as a code
//! ([`RetellSignal`], stored in `call_analyses.retell_signals`), so the call
//! page names it without reading reason text.

use domain::analysis::{Analysis, Flag, RecommendedAction, Verdict};
use domain::signals::RetellSignal;

use super::provenance::{self, Provenance};
use super::{AnalyzerOutput, CallContext};

/// Stored as `prompt_version` when a signal alone decided the verdict.
pub const SIGNALS_VERSION: &str = "retell-signals-v1";

/// The highest score of a `needs_review` second opinion.
const SECOND_OPINION_MAX_SCORE: u8 = 60;
/// The highest score of a call whose transfer Retell reports as failed.
const FAILED_TRANSFER_MAX_SCORE: u8 = 35;

fn analysis_field<'a>(call: &'a CallContext, key: &str) -> Option<&'a serde_json::Value> {
    call.retell_analysis.as_ref().and_then(|r| r.get(key))
}

/// Rule 1: the voicemail analysis, when Retell says the call reached one.
pub fn voicemail(call: &CallContext, model: &str) -> Option<AnalyzerOutput> {
    let in_voicemail = analysis_field(call, "in_voicemail").and_then(|v| v.as_bool()) == Some(true);
    let reached = call.disconnection_reason.as_deref() == Some("voicemail_reached");
    if !in_voicemail && !reached {
        return None;
    }
    let signal = if in_voicemail {
        RetellSignal::InVoicemail
    } else {
        RetellSignal::VoicemailReached
    };
    let which = signal.field();
    Some(AnalyzerOutput {
        analysis: Analysis {
            evidence: vec![],
            verdict: Verdict::NeedsReview,
            score: Some(55),
            reasons: vec![format!(
                "Retell signal {which}: the call reached voicemail (decided without the judge)"
            )],
            flags: vec![Flag::Voicemail],
            recommended_action: RecommendedAction::HumanFollowUp,
            confidence: 0.9,
        },
        model: model.to_string(),
        prompt_version: SIGNALS_VERSION.to_string(),
        latency_ms: Some(0),
        prompt_tokens: None,
        completion_tokens: None,
        raw_response: None,
        transcript_truncated: false,
        provenance: Provenance::new(provenance::RETELL_SIGNALS, None),
        dropped_quotes: vec![],
        retell_signals: vec![signal],
    })
}

/// Rules 2 and 3, applied to the judge's analysis: the analysis as it stands
/// after them, and the signals that changed it (none when it is unchanged).
pub fn second_opinion(call: &CallContext, mut a: Analysis) -> (Analysis, Vec<RetellSignal>) {
    let reason = call.disconnection_reason.as_deref().unwrap_or("");
    let failed_transfer = match reason {
        "transfer_cancelled" => Some(RetellSignal::TransferCancelled),
        "transfer_failed" => Some(RetellSignal::TransferFailed),
        _ => None,
    };
    if let Some(signal) = failed_transfer {
        if !a.flags.contains(&Flag::HandoffFailed) {
            a.flags.push(Flag::HandoffFailed);
        }
        a.verdict = Verdict::Bad;
        a.score = Some(a.score.unwrap_or(0).min(FAILED_TRANSFER_MAX_SCORE));
        a.recommended_action = RecommendedAction::HumanFollowUp;
        a.reasons.push(format!(
            "Retell signal disconnection_reason = {reason}: the transfer did not complete"
        ));
        return (a, vec![signal]);
    }
    if a.verdict != Verdict::Good {
        return (a, vec![]);
    }
    let unsuccessful =
        analysis_field(call, "call_successful").and_then(|v| v.as_bool()) == Some(false);
    let negative = analysis_field(call, "user_sentiment")
        .and_then(|v| v.as_str())
        .is_some_and(|s| s.eq_ignore_ascii_case("negative"));
    let disagreement = match (unsuccessful, negative) {
        (true, true) => "call_successful = false and user_sentiment = Negative",
        (true, false) => "call_successful = false",
        (false, true) => "user_sentiment = Negative",
        (false, false) => return (a, vec![]),
    };
    let signals = [
        (unsuccessful, RetellSignal::CallUnsuccessful),
        (negative, RetellSignal::NegativeSentiment),
    ]
    .into_iter()
    .filter_map(|(on, s)| on.then_some(s))
    .collect();
    a.verdict = Verdict::NeedsReview;
    a.score = Some(a.score.unwrap_or(0).min(SECOND_OPINION_MAX_SCORE));
    a.recommended_action = RecommendedAction::HumanFollowUp;
    a.reasons.push(format!(
        "Retell signal {disagreement} while the judge said good: a human should decide"
    ));
    (a, signals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(disconnection: Option<&str>, analysis: Option<serde_json::Value>) -> CallContext {
        CallContext {
            dealership_id: "d".into(),
            dealership_name: "D".into(),
            dealership_timezone: "UTC".into(),
            call_id: "c".into(),
            transcript: "Agent: Hi\nUser: Thanks".into(),
            transcript_sha256: None,
            started_at: None,
            duration_sec: Some(60),
            direction: None,
            call_status: None,
            disconnection_reason: disconnection.map(String::from),
            customer_name: None,
            agent_id: None,
            metadata: None,
            retell_analysis: analysis,
        }
    }

    fn good() -> Analysis {
        Analysis {
            evidence: vec![],
            verdict: Verdict::Good,
            score: Some(90),
            reasons: vec!["fine".into()],
            flags: vec![],
            recommended_action: RecommendedAction::None,
            confidence: 0.8,
        }
    }

    #[test]
    fn retells_voicemail_signal_decides_without_the_judge() {
        let out = voicemail(&call(None, Some(json!({"in_voicemail": true}))), "gpt").unwrap();
        assert_eq!(out.analysis.flags, vec![Flag::Voicemail]);
        assert_eq!(out.prompt_version, SIGNALS_VERSION);
        assert_eq!(out.retell_signals, vec![RetellSignal::InVoicemail]);
        assert!(out.analysis.reasons[0].contains("in_voicemail"));
        assert!(out.analysis.validate().is_ok());
        assert_eq!(
            voicemail(&call(Some("voicemail_reached"), None), "gpt")
                .unwrap()
                .retell_signals,
            vec![RetellSignal::VoicemailReached]
        );
        assert!(voicemail(
            &call(Some("user_hangup"), Some(json!({"in_voicemail": false}))),
            "gpt"
        )
        .is_none());
    }

    #[test]
    fn an_unsuccessful_or_negative_call_the_judge_calls_good_gets_a_second_opinion() {
        let (a, signals) =
            second_opinion(&call(None, Some(json!({"call_successful": false}))), good());
        assert_eq!(signals, vec![RetellSignal::CallUnsuccessful]);
        assert_eq!(a.verdict, Verdict::NeedsReview);
        assert_eq!(a.score, Some(60));
        assert!(a
            .reasons
            .last()
            .unwrap()
            .contains("call_successful = false"));
        let (a, signals) = second_opinion(
            &call(None, Some(json!({"user_sentiment": "Negative"}))),
            good(),
        );
        assert_eq!(signals, vec![RetellSignal::NegativeSentiment]);
        assert!(a
            .reasons
            .last()
            .unwrap()
            .contains("user_sentiment = Negative"));
        assert!(a.validate().is_ok());
        let (a, signals) = second_opinion(
            &call(
                None,
                Some(json!({"call_successful": true, "user_sentiment": "Positive"})),
            ),
            good(),
        );
        assert_eq!(a, good());
        assert!(signals.is_empty(), "nothing changed, nothing recorded");
        let both = json!({"call_successful": false, "user_sentiment": "negative"});
        let (_, signals) = second_opinion(&call(None, Some(both.clone())), good());
        assert_eq!(
            signals,
            vec![
                RetellSignal::CallUnsuccessful,
                RetellSignal::NegativeSentiment
            ]
        );
        let mut flagged = good();
        flagged.verdict = Verdict::Bad;
        let (_, signals) = second_opinion(&call(None, Some(both)), flagged);
        assert!(
            signals.is_empty(),
            "a judge that already flagged the call was not overridden"
        );
    }

    #[test]
    fn a_failed_transfer_is_a_failed_handoff() {
        let (a, signals) = second_opinion(&call(Some("transfer_cancelled"), None), good());
        assert_eq!(signals, vec![RetellSignal::TransferCancelled]);
        assert_eq!(a.verdict, Verdict::Bad);
        assert_eq!(a.flags, vec![Flag::HandoffFailed]);
        assert!(a.score.unwrap() < 40);
        assert!(a.validate().is_ok());
    }
}
