//! The transcript panel: speaker turns (or the plain transcript), the analysis's
//! quotes highlighted in it ([`super::evidence`]), and, when Retell sent one, the
//! recording, where clicking a timed turn plays from there and the playing turn
//! is highlighted.

use dioxus::prelude::*;
use serde_json::Value;

use crate::model::format::humanize;
use crate::platform;

use super::evidence::{quote_id, Piece};
use super::player::{Player, PLAYER_ID};

/// Speaker turns from `transcript_turns` ([{role, content}]), if the sender gave them.
pub fn turns(value: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Array(items)) = value else {
        return vec![];
    };
    items
        .iter()
        .filter_map(|t| {
            let content = t.get("content")?.as_str()?.to_string();
            let role = match t.get("role").and_then(Value::as_str).unwrap_or("") {
                "agent" | "assistant" => "Agent".to_string(),
                "user" | "customer" => "Customer".to_string(),
                other => humanize(other),
            };
            Some((role, content))
        })
        .collect()
}

/// What the panel shows: the turns' speakers (empty for a plain transcript) and
/// one text per turn, or the plain transcript as the one text, or nothing.
pub fn shown_texts(
    transcript_turns: Option<&Value>,
    transcript: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    let spoken = turns(transcript_turns);
    if !spoken.is_empty() {
        return spoken.into_iter().unzip();
    }
    match transcript.filter(|t| !t.trim().is_empty()) {
        Some(plain) => (vec![], vec![plain.to_string()]),
        None => (vec![], vec![]),
    }
}

#[component]
fn Pieces(pieces: Vec<Piece>, focused: Signal<Option<usize>>) -> Element {
    rsx! {
        for p in pieces {
            match p.quote {
                Some(q) => rsx! {
                    mark { id: "{quote_id(q)}", class: if focused() == Some(q) { "evidence focused" } else { "evidence" },
                        "data-quote": "{q}", "{p.text}" }
                },
                None => rsx! { "{p.text}" },
            }
        }
    }
}

/// One speaker turn; with a start time, clicking it plays the recording from there.
#[component]
fn Turn(
    index: usize,
    role: String,
    pieces: Vec<Piece>,
    focused: Signal<Option<usize>>,
    start: Option<f64>,
    playing: bool,
) -> Element {
    let class = match (playing, start.is_some()) {
        (true, _) => "turn timed playing",
        (false, true) => "turn timed",
        (false, false) => "turn",
    };
    rsx! {
        li { class, "data-turn": "{index}",
            "data-start": start.map(|s| s.to_string()).unwrap_or_default(),
            title: if start.is_some() { "Play the recording from here" } else { "" },
            onclick: move |_| {
                if let Some(s) = start {
                    platform::media_seek(PLAYER_ID, s);
                }
            },
            strong { "{role}: " }
            Pieces { pieces, focused }
        }
    }
}

#[component]
pub fn TranscriptSection(
    roles: Vec<String>,
    pieces: Vec<Vec<Piece>>,
    focused: Signal<Option<usize>>,
    recording: Option<String>,
    starts: Vec<Option<f64>>,
) -> Element {
    let playing = use_signal(|| None::<usize>);
    // Word timings belong to the turns only when they describe the same turns.
    let timed = recording.is_some() && !roles.is_empty() && starts.len() == roles.len();
    let starts = if timed { starts } else { vec![] };
    rsx! {
        section { class: "panel", id: "transcript",
            h2 { "Transcript" }
            if let Some(url) = recording.clone() {
                Player { url, starts: starts.clone(), playing }
            }
            if !roles.is_empty() {
                ol { class: "turns",
                    for (i, (role, turn)) in roles.iter().zip(pieces.iter()).enumerate() {
                        Turn { index: i, role: role.clone(), pieces: turn.clone(), focused,
                            start: starts.get(i).copied().flatten(), playing: playing() == Some(i) }
                    }
                }
            } else if let Some(plain) = pieces.first() {
                pre { class: "plain-transcript", Pieces { pieces: plain.clone(), focused } }
            } else {
                p { class: "muted", "No transcript yet." }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speaker_turns_are_read_and_named_for_people() {
        let value = serde_json::json!([{"role": "agent", "content": "Hi"}, {"role": "user", "content": "Oil change"}, {"bogus": 1}]);
        assert_eq!(
            turns(Some(&value)),
            vec![
                ("Agent".into(), "Hi".into()),
                ("Customer".into(), "Oil change".into())
            ]
        );
        assert!(turns(None).is_empty());
        assert!(turns(Some(&serde_json::json!("text"))).is_empty());
    }

    #[test]
    fn the_panel_shows_turns_else_the_plain_transcript_else_nothing() {
        let value = serde_json::json!([{"role": "agent", "content": "Hi"}]);
        assert_eq!(
            shown_texts(Some(&value), Some("Agent: Hi")),
            (vec!["Agent".to_string()], vec!["Hi".to_string()])
        );
        assert_eq!(
            shown_texts(None, Some("Agent: Hi")),
            (vec![], vec!["Agent: Hi".to_string()])
        );
        assert_eq!(shown_texts(None, Some("  \n")), (vec![], vec![]));
    }
}
