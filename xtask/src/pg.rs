//! A private PostgreSQL 15 cluster (own data dir, port and socket dir) and the steps
//! that make a database in it look like a Supabase project: the local bootstrap,
//! then our migrations and seed through the real Supabase CLI (`db push`), the same
//! runner production uses.

use anyhow::{bail, Context, Result};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::install::PG_BIN;
use crate::paths;

#[derive(Clone)]
pub struct Cluster {
    /// Holds `data/` and `sock/`.
    pub home: PathBuf,
    pub port: u16,
    /// Extra `-c` settings after the defaults (a later one wins), e.g. the
    /// benchmark's durable variant turns `fsync` back on.
    pub settings: Vec<String>,
    pub durability: Durability,
}

/// How hard the cluster works to keep committed data across a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `up`: `fsync` and `full_page_writes` on, so an OS crash or power loss cannot
    /// corrupt the database. `synchronous_commit=off` stays: a crash of the machine
    /// (not of Postgres) may lose the last ~0.6 s of commits (3 x `wal_writer_delay`),
    /// never corrupt anything (see docs/operations.md).
    Durable,
    /// Throwaway test clusters: no fsync at all, for speed. An OS crash may corrupt
    /// them, which does not matter for a database deleted after the run.
    Fast,
}

impl Durability {
    fn settings(self) -> [&'static str; 3] {
        match self {
            Durability::Durable => ["fsync=on", "full_page_writes=on", "synchronous_commit=off"],
            Durability::Fast => [
                "fsync=off",
                "full_page_writes=off",
                "synchronous_commit=off",
            ],
        }
    }
}

/// The OS user Postgres runs as when we are root (initdb and postgres refuse root).
fn postgres_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let name = std::ffi::CString::new("postgres").expect("no NUL");
    // SAFETY: getpwnam returns a pointer to static storage or NULL.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return None;
    }
    // SAFETY: pw is non-null and points to a valid passwd record.
    Some(unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
}

fn as_postgres(cmd: &mut Command) -> &mut Command {
    if let Some((uid, gid)) = postgres_user() {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn chown_to_postgres(path: &Path) -> Result<()> {
    if let Some((uid, gid)) = postgres_user() {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .with_context(|| format!("chown {}", path.display()))?;
    }
    Ok(())
}

/// Whether the `postgres` OS user can reach `dir` (every parent must be searchable).
fn reachable_by_postgres(dir: &Path) -> bool {
    if postgres_user().is_none() {
        return true;
    }
    let mut current = Some(dir);
    while let Some(p) = current {
        if let Ok(meta) = std::fs::metadata(p) {
            if meta.permissions().mode() & 0o001 == 0 {
                return false;
            }
        }
        current = p.parent();
    }
    true
}

impl Cluster {
    /// A cluster whose files live in `home`. When running as root inside a folder the
    /// `postgres` user cannot enter (e.g. under /root), the files go to /var/tmp and
    /// `home` becomes a symlink to them.
    pub fn at(home: PathBuf, port: u16, durability: Durability) -> Result<Cluster> {
        let parent = home.parent().context("cluster home has a parent")?;
        std::fs::create_dir_all(parent)?;
        if !home.exists() && !reachable_by_postgres(parent) {
            let real = PathBuf::from("/var/tmp")
                .join(format!("dealer-call-monitor-pg-{}", short_hash(&home)));
            std::fs::create_dir_all(&real)?;
            std::os::unix::fs::symlink(&real, &home)?;
            println!(
                "xtask: the postgres user cannot enter {}; its data lives in {}",
                parent.display(),
                real.display()
            );
        }
        std::fs::create_dir_all(&home)?;
        chown_to_postgres(&home)?;
        Ok(Cluster {
            home,
            port,
            settings: Vec::new(),
            durability,
        })
    }

    pub fn data(&self) -> PathBuf {
        self.home.join("data")
    }

    pub fn sock(&self) -> PathBuf {
        self.home.join("sock")
    }

    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Runs initdb unless the data dir already holds a cluster. Returns whether it did.
    pub fn init_if_needed(&self) -> Result<bool> {
        if self.data().join("PG_VERSION").exists() {
            return Ok(false);
        }
        // A half-finished earlier initdb leaves a non-empty dir initdb refuses.
        let _ = std::fs::remove_dir_all(self.data());
        for dir in [self.data(), self.sock()] {
            std::fs::create_dir_all(&dir)?;
            chown_to_postgres(&dir)?;
        }
        let out = as_postgres(
            Command::new(format!("{PG_BIN}/initdb"))
                .arg("-D")
                .arg(self.data())
                .args([
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]),
        )
        .output()
        .context("could not run initdb (is postgresql-15 installed?)")?;
        if !out.status.success() {
            bail!("initdb failed:\n{}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(true)
    }

    /// The foreground `postgres` command, for the supervisor.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(format!("{PG_BIN}/postgres"));
        cmd.arg("-D")
            .arg(self.data())
            .arg("-p")
            .arg(self.port.to_string());
        let durability = self.durability.settings().map(String::from);
        for setting in durability
            .into_iter()
            .chain([
                "listen_addresses=127.0.0.1".to_string(),
                format!("unix_socket_directories={}", self.sock().display()),
                "max_connections=300".into(),
                "shared_preload_libraries=pg_cron".into(),
                "cron.database_name=postgres".into(),
                format!("cron.host={}", self.sock().display()),
                "logging_collector=off".into(),
            ])
            .chain(self.settings.iter().cloned())
        {
            cmd.arg("-c").arg(setting);
        }
        as_postgres(&mut cmd);
        cmd
    }

    pub fn wait_ready(&self) -> Result<()> {
        crate::supervise::wait_until("Postgres", Duration::from_secs(30), || {
            Command::new(format!("{PG_BIN}/pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        })
    }

    pub fn psql(&self, db: &str) -> Command {
        let mut cmd = Command::new("psql");
        cmd.args(["-q", "-X", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url(db))
            .env("PGOPTIONS", "--client-min-messages=warning");
        cmd
    }

    pub fn exec(&self, db: &str, sql: &str) -> Result<()> {
        run_quiet(self.psql(db).args(["-c", sql]), &format!("psql: {sql}")).map(drop)
    }

    /// One value from a query (`psql -At`).
    pub fn query_value(&self, db: &str, sql: &str) -> Result<String> {
        let out = self.psql(db).args(["-At", "-c", sql]).output()?;
        if !out.status.success() {
            bail!("{sql}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// `create database <db> template <template>`, keeping the template's
    /// database-level privileges: Postgres does not copy them, and the migrations
    /// revoke TEMP from PUBLIC (20261202000100), which the clone must keep too.
    pub fn clone_database(&self, db: &str, template: &str) -> Result<()> {
        self.exec(
            "postgres",
            &format!("create database \"{db}\" template \"{template}\""),
        )?;
        self.exec(
            "postgres",
            &format!(
                "update pg_database set datacl = (select datacl from pg_database where datname = '{template}') \
                 where datname = '{db}'"
            ),
        )
    }

    pub fn database_exists(&self, db: &str) -> Result<bool> {
        Ok(self.query_value(
            "postgres",
            &format!("select count(*) from pg_database where datname = '{db}'"),
        )? == "1")
    }

    /// Bootstrap + migrations (+ seed) into `db`, creating it if needed. Safe to repeat:
    /// the bootstrap is idempotent and `db push` applies only pending migrations.
    pub fn prepare_database(&self, db: &str, seed: bool) -> Result<()> {
        if !self.database_exists(db)? {
            self.exec("postgres", &format!("create database \"{db}\""))?;
        }
        let bootstrap = paths::root().join("supabase/bootstrap/local.sql");
        run_quiet(
            self.psql(db).arg("-f").arg(&bootstrap),
            "applying supabase/bootstrap/local.sql",
        )?;
        let mut push = Command::new(paths::node_bin("supabase"));
        push.args(["db", "push", "--yes"])
            .arg(format!("--remote={}", self.url(db)))
            .current_dir(paths::root())
            .env("SUPABASE_YES", "1")
            .env("DO_NOT_TRACK", "1");
        if seed {
            push.arg("--include-seed");
        }
        let output = run_quiet(&mut push, "supabase db push (migrations)")?;
        // The CLI only warns about unknown or misspelled keys in config.toml; a
        // typo there would silently drop a setting (such as the auth hook).
        if output.contains("does not recognize") {
            bail!("supabase/config.toml has keys the Supabase CLI ignores:\n{output}");
        }
        Ok(())
    }
}

/// Runs a command, showing its output only when it fails; returns stdout + stderr.
pub fn run_quiet(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// pg_prove over the pgTAP files; returns its output.
pub fn pg_prove(cluster: &Cluster, db: &str, files: &[PathBuf]) -> Result<String> {
    let out = Command::new("pg_prove")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &cluster.port.to_string(),
            "-U",
            "postgres",
            "-d",
            db,
        ])
        .args(files)
        .output()
        .context("could not run pg_prove (libtap-parser-sourcehandler-pgtap-perl)")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() {
        bail!("pgTAP failed:\n{text}");
    }
    Ok(text)
}

fn short_hash(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(path.to_string_lossy().as_bytes())[..6])
}
