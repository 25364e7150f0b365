//! The call's recording as an `<audio controls>` element, the turn it is playing,
//! and a plain message when the link no longer loads (Retell's recording links
//! expire).

use dioxus::prelude::*;

use crate::platform;

use super::recording::playing_turn;

/// The audio element's id, for seeking from a turn.
pub const PLAYER_ID: &str = "recording";

#[component]
pub fn Player(url: String, starts: Vec<Option<f64>>, playing: Signal<Option<usize>>) -> Element {
    let mut playing = playing;
    let mut failed = use_signal(|| false);
    let on_time = move |_| {
        let now = platform::media_time(PLAYER_ID).and_then(|t| playing_turn(&starts, t));
        if *playing.peek() != now {
            playing.set(now);
        }
    };
    rsx! {
        div { class: "recording", id: "recording-panel",
            audio { id: PLAYER_ID, controls: true, preload: "metadata", src: "{url}",
                onerror: move |_| failed.set(true),
                ontimeupdate: on_time,
                onloadedmetadata: move |_| failed.set(false),
            }
            if failed() {
                p { class: "error", id: "recording-error", role: "alert",
                    "The recording could not be loaded. Retell's recording links expire after a while; "
                    "ask Retell for a fresh link (for example by re-sending the call's events) to listen again."
                }
            }
        }
    }
}
