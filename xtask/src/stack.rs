//! The local stack, shared by `up` (fixed ports, `.devstack/`) and `test` (free
//! ports, a temporary folder): Postgres, PostgREST, the auth gateway (which also
//! serves the dashboard), the api and the worker, each supervised and checked ready.

use anyhow::{Context, Result};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::keys;
use crate::paths;
use crate::pg::Cluster;
use crate::supervise::{wait_supervised, Restart, Spec, Supervisor};

#[derive(Clone, Copy, Debug)]
pub struct Ports {
    pub pg: u16,
    pub gateway: u16,
    pub postgrest: u16,
    pub postgrest_admin: u16,
    pub api: u16,
    pub worker: u16,
    pub dashboard: u16,
}

impl Ports {
    /// The documented ports `up` uses.
    pub fn fixed() -> Ports {
        Ports {
            pg: 54322,
            gateway: 54321,
            postgrest: 54327,
            postgrest_admin: 54328,
            api: 54380,
            worker: 54381,
            dashboard: 54390,
        }
    }

    /// Ports the OS reports free right now, for a test stack beside a running `up`.
    pub fn free() -> Result<Ports> {
        let mut held = Vec::new();
        let mut next = || -> Result<u16> {
            let l = TcpListener::bind("127.0.0.1:0")?;
            let port = l.local_addr()?.port();
            held.push(l);
            Ok(port)
        };
        Ok(Ports {
            pg: next()?,
            gateway: next()?,
            postgrest: next()?,
            postgrest_admin: next()?,
            api: next()?,
            worker: next()?,
            dashboard: next()?,
        })
    }

    pub fn named(&self) -> [(&'static str, u16); 7] {
        [
            ("Postgres", self.pg),
            ("gateway (auth + rest)", self.gateway),
            ("PostgREST", self.postgrest),
            ("PostgREST admin", self.postgrest_admin),
            ("api (webhook)", self.api),
            ("worker", self.worker),
            ("dashboard", self.dashboard),
        ]
    }

    /// Fails with a message naming the first port already taken.
    pub fn check_free(&self) -> Result<()> {
        for (name, port) in self.named() {
            if TcpListener::bind(("127.0.0.1", port)).is_err() {
                anyhow::bail!(
                    "port {port} ({name}) is already in use. Is another `cargo xtask up` running? \
                     Find the process with `ss -ltnp 'sport = :{port}'`."
                );
            }
        }
        Ok(())
    }
}

/// Everything a running stack is: where it lives and how to reach it.
pub struct Stack {
    pub ports: Ports,
    /// The application database (Supabase's is `postgres`).
    pub db: String,
    pub webhook_secret: String,
    /// Per-stack folder: logs, PostgREST config, the served dashboard copy.
    pub dir: PathBuf,
}

impl Stack {
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }
    pub fn site(&self) -> PathBuf {
        self.dir.join("site")
    }
    pub fn supabase_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.gateway)
    }
    pub fn postgrest_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.postgrest)
    }
    pub fn database_url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{}",
            self.ports.pg, self.db
        )
    }
    pub fn webhook_url(&self) -> String {
        format!("http://127.0.0.1:{}/webhooks/retell", self.ports.api)
    }
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.api)
    }
    pub fn worker_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.worker)
    }
    pub fn dashboard_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.dashboard)
    }

    /// `KEY=value` lines for `stack.env` and for the end-to-end suites.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SUPABASE_URL", self.supabase_url()),
            ("SUPABASE_ANON_KEY", keys::anon_key()),
            ("SUPABASE_SERVICE_ROLE_KEY", keys::service_role_key()),
            ("SUPABASE_JWT_SECRET", keys::JWT_SECRET.to_string()),
            ("POSTGREST_URL", self.postgrest_url()),
            ("DATABASE_URL", self.database_url()),
            ("WEBHOOK_URL", self.webhook_url()),
            ("WEBHOOK_SECRET", self.webhook_secret.clone()),
            ("API_URL", self.api_url()),
            ("WORKER_URL", self.worker_url()),
            ("DASHBOARD_URL", self.dashboard_url()),
            ("DEMO_PASSWORD", crate::keys::DEMO_PASSWORD.to_string()),
        ]
    }

    pub fn write_env_file(&self, path: &Path) -> Result<()> {
        let mut text = String::from(
            "# Written by `cargo xtask up`: how to reach the local stack. Local-only secrets.\n",
        );
        for (k, v) in self.env() {
            text.push_str(&format!("{k}={v}\n"));
        }
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }
}

/// How Postgres is restarted when it exits (SIGKILL, a crash or a fast shutdown
/// someone else asked for): quickly at first, since every service waits on it, and
/// up to five times a minute. Crash recovery replays the WAL, so every committed
/// (and, with `synchronous_commit=off`, flushed) transaction is back.
pub const POSTGRES_RESTART: Restart = Restart {
    per_minute: 5,
    first_delay: Duration::from_millis(250),
    max_delay: Duration::from_secs(4),
};

/// Starts Postgres (initialising the cluster if needed) under the supervisor.
pub fn start_postgres(sup: &mut Supervisor, cluster: &Cluster, logs: &Path) -> Result<()> {
    cluster.init_if_needed()?;
    let mut spec = Spec::new("postgres", logs);
    // SIGINT is Postgres's "fast" shutdown: it does not wait for clients to leave.
    spec.stop_signal = libc::SIGINT;
    spec.restart = POSTGRES_RESTART;
    let owned = cluster.clone();
    sup.spawn(spec, move || owned.command())?;
    cluster.wait_ready()
}

fn http_ok(url: &str, apikey: Option<&str>) -> bool {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("a plain HTTP client builds");
    let mut req = client.get(url);
    if let Some(key) = apikey {
        req = req.header("apikey", key);
    }
    req.send().map(|r| r.status().is_success()).unwrap_or(false)
}

fn wait_http(what: &str, url: &str, apikey: Option<&str>, sup: &mut Supervisor) -> Result<()> {
    wait_supervised(sup, what, Duration::from_secs(60), |_| http_ok(url, apikey))
}

fn service_command(path: &Path, envs: Vec<(&str, String)>) -> impl Fn() -> Command + 'static {
    let path = path.to_path_buf();
    let envs: Vec<(String, String)> = envs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    move || {
        let mut cmd = Command::new(&path);
        cmd.env("LOG_FORMAT", "pretty")
            .env("RUST_LOG", "info")
            .envs(envs.iter().map(|(k, v)| (k, v)));
        cmd
    }
}

/// Starts PostgREST on the stack's ports and waits until it is ready; `extra`
/// lines go into its configuration file as they are.
pub fn start_postgrest(sup: &mut Supervisor, stack: &Stack, extra: &str) -> Result<()> {
    let logs = stack.logs();
    let p = stack.ports;
    let conf = stack.dir.join("postgrest.conf");
    std::fs::write(
        &conf,
        format!(
            "db-uri = \"postgres://authenticator@127.0.0.1:{}/{}\"\n\
             db-schemas = \"public\"\n\
             db-anon-role = \"anon\"\n\
             db-extra-search-path = \"public, extensions\"\n\
             jwt-secret = \"{}\"\n\
             server-host = \"127.0.0.1\"\n\
             server-port = {}\n\
             admin-server-port = {}\n\
             db-pool = 20\n\
             db-max-rows = 1000\n\
             {extra}",
            p.pg,
            stack.db,
            keys::JWT_SECRET,
            p.postgrest,
            p.postgrest_admin
        ),
    )?;
    let postgrest = paths::postgrest_bin();
    sup.spawn(Spec::new("postgrest", &logs), move || {
        let mut cmd = Command::new(&postgrest);
        cmd.arg(&conf);
        cmd
    })?;
    wait_http(
        "PostgREST",
        &format!("http://127.0.0.1:{}/ready", p.postgrest_admin),
        None,
        sup,
    )?;
    Ok(())
}

/// Starts PostgREST, the gateway (+ dashboard), the api and the worker, in that order.
pub fn start_services(sup: &mut Supervisor, stack: &Stack) -> Result<()> {
    let logs = stack.logs();
    let p = stack.ports;
    start_postgrest(sup, stack, "")?;

    start_gateway(sup, stack, &paths::workspace_bin("gateway"))?;

    sup.spawn(
        Spec::new("api", &logs),
        service_command(
            &paths::workspace_bin("api"),
            vec![
                ("API_BIND", format!("127.0.0.1:{}", p.api)),
                ("DATABASE_URL", stack.database_url()),
                ("WEBHOOK_SECRETS", stack.webhook_secret.clone()),
            ],
        ),
    )?;
    wait_http(
        "the api",
        &format!("{}/healthz", stack.api_url()),
        None,
        sup,
    )?;

    let mut worker_env = vec![
        ("WORKER_BIND", format!("127.0.0.1:{}", p.worker)),
        ("DATABASE_URL", stack.database_url()),
    ];
    // The LLM is used only when the developer configured it; otherwise the worker
    // runs the offline heuristic analyzer and says so in its log.
    for key in [
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_MODEL",
        "OPENAI_TIMEOUT_SECS",
        "ANALYSIS_MAX_ATTEMPTS",
        "WORKER_CONCURRENCY",
        "WORKER_LEASE_SECS",
    ] {
        if let Ok(value) = std::env::var(key) {
            worker_env.push((key, value));
        }
    }
    sup.spawn(
        Spec::new("worker", &logs),
        service_command(&paths::workspace_bin("worker"), worker_env),
    )?;
    wait_http(
        "the worker",
        &format!("{}/healthz", stack.worker_url()),
        None,
        sup,
    )?;
    Ok(())
}

/// Starts the auth gateway from `bin` (auth, the PostgREST proxy, and the
/// dashboard from [`Stack::site`]) and waits until it answers.
pub fn start_gateway(sup: &mut Supervisor, stack: &Stack, bin: &Path) -> Result<()> {
    let logs = stack.logs();
    let p = stack.ports;
    sup.spawn(
        Spec::new("gateway", &logs),
        service_command(
            bin,
            vec![
                ("GATEWAY_BIND", format!("127.0.0.1:{}", p.gateway)),
                (
                    "DATABASE_URL",
                    format!(
                        "postgres://supabase_auth_admin@127.0.0.1:{}/{}",
                        p.pg, stack.db
                    ),
                ),
                ("POSTGREST_URL", stack.postgrest_url()),
                ("JWT_SECRET", keys::JWT_SECRET.to_string()),
                ("ANON_KEY", keys::anon_key()),
                ("SERVICE_ROLE_KEY", keys::service_role_key()),
                ("DASHBOARD_BIND", format!("127.0.0.1:{}", p.dashboard)),
                ("DASHBOARD_DIR", stack.site().display().to_string()),
            ],
        ),
    )?;
    wait_http(
        "the auth gateway",
        &format!("{}/auth/v1/health", stack.supabase_url()),
        Some(&keys::anon_key()),
        sup,
    )?;

    Ok(())
}

/// Copies the built dashboard into the stack's folder with this stack's runtime config.
pub fn install_site(stack: &Stack, built: &Path) -> Result<()> {
    let site = stack.site();
    let _ = std::fs::remove_dir_all(&site);
    paths::copy_dir(built, &site)?;
    let config = serde_json::json!({
        "supabase_url": stack.supabase_url(),
        "supabase_anon_key": keys::anon_key(),
    });
    std::fs::write(
        site.join("config.json"),
        serde_json::to_string_pretty(&config)?,
    )?;
    Ok(())
}

/// `cargo build` of the service binaries the stack runs.
pub fn build_services() -> Result<()> {
    crate::install::run_ok(
        Command::new("cargo")
            .args([
                "build", "--quiet", "-p", "api", "-p", "worker", "-p", "gateway",
            ])
            .current_dir(paths::root()),
        "cargo build (api, worker, gateway)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pg::Durability;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    /// A real Postgres under the supervisor: SIGKILLed, then stopped with a fast
    /// shutdown, it comes back each time with its committed rows.
    #[test]
    fn postgres_is_restarted_after_sigkill_and_after_a_fast_shutdown() {
        assert!(
            Path::new(crate::install::PG_BIN).join("postgres").exists(),
            "needs PostgreSQL 15 (run under `cargo xtask test`, which installs it)"
        );
        let home = std::env::temp_dir().join(format!("xtask-pg-restart-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(home.join("logs")).unwrap();
        let cluster =
            Cluster::at(home.join("pg"), Ports::free().unwrap().pg, Durability::Fast).unwrap();
        let mut sup = Supervisor::new(Arc::new(AtomicBool::new(false)));
        start_postgres(&mut sup, &cluster, &home.join("logs")).unwrap();
        cluster
            .exec(
                "postgres",
                "set synchronous_commit = on; create table kept (n int); insert into kept values (1)",
            )
            .unwrap();

        for (round, signal) in [(1, libc::SIGKILL), (2, libc::SIGINT)] {
            let pid = sup.pid("postgres").expect("postgres runs");
            // SAFETY: signalling the postmaster this test started.
            assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0);
            wait_supervised(&mut sup, "Postgres back", Duration::from_secs(60), |sup| {
                sup.pid("postgres").is_some_and(|p| p != pid)
                    && cluster.query_value("postgres", "select 1").is_ok()
            })
            .expect("back within the restart limit");
            assert_eq!(sup.recent_restarts("postgres"), round);
            cluster
                .exec(
                    "postgres",
                    &format!(
                        "set synchronous_commit = on; insert into kept values ({})",
                        round + 1
                    ),
                )
                .unwrap();
        }
        assert_eq!(
            cluster
                .query_value(
                    "postgres",
                    "select string_agg(n::text, ',' order by n) from kept"
                )
                .unwrap(),
            "1,2,3"
        );
        sup.shutdown();
        let _ = std::fs::remove_dir_all(&home);
    }
}
