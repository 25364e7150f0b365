//! A read-back of a different weekday than the caller asked for.

use std::collections::BTreeSet;

use domain::analysis::Flag;

use super::booking::BOOKING_MADE;
use crate::analyzer::heuristic::calendar::weekday;
use crate::analyzer::heuristic::transcript::{agent_turns, find_any, quote, Speaker, Turn};
use crate::analyzer::heuristic::Finding;

/// The final booking read-back names a weekday that nobody mentioned before,
/// while the caller had asked for a different one. Invented prices, stock and
/// ready dates are `commitments.rs`.
pub(crate) fn detect_wrong_readback(turns: &[Turn]) -> Option<Finding> {
    let (ci, confirm) = agent_turns(turns)
        .filter(|(_, t)| {
            find_any(&t.tokens, BOOKING_MADE).is_some()
                && t.tokens.iter().any(|w| weekday(w).is_some())
        })
        .last()?;
    let earlier = &turns[..ci];
    let mentioned: BTreeSet<&str> = earlier
        .iter()
        .flat_map(|t| t.tokens.iter().filter_map(|w| weekday(w)))
        .collect();
    let asked: Vec<&str> = earlier
        .iter()
        .filter(|t| t.speaker == Speaker::User)
        .flat_map(|t| t.tokens.iter().filter_map(|w| weekday(w)))
        .collect();
    let booked_day = confirm
        .tokens
        .iter()
        .filter_map(|w| weekday(w))
        .find(|d| !mentioned.contains(d))?;
    let asked_day = asked.iter().copied().find(|d| *d != booked_day)?;
    Some(Finding {
        flag: Flag::HallucinatedInformation,
        penalty: 55,
        reason: format!(
            "hallucinated information: the caller asked for {asked_day} but the agent booked \"{}\"",
            quote(confirm, booked_day)
        ),
    })
}
