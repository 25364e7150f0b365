//! Keeping your place in a list: opening a call remembers which row was selected
//! and how far the page was scrolled, per list URL, in this tab's sessionStorage;
//! coming back to that list (Back, or its link) selects the row again and scrolls
//! there once the rows have loaded. The router's own scroll restoration cannot: it
//! scrolls before the rows exist.

use crate::platform;

/// A row and the page's scroll position.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// `dealership/call_id` of the selected row.
    pub row: String,
    pub scroll_y: f64,
}

impl Place {
    fn to_storage(&self) -> String {
        format!("{}\n{}", self.scroll_y, self.row)
    }

    fn parse(text: &str) -> Option<Place> {
        let (y, row) = text.split_once('\n')?;
        Some(Place {
            row: row.to_string(),
            scroll_y: y.parse().ok().filter(|y: &f64| y.is_finite())?,
        })
    }
}

/// A row's key in a list.
pub fn row_key(dealership_id: &str, call_id: &str) -> String {
    format!("{dealership_id}/{call_id}")
}

fn storage_key(list_url: &str) -> String {
    format!("dcm.place.{list_url}")
}

/// Called when a call is opened from the list at `list_url`.
pub fn remember(list_url: &str, row: String) {
    let place = Place {
        row,
        scroll_y: platform::scroll_y(),
    };
    platform::session_set(&storage_key(list_url), &place.to_storage());
}

/// The place remembered for this list, forgotten once read (so only the return
/// from a call restores it, not every later visit).
pub fn take(list_url: &str) -> Option<Place> {
    let key = storage_key(list_url);
    let place = platform::session_get(&key).and_then(|t| Place::parse(&t));
    platform::session_remove(&key);
    place
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_reads_back_from_storage_and_junk_reads_as_none() {
        let place = Place {
            row: "toyota-braintree/call_1".into(),
            scroll_y: 1234.5,
        };
        assert_eq!(Place::parse(&place.to_storage()), Some(place));
        assert_eq!(Place::parse("nope"), None);
        assert_eq!(Place::parse("NaN\nx/y"), None);
    }

    #[test]
    fn a_call_id_with_a_slash_or_newline_free_text_keeps_its_row_key() {
        let place = Place {
            row: row_key("d", "a/b"),
            scroll_y: 0.0,
        };
        assert_eq!(Place::parse(&place.to_storage()).unwrap().row, "d/a/b");
    }
}
