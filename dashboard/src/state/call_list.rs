//! The view state that lives in the URL (dealership, time window, filters, page
//! cursor), so a view can be shared by copying the address bar, and its translation
//! into PostgREST query parameters. Pure: unit-tested on the host.

use domain::analysis::{Flag, Verdict};

use crate::model::time::{day_from_ms, iso_from_ms, Window};

/// Rows per page of the call list.
pub const PAGE_SIZE: usize = 50;
/// The most rows one CSV export returns (PostgREST streams them; the browser saves them).
pub const CSV_LIMIT: usize = 10_000;

/// Review states a filter can ask for: `domain::review::ReviewStatus`'s spellings
/// (a test checks they agree), as strings for the URL.
pub const REVIEW_STATUSES: [&str; 5] = [
    "open",
    "reviewed",
    "follow_up_needed",
    "resolved",
    "escalated",
];

/// Retell's `user_sentiment` values, as Retell spells them: what the sentiment
/// filter offers (`calls.user_sentiment`, migration 20261217000200).
pub const SENTIMENTS: [&str; 4] = ["Positive", "Neutral", "Negative", "Unknown"];

/// Where the keyset pagination continues: the last row of the previous page in the
/// list's sort order (first_event_at desc, dealership_id, call_id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub first_event_at: String,
    pub dealership_id: String,
    pub call_id: String,
    /// How many rows the earlier pages showed (`an`), for "51–74 of 74"; `None` in
    /// a link written before it was kept.
    pub shown_before: Option<usize>,
}

/// Everything a shareable view of the dashboard depends on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ViewState {
    /// `None` means "all my dealerships".
    pub dealership: Option<String>,
    pub window: Window,
    pub verdicts: Vec<Verdict>,
    pub score_min: Option<u8>,
    pub score_max: Option<u8>,
    pub flags: Vec<Flag>,
    pub review: Vec<String>,
    pub search: Option<String>,
    /// A Retell `agent_id` (exact).
    pub agent: Option<String>,
    /// A Retell `agent_version` (`calls.agent_version`, migration 20261219000100).
    pub agent_version: Option<u32>,
    /// Retell `user_sentiment` values ([`SENTIMENTS`]), any of them.
    pub sentiments: Vec<String>,
    pub after: Option<Cursor>,
}

impl ViewState {
    /// The same view for another dealership (or all), back on the first page.
    pub fn with_dealership(&self, dealership: Option<String>) -> ViewState {
        ViewState {
            dealership,
            after: None,
            ..self.clone()
        }
    }

    /// Only the parts that select *which* dealership and period: what the health
    /// screen and the links between screens carry.
    pub fn scope_only(&self) -> ViewState {
        ViewState {
            dealership: self.dealership.clone(),
            window: self.window.clone(),
            ..ViewState::default()
        }
    }

    /// One dealership's calls in `window`, all of them or only the bad ones: where
    /// the dealership tables' counts link to.
    pub fn dealership_calls(dealership: &str, window: Window, bad_only: bool) -> ViewState {
        ViewState {
            dealership: Some(dealership.to_string()),
            window,
            verdicts: if bad_only { vec![Verdict::Bad] } else { vec![] },
            ..ViewState::default()
        }
    }

    /// True when any list filter (beyond dealership and window) is set.
    pub fn has_filters(&self) -> bool {
        !self.verdicts.is_empty()
            || self.score_min.is_some()
            || self.score_max.is_some()
            || !self.flags.is_empty()
            || !self.review.is_empty()
            || self.search.is_some()
            || self.agent.is_some()
            || self.agent_version.is_some()
            || !self.sentiments.is_empty()
    }

    /// `[start, end)` of the view's window in ms. A custom range is local days of
    /// the screen's zone (`offset_ms`: its offset from UTC at an instant, from the
    /// browser's Intl): the dealership's, or the viewer's for all dealerships.
    pub fn bounds_ms(&self, now_ms: f64, offset_ms: impl Fn(f64) -> f64) -> (f64, f64) {
        self.window.bounds_in_zone_ms(now_ms, offset_ms)
    }

    /// PostgREST filter parameters for the calls table and the `calls_export` view
    /// (without select, order, limit); `bounds` from [`ViewState::bounds_ms`].
    pub fn postgrest_filters(&self, bounds: (f64, f64)) -> Vec<(String, String)> {
        let mut q: Vec<(String, String)> = Vec::new();
        if let Some(d) = &self.dealership {
            q.push(("dealership_id".into(), format!("eq.{d}")));
        }
        let (start, end) = bounds;
        q.push((
            "first_event_at".into(),
            format!("gte.{}", iso_from_ms(start)),
        ));
        q.push(("first_event_at".into(), format!("lt.{}", iso_from_ms(end))));
        if !self.verdicts.is_empty() {
            let list: Vec<&str> = self.verdicts.iter().map(|v| v.as_str()).collect();
            q.push(("verdict".into(), format!("in.({})", list.join(","))));
        }
        if let Some(min) = self.score_min {
            q.push(("score".into(), format!("gte.{min}")));
        }
        if let Some(max) = self.score_max {
            q.push(("score".into(), format!("lte.{max}")));
        }
        if !self.flags.is_empty() {
            // Overlap ("any of these flags"), answered by the GIN index on flags.
            let list: Vec<&str> = self.flags.iter().map(|f| f.as_str()).collect();
            q.push(("flags".into(), format!("ov.{{{}}}", list.join(","))));
        }
        if !self.review.is_empty() {
            q.push((
                "review_status".into(),
                format!("in.({})", self.review.join(",")),
            ));
        }
        if let Some(agent) = &self.agent {
            q.push(("agent_id".into(), format!("eq.{agent}")));
        }
        if let Some(version) = self.agent_version {
            q.push(("agent_version".into(), format!("eq.{version}")));
        }
        if !self.sentiments.is_empty() {
            q.push((
                "user_sentiment".into(),
                format!("in.({})", self.sentiments.join(",")),
            ));
        }
        if let Some(search) = &self.search {
            // The stored tsvector column (migration 20261215000200), GIN-indexed;
            // `calls_export` has the same column, so the export filters alike.
            q.push(("transcript_tsv".into(), format!("wfts(english).{search}")));
        }
        q
    }

    /// The full query for one page of the call list: filters, keyset cursor, order,
    /// and one row more than a page so we know whether a next page exists.
    pub fn list_query(&self, bounds: (f64, f64)) -> Vec<(String, String)> {
        let mut q = self.postgrest_filters(bounds);
        q.push(("select".into(), LIST_COLUMNS.into()));
        if let Some(c) = &self.after {
            let t = quote(&c.first_event_at);
            let d = quote(&c.dealership_id);
            let id = quote(&c.call_id);
            // The plain bound lets Postgres scan the time index from the cursor on;
            // the `or` breaks ties within the same timestamp.
            q.push(("first_event_at".into(), format!("lte.{}", c.first_event_at)));
            q.push((
                "or".into(),
                format!(
                    "(first_event_at.lt.{t},and(first_event_at.eq.{t},dealership_id.gt.{d}),and(first_event_at.eq.{t},dealership_id.eq.{d},call_id.gt.{id}))"
                ),
            ));
        }
        q.push(("order".into(), ORDER.into()));
        q.push(("limit".into(), (PAGE_SIZE + 1).to_string()));
        q
    }

    /// The query for the CSV export from the `calls_export` view (migration
    /// `20261120000700`), which formats the columns for people: every filter, no
    /// cursor, capped at [`CSV_LIMIT`].
    pub fn csv_query(&self, bounds: (f64, f64)) -> Vec<(String, String)> {
        let mut q = self.postgrest_filters(bounds);
        q.push(("select".into(), CSV_COLUMNS.into()));
        q.push(("order".into(), ORDER.into()));
        q.push(("limit".into(), CSV_LIMIT.to_string()));
        q
    }

    /// The export's file name: `calls-<dealership or all>-<first day>_<last day>.csv`,
    /// the days of `bounds` in the zone of `offset_ms` (UTC for all dealerships).
    pub fn csv_filename(&self, bounds: (f64, f64), offset_ms: impl Fn(f64) -> f64) -> String {
        let who = self.dealership.as_deref().unwrap_or("all");
        let (first, last) = match &self.window {
            Window::Custom { from, to } => (from.clone(), to.clone()),
            _ => (
                day_from_ms(bounds.0 + offset_ms(bounds.0)),
                day_from_ms(bounds.1 + offset_ms(bounds.1)),
            ),
        };
        let safe: String = who
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        format!("calls-{safe}-{first}_{last}.csv")
    }

    /// The URL query string (without `?`), through the one codec
    /// ([`crate::state::querystring`]) that survives the router's decode.
    pub fn to_query_string(&self) -> String {
        let mut parts: Vec<(&str, String)> = Vec::new();
        if let Some(d) = &self.dealership {
            parts.push(("d", d.clone()));
        }
        match &self.window {
            Window::Last24h => {}
            Window::Last7d => parts.push(("range", "7d".into())),
            Window::Custom { from, to } => {
                parts.push(("range", "custom".into()));
                parts.push(("from", from.clone()));
                parts.push(("to", to.clone()));
            }
        }
        if !self.verdicts.is_empty() {
            parts.push((
                "verdict",
                self.verdicts
                    .iter()
                    .map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ));
        }
        if let Some(v) = self.score_min {
            parts.push(("smin", v.to_string()));
        }
        if let Some(v) = self.score_max {
            parts.push(("smax", v.to_string()));
        }
        if !self.flags.is_empty() {
            parts.push((
                "flags",
                self.flags
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ));
        }
        if !self.review.is_empty() {
            parts.push(("review", self.review.join(",")));
        }
        if let Some(s) = &self.search {
            parts.push(("q", s.clone()));
        }
        if let Some(a) = &self.agent {
            parts.push(("agent", a.clone()));
        }
        if let Some(v) = self.agent_version {
            parts.push(("av", v.to_string()));
        }
        if !self.sentiments.is_empty() {
            parts.push(("sentiment", self.sentiments.join(",")));
        }
        if let Some(c) = &self.after {
            parts.push(("at", c.first_event_at.clone()));
            parts.push(("ad", c.dealership_id.clone()));
            parts.push(("ac", c.call_id.clone()));
            if let Some(n) = c.shown_before {
                parts.push(("an", n.to_string()));
            }
        }
        crate::state::querystring::write(parts)
    }

    /// Reads a (router-decoded) query string. Unknown keys and bad values are ignored,
    /// so an old or hand-edited link still opens a sensible view.
    pub fn parse(query: &str) -> ViewState {
        let mut state = ViewState::default();
        let (mut range, mut from, mut to) = (None, None, None);
        let (mut at, mut ad, mut ac, mut an) = (None, None, None, None);
        for (key, value) in crate::state::querystring::pairs(query) {
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "d" if value != "all" => state.dealership = Some(value),
                "range" => range = Some(value),
                "from" => from = Some(value),
                "to" => to = Some(value),
                "verdict" => {
                    state.verdicts = value.split(',').filter_map(parse_verdict).collect();
                }
                "smin" => state.score_min = value.parse().ok().filter(|v| *v <= 100),
                "smax" => state.score_max = value.parse().ok().filter(|v| *v <= 100),
                "flags" => state.flags = value.split(',').filter_map(Flag::parse).collect(),
                "review" => {
                    state.review = value
                        .split(',')
                        .filter(|s| REVIEW_STATUSES.contains(s))
                        .map(str::to_string)
                        .collect();
                }
                "q" => state.search = Some(value.trim().to_string()).filter(|s| !s.is_empty()),
                "agent" => state.agent = Some(value.trim().to_string()).filter(|s| !s.is_empty()),
                "av" => state.agent_version = parse_agent_version(&value),
                "sentiment" => {
                    state.sentiments = SENTIMENTS
                        .iter()
                        .filter(|s| value.split(',').any(|v| v.eq_ignore_ascii_case(s)))
                        .map(|s| s.to_string())
                        .collect();
                }
                "at" => at = Some(value),
                "ad" => ad = Some(value),
                "ac" => ac = Some(value),
                "an" => an = value.parse().ok(),
                _ => {}
            }
        }
        state.window = match (range.as_deref(), from, to) {
            (Some("7d"), _, _) => Window::Last7d,
            (Some("custom"), Some(from), Some(to)) => {
                Window::custom(&from, &to).unwrap_or_default()
            }
            _ => Window::Last24h,
        };
        if let (Some(first_event_at), Some(dealership_id), Some(call_id)) = (at, ad, ac) {
            state.after = Some(Cursor {
                first_event_at,
                dealership_id,
                call_id,
                shown_before: an,
            });
        }
        state
    }
}

/// An agent version as the URL or the Version box holds it: a whole number that
/// fits `calls.agent_version` (an `int`), else `None`.
pub fn parse_agent_version(s: &str) -> Option<u32> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|v| i32::try_from(*v).is_ok())
}

pub fn parse_verdict(s: &str) -> Option<Verdict> {
    Verdict::ALL.into_iter().find(|v| v.as_str() == s)
}

const LIST_COLUMNS: &str =
    "dealership_id,call_id,first_event_at,customer_phone_last4,duration_sec,verdict,score,reasons,flags,review_status,analysis_model";
// Human columns of `calls_export`, renamed (`alias:column`) for the CSV header. The
// phone is masked by the view (last 4 digits); the full number never leaves Postgres.
const CSV_COLUMNS: &str = "dealership:dealership_name,local_time,timezone,call_id,customer_phone:customer_phone_masked,duration_sec,verdict,score,reasons:reasons_text,flags:flags_text,review_status,analysis_model";
/// The export's number columns: left as they are by the formula guard
/// ([`crate::model::csv::neutralise`]), which quotes a text cell starting with `-`.
pub const CSV_NUMERIC: &[&str] = &["duration_sec", "score"];
const ORDER: &str = "first_event_at.desc,dealership_id.asc,call_id.asc";

/// A value inside a PostgREST logic tree (`or=(...)`), double-quoted so that `,.:()`
/// in timestamps and call ids are not read as syntax.
fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

impl From<&str> for ViewState {
    fn from(query: &str) -> Self {
        ViewState::parse(query)
    }
}

impl std::fmt::Display for ViewState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_query_string())
    }
}

/// Reads the two score boxes together (empty = no bound). Refuses, in words, what
/// would otherwise be dropped or match nothing: a value outside 0–100, or a minimum
/// above the maximum.
pub fn score_range(min: &str, max: &str) -> Result<(Option<u8>, Option<u8>), String> {
    fn bound(text: &str, which: &str) -> Result<Option<u8>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse::<u8>()
            .ok()
            .filter(|v| *v <= 100)
            .map(Some)
            .ok_or_else(|| format!("The {which} score must be a whole number from 0 to 100."))
    }
    let (min, max) = (bound(min, "minimum")?, bound(max, "maximum")?);
    if let (Some(lo), Some(hi)) = (min, max) {
        if lo > hi {
            return Err(format!(
                "The minimum score ({lo}) is above the maximum ({hi})."
            ));
        }
    }
    Ok((min, max))
}

#[cfg(test)]
mod tests {
    #[test]
    fn score_bounds_are_read_together_and_nonsense_is_refused_in_words() {
        assert_eq!(super::score_range("40", " 60 "), Ok((Some(40), Some(60))));
        assert_eq!(super::score_range("", "20"), Ok((None, Some(20))));
        assert_eq!(super::score_range("", ""), Ok((None, None)));
        assert_eq!(
            super::score_range("40", "20"),
            Err("The minimum score (40) is above the maximum (20).".into())
        );
        assert_eq!(
            super::score_range("150", ""),
            Err("The minimum score must be a whole number from 0 to 100.".into())
        );
        assert!(super::score_range("", "-3").is_err());
    }

    use super::*;

    #[test]
    fn the_review_filter_offers_exactly_the_domains_statuses() {
        let domain: Vec<&str> = domain::review::ReviewStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .collect();
        assert_eq!(REVIEW_STATUSES.to_vec(), domain);
    }

    /// What the router does between writing and reading a URL.
    fn through_router(state: &ViewState) -> ViewState {
        ViewState::parse(&crate::state::querystring::tests::through_router(
            &state.to_query_string(),
        ))
    }

    fn sample() -> ViewState {
        ViewState {
            dealership: Some("toyota-braintree".into()),
            window: Window::Last7d,
            verdicts: vec![Verdict::Bad, Verdict::NeedsReview],
            score_min: Some(10),
            score_max: Some(80),
            flags: vec![Flag::CustomerUpset],
            review: vec!["open".into()],
            search: Some("oil change & 50% off + \"tires\"".into()),
            agent: Some("agent_5e1f0c".into()),
            agent_version: Some(7),
            sentiments: vec!["Neutral".into(), "Negative".into()],
            after: Some(Cursor {
                first_event_at: "2026-11-20T10:00:00.123456+00:00".into(),
                dealership_id: "toyota-braintree".into(),
                call_id: "call,with(odd)chars".into(),
                shown_before: Some(50),
            }),
        }
    }

    #[test]
    fn the_agent_and_sentiment_filters_go_to_postgrest_and_unknown_sentiments_are_dropped() {
        let view = ViewState::parse("agent=agent_x&sentiment=negative,Bogus,Positive");
        assert_eq!(view.agent.as_deref(), Some("agent_x"));
        assert_eq!(
            view.sentiments,
            vec!["Positive", "Negative"],
            "Retell's spelling, in the offered order"
        );
        assert!(view.has_filters());
        let q = view.postgrest_filters((0.0, 86_400_000.0));
        assert!(
            q.contains(&("agent_id".into(), "eq.agent_x".into())),
            "{q:?}"
        );
        assert!(
            q.contains(&("user_sentiment".into(), "in.(Positive,Negative)".into())),
            "{q:?}"
        );
        let csv = view.csv_query((0.0, 86_400_000.0));
        assert!(
            csv.contains(&("user_sentiment".into(), "in.(Positive,Negative)".into())),
            "the export filters the same: {csv:?}"
        );
        assert!(!ViewState::parse("agent=%20&sentiment=bogus").has_filters());
    }

    #[test]
    fn the_agent_version_filter_goes_to_postgrest_and_nonsense_versions_are_dropped() {
        let view = ViewState::parse("agent=agent_x&av=7");
        assert_eq!(view.agent_version, Some(7));
        assert_eq!(view.to_query_string(), "agent=agent_x&av=7");
        let q = view.postgrest_filters((0.0, 86_400_000.0));
        assert!(
            q.contains(&("agent_version".into(), "eq.7".into())),
            "{q:?}"
        );
        assert!(
            view.csv_query((0.0, 86_400_000.0))
                .contains(&("agent_version".into(), "eq.7".into())),
            "the export filters the same"
        );
        assert!(
            ViewState::parse("av=0").has_filters(),
            "version 0 is a version"
        );
        for bad in ["av=-1", "av=seven", "av=2.5", "av=2147483648", "av="] {
            let view = ViewState::parse(bad);
            assert_eq!(view.agent_version, None, "{bad}");
            assert!(!view.has_filters(), "{bad}");
        }
        assert_eq!(parse_agent_version(" 12 "), Some(12));
        assert_eq!(parse_agent_version("2147483647"), Some(2_147_483_647));
    }

    #[test]
    fn a_view_state_survives_the_round_trip_through_the_router() {
        assert_eq!(through_router(&sample()), sample());
    }

    #[test]
    fn the_default_view_has_an_empty_query_string() {
        assert_eq!(ViewState::default().to_query_string(), "");
        assert_eq!(ViewState::parse(""), ViewState::default());
    }

    #[test]
    fn a_search_with_spaces_reads_naturally_in_the_url() {
        let state = ViewState {
            search: Some("oil change".into()),
            ..Default::default()
        };
        assert_eq!(state.to_query_string(), "q=oil+change");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_ignored() {
        let state = ViewState::parse(
            "verdict=good,awful&smin=500&flags=nope,voicemail&review=open,bogus&zzz=1&d=all",
        );
        assert_eq!(state.verdicts, vec![Verdict::Good]);
        assert_eq!(state.score_min, None);
        assert_eq!(state.flags, vec![Flag::Voicemail]);
        assert_eq!(state.review, vec!["open".to_string()]);
        assert_eq!(state.dealership, None, "d=all means all my dealerships");
    }

    #[test]
    fn a_custom_range_without_both_dates_falls_back_to_the_last_24_hours() {
        assert_eq!(
            ViewState::parse("range=custom&from=2026-11-01").window,
            Window::Last24h
        );
        assert_eq!(
            ViewState::parse("range=custom&from=2026-11-01&to=2026-11-03").window,
            Window::Custom {
                from: "2026-11-01".into(),
                to: "2026-11-03".into()
            }
        );
    }

    #[test]
    fn filters_become_postgrest_operators() {
        let now = 1_795_000_000_000.0;
        let q = sample().postgrest_filters(sample().bounds_ms(now, |_| 0.0));
        let get = |k: &str| {
            q.iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("dealership_id"), vec!["eq.toyota-braintree"]);
        assert_eq!(get("verdict"), vec!["in.(bad,needs_review)"]);
        assert_eq!(get("score"), vec!["gte.10", "lte.80"]);
        assert_eq!(get("flags"), vec!["ov.{customer_upset}"]);
        assert_eq!(get("review_status"), vec!["in.(open)"]);
        assert_eq!(
            get("transcript_tsv"),
            vec!["wfts(english).oil change & 50% off + \"tires\""]
        );
        let times = get("first_event_at");
        assert_eq!(times.len(), 2, "a lower and an upper bound: {times:?}");
        assert!(
            times[0].starts_with("gte.2026-") && times[1].starts_with("lt.2026-"),
            "{times:?}"
        );
    }

    #[test]
    fn all_dealerships_leaves_the_dealership_to_row_level_security() {
        let q = ViewState::default().postgrest_filters((0.0, 1_795_000_000_000.0));
        assert!(q.iter().all(|(k, _)| k != "dealership_id"), "{q:?}");
    }

    #[test]
    fn the_list_query_pages_by_keyset_in_index_order() {
        let q = sample().list_query((0.0, 1_795_000_000_000.0));
        let or = q
            .iter()
            .find(|(k, _)| k == "or")
            .expect("a keyset condition")
            .1
            .clone();
        assert_eq!(
            or,
            "(first_event_at.lt.\"2026-11-20T10:00:00.123456+00:00\",and(first_event_at.eq.\"2026-11-20T10:00:00.123456+00:00\",dealership_id.gt.\"toyota-braintree\"),and(first_event_at.eq.\"2026-11-20T10:00:00.123456+00:00\",dealership_id.eq.\"toyota-braintree\",call_id.gt.\"call,with(odd)chars\"))"
        );
        assert!(q.contains(&(
            "first_event_at".into(),
            "lte.2026-11-20T10:00:00.123456+00:00".into()
        )));
        assert!(q.contains(&(
            "order".into(),
            "first_event_at.desc,dealership_id.asc,call_id.asc".into()
        )));
        assert!(q.contains(&("limit".into(), (PAGE_SIZE + 1).to_string())));
    }

    #[test]
    fn the_csv_export_keeps_the_filters_but_not_the_page_and_only_a_masked_phone() {
        let q = sample().csv_query((0.0, 1_795_000_000_000.0));
        assert!(q.iter().all(|(k, _)| k != "or"), "no cursor in the export");
        assert!(q.contains(&("limit".into(), CSV_LIMIT.to_string())));
        assert!(q.contains(&("verdict".into(), "in.(bad,needs_review)".into())));
        assert!(q.contains(&(
            "transcript_tsv".into(),
            "wfts(english).oil change & 50% off + \"tires\"".into()
        )));
        let select = &q.iter().find(|(k, _)| k == "select").unwrap().1;
        let phones: Vec<&str> = select.split(',').filter(|c| c.contains("phone")).collect();
        assert_eq!(phones, vec!["customer_phone:customer_phone_masked"]);
        assert!(select.contains("reasons:reasons_text") && select.contains("local_time"));
    }

    #[test]
    fn the_exports_number_columns_are_in_its_header_and_only_they_escape_the_formula_guard() {
        let header: Vec<&str> = CSV_COLUMNS
            .split(',')
            .map(|c| c.split(':').next().unwrap_or(c))
            .collect();
        assert!(CSV_NUMERIC.iter().all(|n| header.contains(n)), "{header:?}");
        let csv = format!(
            "{}\n=Dealer,2026-11-20 18:09,America/New_York,-c1,***0101,-1,bad,-5,\"=HYPERLINK(\"\"http://x\"\")\",@flag,open,+model\n",
            header.join(",")
        );
        let safe = crate::model::csv::neutralise(&csv, CSV_NUMERIC);
        assert_eq!(
            safe.lines().nth(1),
            Some("'=Dealer,2026-11-20 18:09,America/New_York,'-c1,***0101,-1,bad,-5,\"'=HYPERLINK(\"\"http://x\"\")\",'@flag,open,'+model")
        );
    }

    #[test]
    fn the_csv_file_is_named_after_the_dealership_and_its_local_days() {
        let eastern = |_: f64| -5.0 * 3_600_000.0;
        let week = ViewState {
            dealership: Some("toyota-braintree".into()),
            window: Window::Last7d,
            ..Default::default()
        };
        // 2026-11-21 02:00 UTC is still Nov 20 in Boston.
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-21T02:00:00Z")
            .unwrap()
            .timestamp_millis() as f64;
        let bounds = week.bounds_ms(now, eastern);
        assert_eq!(
            week.csv_filename(bounds, eastern),
            "calls-toyota-braintree-2026-11-13_2026-11-20.csv"
        );
        // All dealerships: the viewer's zone (here UTC) names the days.
        let all = week.with_dealership(None);
        let utc = |_: f64| 0.0;
        assert_eq!(
            all.csv_filename(all.bounds_ms(now, utc), utc),
            "calls-all-2026-11-14_2026-11-21.csv",
            "all dealerships, a viewer in UTC"
        );
        let custom = ViewState {
            window: Window::custom("2026-11-14", "2026-11-20").unwrap(),
            ..week.clone()
        };
        assert_eq!(
            custom.csv_filename(custom.bounds_ms(now, eastern), eastern),
            "calls-toyota-braintree-2026-11-14_2026-11-20.csv"
        );
    }

    #[test]
    fn a_custom_range_is_local_days_of_the_screens_zone_for_one_or_all_dealerships() {
        let eastern = |_: f64| -5.0 * 3_600_000.0;
        let one = ViewState {
            dealership: Some("toyota-braintree".into()),
            window: Window::custom("2026-11-19", "2026-11-19").unwrap(),
            ..Default::default()
        };
        let (start, _) = one.bounds_ms(0.0, eastern);
        assert_eq!(iso_from_ms(start), "2026-11-19T05:00:00.000Z");
        // All dealerships: the zone is the viewer's, passed in the same way.
        let (start, _) = one.with_dealership(None).bounds_ms(0.0, eastern);
        assert_eq!(iso_from_ms(start), "2026-11-19T05:00:00.000Z");
        let (start, _) = one.with_dealership(None).bounds_ms(0.0, |_| 0.0);
        assert_eq!(iso_from_ms(start), "2026-11-19T00:00:00.000Z");
    }

    #[test]
    fn changing_the_dealership_returns_to_the_first_page_and_keeps_filters() {
        let next = sample().with_dealership(None);
        assert_eq!(next.dealership, None);
        assert_eq!(next.after, None);
        assert_eq!(next.verdicts, sample().verdicts);
    }
}
