//! The two load generators the benchmarks use, both over pre-built requests (each
//! body signed once, before the run, so no body is sent twice by accident):
//!
//! - [`saturate`]: wrk (Debian's), closed loop, for the maximum throughput. A Lua
//!   script hands each wrk thread its own slice of the requests; if a thread
//!   runs out and starts over, the result says so (`wrapped`).
//! - [`open_loop`]: a fixed arrival rate. wrk has no constant-rate mode (wrk2 is
//!   not packaged) and oha sends one header set for every body, so the requests
//!   are scheduled here: request `i` is due at `start + i / rate` whether or not
//!   earlier ones have answered, and its latency counts from when it was due
//!   (so a stall is not hidden by sending less: no coordinated omission).

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One HTTP POST: headers besides `Content-Type: application/json`, and the body.
#[derive(Clone)]
pub struct Request {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What wrk reported for one closed-loop run.
pub struct Saturation {
    pub requests: u64,
    pub per_second: f64,
    /// Socket errors, timeouts and non-2xx/3xx answers.
    pub errors: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// How many times a thread ran out of requests and reused them.
    pub wrapped: u64,
}

const WRK_SCRIPT: &str = r#"
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
reqs = {}
i = 0
wrapped = 0
function init(args)
  local f = assert(io.open(args[1] .. "/requests-" .. id .. ".txt", "r"))
  for line in f:lines() do
    local hdrs, body = line:match("^([^\t]*)\t(.*)$")
    local headers = { ["Content-Type"] = "application/json" }
    for h in hdrs:gmatch("[^\31]+") do
      local k, v = h:match("^([^:]+): (.*)$")
      headers[k] = v
    end
    reqs[#reqs + 1] = wrk.format("POST", nil, headers, body)
  end
  f:close()
end
function request()
  i = i + 1
  if i > #reqs then
    i = 1
    wrapped = wrapped + 1
  end
  return reqs[i]
end
function done(summary, latency, requests)
  local w = 0
  for _, t in ipairs(threads) do w = w + t:get("wrapped") end
  local e = summary.errors
  io.write(string.format(
    "BENCHJSON {\"requests\":%d,\"duration_us\":%d,\"errors\":%d,\"p50_us\":%d,\"p99_us\":%d,\"wrapped\":%d}\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), w))
end
"#;

/// Runs wrk against `url` with `connections` connections over two threads for
/// `duration`; `slices[t]` are thread `t`'s requests.
pub fn saturate(
    dir: &Path,
    url: &str,
    slices: &[Vec<Request>],
    connections: usize,
    duration: Duration,
) -> Result<Saturation> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    for (t, slice) in slices.iter().enumerate() {
        let mut text = Vec::new();
        for r in slice {
            let headers: Vec<String> = r.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            text.extend_from_slice(headers.join("\u{1f}").as_bytes());
            text.push(b'\t');
            if r.body.contains(&b'\n') {
                bail!("a request body holds a raw newline; the wrk request files are one per line");
            }
            text.extend_from_slice(&r.body);
            text.push(b'\n');
        }
        std::fs::write(dir.join(format!("requests-{t}.txt")), text)?;
    }
    let script = dir.join("requests.lua");
    std::fs::write(&script, WRK_SCRIPT)?;
    let out = Command::new("wrk")
        .arg("-t")
        .arg(slices.len().to_string())
        .arg("-c")
        .arg(connections.to_string())
        .arg("-d")
        .arg(format!("{}s", duration.as_secs().max(1)))
        .args(["--timeout", "10s", "-s"])
        .arg(&script)
        .arg(url)
        .arg("--")
        .arg(dir)
        .output()
        .context("could not run wrk (apt-get install wrk)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("BENCHJSON "))
        .with_context(|| {
            format!(
                "wrk printed no result:\n{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    let v: Value = serde_json::from_str(line)?;
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    let seconds = n("duration_us") as f64 / 1e6;
    Ok(Saturation {
        requests: n("requests"),
        per_second: n("requests") as f64 / seconds.max(1e-9),
        errors: n("errors"),
        p50_ms: n("p50_us") as f64 / 1000.0,
        p99_ms: n("p99_us") as f64 / 1000.0,
        wrapped: n("wrapped"),
    })
}

/// What one open-loop run measured.
pub struct OpenLoop {
    pub sent: usize,
    pub errors: usize,
    /// Per request, from when it was due to its answer, in ms.
    pub latencies_ms: Vec<f64>,
    /// The rate actually offered (requests / scheduling time).
    pub offered_per_second: f64,
}

/// Sends `requests` at `rate` per second, in order, from a pool of `senders`
/// threads sharing one keep-alive client.
pub fn open_loop(url: &str, requests: Vec<Request>, rate: f64, senders: usize) -> Result<OpenLoop> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(senders)
        .build()?;
    let (tx, rx) = mpsc::channel::<(Instant, Request)>();
    let rx = Arc::new(Mutex::new(rx));
    let results = Arc::new(Mutex::new((Vec::with_capacity(requests.len()), 0usize)));
    let mut handles = Vec::new();
    for _ in 0..senders {
        let rx = rx.clone();
        let client = client.clone();
        let results = results.clone();
        let url = url.to_string();
        handles.push(std::thread::spawn(move || loop {
            let next = rx.lock().expect("queue lock").recv();
            let Ok((due, req)) = next else { break };
            let mut builder = client
                .post(&url)
                .header("content-type", "application/json")
                .body(req.body);
            for (k, v) in &req.headers {
                builder = builder.header(k, v);
            }
            let ok = builder
                .send()
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            let ms = due.elapsed().as_secs_f64() * 1000.0;
            let mut r = results.lock().expect("results lock");
            r.0.push(ms);
            if !ok {
                r.1 += 1;
            }
        }));
    }
    let sent = requests.len();
    let start = Instant::now() + Duration::from_millis(20);
    for (i, req) in requests.into_iter().enumerate() {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        tx.send((due, req)).context("the senders stopped")?;
    }
    let scheduled = start.elapsed().as_secs_f64();
    drop(tx);
    for h in handles {
        let _ = h.join();
    }
    let (latencies_ms, errors) = std::mem::take(&mut *results.lock().expect("results lock"));
    Ok(OpenLoop {
        sent,
        errors,
        latencies_ms,
        offered_per_second: sent as f64 / scheduled.max(1e-9),
    })
}
