//! `cargo xtask chaos`: faults against real processes on a stack of its own (free
//! ports, a temporary folder, Postgres as `up` runs it, the worker judging with a
//! fake OpenAI server that answers in 300 ms), while a sender posts signed events
//! without pause and retries every one until it gets a 2xx, as Retell does:
//!
//! 1. Postgres SIGKILLed three times (the supervisor restarts it);
//! 2. the api SIGKILLed three times;
//! 3. the worker SIGKILLed three times while it analyses;
//! 4. the worker's LISTEN connection terminated (polling must cover the gap);
//! 5. the fake OpenAI misbehaving in each way a real API does, then recovering;
//! 6. schemathesis against `/openapi.json`, with signed requests;
//! 7. a bounded coverage-guided fuzzing run of the body decoder and the
//!    signature check ([`crate::fuzz`], [`FUZZ_SECS`] per target).
//!
//! Afterwards every acknowledged event must be stored exactly once, every
//! analysis job must end with exactly one analysis (a verdict, or a failure with
//! a `processing_errors` row), and the queue must drain.
//! The figures go to `chaos-results.json` (path printed at the end; `CHAOS_RESULTS`
//! overrides it) and the run fails if any check fails. `--only` runs some phases
//! (comma-separated: kills, listen, llm, schemathesis, fuzz).

mod checks;
mod faults;
mod llm;
mod processes;
mod schemathesis;
mod sender;

use anyhow::{bail, Result};
use serde_json::{json, Value};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::fake_openai::FakeOpenAi;
use crate::install;
use crate::pg::{Cluster, Durability};
use crate::stack::{self, Ports, Stack};
use crate::supervise::Supervisor;
use crate::{keys, paths};
use checks::{check_analyses, partial_rows};

/// The fake LLM's answer time: long enough that a killed worker dies mid-analysis.
const LLM_DELAY: Duration = Duration::from_millis(300);
/// The bounded fuzzing run, per target.
const FUZZ_SECS: u64 = 30;

pub const PHASES: [&str; 5] = ["kills", "listen", "llm", "schemathesis", "fuzz"];

/// A running chaos stack and what the phases found so far.
pub struct Chaos {
    pub stack: Stack,
    pub cluster: Cluster,
    pub sup: Supervisor,
    pub llm: FakeOpenAi,
    /// Makes this run's event ids unique.
    pub run: i64,
    pub phases: Vec<Value>,
    pub failures: Vec<String>,
}

impl Chaos {
    /// A prefix for the event ids of one phase.
    pub fn prefix(&self, phase: &str) -> String {
        format!("chaos-{}-{phase}", self.run)
    }
}

pub fn run(args: &[String]) -> Result<()> {
    let only: Vec<String> = match args {
        [] => PHASES.iter().map(|p| p.to_string()).collect(),
        [flag, list] if flag == "--only" => list.split(',').map(|p| p.trim().to_string()).collect(),
        _ => bail!("usage: cargo xtask chaos [--only {}]", PHASES.join(",")),
    };
    if let Some(unknown) = only.iter().find(|p| !PHASES.contains(&p.as_str())) {
        bail!(
            "unknown chaos phase {unknown:?}; the phases are {}",
            PHASES.join(", ")
        );
    }
    let started = Instant::now();
    install::ensure(install::Purpose::Test)?;
    stack::build_services()?;
    let tmp = std::env::temp_dir().join(format!("dcm-chaos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("logs"))?;
    std::fs::create_dir_all(tmp.join("site"))?;
    std::fs::write(tmp.join("site/index.html"), "chaos")?;
    let result = run_in(&tmp, started, &only);
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&tmp);
    } else {
        eprintln!("xtask chaos: logs kept in {}", tmp.join("logs").display());
    }
    result
}

fn start(tmp: &std::path::Path) -> Result<Chaos> {
    let stack = Stack {
        ports: Ports::free()?,
        db: "app".into(),
        webhook_secret: keys::random_secret(),
        dir: tmp.to_path_buf(),
    };
    let llm = FakeOpenAi::start(LLM_DELAY)?;
    // Killed workers' leases must expire quickly for the queue to drain; the
    // client timeout is shorter than the fake's stall and trickle.
    for (key, value) in [
        ("WORKER_LEASE_SECS", "5"),
        ("WORKER_CONCURRENCY", "4"),
        ("ANALYSIS_MAX_ATTEMPTS", "3"),
        ("OPENAI_API_KEY", "sk-chaos-fake"),
        ("OPENAI_BASE_URL", llm.base_url.as_str()),
        ("OPENAI_TIMEOUT_SECS", "2"),
    ] {
        std::env::set_var(key, value);
    }
    let mut sup = Supervisor::new(Arc::new(AtomicBool::new(false)));
    let cluster = Cluster::at(tmp.join("pg"), stack.ports.pg, Durability::Durable)?;
    println!("xtask chaos: stack in {}", tmp.display());
    stack::start_postgres(&mut sup, &cluster, &stack.logs())?;
    cluster.prepare_database(&stack.db, true)?;
    stack::start_services(&mut sup, &stack)?;
    Ok(Chaos {
        stack,
        cluster,
        sup,
        llm,
        run: chrono::Utc::now().timestamp(),
        phases: Vec::new(),
        failures: Vec::new(),
    })
}

fn run_in(tmp: &std::path::Path, started: Instant, only: &[String]) -> Result<()> {
    let wants = |phase: &str| only.iter().any(|p| p == phase);
    let mut chaos = start(tmp)?;
    if wants("kills") {
        processes::kill_phases(&mut chaos)?;
    }
    if wants("listen") {
        processes::listen_phase(&mut chaos)?;
    }
    let (_, mut wrong) = check_analyses(&chaos.cluster, &chaos.stack.db, &mut chaos.sup)?;
    if wrong > 0 {
        chaos
            .failures
            .push(format!("{wrong} jobs do not have exactly one analysis"));
    }
    if wants("llm") {
        llm::misbehaving_phase(&mut chaos)?;
    }
    if wants("schemathesis") {
        println!("xtask chaos: schemathesis against /openapi.json, signed requests");
        match schemathesis::run(&chaos.stack, tmp) {
            Ok(mut figures) => {
                // The signing hook works only if some generated events got through.
                let stored: usize = chaos
                    .cluster
                    .query_value(
                        &chaos.stack.db,
                        "select count(*) from public.events where event_id not like 'chaos-%'",
                    )?
                    .parse()?;
                figures["events_stored"] = json!(stored);
                if stored == 0 {
                    chaos.failures.push(
                        "schemathesis stored no event: its requests never passed the signature check"
                            .into(),
                    );
                }
                chaos.phases.push(figures)
            }
            Err(e) => chaos.failures.push(format!("{e:#}")),
        }
    }
    let (jobs, wrong_total) = check_analyses(&chaos.cluster, &chaos.stack.db, &mut chaos.sup)?;
    if wrong_total > wrong {
        chaos.failures.push(format!(
            "{} more jobs do not have exactly one analysis after the later phases",
            wrong_total - wrong
        ));
        wrong = wrong_total;
    }
    let leftovers = partial_rows(&chaos.cluster, &chaos.stack.db)?;
    if leftovers > 0 {
        chaos.failures.push(format!(
            "{leftovers} events have no call row (a partial write)"
        ));
    }
    chaos.sup.shutdown();

    if wants("fuzz") {
        println!("xtask chaos: fuzzing, {FUZZ_SECS} s per target");
        match crate::fuzz::fuzz_all(FUZZ_SECS, false) {
            Ok(figures) => chaos
                .phases
                .push(json!({ "phase": "coverage-guided fuzzing", "targets": figures })),
            Err(e) => chaos.failures.push(format!("{e:#}")),
        }
    }

    let results = json!({
        "command": "cargo xtask chaos",
        "phases_run": only,
        "finished_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "took_secs": started.elapsed().as_secs(),
        "machine": { "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0) },
        "phases": chaos.phases,
        "analysis_jobs": jobs,
        "jobs_without_exactly_one_analysis": wrong,
        "events_without_a_call": leftovers,
        "llm_requests": chaos.llm.control.requests(),
        "passed": chaos.failures.is_empty(),
        "failures": &chaos.failures,
    });
    let path = std::env::var_os("CHAOS_RESULTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| paths::target_dir().join("chaos-results.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&results)? + "\n")?;
    println!("{}", serde_json::to_string_pretty(&results)?);
    println!("xtask chaos: figures written to {}", path.display());
    if !chaos.failures.is_empty() {
        bail!("chaos found problems:\n{}", chaos.failures.join("\n"));
    }
    Ok(())
}
