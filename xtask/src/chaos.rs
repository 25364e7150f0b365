//! `cargo xtask chaos`: faults against real processes on a stack of its own (free
//! ports, a temporary folder, Postgres as `up` runs it), while a sender posts
//! signed events without pause and retries every one until it gets a 2xx, as
//! Retell does:
//!
//! 1. Postgres SIGKILLed three times (the supervisor restarts it);
//! 2. the api SIGKILLed three times;
//! 3. the worker SIGKILLed three times while it analyses;
//! 4. the worker's LISTEN connection terminated (polling must cover the gap).
//!
//! Afterwards every acknowledged event must be stored exactly once, every
//! analysis job must end with exactly one analysis, and the queue must drain.
//! The figures go to `chaos-results.json` (path printed at the end; `CHAOS_RESULTS`
//! overrides it) and the run fails if any check fails.

use anyhow::{bail, Context, Result};
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::install;
use crate::pg::{Cluster, Durability};
use crate::stack::{self, Ports, Stack};
use crate::supervise::{wait_until, Supervisor};
use crate::{keys, paths};

/// How many times each process is killed.
const KILLS: usize = 3;
/// Time between two kills (the supervisor allows three restarts a minute).
const BETWEEN_KILLS: Duration = Duration::from_secs(6);

#[derive(Default)]
struct SenderCounts {
    attempts: AtomicU64,
    non_2xx: AtomicU64,
    connection_errors: AtomicU64,
    duplicates_answered: AtomicU64,
    /// 4xx answers to a good event: a bug, reported as a failure.
    refused: AtomicU64,
}

/// Posts events `<prefix>-<n>` until stopped, each retried until it gets a 2xx.
struct Sender {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<String>>>,
    counts: Arc<SenderCounts>,
    thread: Option<JoinHandle<()>>,
}

impl Sender {
    fn start(stack: &Stack, prefix: String) -> Sender {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let counts = Arc::new(SenderCounts::default());
        let url = stack.webhook_url();
        let secret = stack.webhook_secret.clone();
        let thread = {
            let (stop, acked, counts) = (stop.clone(), acked.clone(), counts.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .expect("an HTTP client");
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let id = format!("{prefix}-{n}");
                    let body = event_body(&id);
                    if deliver(&client, &url, &secret, &body, &counts) {
                        acked.lock().unwrap().push(id);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        Sender {
            stop,
            acked,
            counts,
            thread: Some(thread),
        }
    }

    /// Stops after the event in flight is acknowledged; returns the acknowledged ids.
    fn finish(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        std::mem::take(&mut *self.acked.lock().unwrap())
    }
}

fn event_body(id: &str) -> Vec<u8> {
    json!({
        "event_id": id,
        "dealership_id": "toyota-braintree",
        "call_id": id,
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "transcript": "Agent: Toyota of Braintree, how can I help?\nUser: I need an oil change Thursday.\nAgent: You are booked for Thursday at 9:30 AM."
    })
    .to_string()
    .into_bytes()
}

/// One delivery, retried (re-signed each time) until a 2xx, as Retell retries;
/// false if the api refused it with a 4xx (which a good event must never get).
fn deliver(
    client: &reqwest::blocking::Client,
    url: &str,
    secret: &str,
    body: &[u8],
    counts: &SenderCounts,
) -> bool {
    let mut wait = Duration::from_millis(100);
    loop {
        counts.attempts.fetch_add(1, Ordering::Relaxed);
        let signature =
            domain::signature::sign(body, chrono::Utc::now().timestamp_millis(), secret);
        match client
            .post(url)
            .header("content-type", "application/json")
            .header("x-retell-signature", signature)
            .body(body.to_vec())
            .send()
        {
            Ok(r) if r.status().is_success() => {
                if r.text().unwrap_or_default().contains("\"duplicate\"") {
                    counts.duplicates_answered.fetch_add(1, Ordering::Relaxed);
                }
                return true;
            }
            Ok(r) if r.status().is_client_error() => {
                eprintln!(
                    "xtask chaos: a good event was refused: {} {}",
                    r.status(),
                    r.text().unwrap_or_default()
                );
                counts.refused.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            Ok(_) => {
                counts.non_2xx.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                counts.connection_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}

/// SIGKILLs `service` [`KILLS`] times, waiting for the supervisor to bring it back
/// (and for `healthy`) after each.
fn kill_repeatedly(
    sup: &mut Supervisor,
    service: &str,
    mut healthy: impl FnMut() -> bool,
) -> Result<usize> {
    for _ in 0..KILLS {
        pause(sup, BETWEEN_KILLS)?;
        let pid = sup.pid(service).context("the service runs")?;
        println!("xtask chaos: SIGKILL {service} (pid {pid})");
        // SAFETY: signalling a process this supervisor started.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        let mut failure = None;
        wait_until(
            &format!("{service} restarted"),
            Duration::from_secs(90),
            || {
                if let Err(e) = sup.check() {
                    failure = Some(e);
                    return true;
                }
                sup.pid(service).is_some_and(|p| p != pid) && healthy()
            },
        )?;
        if let Some(e) = failure {
            return Err(e);
        }
    }
    Ok(KILLS)
}

/// Sleeps while keeping the supervisor's restarts going.
fn pause(sup: &mut Supervisor, how_long: Duration) -> Result<()> {
    let until = Instant::now() + how_long;
    while Instant::now() < until {
        sup.check()?;
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn http_ok(url: &str) -> bool {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .ok()
        .and_then(|c| c.get(url).send().ok())
        .is_some_and(|r| r.status().is_success())
}

struct Check {
    /// Acknowledged (the sender retries until it is).
    sent: usize,
    found: usize,
    missing: usize,
    duplicates: usize,
}

/// Every acknowledged id is stored once, as one event and one call.
fn check_stored(cluster: &Cluster, db: &str, prefix: &str, acked: &[String]) -> Result<Check> {
    let stored = cluster.query_value(
        db,
        &format!(
            "select string_agg(event_id, ' ') from public.events where event_id like '{prefix}-%'"
        ),
    )?;
    let stored: HashSet<&str> = stored.split_whitespace().collect();
    let missing = acked
        .iter()
        .filter(|id| !stored.contains(id.as_str()))
        .count();
    let duplicates: usize = cluster
        .query_value(
            db,
            &format!(
                "select (select count(*) - count(distinct call_id) from public.calls where call_id like '{prefix}-%') \
                      + (select count(*) - count(distinct event_id) from public.analysis_jobs where event_id like '{prefix}-%')"
            ),
        )?
        .parse()?;
    Ok(Check {
        sent: acked.len(),
        found: stored.len(),
        missing,
        duplicates,
    })
}

/// Waits until no job is pending, then counts jobs whose analyses are not exactly one.
fn check_analyses(cluster: &Cluster, db: &str, sup: &mut Supervisor) -> Result<(usize, usize)> {
    let mut pending = String::new();
    let mut failure = None;
    let drained = wait_until(
        "the analysis queue drained",
        Duration::from_secs(300),
        || {
            if let Err(e) = sup.check() {
                failure = Some(e);
                return true;
            }
            pending = cluster
            .query_value(
                db,
                "select count(*) from public.analysis_jobs where status in ('queued', 'running')",
            )
            .unwrap_or_default();
            pending == "0"
        },
    );
    if let Some(e) = failure {
        return Err(e);
    }
    drained.with_context(|| format!("{pending} jobs still pending"))?;
    let jobs: usize = cluster
        .query_value(db, "select count(*) from public.analysis_jobs")?
        .parse()?;
    let wrong: usize = cluster
        .query_value(
            db,
            "select count(*) from public.analysis_jobs j \
             where (select count(*) from public.call_analyses a where a.job_id = j.id) <> 1",
        )?
        .parse()?;
    Ok((jobs, wrong))
}

pub fn run() -> Result<()> {
    let started = Instant::now();
    install::ensure(install::Purpose::Test)?;
    stack::build_services()?;
    let tmp = std::env::temp_dir().join(format!("dcm-chaos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("logs"))?;
    std::fs::create_dir_all(tmp.join("site"))?;
    std::fs::write(tmp.join("site/index.html"), "chaos")?;
    let result = run_in(&tmp, started);
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&tmp);
    } else {
        eprintln!("xtask chaos: logs kept in {}", tmp.join("logs").display());
    }
    result
}

fn run_in(tmp: &std::path::Path, started: Instant) -> Result<()> {
    let stack = Stack {
        ports: Ports::free()?,
        db: "app".into(),
        webhook_secret: keys::random_secret(),
        dir: tmp.to_path_buf(),
    };
    // Killed workers' leases must expire quickly for the queue to drain.
    std::env::set_var("WORKER_LEASE_SECS", "5");
    std::env::set_var("WORKER_CONCURRENCY", "4");
    let mut sup = Supervisor::new(Arc::new(AtomicBool::new(false)));
    let cluster = Cluster::at(tmp.join("pg"), stack.ports.pg, Durability::Durable)?;
    println!("xtask chaos: stack in {}", tmp.display());
    stack::start_postgres(&mut sup, &cluster, &stack.logs())?;
    cluster.prepare_database(&stack.db, true)?;
    stack::start_services(&mut sup, &stack)?;
    let run = chrono::Utc::now().timestamp();
    let mut phases = Vec::new();
    let mut failed = Vec::new();

    let api_ready = format!("{}/readyz", stack.api_url());
    let worker_health = format!("{}/healthz", stack.worker_url());
    for (name, service) in [
        ("postgres SIGKILLed during ingest", "postgres"),
        ("api SIGKILLed during ingest", "api"),
        ("worker SIGKILLed during analysis", "worker"),
    ] {
        let prefix = format!("chaos-{run}-{service}");
        println!("xtask chaos: {name}");
        let sender = Sender::start(&stack, prefix.clone());
        let counts = sender.counts.clone();
        let health = if service == "worker" {
            &worker_health
        } else {
            &api_ready
        };
        let kills = kill_repeatedly(&mut sup, service, || http_ok(health))?;
        pause(&mut sup, Duration::from_secs(2))?;
        let acked = sender.finish();
        let check = check_stored(&cluster, &stack.db, &prefix, &acked)?;
        let refused = counts.refused.load(Ordering::Relaxed);
        if refused > 0 || check.missing > 0 || check.duplicates > 0 || check.found != check.sent {
            failed.push(format!(
                "{name}: {} acknowledged, {} found, {} missing, {} duplicates, {refused} refused",
                check.sent, check.found, check.missing, check.duplicates
            ));
        }
        phases.push(json!({
            "phase": name,
            "faults_injected": kills,
            "supervisor_restarts_last_minute": sup.recent_restarts(service),
            "events_sent": check.sent,
            "events_acknowledged": check.sent,
            "events_found": check.found,
            "missing": check.missing,
            "duplicates": check.duplicates,
            "delivery_attempts": counts.attempts.load(Ordering::Relaxed),
            "answers_5xx": counts.non_2xx.load(Ordering::Relaxed),
            "good_events_refused": refused,
            "connection_errors": counts.connection_errors.load(Ordering::Relaxed),
            "retries_answered_duplicate": counts.duplicates_answered.load(Ordering::Relaxed),
        }));
    }

    println!("xtask chaos: the worker's LISTEN connection terminated");
    let terminated: usize = cluster
        .query_value(
            &stack.db,
            "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity \
             where query ilike 'listen%') t",
        )?
        .parse()?;
    let prefix = format!("chaos-{run}-listen");
    let sender = Sender::start(&stack, prefix.clone());
    pause(&mut sup, Duration::from_secs(5))?;
    let acked = sender.finish();
    let check = check_stored(&cluster, &stack.db, &prefix, &acked)?;
    phases.push(json!({
        "phase": "worker LISTEN connection terminated",
        "faults_injected": terminated,
        "events_sent": check.sent,
        "events_found": check.found,
        "missing": check.missing,
        "duplicates": check.duplicates,
    }));
    if terminated == 0 {
        failed.push("no LISTEN connection was found to terminate".into());
    }

    let (jobs, wrong) = check_analyses(&cluster, &stack.db, &mut sup)?;
    if wrong > 0 {
        failed.push(format!(
            "{wrong} of {jobs} jobs do not have exactly one analysis"
        ));
    }
    sup.shutdown();

    let results = json!({
        "command": "cargo xtask chaos",
        "finished_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "took_secs": started.elapsed().as_secs(),
        "phases": phases,
        "analysis_jobs": jobs,
        "jobs_without_exactly_one_analysis": wrong,
        "passed": failed.is_empty(),
        "failures": failed,
    });
    let path = std::env::var_os("CHAOS_RESULTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| paths::target_dir().join("chaos-results.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&results)? + "\n")?;
    println!("{}", serde_json::to_string_pretty(&results)?);
    println!("xtask chaos: figures written to {}", path.display());
    if !failed.is_empty() {
        bail!("chaos found problems:\n{}", failed.join("\n"));
    }
    Ok(())
}
