//! The call's recording, read from the Retell events the page already loads
//! (`call_events`: the payloads with their phone fields masked, for exactly the
//! users who see the call): `call.recording_url`, and each turn's start from
//! `call.transcript_object[].words[].start` (seconds).

use serde_json::Value;

use crate::api::data::EventRow;

fn call_field<'a>(e: &'a EventRow, key: &str) -> Option<&'a Value> {
    e.payload.get("call").and_then(|c| c.get(key))
}

/// The newest event's `recording_url`, if it is an http(s) address (anything
/// else, such as a `javascript:` URL, is not put into the page).
pub fn recording_url(events: &[EventRow]) -> Option<String> {
    events
        .iter()
        .rev()
        .filter_map(|e| call_field(e, "recording_url")?.as_str())
        .find(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_string)
}

/// When each turn starts (its first word's `start`), from the newest event whose
/// `transcript_object` has word timings; `None` for a turn without words. Empty
/// when no event has timings.
pub fn turn_starts(events: &[EventRow]) -> Vec<Option<f64>> {
    let Some(turns) = events.iter().rev().find_map(|e| {
        let turns = call_field(e, "transcript_object")?.as_array()?;
        let timed = turns.iter().any(|t| {
            t.get("words")
                .and_then(Value::as_array)
                .is_some_and(|w| !w.is_empty())
        });
        timed.then_some(turns)
    }) else {
        return vec![];
    };
    turns
        .iter()
        .map(|t| {
            t.get("words")?
                .as_array()?
                .iter()
                .find_map(|w| w.get("start")?.as_f64())
        })
        .collect()
}

/// The turn playing at `seconds`: the last turn that started at or before it.
pub fn playing_turn(starts: &[Option<f64>], seconds: f64) -> Option<usize> {
    starts
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.filter(|s| *s <= seconds).map(|_| i))
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(payload: Value) -> EventRow {
        EventRow {
            event_id: "e".into(),
            event_type: "call_ended".into(),
            occurred_at: "2026-12-02T10:00:00Z".into(),
            received_at: "2026-12-02T10:00:01Z".into(),
            payload,
        }
    }

    #[test]
    fn the_newest_http_recording_url_is_used_and_other_schemes_are_not() {
        let events = vec![
            event(json!({"call": {"recording_url": "https://r.example/old.wav"}})),
            event(json!({"call": {"recording_url": "https://r.example/new.wav"}})),
            event(json!({"call": {"recording_url": "javascript:alert(1)"}})),
            event(json!({"event_id": "normalized, no call object"})),
        ];
        assert_eq!(
            recording_url(&events).as_deref(),
            Some("https://r.example/new.wav")
        );
        assert_eq!(recording_url(&events[2..]), None);
        assert_eq!(recording_url(&[]), None);
    }

    #[test]
    fn each_turn_starts_at_its_first_word() {
        let events = vec![
            event(json!({"call": {"transcript_object": [
                {"role": "agent", "content": "Hi there", "words": [{"word": "Hi", "start": 0.4, "end": 0.6}, {"word": "there", "start": 0.7}]},
                {"role": "user", "content": "Oil change", "words": [{"word": "Oil", "start": 3.25}]},
                {"role": "agent", "content": "No words"}
            ]}})),
            event(
                json!({"call": {"transcript_object": [{"role": "agent", "content": "untimed"}]}}),
            ),
        ];
        assert_eq!(turn_starts(&events), vec![Some(0.4), Some(3.25), None]);
        assert!(turn_starts(&events[1..]).is_empty());
    }

    #[test]
    fn the_playing_turn_is_the_last_one_that_started() {
        let starts = vec![Some(0.4), Some(3.25), None, Some(7.0)];
        assert_eq!(playing_turn(&starts, 0.0), None);
        assert_eq!(playing_turn(&starts, 0.4), Some(0));
        assert_eq!(playing_turn(&starts, 5.0), Some(1));
        assert_eq!(playing_turn(&starts, 9.0), Some(3));
    }
}
