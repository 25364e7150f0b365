//! Every hook the pages and components share, in one place: who is signed in, the
//! dealerships they may see, the "a review changed" counter, the manager's team,
//! and (re-exported) the API client and the session. The shell provides the
//! contexts; components read them here and never import a view.

use dioxus::prelude::*;

use crate::api::data::Dealership;
use crate::model::review::{Me, Role, Team};

pub use crate::api::use_api;
pub use crate::session::use_session;

/// Who is signed in (profile id, name and role), for deciding which controls to
/// show; derived by the shell from the profile it loads (the default until then).
pub fn use_me() -> Memo<Me> {
    use_context::<Memo<Me>>()
}

/// Bumped after every saved review change.
#[derive(Clone, Copy, PartialEq)]
pub struct ReviewsChanged(pub Signal<u64>);

pub fn use_reviews_changed() -> Signal<u64> {
    use_context::<ReviewsChanged>().0
}

/// The dealerships the user may see, loaded once by the shell (pages render only
/// once they have).
pub fn use_dealerships() -> Memo<Vec<Dealership>> {
    use_context::<Memo<Vec<Dealership>>>()
}

/// A manager's team (people and their dealership assignments), for the assignee
/// picker; `None` for everyone else, who cannot assign to others.
pub fn use_team_members() -> Memo<Option<Team>> {
    let api = use_api();
    let me = use_me();
    let loaded = use_resource(move || {
        let api = api.clone();
        let role = me.read().role;
        async move {
            if role == Role::Manager {
                api.team_members().await.ok()
            } else {
                None
            }
        }
    });
    use_memo(move || loaded.read().clone().flatten())
}
