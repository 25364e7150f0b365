//! `cargo xtask fuzz [--secs N]`: coverage-guided fuzzing (cargo-fuzz, libFuzzer)
//! of the webhook's body decoding and signature check, `fuzz/fuzz_targets/`.
//!
//! Each target starts from its committed corpus (`fuzz/corpus/<target>`); inputs
//! that reach new code go to a scratch folder, not into the repository, and a
//! crash leaves its input in `fuzz/artifacts/` and fails the run. The toolchain
//! here is stable, so cargo-fuzz runs with `RUSTC_BOOTSTRAP=1` (it passes
//! `-Z` flags) and without a sanitizer (`-s none`): the targets are safe Rust,
//! and the invariants they check are in `api/src/invariants.rs`.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::process::Command;

use crate::install::{cargo_tool, cargo_tool_bin, run_ok};
use crate::paths;

pub const TARGETS: [&str; 2] = ["body", "signature"];
const CARGO_FUZZ_VERSION: &str = "0.13.2";

pub fn run(args: &[String]) -> Result<()> {
    let usage = "usage: cargo xtask fuzz [--secs N] [--keep]";
    let mut secs = 60;
    let mut keep = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--keep" => keep = true,
            "--secs" => {
                let n = args.next().context(usage)?;
                secs = n.parse().with_context(|| {
                    format!("--secs takes a whole number of seconds, got {n:?}")
                })?;
            }
            other => bail!("unknown option {other}\n{usage}"),
        }
    }
    let figures = fuzz_all(secs, keep)?;
    println!("{}", serde_json::to_string_pretty(&figures)?);
    Ok(())
}

/// Runs every target for `secs` seconds each; the figures per target. With
/// `keep`, the new inputs that reach code the corpus does not are merged into
/// `fuzz/corpus/<target>` (libFuzzer's `-merge=1`), to be committed.
pub fn fuzz_all(secs: u64, keep: bool) -> Result<Value> {
    ensure_cargo_fuzz()?;
    println!("xtask fuzz: building the instrumented targets (minutes the first time)");
    run_ok(
        &mut cargo_fuzz(&["build", "--sanitizer", "none"]),
        "cargo fuzz build",
    )?;
    let mut figures = Vec::new();
    for target in TARGETS {
        println!("xtask fuzz: {target} for {secs} s");
        figures.push(fuzz_one(target, secs, keep)?);
    }
    Ok(Value::Array(figures))
}

fn ensure_cargo_fuzz() -> Result<()> {
    cargo_tool(
        "cargo-fuzz",
        CARGO_FUZZ_VERSION,
        &format!("cargo-fuzz {CARGO_FUZZ_VERSION}"),
        "cargo-fuzz",
        true,
    )
}

/// `cargo fuzz <args>` in `fuzz/`, with its own instrumented build folder,
/// never mixed with the workspace's.
fn cargo_fuzz(args: &[&str]) -> Command {
    let root = paths::root().join("fuzz");
    let mut cmd = Command::new(cargo_tool_bin("cargo-fuzz"));
    cmd.arg("fuzz")
        .args(args)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", root.join("target"))
        .current_dir(root);
    cmd
}

fn fuzz_one(target: &str, secs: u64, keep: bool) -> Result<Value> {
    let root = paths::root().join("fuzz");
    let scratch = std::env::temp_dir().join(format!("dcm-fuzz-{}-{target}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)?;
    let corpus = root.join("corpus").join(target);
    let seeds = std::fs::read_dir(&corpus)
        .with_context(|| format!("reading {}", corpus.display()))?
        .count();
    let out = cargo_fuzz(&["run", "--sanitizer", "none", target])
        .arg(&scratch)
        .arg(&corpus)
        .args(["--", "-print_final_stats=1", "-max_len=65536"])
        .arg(format!("-max_total_time={secs}"))
        .output()
        .context("could not start cargo fuzz")?;
    let log = String::from_utf8_lossy(&out.stderr);
    let stat = |name: &str| -> Option<u64> {
        log.lines()
            .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
            .and_then(|v| v.trim().parse().ok())
    };
    let new_inputs = std::fs::read_dir(&scratch).map(|d| d.count()).unwrap_or(0);
    if keep && out.status.success() {
        run_ok(
            cargo_fuzz(&["run", "--sanitizer", "none", target])
                .arg(&corpus)
                .arg(&scratch)
                .args(["--", "-merge=1"]),
            "merging the new inputs into the corpus",
        )?;
    }
    let _ = std::fs::remove_dir_all(&scratch);
    if !out.status.success() {
        // The panic names the broken invariant; the input's bytes follow it.
        let lines: Vec<&str> = log.lines().collect();
        let broken: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.contains("panicked at"))
            .flat_map(|(i, _)| lines[i..lines.len().min(i + 2)].iter().copied())
            .collect();
        bail!(
            "fuzz target {target} failed ({}); the input is in fuzz/artifacts/{target}/ \
             (replay: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none {target} <file>):\n{}",
            out.status,
            broken.join("\n")
        );
    }
    let executions = stat("number_of_executed_units")
        .context("libFuzzer printed no number_of_executed_units")?;
    Ok(json!({
        "target": target,
        "seconds": secs,
        "executions": executions,
        "executions_per_second": stat("average_exec_per_sec"),
        "seed_inputs": seeds,
        "new_inputs_found": new_inputs,
        "peak_rss_mb": stat("peak_rss_mb"),
        "crashes": 0,
    }))
}
