//! Days and clock times in a turn's tokens: what makes a read-back explicit,
//! and what dates a promise about parts or repairs.

const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
const RELATIVE_DAYS: &[&str] = &["today", "tomorrow", "tonight"];
const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const SPELLED_HOURS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve",
];

pub(super) fn weekday(token: &str) -> Option<&'static str> {
    let t = token.strip_suffix('s').unwrap_or(token);
    WEEKDAYS.iter().copied().find(|d| *d == t)
}

fn is_ordinal(token: &str) -> bool {
    let digits: String = token.chars().take_while(|c| c.is_ascii_digit()).collect();
    let suffix = &token[digits.len()..];
    !digits.is_empty() && digits.len() <= 2 && matches!(suffix, "st" | "nd" | "rd" | "th")
}

pub(super) fn has_day(tokens: &[String]) -> bool {
    tokens.iter().enumerate().any(|(i, t)| {
        let next = tokens.get(i + 1).map(String::as_str).unwrap_or("");
        let prev = if i > 0 { tokens[i - 1].as_str() } else { "" };
        weekday(t).is_some()
            || RELATIVE_DAYS.contains(&t.as_str())
            || (MONTHS.contains(&t.as_str())
                && (is_ordinal(next)
                    || next.chars().all(|c| c.is_ascii_digit()) && !next.is_empty()))
            || (prev == "the" && is_ordinal(t))
            || (t.contains('/')
                && t.split('/')
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())))
    })
}

fn is_clock(token: &str) -> bool {
    let (h, m) = token.split_once(':').unwrap_or((token, "00"));
    let hour_ok = !h.is_empty() && h.len() <= 2 && h.chars().all(|c| c.is_ascii_digit());
    let min_ok = m.len() == 2 && m.chars().all(|c| c.is_ascii_digit());
    hour_ok && min_ok && h.parse::<u8>().is_ok_and(|h| h <= 23)
}

pub(super) fn has_time(tokens: &[String]) -> bool {
    tokens.iter().enumerate().any(|(i, t)| {
        let next = tokens.get(i + 1).map(String::as_str).unwrap_or("");
        let prev = if i > 0 { tokens[i - 1].as_str() } else { "" };
        let numeric = is_clock(t);
        let spelled = SPELLED_HOURS.contains(&t.as_str());
        let marker = matches!(next, "am" | "pm" | "o'clock");
        t == "noon"
            || ((numeric || spelled) && marker)
            || (t.contains(':') && numeric)
            || (spelled && matches!(next, "thirty" | "fifteen" | "forty-five"))
            // "at 8", "at 10:30": a bare hour after "at" is a clock time.
            || (prev == "at" && numeric && t.parse::<u8>().map_or(true, |h| (1..=12).contains(&h)))
    })
}

#[cfg(test)]
mod tests {
    use super::super::transcript::tokenize;
    use super::*;

    #[test]
    fn day_and_time_detection_needs_both() {
        assert!(has_day(&tokenize("this Thursday, December 18th")));
        assert!(has_day(&tokenize("on the 18th")));
        assert!(!has_day(&tokenize("in the morning")));
        assert!(has_time(&tokenize("at 8 AM")));
        assert!(has_time(&tokenize("at 10:30")));
        assert!(has_time(&tokenize("ten o'clock")));
        assert!(!has_time(&tokenize("exit 42 and head north")));
        assert!(!has_time(&tokenize("Thursday morning")));
    }
}
