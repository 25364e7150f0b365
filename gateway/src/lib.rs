//! Local-only stand-in for the two Supabase services the project talks to over HTTP:
//! the API gateway (Kong: `apikey` check, CORS, `/rest/v1` -> PostgREST) and the
//! Supabase Auth (GoTrue) subset under `/auth/v1`. Optionally it also serves the built
//! dashboard on a second listener.
//!
//! Production never runs this: it points `SUPABASE_URL` at a real Supabase project.
//! Nothing else in the workspace depends on this crate. See docs/local-auth.md.

pub mod apikey;
pub mod auth;
pub mod error;
pub mod proxy;
pub mod settings;
pub mod static_site;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::Request;
use axum::http::{HeaderName, Method};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use axum::{middleware, Router};
use secrecy::ExposeSecret;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::cors::{AllowHeaders, Any, CorsLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use auth::claims::JwtKeys;
use error::GatewayError;
pub use settings::Settings;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub cfg: Arc<Settings>,
    pub keys: Arc<JwtKeys>,
    /// Client for PostgREST: no redirects followed, no proxy from the environment.
    pub http: reqwest::Client,
    /// The `iss` claim of issued access tokens.
    pub issuer: Arc<str>,
}

/// Response headers a browser may read; PostgREST's paging and location headers and
/// GoTrue's version header among them (supabase-js reads Content-Range for counts
/// and X-Supabase-Api-Version for error codes).
const EXPOSED_HEADERS: [&str; 10] = [
    "content-range",
    "content-location",
    "content-profile",
    "location",
    "preference-applied",
    "range-unit",
    "x-total-count",
    "link",
    "x-supabase-api-version",
    "x-sb-error-code",
];

/// Builds the gateway router (everything on the `GATEWAY_BIND` origin).
pub fn router(state: AppState) -> Router {
    let keyed = Router::new()
        .nest("/auth/v1", auth::router())
        .route(proxy::PREFIX, any(proxy::forward))
        .route(&format!("{}/", proxy::PREFIX), any(proxy::forward))
        .route(&format!("{}/{{*rest}}", proxy::PREFIX), any(proxy::forward))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            apikey::require_api_key,
        ))
        .with_state(state);
    // Hosted Supabase's Kong wants the apikey here too; the stand-in lets
    // supervisors and load balancers probe its health without one.
    let open = Router::new().route("/auth/v1/health", get(auth::health));

    // Like Kong's cors plugin: preflights are answered before the key check, any
    // origin is allowed and the requested headers are mirrored back, which covers
    // what supabase-js sends (apikey, authorization, content-type, x-client-info,
    // prefer, range, accept-profile, content-profile, x-supabase-api-version).
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static))
        .max_age(Duration::from_secs(3600));

    keyed
        .merge(open)
        .fallback(|| async { GatewayError::NoRoute.into_response() })
        .layer(trace_layer())
        .layer(cors)
}

/// One span per request with method and path; the query is left out because it may
/// hold an `apikey`.
fn trace_layer() -> TraceLayer<
    tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>,
    impl Fn(&Request) -> tracing::Span + Clone,
> {
    TraceLayer::new_for_http()
        .make_span_with(|request: &Request| {
            tracing::info_span!(
                "request",
                method = %request.method(),
                path = %request.uri().path(),
            )
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO))
}

/// The running gateway: bound listeners and the state behind them.
pub struct Application {
    listener: TcpListener,
    port: u16,
    dashboard: Option<(TcpListener, std::path::PathBuf)>,
    dashboard_port: Option<u16>,
    state: AppState,
    shutdown: CancellationToken,
}

impl Application {
    /// Binds the listeners (port 0 picks a free one) and prepares the database pool.
    /// The pool connects lazily: Postgres may still be starting when the gateway is.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.gateway_bind)
            .await
            .with_context(|| {
                format!(
                    "GATEWAY_BIND: cannot listen on {} (is the port already in use?)",
                    settings.gateway_bind
                )
            })?;
        let local = listener.local_addr()?;

        let dashboard = match &settings.dashboard {
            Some(dash) => {
                let listener = TcpListener::bind(dash.bind).await.with_context(|| {
                    format!(
                        "DASHBOARD_BIND: cannot listen on {} (is the port already in use?)",
                        dash.bind
                    )
                })?;
                if !dash.dir.join("index.html").is_file() {
                    tracing::warn!(dir = %dash.dir.display(), "DASHBOARD_DIR has no index.html yet");
                }
                Some((listener, dash.dir.clone()))
            }
            None => None,
        };
        let dashboard_port = match &dashboard {
            Some((listener, _)) => Some(listener.local_addr()?.port()),
            None => None,
        };

        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy(settings.database_url.expose_secret())
            .context("DATABASE_URL: not a valid Postgres connection string")?;

        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .context("Failed to build the HTTP client for PostgREST")?;

        let issuer: Arc<str> = match &settings.jwt_issuer {
            Some(issuer) => issuer.as_str().into(),
            None => format!("http://{local}/auth/v1").into(),
        };

        let state = AppState {
            pool,
            keys: Arc::new(JwtKeys::new(&settings.jwt_secret)),
            cfg: Arc::new(settings),
            http,
            issuer,
        };

        Ok(Self {
            port: local.port(),
            listener,
            dashboard,
            dashboard_port,
            state,
            shutdown: CancellationToken::new(),
        })
    }

    /// The port `/auth/v1` and `/rest/v1` are served on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The dashboard's port, when `DASHBOARD_BIND` is set.
    pub fn dashboard_port(&self) -> Option<u16> {
        self.dashboard_port
    }

    /// Cancel it to stop the servers gracefully (tests; signals do it in production).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until SIGINT/SIGTERM or [`Self::shutdown_token`] is cancelled, then
    /// lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let shutdown = self.shutdown.clone();
        service_support::shutdown::cancel_on_signals(shutdown.clone());

        tracing::info!(
            port = self.port,
            postgrest = %self.state.cfg.postgrest_url,
            hook = self.state.cfg.custom_access_token_hook.is_some(),
            "gateway listening (/auth/v1, /rest/v1)"
        );
        let gateway = axum::serve(
            self.listener,
            router(self.state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned());

        match self.dashboard {
            Some((listener, dir)) => {
                tracing::info!(port = self.dashboard_port, dir = %dir.display(), "serving the dashboard");
                let site = axum::serve(listener, static_site::router(dir))
                    .with_graceful_shutdown(shutdown.clone().cancelled_owned());
                let (a, b) = tokio::join!(gateway, site);
                a.context("gateway server failed")?;
                b.context("dashboard server failed")?;
            }
            None => gateway.await.context("gateway server failed")?,
        }
        tracing::info!("gateway stopped");
        Ok(())
    }
}
