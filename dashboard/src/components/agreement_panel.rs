//! The team overview's agreement panel: how often the analyzer agrees with the
//! people who labelled calls (count, agreement, Cohen's kappa, good-on-bad, the
//! confusion matrix) overall and per dealership, model, prompt version and flag.
//! Every figure is computed in SQL (`public.label_agreement`, under RLS).

use dioxus::prelude::*;

use crate::components::{loaded, Section};
use crate::hooks::use_api;
use crate::model::format::humanize;
use crate::model::labelling::{kappa_text, kappa_words, share_text, AgreementRow, VERDICTS};
use crate::model::review::status_label;

#[component]
pub fn AgreementPanel(dealership: Option<String>) -> Element {
    rsx! {
        section { class: "panel", id: "agreement-panel",
            h2 { "Judge agreement with human labels" }
            Section { what: "agreement", Figures { dealership } }
        }
    }
}

#[component]
fn Figures(dealership: Option<String>) -> Element {
    let api = use_api();
    let figures = use_resource(use_reactive!(|dealership| {
        let api = api.clone();
        async move { api.label_agreement(dealership.as_deref()).await }
    }));
    let a = loaded(&figures)?;
    match a.overall.clone() {
        None => rsx! { p { class: "muted", id: "agreement-empty",
        "No labelled calls yet. When a CSM confirms or corrects a verdict on the call page, it counts here." } },
        Some(all) => rsx! {
            dl { class: "facts agreement-figures",
                dt { "Labelled calls" } dd { id: "agreement-labelled", "{all.labelled}" }
                dt { "Agreement" } dd { id: "agreement-share", "data-agreement": "{all.agreement.unwrap_or_default()}", {share_text(all.agreement)} }
                dt { "Cohen's κ" } dd { id: "agreement-kappa", "data-kappa": "{all.kappa.map(|k| k.to_string()).unwrap_or_default()}",
                    {kappa_text(all.kappa)} span { class: "muted", " ({kappa_words(all.kappa)})" } }
                dt { "Good on bad" } dd { id: "agreement-good-on-bad", title: "Calls a person labelled bad that the analyzer called good", "{all.good_on_bad}" }
                dt { "Judge errors" }
                dd { id: "agreement-judge-errors", "data-dropped-quotes": "{a.judge_errors.dropped_quotes}",
                    title: "Quotes the judge gave that are not in the transcript; the worker dropped them",
                    "{a.judge_errors.dropped_quotes} invented quote(s) in {a.judge_errors.analyses_with_dropped_quotes} of {a.judge_errors.analyses} analyses" }
            }
            Confusion { row: all.clone() }
            if !a.dealerships.is_empty() {
                Breakdown { title: "Per dealership", id: "agreement-dealerships",
                    rows: named(&a.dealerships, |r| r.dealership_name.clone().or(r.dealership_id.clone()).unwrap_or_default()) }
            }
            Breakdown { title: "Per analyzer", id: "agreement-models",
                rows: named(&a.models, |r| r.model.clone().unwrap_or_default()) }
            Breakdown { title: "Per prompt version", id: "agreement-prompts",
                rows: named(&a.prompt_versions, |r| format!("{} · {}", r.model.clone().unwrap_or_default(), r.prompt_version.clone().unwrap_or_default())) }
            if !a.flags.is_empty() {
                h3 { "Per flag" }
                table { class: "grid", id: "agreement-flags",
                    thead { tr { th { "Flag" } th { "Precision" } th { "Recall" } th { "Both" } th { "Analyzer only" } th { "Label only" } } }
                    tbody {
                        for f in a.flags.iter() {
                            tr { key: "{f.flag}", "data-flag": "{f.flag}",
                                td { {humanize(&f.flag)} }
                                td { {share_text(f.flag_precision)} }
                                td { {share_text(f.flag_recall)} }
                                td { "{f.true_positives}" }
                                td { "{f.false_positives}" }
                                td { "{f.false_negatives}" }
                            }
                        }
                    }
                }
            }
        },
    }
}

/// Rows are what people said, columns what the analyzer said.
#[component]
fn Confusion(row: AgreementRow) -> Element {
    rsx! {
        table { class: "grid confusion", id: "agreement-confusion",
            caption { class: "muted", "Rows: the label. Columns: the analyzer's verdict." }
            thead { tr { th { "" } for got in VERDICTS { th { key: "{got}", {status_label(got)} } } } }
            tbody {
                for label in VERDICTS {
                    tr { key: "{label}",
                        th { {status_label(label)} }
                        for got in VERDICTS {
                            td { key: "{got}", "data-cell": "{label}-{got}", class: if label == got { "agree" } else { "" },
                                "{row.cell(label, got)}" }
                        }
                    }
                }
            }
        }
    }
}

/// Each row with the name its breakdown table shows.
fn named(
    rows: &[AgreementRow],
    name: impl Fn(&AgreementRow) -> String,
) -> Vec<(String, AgreementRow)> {
    rows.iter().map(|r| (name(r), r.clone())).collect()
}

#[component]
fn Breakdown(title: String, id: String, rows: Vec<(String, AgreementRow)>) -> Element {
    if rows.is_empty() {
        return rsx! {};
    }
    rsx! {
        h3 { "{title}" }
        table { class: "grid", id: "{id}",
            thead { tr { th { "" } th { "Labelled" } th { "Agreement" } th { "κ" } th { "Good on bad" } } }
            tbody {
                for (name, r) in rows.iter() {
                    tr {
                        td { "{name}" }
                        td { "{r.labelled}" }
                        td { {share_text(r.agreement)} }
                        td { {kappa_text(r.kappa)} }
                        td { "{r.good_on_bad}" }
                    }
                }
            }
        }
    }
}
