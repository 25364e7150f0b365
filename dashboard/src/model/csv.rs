//! Formula-safe CSV files. A spreadsheet runs a cell that starts with `=`, `+`, `-`,
//! `@`, a tab or a carriage return as a formula, so a review note
//! `=HYPERLINK("http://…","x")` or a sender's call id would be live in Excel.
//!
//! The dashboard writes no CSV itself: both exports are PostgREST's `Accept:
//! text/csv` rendering of a view (`calls_export`, `review_queue_export`), and those
//! views already quote such cells (`private.csv_safe`, migration
//! 20261202000700). [`neutralise`] applies the same rule once more to the text the
//! browser is about to save, so a file stays safe even if an export is pointed at a
//! view or column that lacks it. Every CSV download goes through it
//! (`Api::get_csv`). Applying it to a file that is already safe changes nothing.
//!
//! PostgREST writes the header as the column names joined by `,`, then one line per
//! row in Postgres' record text: a value with a comma, quote, backslash, parenthesis
//! or whitespace (so also a tab or CR) is double-quoted with `"` and `\` doubled
//! inside; null is an empty cell, an empty string is `""`. Only the first character of
//! each cell is looked at, so the rest of the file is copied byte for byte.

/// The characters that make a spreadsheet read a cell as a formula (OWASP); the
/// same list as `private.csv_safe`.
const FORMULA_START: [u8; 6] = [b'=', b'+', b'-', b'@', b'\t', b'\r'];

fn starts_formula(byte: u8) -> bool {
    FORMULA_START.contains(&byte)
}

fn line_end_at(bytes: &[u8], i: usize) -> bool {
    bytes.get(i) == Some(&b'\n')
        || (bytes.get(i) == Some(&b'\r') && bytes.get(i + 1) == Some(&b'\n'))
}

/// Where the cell starting at `i` ends: at its `,`, line end or the end of the text.
fn cell_end(bytes: &[u8], mut i: usize) -> usize {
    if bytes.get(i) == Some(&b'"') {
        i += 1;
        // Up to the closing quote; `""` inside is a quote.
        while i < bytes.len() {
            if bytes[i] == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 2;
                    continue;
                }
                i += 1;
                break;
            }
            i += 1;
        }
    }
    while i < bytes.len() && bytes[i] != b',' && !line_end_at(bytes, i) {
        i += 1;
    }
    i
}

/// PostgREST's CSV with a single quote put in front of every cell that would start a
/// formula, except in the header and in the `numeric` columns (named as in the
/// header): a number such as `-5` must stay a number. Everything else is unchanged.
pub fn neutralise(csv: &str, numeric: &[&str]) -> String {
    let bytes = csv.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len() + 16);
    let mut header: Vec<String> = Vec::new();
    let (mut row, mut col, mut i) = (0usize, 0usize, 0usize);
    loop {
        let end = cell_end(bytes, i);
        let cell = &bytes[i..end];
        let quoted = cell.first() == Some(&b'"');
        let first = if quoted { cell.get(1) } else { cell.first() };
        let guarded = row > 0
            && !header
                .get(col)
                .is_some_and(|name| numeric.contains(&name.as_str()));
        if guarded && first.is_some_and(|b| starts_formula(*b)) {
            let at = usize::from(quoted);
            out.extend_from_slice(&cell[..at]);
            out.push(b'\'');
            out.extend_from_slice(&cell[at..]);
        } else {
            out.extend_from_slice(cell);
        }
        if row == 0 {
            let name = String::from_utf8_lossy(cell);
            header.push(name.trim_matches('"').replace("\"\"", "\""));
        }
        // The separator after the cell.
        i = end;
        match bytes.get(i) {
            Some(b',') => {
                out.push(b',');
                col += 1;
                i += 1;
            }
            Some(b'\r') => {
                out.extend_from_slice(b"\r\n");
                (row, col) = (row + 1, 0);
                i += 2;
            }
            Some(_) => {
                out.push(b'\n');
                (row, col) = (row + 1, 0);
                i += 1;
            }
            None => break,
        }
    }
    // Only ASCII quotes were added, each before a cell: still UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| csv.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_cells_are_unchanged_and_quoting_twice_changes_nothing() {
        // As PostgREST writes them: quoted when they hold a space, comma or newline.
        for cell in [
            "\"Toyota of Braintree\"",
            "a=b",
            "\" =1\"",
            "\"\"",
            "'=1",
            "\"x\n=1\"",
            "12",
        ] {
            let csv = format!("notes\n{cell}\n");
            assert_eq!(neutralise(&csv, &[]), csv, "{cell:?}");
        }
        let once = neutralise("notes\n=1\n", &[]);
        assert_eq!(once, "notes\n'=1\n");
        assert_eq!(neutralise(&once, &[]), once);
    }

    #[test]
    fn postgrest_csv_gets_its_formula_cells_quoted_in_text_columns_only() {
        let csv = "call_id,score,notes,flags\n\
                   =cmd,-5,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",\"{a,b}\"\n\
                   plain,90,\"Called back, all fine\",{}";
        assert_eq!(
            neutralise(csv, &["score"]),
            "call_id,score,notes,flags\n\
             '=cmd,-5,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",\"{a,b}\"\n\
             plain,90,\"Called back, all fine\",{}"
        );
    }

    #[test]
    fn every_formula_character_is_caught_quoted_or_not() {
        let csv = "a,b,c,d,e,f\n=1,+1,-x,@x,\"\tx\",\"\rx\"\n";
        assert_eq!(
            neutralise(csv, &[]),
            "a,b,c,d,e,f\n'=1,'+1,'-x,'@x,\"'\tx\",\"'\rx\"\n"
        );
    }

    #[test]
    fn a_negative_number_stays_a_number_in_a_numeric_column_but_not_in_a_text_one() {
        let csv = "call_id,score,age_hours\n-42,-5,-0.5\n";
        assert_eq!(
            neutralise(csv, &["score", "age_hours"]),
            "call_id,score,age_hours\n'-42,-5,-0.5\n"
        );
    }

    #[test]
    fn empty_and_null_cells_multi_line_notes_and_backslashes_are_copied_exactly() {
        // Null is an empty cell, an empty string is "", a backslash is doubled inside
        // quotes, and a note may span lines: only a cell's first character counts.
        let csv = "id,notes,other\n\
                   1,,\"\"\n\
                   2,\"line one\n=not a cell start\",\"a\\\\b\"\"\"\n\
                   3,\"\"\"=quoted\"\"\",x\n";
        assert_eq!(neutralise(csv, &["id"]), csv);
    }

    #[test]
    fn a_file_the_views_already_made_safe_is_unchanged() {
        let csv = "dealership,call_id,reasons\n\"Honda of Quincy\",'=cmd,\"'@x; second reason\"\n";
        assert_eq!(neutralise(csv, &[]), csv);
    }

    #[test]
    fn the_header_is_never_changed_and_crlf_lines_are_understood() {
        let csv = "-odd header,score\r\n=x,-1\r\n,\r\n";
        assert_eq!(
            neutralise(csv, &["score"]),
            "-odd header,score\r\n'=x,-1\r\n,\r\n"
        );
    }

    #[test]
    fn an_empty_answer_stays_empty() {
        assert_eq!(neutralise("", &[]), "");
        assert_eq!(neutralise("\n", &[]), "\n");
        assert_eq!(neutralise("call_id,score\n", &["score"]), "call_id,score\n");
    }

    #[test]
    fn text_outside_ascii_is_kept() {
        let csv = "name,notes\nJosé,\"=Zoë «x»\"\n";
        assert_eq!(neutralise(csv, &[]), "name,notes\nJosé,\"'=Zoë «x»\"\n");
    }
}
