//! Quotes from the transcript: finding them, checking them, highlighting them.
//!
//! A judge supports its verdict with `evidence` (verbatim quotes) and with
//! quoted fragments inside its reasons (`caller said "I want a manager"`). The
//! worker keeps only the quotes that appear in the transcript (an invented quote
//! is dropped and counted as a judge error); the dashboard highlights the same
//! spans with the same matching, so "found" means the same thing on both sides.
//!
//! Matching ignores letter case, runs of whitespace, curly versus straight
//! quotes, and a trailing `…` (the offline rules cut long quotes with one).

/// Quotes shorter than this (after normalizing) are not checked or highlighted:
/// "yes" or "ok" would match anywhere and prove nothing.
pub const MIN_QUOTE_CHARS: usize = 4;

/// The quoted fragments of a reason: text between straight double quotes or
/// between curly double quotes, trimmed, at least [`MIN_QUOTE_CHARS`] long.
pub fn quoted_fragments(reason: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    for (i, c) in reason.char_indices() {
        match (c, open) {
            ('"' | '\u{201C}', None) => open = Some(i + c.len_utf8()),
            ('"' | '\u{201D}', Some(start)) => {
                let fragment = reason[start..i].trim();
                if normalized(fragment).chars().count() >= MIN_QUOTE_CHARS {
                    out.push(fragment);
                }
                open = None;
            }
            _ => {}
        }
    }
    out
}

/// The byte range of the first occurrence of `quote` in `text`, matched as
/// described in the module documentation; `None` when it does not appear or is
/// too short to mean anything.
pub fn find_span(text: &str, quote: &str) -> Option<(usize, usize)> {
    let needle: Vec<char> = normalized(quote).chars().collect();
    if needle.len() < MIN_QUOTE_CHARS {
        return None;
    }
    let (hay, offsets) = normalized_with_offsets(text);
    let hay: Vec<char> = hay.chars().collect();
    if needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .find(|&i| hay[i..i + needle.len()] == needle[..])
        .map(|i| {
            let (start, _) = offsets[i];
            let (_, end) = offsets[i + needle.len() - 1];
            (start, end)
        })
}

/// Whether `quote` appears in `text`.
pub fn appears_in(text: &str, quote: &str) -> bool {
    find_span(text, quote).is_some()
}

/// Lower case, one space for any run of whitespace, straight quotes, no
/// surrounding whitespace or trailing ellipsis.
pub fn normalized(s: &str) -> String {
    normalized_with_offsets(s).0
}

/// [`normalized`], with the original byte range of every output character.
fn normalized_with_offsets(s: &str) -> (String, Vec<(usize, usize)>) {
    let trimmed_end = s
        .trim_end()
        .trim_end_matches('\u{2026}')
        .trim_end_matches("...")
        .trim_end();
    let mut out = String::new();
    let mut offsets = Vec::new();
    let mut pending_space: Option<(usize, usize)> = None;
    for (i, c) in trimmed_end.char_indices() {
        let range = (i, i + c.len_utf8());
        if c.is_whitespace() {
            if !out.is_empty() && pending_space.is_none() {
                pending_space = Some(range);
            }
            continue;
        }
        if let Some(space) = pending_space.take() {
            out.push(' ');
            offsets.push(space);
        }
        let c = match c {
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201C}' | '\u{201D}' => '"',
            other => other,
        };
        for lower in c.to_lowercase() {
            out.push(lower);
            offsets.push(range);
        }
    }
    (out, offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "Agent: Honda of Quincy, how can I help?\nUser: I want to   talk to a MANAGER.\nAgent: I\u{2019}ll transfer you now.";

    #[test]
    fn quotes_match_ignoring_case_whitespace_and_curly_apostrophes() {
        assert!(appears_in(T, "i want to talk to a manager"));
        assert!(appears_in(T, "I'll transfer you now."));
        assert!(appears_in(T, "how can I help?\nUser: I want"));
        assert!(!appears_in(T, "I want to talk to the owner"));
    }

    #[test]
    fn a_quote_cut_with_an_ellipsis_still_matches() {
        assert!(appears_in(T, "I want to talk to a…"));
        assert!(appears_in(T, "I want to talk to a..."));
    }

    #[test]
    fn the_span_covers_the_original_text() {
        let (s, e) = find_span(T, "talk to a manager").unwrap();
        assert_eq!(&T[s..e], "talk to a MANAGER");
        let (s, e) = find_span(T, "i'll transfer").unwrap();
        assert_eq!(&T[s..e], "I\u{2019}ll transfer");
    }

    #[test]
    fn tiny_or_empty_quotes_prove_nothing() {
        assert_eq!(find_span(T, "I"), None);
        assert_eq!(find_span(T, "   "), None);
        assert_eq!(find_span("", "manager"), None);
    }

    #[test]
    fn fragments_are_read_from_straight_and_curly_quotes() {
        let r = "caller said \"I want to talk to a manager\" and the agent said \u{201C}nobody is here\u{201D}; \"ok\"";
        assert_eq!(
            quoted_fragments(r),
            vec!["I want to talk to a manager", "nobody is here"]
        );
        assert!(quoted_fragments("no quotes at all").is_empty());
        assert!(quoted_fragments("an \"unclosed quote").is_empty());
    }

    #[test]
    fn multibyte_text_keeps_valid_boundaries() {
        let t = "User: Je veux parler à un responsable, s'il vous plaît.";
        let (s, e) = find_span(t, "À UN RESPONSABLE").unwrap();
        assert_eq!(&t[s..e], "à un responsable");
    }
}
