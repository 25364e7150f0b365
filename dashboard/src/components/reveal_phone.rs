//! The customer's number on the call page: its last 4 digits, and for a user who
//! may follow up, a "Reveal number" button. The database decides who may
//! (`reveal_customer_phone`) and records each reveal in `phone_reveals`.

use dioxus::prelude::*;

use crate::hooks::use_api;
use crate::model::format::mask_phone;

#[component]
pub fn RevealPhone(
    dealership_id: String,
    call_id: String,
    /// `calls.customer_phone_last4`.
    last4: Option<String>,
    /// Whether the user may follow up (a csm or manager); others see the mask only.
    can_reveal: bool,
) -> Element {
    let mut shown = use_signal(|| None::<Result<String, String>>);
    let api = use_api();
    let reveal = move |_| {
        let (api, d, c) = (api.clone(), dealership_id.clone(), call_id.clone());
        spawn(async move {
            let answer = api
                .reveal_customer_phone(&d, &c)
                .await
                .map_err(|e| format!("Could not reveal the number: {e}"));
            shown.set(Some(answer));
        });
    };
    rsx! {
        span { id: "customer-phone",
            match shown() {
                Some(Ok(number)) => rsx! {
                    a { id: "customer-phone-full", href: "tel:{number}", "{number}" }
                    span { class: "hint", " (revealed; this is recorded)" }
                },
                _ => rsx! { "{mask_phone(last4.as_deref())}" },
            }
            if can_reveal && last4.is_some() && !matches!(shown(), Some(Ok(_))) {
                " "
                button { id: "reveal-phone", r#type: "button", class: "link",
                    title: "Show the full number to follow up. Each reveal is recorded.",
                    onclick: reveal, "Reveal number" }
            }
            if let Some(Err(e)) = shown() {
                span { class: "error", role: "alert", " {e}" }
            }
        }
    }
}
