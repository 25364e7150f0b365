//! Measures the offline heuristic analyzer against the hand-labelled call sets
//! in `tests/fixtures/` and prints a report (verdict agreement, confusion
//! matrix, per-flag precision/recall, every disagreement) to stderr, shown by
//! `cargo test` with or without `--nocapture`.
//!
//! Labels come from each call's situation (what happened to the caller), not
//! from what the rules detect. Four sets (docs/analysis.md, "Evaluation"):
//! - `development_calls.json`: written with `rules-v2`, which were tuned on it;
//! - `holdout_rules_v2.json`: written after `rules-v2` was frozen and never used
//!   to change a rule. Both must reach 80% verdict agreement with no `good`
//!   verdict on a call labelled `bad`;
//! - `labelled_calls.json` and `holdout_calls.json`: the `rules-v1` sets,
//!   labelled under the old, lenient policy (a quoted price or a transfer that
//!   ends the transcript could be `good`). Reported, and held to zero
//!   good-on-bad only.

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
    out.push_str(&format!(
        "\n=== heuristic-v1 (rules-v2) evaluation: {title} ===\n"
    ));
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

fn check_shape(name: &str, calls: &[LabelledCall], min_calls: usize) {
    assert!(
        calls.len() >= min_calls,
        "{name} has only {} calls",
        calls.len()
    );
    let ids: BTreeSet<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), calls.len(), "{name}: call ids must be unique");
    for v in Verdict::ALL {
        let n = calls.iter().filter(|c| c.expected_verdict == v).count();
        assert!(n >= 5, "{name}: only {n} calls labelled {}", v.as_str());
    }
    for c in calls {
        assert!(
            c.transcript.starts_with("Agent: ") || c.transcript.starts_with("User: "),
            "{} does not use the Agent:/User: transcript format",
            c.id
        );
        if c.expected_verdict == Verdict::Good {
            assert!(
                c.expected_flags.is_empty(),
                "{}: a good call has no flags",
                c.id
            );
        }
    }
}

/// Runs the rules on `name`, prints the report and returns it.
fn measure(name: &str, title: &str) -> Report {
    let calls = load_file(name);
    let report = evaluate(&calls);
    print(&format!("{title} (tests/fixtures/{name})"), &report);
    report
}

fn assert_thresholds(name: &str, report: &Report, min_agreement: f64) {
    assert!(
        report.good_on_bad.is_empty(),
        "{name}: calls labelled bad were judged good: {:?}",
        report.good_on_bad
    );
    let agreement = report.agree as f64 / report.total as f64;
    assert!(
        agreement >= min_agreement,
        "{name}: verdict agreement {:.1}% is below {:.0}%",
        agreement * 100.0,
        min_agreement * 100.0
    );
}

#[test]
fn the_sets_are_large_and_varied_enough() {
    check_shape(
        "development_calls.json",
        &load_file("development_calls.json"),
        20,
    );
    check_shape(
        "holdout_rules_v2.json",
        &load_file("holdout_rules_v2.json"),
        30,
    );
    let old = load_file("labelled_calls.json");
    check_shape("labelled_calls.json", &old, 48);
    for f in Flag::ALL {
        assert!(
            old.iter().any(|c| c.expected_flags.contains(&f)),
            "no labelled call has {}",
            f.as_str()
        );
    }
}

#[test]
fn on_the_development_set_the_rules_agree_with_80_percent_and_never_call_a_bad_call_good() {
    let report = measure("development_calls.json", "development set (rules-v2)");
    assert_thresholds("development_calls.json", &report, 0.80);
}

/// The holdout was written after `rules-v2` was frozen and must never be used
/// to tune them (a holdout that shaped the rules moves into the development
/// set and a new one is written, see docs/analysis.md): its numbers estimate
/// how the rules do on calls they were not fitted to.
#[test]
fn on_the_holdout_written_after_the_freeze_the_rules_agree_with_80_percent_and_never_call_a_bad_call_good(
) {
    let report = measure("holdout_rules_v2.json", "holdout written after the freeze");
    assert_thresholds("holdout_rules_v2.json", &report, 0.80);
}

/// The `rules-v1` sets were labelled under a policy the product dropped (see
/// the module comment), so their agreement is reported, not asserted; a `bad`
/// call judged `good` is wrong under either policy.
#[test]
fn on_the_rules_v1_sets_the_rules_never_call_a_bad_call_good() {
    for name in ["labelled_calls.json", "holdout_calls.json"] {
        let report = measure(name, "rules-v1 set, old labelling policy");
        assert_thresholds(name, &report, 0.0);
    }
}
