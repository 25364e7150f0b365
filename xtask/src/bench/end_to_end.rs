//! End to end: from the webhook's 200 to the analysis committed, with a fake
//! OpenAI that answers in 300 ms, on the fast Postgres.
//!
//! - Latency: calls posted at a steady rate with one worker
//!   (`WORKER_CONCURRENCY=32`) running; each call's time is its analysis row's
//!   commit time (`track_commit_timestamp`) minus the moment its 200 arrived.
//! - Throughput: with no worker running, a batch of calls is posted; then the
//!   worker(s) start, and analyses/s is the batch size over the time from the
//!   workers answering `/healthz` to the last analysis commit. For
//!   `WORKER_CONCURRENCY` 1, 8, 32, 128, and two processes of 32.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::services::{BenchStack, Durability, Worker};
use super::stats::{cell, latency_summary, round1};
use super::{Options, Part};
use crate::fake_openai::FakeOpenAi;

const LLM_DELAY: Duration = Duration::from_millis(300);

struct Plan {
    rate: f64,
    calls: usize,
    /// (worker processes, WORKER_CONCURRENCY each)
    configs: Vec<(usize, usize)>,
    rounds: usize,
}

impl Plan {
    fn new(opts: &Options) -> Plan {
        if opts.smoke {
            Plan {
                rate: 5.0,
                calls: opts.e2e_calls.unwrap_or(10),
                configs: vec![(1, 8)],
                rounds: 2,
            }
        } else {
            Plan {
                rate: 20.0,
                calls: opts.e2e_calls.unwrap_or(400),
                configs: vec![(1, 1), (1, 8), (1, 32), (1, 128), (2, 32)],
                rounds: 8,
            }
        }
    }
}

pub fn run(opts: &Options, tmp: &Path) -> Result<Part> {
    let plan = Plan::new(opts);
    println!(
        "xtask bench: end to end (fake LLM answering in {} ms)",
        LLM_DELAY.as_millis()
    );
    let mut stack = BenchStack::start(tmp, "e2e", Durability::Fast, true)?;
    let webhook = stack.start_api()?;
    let llm = FakeOpenAi::start(LLM_DELAY)?;
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let post =
        |call_id: &str| -> Result<f64> { post_call(&client, &webhook, &stack.secret, call_id) };

    // Latency at a steady rate.
    let latency = {
        let _worker = stack.start_worker("e2e-latency", 32, &llm.base_url)?;
        let mut acked = HashMap::new();
        let start = Instant::now();
        for i in 0..plan.calls {
            let due = start + Duration::from_secs_f64(i as f64 / plan.rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let id = format!("e2e-latency-{i}");
            acked.insert(id.clone(), post(&id)?);
        }
        let commits = wait_for_analyses(&stack, "e2e-latency-", plan.calls)?;
        let mut samples: Vec<f64> = commits
            .iter()
            .filter_map(|(id, committed)| acked.get(id).map(|ack| committed - ack))
            .collect();
        let summary = latency_summary(&mut samples);
        println!(
            "  latency at {} calls/s: p50 {} ms, p95 {} ms",
            plan.rate, summary["p50_ms"], summary["p95_ms"]
        );
        summary
    };

    // Throughput per worker configuration.
    let mut throughput = Vec::new();
    for &(processes, concurrency) in &plan.configs {
        let n = (processes * concurrency * plan.rounds).max(16);
        let prefix = format!("e2e-tp-{processes}x{concurrency}-");
        for i in 0..n {
            post(&format!("{prefix}{i}"))?;
        }
        let workers: Vec<Worker> = (0..processes)
            .map(|p| {
                stack.start_worker(
                    &format!("bench-{processes}x{concurrency}-{p}"),
                    concurrency,
                    &llm.base_url,
                )
            })
            .collect::<Result<_>>()?;
        let ready_ms = epoch_ms();
        let commits = wait_for_analyses(&stack, &prefix, n)?;
        drop(workers);
        let last = commits.values().copied().fold(f64::MIN, f64::max);
        let per_second = n as f64 / ((last - ready_ms) / 1000.0);
        let ceiling = (processes * concurrency) as f64 / LLM_DELAY.as_secs_f64();
        println!(
            "  {processes} × WORKER_CONCURRENCY={concurrency}: {per_second:.1} analyses/s ({n} calls; LLM-bound ceiling {ceiling:.0}/s)"
        );
        throughput.push(json!({
            "processes": processes,
            "concurrency": concurrency,
            "calls": n,
            "analyses_per_second": round1(per_second),
            "llm_bound_ceiling_per_second": round1(ceiling),
        }));
    }

    let mut md = format!(
        "Latency from the webhook's 200 to the analysis committed, {} calls at {} calls/s, \
         one worker with `WORKER_CONCURRENCY=32`, fake LLM {} ms:\n\n\
         | p50 | p95 | p99 | max |\n| ---: | ---: | ---: | ---: |\n| {} ms | {} ms | {} ms | {} ms |\n\n\
         | worker processes × `WORKER_CONCURRENCY` | calls | analyses/s | ceiling (slots / 0.3 s) |\n\
         | --- | ---: | ---: | ---: |\n",
        plan.calls,
        plan.rate,
        LLM_DELAY.as_millis(),
        cell(&latency["p50_ms"]),
        cell(&latency["p95_ms"]),
        cell(&latency["p99_ms"]),
        cell(&latency["max_ms"]),
    );
    for t in &throughput {
        md.push_str(&format!(
            "| {} × {} | {} | {} | {} |\n",
            t["processes"],
            t["concurrency"],
            t["calls"],
            cell(&t["analyses_per_second"]),
            cell(&t["llm_bound_ceiling_per_second"]),
        ));
    }
    Ok(Part {
        name: "end_to_end".into(),
        json: json!({
            "llm_delay_ms": LLM_DELAY.as_millis() as u64,
            "durability": stack.durability()?,
            "latency": {
                "rate_per_second": plan.rate,
                "calls": plan.calls,
                "worker_concurrency": 32,
                "from": "the webhook's 200 (client clock)",
                "to": "pg_xact_commit_timestamp of the call_analyses row",
                "ms": latency,
            },
            "throughput": throughput,
        }),
        markdown: md,
    })
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

/// Posts one signed normalized event of a new call; returns when its 200
/// arrived (ms since the epoch).
fn post_call(
    client: &reqwest::blocking::Client,
    url: &str,
    secret: &str,
    call_id: &str,
) -> Result<f64> {
    let body = serde_json::to_vec(&json!({
        "event_id": format!("evt_{call_id}"),
        "dealership_id": "bench-e2e",
        "call_id": call_id,
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "transcript": "Agent: Thanks for calling, this is Ava. How can I help?\n\
                       User: I need an oil change Thursday morning.\n\
                       Agent: You are booked for Thursday at 9:30 AM. Anything else?\nUser: No, thanks!",
        "customer": { "phone": "+15551234567", "name": "Dana Whitfield" },
    }))?;
    let ts = chrono::Utc::now().timestamp_millis();
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header(
            "x-retell-signature",
            domain::signature::sign(&body, ts, secret),
        )
        .body(body)
        .send()
        .context("posting to the webhook")?;
    let acked = epoch_ms();
    if !response.status().is_success() {
        bail!("the webhook answered {} to {call_id}", response.status());
    }
    Ok(acked)
}

/// Waits until `n` calls whose id starts with `prefix` have an analysis; returns
/// each call's analysis commit time (ms since the epoch).
fn wait_for_analyses(stack: &BenchStack, prefix: &str, n: usize) -> Result<HashMap<String, f64>> {
    let count_sql = format!(
        "select count(*) from public.call_analyses where call_id like '{prefix}%' and status = 'ok'"
    );
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let done: usize = stack
            .cluster
            .query_value(&stack.db, &count_sql)?
            .parse()
            .unwrap_or(0);
        if done >= n {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {done} of {n} analyses ({prefix}*) were committed within 300 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let rows = stack.cluster.query_value(
        &stack.db,
        &format!(
            "select coalesce(json_object_agg(call_id, ms), '{{}}') from (
               select call_id, min(extract(epoch from pg_xact_commit_timestamp(xmin)) * 1000) as ms
                 from public.call_analyses where call_id like '{prefix}%' and status = 'ok'
                group by call_id) t"
        ),
    )?;
    let map: HashMap<String, Value> = serde_json::from_str(&rows)?;
    Ok(map
        .into_iter()
        .filter_map(|(k, v)| v.as_f64().map(|ms| (k, ms)))
        .collect())
}
