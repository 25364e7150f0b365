//! Measures the offline heuristic analyzer against the hand-labelled call sets
//! in `tests/fixtures/` and prints a report (verdict agreement, confusion
//! matrix, per-flag precision/recall, every disagreement) to stderr, shown by
//! `cargo test` with or without `--nocapture`.
//!
//! Labels come from each call's situation (what happened to the caller), not
//! from what the rules detect. The thresholds asserted on the labelled set are
//! the issue's: at least 85% verdict agreement and never a `good` verdict on a
//! call labelled `bad`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;

use domain::analysis::{Flag, Verdict};
use serde::Deserialize;
use worker::analyzer::heuristic::{analyze, HeuristicInput};

#[derive(Debug, Deserialize)]
struct LabelledCall {
    id: String,
    dealership_id: String,
    transcript: String,
    duration_sec: Option<i32>,
    expected_verdict: Verdict,
    expected_flags: Vec<Flag>,
}

fn load_file(name: &str) -> Vec<LabelledCall> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn load() -> Vec<LabelledCall> {
    load_file("labelled_calls.json")
}

struct Report {
    total: usize,
    agree: usize,
    good_on_bad: Vec<String>,
    confusion: BTreeMap<(&'static str, &'static str), usize>,
    flag_tp: BTreeMap<&'static str, usize>,
    flag_fp: BTreeMap<&'static str, usize>,
    flag_fn: BTreeMap<&'static str, usize>,
    disagreements: Vec<String>,
}

fn evaluate(calls: &[LabelledCall]) -> Report {
    let mut r = Report {
        total: calls.len(),
        agree: 0,
        good_on_bad: vec![],
        confusion: BTreeMap::new(),
        flag_tp: BTreeMap::new(),
        flag_fp: BTreeMap::new(),
        flag_fn: BTreeMap::new(),
        disagreements: vec![],
    };
    for call in calls {
        let a = analyze(&HeuristicInput {
            transcript: &call.transcript,
            duration_sec: call.duration_sec,
            ..Default::default()
        });
        a.validate()
            .unwrap_or_else(|e| panic!("{}: the heuristic broke the contract: {e}", call.id));
        *r.confusion
            .entry((call.expected_verdict.as_str(), a.verdict.as_str()))
            .or_default() += 1;
        if a.verdict == call.expected_verdict {
            r.agree += 1;
        } else {
            r.disagreements.push(format!(
                "  {} [{}]: labelled {} {:?}, heuristic {} {:?}\n      reasons: {:?}",
                call.id,
                call.dealership_id,
                call.expected_verdict.as_str(),
                call.expected_flags
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>(),
                a.verdict.as_str(),
                a.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
                a.reasons
            ));
        }
        if call.expected_verdict == Verdict::Bad && a.verdict == Verdict::Good {
            r.good_on_bad.push(call.id.clone());
        }
        let expected: BTreeSet<Flag> = call.expected_flags.iter().copied().collect();
        let got: BTreeSet<Flag> = a.flags.iter().copied().collect();
        for f in Flag::ALL {
            let name = f.as_str();
            match (expected.contains(&f), got.contains(&f)) {
                (true, true) => *r.flag_tp.entry(name).or_default() += 1,
                (false, true) => *r.flag_fp.entry(name).or_default() += 1,
                (true, false) => *r.flag_fn.entry(name).or_default() += 1,
                (false, false) => {}
            }
        }
    }
    r
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "n/a".to_string()
    } else {
        format!("{:.1}%", 100.0 * n as f64 / d as f64)
    }
}

fn print(title: &str, r: &Report) {
    let mut out = String::new();
    out.push_str(&format!("\n=== heuristic-v1 evaluation: {title} ===\n"));
    out.push_str(&format!(
        "calls: {}   verdict agreement: {}/{} = {}   good-on-bad: {}\n",
        r.total,
        r.agree,
        r.total,
        pct(r.agree, r.total),
        r.good_on_bad.len()
    ));
    out.push_str("\nconfusion (rows: label, columns: heuristic)\n");
    out.push_str(&format!(
        "  {:<14}{:>8}{:>14}{:>8}\n",
        "", "good", "needs_review", "bad"
    ));
    for label in Verdict::ALL {
        out.push_str(&format!("  {:<14}", label.as_str()));
        for (i, got) in Verdict::ALL.into_iter().enumerate() {
            let n = r
                .confusion
                .get(&(label.as_str(), got.as_str()))
                .copied()
                .unwrap_or(0);
            let width = if i == 1 { 14 } else { 8 };
            out.push_str(&format!("{n:>width$}"));
        }
        out.push('\n');
    }
    out.push_str("\nper flag            labelled  found  tp  fp  fn  precision  recall\n");
    for f in Flag::ALL {
        let name = f.as_str();
        let tp = r.flag_tp.get(name).copied().unwrap_or(0);
        let fp = r.flag_fp.get(name).copied().unwrap_or(0);
        let fn_ = r.flag_fn.get(name).copied().unwrap_or(0);
        out.push_str(&format!(
            "  {:<32}{:>3}{:>7}{:>4}{:>4}{:>4}{:>11}{:>8}\n",
            name,
            tp + fn_,
            tp + fp,
            tp,
            fp,
            fn_,
            pct(tp, tp + fp),
            pct(tp, tp + fn_)
        ));
    }
    if !r.disagreements.is_empty() {
        out.push_str("\nverdict disagreements:\n");
        for d in &r.disagreements {
            out.push_str(d);
            out.push('\n');
        }
    }
    // Written to the stderr handle directly, not with eprintln!: libtest
    // captures the print macros of passing tests, so the report would only
    // show with --nocapture.
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(out.as_bytes());
    let _ = stderr.flush();
}

#[test]
fn the_labelled_set_is_large_and_varied_enough() {
    let calls = load();
    assert!(calls.len() >= 48, "only {} labelled calls", calls.len());
    let ids: BTreeSet<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), calls.len(), "labelled call ids must be unique");
    for v in Verdict::ALL {
        let n = calls.iter().filter(|c| c.expected_verdict == v).count();
        assert!(n >= 10, "only {n} calls labelled {}", v.as_str());
    }
    for f in Flag::ALL {
        assert!(
            calls.iter().any(|c| c.expected_flags.contains(&f)),
            "no labelled call has {}",
            f.as_str()
        );
    }
    for c in &calls {
        assert!(
            c.transcript.starts_with("Agent: ") || c.transcript.starts_with("User: "),
            "{} does not use the Agent:/User: transcript format",
            c.id
        );
        assert_eq!(
            c.expected_verdict == Verdict::Good,
            c.expected_flags.is_empty(),
            "{}: a good call has no flags and a flagged call is not good",
            c.id
        );
    }
}

#[test]
fn the_heuristic_agrees_with_at_least_85_percent_of_labels_and_never_calls_a_bad_call_good() {
    let calls = load();
    let report = evaluate(&calls);
    print("labelled set (tests/fixtures/labelled_calls.json)", &report);
    assert!(
        report.good_on_bad.is_empty(),
        "calls labelled bad were judged good: {:?}",
        report.good_on_bad
    );
    let agreement = report.agree as f64 / report.total as f64;
    assert!(
        agreement >= 0.85,
        "verdict agreement {:.1}% is below 85%",
        agreement * 100.0
    );
}

/// The holdout set was written after the rules were frozen and must never be
/// used to tune them (a holdout that shaped the rules moves into the labelled
/// set and a new one is written, see docs/analysis.md): its numbers estimate
/// how the rules do on calls they were not fitted to. It is reported and held
/// to the output contract; the 85% bar applies to the labelled set, as the
/// issue asks.
#[test]
fn the_heuristic_is_reported_on_the_holdout_set_it_was_not_tuned_on() {
    let calls = load_file("holdout_calls.json");
    assert!(
        calls.len() >= 20,
        "the holdout set has {} calls",
        calls.len()
    );
    let report = evaluate(&calls);
    print("holdout set (tests/fixtures/holdout_calls.json)", &report);
    assert_eq!(report.total, calls.len());
}
