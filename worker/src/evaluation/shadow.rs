//! A shadow run: a candidate judge (another prompt, model or rules version) on
//! labelled calls whose current verdict is known (`cargo xtask eval --from-db`),
//! listing the verdicts it would flip, per dealership, with the agreement with
//! the labels before (the current verdicts) and after (the candidate's). Nothing
//! is written: the team decides from the report whether to switch.

use std::collections::BTreeMap;

use domain::analysis::Verdict;
use serde_json::{json, Value};

use super::{pct, ratio, Judged};

/// One call whose verdict the candidate would change.
#[derive(Debug, Clone, PartialEq)]
pub struct Flip {
    pub id: String,
    pub dealership: String,
    pub from: Verdict,
    pub to: Verdict,
    /// The human label.
    pub expected: Verdict,
}

/// Agreement before and after over the calls of one group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub compared: usize,
    pub agreed_before: usize,
    pub agreed_after: usize,
    pub flips: usize,
}

impl Tally {
    fn add(&mut self, expected: Verdict, before: Verdict, after: Verdict) {
        self.compared += 1;
        self.agreed_before += usize::from(before == expected);
        self.agreed_after += usize::from(after == expected);
        self.flips += usize::from(before != after);
    }

    pub fn agreement_before(&self) -> Option<f64> {
        ratio(self.agreed_before, self.compared)
    }

    pub fn agreement_after(&self) -> Option<f64> {
        ratio(self.agreed_after, self.compared)
    }

    fn to_json(&self) -> Value {
        json!({
            "compared": self.compared,
            "flips": self.flips,
            "agreement_before": self.agreement_before(),
            "agreement_after": self.agreement_after(),
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shadow {
    pub overall: Tally,
    pub per_dealership: BTreeMap<String, Tally>,
    pub flips: Vec<Flip>,
}

/// The shadow comparison over the judged calls that carry a current verdict;
/// `None` when none does (a labels file without `current_verdict`).
pub fn compare(judged: &[Judged]) -> Option<Shadow> {
    let mut shadow = Shadow::default();
    for j in judged {
        let Some(before) = j.call.current_verdict else {
            continue;
        };
        let expected = j.call.expected_verdict;
        let after = j.analysis.verdict;
        let dealership = j.call.dealership_id.clone().unwrap_or_default();
        shadow.overall.add(expected, before, after);
        shadow
            .per_dealership
            .entry(dealership.clone())
            .or_default()
            .add(expected, before, after);
        if before != after {
            shadow.flips.push(Flip {
                id: j.call.id.clone(),
                dealership,
                from: before,
                to: after,
                expected,
            });
        }
    }
    (shadow.overall.compared > 0).then_some(shadow)
}

impl Shadow {
    pub fn to_json(&self) -> Value {
        json!({
            "overall": self.overall.to_json(),
            "per_dealership": self.per_dealership.iter().map(|(d, t)| (d.clone(), t.to_json())).collect::<serde_json::Map<_, _>>(),
            "flips": self.flips.iter().map(|f| json!({
                "id": f.id, "dealership_id": f.dealership, "from": f.from.as_str(),
                "to": f.to.as_str(), "label": f.expected.as_str(),
            })).collect::<Vec<_>>(),
        })
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "\nshadow run against the current verdicts: {} calls, {} would flip; agreement with the labels {} now, {} with this judge\n",
            self.overall.compared,
            self.overall.flips,
            pct(self.overall.agreement_before()),
            pct(self.overall.agreement_after()),
        );
        out.push_str("  dealership                        calls  flips  before   after\n");
        for (d, t) in &self.per_dealership {
            out.push_str(&format!(
                "  {:<32}{:>6}{:>7}{:>8}{:>8}\n",
                d,
                t.compared,
                t.flips,
                pct(t.agreement_before()),
                pct(t.agreement_after())
            ));
        }
        for f in &self.flips {
            let better = if f.to == f.expected {
                "now agrees with the label"
            } else if f.from == f.expected {
                "no longer agrees with the label"
            } else {
                "still disagrees with the label"
            };
            out.push_str(&format!(
                "  flip {}: {} -> {} (label {}; {better})\n",
                f.id,
                f.from.as_str(),
                f.to.as_str(),
                f.expected.as_str()
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::LabelledCall;
    use domain::analysis::Analysis;

    fn judged(
        id: &str,
        dealer: &str,
        expected: Verdict,
        before: Option<Verdict>,
        after: Verdict,
    ) -> Judged {
        let mut analysis = Analysis::failed();
        analysis.verdict = after;
        Judged {
            call: LabelledCall {
                id: id.into(),
                transcript: "Agent: hi".into(),
                duration_sec: None,
                dealership_id: Some(dealer.into()),
                expected_verdict: expected,
                expected_flags: vec![],
                current_verdict: before,
            },
            analysis,
            error: None,
            dropped_quotes: vec![],
        }
    }

    #[test]
    fn flips_and_agreement_before_and_after_per_dealership() {
        use Verdict::*;
        let calls = [
            judged("a/1", "a", Bad, Some(Good), Bad),   // flip, fixed
            judged("a/2", "a", Good, Some(Good), Good), // same, agrees
            judged("b/1", "b", Good, Some(Good), NeedsReview), // flip, broken
            judged("b/2", "b", Bad, Some(NeedsReview), NeedsReview),
            judged("c/1", "c", Bad, None, Good), // no current verdict: not compared
        ];
        let s = compare(&calls).unwrap();
        assert_eq!(
            s.overall,
            Tally {
                compared: 4,
                agreed_before: 2,
                agreed_after: 2,
                flips: 2
            }
        );
        assert_eq!(
            s.per_dealership["a"],
            Tally {
                compared: 2,
                agreed_before: 1,
                agreed_after: 2,
                flips: 1
            }
        );
        assert_eq!(
            s.per_dealership["b"],
            Tally {
                compared: 2,
                agreed_before: 1,
                agreed_after: 0,
                flips: 1
            }
        );
        assert!(!s.per_dealership.contains_key("c"));
        assert_eq!(
            s.flips.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
            ["a/1", "b/1"]
        );
        let text = s.to_text();
        assert!(
            text.contains("flip a/1: good -> bad (label bad; now agrees with the label)"),
            "{text}"
        );
        assert!(
            text.contains(
                "flip b/1: good -> needs_review (label good; no longer agrees with the label)"
            ),
            "{text}"
        );
        assert_eq!(s.to_json()["overall"]["agreement_after"], 0.5);
    }

    #[test]
    fn a_file_without_current_verdicts_has_no_shadow() {
        assert_eq!(
            compare(&[judged("x", "a", Verdict::Good, None, Verdict::Good)]),
            None
        );
    }
}
