//! `cargo xtask bench`: rerunnable benchmarks on a throwaway stack of release
//! builds (debug builds for `--smoke`) on free ports. Each part returns a [`Part`]; the run writes
//! `bench/results/<date>-<sha>.json` and `.md` and prints the Markdown summary.
//!
//! Parts: `ingest` (the webhook against the PostgREST baseline, fast and durable
//! Postgres) and `e2e` (webhook to committed analysis with a 300 ms fake LLM).
//! `--smoke` runs each for a few seconds so `cargo xtask test` can check that the
//! tooling still produces numbers; it never asserts a timing.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::install::{self, run_ok};
use crate::paths;

mod end_to_end;
mod fake_openai;
mod ingest;
mod load;
mod services;
mod stats;

/// One part's results: JSON for the results file, Markdown for the summary.
pub struct Part {
    pub name: String,
    pub json: Value,
    pub markdown: String,
}

/// What `cargo xtask bench` was asked to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub ingest: bool,
    pub e2e: bool,
    pub smoke: bool,
    /// Calls per measurement where a part takes a count (end to end).
    pub calls: Option<usize>,
}

impl Options {
    /// `cargo xtask bench [--only ingest,e2e] [--smoke] [--calls N]`.
    pub fn parse(flags: &[&str]) -> Result<Options> {
        let mut opts = Options {
            ingest: true,
            e2e: true,
            smoke: false,
            calls: None,
        };
        let mut it = flags.iter();
        while let Some(flag) = it.next() {
            match *flag {
                "--smoke" => opts.smoke = true,
                "--only" => {
                    let list = it.next().context("--only needs a list of parts")?;
                    opts.ingest = false;
                    opts.e2e = false;
                    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                        match name {
                            "ingest" => opts.ingest = true,
                            "e2e" => opts.e2e = true,
                            other => bail!("unknown bench part `{other}` (parts: ingest, e2e)"),
                        }
                    }
                }
                "--calls" => {
                    let n = it.next().context("--calls needs a number")?;
                    opts.calls = Some(
                        n.parse()
                            .ok()
                            .filter(|n| *n > 0)
                            .with_context(|| format!("--calls {n}: not a positive number"))?,
                    );
                }
                other => bail!("unknown bench option {other}"),
            }
        }
        Ok(opts)
    }
}

pub fn run(opts: &Options) -> Result<Vec<Part>> {
    install::ensure(install::Purpose::Test)?;
    build_services(opts.smoke)?;
    let tmp = TempDir::new()?;
    let mut parts = Vec::new();
    if opts.ingest {
        parts.push(ingest::run(opts, &tmp.0)?);
    }
    if opts.e2e {
        parts.push(end_to_end::run(opts, &tmp.0)?);
    }
    let (json_path, md_path) = write_results(opts, &parts)?;
    println!("\n{}", summary(opts, &parts));
    println!(
        "xtask bench: results in {} and {}",
        json_path.display(),
        md_path.display()
    );
    Ok(parts)
}

/// The smoke stage's only assertion: every part produced its numbers (finite,
/// and positive where they count something). Never a timing threshold.
pub fn check_numbers(parts: &[Part]) -> Result<usize> {
    let mut checked = 0;
    let mut missing = Vec::new();
    for part in parts {
        let paths: Vec<String> = match part.name.as_str() {
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
            "end_to_end" => vec![
                "/latency/ms/p50_ms".into(),
                "/latency/ms/p95_ms".into(),
                "/throughput/0/analyses_per_second".into(),
            ],
            _ => Vec::new(),
        };
        for path in paths {
            match part.json.pointer(&path).and_then(Value::as_f64) {
                Some(x) if x.is_finite() && x > 0.0 => checked += 1,
                _ => missing.push(format!("{}{path}", part.name)),
            }
        }
    }
    if !missing.is_empty() {
        bail!(
            "the benchmark produced no number for {}",
            missing.join(", ")
        );
    }
    Ok(checked)
}

/// Whether the services run from release builds (every measuring run) or from the
/// debug builds the test suite has already made (`--smoke`, which only checks that
/// the tooling produces numbers and must not cost a release build of the workspace).
static RELEASE: AtomicBool = AtomicBool::new(true);

/// Release builds for measuring: debug builds measure the compiler, not the service.
fn build_services(smoke: bool) -> Result<()> {
    RELEASE.store(!smoke, Ordering::SeqCst);
    let mut args = vec!["build", "--quiet", "-p", "api", "-p", "worker"];
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

/// The api or worker binary this run uses (see [`RELEASE`]).
pub fn service_bin(name: &str) -> PathBuf {
    if RELEASE.load(Ordering::SeqCst) {
        paths::release_bin(name)
    } else {
        paths::workspace_bin(name)
    }
}

/// Removes the throwaway folder however the run ends.
pub struct TempDir(pub PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let dir = std::env::temp_dir().join(format!("dcm-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Cores, memory and CPU model: every result says what it ran on.
pub fn machine() -> Value {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_default();
    json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_gib": (mem_kb as f64 / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        "cpu": model,
        "load_average_at_start": std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    })
}

fn git(args: &[&str]) -> String {
    Command::new("git")
        .args(args)
        .current_dir(paths::root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn summary(opts: &Options, parts: &[Part]) -> String {
    let mut md = format!(
        "# cargo xtask bench{}\n\ncommit `{}`, {}; machine: {}\n",
        if opts.smoke { " --smoke" } else { "" },
        git(&["rev-parse", "--short", "HEAD"]),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine()
    );
    for part in parts {
        md.push_str(&format!("\n## {}\n\n{}\n", part.name, part.markdown));
    }
    md
}

fn write_results(opts: &Options, parts: &[Part]) -> Result<(PathBuf, PathBuf)> {
    // A smoke run only proves the tooling works: it stays out of the repository.
    let dir = if opts.smoke {
        paths::target_dir().join("bench-smoke")
    } else {
        paths::root().join("bench/results")
    };
    std::fs::create_dir_all(&dir)?;
    let sha = git(&["rev-parse", "--short", "HEAD"]);
    let stem = format!(
        "{}-{sha}{}",
        chrono::Utc::now().format("%Y-%m-%d"),
        if opts.smoke { "-smoke" } else { "" }
    );
    let mut doc = json!({
        "commit": git(&["rev-parse", "HEAD"]),
        "dirty": !git(&["status", "--porcelain"]).is_empty(),
        "at": chrono::Utc::now().to_rfc3339(),
        "smoke": opts.smoke,
        "machine": machine(),
        "parts": {},
    });
    for part in parts {
        doc["parts"][&part.name] = part.json.clone();
    }
    let json_path = dir.join(format!("{stem}.json"));
    write(&json_path, &serde_json::to_string_pretty(&doc)?)?;
    let md_path = dir.join(format!("{stem}.md"));
    write(&md_path, &summary(opts, parts))?;
    Ok((json_path, md_path))
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
