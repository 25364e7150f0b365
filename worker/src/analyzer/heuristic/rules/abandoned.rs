//! Abandoned or very short calls, and callers the agent could not serve.

use std::collections::BTreeSet;

use domain::analysis::Flag;

use crate::analyzer::heuristic::transcript::{agent_turns, cap, find_any, user_turns, Turn};
use crate::analyzer::heuristic::{Finding, HeuristicInput};

/// Calls shorter than this (when the duration is known) count as abandoned.
const ABANDONED_MAX_SECS: i32 = 15;
/// A caller who said fewer meaningful words than this was not helped.
const ABANDONED_MAX_USER_WORDS: usize = 4;

const FILLER_WORDS: &[&str] = &[
    "hello", "hi", "hey", "yeah", "yes", "yep", "uh", "um", "uhm", "hmm", "ok", "okay", "oh", "huh",
];

pub(crate) const WRONG_NUMBER: &[&str] = &[
    "wrong number",
    "misdialed",
    "dialed the wrong",
    "called the wrong",
    "wrong place",
];

/// Words that mark Spanish; two different ones in a turn make it Spanish.
const SPANISH_MARKERS: &[&str] = &[
    "hola",
    "habla",
    "hablan",
    "hable",
    "español",
    "espanol",
    "favor",
    "gracias",
    "necesito",
    "quiero",
    "buenos",
    "buenas",
    "días",
    "tardes",
    "usted",
    "cita",
    "llamo",
    "carro",
    "coche",
    "camioneta",
    "claro",
    "ayudar",
    "puedo",
    "alguien",
    "está",
    "bien",
    "momento",
    "ruido",
    "que",
];

fn spanish_words(tokens: &[String]) -> usize {
    let set: BTreeSet<&str> = tokens
        .iter()
        .map(String::as_str)
        .filter(|t| SPANISH_MARKERS.contains(t))
        .collect();
    set.len()
}

pub(crate) fn detect_abandoned(turns: &[Turn], input: &HeuristicInput<'_>) -> Option<Finding> {
    let abandoned = |reason: String| Finding {
        flag: Flag::AbandonedCall,
        penalty: 35,
        reason,
    };
    if user_turns(turns).any(|(_, t)| find_any(&t.tokens, WRONG_NUMBER).is_some()) {
        // A wrong number that was handled politely is not a lost caller.
        return None;
    }
    if let Some(d) = input.duration_sec.filter(|d| *d < ABANDONED_MAX_SECS) {
        return Some(abandoned(format!(
            "abandoned call: the call lasted only {d} s"
        )));
    }
    let meaningful: Vec<&str> = user_turns(turns)
        .flat_map(|(_, t)| t.tokens.iter().map(String::as_str))
        .filter(|w| !FILLER_WORDS.contains(w))
        .collect();
    if meaningful.len() < ABANDONED_MAX_USER_WORDS {
        let said = user_turns(turns)
            .map(|(_, t)| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        return Some(abandoned(if said.trim().is_empty() {
            "abandoned call: the caller never spoke".to_string()
        } else {
            format!(
                "abandoned call: the caller only said \"{}\" before the call ended",
                cap(said.trim())
            )
        }));
    }
    // A Spanish-speaking caller the agent never answered in Spanish was not
    // served, however long the call.
    let spanish_turn = user_turns(turns).find(|(_, t)| spanish_words(&t.tokens) >= 2);
    let agent_spoke_spanish = agent_turns(turns).any(|(_, t)| spanish_words(&t.tokens) >= 2);
    if let (Some((_, t)), false) = (spanish_turn, agent_spoke_spanish) {
        return Some(abandoned(format!(
            "abandoned call: the caller spoke Spanish (\"{}\") and the agent never switched language",
            cap(&t.text)
        )));
    }
    None
}
