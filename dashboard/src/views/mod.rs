//! The pages: sign-in, the signed-in shell (header, dealership selector, navigation),
//! dealership health, the call list, the call detail (with the review workflow),
//! the review queue and the manager's team overview with its drill-downs.

mod call;
mod calls;
mod health;
mod login;
mod queue;
pub mod shell;
mod team;

pub use call::CallDetail;
pub use calls::Calls;
pub use health::Health;
pub use login::Login;
pub use queue::Queue;
pub use shell::Shell;
pub use team::{Team, TeamActivity, TeamUnresolved};

use dioxus::prelude::*;

#[component]
pub fn NotFound(segments: Vec<String>) -> Element {
    // Rendered inside the shell's `main`, under the normal header and navigation.
    rsx! {
        h1 { id: "not-found", "Page not found" }
        p { "There is no page at this address." }
        Link { to: crate::Route::Health { view: Default::default() }, "Go to the dealership health page" }
    }
}
