//! Typed, validated configuration read from the environment at start-up, one plain
//! struct per concern. This module is a leaf: it imports nothing from the worker.
//!
//! Every variable is documented in `docs/analysis.md` and `worker/.env.example`.
//! A bad value fails start-up with an error that names the variable, so a
//! misconfigured deployment never runs half-working.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use service_support::config::Env;
pub use service_support::config::{ConfigError, LogFormat};

/// The OpenAI-compatible endpoint the LLM analyzer talks to.
#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    /// `OPENAI_API_KEY`: sent only as the bearer token to `base_url`, never logged.
    pub api_key: SecretString,
    /// `OPENAI_BASE_URL` without a trailing slash, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// `OPENAI_MODEL`, stored with every analysis.
    pub model: String,
    /// `OPENAI_TIMEOUT_SECS`: the whole request, connect to last byte.
    pub timeout: Duration,
}

/// How this process claims, runs and retries analysis jobs.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// `WORKER_ID`: written to `analysis_jobs.locked_by`; must be unique per running
    /// process. Default `hostname:pid`.
    pub worker_id: String,
    /// `WORKER_CONCURRENCY`: jobs analyzed at once by this process.
    pub concurrency: usize,
    /// `WORKER_POLL_INTERVAL_MS`: how often to look for jobs when no NOTIFY arrives.
    pub poll_interval: Duration,
    /// `WORKER_LEASE_SECS`: how long a claimed job is protected from other workers;
    /// renewed every third of it while the analysis runs.
    pub lease: Duration,
    /// `WORKER_SHUTDOWN_GRACE_SECS`: how long in-flight jobs may finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// `ANALYSIS_MAX_ATTEMPTS`: claims of one job before it fails for good.
    pub max_attempts: i32,
    /// First retry delay; doubles per attempt.
    pub retry_base: Duration,
    /// Longest computed retry delay.
    pub retry_max: Duration,
    /// Longest `Retry-After` honoured, so a confused server cannot park a job for days.
    pub max_retry_after: Duration,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            worker_id: "worker".to_string(),
            concurrency: 8,
            poll_interval: Duration::from_millis(5000),
            lease: Duration::from_secs(120),
            shutdown_grace: Duration::from_secs(20),
            max_attempts: 4,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(300),
            max_retry_after: Duration::from_secs(900),
        }
    }
}

/// The worker's whole configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`: a direct or session-mode connection (LISTEN needs a session).
    pub database_url: SecretString,
    /// `WORKER_BIND`: address of `/healthz` and `/metrics`.
    pub bind: SocketAddr,
    pub queue: QueueSettings,
    /// `OPENAI_*`: `None` when no key is configured (offline heuristic analyzer).
    pub openai: Option<OpenAiSettings>,
    /// `ANALYSIS_MAX_TRANSCRIPT_CHARS`: longer transcripts lose their middle before
    /// they are sent to the LLM.
    pub max_transcript_chars: usize,
    /// `LOG_FORMAT`: `json`, or `pretty` (alias `text`).
    pub log_format: LogFormat,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::read(&Env::process())
    }

    /// Reads configuration through `lookup`, so tests need not touch the
    /// process-wide environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        Settings::read(&Env::from_lookup(lookup))
    }

    fn read(env: &Env) -> Result<Settings, ConfigError> {
        let database_url = env.postgres_url(
            "DATABASE_URL",
            "a direct or session-mode Postgres URL (the worker uses LISTEN)",
        )?;
        let defaults = QueueSettings::default();
        let queue = QueueSettings {
            worker_id: env.get("WORKER_ID").unwrap_or_else(default_worker_id),
            concurrency: env.number("WORKER_CONCURRENCY", defaults.concurrency, 1..=1024)?,
            poll_interval: env.millis(
                "WORKER_POLL_INTERVAL_MS",
                defaults.poll_interval.as_millis() as u64,
                50..=3_600_000,
            )?,
            lease: env.seconds("WORKER_LEASE_SECS", defaults.lease.as_secs(), 5..=86_400)?,
            shutdown_grace: env.seconds(
                "WORKER_SHUTDOWN_GRACE_SECS",
                defaults.shutdown_grace.as_secs(),
                0..=3600,
            )?,
            max_attempts: env.number("ANALYSIS_MAX_ATTEMPTS", defaults.max_attempts, 1..=50)?,
            ..defaults
        };
        let bind = env.socket_addr("WORKER_BIND", SocketAddr::from(([127, 0, 0, 1], 54381)))?;

        let base_url = env.http_url("OPENAI_BASE_URL", "https://api.openai.com/v1")?;
        let model = env
            .get("OPENAI_MODEL")
            .unwrap_or_else(|| "gpt-4o-mini".to_string());
        let timeout = env.seconds("OPENAI_TIMEOUT_SECS", 30, 1..=600)?;
        let openai = env.get("OPENAI_API_KEY").map(|key| OpenAiSettings {
            api_key: SecretString::from(key),
            base_url,
            model,
            timeout,
        });
        // The lease is renewed every third of its length while the LLM call runs;
        // a lease shorter than one request would let another worker steal a job
        // whose renewal is merely late.
        if let Some(o) = &openai {
            if queue.lease < o.timeout {
                return Err(ConfigError::new(
                    "WORKER_LEASE_SECS",
                    format!(
                        "must be at least OPENAI_TIMEOUT_SECS ({})",
                        o.timeout.as_secs()
                    ),
                ));
            }
        }

        Ok(Settings {
            database_url: SecretString::from(database_url),
            bind,
            queue,
            openai,
            max_transcript_chars: env.number(
                "ANALYSIS_MAX_TRANSCRIPT_CHARS",
                20_000,
                500..=2_000_000,
            )?,
            log_format: env.log_format()?,
        })
    }

    /// The database URL, for connecting. Kept behind a method so the secret is
    /// exposed in exactly one place.
    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }
}

/// `hostname:pid`, which is unique per process on one host and readable in
/// `analysis_jobs.locked_by`.
fn default_worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_string());
    format!("{host}:{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    const DB: (&str, &str) = (
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432/postgres",
    );

    #[test]
    fn defaults_apply_when_only_the_database_url_is_set() {
        let s = settings(&[DB]).unwrap();
        assert_eq!(s.queue.concurrency, 8);
        assert_eq!(s.queue.poll_interval, Duration::from_millis(5000));
        assert_eq!(s.queue.lease, Duration::from_secs(120));
        assert_eq!(s.queue.shutdown_grace, Duration::from_secs(20));
        assert_eq!(s.bind.to_string(), "127.0.0.1:54381");
        assert!(s.openai.is_none());
        assert_eq!(s.queue.max_attempts, 4);
        assert_eq!(s.max_transcript_chars, 20_000);
        assert!(s.queue.worker_id.contains(':'));
    }

    #[test]
    fn a_missing_database_url_names_the_variable() {
        assert_eq!(settings(&[]).unwrap_err().var, "DATABASE_URL");
    }

    #[test]
    fn an_empty_api_key_means_the_offline_analyzer() {
        let s = settings(&[DB, ("OPENAI_API_KEY", "  ")]).unwrap();
        assert!(s.openai.is_none());
    }

    #[test]
    fn openai_settings_are_read_when_a_key_is_set() {
        let s = settings(&[
            DB,
            ("OPENAI_API_KEY", "sk-test"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1/"),
            ("OPENAI_MODEL", "gpt-4.1-mini"),
            ("OPENAI_TIMEOUT_SECS", "12"),
        ])
        .unwrap();
        let o = s.openai.unwrap();
        assert_eq!(o.base_url, "http://127.0.0.1:9999/v1");
        assert_eq!(o.model, "gpt-4.1-mini");
        assert_eq!(o.timeout, Duration::from_secs(12));
        assert_eq!(o.api_key.expose_secret(), "sk-test");
    }

    #[test]
    fn bad_numbers_name_their_variable() {
        for (var, value) in [
            ("WORKER_CONCURRENCY", "0"),
            ("WORKER_CONCURRENCY", "eight"),
            ("WORKER_POLL_INTERVAL_MS", "-1"),
            ("WORKER_LEASE_SECS", "1"),
            ("ANALYSIS_MAX_ATTEMPTS", "0"),
            ("ANALYSIS_MAX_TRANSCRIPT_CHARS", "10"),
            ("OPENAI_TIMEOUT_SECS", "0"),
            ("WORKER_BIND", "localhost"),
            ("LOG_FORMAT", "xml"),
        ] {
            let e = settings(&[DB, (var, value)]).unwrap_err();
            assert_eq!(e.var, var, "{var}={value}");
        }
    }

    #[test]
    fn a_lease_shorter_than_the_llm_timeout_is_rejected() {
        let e = settings(&[
            DB,
            ("OPENAI_API_KEY", "sk-test"),
            ("OPENAI_TIMEOUT_SECS", "60"),
            ("WORKER_LEASE_SECS", "30"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "WORKER_LEASE_SECS");
    }

    #[test]
    fn the_api_key_is_not_printed_by_debug() {
        let s = settings(&[DB, ("OPENAI_API_KEY", "sk-very-secret")]).unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains("sk-very-secret"));
        assert!(!printed.contains("127.0.0.1:5432"));
    }
}
