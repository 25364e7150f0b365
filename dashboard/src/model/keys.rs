//! When a key press is a shortcut. The lists and the review panel take single
//! letters (`j`, `r`, `s`, …); while the user types in a text field, picks in a
//! select or works in a dialog those letters are text, never commands. Pure and
//! host-tested; `platform::focus_target` reads the focused element in the browser.

/// The element that has the keyboard focus.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FocusTarget {
    /// Lower-case tag name (`input`, `textarea`, `div`, …); empty when nothing has focus.
    pub tag: String,
    /// `contenteditable`.
    pub editable: bool,
    /// Inside a `dialog` or an element with `role=dialog` / `alertdialog`.
    pub in_dialog: bool,
}

impl FocusTarget {
    /// Whether single-key shortcuts may act: never while a text field, a select or
    /// a dialog has the focus.
    pub fn allows_shortcuts(&self) -> bool {
        !(self.editable
            || self.in_dialog
            || matches!(self.tag.as_str(), "input" | "textarea" | "select"))
    }

    /// Whether Enter may open the selected row: not when it is already pressing a
    /// focused button or following a focused link.
    pub fn allows_enter(&self) -> bool {
        self.allows_shortcuts() && !matches!(self.tag.as_str(), "button" | "a" | "summary")
    }
}

#[cfg(test)]
mod tests {
    use super::FocusTarget;

    fn on(tag: &str) -> FocusTarget {
        FocusTarget {
            tag: tag.into(),
            ..FocusTarget::default()
        }
    }

    #[test]
    fn shortcuts_never_fire_in_a_text_field_a_select_or_a_dialog() {
        for tag in ["input", "textarea", "select"] {
            assert!(!on(tag).allows_shortcuts(), "{tag}");
        }
        let editable = FocusTarget {
            editable: true,
            ..on("div")
        };
        assert!(!editable.allows_shortcuts());
        let dialog_button = FocusTarget {
            in_dialog: true,
            ..on("button")
        };
        assert!(!dialog_button.allows_shortcuts());
    }

    #[test]
    fn shortcuts_fire_on_the_list_its_buttons_and_the_page() {
        for tag in ["div", "section", "button", "a", "body", ""] {
            assert!(on(tag).allows_shortcuts(), "{tag}");
        }
    }

    #[test]
    fn enter_on_a_focused_button_or_link_presses_it_rather_than_opening_the_row() {
        assert!(on("div").allows_enter());
        assert!(!on("button").allows_enter());
        assert!(!on("a").allows_enter());
        assert!(!on("textarea").allows_enter());
    }
}
