//! Which words of the transcript the analysis rests on: the quoted fragments of
//! its reasons and its `evidence` quotes, located with `domain::evidence` (the
//! same matching the worker used to keep only quotes that are in the
//! transcript), and the transcript cut into plain and highlighted pieces.

use domain::evidence::{find_span, quoted_fragments};
use serde_json::Value;

/// A quote the analysis gave, and the reason it came from (`None` for an
/// `evidence` item).
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub text: String,
    pub reason: Option<usize>,
}

/// A piece of one transcript text; `quote` is the index of the quote it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub text: String,
    pub quote: Option<usize>,
}

/// The quotes of the current analysis: each reason's quoted fragments in order,
/// then the `evidence` items of the stored analysis JSON.
pub fn quotes(reasons: &[String], analysis_text: Option<&str>) -> Vec<Quote> {
    let mut out: Vec<Quote> = reasons
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            quoted_fragments(r).into_iter().map(move |q| Quote {
                text: q.to_string(),
                reason: Some(i),
            })
        })
        .collect();
    let evidence = analysis_text
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| v.get("evidence").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    out.extend(evidence.iter().filter_map(Value::as_str).map(|q| Quote {
        text: q.to_string(),
        reason: None,
    }));
    out
}

/// The transcript texts (one per turn, or the plain transcript) cut into pieces,
/// and for every quote where it is highlighted: `(text index)`, or `None` when it
/// is not found (for instance a quote that spans two turns). A quote marks its
/// first occurrence in the first text that has it, unless an earlier quote
/// already covers that spot.
pub fn mark(texts: &[String], quotes: &[Quote]) -> (Vec<Vec<Piece>>, Vec<Option<usize>>) {
    let mut spans: Vec<Vec<(usize, usize, usize)>> = vec![vec![]; texts.len()];
    let mut found = Vec::with_capacity(quotes.len());
    for (qi, q) in quotes.iter().enumerate() {
        let hit = texts.iter().enumerate().find_map(|(ti, text)| {
            let (s, e) = find_span(text, &q.text)?;
            let overlaps = spans[ti].iter().any(|&(a, b, _)| s < b && a < e);
            (!overlaps).then_some((ti, s, e))
        });
        match hit {
            Some((ti, s, e)) => {
                spans[ti].push((s, e, qi));
                found.push(Some(ti));
            }
            None => found.push(None),
        }
    }
    let pieces = texts
        .iter()
        .zip(spans.iter_mut())
        .map(|(text, spans)| {
            spans.sort();
            let mut out = Vec::new();
            let mut at = 0;
            for &(s, e, qi) in spans.iter() {
                if s > at {
                    out.push(Piece {
                        text: text[at..s].to_string(),
                        quote: None,
                    });
                }
                out.push(Piece {
                    text: text[s..e].to_string(),
                    quote: Some(qi),
                });
                at = e;
            }
            if at < text.len() || out.is_empty() {
                out.push(Piece {
                    text: text[at..].to_string(),
                    quote: None,
                });
            }
            out
        })
        .collect();
    (pieces, found)
}

/// For each of `reasons` reasons, the first of its quotes that is highlighted
/// (what clicking the reason scrolls to), or `None`.
pub fn reason_targets(
    reasons: usize,
    quotes: &[Quote],
    found: &[Option<usize>],
) -> Vec<Option<usize>> {
    (0..reasons)
        .map(|r| {
            quotes
                .iter()
                .zip(found)
                .position(|(q, f)| q.reason == Some(r) && f.is_some())
        })
        .collect()
}

/// The element id of a quote's highlight.
pub fn quote_id(index: usize) -> String {
    format!("quote-{index}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn quotes_come_from_the_reasons_fragments_then_the_evidence() {
        let reasons = texts(&[
            "handoff failed: agent said \"nobody is available\"",
            "no quote here",
            "caller said \u{201C}talk to a manager\u{201D}",
        ]);
        let stored = r#"{"evidence": ["third time I call"], "verdict": "bad"}"#;
        let q = quotes(&reasons, Some(stored));
        assert_eq!(
            q,
            vec![
                Quote {
                    text: "nobody is available".into(),
                    reason: Some(0)
                },
                Quote {
                    text: "talk to a manager".into(),
                    reason: Some(2)
                },
                Quote {
                    text: "third time I call".into(),
                    reason: None
                },
            ]
        );
        assert_eq!(quotes(&reasons, Some("not json")).len(), 2);
    }

    #[test]
    fn a_found_quote_is_cut_out_of_its_turn_with_the_original_text() {
        let turns = texts(&[
            "Thanks for calling, how can I help?",
            "I want to talk to a MANAGER. This is ridiculous.",
        ]);
        let q = vec![
            Quote {
                text: "talk to a manager".into(),
                reason: Some(0),
            },
            Quote {
                text: "words nobody said".into(),
                reason: Some(1),
            },
        ];
        let (pieces, found) = mark(&turns, &q);
        assert_eq!(found, vec![Some(1), None]);
        assert_eq!(
            pieces[0],
            vec![Piece {
                text: turns[0].clone(),
                quote: None
            }]
        );
        assert_eq!(
            pieces[1],
            vec![
                Piece {
                    text: "I want to ".into(),
                    quote: None
                },
                Piece {
                    text: "talk to a MANAGER".into(),
                    quote: Some(0)
                },
                Piece {
                    text: ". This is ridiculous.".into(),
                    quote: None
                },
            ]
        );
        let joined: String = pieces[1].iter().map(|p| p.text.as_str()).collect();
        assert_eq!(joined, turns[1], "nothing is lost or repeated");
    }

    #[test]
    fn a_reason_points_at_its_first_highlighted_quote() {
        let q = vec![
            Quote {
                text: "a".into(),
                reason: Some(0),
            },
            Quote {
                text: "b".into(),
                reason: Some(0),
            },
            Quote {
                text: "c".into(),
                reason: None,
            },
            Quote {
                text: "d".into(),
                reason: Some(2),
            },
        ];
        let found = vec![None, Some(1), Some(0), None];
        assert_eq!(reason_targets(3, &q, &found), vec![Some(1), None, None]);
    }

    #[test]
    fn overlapping_quotes_mark_once_and_a_quote_at_the_end_leaves_no_empty_piece() {
        let t = texts(&["nobody is available right now"]);
        let q = vec![
            Quote {
                text: "available right now".into(),
                reason: None,
            },
            Quote {
                text: "is available".into(),
                reason: None,
            },
        ];
        let (pieces, found) = mark(&t, &q);
        assert_eq!(found, vec![Some(0), None]);
        assert_eq!(
            pieces[0],
            vec![
                Piece {
                    text: "nobody is ".into(),
                    quote: None
                },
                Piece {
                    text: "available right now".into(),
                    quote: Some(0)
                },
            ]
        );
        let (pieces, _) = mark(&texts(&[""]), &q);
        assert_eq!(
            pieces[0],
            vec![Piece {
                text: String::new(),
                quote: None
            }]
        );
    }
}
