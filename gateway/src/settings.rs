//! Typed, validated configuration read from the environment at start-up.
//!
//! Every variable is documented on its field. Problems are reported with the name of
//! the variable at fault so `cargo xtask up` (or a newcomer) can fix them at once;
//! secrets are held as [`SecretString`] so they never reach a log line or a `Debug`.

use std::net::SocketAddr;
use std::path::PathBuf;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use service_support::config::Env;
pub use service_support::config::{ConfigError, LogFormat};

/// What a missing variable's error points to.
const SEE_DOCS: &str = "see docs/local-auth.md";

/// The Supabase CLI's default hook URI, also used in `supabase/config.toml`.
pub const DEFAULT_CUSTOM_ACCESS_TOKEN_HOOK: &str =
    "pg-functions://postgres/public/custom_access_token_hook";

/// A Postgres function called as the custom access token hook, from a
/// `pg-functions://<db>/<schema>/<function>` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookFunction {
    schema: String,
    function: String,
}

impl HookFunction {
    /// Parses a hook URI the way GoTrue validates it: `pg-functions` scheme, and a
    /// schema and function name that are plain Postgres identifiers.
    pub fn parse(uri: &str) -> Result<Self, String> {
        let rest = uri
            .strip_prefix("pg-functions://")
            .ok_or_else(|| {
                "only pg-functions://<database>/<schema>/<function> hooks are supported by the local stand-in"
                    .to_string()
            })?;
        let mut parts = rest.split('/');
        let _database = parts.next();
        let (Some(schema), Some(function)) = (parts.next(), parts.next()) else {
            return Err("URI path does not contain enough parts".into());
        };
        for name in [schema, function] {
            if !is_plain_identifier(name) {
                return Err(format!("invalid Postgres name: {name:?}"));
            }
        }
        Ok(Self {
            schema: schema.to_owned(),
            function: function.to_owned(),
        })
    }

    /// The function name quoted for SQL (`"public"."custom_access_token_hook"`).
    /// Safe to splice into a statement: both parts matched [`is_plain_identifier`].
    pub fn quoted(&self) -> String {
        format!("\"{}\".\"{}\"", self.schema, self.function)
    }
}

/// GoTrue's rule for hook schema/function names: `^[a-zA-Z_][a-zA-Z0-9_]{0,62}$`.
fn is_plain_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && name.len() <= 63
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The optional second listener that serves the built dashboard.
#[derive(Debug, Clone)]
pub struct DashboardSettings {
    /// `DASHBOARD_BIND`: address for the static file server, e.g. `127.0.0.1:54390`.
    pub bind: SocketAddr,
    /// `DASHBOARD_DIR`: the directory holding the built dashboard (`index.html`, assets).
    pub dir: PathBuf,
}

/// Everything the gateway needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `GATEWAY_BIND` (default `127.0.0.1:54321`): the one origin serving `/auth/v1` and
    /// `/rest/v1`. Port 0 picks a free port (tests).
    pub gateway_bind: SocketAddr,
    /// `DATABASE_URL`: Postgres, as `supabase_auth_admin` or a superuser.
    pub database_url: SecretString,
    /// `POSTGREST_URL`: where `/rest/v1/*` is forwarded, e.g. `http://127.0.0.1:54330`.
    pub postgrest_url: String,
    /// `JWT_SECRET`: HS256 secret shared with PostgREST, at least 32 characters.
    pub jwt_secret: SecretString,
    /// `JWT_EXPIRY_SECS` (default 3600): access token lifetime.
    pub jwt_expiry_secs: i64,
    /// `JWT_ISSUER` (optional): the `iss` claim. Defaults to `http://<bound address>/auth/v1`,
    /// which is what the Supabase CLI's local stack uses.
    pub jwt_issuer: Option<String>,
    /// `ANON_KEY`: accepted `apikey`; must be a JWT with role `anon` signed with `JWT_SECRET`.
    pub anon_key: SecretString,
    /// `SERVICE_ROLE_KEY`: accepted `apikey`; a JWT with role `service_role`.
    pub service_role_key: SecretString,
    /// `AUTH_HOOK_CUSTOM_ACCESS_TOKEN`: `pg-functions://` URI of the custom access token hook.
    /// Unset: the default URI. Empty: hook disabled.
    pub custom_access_token_hook: Option<HookFunction>,
    /// `REFRESH_TOKEN_REUSE_INTERVAL_SECS` (default 10, as in `supabase/config.toml`): how long
    /// a rotated refresh token may still be exchanged before reuse counts as theft.
    pub refresh_token_reuse_interval_secs: i64,
    /// `DASHBOARD_BIND` + `DASHBOARD_DIR` (both or neither).
    pub dashboard: Option<DashboardSettings>,
    /// `LOG_FORMAT`: `json`, or `pretty` (alias `text`).
    pub log_format: LogFormat,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::read(&Env::process())
    }

    /// Reads settings through `lookup` (tests pass a map instead of mutating the
    /// process environment, which is shared by parallel tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(&Env::from_lookup(lookup))
    }

    fn read(env: &Env) -> Result<Self, ConfigError> {
        let required = |var: &'static str| env.required(var, SEE_DOCS);

        let gateway_bind =
            env.socket_addr("GATEWAY_BIND", SocketAddr::from(([127, 0, 0, 1], 54321)))?;
        let database_url = env.postgres_url("DATABASE_URL", SEE_DOCS)?;

        let postgrest_url = required("POSTGREST_URL")?;
        let parsed = reqwest::Url::parse(&postgrest_url)
            .map_err(|e| ConfigError::new("POSTGREST_URL", e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ConfigError::new("POSTGREST_URL", "must be an http(s) URL"));
        }
        let postgrest_url = postgrest_url.trim_end_matches('/').to_owned();

        let jwt_secret = required("JWT_SECRET")?;
        if jwt_secret.chars().count() < 32 {
            return Err(ConfigError::new(
                "JWT_SECRET",
                "must be at least 32 characters (PostgREST and Supabase require it)",
            ));
        }

        let anon_key = required("ANON_KEY")?;
        check_api_key("ANON_KEY", &anon_key, "anon", &jwt_secret)?;
        let service_role_key = required("SERVICE_ROLE_KEY")?;
        check_api_key(
            "SERVICE_ROLE_KEY",
            &service_role_key,
            "service_role",
            &jwt_secret,
        )?;

        // Unset: the default hook. Set but empty: no hook (so `get`, which treats
        // blank as unset, is not enough here).
        const HOOK: &str = "AUTH_HOOK_CUSTOM_ACCESS_TOKEN";
        let custom_access_token_hook = match (env.is_present(HOOK), env.get(HOOK)) {
            (false, _) => Some(
                HookFunction::parse(DEFAULT_CUSTOM_ACCESS_TOKEN_HOOK)
                    .expect("the default hook URI is valid"),
            ),
            (true, None) => None,
            (true, Some(v)) => {
                Some(HookFunction::parse(&v).map_err(|e| ConfigError::new(HOOK, e))?)
            }
        };

        let dashboard = match (env.get("DASHBOARD_BIND"), env.get("DASHBOARD_DIR")) {
            (None, None) => None,
            (Some(_), Some(dir)) => {
                let bind =
                    env.socket_addr("DASHBOARD_BIND", SocketAddr::from(([127, 0, 0, 1], 0)))?;
                let dir = PathBuf::from(dir);
                if !dir.is_dir() {
                    return Err(ConfigError::new(
                        "DASHBOARD_DIR",
                        format!("{} is not a directory", dir.display()),
                    ));
                }
                Some(DashboardSettings { bind, dir })
            }
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "DASHBOARD_DIR",
                    "required when DASHBOARD_BIND is set",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "DASHBOARD_BIND",
                    "required when DASHBOARD_DIR is set",
                ))
            }
        };

        Ok(Self {
            gateway_bind,
            database_url: SecretString::from(database_url),
            postgrest_url,
            jwt_secret: SecretString::from(jwt_secret),
            jwt_expiry_secs: env.number("JWT_EXPIRY_SECS", 3600, 1..=30 * 86_400)?,
            jwt_issuer: env.get("JWT_ISSUER"),
            anon_key: SecretString::from(anon_key),
            service_role_key: SecretString::from(service_role_key),
            custom_access_token_hook,
            refresh_token_reuse_interval_secs: env.number(
                "REFRESH_TOKEN_REUSE_INTERVAL_SECS",
                10,
                0..=86_400,
            )?,
            dashboard,
            log_format: env.log_format()?,
        })
    }

    /// The keys Kong would accept in `apikey`.
    pub fn api_keys(&self) -> [&str; 2] {
        [
            self.anon_key.expose_secret(),
            self.service_role_key.expose_secret(),
        ]
    }
}

/// A key that PostgREST would reject (wrong secret, wrong role) makes every request
/// fail later in a confusing way, so it is refused here.
fn check_api_key(
    var: &'static str,
    key: &str,
    expected_role: &str,
    secret: &str,
) -> Result<(), ConfigError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<serde_json::Value>(
        key,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| {
        ConfigError::new(
            var,
            format!("not an HS256 JWT signed with JWT_SECRET, or expired ({e})"),
        )
    })?;
    match data.claims.get("role").and_then(|r| r.as_str()) {
        Some(role) if role == expected_role => Ok(()),
        other => Err(ConfigError::new(
            var,
            format!("its role claim must be {expected_role:?}, found {other:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
    const ANON: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
    const SERVICE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";

    fn base() -> HashMap<&'static str, String> {
        HashMap::from([
            (
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:54322/postgres".to_string(),
            ),
            ("POSTGREST_URL", "http://127.0.0.1:54330/".to_string()),
            ("JWT_SECRET", SECRET.to_string()),
            ("ANON_KEY", ANON.to_string()),
            ("SERVICE_ROLE_KEY", SERVICE.to_string()),
        ])
    }

    fn load(vars: &HashMap<&'static str, String>) -> Result<Settings, ConfigError> {
        Settings::from_lookup(|k| vars.get(k).cloned())
    }

    #[test]
    fn well_known_local_values_are_accepted_with_supabase_defaults() {
        let s = load(&base()).expect("valid settings");
        assert_eq!(s.gateway_bind.to_string(), "127.0.0.1:54321");
        assert_eq!(s.jwt_expiry_secs, 3600);
        assert_eq!(s.postgrest_url, "http://127.0.0.1:54330");
        assert_eq!(s.refresh_token_reuse_interval_secs, 10);
        assert_eq!(
            s.custom_access_token_hook
                .expect("hook on by default")
                .quoted(),
            "\"public\".\"custom_access_token_hook\""
        );
        assert!(s.dashboard.is_none());
        assert_eq!(s.log_format, LogFormat::Pretty);
    }

    #[test]
    fn a_missing_variable_is_named_in_the_error() {
        let mut vars = base();
        vars.remove("JWT_SECRET");
        let err = load(&vars).unwrap_err().to_string();
        assert!(err.contains("JWT_SECRET: required"), "{err}");
    }

    #[test]
    fn a_short_jwt_secret_is_refused() {
        let mut vars = base();
        vars.insert("JWT_SECRET", "too-short".into());
        let err = load(&vars).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid configuration: JWT_SECRET:"),
            "{err}"
        );
    }

    #[test]
    fn keys_signed_with_another_secret_are_refused() {
        let mut vars = base();
        vars.insert(
            "JWT_SECRET",
            "another-secret-that-is-also-at-least-32-characters".into(),
        );
        let err = load(&vars).unwrap_err().to_string();
        assert!(err.starts_with("invalid configuration: ANON_KEY:"), "{err}");
    }

    #[test]
    fn swapped_keys_are_refused_because_of_their_role() {
        let mut vars = base();
        vars.insert("ANON_KEY", SERVICE.into());
        let err = load(&vars).unwrap_err().to_string();
        assert!(
            err.contains("ANON_KEY") && err.contains("\"anon\""),
            "{err}"
        );
    }

    #[test]
    fn an_empty_hook_uri_disables_the_hook() {
        let mut vars = base();
        vars.insert("AUTH_HOOK_CUSTOM_ACCESS_TOKEN", String::new());
        assert!(load(&vars).unwrap().custom_access_token_hook.is_none());
    }

    #[test]
    fn hook_uris_must_be_pg_functions_with_plain_names() {
        for bad in [
            "https://example.com/hook",
            "pg-functions://postgres/public",
            "pg-functions://postgres/public/bad\"name",
        ] {
            let mut vars = base();
            vars.insert("AUTH_HOOK_CUSTOM_ACCESS_TOKEN", bad.into());
            let err = load(&vars).unwrap_err().to_string();
            assert!(
                err.starts_with("invalid configuration: AUTH_HOOK_CUSTOM_ACCESS_TOKEN:"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_custom_hook_uri_names_the_function_to_call() {
        let mut vars = base();
        vars.insert(
            "AUTH_HOOK_CUSTOM_ACCESS_TOKEN",
            "pg-functions://postgres/private/my_hook".into(),
        );
        let hook = load(&vars).unwrap().custom_access_token_hook.unwrap();
        assert_eq!(hook.quoted(), "\"private\".\"my_hook\"");
    }

    #[test]
    fn dashboard_bind_without_dir_is_refused() {
        let mut vars = base();
        vars.insert("DASHBOARD_BIND", "127.0.0.1:0".into());
        let err = load(&vars).unwrap_err().to_string();
        assert!(err.contains("DASHBOARD_DIR: required"), "{err}");
    }

    #[test]
    fn an_unknown_log_format_is_refused() {
        let mut vars = base();
        vars.insert("LOG_FORMAT", "xml".into());
        let err = load(&vars).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid configuration: LOG_FORMAT:"),
            "{err}"
        );
    }
}
