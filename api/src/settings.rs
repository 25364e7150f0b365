//! Typed, validated configuration read from environment variables.
//!
//! Every variable is documented in `docs/webhook.md` and `api/.env.example`. A bad
//! value fails start-up with a message that names the variable, so a typo in a
//! deployment is caught before the service answers a single webhook.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgConnectOptions;

use crate::normalize::is_valid_dealership_slug;

/// Default bind address: the local stack's webhook port.
pub const DEFAULT_BIND: &str = "127.0.0.1:54380";
/// 1 MiB: Retell bodies with long transcripts and word timings stay well below it.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_POOL_SIZE: u32 = 10;
/// Short on purpose: a request that cannot get a connection answers 503 quickly
/// instead of hanging until the sender's own timeout.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(2000);
/// How long a client may take to send its request head, and then its body: a
/// client slower than this (slowloris) is cut off instead of holding a connection.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Shortest accepted secret, in bytes: an HMAC key shorter than SHA-256's output
/// is weaker than the MAC, and short secrets are usually placeholders or typos.
pub const MIN_SECRET_LEN: usize = 32;
/// The `WEBHOOK_SECRETS` value in `api/.env.example`: long enough, but public.
pub const PLACEHOLDER_SECRET: &str = "replace-me-with-a-long-random-secret";
/// Separates a secret from its dealership scope in a `WEBHOOK_SECRETS` entry.
pub const SCOPE_SEPARATOR: char = ':';
/// Separates the dealerships of one scope.
pub const SCOPE_LIST_SEPARATOR: char = '|';

/// A configuration error: which variable, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn config_error(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, for log shippers (production).
    Json,
    /// Human-readable lines (development).
    Pretty,
}

/// Which dealerships the sender of one secret may write to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretScope {
    /// Any dealership (Retell's key, and every entry without a scope).
    Any,
    /// Only these dealership ids (an internal sender's `secret:dealer-a|dealer-b`).
    Only(BTreeSet<String>),
}

impl SecretScope {
    /// Whether an event for `dealership` (`None`: unresolved) may be stored.
    /// A scoped secret must name one of its own dealerships: an event it sends
    /// that resolves to no dealership is outside its scope too.
    pub fn allows(&self, dealership: Option<&str>) -> bool {
        match self {
            SecretScope::Any => true,
            SecretScope::Only(ids) => dealership.is_some_and(|d| ids.contains(d)),
        }
    }
}

/// One `WEBHOOK_SECRETS` entry: the secret and what it may write.
#[derive(Clone)]
pub struct WebhookSecret {
    pub secret: SecretString,
    pub scope: SecretScope,
}

/// The shared secrets a sender may sign with. Several at once so a secret can be
/// rotated without downtime: add the new one, move senders over, drop the old one.
#[derive(Clone)]
pub struct WebhookSecrets(Vec<WebhookSecret>);

impl WebhookSecrets {
    /// Unscoped secrets (each may write any dealership). Weak secrets are
    /// rejected by `Settings::from_lookup`, not here.
    pub fn new(secrets: Vec<SecretString>) -> Self {
        Self(
            secrets
                .into_iter()
                .map(|secret| WebhookSecret {
                    secret,
                    scope: SecretScope::Any,
                })
                .collect(),
        )
    }

    pub fn with_scopes(entries: Vec<WebhookSecret>) -> Self {
        Self(entries)
    }

    pub fn iter(&self) -> impl Iterator<Item = &WebhookSecret> {
        self.0.iter()
    }

    /// The entry at `index` (as returned by the verifiers).
    pub fn get(&self, index: usize) -> Option<&WebhookSecret> {
        self.0.get(index)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many entries carry a dealership scope (logged at start).
    pub fn scoped(&self) -> usize {
        self.0
            .iter()
            .filter(|e| matches!(e.scope, SecretScope::Only(_)))
            .count()
    }
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSecrets([{} redacted])", self.0.len())
    }
}

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
    /// `API_REQUEST_TIMEOUT_SECS`: the time allowed for the request head, and again
    /// for the body; a slower client is cut off (head) or answered 408 (body).
    pub request_timeout: Duration,
    /// `AGENT_DEALERSHIPS`: Retell agent id -> dealership id, for native events
    /// without `metadata.dealership_id`.
    pub agent_dealerships: HashMap<String, String>,
    /// `LOG_FORMAT`: `json` or `pretty`.
    pub log_format: LogFormat,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply variables without
    /// touching the (process-global) environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // An empty variable counts as unset: `FOO=` in an env file means "no value".
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let database_url = get("DATABASE_URL").ok_or_else(|| {
            config_error(
                "DATABASE_URL",
                "required; set it to a Postgres URL such as postgres://postgres@127.0.0.1:54322/postgres",
            )
        })?;
        // Parse now so a malformed URL fails at start, not on the first webhook.
        // (sqlx's parser does not look at the scheme, so check it here.)
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(config_error(
                "DATABASE_URL",
                "must start with postgres:// or postgresql://",
            ));
        }
        PgConnectOptions::from_str(&database_url).map_err(|e| {
            config_error(
                "DATABASE_URL",
                format!("not a valid Postgres connection URL ({e})"),
            )
        })?;

        let bind = match get("API_BIND") {
            None => DEFAULT_BIND.parse().expect("default bind address is valid"),
            Some(v) => v.trim().parse::<SocketAddr>().map_err(|_| {
                config_error(
                    "API_BIND",
                    format!(
                        "expected an address such as 127.0.0.1:54380 or 0.0.0.0:8080, got {v:?}"
                    ),
                )
            })?,
        };

        let webhook_secrets = parse_secrets(get("WEBHOOK_SECRETS"))?;

        let allow_bearer = match get("WEBHOOK_ALLOW_BEARER") {
            None => false,
            Some(v) => parse_bool(&v).ok_or_else(|| {
                config_error(
                    "WEBHOOK_ALLOW_BEARER",
                    format!("expected true or false, got {v:?}"),
                )
            })?,
        };

        let max_body_bytes = parse_number(
            "WEBHOOK_MAX_BODY_BYTES",
            get("WEBHOOK_MAX_BODY_BYTES"),
            DEFAULT_MAX_BODY_BYTES,
            1024,
            64 * 1024 * 1024,
        )?;
        let pool_size = parse_number(
            "DATABASE_POOL_SIZE",
            get("DATABASE_POOL_SIZE"),
            DEFAULT_POOL_SIZE as usize,
            1,
            1000,
        )? as u32;
        let acquire_timeout = Duration::from_millis(parse_number(
            "DATABASE_ACQUIRE_TIMEOUT_MS",
            get("DATABASE_ACQUIRE_TIMEOUT_MS"),
            DEFAULT_ACQUIRE_TIMEOUT.as_millis() as usize,
            100,
            60_000,
        )? as u64);

        let request_timeout = Duration::from_secs(parse_number(
            "API_REQUEST_TIMEOUT_SECS",
            get("API_REQUEST_TIMEOUT_SECS"),
            DEFAULT_REQUEST_TIMEOUT.as_secs() as usize,
            1,
            600,
        )? as u64);

        let agent_dealerships = parse_agent_dealerships(get("AGENT_DEALERSHIPS"))?;

        let log_format = match get("LOG_FORMAT").map(|v| v.trim().to_ascii_lowercase()) {
            None => LogFormat::Pretty,
            Some(v) if v == "json" => LogFormat::Json,
            Some(v) if v == "pretty" => LogFormat::Pretty,
            Some(v) => {
                return Err(config_error(
                    "LOG_FORMAT",
                    format!("expected json or pretty, got {v:?}"),
                ))
            }
        };

        Ok(Settings {
            database_url: SecretString::from(database_url),
            bind,
            webhook_secrets,
            allow_bearer,
            max_body_bytes,
            pool_size,
            acquire_timeout,
            request_timeout,
            agent_dealerships,
            log_format,
        })
    }

    /// Connection options for the pool (the URL was validated at start).
    pub fn connect_options(&self) -> PgConnectOptions {
        PgConnectOptions::from_str(self.database_url.expose_secret())
            .expect("DATABASE_URL was validated by Settings::from_lookup")
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_number(
    var: &'static str,
    value: Option<String>,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, ConfigError> {
    let Some(v) = value else {
        return Ok(default);
    };
    match v.trim().parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(config_error(
            var,
            format!("expected a whole number from {min} to {max}, got {v:?}"),
        )),
    }
}

/// `WEBHOOK_SECRETS`: entries separated by `,`, each `SECRET` (any dealership) or
/// `SECRET:SCOPE` with `SCOPE` = dealership slugs separated by `|`. A secret
/// therefore cannot contain `,` or `:`; an entry with a `:` must be followed by a
/// valid scope, so a mistyped scope stops the service instead of widening it.
fn parse_secrets(value: Option<String>) -> Result<WebhookSecrets, ConfigError> {
    const VAR: &str = "WEBHOOK_SECRETS";
    let value = value.ok_or_else(|| {
        config_error(
            VAR,
            "required; set one or more comma-separated signing secrets (the Retell API key with the webhook badge, and/or our senders' secrets)",
        )
    })?;
    let mut entries: Vec<WebhookSecret> = Vec::new();
    for (i, raw) in value.split(',').enumerate() {
        let n = i + 1;
        let entry = raw.trim();
        if entry.is_empty() {
            return Err(config_error(
                VAR,
                format!("entry {n} is empty; remove the stray comma"),
            ));
        }
        // Never echo the secret itself: only its position (and the scope, which
        // is not secret).
        let (secret, scope) = match entry.split_once(SCOPE_SEPARATOR) {
            None => (entry, SecretScope::Any),
            Some((secret, scope)) => (secret.trim_end(), parse_scope(n, scope)?),
        };
        if secret == PLACEHOLDER_SECRET {
            return Err(config_error(
                VAR,
                format!(
                    "entry {n} is the placeholder from api/.env.example; generate a random secret, e.g. `openssl rand -hex 32`"
                ),
            ));
        }
        if secret.len() < MIN_SECRET_LEN {
            return Err(config_error(
                VAR,
                format!(
                    "entry {n}: the secret is shorter than {MIN_SECRET_LEN} bytes; use a long random secret, e.g. `openssl rand -hex 32`"
                ),
            ));
        }
        if let Some(j) = entries
            .iter()
            .position(|e| e.secret.expose_secret() == secret)
        {
            return Err(config_error(
                VAR,
                format!(
                    "entry {n} repeats the secret of entry {}; list each secret once (with the union of its dealerships)",
                    j + 1
                ),
            ));
        }
        entries.push(WebhookSecret {
            secret: SecretString::from(secret.to_owned()),
            scope,
        });
    }
    Ok(WebhookSecrets(entries))
}

/// The part after `:`: one or more dealership slugs separated by `|`.
fn parse_scope(entry: usize, scope: &str) -> Result<SecretScope, ConfigError> {
    const VAR: &str = "WEBHOOK_SECRETS";
    let mut ids = BTreeSet::new();
    for id in scope.split(SCOPE_LIST_SEPARATOR).map(str::trim) {
        if !is_valid_dealership_slug(id) {
            return Err(config_error(
                VAR,
                format!(
                    "entry {entry}: after ':' list the dealerships this secret may write, as slugs separated by '|' (e.g. secret:toyota-braintree|honda-quincy); {id:?} is not a dealership slug (a secret itself cannot contain ':' or ',')"
                ),
            ));
        }
        ids.insert(id.to_owned());
    }
    Ok(SecretScope::Only(ids))
}

fn parse_agent_dealerships(value: Option<String>) -> Result<HashMap<String, String>, ConfigError> {
    const VAR: &str = "AGENT_DEALERSHIPS";
    let mut map = HashMap::new();
    let Some(value) = value else {
        return Ok(map);
    };
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((agent, dealership)) = entry.split_once('=') else {
            return Err(config_error(
                VAR,
                format!("expected agent_id=dealership_id pairs separated by commas, got {entry:?}"),
            ));
        };
        let (agent, dealership) = (agent.trim(), dealership.trim());
        if agent.is_empty() {
            return Err(config_error(VAR, format!("empty agent id in {entry:?}")));
        }
        if !is_valid_dealership_slug(dealership) {
            return Err(config_error(
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
            return Err(config_error(
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
        assert_eq!(s.request_timeout, DEFAULT_REQUEST_TIMEOUT);
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
            ("API_REQUEST_TIMEOUT_SECS", "0"),
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
            ("API_REQUEST_TIMEOUT_SECS", "3"),
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
        assert_eq!(s.request_timeout, Duration::from_secs(3));
        assert_eq!(s.agent_dealerships["agent_2"], "honda-quincy");
        assert_eq!(s.log_format, LogFormat::Json);
    }

    fn secrets_of(value: &str) -> Result<WebhookSecrets, ConfigError> {
        let url = ("DATABASE_URL", "postgres://postgres@127.0.0.1/postgres");
        settings(&[url, ("WEBHOOK_SECRETS", value)]).map(|s| s.webhook_secrets)
    }

    fn scope_of(value: &str, index: usize) -> SecretScope {
        secrets_of(value).unwrap().get(index).unwrap().scope.clone()
    }

    fn only(ids: &[&str]) -> SecretScope {
        SecretScope::Only(ids.iter().map(|id| id.to_string()).collect())
    }

    #[test]
    fn a_secret_shorter_than_32_bytes_is_refused_naming_the_variable() {
        let thirty_one = "a".repeat(31);
        let err = secrets_of(&thirty_one).unwrap_err();
        assert_eq!(err.var, "WEBHOOK_SECRETS");
        assert!(err.message.contains("32 bytes"), "{err}");
        assert!(!err.to_string().contains(&thirty_one), "{err}");
        assert_eq!(secrets_of(&"a".repeat(32)).unwrap().len(), 1);
        // Bytes, not characters: 16 two-byte characters are 32 bytes.
        assert_eq!(secrets_of(&"é".repeat(16)).unwrap().len(), 1);
        assert!(secrets_of(&"é".repeat(15)).is_err());
    }

    #[test]
    fn a_scoped_secret_is_held_to_the_32_byte_minimum_too() {
        let err = secrets_of("short_secret:toyota-braintree").unwrap_err();
        assert_eq!(err.var, "WEBHOOK_SECRETS");
        assert!(!err.to_string().contains("short_secret"), "{err}");
    }

    #[test]
    fn the_env_example_placeholder_secret_is_refused() {
        let example = include_str!("../.env.example");
        let placeholder = example
            .lines()
            .find_map(|l| l.strip_prefix("WEBHOOK_SECRETS="))
            .expect("api/.env.example sets WEBHOOK_SECRETS");
        assert_eq!(placeholder, PLACEHOLDER_SECRET);
        for value in [
            placeholder.to_owned(),
            format!("{SECRET},{placeholder}"),
            format!("{placeholder}:toyota-braintree"),
        ] {
            let err = secrets_of(&value).unwrap_err();
            assert_eq!(err.var, "WEBHOOK_SECRETS");
            assert!(err.message.contains("placeholder"), "{err}");
        }
    }

    #[test]
    fn a_plain_comma_separated_list_still_means_unscoped_secrets() {
        let value = format!("{SECRET} , other_secret_0123456789abcdef0123456789");
        let secrets = secrets_of(&value).unwrap();
        assert_eq!(secrets.len(), 2);
        assert_eq!(secrets.scoped(), 0);
        for entry in secrets.iter() {
            assert_eq!(entry.scope, SecretScope::Any);
        }
        assert_eq!(secrets.get(0).unwrap().secret.expose_secret(), SECRET);
    }

    #[test]
    fn a_secret_followed_by_a_colon_and_slugs_may_write_only_those_dealerships() {
        let value = format!(
            "{SECRET},internal_sender_0123456789abcdef0123:toyota-braintree | honda-quincy"
        );
        assert_eq!(scope_of(&value, 0), SecretScope::Any);
        assert_eq!(
            scope_of(&value, 1),
            only(&["toyota-braintree", "honda-quincy"])
        );
        let secrets = secrets_of(&value).unwrap();
        assert_eq!(secrets.scoped(), 1);
        assert_eq!(
            secrets.get(1).unwrap().secret.expose_secret(),
            "internal_sender_0123456789abcdef0123",
            "the scope is not part of the signing key"
        );
    }

    #[test]
    fn a_malformed_scope_stops_the_service_instead_of_widening_the_secret() {
        for value in [
            format!("{SECRET}:"),
            format!("{SECRET}:Toyota Braintree"),
            format!("{SECRET}:toyota-braintree||honda-quincy"),
            format!("{SECRET}:toyota-braintree:honda-quincy"),
            format!("{SECRET}:*"),
        ] {
            let err = secrets_of(&value).unwrap_err();
            assert_eq!(err.var, "WEBHOOK_SECRETS", "{value}");
            assert!(err.message.contains("slug"), "{err}");
            assert!(!err.to_string().contains(SECRET), "{err}");
        }
    }

    #[test]
    fn a_secret_listed_twice_is_refused_so_its_scope_is_never_ambiguous() {
        let value = format!("{SECRET}:toyota-braintree,{SECRET}");
        let err = secrets_of(&value).unwrap_err();
        assert_eq!(err.var, "WEBHOOK_SECRETS");
        assert!(err.message.contains("entry 2 repeats"), "{err}");
        assert!(!err.to_string().contains(SECRET), "{err}");
    }

    #[test]
    fn a_scoped_secret_allows_only_its_dealerships_and_never_an_unresolved_event() {
        let scope = only(&["toyota-braintree"]);
        assert!(scope.allows(Some("toyota-braintree")));
        assert!(!scope.allows(Some("ford-weymouth")));
        assert!(!scope.allows(None));
        assert!(SecretScope::Any.allows(Some("ford-weymouth")));
        assert!(SecretScope::Any.allows(None));
    }
}
