//! The dashboard's entry point: loads the runtime config, then shows sign-in or the app.

fn main() {
    dioxus::launch(app::App);
}

mod app {
    //! Root component (placeholder until the Dashboard issue lands the real views).
    use dioxus::prelude::*;

    #[component]
    pub fn App() -> Element {
        rsx! { p { "Call quality monitor" } }
    }
}
