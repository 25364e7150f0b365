//! Typed, validated configuration read from the environment at start-up.
//!
//! Every variable is documented in `docs/analysis.md` and `worker/.env.example`.
//! A bad value fails start-up with an error that names the variable, so a
//! misconfigured deployment never runs half-working.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::jobs::JobSettings;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (local development).
    Pretty,
    /// One JSON object per line (production, log shippers).
    Json,
}

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

/// The worker's whole configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`: a direct or session-mode connection (LISTEN needs a session).
    pub database_url: SecretString,
    /// `WORKER_ID`: written to `analysis_jobs.locked_by`; default `hostname:pid`.
    pub worker_id: String,
    /// `WORKER_CONCURRENCY`: jobs analyzed at once by this process.
    pub concurrency: usize,
    /// `WORKER_POLL_INTERVAL_MS`: how often to look for jobs when no NOTIFY arrives.
    pub poll_interval: Duration,
    /// `WORKER_LEASE_SECS`: how long a claimed job is protected from other workers
    /// (the lease is renewed while the analysis runs).
    pub lease: Duration,
    /// `WORKER_SHUTDOWN_GRACE_SECS`: how long in-flight jobs may finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// `WORKER_BIND`: address of `/healthz` and `/metrics`.
    pub bind: SocketAddr,
    /// `OPENAI_*`: `None` when no key is configured (offline heuristic analyzer).
    pub openai: Option<OpenAiSettings>,
    /// `ANALYSIS_MAX_ATTEMPTS`: claims of one job before it fails for good.
    pub max_attempts: i32,
    /// `ANALYSIS_MAX_TRANSCRIPT_CHARS`: longer transcripts lose their middle before
    /// they are sent to the LLM.
    pub max_transcript_chars: usize,
    /// `LOG_FORMAT`: `json` or `pretty`.
    pub log_format: LogFormat,
}

/// A configuration problem, naming the variable at fault.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the
    /// process-wide environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        // An empty value is treated as unset: `.env` files often carry `KEY=`.
        let get = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let database_url = get("DATABASE_URL").ok_or_else(|| {
            err(
                "DATABASE_URL",
                "is required (a direct or session-mode Postgres URL: the worker uses LISTEN)",
            )
        })?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(err(
                "DATABASE_URL",
                "must start with postgres:// or postgresql://",
            ));
        }

        let worker_id = get("WORKER_ID").unwrap_or_else(default_worker_id);
        let concurrency = parse_num::<usize>(&get, "WORKER_CONCURRENCY", 8, 1, 1024)?;
        let poll_ms = parse_num::<u64>(&get, "WORKER_POLL_INTERVAL_MS", 5000, 50, 3_600_000)?;
        let lease_secs = parse_num::<u64>(&get, "WORKER_LEASE_SECS", 120, 5, 86_400)?;
        let grace_secs = parse_num::<u64>(&get, "WORKER_SHUTDOWN_GRACE_SECS", 20, 0, 3600)?;
        let bind = match get("WORKER_BIND") {
            None => SocketAddr::from(([127, 0, 0, 1], 54381)),
            Some(v) => v
                .parse()
                .map_err(|_| err("WORKER_BIND", format!("{v:?} is not host:port")))?,
        };

        let base_url = get("OPENAI_BASE_URL")
            .unwrap_or_else(|| "https://api.openai.com/v1".to_string())
            .trim_end_matches('/')
            .to_string();
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(err(
                "OPENAI_BASE_URL",
                "must be an http(s) URL such as https://api.openai.com/v1",
            ));
        }
        let model = get("OPENAI_MODEL").unwrap_or_else(|| "gpt-4o-mini".to_string());
        let timeout_secs = parse_num::<u64>(&get, "OPENAI_TIMEOUT_SECS", 30, 1, 600)?;
        let openai = get("OPENAI_API_KEY").map(|key| OpenAiSettings {
            api_key: SecretString::from(key),
            base_url,
            model,
            timeout: Duration::from_secs(timeout_secs),
        });
        // The lease is renewed every third of its length while the LLM call runs;
        // a lease shorter than one request would let another worker steal a job
        // whose renewal is merely late.
        if let Some(o) = &openai {
            if Duration::from_secs(lease_secs) < o.timeout {
                return Err(err(
                    "WORKER_LEASE_SECS",
                    format!("must be at least OPENAI_TIMEOUT_SECS ({timeout_secs})"),
                ));
            }
        }

        let max_attempts = parse_num::<i32>(&get, "ANALYSIS_MAX_ATTEMPTS", 4, 1, 50)?;
        let max_transcript_chars = parse_num::<usize>(
            &get,
            "ANALYSIS_MAX_TRANSCRIPT_CHARS",
            20_000,
            500,
            2_000_000,
        )?;
        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("pretty") | Some("text") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(err(
                    "LOG_FORMAT",
                    format!("{other:?} is not one of json, pretty"),
                ))
            }
        };

        Ok(Settings {
            database_url: SecretString::from(database_url),
            worker_id,
            concurrency,
            poll_interval: Duration::from_millis(poll_ms),
            lease: Duration::from_secs(lease_secs),
            shutdown_grace: Duration::from_secs(grace_secs),
            bind,
            openai,
            max_attempts,
            max_transcript_chars,
            log_format,
        })
    }

    /// The part of the configuration the job processor needs.
    pub fn job_settings(&self) -> JobSettings {
        JobSettings {
            worker_id: self.worker_id.clone(),
            lease: self.lease,
            max_attempts: self.max_attempts,
            ..JobSettings::default()
        }
    }

    /// The database URL, for connecting. Kept behind a method so the secret is
    /// exposed in exactly one place.
    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }
}

fn parse_num<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = get(var) else {
        return Ok(default);
    };
    let v: T = raw
        .parse()
        .map_err(|_| err(var, format!("{raw:?} is not a whole number")))?;
    if v < min || v > max {
        return Err(err(var, format!("{v} is outside {min}..={max}")));
    }
    Ok(v)
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
        assert_eq!(s.concurrency, 8);
        assert_eq!(s.poll_interval, Duration::from_millis(5000));
        assert_eq!(s.lease, Duration::from_secs(120));
        assert_eq!(s.shutdown_grace, Duration::from_secs(20));
        assert_eq!(s.bind.to_string(), "127.0.0.1:54381");
        assert!(s.openai.is_none());
        assert_eq!(s.max_attempts, 4);
        assert_eq!(s.max_transcript_chars, 20_000);
        assert!(s.worker_id.contains(':'));
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
