//! The benchmark's throwaway stack: its own Postgres (fast or durable), PostgREST,
//! and the release builds of the api and the worker, on free ports in a folder of
//! their own. Everything stops when the [`BenchStack`] is dropped.

use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::keys;
use crate::paths;
use crate::pg::Cluster;
use crate::stack;
use crate::supervise::{wait_until, Spec, Supervisor};

/// Postgres durability: `Fast` is the development cluster (fsync, synchronous
/// commit and full-page writes off); `Durable` turns all three back on, as in
/// production.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    Fast,
    Durable,
}

impl Durability {
    pub fn name(self) -> &'static str {
        match self {
            Durability::Fast => "fast",
            Durability::Durable => "durable",
        }
    }
}

pub struct BenchStack {
    sup: Supervisor,
    pub cluster: Cluster,
    pub dir: PathBuf,
    pub secret: String,
    pub db: String,
}

pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl BenchStack {
    /// Postgres with every migration applied, in `<parent>/<name>`.
    /// `commit_times` turns on `track_commit_timestamp`, so a row's commit time
    /// can be read back (the end-to-end part needs it; ingest runs without).
    pub fn start(
        parent: &Path,
        name: &str,
        durability: Durability,
        commit_times: bool,
    ) -> Result<BenchStack> {
        let dir = parent.join(name);
        std::fs::create_dir_all(dir.join("logs"))?;
        let mut cluster = Cluster::at(dir.join("pg"), free_port()?, crate::pg::Durability::Fast)?;
        if durability == Durability::Durable {
            cluster.settings = vec![
                "fsync=on".into(),
                "synchronous_commit=on".into(),
                "full_page_writes=on".into(),
            ];
        }
        if commit_times {
            cluster.settings.push("track_commit_timestamp=on".into());
        }
        let mut sup = Supervisor::new(Arc::new(AtomicBool::new(false)));
        stack::start_postgres(&mut sup, &cluster, &dir.join("logs"))?;
        cluster.prepare_database("app", false)?;
        Ok(BenchStack {
            sup,
            cluster,
            dir,
            secret: keys::random_secret(),
            db: "app".into(),
        })
    }

    pub fn database_url(&self) -> String {
        self.cluster.url(&self.db)
    }

    /// The settings that decide what a commit costs, as the server reports them.
    pub fn durability(&self) -> Result<Value> {
        let show = |name: &str| {
            self.cluster
                .query_value(&self.db, &format!("show {name}"))
                .unwrap_or_default()
        };
        Ok(json!({
            "fsync": show("fsync"),
            "synchronous_commit": show("synchronous_commit"),
            "full_page_writes": show("full_page_writes"),
            "server_version": show("server_version"),
            "shared_buffers": show("shared_buffers"),
        }))
    }

    /// PostgREST on a free port (pool of 20, like the local stack); returns its URL.
    pub fn start_postgrest(&mut self) -> Result<String> {
        let port = free_port()?;
        let admin = free_port()?;
        let conf = self.dir.join("postgrest.conf");
        std::fs::write(
            &conf,
            format!(
                "db-uri = \"postgres://authenticator@127.0.0.1:{}/{}\"\n\
                 db-schemas = \"public\"\n\
                 db-anon-role = \"anon\"\n\
                 jwt-secret = \"{}\"\n\
                 server-host = \"127.0.0.1\"\n\
                 server-port = {port}\n\
                 admin-server-port = {admin}\n\
                 db-pool = 20\n\
                 log-level = \"crit\"\n",
                self.cluster.port,
                self.db,
                keys::JWT_SECRET,
            ),
        )?;
        let bin = paths::postgrest_bin();
        self.sup
            .spawn(Spec::new("postgrest", &self.dir.join("logs")), move || {
                let mut cmd = Command::new(&bin);
                cmd.arg(&conf);
                cmd
            })?;
        wait_ok("PostgREST", &format!("http://127.0.0.1:{admin}/ready"))?;
        Ok(format!("http://127.0.0.1:{port}"))
    }

    /// The api (release build, debug for `--smoke`) on a free port; returns the webhook URL.
    pub fn start_api(&mut self) -> Result<String> {
        let port = free_port()?;
        let envs = [
            ("API_BIND".to_string(), format!("127.0.0.1:{port}")),
            ("DATABASE_URL".to_string(), self.database_url()),
            ("WEBHOOK_SECRETS".to_string(), self.secret.clone()),
        ];
        let bin = super::service_bin("api");
        self.sup
            .spawn(Spec::new("api", &self.dir.join("logs")), move || {
                let mut cmd = Command::new(&bin);
                cmd.env("LOG_FORMAT", "json")
                    .env("RUST_LOG", "info")
                    .envs(envs.iter().map(|(k, v)| (k, v)));
                cmd
            })?;
        let base = format!("http://127.0.0.1:{port}");
        wait_ok("the api", &format!("{base}/readyz"))?;
        Ok(format!("{base}/webhooks/retell"))
    }

    /// A worker process (release build, debug for `--smoke`) judging with the LLM at `openai_url`;
    /// stopped (SIGTERM, then waited for) when the handle is dropped.
    pub fn start_worker(&self, id: &str, concurrency: usize, openai_url: &str) -> Result<Worker> {
        let port = free_port()?;
        let log = std::fs::File::create(self.dir.join("logs").join(format!("worker-{id}.log")))?;
        let child = Command::new(super::service_bin("worker"))
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .env("WORKER_BIND", format!("127.0.0.1:{port}"))
            .env("WORKER_ID", id)
            .env("WORKER_CONCURRENCY", concurrency.to_string())
            .env("DATABASE_URL", self.database_url())
            .env("OPENAI_API_KEY", "sk-bench-not-a-real-key")
            .env("OPENAI_BASE_URL", openai_url)
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .context("could not start the release worker")?;
        let worker = Worker { child };
        wait_ok("the worker", &format!("http://127.0.0.1:{port}/healthz"))?;
        Ok(worker)
    }
}

impl Drop for BenchStack {
    fn drop(&mut self) {
        self.sup.shutdown();
    }
}

pub struct Worker {
    child: Child,
}

impl Drop for Worker {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

fn wait_ok(what: &str, url: &str) -> Result<()> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    wait_until(what, Duration::from_secs(60), || {
        client
            .get(url)
            .send()
            .map(|r| r.status().is_success())
            .unwrap_or(false)
    })
}
