//! The dashboard's entry point: routes, and the root that loads the runtime config,
//! restores the session (refreshing it before expiry) and shows sign-in or the app.

mod api;
mod components;
mod config;
mod hooks;
mod model;
mod platform;
mod session;
mod state;
mod views;

use dioxus::prelude::*;

use api::auth;
use api::ApiError;
use config::Config;
use model::review::QueueState;
use session::{AuthState, Session, SessionCtx, EXPIRED_NOTICE};
use state::call_list::ViewState;
use state::team_view::TeamState;
use views::{
    CallDetail, Calls, Health, Login, NotFound, Queue, Shell, Team, TeamActivity, TeamUnresolved,
};

/// Every screen. The view state (dealership, window, filters, page) is the query
/// string, so any screen can be shared as a link.
#[derive(Routable, Clone, PartialEq, Debug)]
#[rustfmt::skip]
pub enum Route {
    #[layout(Shell)]
        #[route("/?:..view")]
        Health { view: ViewState },
        #[route("/calls?:..view")]
        Calls { view: ViewState },
        #[route("/calls/:dealership_id/:call_id?:..view")]
        CallDetail { dealership_id: String, call_id: String, view: ViewState },
        #[route("/queue?:..state")]
        Queue { state: QueueState },
        #[route("/team?:..state")]
        Team { state: TeamState },
        #[route("/team/unresolved?:..state")]
        TeamUnresolved { state: TeamState },
        #[route("/team/activity?:..state")]
        TeamActivity { state: TeamState },
        // Inside the layout, so a wrong address still has the header and navigation.
        #[route("/:..segments")]
        NotFound { segments: Vec<String> },
}

impl Route {
    /// The view state the current screen carries.
    pub fn view(&self) -> ViewState {
        match self {
            Route::Health { view } | Route::Calls { view } | Route::CallDetail { view, .. } => {
                view.clone()
            }
            Route::Queue { state } => {
                ViewState::default().with_dealership(state.dealership.clone())
            }
            Route::Team { state }
            | Route::TeamUnresolved { state }
            | Route::TeamActivity { state } => {
                ViewState::default().with_dealership(state.dealership.clone())
            }
            Route::NotFound { .. } => ViewState::default(),
        }
    }

    /// The dealership the screen is scoped to (`None`: all the user's).
    pub fn dealership(&self) -> Option<String> {
        self.view().dealership
    }

    /// The same screen for another dealership (or all); the selector uses it.
    pub fn with_dealership(&self, dealership: Option<String>) -> Route {
        match self {
            Route::Queue { state } => Route::Queue {
                state: QueueState {
                    dealership,
                    ..state.clone()
                },
            },
            Route::Team { state } => Route::Team {
                state: state.with_dealership(dealership),
            },
            Route::TeamUnresolved { state } => Route::TeamUnresolved {
                state: state.with_dealership(dealership),
            },
            Route::TeamActivity { state } => Route::TeamActivity {
                state: state.with_dealership(dealership),
            },
            _ => self.with_view(self.view().with_dealership(dealership)),
        }
    }

    /// The same screen with another view state; a call's page goes back to the list,
    /// since the call belongs to one dealership.
    pub fn with_view(&self, view: ViewState) -> Route {
        match self {
            Route::Health { .. } => Route::Health { view },
            _ => Route::Calls { view },
        }
    }
}

fn main() {
    dioxus::launch(App);
}

#[component]
fn App() -> Element {
    let config = use_resource(auth::load_config);
    let loaded = config.read();
    match &*loaded {
        None => rsx! { p { class: "boot", "Loading…" } },
        Some(Err(message)) => rsx! { div { class: "boot error", role: "alert", "{message}" } },
        Some(Ok(config)) => rsx! { SessionRoot { config: config.clone() } },
    }
}

/// How often the refresh loop looks at the token at most (it also wakes when the
/// refresh is due); short enough to notice a laptop waking from sleep.
const REFRESH_CHECK_MS: i64 = 30_000;

#[component]
fn SessionRoot(config: Config) -> Element {
    use_context_provider(|| config.clone());
    let state = use_signal(|| AuthState {
        session: Session::load(),
        notice: None,
    });
    let session = use_context_provider(|| SessionCtx(state));
    let mut checked = use_signal(|| false);
    // A page restored by Back after a sign-out (bfcache) still has the old session in
    // memory: re-check it against localStorage as soon as the page is shown again.
    use_hook(move || {
        let runtime = dioxus::core::Runtime::current();
        let scope = dioxus::core::current_scope_id();
        platform::on_page_return(move || runtime.in_scope(scope, || session.sync()));
    });

    use_future(move || {
        let config = config.clone();
        async move {
            // A stored session may have expired or been revoked while the tab was closed.
            let stored = session.0.peek().session.clone();
            if let Some(stored) = stored {
                let result = if stored.needs_refresh(platform::now_secs()) {
                    auth::refresh(&config, &stored.refresh_token)
                        .await
                        .map(Some)
                } else {
                    auth::check(&config, &stored.access_token)
                        .await
                        .map(|_| None)
                };
                match result {
                    Ok(Some(fresh)) => session.signed_in(fresh),
                    Ok(None) => {}
                    // Offline: keep the session; pages say the network is down.
                    Err(ApiError::Network) | Err(ApiError::Server) => {}
                    Err(_) => session.end(Some(EXPIRED_NOTICE)),
                }
            }
            checked.set(true);
            loop {
                let due_ms = session
                    .0
                    .peek()
                    .session
                    .as_ref()
                    .map(|s| s.refresh_due_in(platform::now_secs()) * 1000);
                platform::sleep_ms(
                    due_ms
                        .unwrap_or(REFRESH_CHECK_MS)
                        .clamp(1_000, REFRESH_CHECK_MS) as i32,
                )
                .await;
                let current = session.0.peek().session.clone();
                let Some(current) = current else { continue };
                if !current.needs_refresh(platform::now_secs()) {
                    continue;
                }
                match auth::refresh(&config, &current.refresh_token).await {
                    Ok(fresh) => session.signed_in(fresh),
                    Err(ApiError::Network) | Err(ApiError::Server) => {}
                    Err(_) => session.end(Some(EXPIRED_NOTICE)),
                }
            }
        }
    });

    if !checked() {
        return rsx! { p { class: "boot", "Checking your session…" } };
    }
    if state.read().session.is_none() {
        return rsx! { Login {} };
    }
    rsx! { Router::<Route> {} }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_screen_reads_back_from_its_own_url() {
        let view = ViewState::parse("d=toyota-braintree&range=7d&verdict=bad&q=oil+change");
        let routes = [
            Route::Health { view: view.clone() },
            Route::Calls { view: view.clone() },
            Route::CallDetail {
                dealership_id: "toyota-braintree".into(),
                call_id: "call_1".into(),
                view,
            },
        ];
        let team = TeamState::parse(
            "d=honda-quincy&csm=a0000000-0000-4000-8000-000000000003&range=24h&age=over_3d",
        );
        let routes = routes.into_iter().chain([
            Route::Queue {
                state: QueueState::parse("d=honda-quincy&sort=oldest&mine=1"),
            },
            Route::Team {
                state: team.clone(),
            },
            Route::TeamUnresolved {
                state: team.clone(),
            },
            Route::TeamActivity { state: team },
        ]);
        for route in routes {
            let url = route.to_string();
            assert_eq!(url.parse::<Route>().ok(), Some(route), "{url}");
        }
    }

    #[test]
    fn changing_the_dealership_on_a_call_page_goes_back_to_the_list() {
        let route = Route::CallDetail {
            dealership_id: "a".into(),
            call_id: "c".into(),
            view: ViewState::default(),
        };
        let next = route.with_view(ViewState::default().with_dealership(Some("b".into())));
        assert!(matches!(next, Route::Calls { view } if view.dealership.as_deref() == Some("b")));
    }

    #[test]
    fn changing_the_dealership_keeps_the_queue_and_team_screens_and_their_filters() {
        let queue = Route::Queue {
            state: QueueState::parse("sort=oldest"),
        };
        let next = queue.with_dealership(Some("b".into()));
        assert_eq!(next.dealership().as_deref(), Some("b"));
        assert!(
            matches!(next, Route::Queue { state } if state.sort == state::queue_view::QueueSort::Oldest)
        );
        let team = Route::TeamUnresolved {
            state: TeamState::parse("csm=unassigned&age=over_3d"),
        };
        let next = team.with_dealership(None);
        assert!(
            matches!(next, Route::TeamUnresolved { state } if state.csm.as_deref() == Some("unassigned") && state.dealership.is_none())
        );
    }
}
