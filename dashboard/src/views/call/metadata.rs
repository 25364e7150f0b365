//! The call's metadata and Retell's own analysis, as stored.

use dioxus::prelude::*;

use crate::api::data::CallDetail as Call;

#[component]
pub fn MetadataSection(call: Call) -> Element {
    let pretty = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .map(|m| serde_json::to_string_pretty(m).unwrap_or_default())
    };
    let metadata = pretty(&call.metadata);
    let retell = pretty(&call.retell_analysis);
    if metadata.is_none() && retell.is_none() {
        return rsx! {};
    }
    rsx! {
        section { class: "panel",
            h2 { "Metadata" }
            if let Some(m) = metadata { pre { class: "json", "{m}" } }
            if let Some(r) = retell {
                h3 { "Retell's analysis" }
                pre { class: "json", "{r}" }
            }
        }
    }
}
