//! `cargo xtask test`: every suite, against a throwaway stack on free ports in a
//! temporary folder (so it runs beside `up`), ending with one summary line.
//!
//! Stages: lint (fmt, clippy), docs in sync with the tests that run their SQL,
//! unit + integration (`cargo test`, with a template database every test clones), pgTAP (`pg_prove`), end-to-end and browser tests
//! (`cargo test -p e2e` against the full running stack).

use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use crate::install::{self, run_ok};
use crate::stack::{self, Ports, Stack};
use crate::supervise::Supervisor;
use crate::{dashboard, keys, paths, pg};

/// Removes the throwaway folder however the run ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Which stages `cargo xtask test` runs (all by default; `--only` picks some).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stages {
    lint: bool,
    docs: bool,
    unit: bool,
    pgtap: bool,
    e2e: bool,
    bench: bool,
}

impl Default for Stages {
    fn default() -> Self {
        Self {
            lint: true,
            docs: true,
            unit: true,
            pgtap: true,
            e2e: true,
            bench: true,
        }
    }
}

impl Stages {
    const NONE: Self = Self {
        lint: false,
        docs: false,
        unit: false,
        pgtap: false,
        e2e: false,
        bench: false,
    };

    /// `lint,docs,unit,pgtap,e2e,bench` in any order and combination.
    pub fn parse(list: &str) -> Result<Self> {
        let mut stages = Self::NONE;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "lint" => stages.lint = true,
                "docs" => stages.docs = true,
                "unit" => stages.unit = true,
                "pgtap" => stages.pgtap = true,
                "e2e" => stages.e2e = true,
                "bench" => stages.bench = true,
                other => {
                    bail!("unknown test stage `{other}` (stages: lint, docs, unit, pgtap, e2e, bench)")
                }
            }
        }
        if stages == Self::NONE {
            bail!("--only needs at least one stage (lint, docs, unit, pgtap, e2e, bench)");
        }
        Ok(stages)
    }

    fn needs_stack(self) -> bool {
        self.unit || self.pgtap || self.e2e
    }
}

/// `TEST_FILTER`: a substring that narrows the cargo test stages to matching test
/// names and the pgTAP stage to matching file names.
fn test_filter() -> Option<String> {
    std::env::var("TEST_FILTER").ok().filter(|f| !f.is_empty())
}

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

pub fn run(stages: Stages) -> Result<()> {
    let started = Instant::now();
    let stopping = Arc::new(AtomicBool::new(false));
    {
        let stopping = stopping.clone();
        // Children in the terminal's process group get Ctrl-C themselves; we only
        // need to survive it long enough to clean up.
        ctrlc::set_handler(move || stopping.store(true, std::sync::atomic::Ordering::SeqCst))?;
    }
    install::ensure(install::Purpose::Test)?;
    let root = paths::root();
    let mut summary: Vec<String> = Vec::new();

    if stages.lint {
        lint(&root)?;
        summary.push("lint ok".into());
    }
    if stages.docs {
        let synced = docs_in_sync(&root)?;
        summary.push(format!("docs {synced} sync checks"));
    }
    if !stages.needs_stack() {
        if stages.bench {
            bench_smoke(&mut summary)?;
        }
        println!(
            "\nxtask test: ALL PASSED in {:.0} s: {}",
            started.elapsed().as_secs_f64(),
            summary.join(" · ")
        );
        return Ok(());
    }
    let filter = test_filter();
    if stages.unit || stages.e2e {
        stack::build_services()?;
    }
    let built_site = if stages.e2e {
        Some(dashboard::build()?)
    } else {
        None
    };
    if stages.unit {
        npm_ci_if_present(&root.join("gateway/tests/supabase-js"))?;
    }

    let tmp = TempDir(std::env::temp_dir().join(format!("dcm-test-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&tmp.0);
    std::fs::create_dir_all(tmp.0.join("logs"))?;
    let ports = Ports::free()?;
    let stack = Stack {
        ports,
        db: "app".into(),
        webhook_secret: keys::random_secret(),
        dir: tmp.0.clone(),
    };
    let mut sup = Supervisor::new(stopping.clone());
    let cluster = pg::Cluster::at(tmp.0.join("pg"), ports.pg, pg::Durability::Fast)?;
    println!(
        "xtask test: throwaway Postgres on port {} in {}",
        ports.pg,
        tmp.0.display()
    );
    stack::start_postgres(&mut sup, &cluster, &stack.logs())?;
    cluster.prepare_database("app_template", true)?;

    if stages.unit {
        println!("xtask test: unit and integration tests (cargo test)");
        let mut cmd = Command::new("cargo");
        cmd.args(["test", "--no-fail-fast", "--workspace", "--exclude", "e2e"])
            .env("TEST_DATABASE_URL", cluster.url("postgres"))
            .env("TEST_TEMPLATE_DB", "app_template")
            .env("POSTGREST_BIN", paths::postgrest_bin())
            .current_dir(&root);
        if let Some(filter) = &filter {
            cmd.args(["--", filter]);
        }
        let tally = cargo_test(&mut cmd)?;
        summary.push(format!("unit+integration {} passed", tally.passed));
        if tally.failed > 0 {
            bail!("{} unit/integration tests failed (see above)", tally.failed);
        }
    }

    if stages.pgtap {
        println!("xtask test: pgTAP (pg_prove supabase/tests)");
        cluster.clone_database("pgtap", "app_template")?;
        let files = pgtap_files(&root.join("supabase/tests"), filter.as_deref())?;
        let output = pg::pg_prove(&cluster, "pgtap", &files)?;
        print!("{output}");
        summary.push(format!(
            "pgTAP {} ({} files)",
            pgtap_count(&output),
            files.len()
        ));
    }

    if let Some(built_site) = &built_site {
        println!("xtask test: end-to-end and browser tests against a running stack");
        cluster.clone_database("app", "app_template")?;
        stack::install_site(&stack, built_site)?;
        stack::start_services(&mut sup, &stack)?;
        let mut cmd = Command::new("cargo");
        cmd.args(["test", "--no-fail-fast", "-p", "e2e"])
            .env("E2E_ARTIFACTS", paths::target_dir().join("e2e-artifacts"))
            .env("STACK_LOGS_DIR", stack.logs())
            .env("DASHBOARD_SITE_DIR", built_site)
            .current_dir(&root);
        for (k, v) in stack.env() {
            cmd.env(k, v);
        }
        if let Some(filter) = &filter {
            cmd.args(["--", filter]);
        }
        let tally = cargo_test(&mut cmd)?;
        summary.push(format!("e2e+browser {} passed", tally.passed));
        if tally.failed > 0 {
            bail!(
                "{} end-to-end tests failed (see above; service logs in {})",
                tally.failed,
                stack.logs().display()
            );
        }
    }
    sup.shutdown();
    if stages.bench {
        bench_smoke(&mut summary)?;
    }
    println!(
        "\nxtask test: ALL PASSED in {:.0} s: {}",
        started.elapsed().as_secs_f64(),
        summary.join(" · ")
    );
    Ok(())
}

/// `cargo xtask bench --smoke`: a few seconds per part on the benchmark's own
/// throwaway stack, proving it still runs and produces numbers. It never checks
/// a timing threshold.
fn bench_smoke(summary: &mut Vec<String>) -> Result<()> {
    println!("xtask test: bench smoke (cargo xtask bench --smoke)");
    let numbers = crate::bench::smoke()?;
    summary.push(format!("bench smoke {numbers} numbers"));
    Ok(())
}

/// `cargo fmt --check` and `cargo clippy -D warnings` over the workspace.
fn lint(root: &Path) -> Result<()> {
    println!("xtask test: lint (cargo fmt --check, cargo clippy -D warnings)");
    run_ok(
        Command::new("cargo")
            .args(["fmt", "--all", "--check"])
            .current_dir(root),
        "cargo fmt --check (run `cargo fmt --all`)",
    )?;
    run_ok(
        Command::new("cargo")
            .args([
                "clippy",
                "--quiet",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(root),
        "cargo clippy -D warnings",
    )
}

/// Runs every ```sh block in docs/*.md that starts with `diff <(`: each compares the
/// SQL a page shows with the test that runs it, and must print nothing.
fn docs_in_sync(root: &Path) -> Result<usize> {
    let mut checks = 0;
    for entry in std::fs::read_dir(root.join("docs"))? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        for block in text.split("```sh\n").skip(1) {
            let Some(script) = block.split("\n```").next() else {
                continue;
            };
            if !script.starts_with("diff <(") {
                continue;
            }
            let out = Command::new("bash")
                .args(["-c", script])
                .current_dir(root)
                .output()?;
            if !out.status.success() || !out.stdout.is_empty() {
                bail!(
                    "{} shows SQL that differs from the test that runs it:\n{}{}",
                    path.display(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            checks += 1;
        }
    }
    Ok(checks)
}

/// Runs `cargo test`, streaming its output and adding up its result lines.
fn cargo_test(cmd: &mut Command) -> Result<Tally> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .context("could not start cargo test")?;
    let stdout = child.stdout.take().context("piped stdout")?;
    let mut tally = Tally::default();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            tally.passed += number_before(rest, " passed");
            tally.failed += number_before(rest, " failed");
        }
    }
    let status = child.wait()?;
    if !status.success() && tally.failed == 0 {
        bail!("cargo test failed ({status}) before running every test (a build error?)");
    }
    Ok(tally)
}

fn number_before(text: &str, suffix: &str) -> u64 {
    text.split(';')
        .find_map(|part| {
            part.trim()
                .trim_start_matches("ok. ")
                .trim_start_matches("FAILED. ")
                .strip_suffix(suffix)
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

fn pgtap_files(dir: &Path, filter: Option<&str>) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.sql"))
        // Files named 000-* install the shared helpers the others call.
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("000-") || filter.is_none_or(|f| name.contains(f))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!(
            "no pgTAP files in {}{}",
            dir.display(),
            filter
                .map(|f| format!(" match TEST_FILTER={f}"))
                .unwrap_or_default()
        );
    }
    Ok(files)
}

/// "Files=3, Tests=120, ..." from pg_prove's summary.
fn pgtap_count(output: &str) -> String {
    output
        .lines()
        .find_map(|l| l.split(", ").find(|p| p.starts_with("Tests=")))
        .map(|t| format!("{} passed", t.trim_start_matches("Tests=")))
        .unwrap_or_else(|| "passed".into())
}

fn npm_ci_if_present(dir: &Path) -> Result<()> {
    if !dir.join("package-lock.json").exists() {
        return Ok(());
    }
    run_ok(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir),
        &format!("npm ci in {}", dir.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_are_added_up() {
        let line =
            "ok. 12 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s";
        assert_eq!(number_before(line, " passed"), 12);
        assert_eq!(
            number_before("FAILED. 3 passed; 2 failed; 0 ignored", " failed"),
            2
        );
    }

    #[test]
    fn pg_prove_summary_is_read() {
        assert_eq!(
            pgtap_count(
                "All tests successful.\nFiles=3, Tests=120,  1 wallclock secs\nResult: PASS"
            ),
            "120 passed"
        );
    }
}
