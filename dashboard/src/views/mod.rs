//! The pages: sign-in, the signed-in shell (header, dealership selector, navigation),
//! dealership health, the call list and the call detail.

mod call_detail;
mod calls;
mod health;
mod login;
mod shell;

pub use call_detail::CallDetail;
pub use calls::Calls;
pub use health::Health;
pub use login::Login;
pub use shell::Shell;

use dioxus::prelude::*;

#[component]
pub fn NotFound(segments: Vec<String>) -> Element {
    rsx! {
        main {
            h1 { "Page not found" }
            a { href: "/", "Go to the dealership health page" }
        }
    }
}
