//! Voicemail: Retell says so, or the first "caller" turn is a greeting.

use domain::analysis::Flag;

use crate::analyzer::heuristic::transcript::{find_any, quote, user_turns, Turn};
use crate::analyzer::heuristic::{Finding, HeuristicInput};

/// Phrases of voicemail greetings and carrier messages. Only the first thing
/// the "caller" side says is checked: a live caller may well mention a
/// voicemail later ("I left you a message").
const VOICEMAIL_GREETING: &[&str] = &[
    "leave a message",
    "leave your message",
    "leave me a message",
    "leave your name",
    "at the tone",
    "after the tone",
    "after the beep",
    "record your message",
    "mailbox is full",
    "mailbox has not been set up",
    "can't come to the phone",
    "cannot come to the phone",
    "person you are trying to reach",
    "you've reached",
    "you have reached",
    "not available to take your call",
    "sorry i missed you",
];

pub(crate) fn detect_voicemail(turns: &[Turn], input: &HeuristicInput<'_>) -> Option<Finding> {
    if input.disconnection_reason == Some("voicemail_reached") || input.in_voicemail == Some(true) {
        return Some(Finding {
            flag: Flag::Voicemail,
            penalty: 35,
            reason: "voicemail: the call system reported that the call reached voicemail"
                .to_string(),
        });
    }
    let (_, first_user) = user_turns(turns).next()?;
    let hit = find_any(&first_user.tokens, VOICEMAIL_GREETING)?;
    Some(Finding {
        flag: Flag::Voicemail,
        penalty: 35,
        reason: format!(
            "voicemail: the call was answered by a greeting: \"{}\"",
            quote(first_user, hit)
        ),
    })
}

#[cfg(test)]
mod tests {
    use crate::analyzer::heuristic::{analyze, HeuristicInput};
    use domain::analysis::Flag;

    #[test]
    fn the_carriers_voicemail_signal_is_trusted() {
        let a = analyze(&HeuristicInput {
            transcript: "Agent: Hi, this is Kia of Norwood returning your call.",
            duration_sec: Some(20),
            disconnection_reason: Some("voicemail_reached"),
            in_voicemail: None,
        });
        assert_eq!(a.flags, vec![Flag::Voicemail]);
    }
}
