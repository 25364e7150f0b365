//! `cargo xtask <command>`: the project's one entry point for setting up, running and
//! testing the whole system. See `cargo xtask help`.

mod bench;
mod chaos;
mod dashboard;
mod demo;
mod eval;
mod fake_openai;
mod fuzz;
mod install;
mod keys;
mod paths;
mod pg;
mod prepare;
mod stack;
mod supervise;
mod test;
mod up;

use anyhow::Result;

const HELP: &str = "\
cargo xtask <command>

  up [--reset] [--no-demo]   install what is missing, build, and run the whole local stack
                             in the foreground (Ctrl-C stops it). --reset wipes the local
                             database first; --no-demo skips generating demo calls.
  test [--only STAGES]       install what is missing and run every suite (lint, unit,
                             integration, pgTAP, end-to-end, browser) against a throwaway
                             stack; prints one summary line. --only runs some stages,
                             comma-separated: lint, docs, unit, pgtap, e2e, bench (e.g.
                             `--only pgtap,e2e`). TEST_FILTER=<substring> narrows the
                             cargo test stages to matching test names and the pgTAP stage
                             to matching file names.
  bench [--only PARTS] [--smoke] [--calls N] [--e2e-calls N] [--browser-runs N]
                             the benchmark, on its own throwaway stack: writes
                             bench/results/<date>-<sha>.json and a Markdown summary beside
                             it, and prints the summary. Parts: queries (the dashboard's
                             queries at N calls, default 1000000), dashboard (download
                             sizes; time to the login form and from login to the call
                             list in headless Chromium, cold, --browser-runs runs,
                             default 20, among the same N calls), ingest (webhook vs the PostgREST baseline, fast and
                             durable Postgres), e2e (webhook to committed analysis with a
                             300 ms fake LLM; --e2e-calls sets its calls). --smoke: a few
                             seconds, tiny sizes, the debug builds.
  chaos [--only PHASES]      faults against real processes on a stack of its own (minutes):
                             Postgres, the api and the worker SIGKILLed under sustained
                             ingest, the worker's LISTEN connection cut, the fake OpenAI
                             misbehaving; then schemathesis with signed requests and a
                             bounded fuzzing run. Checks that every acknowledged event is
                             stored once and every job has exactly one analysis, and
                             writes the figures to target/chaos-results.json
                             (CHAOS_RESULTS=<path> overrides). Phases: kills, listen,
                             llm, schemathesis, fuzz.
  fuzz [--secs N] [--keep]   coverage-guided fuzzing (cargo-fuzz) of the webhook's body
                             decoding and signature check, N seconds per target (60);
                             --keep merges inputs that reach new code into fuzz/corpus.
  install                    only install the prerequisites (Postgres 15, pgTAP, pg_cron,
                             PostgREST, Supabase CLI, wasm toolchain, Chromium).
  dashboard                  build the dashboard (wasm) into target/site.
  prepare                    refresh the committed sqlx offline metadata (.sqlx/) after a
                             migration or query changed.
  eval --labels FILE [--analyzer heuristic|openai] [--json]
                             measure a judge on labelled calls (the worker's analyzer code):
                             agreement, Cohen's kappa, good-on-bad, confusion matrix, per-flag
                             precision/recall. openai reads OPENAI_API_KEY, OPENAI_BASE_URL,
                             OPENAI_MODEL from the environment.
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = run(&args);
    if let Err(err) = result {
        eprintln!("\nxtask: error: {err:#}");
        std::process::exit(1);
    }
}

fn run(args: &[String]) -> Result<()> {
    let command = args.first().map(String::as_str).unwrap_or("help");
    if command == "bench" {
        let flags: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
        return bench::run(bench::Options::parse(&flags).map_err(|e| e.context(HELP))?);
    }
    let mut flags: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let only = match flags.iter().position(|f| *f == "--only") {
        Some(i) if command == "test" => {
            let Some(stages) = flags.get(i + 1).copied() else {
                anyhow::bail!("--only needs a list of stages\n\n{HELP}");
            };
            flags.drain(i..=i + 1);
            Some(test::Stages::parse(stages)?)
        }
        _ => None,
    };
    if command == "eval" {
        return eval::run(&eval::Options::parse(&flags)?);
    }
    if command == "fuzz" {
        return fuzz::run(&args[1..]);
    }
    if command == "chaos" {
        return chaos::run(&args[1..]);
    }
    let has = |flag: &str| flags.contains(&flag);
    if let Some(unknown) = flags
        .iter()
        .find(|f| !["--reset", "--no-demo"].contains(*f))
    {
        anyhow::bail!("unknown option {unknown}\n\n{HELP}");
    }
    match command {
        "up" => up::run(up::Options {
            reset: has("--reset"),
            demo: !has("--no-demo"),
        }),
        "test" => test::run(only.unwrap_or_default()),
        "install" => install::ensure(install::Purpose::Test),
        "dashboard" => {
            install::ensure(install::Purpose::Up)?;
            dashboard::build().map(|_| ())
        }
        "prepare" => prepare::run(),

        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => anyhow::bail!("unknown command `{other}`\n\n{HELP}"),
    }
}
