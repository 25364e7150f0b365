//! Measuring a judge against labels: runs the worker's own [`Analyzer`] on
//! labelled calls and scores its verdicts (agreement, Cohen's κ, good-on-bad,
//! confusion matrix, per-flag precision and recall, quotes not in the
//! transcript) and, when the calls carry their current verdict, the shadow
//! comparison ([`shadow`]). Used by `cargo xtask eval`; pure apart from the
//! analyzer call.

pub mod shadow;

use std::collections::{BTreeMap, BTreeSet};

use domain::analysis::{Analysis, Flag, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::analyzer::{Analyzer, CallContext};

/// One labelled call: the format of `worker/tests/fixtures/*.json`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LabelledCall {
    pub id: String,
    pub transcript: String,
    #[serde(default)]
    pub duration_sec: Option<i32>,
    #[serde(default)]
    pub dealership_id: Option<String>,
    pub expected_verdict: Verdict,
    #[serde(default)]
    pub expected_flags: Vec<Flag>,
    /// The verdict the call has now (`reporting.eval_labels.current_verdict`):
    /// present, it makes the run a shadow run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_verdict: Option<Verdict>,
}

impl LabelledCall {
    /// What the worker would read from `calls` for this call.
    pub fn context(&self) -> CallContext {
        let dealership = self
            .dealership_id
            .clone()
            .unwrap_or_else(|| "eval".to_string());
        CallContext {
            dealership_name: dealership.clone(),
            dealership_id: dealership,
            dealership_timezone: "UTC".to_string(),
            call_id: self.id.clone(),
            transcript: self.transcript.clone(),
            transcript_sha256: None,
            started_at: None,
            duration_sec: self.duration_sec,
            direction: None,
            call_status: Some("ended".to_string()),
            disconnection_reason: None,
            customer_name: None,
            agent_id: None,
            metadata: None,
            retell_analysis: None,
        }
    }
}

/// The judge's answer on one call.
#[derive(Debug, Clone)]
pub struct Judged {
    pub call: LabelledCall,
    pub analysis: Analysis,
    /// Set when the analyzer failed: the call then counts as the worker would
    /// store it, a failed `needs_review` analysis.
    pub error: Option<String>,
    /// The judge's quotes that are not in the transcript (dropped).
    pub dropped_quotes: Vec<String>,
}

/// Runs `analyzer` on every call, one after the other (the worker's path:
/// `Analyzer::analyze` on the call's context).
pub async fn judge_all(analyzer: &Analyzer, calls: &[LabelledCall]) -> Vec<Judged> {
    let mut out = Vec::with_capacity(calls.len());
    for call in calls {
        let (analysis, error, dropped_quotes) = match analyzer.analyze(&call.context()).await {
            Ok(o) => (o.analysis, None, o.dropped_quotes),
            Err(e) => (Analysis::failed(), Some(e.message), vec![]),
        };
        out.push(Judged {
            call: call.clone(),
            analysis,
            error,
            dropped_quotes,
        });
    }
    out
}

/// Precision and recall of one flag.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FlagScore {
    pub tp: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
}

/// Everything `cargo xtask eval` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorecard {
    pub analyzer: String,
    pub total: usize,
    pub agreed: usize,
    /// `agreed / total`, 0-1.
    pub agreement: f64,
    /// Cohen's κ over the three verdicts; `None` when chance agreement is 1
    /// (every label and every verdict the same class).
    pub kappa: Option<f64>,
    /// Ids of calls labelled `bad` that the judge called `good`.
    pub good_on_bad: Vec<String>,
    /// `confusion[expected][got]`.
    pub confusion: BTreeMap<&'static str, BTreeMap<&'static str, usize>>,
    pub flags: BTreeMap<&'static str, FlagScore>,
    /// Calls whose analysis failed, with the cause.
    pub errors: Vec<(String, String)>,
    /// (id, expected, got, reasons) for every verdict disagreement.
    pub disagreements: Vec<(String, &'static str, &'static str, Vec<String>)>,
    /// (id, quotes) for every call where the judge quoted words that are not
    /// in the transcript: judge errors, as on the agreement panel.
    pub quote_errors: Vec<(String, Vec<String>)>,
    /// The comparison with the current verdicts, when the calls carry them.
    pub shadow: Option<shadow::Shadow>,
}

/// `n / d`, or `None` when `d` is 0.
pub(crate) fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Cohen's κ from a confusion matrix over [`Verdict::ALL`].
pub fn cohens_kappa(confusion: &BTreeMap<&str, BTreeMap<&str, usize>>) -> Option<f64> {
    let cell = |e: &str, g: &str| {
        confusion
            .get(e)
            .and_then(|r| r.get(g))
            .copied()
            .unwrap_or(0)
    };
    let n: usize = Verdict::ALL
        .iter()
        .flat_map(|e| Verdict::ALL.iter().map(move |g| (e, g)))
        .map(|(e, g)| cell(e.as_str(), g.as_str()))
        .sum();
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let observed: f64 = Verdict::ALL
        .iter()
        .map(|v| cell(v.as_str(), v.as_str()) as f64)
        .sum::<f64>()
        / n;
    let chance: f64 = Verdict::ALL
        .iter()
        .map(|v| {
            let row: usize = Verdict::ALL
                .iter()
                .map(|g| cell(v.as_str(), g.as_str()))
                .sum();
            let col: usize = Verdict::ALL
                .iter()
                .map(|e| cell(e.as_str(), v.as_str()))
                .sum();
            (row as f64 / n) * (col as f64 / n)
        })
        .sum();
    if (1.0 - chance).abs() < f64::EPSILON {
        return None;
    }
    Some((observed - chance) / (1.0 - chance))
}

pub fn score(analyzer: &str, judged: &[Judged]) -> Scorecard {
    let mut confusion: BTreeMap<&'static str, BTreeMap<&'static str, usize>> = Verdict::ALL
        .iter()
        .map(|e| {
            (
                e.as_str(),
                Verdict::ALL.iter().map(|g| (g.as_str(), 0)).collect(),
            )
        })
        .collect();
    let mut flags: BTreeMap<&'static str, FlagScore> = Flag::ALL
        .iter()
        .map(|f| (f.as_str(), FlagScore::default()))
        .collect();
    let mut agreed = 0;
    let mut good_on_bad = Vec::new();
    let mut errors = Vec::new();
    let mut disagreements = Vec::new();
    let mut quote_errors = Vec::new();
    for j in judged {
        let expected = j.call.expected_verdict;
        let got = j.analysis.verdict;
        *confusion
            .entry(expected.as_str())
            .or_default()
            .entry(got.as_str())
            .or_default() += 1;
        if expected == got {
            agreed += 1;
        } else {
            disagreements.push((
                j.call.id.clone(),
                expected.as_str(),
                got.as_str(),
                j.analysis.reasons.clone(),
            ));
        }
        if expected == Verdict::Bad && got == Verdict::Good {
            good_on_bad.push(j.call.id.clone());
        }
        if let Some(e) = &j.error {
            errors.push((j.call.id.clone(), e.clone()));
        }
        if !j.dropped_quotes.is_empty() {
            quote_errors.push((j.call.id.clone(), j.dropped_quotes.clone()));
        }
        let want: BTreeSet<Flag> = j.call.expected_flags.iter().copied().collect();
        let have: BTreeSet<Flag> = j.analysis.flags.iter().copied().collect();
        for f in Flag::ALL {
            let s = flags.entry(f.as_str()).or_default();
            match (want.contains(&f), have.contains(&f)) {
                (true, true) => s.tp += 1,
                (false, true) => s.fp += 1,
                (true, false) => s.fn_ += 1,
                (false, false) => {}
            }
        }
    }
    for s in flags.values_mut() {
        s.precision = ratio(s.tp, s.tp + s.fp);
        s.recall = ratio(s.tp, s.tp + s.fn_);
    }
    let total = judged.len();
    Scorecard {
        analyzer: analyzer.to_string(),
        total,
        agreed,
        agreement: ratio(agreed, total).unwrap_or(0.0),
        kappa: cohens_kappa(&confusion),
        good_on_bad,
        confusion,
        flags,
        errors,
        disagreements,
        quote_errors,
        shadow: shadow::compare(judged),
    }
}

/// A 0-1 share as a percentage with one decimal, or `n/a`.
pub(crate) fn pct(share: Option<f64>) -> String {
    share.map_or("n/a".to_string(), |v| format!("{:.1}%", v * 100.0))
}

impl Scorecard {
    /// The `--json` object.
    pub fn to_json(&self) -> Value {
        json!({
            "analyzer": self.analyzer,
            "total": self.total,
            "agreed": self.agreed,
            "agreement": self.agreement,
            "kappa": self.kappa,
            "good_on_bad": self.good_on_bad.len(),
            "good_on_bad_ids": self.good_on_bad,
            "confusion": self.confusion,
            "flags": self.flags,
            "errors": self.errors.iter().map(|(id, e)| json!({"id": id, "error": e})).collect::<Vec<_>>(),
            "disagreements": self.disagreements.iter().map(|(id, e, g, r)| json!({"id": id, "expected": e, "got": g, "reasons": r})).collect::<Vec<_>>(),
            "quote_errors": self.quote_errors.iter().map(|(id, q)| json!({"id": id, "dropped_quotes": q})).collect::<Vec<_>>(),
            "shadow": self.shadow.as_ref().map(shadow::Shadow::to_json),
        })
    }

    /// The human-readable report.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "analyzer: {}\ncalls: {}   agreement: {}/{} = {}   kappa: {}   good-on-bad: {}   judge errors: {}   quotes not in the transcript: {}\n",
            self.analyzer,
            self.total,
            self.agreed,
            self.total,
            pct(Some(self.agreement)),
            self.kappa.map_or("n/a".to_string(), |k| format!("{k:.3}")),
            self.good_on_bad.len(),
            self.errors.len(),
            self.quote_errors.iter().map(|(_, q)| q.len()).sum::<usize>()
        );
        out.push_str("\nconfusion (rows: label, columns: judge)\n");
        out.push_str(&format!(
            "  {:<14}{:>8}{:>14}{:>8}\n",
            "", "good", "needs_review", "bad"
        ));
        for e in Verdict::ALL {
            out.push_str(&format!("  {:<14}", e.as_str()));
            for (i, g) in Verdict::ALL.into_iter().enumerate() {
                let n = self.confusion[e.as_str()][g.as_str()];
                let width = if i == 1 { 14 } else { 8 };
                out.push_str(&format!("{n:>width$}"));
            }
            out.push('\n');
        }
        out.push_str("\nper flag                          tp  fp  fn  precision  recall\n");
        for (name, s) in &self.flags {
            out.push_str(&format!(
                "  {:<32}{:>3}{:>4}{:>4}{:>11}{:>8}\n",
                name,
                s.tp,
                s.fp,
                s.fn_,
                pct(s.precision),
                pct(s.recall)
            ));
        }
        if !self.good_on_bad.is_empty() {
            out.push_str(&format!("\ngood on bad: {}\n", self.good_on_bad.join(", ")));
        }
        for (id, e) in &self.errors {
            out.push_str(&format!("judge error on {id}: {e}\n"));
        }
        for (id, q) in &self.quote_errors {
            out.push_str(&format!("quotes not in the transcript of {id}: {q:?}\n"));
        }
        if !self.disagreements.is_empty() {
            out.push_str("\ndisagreements:\n");
            for (id, e, g, r) in &self.disagreements {
                out.push_str(&format!("  {id}: labelled {e}, judged {g}: {r:?}\n"));
            }
        }
        if let Some(s) = &self.shadow {
            out.push_str(&s.to_text());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: [[usize; 3]; 3]) -> BTreeMap<&'static str, BTreeMap<&'static str, usize>> {
        Verdict::ALL
            .iter()
            .zip(rows)
            .map(|(e, row)| {
                (
                    e.as_str(),
                    Verdict::ALL
                        .iter()
                        .zip(row)
                        .map(|(g, n)| (g.as_str(), n))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn kappa_matches_a_hand_computed_value() {
        // 50 calls; observed (15 + 10 + 11) / 50 = 0.72; row totals 20/15/15,
        // column totals 18/17/15; chance = (20*18 + 15*17 + 15*15) / 2500 = 0.336;
        // kappa = (0.72 - 0.336) / (1 - 0.336) = 0.5783
        let k = cohens_kappa(&matrix([[15, 4, 1], [2, 10, 3], [1, 3, 11]])).unwrap();
        assert!((k - 0.5783).abs() < 1e-3, "{k}");
    }

    #[test]
    fn perfect_agreement_is_one_and_chance_level_is_zero() {
        let k = cohens_kappa(&matrix([[5, 0, 0], [0, 5, 0], [0, 0, 5]])).unwrap();
        assert!((k - 1.0).abs() < 1e-9);
        let k = cohens_kappa(&matrix([[2, 2, 2], [2, 2, 2], [2, 2, 2]])).unwrap();
        assert!(k.abs() < 1e-9);
        assert_eq!(
            cohens_kappa(&matrix([[4, 0, 0], [0, 0, 0], [0, 0, 0]])),
            None
        );
    }
}
