//! Reading configuration from the environment: one reader per kind of value, each
//! with its range and a message that names the variable, so the api, the worker and
//! the gateway fail start-up the same way on the same mistake.
//!
//! An empty or blank value counts as unset (`.env` files often carry `KEY=`), and
//! surrounding whitespace is ignored.

use std::fmt::Display;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::time::Duration;

/// A configuration problem: which variable, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

impl ConfigError {
    pub fn new(var: &'static str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            var,
            message: message.into(),
        }
    }
}

/// How log lines are written (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (`pretty`, or its alias `text`): local development.
    Pretty,
    /// One JSON object per line (`json`): production and log shippers.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    /// Case-insensitive: `json`, `pretty` or `text`.
    fn from_str(s: &str) -> Result<LogFormat, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(LogFormat::Json),
            "pretty" | "text" => Ok(LogFormat::Pretty),
            _ => Err(format!("expected json, pretty or text, got {s:?}")),
        }
    }
}

/// Looks a variable up: the process environment, or a map in tests.
type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// The variables a service reads, through a lookup function so tests need not
/// touch the process-wide environment.
pub struct Env<'a> {
    lookup: Lookup<'a>,
}

impl Env<'static> {
    /// The process environment.
    pub fn process() -> Env<'static> {
        Env::from_lookup(|name| std::env::var(name).ok())
    }
}

impl<'a> Env<'a> {
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String> + 'a) -> Env<'a> {
        Env {
            lookup: Box::new(lookup),
        }
    }

    /// The trimmed value, `None` when unset or blank.
    pub fn get(&self, var: &str) -> Option<String> {
        (self.lookup)(var)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// Whether the variable is set at all, even to a blank value.
    pub fn is_present(&self, var: &str) -> bool {
        (self.lookup)(var).is_some()
    }

    /// A value that must be set; `hint` says what to set it to.
    pub fn required(&self, var: &'static str, hint: &str) -> Result<String, ConfigError> {
        self.get(var)
            .ok_or_else(|| ConfigError::new(var, format!("required; {hint}")))
    }

    /// A value parsed with `FromStr`; `expected` describes a good value.
    pub fn parsed<T: FromStr>(
        &self,
        var: &'static str,
        default: T,
        expected: &str,
    ) -> Result<T, ConfigError> {
        match self.get(var) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|_| ConfigError::new(var, format!("expected {expected}, got {raw:?}"))),
        }
    }

    /// A whole number within `range`.
    pub fn number<T>(
        &self,
        var: &'static str,
        default: T,
        range: RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Display + Copy,
    {
        let Some(raw) = self.get(var) else {
            return Ok(default);
        };
        let message = || {
            format!(
                "expected a whole number from {} to {}, got {raw:?}",
                range.start(),
                range.end()
            )
        };
        let value: T = raw.parse().map_err(|_| ConfigError::new(var, message()))?;
        if !range.contains(&value) {
            return Err(ConfigError::new(var, message()));
        }
        Ok(value)
    }

    /// Whole seconds within `range`, as a duration.
    pub fn seconds(
        &self,
        var: &'static str,
        default: u64,
        range: RangeInclusive<u64>,
    ) -> Result<Duration, ConfigError> {
        self.number(var, default, range).map(Duration::from_secs)
    }

    /// Whole milliseconds within `range`, as a duration.
    pub fn millis(
        &self,
        var: &'static str,
        default: u64,
        range: RangeInclusive<u64>,
    ) -> Result<Duration, ConfigError> {
        self.number(var, default, range).map(Duration::from_millis)
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    pub fn flag(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        let Some(raw) = self.get(var) else {
            return Ok(default);
        };
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(ConfigError::new(
                var,
                format!("expected true or false, got {raw:?}"),
            )),
        }
    }

    /// A listen address such as `127.0.0.1:54380` (port 0 picks a free port).
    pub fn socket_addr(
        &self,
        var: &'static str,
        default: SocketAddr,
    ) -> Result<SocketAddr, ConfigError> {
        self.parsed(
            var,
            default,
            "an address such as 127.0.0.1:54380 or 0.0.0.0:8080",
        )
    }

    /// A required `postgres://` or `postgresql://` URL.
    pub fn postgres_url(&self, var: &'static str, hint: &str) -> Result<String, ConfigError> {
        let url = self.required(var, hint)?;
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError::new(
                var,
                "must start with postgres:// or postgresql://",
            ));
        }
        Ok(url)
    }

    /// An `http://` or `https://` URL without its trailing slashes.
    pub fn http_url(&self, var: &'static str, default: &str) -> Result<String, ConfigError> {
        let url = self.get(var).unwrap_or_else(|| default.to_string());
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ConfigError::new(
                var,
                format!("expected an http(s) URL such as {default}, got {url:?}"),
            ));
        }
        Ok(url.trim_end_matches('/').to_string())
    }

    /// `LOG_FORMAT`: `pretty` when unset.
    pub fn log_format(&self) -> Result<LogFormat, ConfigError> {
        match self.get("LOG_FORMAT") {
            None => Ok(LogFormat::Pretty),
            Some(raw) => raw
                .parse()
                .map_err(|message| ConfigError::new("LOG_FORMAT", message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> Env<'static> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env::from_lookup(move |k| map.get(k).cloned())
    }

    #[test]
    fn blank_values_count_as_unset_and_values_are_trimmed() {
        let e = env(&[("A", "  "), ("B", " x ")]);
        assert_eq!(e.get("A"), None);
        assert_eq!(e.get("B").as_deref(), Some("x"));
        assert_eq!(e.get("C"), None);
    }

    #[test]
    fn every_service_reads_log_format_the_same_way() {
        for (raw, want) in [
            ("json", LogFormat::Json),
            ("JSON", LogFormat::Json),
            ("pretty", LogFormat::Pretty),
            ("text", LogFormat::Pretty),
            ("Text", LogFormat::Pretty),
        ] {
            assert_eq!(env(&[("LOG_FORMAT", raw)]).log_format(), Ok(want), "{raw}");
        }
        assert_eq!(env(&[]).log_format(), Ok(LogFormat::Pretty));
        let e = env(&[("LOG_FORMAT", "xml")]).log_format().unwrap_err();
        assert_eq!(e.var, "LOG_FORMAT");
        assert!(e.message.contains("\"xml\""), "{e}");
    }

    #[test]
    fn numbers_outside_their_range_name_the_variable_and_the_range() {
        let e = env(&[("N", "0")]).number("N", 5u32, 1..=10).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid configuration: N: expected a whole number from 1 to 10, got \"0\""
        );
        assert!(env(&[("N", "ten")]).number("N", 5u32, 1..=10).is_err());
        assert!(env(&[("N", "-1")]).number("N", 5u64, 0..=10).is_err());
        assert_eq!(env(&[("N", "10")]).number("N", 5u32, 1..=10), Ok(10));
        assert_eq!(env(&[]).number("N", 5u32, 1..=10), Ok(5));
        assert_eq!(
            env(&[("S", "3")]).seconds("S", 1, 1..=5),
            Ok(Duration::from_secs(3))
        );
    }

    #[test]
    fn flags_urls_and_addresses_are_checked() {
        assert_eq!(env(&[("F", "Yes")]).flag("F", false), Ok(true));
        assert_eq!(env(&[("F", "off")]).flag("F", true), Ok(false));
        assert_eq!(env(&[("F", "maybe")]).flag("F", true).unwrap_err().var, "F");
        assert_eq!(
            env(&[("U", "mysql://x")])
                .postgres_url("U", "set it")
                .unwrap_err()
                .var,
            "U"
        );
        assert!(env(&[])
            .postgres_url("U", "set it to a URL")
            .unwrap_err()
            .message
            .contains("set it to a URL"));
        assert_eq!(
            env(&[("H", "http://x/v1//")]).http_url("H", "https://d/v1"),
            Ok("http://x/v1".to_string())
        );
        assert!(env(&[("H", "ftp://x")]).http_url("H", "https://d").is_err());
        let default: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(env(&[]).socket_addr("B", default), Ok(default));
        assert_eq!(
            env(&[("B", "localhost")])
                .socket_addr("B", default)
                .unwrap_err()
                .var,
            "B"
        );
    }
}
