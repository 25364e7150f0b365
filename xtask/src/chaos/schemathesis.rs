//! schemathesis (from PyPI, in a venv in the tools folder) against the api's
//! `/openapi.json`, every check on, each request signed by
//! `xtask/schemathesis/hooks.py` so the real signature path is exercised. Any
//! failure (a 5xx, a response the schema does not describe, a body the schema
//! forbids but the api accepts, ...) fails the chaos run.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::install::{run_ok, tool_version};
use crate::paths;
use crate::stack::Stack;

const VERSION: &str = "4.32.5";
/// Generated cases per operation and phase.
const MAX_EXAMPLES: &str = "500";

fn venv() -> PathBuf {
    paths::tools().join("schemathesis-venv")
}

fn ensure_installed() -> Result<PathBuf> {
    let bin = venv().join("bin").join("schemathesis");
    if tool_version(&bin).ends_with(&format!("version {VERSION}")) {
        return Ok(bin);
    }
    println!(
        "xtask: installing schemathesis {VERSION} into {} (once)",
        venv().display()
    );
    run_ok(
        Command::new("python3").arg("-m").arg("venv").arg(venv()),
        "python3 -m venv",
    )?;
    run_ok(
        Command::new(venv().join("bin").join("pip")).args([
            "install",
            "--quiet",
            &format!("schemathesis=={VERSION}"),
        ]),
        "pip install schemathesis",
    )?;
    Ok(bin)
}

/// Runs schemathesis; returns its figures, or fails naming what it found.
pub fn run(stack: &Stack, dir: &Path) -> Result<Value> {
    let bin = ensure_installed()?;
    let report = dir.join("schemathesis-report.json");
    let out = Command::new(bin)
        .arg("run")
        .arg(format!("{}/openapi.json", stack.api_url()))
        .args(["--checks", "all", "--max-examples", MAX_EXAMPLES])
        .args(["--report", "json", "--report-json-path"])
        .arg(&report)
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env(
            "PYTHONPATH",
            paths::root().join("xtask").join("schemathesis"),
        )
        .env("WEBHOOK_SECRET", &stack.webhook_secret)
        .env("NO_COLOR", "1")
        // It keeps a cache (.schemathesis/) in its working folder.
        .current_dir(dir)
        .output()
        .context("could not start schemathesis")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    std::fs::write(dir.join("schemathesis.log"), stdout.as_bytes())?;
    let summary = std::fs::read_to_string(&report)
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .unwrap_or(Value::Null);
    if !out.status.success() {
        let tail: Vec<&str> = stdout.lines().rev().take(60).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "schemathesis found problems ({}; full log {}):\n{}",
            out.status,
            dir.join("schemathesis.log").display(),
            tail.join("\n")
        );
    }
    Ok(json!({
        "phase": "schemathesis against /openapi.json, signed requests",
        "version": VERSION,
        "checks": "all",
        "max_examples": MAX_EXAMPLES,
        "summary": summary_line(&stdout),
        // The report holds the seed as a float; the log has every digit.
        "seed": stdout.lines().find_map(|l| l.trim().strip_prefix("Seed: ")),
        "test_cases": summary["test_cases"],
        "failures": summary["failures"].as_array().map(Vec::len),
        "running_secs": summary["running_time"],
    }))
}

/// The line of the run's summary that counts the test cases.
fn summary_line(stdout: &str) -> Option<String> {
    stdout
        .lines()
        .find(|l| l.contains("generated") || l.contains("test cases"))
        .map(|l| l.trim().to_string())
}
