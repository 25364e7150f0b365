//! Risky commitments: the agent states something the rules cannot verify and
//! the dealership may have to honour: a price or total, "free", a guarantee, a
//! claim that the warranty covers a repair, stock or availability of a vehicle
//! or part, a date when a part, a recall remedy or a repair will be ready, or a
//! policy (waived fees, price matching, loaners). The transcript alone cannot
//! say whether the dealership gave the agent that fact, so a human must check.
//!
//! A refusal ("I can't quote a price", "I can't guarantee that") is the right
//! behaviour and is not a commitment. A hedged estimate ("usually around $90,
//! the advisor will confirm") costs less than a flat statement.

use domain::analysis::Flag;

use crate::analyzer::heuristic::calendar::{has_day, has_time};
use crate::analyzer::heuristic::transcript::{agent_turns, cap, find_any, tokenize, Turn};
use crate::analyzer::heuristic::Finding;

/// A flat price, stock claim, ready date or policy: what the agent invents most
/// often, and what the dealership is then held to. The call is `bad`.
const FLAT_PENALTY: u8 = 55;
/// "Free", a guarantee or warranty coverage, or any hedged estimate: a human
/// must confirm it, so the call is `needs_review`.
const SOFT_PENALTY: u8 = 30;

/// "Free" and its synonyms, as the agent would promise them.
const FREE: &[&str] = &[
    "free",
    "no charge",
    "no cost",
    "at no cost",
    "won't cost",
    "will not cost",
    "doesn't cost",
    "complimentary",
    "on the house",
    "on us",
];

/// "free" in phrases that promise nothing.
const NOT_A_FREE_OFFER: &[&str] = &[
    "feel free",
    "toll free",
    "hands free",
    "free to",
    "free time",
    "are you free",
    "you're free",
    "if you're free",
];

const GUARANTEE: &[&str] = &[
    "guarantee*",
    "i promise",
    "we promise",
    "promise you",
    "100 percent",
    "100%",
    "lifetime",
];

const WARRANTY_COVERAGE: &[&str] = &[
    "covered under",
    "covered by",
    "warranty covers",
    "warranty will cover",
    "warranty would cover",
    "warranty does cover",
    "that's covered",
    "it's covered",
    "is covered",
    "are covered",
    "be covered",
    "fully covered",
    "still under warranty",
    "under warranty",
    "under the warranty",
    "under your warranty",
];

const STOCK: &[&str] = &[
    "in stock",
    "on the lot",
    "on our lot",
    "in inventory",
    "in our inventory",
    "on hand",
    "we have ? of those",
    "we have ? of them",
    "we have ? in",
    "we've got ? in",
    "we have the part",
    "we have that part",
    "we have those",
    "we have it",
    "we've got it",
    "we have one",
    "we have two",
    "we have three",
    "still available",
    "still have it",
    "still have that",
    "still have the",
    "just came in",
    "part is in",
    "parts are in",
    "part came in",
    "parts came in",
    "part has arrived",
    "parts have arrived",
    "ready for pickup",
    "ready to pick up",
];

/// A sentence about appointment slots is scheduling, not stock.
const SCHEDULING: &[&str] = &[
    "opening*",
    "slot*",
    "appointment*",
    "availability",
    "time",
    "times",
];

/// When something will be ready or arrive: a promise only with a day or time.
const READY_BY: &[&str] = &[
    "will be ready",
    "should be ready",
    "be ready by",
    "ready by",
    "will be done",
    "be done by",
    "done by",
    "will be finished",
    "finished by",
    "fixed by",
    "will be in",
    "should be in",
    "will arrive",
    "should arrive",
    "arrives",
    "arriving",
    "will ship",
    "ships",
    "be delivered",
    "will be here",
    "should be here",
    "back to you by",
    "have it back",
    "remedy",
    "recall repair",
    "recall will",
    "recall parts",
];

/// Policies the agent has no way to grant.
const POLICY: &[&str] = &[
    "waive*",
    "price match*",
    "match that price",
    "match any",
    "our policy",
    "no restocking",
    "full refund",
    "refund your",
    "get you a loaner",
    "give you a loaner",
    "have a loaner",
    "loaner will",
    "we'll reimburse",
    "we will reimburse",
    "we'll pay for",
    "we will pay for",
    "we'll cover",
    "we will cover",
];

/// The agent declines to commit, or says who will: not a commitment.
const REFUSAL: &[&str] = &[
    "can't quote",
    "cannot quote",
    "can't give you a price",
    "can't give you an exact",
    "can't give you a",
    "not able to quote",
    "unable to quote",
    "don't have pricing",
    "don't have the price",
    "don't have that",
    "don't have access",
    "can't guarantee",
    "cannot guarantee",
    "can't promise",
    "cannot promise",
    "no guarantee",
    "not guaranteed",
    "can't confirm",
    "cannot confirm",
    "can't tell you",
    "can't say",
    "not sure",
    "i don't know",
    "i'd have to check",
    "i would have to check",
    "have to check",
    "need to check",
    "let me check",
    "let me have",
    "have someone",
    "will call you",
    "will get back",
    "give you a call",
    "call you back",
    "is it covered",
    "if it's covered",
    "whether it's covered",
    "whether the warranty",
    "if the warranty",
    "would you like",
    "do you have",
];

/// Softeners that make a number an estimate.
const HEDGE: &[&str] = &[
    "around",
    "roughly",
    "approximately",
    "usually",
    "typically",
    "generally",
    "estimate*",
    "ballpark",
    "starting at",
    "starts at",
    "depends",
    "depending",
    "advisor will confirm",
    "will confirm",
    "to confirm",
];

/// What kind of commitment a sentence makes (for the reason) and its penalty
/// when stated flatly.
fn commitment_kind(tokens: &[String]) -> Option<(&'static str, u8)> {
    if has_price(tokens) {
        return Some(("a price", FLAT_PENALTY));
    }
    if find_any(tokens, STOCK).is_some() && find_any(tokens, SCHEDULING).is_none() {
        return Some(("stock or availability", FLAT_PENALTY));
    }
    if find_any(tokens, READY_BY).is_some() && (has_day(tokens) || has_time(tokens)) {
        return Some(("a date for a part, recall or repair", FLAT_PENALTY));
    }
    if find_any(tokens, POLICY).is_some() {
        return Some(("a policy", FLAT_PENALTY));
    }
    if find_any(tokens, FREE).is_some() && find_any(tokens, NOT_A_FREE_OFFER).is_none() {
        return Some(("something free", SOFT_PENALTY));
    }
    if find_any(tokens, GUARANTEE).is_some() {
        return Some(("a guarantee", SOFT_PENALTY));
    }
    if find_any(tokens, WARRANTY_COVERAGE).is_some() {
        return Some(("warranty coverage", SOFT_PENALTY));
    }
    None
}

/// `$89`, `$1,200` (tokenized as `$1` `200`), `89 dollars`, `two hundred bucks`.
fn has_price(tokens: &[String]) -> bool {
    tokens.iter().enumerate().any(|(i, t)| {
        let next = tokens.get(i + 1).map(String::as_str).unwrap_or("");
        let numeric = t.chars().next().is_some_and(|c| c.is_ascii_digit());
        let spelled = matches!(t.as_str(), "hundred" | "thousand" | "fifty" | "twenty");
        (t.starts_with('$') && t.chars().nth(1).is_some_and(|c| c.is_ascii_digit()))
            || ((numeric || spelled) && matches!(next, "dollars" | "bucks" | "dollar"))
    })
}

/// The sentences of a turn, each with its tokens.
fn sentences(turn: &Turn) -> Vec<(String, Vec<String>)> {
    turn.text
        .split_inclusive(['.', '!', '?'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| (s.to_string(), tokenize(s)))
        .collect()
}

pub(crate) fn detect_risky_commitments(turns: &[Turn]) -> Option<Finding> {
    let mut hedged: Option<(String, &'static str)> = None;
    for (_, turn) in agent_turns(turns) {
        for (text, tokens) in sentences(turn) {
            let Some((kind, penalty)) = commitment_kind(&tokens) else {
                continue;
            };
            if text.ends_with('?') || find_any(&tokens, REFUSAL).is_some() {
                continue;
            }
            if penalty < FLAT_PENALTY || find_any(&tokens, HEDGE).is_some() {
                hedged.get_or_insert((text, kind));
                continue;
            }
            return Some(Finding {
                flag: Flag::HallucinatedInformation,
                penalty,
                reason: format!(
                    "unverified commitment: the agent stated {kind} the dealership must confirm: \"{}\"",
                    cap(&text)
                ),
            });
        }
    }
    let (text, kind) = hedged?;
    Some(Finding {
        flag: Flag::HallucinatedInformation,
        penalty: SOFT_PENALTY,
        reason: format!(
            "unverified claim: the agent mentioned {kind} the dealership must confirm: \"{}\"",
            cap(&text)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzer::heuristic::tests::judge;
    use domain::analysis::Verdict;

    #[test]
    fn a_flat_price_is_an_unverified_commitment_and_the_call_is_bad() {
        let a = judge("Agent: How can I help?\nUser: How much for front brake pads on a 2019 Camry?\nAgent: Front pads are $189 installed, out the door.\nUser: Great, thanks.");
        assert_eq!(a.flags, vec![Flag::HallucinatedInformation]);
        assert_eq!(a.verdict, Verdict::Bad);
        assert!(a.reasons[0].contains("$189"), "{:?}", a.reasons);
    }

    #[test]
    fn a_hedged_estimate_needs_review() {
        let a = judge("Agent: How can I help?\nUser: What does a tire rotation cost?\nAgent: It's usually around $30, and your advisor will confirm when you come in.\nUser: Okay, thanks.");
        assert_eq!(a.flags, vec![Flag::HallucinatedInformation]);
        assert_eq!(a.verdict, Verdict::NeedsReview);
    }

    #[test]
    fn refusing_to_quote_is_not_a_commitment() {
        let a = judge("Agent: How can I help?\nUser: Is my transmission covered under warranty?\nAgent: I can't confirm warranty coverage over the phone; a service advisor will call you back today.\nUser: Okay, thanks.");
        assert!(
            !a.flags.contains(&Flag::HallucinatedInformation),
            "{:?}",
            a.reasons
        );
    }

    #[test]
    fn free_guarantees_warranty_stock_and_part_dates_are_caught() {
        for said in [
            "The loaner is free for the whole repair.",
            "I guarantee it will pass inspection.",
            "That repair is covered under your powertrain warranty.",
            "We have two of the blue Tacomas on the lot right now.",
            "Your part will arrive on Wednesday.",
            "We'll waive the diagnostic fee for you.",
        ] {
            let t = format!("Agent: How can I help?\nUser: I have a question.\nAgent: {said}\nUser: Great, thanks.");
            let a = judge(&t);
            assert!(
                a.flags.contains(&Flag::HallucinatedInformation),
                "{said}: {:?}",
                a.reasons
            );
        }
    }

    #[test]
    fn feel_free_and_appointment_times_are_not_commitments() {
        assert!(commitment_kind(&tokenize("Feel free to call us back anytime.")).is_none());
        assert!(commitment_kind(&tokenize("You're booked for Thursday at 9 AM.")).is_none());
    }
}
