//! How values read to people: masked phone numbers, durations, labels for verdicts,
//! flags, review states and the analyzer. Pure and host-tested.

/// How the customer's number reads on screen, from `calls.customer_phone_last4`
/// (the browser never gets the full number): `0101` -> `••• 0101`; empty (a number
/// of 4 digits or fewer) -> `••••`; none -> `unknown`.
pub fn mask_phone(last4: Option<&str>) -> String {
    let digits: String = last4
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    match (last4, digits.len()) {
        (None, _) => "unknown".into(),
        (Some(_), n) if n >= 4 => format!("••• {}", &digits[n - 4..]),
        (Some(_), _) => "••••".into(),
    }
}

/// The header's dealership list, kept short so the header stays on one line: up to
/// two names in full, else the first and "+N" for the rest (the full list is the
/// tooltip). Returns the shown names and how many are left out.
pub fn compact_names(names: &[String]) -> (String, usize) {
    match names {
        [] | [_] | [_, _] => (names.join(", "), 0),
        [first, rest @ ..] => (first.clone(), rest.len()),
    }
}

/// `75` -> `1:15`, `3725` -> `1:02:05`.
pub fn duration(seconds: Option<i64>) -> String {
    match seconds {
        None => "–".into(),
        Some(s) if s < 0 => "–".into(),
        Some(s) if s >= 3600 => format!("{}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60),
        Some(s) => format!("{}:{:02}", s / 60, s % 60),
    }
}

/// `needs_review` -> `Needs review`; also for flags, reasons and review states.
pub fn humanize(code: &str) -> String {
    let spaced = code.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A short tag for analyses not made by the LLM (the offline heuristic analyzer),
/// so nobody mistakes a rules-based verdict for a model's.
pub fn analyzer_label(model: Option<&str>) -> Option<String> {
    let model = model?;
    model
        .starts_with("heuristic")
        .then(|| format!("rules ({model})"))
}

/// `0.857` -> `86%`.
pub fn percent(share: f64) -> String {
    format!("{:.0}%", share * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_shows_two_dealerships_in_full_and_counts_the_rest() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(compact_names(&[]), (String::new(), 0));
        assert_eq!(
            compact_names(&names(&["Toyota of Braintree", "Honda of Quincy"])),
            ("Toyota of Braintree, Honda of Quincy".to_string(), 0)
        );
        assert_eq!(
            compact_names(&names(&["A", "B", "C", "D"])),
            ("A".to_string(), 3)
        );
    }

    #[test]
    fn a_phone_number_shows_only_its_last_four_digits() {
        assert_eq!(mask_phone(Some("0101")), "••• 0101");
        // A full number, should one ever arrive, still shows only its last four.
        assert_eq!(mask_phone(Some("+16175550199")), "••• 0199");
    }

    #[test]
    fn a_missing_or_too_short_phone_reveals_nothing() {
        assert_eq!(mask_phone(None), "unknown");
        assert_eq!(mask_phone(Some("")), "••••");
        assert_eq!(mask_phone(Some("anonymous")), "••••");
    }

    #[test]
    fn durations_read_as_minutes_and_seconds() {
        assert_eq!(duration(Some(75)), "1:15");
        assert_eq!(duration(Some(5)), "0:05");
        assert_eq!(duration(Some(3725)), "1:02:05");
        assert_eq!(duration(None), "–");
    }

    #[test]
    fn codes_become_sentence_case_words() {
        assert_eq!(humanize("needs_review"), "Needs review");
        assert_eq!(humanize("follow_up_needed"), "Follow up needed");
        assert_eq!(humanize(""), "");
    }

    #[test]
    fn only_non_llm_analyzers_get_a_label() {
        assert_eq!(
            analyzer_label(Some("heuristic-v1")).as_deref(),
            Some("rules (heuristic-v1)")
        );
        assert_eq!(analyzer_label(Some("gpt-4o-mini")), None);
        assert_eq!(analyzer_label(None), None);
    }
}
