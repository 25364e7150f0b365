//! Transcript parsing and phrase matching, shared by every rule: turns by
//! speaker, tokens that ignore punctuation and case, word patterns, and quotes
//! of the sentence a rule matched.

/// Quotes in reasons are cut to this many characters.
const MAX_QUOTE_CHARS: usize = 140;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Speaker {
    /// The AI agent.
    Agent,
    /// A person at the dealership, once a transfer connected (`Staff:`,
    /// `Transfer_target:`, `Advisor:`...). Counts as the dealership's side.
    Staff,
    User,
}

#[derive(Debug, Clone)]
pub(super) struct Turn {
    pub speaker: Speaker,
    pub text: String,
    pub tokens: Vec<String>,
}

pub(super) fn parse_turns(transcript: &str) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for line in transcript.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let labelled = line.split_once(':').and_then(|(label, rest)| {
            let speaker = match label.trim().to_lowercase().as_str() {
                "agent" | "assistant" | "bot" | "ai" => Speaker::Agent,
                "transfer_target" | "staff" | "human" | "advisor" | "receptionist"
                | "technician" | "representative" | "rep" => Speaker::Staff,
                "user" | "customer" | "caller" => Speaker::User,
                _ => return None,
            };
            Some((speaker, rest.trim()))
        });
        match (labelled, turns.last_mut()) {
            (Some((speaker, rest)), _) => turns.push(Turn {
                speaker,
                text: rest.to_string(),
                tokens: tokenize(rest),
            }),
            // An unlabelled line continues the previous turn (wrapped text).
            (None, Some(last)) => {
                last.text.push(' ');
                last.text.push_str(line);
                last.tokens = tokenize(&last.text);
            }
            (None, None) => turns.push(Turn {
                speaker: Speaker::User,
                text: line.to_string(),
                tokens: tokenize(line),
            }),
        }
    }
    turns
}

/// Lower-cased words with punctuation removed, `a.m.` folded to `am`, and
/// `10am` split into `10 am`, so phrases match however the ASR punctuated them.
pub(super) fn tokenize(text: &str) -> Vec<String> {
    let lower = text
        .to_lowercase()
        .replace(['\u{2019}', '\u{2018}'], "'")
        .replace("a.m.", " am ")
        .replace("p.m.", " pm ");
    let chars: Vec<char> = lower.chars().collect();
    let mut cleaned = String::with_capacity(lower.len());
    for (i, c) in chars.iter().enumerate() {
        let keep = c.is_alphanumeric()
            || matches!(c, '\'' | ':' | '/' | '$')
            || (*c == '.'
                && i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit()));
        cleaned.push(if keep { *c } else { ' ' });
    }
    let mut tokens = Vec::new();
    for raw in cleaned.split_whitespace() {
        let t = raw.trim_matches(|c| c == '\'' || c == ':');
        if t.is_empty() {
            continue;
        }
        // "10am", "8:30pm" -> "10" "am"
        if let Some(num) = t.strip_suffix("am").or_else(|| t.strip_suffix("pm")) {
            if !num.is_empty() && num.chars().all(|c| c.is_ascii_digit() || c == ':') {
                tokens.push(num.to_string());
                tokens.push(t[num.len()..].to_string());
                continue;
            }
        }
        tokens.push(t.to_string());
    }
    tokens
}

/// Finds `pattern` (space-separated words; `?` matches any one word, a trailing
/// `*` matches a word prefix) in `tokens`; returns the start index.
pub(super) fn find(tokens: &[String], pattern: &str) -> Option<usize> {
    let pat: Vec<&str> = pattern.split_whitespace().collect();
    if pat.is_empty() || tokens.len() < pat.len() {
        return None;
    }
    (0..=tokens.len() - pat.len()).find(|&start| {
        pat.iter().enumerate().all(|(i, p)| {
            let t = tokens[start + i].as_str();
            match (*p, p.strip_suffix('*')) {
                ("?", _) => true,
                (_, Some(prefix)) => t.starts_with(prefix),
                (exact, None) => t == exact,
            }
        })
    })
}

pub(super) fn find_any<'p>(tokens: &[String], patterns: &[&'p str]) -> Option<&'p str> {
    patterns.iter().copied().find(|p| find(tokens, p).is_some())
}

/// The sentence of `turn` in which `pattern` occurs, for quoting in a reason.
pub(super) fn quote(turn: &Turn, pattern: &str) -> String {
    let mut sentences = Vec::new();
    let mut current = String::new();
    for c in turn.text.chars() {
        current.push(c);
        if matches!(c, '.' | '!' | '?') {
            sentences.push(std::mem::take(&mut current));
        }
    }
    sentences.push(current);
    let chosen = sentences
        .iter()
        .map(|s| s.trim())
        .find(|s| !s.is_empty() && find(&tokenize(s), pattern).is_some())
        .unwrap_or(turn.text.as_str());
    cap(chosen)
}

pub(super) fn cap(s: &str) -> String {
    if s.chars().count() <= MAX_QUOTE_CHARS {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX_QUOTE_CHARS).collect();
        format!("{cut}…")
    }
}

pub(super) fn user_turns(turns: &[Turn]) -> impl Iterator<Item = (usize, &Turn)> {
    turns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.speaker == Speaker::User)
}

pub(super) fn agent_turns(turns: &[Turn]) -> impl Iterator<Item = (usize, &Turn)> {
    turns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.speaker != Speaker::User)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_fold_punctuation_and_clock_times() {
        assert_eq!(
            tokenize("Done, Wednesday at 1 P.M.! See you at 8:30am."),
            vec![
                "done",
                "wednesday",
                "at",
                "1",
                "pm",
                "see",
                "you",
                "at",
                "8:30",
                "am"
            ]
        );
        assert_eq!(tokenize("It's $89.95."), vec!["it's", "$89.95"]);
    }

    #[test]
    fn patterns_match_words_wildcards_and_prefixes() {
        let tokens = tokenize("I want to bring my truck in, I'm frustrated");
        assert_eq!(find(&tokens, "bring my ? in"), Some(3));
        assert!(find(&tokens, "frustrat*").is_some());
        assert!(find(&tokens, "bring it in").is_none());
    }

    #[test]
    fn unlabelled_lines_continue_the_previous_turn() {
        let turns = parse_turns("Agent: Hello,\nhow can I help?\nCaller: Hi");
        assert_eq!(turns.len(), 2);
        assert_eq!(turns[0].text, "Hello, how can I help?");
        assert_eq!(turns[1].speaker, Speaker::User);
    }
}
