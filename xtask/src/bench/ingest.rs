//! Ingest: the webhook against the PostgREST baseline, side by side in one run,
//! on a fast and on a durable Postgres.
//!
//! Every request is a normalized event of a new call with a ~1.5 KB transcript
//! (so each one stores an event, a call and an analysis job), signed before the
//! run; one in ten repeats an earlier request byte for byte, signature included
//! (a deliberate duplicate). The baseline is PostgREST inserting the same bodies
//! into a one-table insert (`bench_baseline_events`, columns named like the
//! body's keys) with the service key, duplicates ignored on the primary key.
//! The worker does not run, so both sides have the machine to themselves.

use anyhow::Result;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

use super::load::{self, Request};
use super::services::{BenchStack, Durability};
use super::stats::{cell, latency_summary, median_spread, round1};
use super::{Options, Part};
use crate::keys;

/// The measurement plan: full or smoke.
struct Plan {
    repeats: usize,
    saturation: Duration,
    connections: usize,
    rates: Vec<f64>,
    rate_duration: Duration,
    /// Requests prepared per wrk thread: more than a run can send.
    per_thread_budget: usize,
}

impl Plan {
    fn new(smoke: bool) -> Plan {
        if smoke {
            Plan {
                repeats: 1,
                saturation: Duration::from_secs(1),
                connections: 8,
                rates: vec![50.0],
                rate_duration: Duration::from_secs(1),
                per_thread_budget: 8_000,
            }
        } else {
            Plan {
                repeats: 3,
                saturation: Duration::from_secs(8),
                connections: 32,
                rates: vec![200.0, 1000.0],
                rate_duration: Duration::from_secs(10),
                per_thread_budget: 24_000,
            }
        }
    }
}

const WRK_THREADS: usize = 2;
const BASELINE_TABLE: &str = "create table public.bench_baseline_events (
  event_id text primary key,
  dealership_id text not null,
  call_id text not null,
  \"timestamp\" timestamptz not null,
  transcript text,
  customer jsonb,
  metadata jsonb
);
alter table public.bench_baseline_events enable row level security;
grant insert on public.bench_baseline_events to service_role;";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Webhook,
    Postgrest,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Webhook => "webhook",
            Target::Postgrest => "postgrest",
        }
    }
}

/// Builds unique signed requests; `run` keeps event ids unique across runs.
struct Bodies {
    secret: String,
    run: usize,
}

impl Bodies {
    fn body(&self, i: usize) -> Vec<u8> {
        let call = format!("bench-{}-{i}", self.run);
        let dealership = format!("bench-dealer-{:02}", i % 20);
        let mut transcript = format!(
            "Agent: Thanks for calling {dealership} service, this is Ava. How can I help?\n\
             User: Hi, I need an oil change for my 2021 RAV4, reference {call}, sometime Thursday morning.\n"
        );
        while transcript.len() < 1500 {
            transcript.push_str(
                "Agent: I can do Thursday at 9:30 AM or 10:15 AM. Which works better for you?\n\
                 User: 9:30 is perfect, and could you also check the tire pressure while it is in?\n",
            );
        }
        transcript.push_str(
            "Agent: You are booked for Thursday at 9:30 AM. Anything else?\nUser: No, thanks!",
        );
        let body = json!({
            "event_id": format!("evt_{call}"),
            "dealership_id": dealership,
            "call_id": call,
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "transcript": transcript,
            "customer": { "phone": format!("+1555{:07}", i % 10_000_000), "name": "Dana Whitfield" },
            "metadata": { "duration_sec": 142, "channel": "phone", "ai_engine": "retell" },
        });
        serde_json::to_vec(&body).expect("a JSON value serializes")
    }

    /// `n` requests for `target`: unique bodies, every tenth a repeat of an
    /// earlier one in the same list.
    fn requests(&mut self, target: Target, n: usize) -> Vec<Request> {
        self.run += 1;
        let service_auth = format!("Bearer {}", keys::service_role_key());
        let mut out: Vec<Request> = Vec::with_capacity(n);
        let mut unique = 0;
        for k in 0..n {
            if k % 10 == 9 {
                let again = out[(k * 7919) % out.len()].clone();
                out.push(again);
                continue;
            }
            let body = self.body(unique);
            unique += 1;
            let headers = match target {
                Target::Webhook => {
                    let ts = chrono::Utc::now().timestamp_millis();
                    vec![(
                        "X-Retell-Signature".to_string(),
                        domain::signature::sign(&body, ts, &self.secret),
                    )]
                }
                Target::Postgrest => vec![
                    ("Authorization".to_string(), service_auth.clone()),
                    (
                        "Prefer".to_string(),
                        "resolution=ignore-duplicates, return=minimal".to_string(),
                    ),
                ],
            };
            out.push(Request { headers, body });
        }
        out
    }
}

pub fn run(opts: &Options, tmp: &Path) -> Result<Part> {
    let plan = Plan::new(opts.smoke);
    let mut variants = Vec::new();
    for durability in [Durability::Fast, Durability::Durable] {
        println!("xtask bench: ingest, {} Postgres", durability.name());
        variants.push(variant(&plan, tmp, durability)?);
    }
    let mut md = String::from(
        "| Postgres | target | max req/s (median, min–max) | errors | p99 at max | ratio to PostgREST |",
    );
    md.push_str("\n| --- | --- | ---: | ---: | ---: | ---: |\n");
    for v in &variants {
        for t in ["webhook", "postgrest"] {
            let s = &v[t]["saturation"];
            md.push_str(&format!(
                "| {} | {t} | {} ({}–{}) | {} | {} ms | {} |\n",
                v["durability"]["fsync"]
                    .as_str()
                    .map(|f| if f == "on" { "durable" } else { "fast" })
                    .unwrap_or("?"),
                cell(&s["per_second"]["median"]),
                cell(&s["per_second"]["min"]),
                cell(&s["per_second"]["max"]),
                s["errors"],
                cell(&s["p99_ms"]["median"]),
                if t == "webhook" {
                    cell(&v["ratio_webhook_to_postgrest"])
                } else {
                    "1".into()
                },
            ));
        }
    }
    md.push_str("\n| Postgres | target | open-loop rate | offered | errors | p50 | p95 | p99 |\n");
    md.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for v in &variants {
        let name = if v["durability"]["fsync"] == "on" {
            "durable"
        } else {
            "fast"
        };
        for t in ["webhook", "postgrest"] {
            for r in v[t]["open_loop"].as_array().into_iter().flatten() {
                md.push_str(&format!(
                    "| {name} | {t} | {} /s | {} /s | {} | {} ms | {} ms | {} ms |\n",
                    r["rate"],
                    cell(&r["offered_per_second"]),
                    r["errors"],
                    cell(&r["latency"]["p50_ms"]),
                    cell(&r["latency"]["p95_ms"]),
                    cell(&r["latency"]["p99_ms"]),
                ));
            }
        }
    }
    md.push_str(&format!(
        "\nwrk: {WRK_THREADS} threads, {} connections, {} s per run, {} runs per target \
         (alternating webhook and PostgREST); 10% duplicates; ~1.5 KB transcripts.\n",
        plan.connections,
        plan.saturation.as_secs(),
        plan.repeats
    ));
    Ok(Part {
        name: "ingest".into(),
        json: json!({
            "method": {
                "saturation": format!("wrk -t{WRK_THREADS} -c{} -d{}s, closed loop", plan.connections, plan.saturation.as_secs()),
                "open_loop": "fixed arrival rate; latency from each request's due time",
                "repeats": plan.repeats,
                "duplicates": "1 in 10 requests repeats an earlier one",
                "body": "normalized event of a new call, ~1.5 KB transcript",
                "worker_running": false,
            },
            "variants": variants,
        }),
        markdown: md,
    })
}

fn variant(plan: &Plan, tmp: &Path, durability: Durability) -> Result<Value> {
    let mut stack = BenchStack::start(
        tmp,
        &format!("ingest-{}", durability.name()),
        durability,
        false,
    )?;
    stack.cluster.exec(&stack.db, BASELINE_TABLE)?;
    let postgrest = format!("{}/bench_baseline_events", stack.start_postgrest()?);
    let webhook = stack.start_api()?;
    let mut bodies = Bodies {
        secret: stack.secret.clone(),
        run: 0,
    };
    let url = |t: Target| {
        if t == Target::Webhook {
            webhook.as_str()
        } else {
            postgrest.as_str()
        }
    };

    let mut rps = [Vec::new(), Vec::new()];
    let mut p50 = [Vec::new(), Vec::new()];
    let mut p99 = [Vec::new(), Vec::new()];
    let mut answered = [0u64, 0u64];
    let mut errors = [0u64, 0u64];
    let mut wrapped = [0u64, 0u64];
    for _ in 0..plan.repeats {
        for (k, target) in [Target::Webhook, Target::Postgrest].into_iter().enumerate() {
            let slices: Vec<Vec<Request>> = (0..WRK_THREADS)
                .map(|_| bodies.requests(target, plan.per_thread_budget))
                .collect();
            let s = load::saturate(
                &tmp.join("wrk"),
                url(target),
                &slices,
                plan.connections,
                plan.saturation,
            )?;
            println!(
                "  {} saturation: {:.0} req/s, {} errors, p99 {:.1} ms",
                target.name(),
                s.per_second,
                s.errors,
                s.p99_ms
            );
            rps[k].push(s.per_second);
            p50[k].push(s.p50_ms);
            p99[k].push(s.p99_ms);
            answered[k] += s.requests;
            errors[k] += s.errors;
            wrapped[k] += s.wrapped;
        }
    }

    let mut open = [Vec::new(), Vec::new()];
    for &rate in &plan.rates {
        for (k, target) in [Target::Webhook, Target::Postgrest].into_iter().enumerate() {
            let n = (rate * plan.rate_duration.as_secs_f64()) as usize;
            let requests = bodies.requests(target, n);
            let r = load::open_loop(url(target), requests, rate, 128)?;
            let mut lat = r.latencies_ms;
            let latency = latency_summary(&mut lat);
            println!(
                "  {} at {rate} req/s: p50 {} ms, p99 {} ms, {} errors",
                target.name(),
                latency["p50_ms"],
                latency["p99_ms"],
                r.errors
            );
            open[k].push(json!({
                "rate": rate,
                "offered_per_second": round1(r.offered_per_second),
                "sent": r.sent,
                "errors": r.errors,
                "latency": latency,
            }));
        }
    }

    let stored = stack.cluster.query_value(
        &stack.db,
        "select json_build_object('events', (select count(*) from public.events), \
         'calls', (select count(*) from public.calls), \
         'jobs', (select count(*) from public.analysis_jobs), \
         'baseline_rows', (select count(*) from public.bench_baseline_events))",
    )?;
    let median = |v: &[f64]| median_spread(v)["median"].as_f64().unwrap_or(f64::NAN);
    let side = |k: usize| {
        json!({
            "saturation": {
                "per_second": median_spread(&rps[k]),
                "p50_ms": median_spread(&p50[k]),
                "p99_ms": median_spread(&p99[k]),
                "requests": answered[k],
                "errors": errors[k],
                "requests_reused": wrapped[k],
            },
            "open_loop": open[k],
        })
    };
    Ok(json!({
        "durability": stack.durability()?,
        "webhook": side(0),
        "postgrest": side(1),
        "ratio_webhook_to_postgrest": (median(&rps[0]) / median(&rps[1]) * 100.0).round() / 100.0,
        "rows_stored": serde_json::from_str::<Value>(&stored).unwrap_or(Value::Null),
    }))
}
