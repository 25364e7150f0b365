//! A failed handoff: a transfer promised or asked for that did not happen.

use domain::analysis::Flag;

use crate::analyzer::heuristic::transcript::{
    agent_turns, cap, find, find_any, quote, user_turns, Speaker, Turn,
};
use crate::analyzer::heuristic::Finding;

/// After a promise, the caller is still on the line with nobody answering.
const LEFT_WAITING: &[&str] = &[
    "hello",
    "anyone there",
    "anybody there",
    "are you there",
    "still there",
    "still on hold",
    "still holding",
    "on hold",
    "been holding",
    "been waiting",
    "nobody picked up",
    "no one picked up",
    "nobody answered",
    "no one answered",
    "it's ringing",
    "still ringing",
    "keeps ringing",
];

/// The caller asks for a person or department.
const TRANSFER_REQUEST: &[&str] = &[
    "transfer me",
    "put me through",
    "connect me",
    "real person",
    "a human",
    "live person",
    "live agent",
    "representative",
    "operator",
    "speak to a",
    "speak to an",
    "speak to the",
    "speak to your",
    "speak to someone",
    "speak to somebody",
    "speak with a",
    "speak with the",
    "speak with someone",
    "talk to a",
    "talk to an",
    "talk to the",
    "talk to your",
    "talk to someone",
    "talk to somebody",
    "talk to anyone",
    "talk to parts",
    "talk to service",
    "talk to sales",
    "talk with someone",
];

/// The agent says a transfer is happening.
const TRANSFER_PROMISE: &[&str] = &[
    "transfer you",
    "transferring you",
    "transfer your call",
    "connect you",
    "connecting you",
    "put you through",
    "putting you through",
    "patch you through",
    "get someone on the line",
];

/// After a promise (or a request), the agent says it did not work.
const TRANSFER_FAILURE: &[&str] = &[
    "not available",
    "isn't available",
    "unavailable",
    "no one",
    "nobody",
    "not answering",
    "isn't answering",
    "no answer",
    "didn't go through",
    "did not go through",
    "couldn't connect",
    "could not connect",
    "unable to connect",
    "unable to transfer",
    "can't transfer",
    "cannot transfer",
    "not able to transfer",
    "couldn't transfer",
    "could not transfer",
    "transfer failed",
    "busy",
    "take a message",
    "leave a message",
    "call back",
    "calling back",
    "try again",
    "reach anyone",
    "reach anybody",
    "reach someone",
    "couldn't reach",
    "could not reach",
    "able to reach",
    "pick up",
    "picked up",
    "picking up",
    "with another customer",
    "with customers",
    "stepped away",
    "gone for the day",
    "out of the office",
    "voicemail",
    "rang out",
];

/// Instead of transferring, the agent offers something else: the caller did
/// not get the person they asked for, but a follow-up was arranged.
const TRANSFER_ALTERNATIVE: &[&str] = &[
    "call you back",
    "give you a call",
    "take a message",
    "leave a message",
    "not available",
    "unavailable",
    "with customers",
    "with another customer",
    "are all busy",
    "all busy",
    "can't transfer",
    "cannot transfer",
    "unable to transfer",
    "not able to transfer",
];

/// The caller turns the offered transfer down.
const DECLINE: &[&str] = &["no", "nope", "no thanks", "that's okay", "don't bother"];

pub(crate) fn detect_handoff_failed(turns: &[Turn]) -> Option<Finding> {
    let handoff = |reason: String| Finding {
        flag: Flag::HandoffFailed,
        penalty: 55,
        reason,
    };
    // A person from the dealership speaking in the transcript is a transfer
    // that visibly completed.
    if turns.iter().any(|t| t.speaker == Speaker::Staff) {
        return None;
    }
    // A promise followed by the agent saying it did not work.
    for (pi, promise) in agent_turns(turns) {
        let Some(pp) = find_any(&promise.tokens, TRANSFER_PROMISE) else {
            continue;
        };
        // The failure may be in the promise turn itself ("I'll transfer you,
        // but nobody is available") only after the promise words.
        let at = find(&promise.tokens, pp).unwrap_or(0);
        let later_in_turn = &promise.tokens[at..];
        if let Some(fp) = find_any(later_in_turn, TRANSFER_FAILURE) {
            return Some(handoff(format!(
                "handoff failed: agent said \"{}\"",
                quote(promise, fp)
            )));
        }
        for (_, after) in agent_turns(turns).filter(|(i, _)| *i > pi) {
            if let Some(fp) = find_any(&after.tokens, TRANSFER_FAILURE) {
                return Some(handoff(format!(
                    "handoff failed: agent promised \"{}\" then said \"{}\"",
                    quote(promise, pp),
                    quote(after, fp)
                )));
            }
        }
    }
    // A transfer that happened ends the AI's part of the call. If the AI is
    // still talking after its last promise (and the caller did not turn the
    // transfer down), the transfer did not go through.
    if let Some((pi, promise)) = agent_turns(turns)
        .filter(|(_, t)| find_any(&t.tokens, TRANSFER_PROMISE).is_some())
        .last()
    {
        let declined = user_turns(turns)
            .filter(|(i, _)| *i > pi)
            .any(|(_, t)| find_any(&t.tokens[..t.tokens.len().min(2)], DECLINE).is_some());
        if let (Some((_, after)), false) = (agent_turns(turns).find(|(i, _)| *i > pi), declined) {
            return Some(handoff(format!(
                "handoff failed: agent promised \"{}\" but the call went on with the agent: \"{}\"",
                quote(
                    promise,
                    find_any(&promise.tokens, TRANSFER_PROMISE).unwrap_or("")
                ),
                cap(after
                    .text
                    .split_inclusive(['.', '!', '?'])
                    .next()
                    .unwrap_or(&after.text)
                    .trim())
            )));
        }
        if !declined {
            let promised = quote(
                promise,
                find_any(&promise.tokens, TRANSFER_PROMISE).unwrap_or(""),
            );
            // The caller is still talking into the line after the promise.
            if let Some((_, t, p)) = user_turns(turns)
                .filter(|(i, _)| *i > pi)
                .find_map(|(i, t)| find_any(&t.tokens, LEFT_WAITING).map(|p| (i, t, p)))
            {
                return Some(handoff(format!(
                    "handoff failed: agent promised \"{promised}\" and the caller was left waiting: \"{}\"",
                    quote(t, p)
                )));
            }
            // The call ends on the promise and nothing shows that it connected:
            // no `Staff:` turn, and Retell did not end the call with
            // `call_transfer` (that skips this rule).
            return Some(handoff(format!(
                "handoff not confirmed: agent promised \"{promised}\" and nothing shows the transfer connected"
            )));
        }
    }
    // Requests the agent never acted on: repeated, or the call ended on one.
    let requests: Vec<(usize, &str)> = user_turns(turns)
        .filter_map(|(i, t)| find_any(&t.tokens, TRANSFER_REQUEST).map(|p| (i, p)))
        .collect();
    let (first_req, first_pat) = *requests.first()?;
    let promised_after = agent_turns(turns)
        .any(|(i, t)| i > first_req && find_any(&t.tokens, TRANSFER_PROMISE).is_some());
    if promised_after {
        return None;
    }
    let (last_req, last_pat) = *requests.last()?;
    // The agent offered a callback or a message instead of the person asked for.
    if let Some((_, alt, ap)) = agent_turns(turns)
        .filter(|(i, _)| *i > first_req)
        .find_map(|(i, t)| find_any(&t.tokens, TRANSFER_ALTERNATIVE).map(|p| (i, t, p)))
    {
        return Some(Finding {
            flag: Flag::HandoffFailed,
            penalty: 30,
            reason: format!(
                "handoff failed: caller asked \"{}\" and the agent offered instead \"{}\"",
                quote(&turns[first_req], first_pat),
                quote(alt, ap)
            ),
        });
    }
    let ended_on_request = last_req + 2 >= turns.len();
    if requests.len() >= 2 || ended_on_request {
        let how = if ended_on_request {
            "and the call ended without a transfer"
        } else {
            "more than once and was never transferred"
        };
        let (qi, qp) = if ended_on_request {
            (last_req, last_pat)
        } else {
            (first_req, first_pat)
        };
        return Some(handoff(format!(
            "handoff failed: caller asked \"{}\" {how}",
            quote(&turns[qi], qp)
        )));
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::analyzer::heuristic::{analyze, HeuristicInput};
    use domain::analysis::Flag;

    #[test]
    fn a_transfer_reported_by_retell_is_not_a_failed_handoff() {
        let a = analyze(&HeuristicInput {
            transcript: "Agent: How can I help?\nUser: Can I talk to someone in service?\nAgent: One moment.\nUser: Can you transfer me to the service desk?",
            duration_sec: Some(60),
            disconnection_reason: Some("call_transfer"),
            in_voicemail: None,
        });
        assert!(!a.flags.contains(&Flag::HandoffFailed), "{:?}", a.reasons);
    }
}
