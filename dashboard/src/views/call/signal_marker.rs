//! The marker that names which of Retell's signals decided or changed the
//! verdict (`call_analyses.retell_signals`, docs/analysis.md, "Retell's
//! signals"), read from the stored codes rather than from reason text.

use dioxus::prelude::*;
use domain::signals::RetellSignal;

/// One line per stored code; a code this build does not know is still shown.
pub fn signal_lines(codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .map(|code| match RetellSignal::parse(code) {
            Some(s) => s.describe(),
            None => format!("Retell signal {code}"),
        })
        .collect()
}

/// Nothing when no signal mattered.
#[component]
pub fn SignalMarker(dom_id: String, codes: Vec<String>) -> Element {
    if codes.is_empty() {
        return rsx! {};
    }
    let lines = signal_lines(&codes);
    let joined = codes.join(",");
    rsx! {
        div { id: "{dom_id}", class: "signal-marker", "data-signals": "{joined}",
            for line in lines { div { class: "signal-line", "{line}" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_becomes_a_line_naming_the_signal_and_what_it_did() {
        let lines = signal_lines(&["in_voicemail".into(), "made_up".into()]);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("in_voicemail = true"), "{lines:?}");
        assert!(lines[0].contains("the judge did not run"), "{lines:?}");
        assert_eq!(lines[1], "Retell signal made_up");
        assert!(signal_lines(&[]).is_empty());
    }
}
