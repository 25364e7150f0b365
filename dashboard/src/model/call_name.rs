//! How a confirmation names a call: by who called and when, as the row beside it
//! shows them, never by Retell's raw call id. Pure and host-tested.

/// "the call from Dana Reyes at Dec 3, 3:05 PM EST"; without a name, the masked
/// number ("the call from ••• 0142 at …"); with neither, "the call at …".
/// `when` is already formatted in the screen's zone.
pub fn call_name(customer: Option<&str>, phone: Option<&str>, when: Option<&str>) -> String {
    let who = [customer, phone]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty());
    match (who, when) {
        (Some(who), Some(when)) => format!("the call from {who} at {when}"),
        (Some(who), None) => format!("the call from {who}"),
        (None, Some(when)) => format!("the call at {when}"),
        (None, None) => "the call".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_named_by_customer_then_number_then_time_alone() {
        assert_eq!(
            call_name(Some("Dana Reyes"), Some("••• 0142"), Some("3:05 PM EST")),
            "the call from Dana Reyes at 3:05 PM EST"
        );
        assert_eq!(
            call_name(Some("  "), Some("••• 0142"), Some("3:05 PM EST")),
            "the call from ••• 0142 at 3:05 PM EST"
        );
        assert_eq!(
            call_name(None, None, Some("3:05 PM EST")),
            "the call at 3:05 PM EST"
        );
        assert_eq!(call_name(Some("Dana"), None, None), "the call from Dana");
        assert_eq!(call_name(None, None, None), "the call");
    }
}
