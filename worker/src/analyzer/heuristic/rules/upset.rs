//! An upset caller: feelings, complaints, profanity, threats to leave.

use domain::analysis::Flag;

use crate::analyzer::heuristic::transcript::{find, find_any, quote, user_turns, Turn};
use crate::analyzer::heuristic::Finding;

/// Feelings; ignored when negated ("I'm not upset").
const UPSET_FEELINGS: &[&str] = &[
    "upset",
    "angry",
    "mad",
    "furious",
    "frustrat*",
    "annoy*",
    "disappoint*",
    "fed up",
    "unhappy",
];

/// Complaints, repeated calls and requests for a manager.
const UPSET_COMPLAINTS: &[&str] = &[
    "ridiculous",
    "unacceptable",
    "unbelievable",
    "terrible",
    "horrible",
    "awful",
    "worst",
    "useless",
    "pointless",
    "incompetent",
    "is this a joke",
    "what a joke",
    "waste of time",
    "waste of my time",
    "sick of",
    "tired of",
    "done waiting",
    "still waiting",
    "been waiting",
    "nobody calls me back",
    "nobody ever calls",
    "nobody called me back",
    "no one called me back",
    "no one calls me back",
    "nobody got back to me",
    "no one got back to me",
    "never called me back",
    "never got back to me",
    "nobody told me",
    "no one told me",
    "not what i asked",
    "are you kidding",
    "you people",
    "complaint",
    "ripped off",
    "rip off",
    "scam",
    "lied to me",
    "second time",
    "third time",
    "fourth time",
    "called twice",
    "twice today",
    "twice already",
    "called three times",
    "called several times",
    "i've called ? times",
    "keep calling",
    "had it with",
    "i've had it",
    "always say that",
    "i was promised",
    "you promised",
    "who is going to pay",
    "who's going to pay",
    "nobody said",
    "no one said",
    "a manager",
    "your manager",
    "the manager",
    "supervisor",
    "someone in charge",
];

/// Profanity and threats to leave: each is enough for a bad verdict.
const UPSET_STRONG: &[&str] = &[
    "damn*",
    "hell",
    "crap",
    "shit*",
    "bullshit",
    "fuck*",
    "wtf",
    "business elsewhere",
    "somewhere else",
    "go elsewhere",
    "going elsewhere",
    "another dealer*",
    "different dealer*",
    "never coming back",
    "never come back",
    "never buy*",
    "never again",
    "lawyer",
    "attorney",
    "sue you",
    "better business bureau",
    "bbb",
    "report you",
    "bad review",
    "one star",
    "1 star",
    "review everywhere",
    "yelp",
    "want my money back",
    "want my deposit back",
];

const NEGATIONS: &[&str] = &[
    "not", "never", "no", "isn't", "wasn't", "don't", "didn't", "aren't", "won't",
];

fn negated(tokens: &[String], at: usize) -> bool {
    tokens[at.saturating_sub(3)..at]
        .iter()
        .any(|t| NEGATIONS.contains(&t.as_str()))
}

pub(crate) fn detect_upset(turns: &[Turn]) -> Option<Finding> {
    let mut upset_turns: Vec<(usize, &str)> = Vec::new();
    let mut strong: Option<(usize, &str)> = None;
    for (i, t) in user_turns(turns) {
        if strong.is_none() {
            strong = find_any(&t.tokens, UPSET_STRONG).map(|p| (i, p));
        }
        let feeling = UPSET_FEELINGS
            .iter()
            .copied()
            .find(|p| find(&t.tokens, p).is_some_and(|at| !negated(&t.tokens, at)));
        let hit = strong
            .filter(|(si, _)| *si == i)
            .map(|(_, p)| p)
            .or(feeling)
            .or_else(|| find_any(&t.tokens, UPSET_COMPLAINTS));
        if let Some(p) = hit {
            upset_turns.push((i, p));
        }
    }
    let (first_i, first_p) = *upset_turns.first()?;
    // Frustration repeated across turns is sustained, not a passing remark.
    let sustained = upset_turns.len() >= 2;
    let (qi, qp) = strong.unwrap_or((first_i, first_p));
    let mut reason = format!("customer upset: caller said \"{}\"", quote(&turns[qi], qp));
    if let Some((si, sp)) = upset_turns.iter().find(|(i, _)| *i != qi) {
        reason.push_str(&format!(" and \"{}\"", quote(&turns[*si], sp)));
    }
    Some(Finding {
        flag: Flag::CustomerUpset,
        penalty: if strong.is_some() || sustained {
            55
        } else {
            25
        },
        reason,
    })
}

#[cfg(test)]
mod tests {
    use crate::analyzer::heuristic::tests::judge;
    use domain::analysis::Flag;

    #[test]
    fn negated_feelings_do_not_count_as_upset() {
        let a = judge("Agent: How can I help?\nUser: I'm not upset, I just want to know when you close today.\nAgent: We close at 6 PM today.\nUser: Thanks.");
        assert!(!a.flags.contains(&Flag::CustomerUpset), "{:?}", a.reasons);
    }

    #[test]
    fn hello_is_not_hell() {
        let a = judge("Agent: How can I help?\nUser: Hello, what time does the parts counter open on Saturday?\nAgent: Parts opens at 8 AM on Saturday.\nUser: Thank you.");
        assert!(a.flags.is_empty(), "{:?}", a.reasons);
    }
}
