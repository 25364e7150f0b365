//! Human labels and agreement, the pure part: what a label form would send (and
//! whether it is a correction, which needs a reason), the verdicts and flags a
//! person can choose, and how the agreement figures read. The database checks the
//! same rules (`public.label_call`); these only keep the form honest before sending.

use domain::analysis::Flag;
use serde::Deserialize;

use crate::api::data::HistoryRow;
use crate::model::review::{history_text, status_label};

/// The verdicts a person can give, in the order the form lists them.
pub const VERDICTS: [&str; 3] = ["good", "needs_review", "bad"];

/// Every flag an analyzer may set, as the form offers them.
pub fn flag_names() -> Vec<&'static str> {
    Flag::ALL.iter().map(|f| f.as_str()).collect()
}

/// What a person says about a call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Label {
    pub verdict: String,
    pub flags: Vec<String>,
    pub reason: String,
}

impl Label {
    /// A label that repeats the machine's verdict and flags (the form's start).
    pub fn confirming(verdict: &str, flags: &[String]) -> Label {
        Label {
            verdict: verdict.to_string(),
            flags: sorted(flags),
            reason: String::new(),
        }
    }

    /// Adds or removes one flag.
    pub fn toggle(&mut self, flag: &str) {
        if let Some(at) = self.flags.iter().position(|f| f == flag) {
            self.flags.remove(at);
        } else {
            self.flags.push(flag.to_string());
            self.flags.sort();
        }
    }

    /// True when the label differs from the machine's verdict or flags.
    pub fn corrects(&self, verdict: &str, flags: &[String]) -> bool {
        self.verdict != verdict || sorted(&self.flags) != sorted(flags)
    }

    /// Why the form cannot be sent yet, in words; `None` when it can.
    pub fn problem(&self, verdict: &str, flags: &[String]) -> Option<String> {
        if !VERDICTS.contains(&self.verdict.as_str()) {
            return Some("Choose a verdict.".into());
        }
        if self.corrects(verdict, flags) && self.reason.trim().is_empty() {
            return Some(
                "A correction needs a short reason: what did the analysis get wrong?".into(),
            );
        }
        if self.reason.trim().chars().count() > 500 {
            return Some("Keep the reason under 500 characters.".into());
        }
        None
    }
}

fn sorted(flags: &[String]) -> Vec<String> {
    let mut f = flags.to_vec();
    f.sort();
    f.dedup();
    f
}

/// One group of `public.label_agreement()` (overall, a dealership, a model or a
/// prompt version).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AgreementRow {
    pub dealership_id: Option<String>,
    pub dealership_name: Option<String>,
    pub model: Option<String>,
    pub prompt_version: Option<String>,
    pub labelled: i64,
    pub agreed: i64,
    pub agreement: Option<f64>,
    pub kappa: Option<f64>,
    pub good_on_bad: i64,
    /// `{label verdict: {analyzer verdict: calls}}`.
    #[serde(default)]
    pub confusion: serde_json::Value,
}

impl AgreementRow {
    /// Calls with this label verdict that the analyzer judged `got`.
    pub fn cell(&self, label: &str, got: &str) -> i64 {
        self.confusion[label][got].as_i64().unwrap_or(0)
    }
}

/// One flag of `public.label_agreement()`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FlagRow {
    pub flag: String,
    pub true_positives: i64,
    pub false_positives: i64,
    pub false_negatives: i64,
    pub flag_precision: Option<f64>,
    pub flag_recall: Option<f64>,
}

/// The judge's own mistakes over the labelled calls' current analyses: quotes
/// that are not in the transcript (dropped by the worker).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct JudgeErrors {
    pub analyses: i64,
    pub analyses_with_dropped_quotes: i64,
    pub dropped_quotes: i64,
}

/// What `public.label_agreement()` answers.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Agreement {
    #[serde(default)]
    pub judge_errors: JudgeErrors,
    pub overall: Option<AgreementRow>,
    #[serde(default)]
    pub dealerships: Vec<AgreementRow>,
    #[serde(default)]
    pub models: Vec<AgreementRow>,
    #[serde(default)]
    pub prompt_versions: Vec<AgreementRow>,
    #[serde(default)]
    pub flags: Vec<FlagRow>,
}

/// Cohen's kappa as shown: two decimals, or a dash when it is undefined (every
/// label and verdict the same).
pub fn kappa_text(kappa: Option<f64>) -> String {
    kappa
        .map(|k| format!("{k:.2}"))
        .unwrap_or_else(|| "–".into())
}

/// A 0–1 share as a whole percentage, or a dash.
pub fn share_text(share: Option<f64>) -> String {
    share
        .map(|s| format!("{:.0}%", s * 100.0))
        .unwrap_or_else(|| "–".into())
}

/// How strong a kappa is, in the usual words (Landis and Koch).
pub fn kappa_words(kappa: Option<f64>) -> &'static str {
    match kappa {
        None => "undefined",
        Some(k) if k < 0.0 => "worse than chance",
        Some(k) if k < 0.2 => "slight",
        Some(k) if k < 0.4 => "fair",
        Some(k) if k < 0.6 => "moderate",
        Some(k) if k < 0.8 => "substantial",
        Some(_) => "almost perfect",
    }
}

/// One line of a call's history, labels and comments included. Acting on an
/// unassigned review claims it, which the line says too.
pub fn history_line(h: &HistoryRow) -> String {
    let who = h.actor_name.as_deref().unwrap_or("Someone");
    let took =
        h.assignee_changed && h.to_assignee_name.is_some() && h.to_assignee_name == h.actor_name;
    let line = match h.kind.as_str() {
        "comment" => format!("{who} commented"),
        "label" => {
            let verdict = h
                .label_verdict
                .as_deref()
                .map(status_label)
                .unwrap_or_default();
            let flags = h.label_flags.clone().unwrap_or_default();
            let machine_flags = h.machine_flags.clone().unwrap_or_default();
            let confirms =
                h.label_verdict == h.machine_verdict && sorted(&flags) == sorted(&machine_flags);
            if confirms {
                format!("{who} confirmed the verdict ({verdict})")
            } else {
                let machine = h
                    .machine_verdict
                    .as_deref()
                    .map(status_label)
                    .unwrap_or_else(|| "–".into());
                let with_flags = if flags.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", flags {}",
                        flags
                            .iter()
                            .map(|f| crate::model::format::humanize(f))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                format!(
                    "{who} corrected the verdict to {verdict}{with_flags} (analyzer: {machine})"
                )
            }
        }
        _ => {
            return history_text(
                h.actor_name.as_deref(),
                h.from_status.as_deref(),
                &h.to_status,
                h.to_assignee_name.as_deref(),
                h.status_changed,
                h.assignee_changed,
            ) + if h.status_changed && took {
                " and took it"
            } else {
                ""
            };
        }
    };
    if took {
        line + " and took it"
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str) -> HistoryRow {
        HistoryRow {
            id: 1,
            created_at: "2026-12-02T10:00:00Z".into(),
            actor_name: Some("Nora North".into()),
            from_status: Some("open".into()),
            to_status: "open".into(),
            to_assignee_name: None,
            notes: None,
            status_changed: false,
            assignee_changed: false,
            kind: kind.into(),
            label_verdict: None,
            label_flags: None,
            machine_verdict: None,
            machine_flags: None,
        }
    }

    #[test]
    fn history_lines_name_comments_labels_and_claims() {
        assert_eq!(history_line(&row("comment")), "Nora North commented");
        let mut label = row("label");
        label.label_verdict = Some("bad".into());
        label.label_flags = Some(vec!["hallucinated_information".into()]);
        label.machine_verdict = Some("good".into());
        label.machine_flags = Some(vec![]);
        label.assignee_changed = true;
        label.to_assignee_name = Some("Nora North".into());
        let line = history_line(&label);
        assert!(
            line.starts_with("Nora North corrected the verdict to Bad"),
            "{line}"
        );
        assert!(line.ends_with("(analyzer: Good) and took it"), "{line}");
        let mut confirm = row("label");
        confirm.label_verdict = Some("good".into());
        confirm.machine_verdict = Some("good".into());
        assert_eq!(
            history_line(&confirm),
            "Nora North confirmed the verdict (Good)"
        );
        let mut change = row("change");
        change.to_status = "follow_up_needed".into();
        change.status_changed = true;
        change.assignee_changed = true;
        change.to_assignee_name = Some("Nora North".into());
        assert!(history_line(&change).ends_with(" and took it"));
    }

    fn flags(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_confirmation_needs_no_reason_and_a_correction_does() {
        let machine = flags(&["handoff_failed", "customer_upset"]);
        let mut label = Label::confirming("needs_review", &machine);
        assert!(!label.corrects("needs_review", &machine));
        assert_eq!(label.problem("needs_review", &machine), None);
        label.verdict = "bad".into();
        assert!(label.corrects("needs_review", &machine));
        assert!(label
            .problem("needs_review", &machine)
            .unwrap()
            .contains("reason"));
        label.reason = "Invented a price".into();
        assert_eq!(label.problem("needs_review", &machine), None);
    }

    #[test]
    fn changing_only_the_flags_is_a_correction() {
        let machine = flags(&["customer_upset"]);
        let mut label = Label::confirming("bad", &machine);
        label.toggle("hallucinated_information");
        assert_eq!(
            label.flags,
            flags(&["customer_upset", "hallucinated_information"])
        );
        assert!(label.corrects("bad", &machine));
        label.toggle("hallucinated_information");
        assert!(!label.corrects("bad", &machine));
    }

    #[test]
    fn a_long_reason_and_a_missing_verdict_are_refused_before_sending() {
        let mut label = Label::confirming("good", &[]);
        label.reason = "x".repeat(501);
        assert!(label.problem("good", &[]).unwrap().contains("500"));
        label.verdict = String::new();
        assert_eq!(label.problem("good", &[]).unwrap(), "Choose a verdict.");
    }

    #[test]
    fn the_form_offers_every_flag_of_the_analysis_contract() {
        assert_eq!(flag_names().len(), Flag::ALL.len());
        assert!(flag_names().contains(&"hallucinated_information"));
    }

    #[test]
    fn agreement_figures_read_from_the_function_answer() {
        let answer: Agreement = serde_json::from_str(
            r#"{"dealership_id": null,
                "overall": {"dealership_id": null, "dealership_name": null, "model": null,
                  "prompt_version": null, "labelled": 14, "agreed": 9, "agreement": 0.643,
                  "kappa": 0.426, "good_on_bad": 2,
                  "confusion": {"bad": {"good": 2, "needs_review": 0, "bad": 3}}},
                "dealerships": [], "models": [], "prompt_versions": [],
                "flags": [{"flag": "customer_upset", "labelled": 14, "true_positives": 1,
                  "false_positives": 1, "false_negatives": 0, "flag_precision": 0.5,
                  "flag_recall": 1.0, "dealership_id": null, "dealership_name": null}]}"#,
        )
        .unwrap();
        let overall = answer.overall.unwrap();
        assert_eq!(overall.cell("bad", "good"), 2);
        assert_eq!(overall.cell("good", "bad"), 0);
        assert_eq!(kappa_text(overall.kappa), "0.43");
        assert_eq!(share_text(overall.agreement), "64%");
        assert_eq!(kappa_words(overall.kappa), "moderate");
        assert_eq!(answer.flags[0].flag_recall, Some(1.0));
    }

    #[test]
    fn an_undefined_kappa_shows_a_dash() {
        assert_eq!(kappa_text(None), "–");
        assert_eq!(kappa_words(None), "undefined");
        assert_eq!(kappa_words(Some(-0.1)), "worse than chance");
    }
}
