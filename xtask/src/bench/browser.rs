//! Part 1d's browser timings: the release dashboard, served by the gateway of the
//! bench's stack, in headless Chromium driven by the browser tests' own
//! `e2e::browser::Browser` (fantoccini over chromedriver). Each run is a new
//! chromedriver and browser with an empty profile, so every run is a cold cache.
//! It opens the call list (last 7 days) signed out, which shows the sign-in form,
//! signs in as the seed's first CSM (7 dealerships) and waits for the call list's
//! rows.
//!
//! Both timings come from the page's own clock (`performance.now()`, whose zero is
//! the navigation start), recorded by a script Chromium runs before the page's own
//! (a MutationObserver and a `submit` listener), so neither includes the driver's
//! polling or the typing: (a) navigation start to the login form being laid out
//! with a size; (b) the form's `submit` event to the first `tr.call-row` laid out.
//! The navigation timing entry and the wasm's resource timing are kept beside them.
//! Only the browser's start (chromedriver and Chromium) is wall-clock from the bench.
//! The browser code is async (fantoccini); each run is blocked on in a
//! current-thread tokio runtime, so the rest of the bench stays blocking.

use anyhow::{bail, Context, Result};
use e2e::browser::Browser;
use fantoccini::Locator;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use super::{stats, Bench};
use crate::keys;

/// The user the browser signs in as: the seed's CSM 0 (the queries part's `csm`).
const EMAIL: &str = "bench.csm0@bench.test";
const USER_ID: &str = "b0000000-0000-0000-0000-000000000000";
/// What the browser opens: the call list of the last 7 days.
const PATH: &str = "/calls?range=7d";
/// How long one step may take before the run fails (never a measured threshold).
const WAIT: Duration = Duration::from_secs(90);

/// Runs before the page's scripts in every document: marks, on the page's clock,
/// when the login form and then (after a submit) the first call row are laid out.
const MARKS: &str = r#"(() => {
  const marks = {};
  window.__bench = marks;
  const shown = (css) => {
    const e = document.querySelector(css);
    if (!e) return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const observer = new MutationObserver(() => {
    const t = performance.now();
    if (marks.login_form === undefined && shown('#login-form')) marks.login_form = t;
    if (marks.submitted !== undefined && marks.rows === undefined && shown('tr.call-row')) {
      marks.rows = t;
      marks.row_count = document.querySelectorAll('tr.call-row').length;
      observer.disconnect();
    }
  });
  observer.observe(document, {childList: true, subtree: true});
  document.addEventListener('submit', () => {
    if (marks.submitted === undefined) marks.submitted = performance.now();
  }, true);
})();"#;

/// The page's navigation timing and the wasm's resource timing (ms since navigation start).
const TIMING: &str = r#"const n = performance.getEntriesByType('navigation')[0] || {};
const wasm = performance.getEntriesByType('resource').find(r => r.name.endsWith('.wasm')) || {};
return {
  response_end_ms: n.responseEnd, dom_content_loaded_ms: n.domContentLoadedEventEnd,
  load_event_end_ms: n.loadEventEnd, wasm_response_end_ms: wasm.responseEnd,
  wasm_transfer_bytes: wasm.transferSize, marks: window.__bench
};"#;

struct Run {
    browser_start_ms: f64,
    login_form_ms: f64,
    login_to_rows_ms: f64,
    rows: u64,
    timing: Value,
}

/// Gives the CSM the demo password, checks the list will have rows, and times `runs` cold runs.
pub fn run(bench: &Bench, dashboard_url: &str, runs: usize) -> Result<(Value, String)> {
    let db = &bench.stack.db;
    bench.cluster.exec(
        db,
        &format!(
            "update auth.users set encrypted_password = extensions.crypt('{}', extensions.gen_salt('bf', 10)), \
             email_confirmed_at = now() where id = '{USER_ID}'",
            keys::DEMO_PASSWORD
        ),
    )?;
    let listed = bench.cluster.query_value(
        db,
        &format!(
            "select count(*) from public.calls c join public.user_dealerships ud using (dealership_id) \
              where ud.user_id = '{USER_ID}' and c.first_event_at >= now() - interval '7 days'"
        ),
    )?;
    if listed.parse::<u64>().unwrap_or(0) == 0 {
        bail!("the seed gave {EMAIL} no calls in the last 7 days: the browser would wait for rows forever");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let url = format!("{dashboard_url}{PATH}");
    let mut done = Vec::new();
    for i in 0..runs {
        let run = runtime
            .block_on(one(&url, i))
            .with_context(|| format!("browser run {}", i + 1))?;
        println!(
            "xtask bench: browser run {}/{runs}: login form {:.0} ms, login to rows {:.0} ms",
            i + 1,
            run.login_form_ms,
            run.login_to_rows_ms
        );
        done.push(run);
    }
    Ok(report(&done, &listed))
}

/// One cold run: a new chromedriver and Chromium (empty profile), closed at the end
/// (which removes the profile) whether or not the run succeeded.
async fn one(url: &str, i: usize) -> Result<Run> {
    let started = Instant::now();
    let browser = Browser::try_start_sized(&format!("bench-run-{i}"), 1280, 900).await?;
    let browser_start_ms = started.elapsed().as_secs_f64() * 1000.0;
    let run = measure(&browser, url, browser_start_ms).await;
    browser.close().await;
    run
}

async fn measure(browser: &Browser, url: &str, browser_start_ms: f64) -> Result<Run> {
    browser
        .on_new_document(MARKS)
        .await
        .context("add the marks script")?;
    browser
        .client
        .goto(url)
        .await
        .with_context(|| format!("open {url}"))?;
    let login_form_ms = wait_mark(browser, "login_form").await?;
    type_into(browser, "#email", EMAIL).await?;
    type_into(browser, "#password", keys::DEMO_PASSWORD).await?;
    find(browser, "#sign-in")
        .await?
        .click()
        .await
        .context("click #sign-in")?;
    let rows_at = wait_mark(browser, "rows").await?;
    let timing = eval(browser, TIMING).await?;
    let submitted = timing["marks"]["submitted"]
        .as_f64()
        .context("no submit event was seen")?;
    Ok(Run {
        browser_start_ms,
        login_form_ms,
        login_to_rows_ms: rows_at - submitted,
        rows: timing["marks"]["row_count"].as_u64().unwrap_or(0),
        timing,
    })
}

/// The element `css` matches (the form is laid out by then: no waiting).
async fn find(browser: &Browser, css: &str) -> Result<fantoccini::elements::Element> {
    browser
        .client
        .find(Locator::Css(css))
        .await
        .with_context(|| format!("find `{css}`"))
}

/// Types `text` into the element `css` matches, key by key as a user would.
async fn type_into(browser: &Browser, css: &str, text: &str) -> Result<()> {
    find(browser, css)
        .await?
        .send_keys(text)
        .await
        .with_context(|| format!("type into `{css}`"))
}

/// Runs `script` (a function body) in the page and returns what it returns.
async fn eval(browser: &Browser, script: &str) -> Result<Value> {
    browser
        .client
        .execute(script, vec![])
        .await
        .with_context(|| format!("script `{script}`"))
}

/// Polls the page until the mark is set; returns it (ms on the page's clock).
async fn wait_mark(browser: &Browser, mark: &str) -> Result<f64> {
    let deadline = Instant::now() + WAIT;
    let script = format!("return window.__bench ? window.__bench.{mark} : null;");
    loop {
        if let Some(t) = eval(browser, &script).await?.as_f64() {
            return Ok(t);
        }
        if Instant::now() > deadline {
            bail!("`{mark}` did not happen within {} s", WAIT.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Median, min, max and p95 of a timing over the runs.
fn spread(values: &[f64]) -> Value {
    let mut out = stats::median_spread(values);
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    out["p95"] = json!(stats::round1(stats::percentile(&sorted, 95.0)));
    out
}

fn report(runs: &[Run], listed: &str) -> (Value, String) {
    let of = |f: fn(&Run) -> f64| spread(&runs.iter().map(f).collect::<Vec<_>>());
    let timing = |key: &'static str| {
        let values: Vec<f64> = runs.iter().filter_map(|r| r.timing[key].as_f64()).collect();
        spread(&values)
    };
    let login_form = of(|r| r.login_form_ms);
    let login_to_rows = of(|r| r.login_to_rows_ms);
    let browser_start = of(|r| r.browser_start_ms);
    let json = json!({
        "runs": runs.len(),
        "cache": "cold: a new headless Chromium with an empty profile for every run",
        "user": format!("{EMAIL} (CSM, 7 dealerships; {listed} calls in the last 7 days)"),
        "page": PATH,
        "clock": "performance.now() in the page (zero at navigation start), marked by a script run \
                  before the page's own (MutationObserver, submit listener); browser_start_ms is \
                  wall-clock from the bench (a new chromedriver and Chromium session)",
        "login_form_ms": login_form,
        "login_to_rows_ms": login_to_rows,
        "browser_start_ms": browser_start,
        "navigation": {
            "response_end_ms": timing("response_end_ms"),
            "dom_content_loaded_ms": timing("dom_content_loaded_ms"),
            "load_event_end_ms": timing("load_event_end_ms"),
            "wasm_response_end_ms": timing("wasm_response_end_ms"),
        },
        "rows_first_shown": runs.iter().map(|r| r.rows).collect::<Vec<_>>(),
    });
    let row = |name: &str, v: &Value| {
        format!(
            "| {name} | {} | {} | {} | {} |",
            stats::cell(&v["median"]),
            stats::cell(&v["min"]),
            stats::cell(&v["p95"]),
            stats::cell(&v["max"])
        )
    };
    let markdown = format!(
        "Browser timings: {} runs in headless Chromium, each a new browser with an empty \
         profile (cold cache), against the release dashboard served by the gateway on this \
         machine (no network latency). The page is `{PATH}` signed out; it signs in as {EMAIL} \
         (CSM, 7 dealerships, {listed} calls in the last 7 days). Times in ms on the page's clock \
         (`performance.now()`, zero at navigation start), marked by a script that runs before \
         the page's own; the browser start (a new chromedriver and Chromium) is wall-clock.\n\n\
         | timing | median | min | p95 | max |\n| --- | ---: | ---: | ---: | ---: |\n{}\n{}\n{}\n{}\n{}\n{}",
        runs.len(),
        row("(a) navigation start to the login form shown", &login_form),
        row("(b) login submitted to the call rows shown", &login_to_rows),
        row("navigation: response end (index.html)", &json["navigation"]["response_end_ms"]),
        row("navigation: load event end", &json["navigation"]["load_event_end_ms"]),
        row("the wasm downloaded (resource timing)", &json["navigation"]["wasm_response_end_ms"]),
        row("browser start (chromedriver + Chromium, wall-clock, not in (a))", &browser_start),
    );
    (json, markdown)
}
