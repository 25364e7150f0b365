//! The one codec for the dashboard's own query strings (the URL state of every
//! screen), built on the `percent-encoding` and `form_urlencoded` crates.
//!
//! The router writes a route's query as our `Display` gives it (escaping only
//! spaces, quotes, `#`, `<`, `>` and controls) and, reading an address, percent-decodes
//! the *whole* query once before handing it to our `parse`. So a value is written
//! with its syntax characters (`%`, `&`, `=`, `+`, `#`) escaped twice (`&` is
//! `%2526`): after the router's decode they are still `%26`, and `form_urlencoded`
//! reads them back. Everything else is written once or not at all (`"oil change"`
//! shows as `%22oil+change%22` in the address bar), so a search is not
//! double-encoded. Non-ASCII text is written as UTF-8 escapes, once.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// What would be read as query syntax after the router's decode.
const SYNTAX: &AsciiSet = &CONTROLS.add(b'%').add(b'&').add(b'=').add(b'+').add(b'#');

/// One value for a route's query string.
pub fn encode(value: &str) -> String {
    utf8_percent_encode(value, SYNTAX)
        .map(|chunk| match chunk.as_bytes() {
            // An escaped ASCII syntax character: escape its `%` too.
            [b'%', hi, _] if *hi < b'8' => format!("%25{}", &chunk[1..]),
            // Spaces as `+`, as forms write them; a real `+` is escaped above.
            _ => chunk.replace(' ', "+"),
        })
        .collect()
}

/// `key=value&…` (without `?`) from pairs; values go through [`encode`].
pub fn write<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={}", encode(&v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The pairs of a (router-decoded) query string; `+` is a space, as in every form
/// link, and malformed escapes are kept as written.
pub fn pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// What the router does between writing and reading a URL: escapes what its
    /// query set escapes, then percent-decodes the whole query once.
    pub fn through_router(written: &str) -> String {
        const QUERY: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>');
        let in_address_bar = utf8_percent_encode(written, QUERY).to_string();
        percent_encoding::percent_decode_str(&in_address_bar)
            .decode_utf8()
            .unwrap()
            .into_owned()
    }

    #[test]
    fn every_value_survives_the_router_unchanged() {
        for value in [
            "oil change",
            "\"oil change\" -tire",
            "a&b=c",
            "1+1",
            "100%",
            "100%25",
            "#1",
            "café",
            "x,y:z",
        ] {
            let written = write([("q", value.to_string()), ("d", "toyota".to_string())]);
            let read = pairs(&through_router(&written));
            assert_eq!(
                read,
                vec![("q".into(), value.into()), ("d".into(), "toyota".into())],
                "{value:?} written as {written}"
            );
        }
    }

    #[test]
    fn a_search_is_written_once_not_double_encoded() {
        assert_eq!(encode("\"oil change\" -tire"), "\"oil+change\"+-tire");
        assert_eq!(encode("café"), "caf%C3%A9");
        // Only the query's own syntax is escaped twice.
        assert_eq!(encode("a&b"), "a%2526b");
    }

    #[test]
    fn old_links_with_plus_for_space_and_malformed_escapes_still_read() {
        assert_eq!(
            pairs("q=oil+change"),
            vec![("q".into(), "oil change".into())]
        );
        assert_eq!(pairs("q=a%zzb"), vec![("q".into(), "a%zzb".into())]);
        assert_eq!(
            pairs("?d=x&bare"),
            vec![("d".into(), "x".into()), ("bare".into(), "".into())]
        );
    }
}
