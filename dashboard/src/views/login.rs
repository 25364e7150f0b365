//! Email and password sign-in against Supabase Auth.

use dioxus::prelude::*;

use crate::api::{auth, ApiError};
use crate::config::Config;
use crate::hooks::use_session;

#[component]
pub fn Login() -> Element {
    let config = use_context::<Config>();
    let session = use_session();
    let mut email = use_signal(String::new);
    let mut password = use_signal(String::new);
    let mut error = use_signal(|| None::<ApiError>);
    let mut busy = use_signal(|| false);
    let notice = session.0.read().notice.clone();

    let submit = move |event: FormEvent| {
        event.prevent_default();
        let config = config.clone();
        async move {
            if busy() {
                return;
            }
            busy.set(true);
            error.set(None);
            match auth::sign_in(&config, email().trim(), &password()).await {
                Ok(new_session) => session.signed_in(new_session),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        }
    };

    rsx! {
        form { class: "login", id: "login-form", onsubmit: submit,
            h1 { "Call quality monitor" }
            if let Some(notice) = notice {
                p { class: "notice", id: "session-notice", role: "status", "{notice}" }
            }
            label { r#for: "email", "Email" }
            input { id: "email", name: "email", r#type: "email", autocomplete: "username", required: true,
                value: "{email}", oninput: move |e| email.set(e.value()) }
            label { r#for: "password", "Password" }
            input { id: "password", name: "password", r#type: "password", autocomplete: "current-password", required: true,
                value: "{password}", oninput: move |e| password.set(e.value()) }
            button { id: "sign-in", r#type: "submit", disabled: busy(), if busy() { "Signing in…" } else { "Sign in" } }
            if let Some(e) = error() {
                p { class: "error", id: "login-error", role: "alert", "{e}" }
            }
        }
    }
}
