//! `WEBHOOK_SECRETS`: the signing secrets the webhook accepts, and the dealerships
//! each may write to.

use std::collections::BTreeSet;

use secrecy::{ExposeSecret, SecretString};
use service_support::config::ConfigError;

use crate::normalize::is_valid_dealership_slug;

/// Shortest accepted secret, in bytes: an HMAC key shorter than SHA-256's output
/// is weaker than the MAC, and short secrets are usually placeholders or typos.
pub const MIN_SECRET_LEN: usize = 32;
/// The `WEBHOOK_SECRETS` value in `api/.env.example`: long enough, but public.
pub const PLACEHOLDER_SECRET: &str = "replace-me-with-a-long-random-secret";
/// Separates a secret from its dealership scope in a `WEBHOOK_SECRETS` entry.
pub const SCOPE_SEPARATOR: char = ':';
/// Separates the dealerships of one scope.
pub const SCOPE_LIST_SEPARATOR: char = '|';

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

impl WebhookSecrets {
    /// Reads `WEBHOOK_SECRETS` (required); weak, placeholder and repeated secrets
    /// and malformed scopes are refused, naming the entry but never echoing it.
    pub fn parse(value: Option<String>) -> Result<WebhookSecrets, ConfigError> {
        parse_secrets(value)
    }
}

/// `WEBHOOK_SECRETS`: entries separated by `,`, each `SECRET` (any dealership) or
/// `SECRET:SCOPE` with `SCOPE` = dealership slugs separated by `|`. A secret
/// therefore cannot contain `,` or `:`; an entry with a `:` must be followed by a
/// valid scope, so a mistyped scope stops the service instead of widening it.
fn parse_secrets(value: Option<String>) -> Result<WebhookSecrets, ConfigError> {
    const VAR: &str = "WEBHOOK_SECRETS";
    let value = value.ok_or_else(|| {
        ConfigError::new(
            VAR,
            "required; set one or more comma-separated signing secrets (the Retell API key with the webhook badge, and/or our senders' secrets)",
        )
    })?;
    let mut entries: Vec<WebhookSecret> = Vec::new();
    for (i, raw) in value.split(',').enumerate() {
        let n = i + 1;
        let entry = raw.trim();
        if entry.is_empty() {
            return Err(ConfigError::new(
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
            return Err(ConfigError::new(
                VAR,
                format!(
                    "entry {n} is the placeholder from api/.env.example; generate a random secret, e.g. `openssl rand -hex 32`"
                ),
            ));
        }
        if secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::new(
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
            return Err(ConfigError::new(
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
            return Err(ConfigError::new(
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

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "key_0123456789abcdef0123456789abcdef";

    fn secrets_of(value: &str) -> Result<WebhookSecrets, ConfigError> {
        WebhookSecrets::parse(Some(value.to_string()))
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
        let example = include_str!("../../.env.example");
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
