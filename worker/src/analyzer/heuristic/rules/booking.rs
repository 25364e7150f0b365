//! Appointments: booking intent without an explicit day and time read back.

use domain::analysis::Flag;

use crate::analyzer::heuristic::calendar::{has_day, has_time};
use crate::analyzer::heuristic::transcript::{
    agent_turns, cap, find_any, quote, user_turns, Speaker, Turn,
};
use crate::analyzer::heuristic::Finding;

/// The caller wants to book, move or confirm a visit.
const BOOKING_REQUEST: &[&str] = &[
    "appointment",
    "book",
    "booking",
    "schedule",
    "reschedule",
    "bring it in",
    "bring in",
    "bring my ? in",
    "bring the ? in",
    "bring her in",
    "bring him in",
    "bring it by",
    "drop it off",
    "drop off",
    "test drive",
    "set it up",
    "set up a time",
    "set up an appointment",
    "come in for",
    "get it in",
    "get my ? in",
    "get me in",
    "get the ? in",
    "can i come in",
    "when can i come in",
    "fit me in",
    "any openings",
    "an opening",
];

/// The agent offers to book; a "yes" right after makes it a booking.
const BOOKING_OFFER: &[&str] = &[
    "would you like to book",
    "would you like to schedule",
    "would you like to bring it in",
    "would you like to come in",
    "would you like to set up",
    "shall i book",
    "should i book",
    "want me to book",
    "can i book",
    "like me to book",
    "like me to schedule",
    "help you book",
    "help you schedule",
    "get you booked",
    "get you scheduled",
];

/// Agent phrases that start a booking by themselves (no "yes" needed).
const BOOKING_ENGAGED: &[&str] = &[
    "help you book",
    "help you schedule",
    "get you booked",
    "get you scheduled",
];

/// The visit needs no appointment: no read-back is owed.
const NO_APPOINTMENT_NEEDED: &[&str] = &[
    "no appointment needed",
    "no appointment necessary",
    "don't need an appointment",
    "do not need an appointment",
    "walk in",
];

/// The agent says a booking was made.
pub(crate) const BOOKING_MADE: &[&str] = &[
    "you're booked",
    "you are booked",
    "i've booked",
    "i booked",
    "booked you",
    "all set for",
    "i've scheduled",
    "scheduled your",
    "put you down",
    "have you down",
    "appointment is confirmed",
    "you're confirmed",
    "got you scheduled",
    "got you booked",
    "have you scheduled",
    "have you booked",
    "you're scheduled",
    "you are scheduled",
    "got you down",
];

const AFFIRMATIVE: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "sure",
    "ok",
    "okay",
    "please",
    "absolutely",
    "definitely",
    "sounds good",
    "that works",
];

/// The caller chooses not to book now: no confirmation was owed.
pub(crate) const BOOKING_DEFERRED: &[&str] = &[
    "call back",
    "call you back",
    "i'll call",
    "check my schedule",
    "check my calendar",
    "check my work schedule",
    "not right now",
    "no thanks",
    "no thank you",
    "think about it",
    "maybe later",
    "i'll let you know",
    "book online",
    "do it online",
    "another time",
];

pub(crate) struct BookingResult {
    pub finding: Option<Finding>,
    /// The agent's read-back of day and time: evidence the need was met.
    pub confirmed_quote: Option<String>,
}

pub(crate) fn detect_booking(turns: &[Turn]) -> BookingResult {
    let none = BookingResult {
        finding: None,
        confirmed_quote: None,
    };
    // Where booking intent starts: the caller asks, the caller accepts an
    // offer, or the agent says it booked something.
    let mut intent: Option<(usize, String)> = None;
    for (i, t) in turns.iter().enumerate() {
        let hit = match t.speaker {
            Speaker::User => find_any(&t.tokens, BOOKING_REQUEST)
                .map(|p| format!("caller said \"{}\"", quote(t, p))),
            Speaker::Agent | Speaker::Staff => {
                let accepted = find_any(&t.tokens, BOOKING_OFFER).filter(|_| {
                    turns[i + 1..]
                        .iter()
                        .find(|n| n.speaker == Speaker::User)
                        .is_some_and(|n| {
                            let head = &n.tokens[..n.tokens.len().min(3)];
                            find_any(head, AFFIRMATIVE).is_some()
                        })
                });
                let engaged = find_any(&t.tokens, BOOKING_ENGAGED);
                accepted
                    .map(|p| format!("caller accepted \"{}\"", quote(t, p)))
                    .or_else(|| engaged.map(|p| format!("agent said \"{}\"", quote(t, p))))
                    .or_else(|| {
                        find_any(&t.tokens, BOOKING_MADE)
                            .map(|p| format!("agent said \"{}\"", quote(t, p)))
                    })
            }
        };
        if let Some(h) = hit {
            intent = Some((i, h));
            break;
        }
    }
    let Some((start, why)) = intent else {
        return none;
    };
    if agent_turns(turns).any(|(_, t)| find_any(&t.tokens, NO_APPOINTMENT_NEEDED).is_some()) {
        return none;
    }
    if let Some((_, readback)) = agent_turns(turns)
        .filter(|(i, _)| *i >= start)
        .find(|(_, t)| has_day(&t.tokens) && has_time(&t.tokens))
    {
        return BookingResult {
            finding: None,
            confirmed_quote: Some(cap(&readback.text)),
        };
    }
    let booked = agent_turns(turns)
        .filter(|(i, _)| *i >= start)
        .find_map(|(_, t)| find_any(&t.tokens, BOOKING_MADE).map(|p| (t, p)));
    if booked.is_none()
        && user_turns(turns)
            .filter(|(i, _)| *i >= start)
            .any(|(_, t)| find_any(&t.tokens, BOOKING_DEFERRED).is_some())
    {
        return none;
    }
    let detail = match booked {
        Some((t, p)) => format!("; the agent only said \"{}\"", quote(t, p)),
        None => "; no day and time were read back".to_string(),
    };
    BookingResult {
        finding: Some(Finding {
            flag: Flag::MissedAppointmentConfirmation,
            penalty: 30,
            reason: format!("missed appointment confirmation: {why}{detail}"),
        }),
        confirmed_quote: None,
    }
}

#[cfg(test)]
mod tests {
    use crate::analyzer::heuristic::tests::judge;
    use domain::analysis::{Flag, Verdict};

    #[test]
    fn a_booking_without_a_time_is_flagged_with_a_quote() {
        let a = judge("Agent: How can I help?\nUser: Can I book a brake inspection?\nAgent: Sure, I've put you down for Tuesday.\nUser: Thanks.");
        assert_eq!(a.flags, vec![Flag::MissedAppointmentConfirmation]);
        assert_eq!(a.verdict, Verdict::NeedsReview);
        assert!(
            a.reasons[0].contains("put you down for Tuesday"),
            "{:?}",
            a.reasons
        );
    }
}
