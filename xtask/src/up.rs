//! `cargo xtask up`: install what is missing, build, start the whole local stack in
//! the foreground with demo data, print how to use it, and stop everything cleanly
//! on Ctrl-C or SIGTERM.

use anyhow::Result;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::stack::{self, Ports, Stack};
use crate::supervise::Supervisor;
use crate::{dashboard, demo, install, keys, paths, pg};

pub struct Options {
    pub reset: bool,
    pub demo: bool,
}

pub fn run(options: Options) -> Result<()> {
    let started = Instant::now();
    let stopping = Arc::new(AtomicBool::new(false));
    {
        let stopping = stopping.clone();
        ctrlc::set_handler(move || stopping.store(true, Ordering::SeqCst))?;
    }

    install::ensure(install::Purpose::Up)?;
    let ports = Ports::fixed();
    ports.check_free()?;
    stack::build_services()?;
    let built_site = dashboard::build()?;

    let dir = paths::devstack();
    if options.reset {
        println!("xtask: --reset: removing the local database");
        for path in [dir.join("pg"), dir.join("webhook-secret")] {
            if path.is_symlink() {
                if let Ok(real) = std::fs::read_link(&path) {
                    let _ = std::fs::remove_dir_all(real);
                }
                std::fs::remove_file(&path)?;
            } else if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else if path.exists() {
                std::fs::remove_file(&path)?;
            }
        }
    }
    std::fs::create_dir_all(dir.join("logs"))?;
    let stack = Stack {
        ports,
        db: "postgres".into(),
        webhook_secret: keys::persistent_secret(&dir.join("webhook-secret"))?,
        dir: dir.clone(),
    };
    stack::install_site(&stack, &built_site)?;

    let mut sup = Supervisor::new(stopping.clone());
    let cluster = pg::Cluster::at(dir.join("pg"), ports.pg)?;
    println!("xtask: starting Postgres on port {}", ports.pg);
    stack::start_postgres(&mut sup, &cluster, &stack.logs())?;
    println!("xtask: applying migrations and seed (supabase db push)");
    cluster.prepare_database(&stack.db, true)?;
    println!("xtask: starting PostgREST, the auth gateway, the api and the worker");
    stack::start_services(&mut sup, &stack)?;

    if options.demo {
        demo::ensure(&stack, &cluster, &stopping)?;
    }
    let env_file = dir.join("stack.env");
    stack.write_env_file(&env_file)?;
    print_banner(&stack, started.elapsed());

    while !stopping.load(Ordering::SeqCst) {
        if let Err(err) = sup.check() {
            sup.shutdown();
            return Err(err);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    println!("\nxtask: stopping the stack…");
    sup.shutdown();
    println!("xtask: stopped. Data is kept in .devstack/ (`cargo xtask up --reset` starts over).");
    Ok(())
}

fn print_banner(stack: &Stack, took: Duration) {
    let secret = &stack.webhook_secret;
    let url = stack.webhook_url();
    let demo = keys::DEMO_PASSWORD;
    println!(
        r#"
================================================================================
 Dealership call-quality monitor: local stack is up ({:.0} s)
================================================================================
 Dashboard      {dash}
   logins       admin@demo.test · manager@demo.test · csm.north@demo.test ·
                csm.south@demo.test   (password: {demo})
 Supabase URL   {sb}      (auth: /auth/v1, data: /rest/v1)
   anon key     {anon}
 Webhook        POST {url}
   secret       {secret}
 Api health     {api}/healthz · metrics {api}/metrics · {api}/openapi.json
 Worker         {worker}/healthz · {worker}/metrics
 Postgres       {db}
 Env file       .devstack/stack.env     Logs: .devstack/logs/

 Send a signed test event (paste as is):

  BODY='{{"event_id":"evt_readme_'$(date +%s)'","dealership_id":"toyota-braintree","call_id":"call_readme_1","timestamp":"'$(date -u +%Y-%m-%dT%H:%M:%SZ)'","transcript":"Agent: Toyota of Braintree, how can I help?\nUser: I need an oil change Thursday.\nAgent: You are booked for Thursday at 9:30 AM."}}'
  TS=$(($(date +%s)*1000))
  SIG=$(printf '%s%s' "$BODY" "$TS" | openssl dgst -sha256 -hmac '{secret}' | sed 's/^.* //')
  curl -sS -X POST '{url}' -H 'Content-Type: application/json' \
    -H "X-Retell-Signature: v=$TS,d=$SIG" --data-binary "$BODY"

 Stop with Ctrl-C (or SIGTERM). `cargo xtask up --reset` starts from an empty database.
================================================================================
"#,
        took.as_secs_f64(),
        dash = stack.dashboard_url(),
        sb = stack.supabase_url(),
        anon = keys::anon_key(),
        api = stack.api_url(),
        worker = stack.worker_url(),
        db = stack.database_url(),
    );
}
