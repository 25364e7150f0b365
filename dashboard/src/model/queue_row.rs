//! What a queue row says about the call instead of its raw id: who called (name,
//! the number as the database masked it), and what the call was about (Retell's
//! summary, else the analyzer's reasons). Pure and host-tested.

use crate::model::format::humanize;

/// The customer's name, or "Unknown caller".
pub fn customer_label(name: Option<&str>) -> String {
    match name.map(str::trim) {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => "Unknown caller".into(),
    }
}

/// `review_queue.customer_phone_masked` (`***0142`, only the last 4 digits ever
/// leave Postgres) as the call list writes it: `••• 0142`; `***` (4 digits or fewer)
/// is `••••`. `None` when there is no number.
pub fn phone_label(masked: Option<&str>) -> Option<String> {
    let masked = masked?;
    let digits: String = masked.chars().filter(char::is_ascii_digit).collect();
    Some(match digits.len() {
        0 => "••••".into(),
        // Never more than the last 4, whatever the column holds.
        n => format!("••• {}", &digits[n.saturating_sub(4)..]),
    })
}

/// What the call was about: Retell's summary when it sent one (`true`), else the
/// first two of the analyzer's reasons in words (`false`).
pub fn summary_text(summary: Option<&str>, reasons: &[String]) -> (String, bool) {
    match summary.map(str::trim) {
        Some(s) if !s.is_empty() => (s.to_string(), true),
        _ => (
            reasons
                .iter()
                .take(2)
                .map(|r| humanize(r))
                .collect::<Vec<_>>()
                .join("; "),
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_names_the_customer_and_shows_at_most_four_digits() {
        assert_eq!(customer_label(Some("Dana Driver")), "Dana Driver");
        assert_eq!(customer_label(Some("  ")), "Unknown caller");
        assert_eq!(customer_label(None), "Unknown caller");
        assert_eq!(phone_label(Some("***0142")).as_deref(), Some("••• 0142"));
        assert_eq!(phone_label(Some("***")).as_deref(), Some("••••"));
        assert_eq!(
            phone_label(Some("+16175550142")).as_deref(),
            Some("••• 0142"),
            "even an unmasked value shows only its last 4 digits"
        );
        assert_eq!(phone_label(None), None);
    }

    #[test]
    fn the_summary_is_retells_else_the_reasons() {
        let reasons = vec![
            "customer_upset".to_string(),
            "asked for a manager".to_string(),
            "third".to_string(),
        ];
        assert_eq!(
            summary_text(Some("Wanted a manager."), &reasons),
            ("Wanted a manager.".to_string(), true)
        );
        assert_eq!(
            summary_text(Some(" "), &reasons),
            ("Customer upset; Asked for a manager".to_string(), false)
        );
        assert_eq!(summary_text(None, &[]), (String::new(), false));
    }
}
