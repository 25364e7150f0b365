//! Positive evidence that the caller's need was met, which `good` requires, and
//! the opposite: the agent said it could not help and arranged nothing.
//!
//! Evidence is one of: an appointment read back with day and time; Retell
//! reporting a completed transfer, or a dealership person (`Staff:`) speaking; a caller who dialled a wrong number or chose
//! to follow up themselves; or a caller whose last words are satisfied
//! ("perfect, thanks", "that's all I needed") and not undercut ("thanks
//! anyway", "never mind").

use crate::analyzer::heuristic::rules::abandoned::WRONG_NUMBER;
use crate::analyzer::heuristic::rules::booking::BOOKING_DEFERRED;
use crate::analyzer::heuristic::transcript::{
    agent_turns, cap, find_any, quote, user_turns, Speaker, Turn,
};
use crate::analyzer::heuristic::{Doubt, HeuristicInput};

/// How many of the caller's last turns are read for a satisfied close.
const CLOSING_TURNS: usize = 2;

const SATISFIED: &[&str] = &[
    "thank*",
    "perfect",
    "great",
    "awesome",
    "excellent",
    "wonderful",
    "fantastic",
    "sounds good",
    "that works",
    "works for me",
    "that helps",
    "that helped",
    "helpful",
    "appreciate*",
    "got it",
    "good to know",
    "that's all",
    "that's it",
    "that's everything",
    "all set",
    "see you",
    "will do",
    "have a good",
    "have a great",
    "cool",
    "that's fine",
    "sounds great",
    "no problem",
    "gracias",
    "perfecto",
];

/// A thank-you that says the need was not met.
const UNDERCUT: &[&str] = &[
    "thanks anyway",
    "thank you anyway",
    "thanks for nothing",
    "never mind",
    "nevermind",
    "forget it",
    "whatever",
    "i guess",
    "useless",
    "not helpful",
    "didn't help",
    "doesn't help",
    "still don't know",
    "still need",
    "not really",
    "hello",
    "anyone there",
    "are you there",
];

/// The agent says it cannot answer or do what was asked.
const UNABLE: &[&str] = &[
    "i don't have that information",
    "i don't have information",
    "i don't have access",
    "i don't have details",
    "i don't have any information",
    "i'm not able to",
    "i am not able to",
    "i'm unable to",
    "i am unable to",
    "i can't help with",
    "i cannot help with",
    "i can't answer",
    "i cannot answer",
    "i don't know",
    "not something i can",
];

/// ... and what turns that into a handled call: someone will follow up, or the
/// caller is told where to go.
const FOLLOW_UP: &[&str] = &[
    "call you back",
    "give you a call",
    "have someone",
    "have a ? call",
    "have an ? call",
    "will call you",
    "reach out",
    "take a message",
    "pass ? along",
    "pass that along",
    "let ? know",
    "get back to you",
    "text you",
    "email you",
    "send you",
    "follow up",
    "contact you",
    "transfer you",
    "connect you",
    "you can call",
    "you can reach",
    "website",
    "online",
];

/// Why the rules believe the caller was helped, for the reasons of a `good`
/// call; `None` when nothing shows it.
pub(crate) fn evidence_need_met(
    turns: &[Turn],
    input: &HeuristicInput<'_>,
    confirmed_quote: Option<&str>,
) -> Option<String> {
    if let Some(q) = confirmed_quote {
        return Some(format!("appointment read back to the caller: \"{q}\""));
    }
    if input.disconnection_reason == Some("call_transfer") {
        return Some("Retell reports that the call was transferred".to_string());
    }
    if let Some(t) = turns.iter().find(|t| t.speaker == Speaker::Staff) {
        return Some(format!(
            "the transfer connected: a person answered \"{}\"",
            cap(&t.text)
        ));
    }
    for (_, t) in user_turns(turns) {
        if let Some(p) = find_any(&t.tokens, WRONG_NUMBER) {
            return Some(format!("wrong number, handled: \"{}\"", quote(t, p)));
        }
    }
    let closing: Vec<&Turn> = user_turns(turns)
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .take(CLOSING_TURNS)
        .collect();
    if closing
        .iter()
        .any(|t| find_any(&t.tokens, UNDERCUT).is_some())
    {
        return None;
    }
    if let Some((t, p)) = closing
        .iter()
        .find_map(|t| find_any(&t.tokens, BOOKING_DEFERRED).map(|p| (*t, p)))
    {
        return Some(format!(
            "the caller chose to follow up later: \"{}\"",
            quote(t, p)
        ));
    }
    closing.iter().find_map(|t| {
        find_any(&t.tokens, SATISFIED)
            .map(|p| format!("the caller closed satisfied: \"{}\"", quote(t, p)))
    })
}

/// The agent said it could not help and nothing after it arranged a follow-up.
pub(crate) fn detect_unanswered(turns: &[Turn]) -> Option<Doubt> {
    let (i, t, p) =
        agent_turns(turns).find_map(|(i, t)| find_any(&t.tokens, UNABLE).map(|p| (i, t, p)))?;
    let followed_up = agent_turns(turns)
        .filter(|(j, _)| *j >= i)
        .any(|(_, a)| find_any(&a.tokens, FOLLOW_UP).is_some());
    if followed_up {
        return None;
    }
    Some(Doubt {
        reason: format!(
            "question left unanswered: the agent said \"{}\" and arranged no follow-up",
            quote(t, p)
        ),
    })
}

#[cfg(test)]
mod tests {
    use crate::analyzer::heuristic::tests::judge;
    use domain::analysis::Verdict;

    #[test]
    fn a_satisfied_close_is_evidence_for_good() {
        let a = judge("Agent: How can I help?\nUser: What time does service close today?\nAgent: Service closes at 6 PM today.\nUser: Perfect, thank you.");
        assert_eq!(a.verdict, Verdict::Good, "{:?}", a.reasons);
        assert!(a.reasons.iter().any(|r| r.contains("closed satisfied")));
    }

    #[test]
    fn thanks_anyway_is_not_evidence() {
        let a = judge("Agent: How can I help?\nUser: Do you buy motorcycles?\nAgent: We focus on cars and trucks.\nUser: Okay, thanks anyway.");
        assert_eq!(a.verdict, Verdict::NeedsReview, "{:?}", a.reasons);
    }

    #[test]
    fn an_unanswered_question_with_no_follow_up_needs_review() {
        let a = judge("Agent: How can I help?\nUser: Is my car done yet?\nAgent: I don't have access to repair status.\nUser: Okay, thanks.");
        assert_eq!(a.verdict, Verdict::NeedsReview, "{:?}", a.reasons);
        assert!(a.reasons.iter().any(|r| r.contains("unanswered")));
    }

    #[test]
    fn an_unanswered_question_with_a_callback_is_handled() {
        let a = judge("Agent: How can I help?\nUser: Is my car done yet?\nAgent: I don't have access to repair status, but I'll have your advisor call you back within the hour.\nUser: Great, thanks.");
        assert_eq!(a.verdict, Verdict::Good, "{:?}", a.reasons);
    }
}
