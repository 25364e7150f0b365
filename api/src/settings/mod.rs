//! Typed, validated configuration read from environment variables.
//!
//! Every variable is documented in `docs/webhook.md` and `api/.env.example`. A bad
//! value fails start-up with a message that names the variable, so a typo in a
//! deployment is caught before the service answers a single webhook.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use service_support::config::Env;
pub use service_support::config::{ConfigError, LogFormat};
use sqlx::postgres::PgConnectOptions;

use crate::normalize::is_valid_dealership_slug;

mod webhook_secrets;
pub use webhook_secrets::{
    SecretScope, WebhookSecret, WebhookSecrets, MIN_SECRET_LEN, PLACEHOLDER_SECRET,
    SCOPE_LIST_SEPARATOR, SCOPE_SEPARATOR,
};

/// Default bind address: the local stack's webhook port.
pub const DEFAULT_BIND: &str = "127.0.0.1:54380";
/// 1 MiB: Retell bodies with long transcripts and word timings stay well below it.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_POOL_SIZE: u32 = 10;
/// Short on purpose: a request that cannot get a connection answers 503 quickly
/// instead of hanging until the sender's own timeout.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(2000);
/// Everything the service needs to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`: Postgres connection string (service role; a direct or
    /// session-mode connection). Kept secret because it usually holds a password.
    pub database_url: SecretString,
    /// `API_BIND`: address to listen on; port 0 picks a free port (tests).
    pub bind: SocketAddr,
    /// `WEBHOOK_SECRETS`: comma-separated signing secrets, all accepted; an entry
    /// `secret:dealer-a|dealer-b` may write only to those dealerships.
    pub webhook_secrets: WebhookSecrets,
    /// `WEBHOOK_ALLOW_BEARER`: also accept `Authorization: Bearer <secret>`.
    pub allow_bearer: bool,
    /// `WEBHOOK_MAX_BODY_BYTES`: larger bodies get 413.
    pub max_body_bytes: usize,
    /// `DATABASE_POOL_SIZE`: maximum open database connections.
    pub pool_size: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT_MS`: how long a request waits for a connection
    /// before answering 503.
    pub acquire_timeout: Duration,
    /// `AGENT_DEALERSHIPS`: Retell agent id -> dealership id, for native events
    /// without `metadata.dealership_id`.
    pub agent_dealerships: HashMap<String, String>,
    /// `LOG_FORMAT`: `json` or `pretty`.
    pub log_format: LogFormat,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&Env::process())
    }

    /// Reads settings through `lookup`, so tests can supply variables without
    /// touching the (process-global) environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(&Env::from_lookup(lookup))
    }

    fn read(env: &Env) -> Result<Self, ConfigError> {
        let database_url = env.postgres_url(
            "DATABASE_URL",
            "set it to a Postgres URL such as postgres://postgres@127.0.0.1:54322/postgres",
        )?;
        // Parse now so a malformed URL fails at start, not on the first webhook.
        PgConnectOptions::from_str(&database_url).map_err(|e| {
            ConfigError::new(
                "DATABASE_URL",
                format!("not a valid Postgres connection URL ({e})"),
            )
        })?;

        Ok(Settings {
            database_url: SecretString::from(database_url),
            bind: env.socket_addr(
                "API_BIND",
                DEFAULT_BIND.parse().expect("default bind address is valid"),
            )?,
            webhook_secrets: WebhookSecrets::parse(env.get("WEBHOOK_SECRETS"))?,
            allow_bearer: env.flag("WEBHOOK_ALLOW_BEARER", false)?,
            max_body_bytes: env.number(
                "WEBHOOK_MAX_BODY_BYTES",
                DEFAULT_MAX_BODY_BYTES,
                1024..=64 * 1024 * 1024,
            )?,
            pool_size: env.number("DATABASE_POOL_SIZE", DEFAULT_POOL_SIZE, 1..=1000)?,
            acquire_timeout: env.millis(
                "DATABASE_ACQUIRE_TIMEOUT_MS",
                DEFAULT_ACQUIRE_TIMEOUT.as_millis() as u64,
                100..=60_000,
            )?,
            agent_dealerships: parse_agent_dealerships(env.get("AGENT_DEALERSHIPS"))?,
            log_format: env.log_format()?,
        })
    }

    /// Connection options for the pool (the URL was validated at start).
    pub fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::from_str(self.database_url.expose_secret())
            .expect("DATABASE_URL was validated by Settings::from_lookup")
    }
}

fn parse_agent_dealerships(value: Option<String>) -> Result<HashMap<String, String>, ConfigError> {
    const VAR: &str = "AGENT_DEALERSHIPS";
    let mut map = HashMap::new();
    let Some(value) = value else {
        return Ok(map);
    };
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((agent, dealership)) = entry.split_once('=') else {
            return Err(ConfigError::new(
                VAR,
                format!("expected agent_id=dealership_id pairs separated by commas, got {entry:?}"),
            ));
        };
        let (agent, dealership) = (agent.trim(), dealership.trim());
        if agent.is_empty() {
            return Err(ConfigError::new(
                VAR,
                format!("empty agent id in {entry:?}"),
            ));
        }
        if !is_valid_dealership_slug(dealership) {
            return Err(ConfigError::new(
                VAR,
                format!(
                    "dealership id {dealership:?} for agent {agent:?} is not a valid slug (lowercase letters, digits and '-', starting with a letter or digit, at most 63 characters)"
                ),
            ));
        }
        if map
            .insert(agent.to_owned(), dealership.to_owned())
            .is_some()
        {
            return Err(ConfigError::new(
                VAR,
                format!("agent {agent:?} is mapped more than once"),
            ));
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "key_0123456789abcdef0123456789abcdef";

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    fn minimal() -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/postgres",
            ),
            ("WEBHOOK_SECRETS", SECRET),
        ]
    }

    fn error_var(vars: &[(&str, &str)]) -> &'static str {
        settings(vars).expect_err("settings should be rejected").var
    }

    #[test]
    fn defaults_apply_when_only_required_variables_are_set() {
        let s = settings(&minimal()).unwrap();
        assert_eq!(s.bind.to_string(), DEFAULT_BIND);
        assert!(!s.allow_bearer);
        assert_eq!(s.max_body_bytes, 1_048_576);
        assert_eq!(s.pool_size, 10);
        assert_eq!(s.acquire_timeout, Duration::from_secs(2));
        assert!(s.agent_dealerships.is_empty());
        assert_eq!(s.log_format, LogFormat::Pretty);
        assert_eq!(s.webhook_secrets.len(), 1);
    }

    #[test]
    fn missing_database_url_names_the_variable() {
        assert_eq!(error_var(&[("WEBHOOK_SECRETS", SECRET)]), "DATABASE_URL");
    }

    #[test]
    fn malformed_database_url_names_the_variable() {
        let mut vars = minimal();
        vars[0].1 = "mysql://nope";
        assert_eq!(error_var(&vars), "DATABASE_URL");
    }

    #[test]
    fn missing_or_weak_secrets_name_the_variable() {
        let url = ("DATABASE_URL", "postgres://postgres@127.0.0.1/postgres");
        assert_eq!(error_var(&[url]), "WEBHOOK_SECRETS");
        assert_eq!(
            error_var(&[url, ("WEBHOOK_SECRETS", "short")]),
            "WEBHOOK_SECRETS"
        );
        let stray_comma = format!("{SECRET},,{SECRET}");
        assert_eq!(
            error_var(&[url, ("WEBHOOK_SECRETS", &stray_comma)]),
            "WEBHOOK_SECRETS"
        );
    }

    #[test]
    fn a_short_secret_is_not_echoed_in_the_error() {
        let url = ("DATABASE_URL", "postgres://postgres@127.0.0.1/postgres");
        let err = settings(&[url, ("WEBHOOK_SECRETS", "hunter2")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn several_secrets_are_all_kept_for_rotation() {
        let mut vars = minimal();
        let two = format!("{SECRET}, other_secret_0123456789abcdef0123456789");
        vars[1].1 = &two;
        assert_eq!(settings(&vars).unwrap().webhook_secrets.len(), 2);
    }

    #[test]
    fn debug_output_never_contains_secrets() {
        let s = settings(&minimal()).unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(!debug.contains("postgres://"), "{debug}");
    }

    #[test]
    fn each_invalid_optional_variable_is_named() {
        for (var, bad) in [
            ("API_BIND", "localhost"),
            ("WEBHOOK_ALLOW_BEARER", "maybe"),
            ("WEBHOOK_MAX_BODY_BYTES", "1MB"),
            ("WEBHOOK_MAX_BODY_BYTES", "10"),
            ("DATABASE_POOL_SIZE", "0"),
            ("DATABASE_ACQUIRE_TIMEOUT_MS", "-1"),
            ("AGENT_DEALERSHIPS", "agent_1"),
            ("AGENT_DEALERSHIPS", "agent_1=Not A Slug"),
            ("AGENT_DEALERSHIPS", "agent_1=a,agent_1=b"),
            ("LOG_FORMAT", "xml"),
        ] {
            let mut vars = minimal();
            vars.push((var, bad));
            assert_eq!(error_var(&vars), var, "{var}={bad}");
        }
    }

    #[test]
    fn optional_variables_are_parsed() {
        let mut vars = minimal();
        vars.extend([
            ("API_BIND", "0.0.0.0:0"),
            ("WEBHOOK_ALLOW_BEARER", "true"),
            ("WEBHOOK_MAX_BODY_BYTES", "4096"),
            ("DATABASE_POOL_SIZE", "3"),
            ("DATABASE_ACQUIRE_TIMEOUT_MS", "500"),
            (
                "AGENT_DEALERSHIPS",
                "agent_1=ford-weymouth, agent_2 = honda-quincy",
            ),
            ("LOG_FORMAT", "JSON"),
        ]);
        let s = settings(&vars).unwrap();
        assert_eq!(s.bind.port(), 0);
        assert!(s.allow_bearer);
        assert_eq!(s.max_body_bytes, 4096);
        assert_eq!(s.pool_size, 3);
        assert_eq!(s.acquire_timeout, Duration::from_millis(500));
        assert_eq!(s.agent_dealerships["agent_2"], "honda-quincy");
        assert_eq!(s.log_format, LogFormat::Json);
    }
}
