//! The call list: time window, filters and search (all in the URL), keyset
//! pagination in index order, CSV export of the current filter, and keyboard
//! navigation (j/k or arrows, Enter opens).

use dioxus::prelude::*;
use domain::analysis::{Flag, Verdict};

use crate::api::data::{is_not_set_up, CallRow, Dealership, NOT_SET_UP};
use crate::api::ApiError;
use crate::components::{loaded, Empty, Section, VerdictBadge};
use crate::hooks::use_api;
use crate::hooks::use_dealerships;
use crate::model::format::{analyzer_label, duration, humanize, mask_phone};
use crate::model::time::{day_from_ms, Window};
use crate::platform;
use crate::state::call_list::{
    parse_agent_version, score_range, Cursor, ViewState, PAGE_SIZE, REVIEW_STATUSES, SENTIMENTS,
};
use crate::state::place::{self, row_key};
use crate::views::shell::{name_of, screen_zone};
use crate::Route;

/// The time zone of the list's times and custom days: the selected dealership's,
/// the viewer's for all dealerships ([`screen_zone`]). `None` while the dealership
/// list is still loading, so no query goes out with the wrong day boundaries.
fn view_zone(view: &ViewState, dealerships: &[Dealership]) -> Option<String> {
    screen_zone(view.dealership.as_deref(), dealerships)
}

/// The window's bounds and the zone's offset function, with "now" taken once.
fn bounds_for(view: &ViewState, zone: &str) -> ((f64, f64), impl Fn(f64) -> f64) {
    let zone = zone.to_string();
    let offset = move |t: f64| platform::zone_offset_ms(&zone, t);
    (view.bounds_ms(platform::now_ms(), &offset), offset)
}

/// "Showing 1–50 of 135 calls", "Showing 51–74 of 74 calls", "Showing 1 call";
/// `before`: the rows of the earlier pages (`None`: unknown, from an old link).
fn showing(before: Option<usize>, count: usize, total: Option<u64>) -> String {
    let noun = |n: u64| if n == 1 { "call" } else { "calls" };
    match (before, total) {
        (Some(0), Some(total)) if total <= count as u64 => {
            format!("Showing {count} {}", noun(count as u64))
        }
        (Some(before), Some(total)) if count > 0 => format!(
            "Showing {}–{} of {total} {}",
            before + 1,
            before + count,
            noun(total)
        ),
        (_, Some(total)) if total > count as u64 => {
            format!("Showing {count} of {total} {}", noun(total))
        }
        _ => format!("Showing {count} {}", noun(count as u64)),
    }
}

#[component]
pub fn Calls(view: ViewState) -> Element {
    let navigator = use_navigator();
    let dealerships = use_dealerships();
    let mut export_state = use_signal(|| None::<Result<String, ApiError>>);

    let go = move |next: ViewState| {
        navigator.push(Route::Calls {
            view: ViewState {
                after: None,
                ..next
            },
        });
    };

    let export = {
        let api = use_api();
        let view = view.clone();
        move |_| {
            let (api, view) = (api.clone(), view.clone());
            let zone = view_zone(&view, &dealerships.read()).unwrap_or_else(|| "UTC".into());
            async move {
                export_state.set(Some(Ok("Preparing the CSV…".into())));
                let (bounds, offset) = bounds_for(&view, &zone);
                let filename = view.csv_filename(bounds, offset);
                let result = api.calls_csv(&view, bounds).await.and_then(|csv| {
                    platform::download(&filename, "text/csv", &csv)
                        .map(|_| format!("Downloaded {filename}."))
                        .map_err(ApiError::Refused)
                });
                export_state.set(Some(result));
            }
        }
    };

    let zone_label = view_zone(&view, &dealerships.read()).unwrap_or_else(|| "UTC".into());
    rsx! {
        h1 { "Calls" }
        // Keyed by the URL state, so inputs show the URL's values after back/forward.
        div { Filters { key: "{view}-{zone_label}", view: view.clone(), zone: zone_label.clone(), on_change: go } }
        div { class: "actions",
            button { id: "export-csv", onclick: export, "Export CSV" }
            match export_state() {
                Some(Ok(msg)) => rsx! { span { class: "muted", "{msg}" } },
                Some(Err(e)) => rsx! { span { class: "error", "{e}" } },
                None => rsx! {},
            }
        }
        Section { what: "calls", CallRows { view: view.clone(), zone_label } }
    }
}

/// The list itself: one page of calls, keyboard navigation, the pager.
#[component]
fn CallRows(view: ViewState, zone_label: String) -> Element {
    let api = use_api();
    let navigator = use_navigator();
    let dealerships = use_dealerships();
    // "Now" is fixed when the view changes, so the page does not shift while read.
    // Reading the dealerships subscribes: their time zones decide a custom range's days.
    let rows = use_resource(use_reactive!(|view| {
        let api = api.clone();
        // Only a custom range depends on the zone; other views do not read (so do
        // not reload with) the dealership list. The shell shows a page only once
        // that list has loaded and holds the selected dealership, so the zone is known.
        let zone = if matches!(view.window, Window::Custom { .. }) {
            view_zone(&view, &dealerships.read()).unwrap_or_else(|| "UTC".into())
        } else {
            "UTC".to_string()
        };
        async move {
            let (bounds, _) = bounds_for(&view, &zone);
            let rows = api.calls(&view, bounds).await?;
            // The total is a nicety: the page shows without it if counting fails. A
            // short first page is its own total, so no count is asked for.
            let total = if rows.len() > PAGE_SIZE || view.after.is_some() {
                api.calls_total(&view, bounds).await.ok()
            } else {
                Some(rows.len() as u64)
            };
            Ok::<_, ApiError>((rows, total))
        }
    }));
    let mut selected = use_signal(|| 0usize);
    let here = Route::Calls { view: view.clone() }.to_string();
    // Back from a call: select its row again and scroll to where the page was, once
    // the rows are there (see place.rs).
    let mut restored = use_signal(|| false);
    {
        let here = here.clone();
        use_effect(move || {
            let loaded = rows.read();
            let Some(Ok((list, _))) = &*loaded else {
                return;
            };
            if *restored.peek() || list.is_empty() {
                return;
            }
            restored.set(true);
            let Some(found) = place::take(&here) else {
                return;
            };
            if let Some(i) = list
                .iter()
                .position(|r| row_key(&r.dealership_id, &r.call_id) == found.row)
            {
                selected.set(i);
            }
            spawn(async move {
                platform::sleep_ms(0).await;
                platform::scroll_to_y(found.scroll_y);
            });
        });
    }
    let (rows, total) = loaded(&rows)?;
    if rows.is_empty() {
        return rsx! {
            Empty { message: if let Err(why) = score_range(
                &view.score_min.map(|v| v.to_string()).unwrap_or_default(),
                &view.score_max.map(|v| v.to_string()).unwrap_or_default(),
            ) {
                format!("No calls match these filters. {why}")
            } else if view.has_filters() || view.after.is_some() {
                "No calls match these filters.".to_string()
            } else {
                format!("No calls {}.", view.window.phrase(&zone_label))
            } }
        };
    }
    let has_next = rows.len() > PAGE_SIZE;
    let page: Vec<CallRow> = rows.iter().take(PAGE_SIZE).cloned().collect();
    let next_view = page.last().map(|last| ViewState {
        after: Some(Cursor {
            first_event_at: last.first_event_at.clone(),
            dealership_id: last.dealership_id.clone(),
            call_id: last.call_id.clone(),
            shown_before: view
                .after
                .as_ref()
                .map_or(Some(0), |c| c.shown_before)
                .map(|n| n + PAGE_SIZE),
        }),
        ..view.clone()
    });
    let open = {
        let page = page.clone();
        let view = view.clone();
        let here = here.clone();
        move |i: usize| {
            if let Some(row) = page.get(i) {
                place::remember(&here, row_key(&row.dealership_id, &row.call_id));
                navigator.push(Route::CallDetail {
                    dealership_id: row.dealership_id.clone(),
                    call_id: row.call_id.clone(),
                    view: view.clone(),
                });
            }
        }
    };
    let count = page.len();
    let show_dealership = view.dealership.is_none();
    let zones = dealerships.read().clone();
    rsx! {
        div {
            class: "table-wrap",
            id: "call-list",
            tabindex: "0",
            "aria-label": "Calls. Use j and k or the arrow keys to move, Enter to open.",
            onkeydown: {
                let open = open.clone();
                move |e: KeyboardEvent| {
                    let focus = platform::focus_target();
                    if !focus.allows_shortcuts() {
                        return;
                    }
                    let key = e.key();
                    let current = selected().min(count - 1);
                    let mut select = move |i: usize| {
                        selected.set(i);
                        platform::scroll_into_view(&format!("call-row-{i}"));
                    };
                    match key {
                        Key::ArrowDown => { e.prevent_default(); select((current + 1).min(count - 1)); }
                        Key::ArrowUp => { e.prevent_default(); select(current.saturating_sub(1)); }
                        Key::Enter if focus.allows_enter() => open(current),
                        Key::Character(c) if c == "j" => select((current + 1).min(count - 1)),
                        Key::Character(c) if c == "k" => select(current.saturating_sub(1)),
                        _ => {}
                    }
                }
            },
            table { class: "calls cards",
                thead { tr {
                    th { "Time" }
                    if show_dealership { th { "Dealership" } }
                    th { "Customer" } th { "Duration" } th { "Verdict" } th { "Score" }
                    th { "Top reasons" } th { "Flags" } th { "Review" }
                } }
                tbody {
                    for (i, row) in page.iter().enumerate() {
                        tr {
                            key: "{row.dealership_id}/{row.call_id}",
                            id: "call-row-{i}",
                            class: if i == selected() { "call-row selected" } else { "call-row" },
                            "data-dealership": "{row.dealership_id}",
                            "data-call": "{row.call_id}",
                            "data-verdict": "{row.verdict.clone().unwrap_or_default()}",
                            onclick: { let open = open.clone(); move |_| open(i) },
                            td { class: "time", {platform::format_in_zone(&row.first_event_at, &zone_label, true)} }
                            if show_dealership { td { class: "dealer", title: "{row.dealership_id}", {name_of(&zones, &row.dealership_id)}
                                if is_not_set_up(&zones, &row.dealership_id) { span { class: "not-set-up", "{NOT_SET_UP}" } } } }
                            td { class: "phone", "data-label": "Customer", {mask_phone(row.customer_phone_last4.as_deref())} }
                            td { "data-label": "Duration", {duration(row.duration_sec)} }
                            td {
                                VerdictBadge { verdict: row.verdict.clone() }
                                if let Some(label) = analyzer_label(row.analysis_model.as_deref()) {
                                    span { class: "analyzer", title: "Judged by the offline rules, not the LLM", "{label}" }
                                }
                            }
                            td { "data-label": "Score", {row.score.map(|s| s.to_string()).unwrap_or_else(|| "–".into())} }
                            td { class: "reasons", {row.reasons.iter().take(2).map(|r| humanize(r)).collect::<Vec<_>>().join("; ")} }
                            td { class: "flag-cell",
                                for f in row.flags.iter() { span { class: "flag", "{humanize(f)}" } }
                            }
                            td { "data-label": "Review", {row.review_status.as_deref().map(humanize).unwrap_or_else(|| "–".into())} }
                        }
                    }
                }
            }
        }
        div { class: "pager",
            span { class: "muted", id: "showing", {showing(view.after.as_ref().map_or(Some(0), |c| c.shown_before), count, total)} }
            if view.after.is_some() {
                Link { to: Route::Calls { view: ViewState { after: None, ..view.clone() } }, "First page" }
            }
            if has_next {
                if let Some(next_view) = next_view {
                    Link { id: "next-page", to: Route::Calls { view: next_view }, "Older calls →" }
                }
            }
        }
    }
}

#[component]
fn Filters(view: ViewState, zone: String, on_change: EventHandler<ViewState>) -> Element {
    let mut search = use_signal(|| view.search.clone().unwrap_or_default());
    let mut agent = use_signal(|| view.agent.clone().unwrap_or_default());
    let version_text = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut version = use_signal(|| version_text(view.agent_version));
    let mut version_error = use_signal(|| None::<&'static str>);
    let now = platform::now_ms();
    let (from_initial, to_initial) = match &view.window {
        Window::Custom { from, to } => (from.clone(), to.clone()),
        _ => (day_from_ms(now - 7.0 * 86_400_000.0), day_from_ms(now)),
    };
    let mut from = use_signal(|| from_initial);
    let mut to = use_signal(|| to_initial);
    let mut custom_open = use_signal(|| matches!(view.window, Window::Custom { .. }));
    let mut range_error = use_signal(|| None::<&'static str>);

    let window_button = |label: &'static str, id: &'static str, window: Window| {
        // While the date boxes are open, "Custom…" is the highlighted choice.
        let active = view.window == window && !custom_open();
        let view = view.clone();
        rsx! {
            button { id: "{id}", class: if active { "chip active" } else { "chip" }, "aria-pressed": "{active}",
                onclick: move |_| { custom_open.set(false); on_change.call(ViewState { window: window.clone(), ..view.clone() }) },
                "{label}" }
        }
    };

    let toggle_verdict = |v: Verdict| {
        let view = view.clone();
        move |_| {
            let mut next = view.clone();
            if let Some(pos) = next.verdicts.iter().position(|x| *x == v) {
                next.verdicts.remove(pos);
            } else {
                next.verdicts.push(v);
            }
            on_change.call(next)
        }
    };
    let toggle_flag = |f: Flag| {
        let view = view.clone();
        move |_| {
            let mut next = view.clone();
            if let Some(pos) = next.flags.iter().position(|x| *x == f) {
                next.flags.remove(pos);
            } else {
                next.flags.push(f);
            }
            on_change.call(next)
        }
    };
    let toggle_sentiment = |s: &'static str| {
        let view = view.clone();
        move |_| {
            let mut next = view.clone();
            if let Some(pos) = next.sentiments.iter().position(|x| x == s) {
                next.sentiments.remove(pos);
            } else {
                next.sentiments.push(s.to_string());
            }
            on_change.call(next)
        }
    };
    let toggle_review = |s: &'static str| {
        let view = view.clone();
        move |_| {
            let mut next = view.clone();
            if let Some(pos) = next.review.iter().position(|x| x == s) {
                next.review.remove(pos);
            } else {
                next.review.push(s.to_string());
            }
            on_change.call(next)
        }
    };
    // Both bounds are applied together (button or Enter): applying one on blur
    // reloaded the filters while the other was being typed, and wiped it.
    let mut smin = use_signal(|| view.score_min.map(|v| v.to_string()).unwrap_or_default());
    let mut smax = use_signal(|| view.score_max.map(|v| v.to_string()).unwrap_or_default());
    let mut score_error = use_signal(|| None::<String>);
    // The filters are not remounted when the URL changes (Back, a link, another
    // filter), so the boxes follow the URL here rather than keep what was typed.
    use_effect(use_reactive!(|view| {
        search.set(view.search.clone().unwrap_or_default());
        agent.set(view.agent.clone().unwrap_or_default());
        version.set(version_text(view.agent_version));
        version_error.set(None);
        smin.set(view.score_min.map(|v| v.to_string()).unwrap_or_default());
        smax.set(view.score_max.map(|v| v.to_string()).unwrap_or_default());
        score_error.set(None);
        if let Window::Custom { from: f, to: t } = &view.window {
            from.set(f.clone());
            to.set(t.clone());
        }
    }));
    let apply_score = {
        let view = view.clone();
        move |e: FormEvent| {
            e.prevent_default();
            match score_range(&smin(), &smax()) {
                Ok((score_min, score_max)) => {
                    score_error.set(None);
                    on_change.call(ViewState {
                        score_min,
                        score_max,
                        ..view.clone()
                    })
                }
                Err(why) => score_error.set(Some(why)),
            }
        }
    };

    rsx! {
        div { class: "filters",
            div { class: "row",
                span { class: "label", "When" }
                {window_button("Last 24 h", "range-24h", Window::Last24h)}
                {window_button("Last 7 days", "range-7d", Window::Last7d)}
                button { id: "range-custom", class: if custom_open() { "chip active" } else { "chip" },
                    onclick: move |_| custom_open.set(true), "Custom…" }
                if custom_open() {
                    input { r#type: "date", id: "range-from", "aria-label": "From ({zone})", value: "{from}", oninput: move |e| from.set(e.value()) }
                    input { r#type: "date", id: "range-to", "aria-label": "To ({zone})", value: "{to}", oninput: move |e| to.set(e.value()) }
                    button { class: "chip", onclick: {
                        let view = view.clone();
                        move |_| match Window::custom(&from(), &to()) {
                            Some(window) => { range_error.set(None); on_change.call(ViewState { window, ..view.clone() }) }
                            None => range_error.set(Some("Pick a start date on or before the end date.")),
                        }
                    }, "Apply" }
                    // One dealership: its local days; all dealerships span zones, so UTC days.
                    span { class: "muted", id: "range-zone",
                        if view.dealership.is_some() { "Days in {zone}" } else { "Days in {zone} (your time zone)" } }
                    if let Some(msg) = range_error() { span { class: "error", "{msg}" } }
                }
            }
            div { class: "row",
                span { class: "label", "Verdict" }
                for v in Verdict::ALL {
                    button { id: "verdict-{v.as_str()}", class: if view.verdicts.contains(&v) { "chip active" } else { "chip" },
                        "aria-pressed": "{view.verdicts.contains(&v)}", onclick: toggle_verdict(v), {humanize(v.as_str())} }
                }
                form { class: "score-range", id: "score-form", onsubmit: apply_score,
                    span { class: "label", "Score" }
                    input { id: "score-min", class: "score", r#type: "number", min: "0", max: "100", placeholder: "min",
                        "aria-label": "Minimum score", value: "{smin}", oninput: move |e| smin.set(e.value()) }
                    " – "
                    input { id: "score-max", class: "score", r#type: "number", min: "0", max: "100", placeholder: "max",
                        "aria-label": "Maximum score", value: "{smax}", oninput: move |e| smax.set(e.value()) }
                    button { r#type: "submit", id: "score-apply", class: "chip", "Apply" }
                    if let Some(why) = score_error() { span { class: "error", id: "score-error", role: "alert", "{why}" } }
                }
            }
            div { class: "row",
                span { class: "label", "Flags" }
                for f in Flag::ALL {
                    button { class: if view.flags.contains(&f) { "chip active" } else { "chip" },
                        "aria-pressed": "{view.flags.contains(&f)}", onclick: toggle_flag(f), {humanize(f.as_str())} }
                }
            }
            div { class: "row",
                span { class: "label", "Review" }
                for s in REVIEW_STATUSES {
                    button { class: if view.review.iter().any(|x| x == s) { "chip active" } else { "chip" },
                        "aria-pressed": "{view.review.iter().any(|x| x == s)}", onclick: toggle_review(s), {humanize(s)} }
                }
            }
            div { class: "row",
                span { class: "label", "Sentiment" }
                for s in SENTIMENTS {
                    button { id: "sentiment-{s.to_lowercase()}", class: if view.sentiments.iter().any(|x| x == s) { "chip active" } else { "chip" },
                        "aria-pressed": "{view.sentiments.iter().any(|x| x == s)}", onclick: toggle_sentiment(s), "{s}" }
                }
                form { class: "agent-filter", id: "agent-form",
                    onsubmit: {
                        let view = view.clone();
                        move |e: FormEvent| {
                            e.prevent_default();
                            let a = agent().trim().to_string();
                            let v = version();
                            let agent_version = parse_agent_version(&v);
                            if agent_version.is_none() && !v.trim().is_empty() {
                                version_error.set(Some("The agent version must be a whole number, e.g. 7."));
                                return;
                            }
                            version_error.set(None);
                            on_change.call(ViewState { agent: (!a.is_empty()).then_some(a), agent_version, ..view.clone() })
                        }
                    },
                    label { r#for: "agent", class: "label", "Agent" }
                    input { id: "agent", r#type: "text", placeholder: "Retell agent_id", value: "{agent}",
                        oninput: move |e| agent.set(e.value()) }
                    label { r#for: "agent-version", class: "label", "Version" }
                    input { id: "agent-version", class: "score", r#type: "number", min: "0", step: "1", placeholder: "any",
                        value: "{version}", oninput: move |e| version.set(e.value()) }
                    button { r#type: "submit", id: "agent-apply", class: "chip", "Apply" }
                    if let Some(why) = version_error() { span { class: "error", id: "agent-version-error", role: "alert", "{why}" } }
                }
            }
            form { class: "row search",
                onsubmit: {
                    let view = view.clone();
                    move |e: FormEvent| {
                        e.prevent_default();
                        let q = search().trim().to_string();
                        on_change.call(ViewState { search: (!q.is_empty()).then_some(q), ..view.clone() })
                    }
                },
                label { r#for: "search", class: "label", "Search" }
                input { id: "search", r#type: "search", placeholder: "Search transcripts (words, \"phrases\", -exclude)",
                    value: "{search}", oninput: move |e| search.set(e.value()) }
                button { r#type: "submit", "Search" }
                if view.has_filters() {
                    button { r#type: "button", id: "clear-filters", class: "link",
                        onclick: {
                            let view = view.clone();
                            move |_| { search.set(String::new()); agent.set(String::new()); version.set(String::new()); on_change.call(view.scope_only()) }
                        },
                        "Clear filters" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::showing;

    #[test]
    fn the_pager_gives_the_rows_shown_and_the_total_and_counts_one_call_in_the_singular() {
        assert_eq!(showing(Some(0), 50, Some(135)), "Showing 1–50 of 135 calls");
        assert_eq!(showing(Some(50), 24, Some(74)), "Showing 51–74 of 74 calls");
        assert_eq!(showing(Some(0), 1, Some(1)), "Showing 1 call");
        assert_eq!(showing(Some(0), 7, Some(7)), "Showing 7 calls");
        assert_eq!(
            showing(Some(0), 50, None),
            "Showing 50 calls",
            "no total when the count failed"
        );
        assert_eq!(
            showing(None, 24, Some(74)),
            "Showing 24 of 74 calls",
            "a link without the earlier pages' count"
        );
    }
}
