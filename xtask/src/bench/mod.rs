//! `cargo xtask bench`: the rerunnable benchmark. It starts a throwaway stack on
//! free ports in a temporary folder (release builds where a part runs our
//! services), runs the chosen parts, and writes `bench/results/<date>-<sha>.json`
//! with a Markdown summary beside it, which it also prints. Every result records
//! the machine (cores, memory), the Postgres durability settings and the run's
//! parameters. `--smoke` is the few-second run `cargo xtask test --only bench`
//! makes: it checks that every part produces numbers, never how fast they are, and
//! writes nothing into the repository.
//!
//! Parts: `queries` (the dashboard's queries at N calls under RLS), `dashboard`
//! (download sizes, and the time to the login form and from login to the call list
//! in headless Chromium, served by the gateway), `ingest` (the webhook against the PostgREST baseline, fast and
//! durable Postgres) and `e2e` (webhook to committed analysis with a 300 ms fake
//! LLM). One file per part; each returns a [`Part`]. The services run from release
//! builds, except in `--smoke`, which uses the debug builds the tests already made.

mod browser;
mod dashboard;
mod end_to_end;
mod ingest;
mod load;
mod queries;
mod services;
mod stats;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::install::run_ok;
use crate::pg::Cluster;
use crate::stack::{self, Ports, Stack};
use crate::supervise::Supervisor;
use crate::{install, keys, paths};

/// What one part of the benchmark measured.
pub struct Part {
    pub name: String,
    pub json: Value,
    pub markdown: String,
}

/// The parts `--only` can pick, in the order they run.
pub const PARTS: [&str; 4] = ["queries", "dashboard", "ingest", "e2e"];

#[derive(Debug, Clone)]
pub struct Options {
    /// Parts to run (names from [`PARTS`]).
    pub only: Vec<String>,
    pub smoke: bool,
    /// Calls the query benchmark seeds.
    pub calls: u64,
    /// Calls timed from webhook to analysis in the end-to-end part (default 400,
    /// 10 with `--smoke`).
    pub e2e_calls: Option<usize>,
    /// Cold browser runs the dashboard part times (default 20, 2 with `--smoke`).
    pub browser_runs: usize,
}

impl Options {
    /// `[--only queries,dashboard,ingest,e2e] [--smoke] [--calls N] [--e2e-calls N]
    /// [--browser-runs N]`.
    pub fn parse(flags: &[&str]) -> Result<Options> {
        let mut only: Vec<String> = Vec::new();
        let mut smoke = false;
        let mut calls = None;
        let mut e2e_calls = None;
        let mut browser_runs = None;
        let mut it = flags.iter();
        while let Some(flag) = it.next() {
            match *flag {
                "--smoke" => smoke = true,
                "--only" => {
                    let list = it.next().context("--only needs a list of parts")?;
                    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                        if !PARTS.contains(&name) {
                            bail!("unknown bench part `{name}` (parts: {})", PARTS.join(", "));
                        }
                        only.push(name.to_string());
                    }
                }
                "--calls" => {
                    let n = it.next().context("--calls needs a number")?;
                    calls = Some(
                        n.replace('_', "")
                            .parse::<u64>()
                            .with_context(|| format!("--calls {n}: not a number"))?,
                    );
                }
                "--e2e-calls" => {
                    let n = it.next().context("--e2e-calls needs a number")?;
                    e2e_calls = Some(
                        n.parse()
                            .ok()
                            .filter(|n| *n > 0)
                            .with_context(|| format!("--e2e-calls {n}: not a positive number"))?,
                    );
                }
                "--browser-runs" => {
                    let n = it.next().context("--browser-runs needs a number")?;
                    browser_runs =
                        Some(n.parse().ok().filter(|n| *n > 0).with_context(|| {
                            format!("--browser-runs {n}: not a positive number")
                        })?);
                }
                other => bail!("unknown bench option {other}"),
            }
        }
        if only.is_empty() {
            only = PARTS.iter().map(|p| p.to_string()).collect();
        }
        let calls = calls.unwrap_or(if smoke { 2_000 } else { 1_000_000 });
        if calls < 1_000 {
            bail!("--calls must be at least 1000");
        }
        Ok(Options {
            only,
            smoke,
            calls,
            e2e_calls,
            browser_runs: browser_runs.unwrap_or(if smoke { 2 } else { 20 }),
        })
    }

    pub fn runs(&self, part: &str) -> bool {
        self.only.iter().any(|p| p == part)
    }
}

/// Everything a part may use: the running stack and the run's options.
pub struct Bench {
    pub options: Options,
    pub stack: Stack,
    pub cluster: Cluster,
    pub sup: Supervisor,
}

/// Removes the throwaway folder however the run ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `cargo xtask bench ...`: runs, writes the results into `bench/results/`, prints
/// the summary.
pub fn run(options: Options) -> Result<()> {
    let (report, markdown) = measure(&options)?;
    let sha = report["git_sha"].as_str().unwrap_or("nogit").to_string();
    let dir = paths::root().join("bench").join("results");
    std::fs::create_dir_all(&dir)?;
    let stem = format!(
        "{}-{}{}",
        chrono::Utc::now().format("%Y-%m-%d"),
        sha,
        if options.smoke { "-smoke" } else { "" }
    );
    let json_path = dir.join(format!("{stem}.json"));
    let md_path = dir.join(format!("{stem}.md"));
    std::fs::write(&json_path, serde_json::to_string_pretty(&report)? + "\n")?;
    std::fs::write(&md_path, &markdown)?;
    println!("{markdown}");
    println!(
        "xtask bench: wrote {} and {}",
        json_path.display(),
        md_path.display()
    );
    Ok(())
}

/// The smoke run inside `cargo xtask test`: every part that needs no extra
/// release build, tiny sizes, and a check that each produced numbers. Returns how
/// many numbers it checked.
pub fn smoke() -> Result<usize> {
    let options = Options {
        only: PARTS.iter().map(|p| p.to_string()).collect(),
        smoke: true,
        calls: 2_000,
        e2e_calls: None,
        browser_runs: 2,
    };
    let (report, _) = measure(&options)?;
    let mut numbers = 0;
    for part in report["parts"]
        .as_object()
        .context("parts in the report")?
        .values()
    {
        numbers += count_numbers(part);
    }
    for name in &options.only {
        if report["parts"].get(name).is_none() {
            continue; // a part not wired in yet
        }
        if count_numbers(&report["parts"][name]) == 0 {
            bail!("bench smoke: part {name} produced no numbers");
        }
    }
    for name in ["ingest", "end_to_end", "dashboard"] {
        if let Some(part) = report["parts"].get(name) {
            check_numbers(name, part)?;
        }
    }
    if let Some(queries) = report["parts"]["queries"]["results"].as_array() {
        for q in queries {
            let p50 = q["p50_ms"].as_f64().unwrap_or(-1.0);
            if p50 <= 0.0 || q["samples"].as_u64().unwrap_or(0) == 0 {
                bail!("bench smoke: query {} has no timing: {q}", q["query"]);
            }
        }
    }
    Ok(numbers)
}

/// The ingest, end-to-end and browser figures the smoke run must find: finite,
/// and positive (they count requests or milliseconds). Never a timing threshold.
fn check_numbers(name: &str, part: &Value) -> Result<()> {
    let paths: Vec<String> = match name {
        "ingest" => (0..2)
            .flat_map(|v| {
                ["webhook", "postgrest"].into_iter().flat_map(move |t| {
                    [
                        format!("/variants/{v}/{t}/saturation/per_second/median"),
                        format!("/variants/{v}/{t}/saturation/p99_ms/median"),
                        format!("/variants/{v}/{t}/open_loop/0/latency/p99_ms"),
                    ]
                })
            })
            .collect(),
        "dashboard" => ["login_form_ms", "login_to_rows_ms"]
            .into_iter()
            .flat_map(|t| {
                ["median", "min", "max", "p95"].map(|s| format!("/browser_timings/{t}/{s}"))
            })
            .collect(),
        _ => vec![
            "/latency/ms/p50_ms".into(),
            "/latency/ms/p95_ms".into(),
            "/throughput/0/analyses_per_second".into(),
        ],
    };
    let missing: Vec<String> = paths
        .into_iter()
        .filter(|p| {
            !part
                .pointer(p)
                .and_then(Value::as_f64)
                .is_some_and(|x| x.is_finite() && x > 0.0)
        })
        .collect();
    if !missing.is_empty() {
        bail!(
            "bench smoke: part {name} produced no number for {}",
            missing.join(", ")
        );
    }
    Ok(())
}

fn count_numbers(v: &Value) -> usize {
    match v {
        Value::Number(_) => 1,
        Value::Array(a) => a.iter().map(count_numbers).sum(),
        Value::Object(o) => o.values().map(count_numbers).sum(),
        _ => 0,
    }
}

/// Starts the stack, runs the parts, stops everything; returns the report and
/// its Markdown.
fn measure(options: &Options) -> Result<(Value, String)> {
    let started = Instant::now();
    // The code measured is the code at the start of the run.
    let sha = git_sha();
    install::ensure(install::Purpose::Test)?;
    let mut binaries = Vec::new();
    if options.runs("ingest") || options.runs("e2e") {
        binaries.extend(["api", "worker"]);
    }
    if options.runs("dashboard") {
        binaries.push("gateway");
    }
    if !binaries.is_empty() {
        build_services(&binaries, options.smoke)?;
    }
    let tmp = TempDir(std::env::temp_dir().join(format!("dcm-bench-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&tmp.0);
    std::fs::create_dir_all(tmp.0.join("logs"))?;
    let ports = Ports::free()?;
    let stack = Stack {
        ports,
        db: "app".into(),
        webhook_secret: keys::random_secret(),
        dir: tmp.0.clone(),
    };
    let cluster = Cluster::at(tmp.0.join("pg"), ports.pg, crate::pg::Durability::Fast)?;
    let mut sup = Supervisor::new(Arc::new(AtomicBool::new(false)));
    println!(
        "xtask bench: throwaway Postgres on port {} in {}",
        ports.pg,
        tmp.0.display()
    );
    stack::start_postgres(&mut sup, &cluster, &stack.logs())?;
    cluster.prepare_database("app", false)?;
    // EXPLAIN evidence through PostgREST: the plan of exactly the query it runs,
    // under the caller's RLS.
    stack::start_postgrest(&mut sup, &stack, "db-plan-enabled = true\n")?;

    let mut bench = Bench {
        options: options.clone(),
        stack,
        cluster,
        sup,
    };
    let mut parts = serde_json::Map::new();
    let mut sections = Vec::new();
    for name in PARTS.iter().filter(|p| options.runs(p)) {
        let part_started = Instant::now();
        let part = match *name {
            "queries" => Some(queries::run(&mut bench)?),
            "dashboard" => Some(dashboard::run(&mut bench)?),
            "ingest" => Some(ingest::run(options, &tmp.0)?),
            "e2e" => Some(end_to_end::run(options, &tmp.0)?),
            _ => None,
        };
        let Some(part) = part else {
            println!("xtask bench: part {name} is not implemented yet; skipped");
            continue;
        };
        println!(
            "xtask bench: part {} done in {:.0} s",
            part.name,
            part_started.elapsed().as_secs_f64()
        );
        sections.push(part.markdown);
        parts.insert(part.name, part.json);
    }
    let machine = machine(&bench.cluster, &bench.stack.db)?;
    bench.sup.shutdown();

    let report = json!({
        "date": chrono::Utc::now().to_rfc3339(),
        "git_sha": sha,
        "machine": machine,
        "parameters": {
            "parts": options.only,
            "smoke": options.smoke,
            "calls": options.calls,
            "seconds": started.elapsed().as_secs(),
        },
        "parts": parts,
    });
    let markdown = format!(
        "# Benchmark {}\n\n{}\n\n{}\n",
        report["date"].as_str().unwrap_or(""),
        machine_markdown(&report),
        sections.join("\n\n")
    );
    Ok((report, markdown))
}

/// Cores, memory, and the Postgres settings that decide what a commit costs.
fn machine(cluster: &Cluster, db: &str) -> Result<Value> {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut postgres = serde_json::Map::new();
    for setting in [
        "server_version",
        "fsync",
        "synchronous_commit",
        "full_page_writes",
        "wal_level",
        "shared_buffers",
        "work_mem",
        "effective_cache_size",
        "jit",
        "max_connections",
    ] {
        postgres.insert(
            setting.into(),
            json!(cluster.query_value(db, &format!("show {setting}"))?),
        );
    }
    Ok(json!({
        "cores": cores,
        "cpu": cpu,
        "memory_gib": (mem_kb as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "load_average_at_end": load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
        "postgres": postgres,
    }))
}

fn machine_markdown(report: &Value) -> String {
    let m = &report["machine"];
    let pg = &m["postgres"];
    format!(
        "Machine: {} cores ({}), {} GiB memory, load average at the end {}. \
         Postgres {}: fsync={}, synchronous_commit={}, full_page_writes={}, shared_buffers={}, jit={}. \
         Run: parts {}, {} calls{}, git {}, {} s.",
        m["cores"],
        m["cpu"].as_str().unwrap_or("?"),
        m["memory_gib"],
        m["load_average_at_end"].as_str().unwrap_or("?"),
        pg["server_version"].as_str().unwrap_or("?"),
        pg["fsync"].as_str().unwrap_or("?"),
        pg["synchronous_commit"].as_str().unwrap_or("?"),
        pg["full_page_writes"].as_str().unwrap_or("?"),
        pg["shared_buffers"].as_str().unwrap_or("?"),
        pg["jit"].as_str().unwrap_or("?"),
        report["parameters"]["parts"],
        report["parameters"]["calls"],
        if report["parameters"]["smoke"].as_bool() == Some(true) {
            " (smoke run: sizes too small to mean anything)"
        } else {
            ""
        },
        report["git_sha"].as_str().unwrap_or("?"),
        report["parameters"]["seconds"],
    )
}

/// The short commit id, with `-dirty` when the work tree has changes.
fn git_sha() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .current_dir(paths::root())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let sha = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .current_dir(paths::root())
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    Some(if dirty { format!("{sha}-dirty") } else { sha })
}

/// Whether the api and the worker run from release builds (every measuring run)
/// or from the debug builds the test suite has already made (`--smoke`, which only
/// checks that the tooling produces numbers and must not cost a release build).
static RELEASE: AtomicBool = AtomicBool::new(true);

/// Release builds for measuring: debug builds measure the compiler, not the service.
fn build_services(binaries: &[&str], smoke: bool) -> Result<()> {
    RELEASE.store(!smoke, Ordering::SeqCst);
    let mut args = vec!["build", "--quiet"];
    for bin in binaries {
        args.extend(["-p", bin]);
    }
    if !smoke {
        args.push("--release");
    }
    let what = format!("cargo {}", args.join(" "));
    println!("xtask bench: {what}");
    run_ok(
        Command::new("cargo").args(&args).current_dir(paths::root()),
        &what,
    )
}

/// The api, worker or gateway binary this run uses (see [`RELEASE`]).
pub fn service_bin(name: &str) -> PathBuf {
    if RELEASE.load(Ordering::SeqCst) {
        paths::release_bin(name)
    } else {
        paths::workspace_bin(name)
    }
}

/// Runs a psql script file against the bench database with psql variables.
pub fn psql_file(cluster: &Cluster, db: &str, file: &Path, vars: &[(&str, String)]) -> Result<()> {
    let mut cmd = cluster.psql(db);
    cmd.arg("-1");
    for (k, v) in vars {
        cmd.arg("-v").arg(format!("{k}={v}"));
    }
    cmd.arg("-f").arg(file);
    crate::pg::run_quiet(&mut cmd, &format!("psql -f {}", file.display())).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_runs_default_to_twenty_two_in_smoke_and_must_be_positive() {
        assert_eq!(Options::parse(&[]).unwrap().browser_runs, 20);
        assert_eq!(Options::parse(&["--smoke"]).unwrap().browser_runs, 2);
        let only = Options::parse(&["--only", "dashboard", "--browser-runs", "5"]).unwrap();
        assert_eq!(
            (only.only, only.browser_runs),
            (vec!["dashboard".into()], 5)
        );
        assert!(Options::parse(&["--browser-runs", "0"]).is_err());
        assert!(Options::parse(&["--browser-runs"]).is_err());
    }
}
