//! The call's analyses: the current one in words (with the Retell signal that
//! decided, if one did) and as stored JSON, and every earlier attempt.

use dioxus::prelude::*;
use serde_json::Value;

use crate::api::data::AnalysisRow;
use crate::api::ApiError;
use crate::components::Section;
use crate::model::format::{analyzer_label, humanize};
use crate::platform;

use super::signal_marker::SignalMarker;

/// Re-indents stored JSON without reordering it (serde_json keeps insertion order
/// here), so what is shown is what Postgres holds.
pub fn pretty(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| text.to_string())
}

/// The stored analysis in words for the human view: verdict, score, confidence as a
/// rounded percentage (the float is stored as 0.699999988079071), reasons, flags and
/// the recommended action. The exact JSON stays in the collapsible raw view.
pub fn analysis_facts(text: &str) -> Vec<(&'static str, String)> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) else {
        return vec![];
    };
    let list = |v: &Value| {
        v.as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(humanize)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    };
    let mut facts = Vec::new();
    if let Some(v) = map.get("verdict").and_then(Value::as_str) {
        facts.push(("Verdict", crate::model::review::status_label(v)));
    }
    if let Some(v) = map.get("score").and_then(Value::as_f64) {
        facts.push(("Score", format!("{v:.0}")));
    }
    if let Some(v) = map.get("confidence").and_then(Value::as_f64) {
        facts.push(("Confidence", format!("{:.0}%", v * 100.0)));
    }
    if let Some(v) = map.get("reasons").map(list).filter(|s| !s.is_empty()) {
        facts.push(("Reasons", v));
    }
    if let Some(v) = map.get("flags").map(list).filter(|s| !s.is_empty()) {
        facts.push(("Flags", v));
    }
    if let Some(v) = map.get("recommended_action").and_then(Value::as_str) {
        facts.push(("Recommended action", humanize(v)));
    }
    facts
}

/// `analyses`: what the call page loaded (the summary's re-analysis reloads it too).
#[component]
pub fn AnalysisSection(
    analyses: Result<Vec<AnalysisRow>, ApiError>,
    zone: String,
    on_requested: EventHandler<()>,
) -> Element {
    rsx! {
        section { class: "panel", id: "analysis",
            h2 { "Analysis" }
            Section { what: "analyses", on_retry: move |_| on_requested.call(()), Analyses { analyses, zone } }
            button { class: "link", onclick: move |_| on_requested.call(()), "Reload analyses" }
        }
    }
}

#[component]
fn Analyses(analyses: Result<Vec<AnalysisRow>, ApiError>, zone: String) -> Element {
    let rows = analyses?;
    if rows.is_empty() {
        return rsx! { p { class: "muted", "Not analyzed yet." } };
    }
    let current = rows[0].clone();
    let earlier: Vec<AnalysisRow> = rows[1..].to_vec();
    let facts = analysis_facts(&current.analysis_text);
    let when = |iso: &str| platform::format_in_zone(iso, &zone, true);
    rsx! {
        p { class: "muted",
            "Latest analysis · {when(&current.created_at)} · {humanize(&current.status)} · {analyzer_label(Some(&current.model)).unwrap_or_else(|| current.model.clone())} · prompt {current.prompt_version}"
        }
        SignalMarker { dom_id: "analysis-signal", codes: current.retell_signals.clone() }
        if let Some(err) = current.error.clone() { p { class: "error", "The analyzer failed: {err}" } }
        dl { class: "facts", id: "analysis-facts",
            for (label, value) in facts {
                dt { "{label}" } dd { "{value}" }
            }
        }
        details { class: "raw",
            summary { "Stored analysis (JSON)" }
            pre { class: "json", id: "analysis-json", {pretty(&current.analysis_text)} }
        }
        if !earlier.is_empty() {
            h3 { "Earlier analyses ({earlier.len()})" }
            for a in earlier {
                details { class: "attempt",
                    summary { "{when(&a.created_at)} · {crate::model::review::status_label(&a.verdict)} · {humanize(&a.status)} · {a.model}" }
                    pre { class: "json", {pretty(&a.analysis_text)} }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_human_view_of_an_analysis_rounds_the_confidence_and_names_codes_in_words() {
        let stored = r#"{"verdict": "needs_review", "score": 55, "confidence": 0.699999988079071, "reasons": ["slow answer"], "flags": ["customer_upset"], "recommended_action": "call_back"}"#;
        assert_eq!(
            analysis_facts(stored),
            vec![
                ("Verdict", "Needs review".to_string()),
                ("Score", "55".to_string()),
                ("Confidence", "70%".to_string()),
                ("Reasons", "Slow answer".to_string()),
                ("Flags", "Customer upset".to_string()),
                ("Recommended action", "Call back".to_string()),
            ]
        );
        assert!(analysis_facts("not json").is_empty());
    }

    #[test]
    fn stored_json_is_indented_in_its_stored_key_order() {
        let stored = r#"{"flags": [], "score": 91, "reasons": ["booked"], "verdict": "good", "confidence": 0.9, "recommended_action": "none"}"#;
        let shown = pretty(stored);
        let order: Vec<usize> = [
            "\"flags\"",
            "\"score\"",
            "\"reasons\"",
            "\"verdict\"",
            "\"confidence\"",
        ]
        .iter()
        .map(|k| shown.find(k).unwrap())
        .collect();
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "keys keep their order: {shown}"
        );
        assert!(shown.contains("\n  \"score\": 91"), "{shown}");
    }
}
