//! The offline analyzer: deterministic rules over the transcript, used when no
//! OpenAI key is configured so the stack works with no key and no network.
//!
//! It produces the same analysis object as the LLM (verdict, score, reasons,
//! flags, action, confidence) and is labelled `model = "heuristic-v1"`. Each rule
//! looks for phrasings that are common in dealership calls; every reason quotes
//! the sentence that triggered it so a reviewer can check the rule's judgement.
//! What the rules can and cannot see is documented in docs/analysis.md, with
//! their measured agreement on the labelled set in `tests/fixtures`.

use std::collections::BTreeSet;
use std::time::Instant;

use domain::analysis::{Analysis, Flag, RecommendedAction, Verdict};

use super::{AnalyzerOutput, CallContext};

/// Stored in `call_analyses.model`; the dashboard shows it.
pub const MODEL: &str = "heuristic-v1";
/// Stored in `call_analyses.prompt_version`: bump it when a rule changes.
pub const RULES_VERSION: &str = "rules-v1";

/// Calls shorter than this (when the duration is known) count as abandoned.
const ABANDONED_MAX_SECS: i32 = 15;
/// A caller who said fewer meaningful words than this was not helped.
const ABANDONED_MAX_USER_WORDS: usize = 4;
/// Quotes in reasons are cut to this many characters.
const MAX_QUOTE_CHARS: usize = 140;

/// Score bands shared with the LLM prompt.
pub const GOOD_MIN: u8 = 75;
pub const NEEDS_REVIEW_MIN: u8 = 40;

/// The rules-based analyzer. Stateless: everything it needs is in the call.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeuristicAnalyzer;

/// The parts of a call the rules read.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeuristicInput<'a> {
    pub transcript: &'a str,
    pub duration_sec: Option<i32>,
    /// Retell's `disconnection_reason` (`voicemail_reached`, `call_transfer`...).
    pub disconnection_reason: Option<&'a str>,
    /// Retell's `call_analysis.in_voicemail`.
    pub in_voicemail: Option<bool>,
}

impl HeuristicAnalyzer {
    pub fn analyze(&self, call: &CallContext) -> AnalyzerOutput {
        let started = Instant::now();
        let in_voicemail = call
            .retell_analysis
            .as_ref()
            .and_then(|r| r.get("in_voicemail"))
            .and_then(|v| v.as_bool());
        let analysis = analyze(&HeuristicInput {
            transcript: &call.transcript,
            duration_sec: call.duration_sec,
            disconnection_reason: call.disconnection_reason.as_deref(),
            in_voicemail,
        });
        AnalyzerOutput {
            analysis,
            model: MODEL.to_string(),
            prompt_version: RULES_VERSION.to_string(),
            latency_ms: Some(i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX)),
            prompt_tokens: None,
            completion_tokens: None,
            raw_response: None,
            transcript_truncated: false,
        }
    }
}

/// Judges one call. Pure and deterministic: the same input always gives the
/// same analysis.
pub fn analyze(input: &HeuristicInput<'_>) -> Analysis {
    let turns = parse_turns(input.transcript);
    let mut findings: Vec<Finding> = Vec::new();

    let voicemail = detect_voicemail(&turns, input);
    let voicemail_found = voicemail.is_some();
    findings.extend(voicemail);
    if !voicemail_found {
        findings.extend(detect_abandoned(&turns, input));
        findings.extend(detect_upset(&turns));
        if input.disconnection_reason != Some("call_transfer") {
            findings.extend(detect_handoff_failed(&turns));
        }
        let booking = detect_booking(&turns);
        findings.extend(booking.finding);
        findings.extend(detect_wrong_readback(&turns));
        return finish(findings, booking.confirmed_quote);
    }
    finish(findings, None)
}

/// One rule's verdict on the call.
#[derive(Debug, Clone)]
struct Finding {
    flag: Flag,
    /// Points taken off the starting score of 90.
    penalty: u8,
    reason: String,
}

fn finish(findings: Vec<Finding>, confirmed_quote: Option<String>) -> Analysis {
    let mut flags = BTreeSet::new();
    let mut score: i32 = 90;
    let mut reasons = Vec::new();
    for f in findings {
        // One flag may be found by two rules (e.g. a short call that is also
        // silent); it counts once.
        if flags.insert(f.flag) {
            score -= i32::from(f.penalty);
            reasons.push(f.reason);
        }
    }
    let score = score.clamp(0, 100) as u8;
    let verdict = verdict_for(score);
    if reasons.is_empty() {
        reasons.push("no problem found by the offline rules".to_string());
        if let Some(q) = confirmed_quote {
            reasons.push(format!("appointment read back to the caller: \"{q}\""));
        }
    }
    Analysis {
        verdict,
        score: Some(score),
        reasons,
        flags: flags.into_iter().collect(),
        recommended_action: if verdict == Verdict::Good {
            RecommendedAction::None
        } else {
            RecommendedAction::HumanFollowUp
        },
        // Keyword rules are evidence, not understanding: a clean call is only
        // "probably fine", a matched phrase is somewhat stronger.
        confidence: if verdict == Verdict::Good { 0.6 } else { 0.7 },
    }
}

/// The score bands, identical to the ones the LLM is given.
pub fn verdict_for(score: u8) -> Verdict {
    if score >= GOOD_MIN {
        Verdict::Good
    } else if score >= NEEDS_REVIEW_MIN {
        Verdict::NeedsReview
    } else {
        Verdict::Bad
    }
}

// ---------------------------------------------------------------------------
// Transcript parsing and phrase matching
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Speaker {
    Agent,
    User,
}

#[derive(Debug, Clone)]
struct Turn {
    speaker: Speaker,
    text: String,
    tokens: Vec<String>,
}

fn parse_turns(transcript: &str) -> Vec<Turn> {
    let mut turns: Vec<Turn> = Vec::new();
    for line in transcript.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let labelled = line.split_once(':').and_then(|(label, rest)| {
            let speaker = match label.trim().to_lowercase().as_str() {
                "agent" | "assistant" | "bot" | "ai" | "transfer_target" | "staff" => {
                    Speaker::Agent
                }
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
fn tokenize(text: &str) -> Vec<String> {
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
fn find(tokens: &[String], pattern: &str) -> Option<usize> {
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

fn find_any<'p>(tokens: &[String], patterns: &[&'p str]) -> Option<&'p str> {
    patterns.iter().copied().find(|p| find(tokens, p).is_some())
}

/// The sentence of `turn` in which `pattern` occurs, for quoting in a reason.
fn quote(turn: &Turn, pattern: &str) -> String {
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

fn cap(s: &str) -> String {
    if s.chars().count() <= MAX_QUOTE_CHARS {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX_QUOTE_CHARS).collect();
        format!("{cut}…")
    }
}

fn user_turns(turns: &[Turn]) -> impl Iterator<Item = (usize, &Turn)> {
    turns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.speaker == Speaker::User)
}

fn agent_turns(turns: &[Turn]) -> impl Iterator<Item = (usize, &Turn)> {
    turns
        .iter()
        .enumerate()
        .filter(|(_, t)| t.speaker == Speaker::Agent)
}

// ---------------------------------------------------------------------------
// Voicemail
// ---------------------------------------------------------------------------

/// Phrases of voicemail greetings and carrier messages. Only the first thing
/// the "caller" side says is checked: a live caller may well mention a
/// voicemail later ("I left you a message").
const VOICEMAIL_GREETING: &[&str] = &[
    "leave a message",
    "leave your message",
    "leave me a message",
    "leave your name",
    "at the tone",
    "after the tone",
    "after the beep",
    "record your message",
    "mailbox is full",
    "mailbox has not been set up",
    "can't come to the phone",
    "cannot come to the phone",
    "person you are trying to reach",
    "you've reached",
    "you have reached",
    "not available to take your call",
    "sorry i missed you",
];

fn detect_voicemail(turns: &[Turn], input: &HeuristicInput<'_>) -> Option<Finding> {
    if input.disconnection_reason == Some("voicemail_reached") || input.in_voicemail == Some(true) {
        return Some(Finding {
            flag: Flag::Voicemail,
            penalty: 35,
            reason: "voicemail: the call system reported that the call reached voicemail"
                .to_string(),
        });
    }
    let (_, first_user) = user_turns(turns).next()?;
    let hit = find_any(&first_user.tokens, VOICEMAIL_GREETING)?;
    Some(Finding {
        flag: Flag::Voicemail,
        penalty: 35,
        reason: format!(
            "voicemail: the call was answered by a greeting: \"{}\"",
            quote(first_user, hit)
        ),
    })
}

// ---------------------------------------------------------------------------
// Abandoned / very short calls, and callers the agent could not serve
// ---------------------------------------------------------------------------

const FILLER_WORDS: &[&str] = &[
    "hello", "hi", "hey", "yeah", "yes", "yep", "uh", "um", "uhm", "hmm", "ok", "okay", "oh", "huh",
];

const WRONG_NUMBER: &[&str] = &[
    "wrong number",
    "misdialed",
    "dialed the wrong",
    "called the wrong",
    "wrong place",
];

/// Words that mark Spanish; two different ones in a turn make it Spanish.
const SPANISH_MARKERS: &[&str] = &[
    "hola",
    "habla",
    "hablan",
    "hable",
    "español",
    "espanol",
    "favor",
    "gracias",
    "necesito",
    "quiero",
    "buenos",
    "buenas",
    "días",
    "tardes",
    "usted",
    "cita",
    "llamo",
    "carro",
    "coche",
    "camioneta",
    "claro",
    "ayudar",
    "puedo",
    "alguien",
    "está",
    "bien",
    "momento",
    "ruido",
    "que",
];

fn spanish_words(tokens: &[String]) -> usize {
    let set: BTreeSet<&str> = tokens
        .iter()
        .map(String::as_str)
        .filter(|t| SPANISH_MARKERS.contains(t))
        .collect();
    set.len()
}

fn detect_abandoned(turns: &[Turn], input: &HeuristicInput<'_>) -> Option<Finding> {
    let abandoned = |reason: String| Finding {
        flag: Flag::AbandonedCall,
        penalty: 35,
        reason,
    };
    if user_turns(turns).any(|(_, t)| find_any(&t.tokens, WRONG_NUMBER).is_some()) {
        // A wrong number that was handled politely is not a lost caller.
        return None;
    }
    if let Some(d) = input.duration_sec.filter(|d| *d < ABANDONED_MAX_SECS) {
        return Some(abandoned(format!(
            "abandoned call: the call lasted only {d} s"
        )));
    }
    let meaningful: Vec<&str> = user_turns(turns)
        .flat_map(|(_, t)| t.tokens.iter().map(String::as_str))
        .filter(|w| !FILLER_WORDS.contains(w))
        .collect();
    if meaningful.len() < ABANDONED_MAX_USER_WORDS {
        let said = user_turns(turns)
            .map(|(_, t)| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        return Some(abandoned(if said.trim().is_empty() {
            "abandoned call: the caller never spoke".to_string()
        } else {
            format!(
                "abandoned call: the caller only said \"{}\" before the call ended",
                cap(said.trim())
            )
        }));
    }
    // A Spanish-speaking caller the agent never answered in Spanish was not
    // served, however long the call.
    let spanish_turn = user_turns(turns).find(|(_, t)| spanish_words(&t.tokens) >= 2);
    let agent_spoke_spanish = agent_turns(turns).any(|(_, t)| spanish_words(&t.tokens) >= 2);
    if let (Some((_, t)), false) = (spanish_turn, agent_spoke_spanish) {
        return Some(abandoned(format!(
            "abandoned call: the caller spoke Spanish (\"{}\") and the agent never switched language",
            cap(&t.text)
        )));
    }
    None
}

// ---------------------------------------------------------------------------
// Upset customer
// ---------------------------------------------------------------------------

/// Feelings; ignored when negated ("I'm not upset").
const UPSET_FEELINGS: &[&str] = &[
    "upset",
    "angry",
    "mad",
    "furious",
    "frustrat*",
    "annoy*",
    "disappoint*",
    "fed up",
    "unhappy",
];

/// Complaints, repeated calls and requests for a manager.
const UPSET_COMPLAINTS: &[&str] = &[
    "ridiculous",
    "unacceptable",
    "unbelievable",
    "terrible",
    "horrible",
    "awful",
    "worst",
    "useless",
    "pointless",
    "incompetent",
    "is this a joke",
    "what a joke",
    "waste of time",
    "waste of my time",
    "sick of",
    "tired of",
    "done waiting",
    "still waiting",
    "been waiting",
    "nobody calls me back",
    "nobody ever calls",
    "nobody called me back",
    "no one called me back",
    "no one calls me back",
    "nobody got back to me",
    "no one got back to me",
    "never called me back",
    "never got back to me",
    "nobody told me",
    "no one told me",
    "not what i asked",
    "are you kidding",
    "you people",
    "complaint",
    "ripped off",
    "rip off",
    "scam",
    "lied to me",
    "second time",
    "third time",
    "fourth time",
    "called twice",
    "twice today",
    "twice already",
    "called three times",
    "called several times",
    "i've called ? times",
    "keep calling",
    "had it with",
    "i've had it",
    "always say that",
    "i was promised",
    "you promised",
    "who is going to pay",
    "who's going to pay",
    "nobody said",
    "no one said",
    "a manager",
    "your manager",
    "the manager",
    "supervisor",
    "someone in charge",
];

/// Profanity and threats to leave: each is enough for a bad verdict.
const UPSET_STRONG: &[&str] = &[
    "damn*",
    "hell",
    "crap",
    "shit*",
    "bullshit",
    "fuck*",
    "wtf",
    "business elsewhere",
    "somewhere else",
    "go elsewhere",
    "going elsewhere",
    "another dealer*",
    "different dealer*",
    "never coming back",
    "never come back",
    "never buy*",
    "never again",
    "lawyer",
    "attorney",
    "sue you",
    "better business bureau",
    "bbb",
    "report you",
    "bad review",
    "one star",
    "1 star",
    "review everywhere",
    "yelp",
    "want my money back",
    "want my deposit back",
];

const NEGATIONS: &[&str] = &[
    "not", "never", "no", "isn't", "wasn't", "don't", "didn't", "aren't", "won't",
];

fn negated(tokens: &[String], at: usize) -> bool {
    tokens[at.saturating_sub(3)..at]
        .iter()
        .any(|t| NEGATIONS.contains(&t.as_str()))
}

fn detect_upset(turns: &[Turn]) -> Option<Finding> {
    let mut upset_turns: Vec<(usize, &str)> = Vec::new();
    let mut strong: Option<(usize, &str)> = None;
    for (i, t) in user_turns(turns) {
        if strong.is_none() {
            strong = find_any(&t.tokens, UPSET_STRONG).map(|p| (i, p));
        }
        let feeling = UPSET_FEELINGS
            .iter()
            .copied()
            .find(|p| find(&t.tokens, p).is_some_and(|at| !negated(&t.tokens, at)));
        let hit = strong
            .filter(|(si, _)| *si == i)
            .map(|(_, p)| p)
            .or(feeling)
            .or_else(|| find_any(&t.tokens, UPSET_COMPLAINTS));
        if let Some(p) = hit {
            upset_turns.push((i, p));
        }
    }
    let (first_i, first_p) = *upset_turns.first()?;
    // Frustration repeated across turns is sustained, not a passing remark.
    let sustained = upset_turns.len() >= 2;
    let (qi, qp) = strong.unwrap_or((first_i, first_p));
    let mut reason = format!("customer upset: caller said \"{}\"", quote(&turns[qi], qp));
    if let Some((si, sp)) = upset_turns.iter().find(|(i, _)| *i != qi) {
        reason.push_str(&format!(" and \"{}\"", quote(&turns[*si], sp)));
    }
    Some(Finding {
        flag: Flag::CustomerUpset,
        penalty: if strong.is_some() || sustained {
            55
        } else {
            25
        },
        reason,
    })
}

// ---------------------------------------------------------------------------
// Failed handoff
// ---------------------------------------------------------------------------

/// The caller asks for a person or department.
const TRANSFER_REQUEST: &[&str] = &[
    "transfer me",
    "put me through",
    "connect me",
    "real person",
    "a human",
    "live person",
    "live agent",
    "representative",
    "operator",
    "speak to a",
    "speak to an",
    "speak to the",
    "speak to your",
    "speak to someone",
    "speak to somebody",
    "speak with a",
    "speak with the",
    "speak with someone",
    "talk to a",
    "talk to an",
    "talk to the",
    "talk to your",
    "talk to someone",
    "talk to somebody",
    "talk to anyone",
    "talk to parts",
    "talk to service",
    "talk to sales",
    "talk with someone",
];

/// The agent says a transfer is happening.
const TRANSFER_PROMISE: &[&str] = &[
    "transfer you",
    "transferring you",
    "transfer your call",
    "connect you",
    "connecting you",
    "put you through",
    "putting you through",
    "patch you through",
    "get someone on the line",
];

/// After a promise (or a request), the agent says it did not work.
const TRANSFER_FAILURE: &[&str] = &[
    "not available",
    "isn't available",
    "unavailable",
    "no one",
    "nobody",
    "not answering",
    "isn't answering",
    "no answer",
    "didn't go through",
    "did not go through",
    "couldn't connect",
    "could not connect",
    "unable to connect",
    "unable to transfer",
    "can't transfer",
    "cannot transfer",
    "not able to transfer",
    "couldn't transfer",
    "could not transfer",
    "transfer failed",
    "busy",
    "take a message",
    "leave a message",
    "call back",
    "calling back",
    "try again",
    "reach anyone",
    "reach anybody",
    "reach someone",
    "couldn't reach",
    "could not reach",
    "able to reach",
    "pick up",
    "picked up",
    "picking up",
    "with another customer",
    "with customers",
    "stepped away",
    "gone for the day",
    "out of the office",
    "voicemail",
    "rang out",
];

/// Instead of transferring, the agent offers something else: the caller did
/// not get the person they asked for, but a follow-up was arranged.
const TRANSFER_ALTERNATIVE: &[&str] = &[
    "call you back",
    "give you a call",
    "take a message",
    "leave a message",
    "not available",
    "unavailable",
    "with customers",
    "with another customer",
    "are all busy",
    "all busy",
    "can't transfer",
    "cannot transfer",
    "unable to transfer",
    "not able to transfer",
];

/// The caller turns the offered transfer down.
const DECLINE: &[&str] = &["no", "nope", "no thanks", "that's okay", "don't bother"];

fn detect_handoff_failed(turns: &[Turn]) -> Option<Finding> {
    let handoff = |reason: String| Finding {
        flag: Flag::HandoffFailed,
        penalty: 55,
        reason,
    };
    // A promise followed by the agent saying it did not work.
    for (pi, promise) in agent_turns(turns) {
        let Some(pp) = find_any(&promise.tokens, TRANSFER_PROMISE) else {
            continue;
        };
        // The failure may be in the promise turn itself ("I'll transfer you,
        // but nobody is available") only after the promise words.
        let at = find(&promise.tokens, pp).unwrap_or(0);
        let later_in_turn = &promise.tokens[at..];
        if let Some(fp) = find_any(later_in_turn, TRANSFER_FAILURE) {
            return Some(handoff(format!(
                "handoff failed: agent said \"{}\"",
                quote(promise, fp)
            )));
        }
        for (_, after) in agent_turns(turns).filter(|(i, _)| *i > pi) {
            if let Some(fp) = find_any(&after.tokens, TRANSFER_FAILURE) {
                return Some(handoff(format!(
                    "handoff failed: agent promised \"{}\" then said \"{}\"",
                    quote(promise, pp),
                    quote(after, fp)
                )));
            }
        }
    }
    // A transfer that happened ends the AI's part of the call. If the AI is
    // still talking after its last promise (and the caller did not turn the
    // transfer down), the transfer did not go through.
    if let Some((pi, promise)) = agent_turns(turns)
        .filter(|(_, t)| find_any(&t.tokens, TRANSFER_PROMISE).is_some())
        .last()
    {
        let declined = user_turns(turns)
            .filter(|(i, _)| *i > pi)
            .any(|(_, t)| find_any(&t.tokens[..t.tokens.len().min(2)], DECLINE).is_some());
        if let (Some((_, after)), false) = (agent_turns(turns).find(|(i, _)| *i > pi), declined) {
            return Some(handoff(format!(
                "handoff failed: agent promised \"{}\" but the call went on with the agent: \"{}\"",
                quote(
                    promise,
                    find_any(&promise.tokens, TRANSFER_PROMISE).unwrap_or("")
                ),
                cap(after
                    .text
                    .split_inclusive(['.', '!', '?'])
                    .next()
                    .unwrap_or(&after.text)
                    .trim())
            )));
        }
    }
    // Requests the agent never acted on: repeated, or the call ended on one.
    let requests: Vec<(usize, &str)> = user_turns(turns)
        .filter_map(|(i, t)| find_any(&t.tokens, TRANSFER_REQUEST).map(|p| (i, p)))
        .collect();
    let (first_req, first_pat) = *requests.first()?;
    let promised_after = agent_turns(turns)
        .any(|(i, t)| i > first_req && find_any(&t.tokens, TRANSFER_PROMISE).is_some());
    if promised_after {
        return None;
    }
    let (last_req, last_pat) = *requests.last()?;
    // The agent offered a callback or a message instead of the person asked for.
    if let Some((_, alt, ap)) = agent_turns(turns)
        .filter(|(i, _)| *i > first_req)
        .find_map(|(i, t)| find_any(&t.tokens, TRANSFER_ALTERNATIVE).map(|p| (i, t, p)))
    {
        return Some(Finding {
            flag: Flag::HandoffFailed,
            penalty: 30,
            reason: format!(
                "handoff failed: caller asked \"{}\" and the agent offered instead \"{}\"",
                quote(&turns[first_req], first_pat),
                quote(alt, ap)
            ),
        });
    }
    let ended_on_request = last_req + 2 >= turns.len();
    if requests.len() >= 2 || ended_on_request {
        let how = if ended_on_request {
            "and the call ended without a transfer"
        } else {
            "more than once and was never transferred"
        };
        let (qi, qp) = if ended_on_request {
            (last_req, last_pat)
        } else {
            (first_req, first_pat)
        };
        return Some(handoff(format!(
            "handoff failed: caller asked \"{}\" {how}",
            quote(&turns[qi], qp)
        )));
    }
    None
}

// ---------------------------------------------------------------------------
// Appointments
// ---------------------------------------------------------------------------

/// The caller wants to book, move or confirm a visit.
const BOOKING_REQUEST: &[&str] = &[
    "appointment",
    "book",
    "booking",
    "schedule",
    "reschedule",
    "bring it in",
    "bring in",
    "bring my ? in",
    "bring the ? in",
    "bring her in",
    "bring him in",
    "bring it by",
    "drop it off",
    "drop off",
    "test drive",
    "set it up",
    "set up a time",
    "set up an appointment",
    "come in for",
    "get it in",
    "get my ? in",
    "get me in",
    "get the ? in",
    "can i come in",
    "when can i come in",
    "fit me in",
    "any openings",
    "an opening",
];

/// The agent offers to book; a "yes" right after makes it a booking.
const BOOKING_OFFER: &[&str] = &[
    "would you like to book",
    "would you like to schedule",
    "would you like to bring it in",
    "would you like to come in",
    "would you like to set up",
    "shall i book",
    "should i book",
    "want me to book",
    "can i book",
    "like me to book",
    "like me to schedule",
    "help you book",
    "help you schedule",
    "get you booked",
    "get you scheduled",
];

/// Agent phrases that start a booking by themselves (no "yes" needed).
const BOOKING_ENGAGED: &[&str] = &[
    "help you book",
    "help you schedule",
    "get you booked",
    "get you scheduled",
];

/// The visit needs no appointment: no read-back is owed.
const NO_APPOINTMENT_NEEDED: &[&str] = &[
    "no appointment needed",
    "no appointment necessary",
    "don't need an appointment",
    "do not need an appointment",
    "walk in",
];

/// The agent says a booking was made.
const BOOKING_MADE: &[&str] = &[
    "you're booked",
    "you are booked",
    "i've booked",
    "i booked",
    "booked you",
    "all set for",
    "i've scheduled",
    "scheduled your",
    "put you down",
    "have you down",
    "appointment is confirmed",
    "you're confirmed",
    "got you scheduled",
    "got you booked",
    "have you scheduled",
    "have you booked",
    "you're scheduled",
    "you are scheduled",
    "got you down",
];

const AFFIRMATIVE: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "sure",
    "ok",
    "okay",
    "please",
    "absolutely",
    "definitely",
    "sounds good",
    "that works",
];

/// The caller chooses not to book now: no confirmation was owed.
const BOOKING_DEFERRED: &[&str] = &[
    "call back",
    "call you back",
    "i'll call",
    "check my schedule",
    "check my calendar",
    "check my work schedule",
    "not right now",
    "no thanks",
    "no thank you",
    "think about it",
    "maybe later",
    "i'll let you know",
    "book online",
    "do it online",
    "another time",
];

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

fn weekday(token: &str) -> Option<&'static str> {
    let t = token.strip_suffix('s').unwrap_or(token);
    WEEKDAYS.iter().copied().find(|d| *d == t)
}

fn is_ordinal(token: &str) -> bool {
    let digits: String = token.chars().take_while(|c| c.is_ascii_digit()).collect();
    let suffix = &token[digits.len()..];
    !digits.is_empty() && digits.len() <= 2 && matches!(suffix, "st" | "nd" | "rd" | "th")
}

fn has_day(tokens: &[String]) -> bool {
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

fn has_time(tokens: &[String]) -> bool {
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

struct BookingResult {
    finding: Option<Finding>,
    confirmed_quote: Option<String>,
}

fn detect_booking(turns: &[Turn]) -> BookingResult {
    let none = BookingResult {
        finding: None,
        confirmed_quote: None,
    };
    // Where booking intent starts: the caller asks, the caller accepts an
    // offer, or the agent says it booked something.
    let mut intent: Option<(usize, String)> = None;
    for (i, t) in turns.iter().enumerate() {
        let hit = match t.speaker {
            Speaker::User => find_any(&t.tokens, BOOKING_REQUEST)
                .map(|p| format!("caller said \"{}\"", quote(t, p))),
            Speaker::Agent => {
                let accepted = find_any(&t.tokens, BOOKING_OFFER).filter(|_| {
                    turns[i + 1..]
                        .iter()
                        .find(|n| n.speaker == Speaker::User)
                        .is_some_and(|n| {
                            let head = &n.tokens[..n.tokens.len().min(3)];
                            find_any(head, AFFIRMATIVE).is_some()
                        })
                });
                let engaged = find_any(&t.tokens, BOOKING_ENGAGED);
                accepted
                    .map(|p| format!("caller accepted \"{}\"", quote(t, p)))
                    .or_else(|| engaged.map(|p| format!("agent said \"{}\"", quote(t, p))))
                    .or_else(|| {
                        find_any(&t.tokens, BOOKING_MADE)
                            .map(|p| format!("agent said \"{}\"", quote(t, p)))
                    })
            }
        };
        if let Some(h) = hit {
            intent = Some((i, h));
            break;
        }
    }
    let Some((start, why)) = intent else {
        return none;
    };
    if agent_turns(turns).any(|(_, t)| find_any(&t.tokens, NO_APPOINTMENT_NEEDED).is_some()) {
        return none;
    }
    if let Some((_, readback)) = agent_turns(turns)
        .filter(|(i, _)| *i >= start)
        .find(|(_, t)| has_day(&t.tokens) && has_time(&t.tokens))
    {
        return BookingResult {
            finding: None,
            confirmed_quote: Some(cap(&readback.text)),
        };
    }
    let booked = agent_turns(turns)
        .filter(|(i, _)| *i >= start)
        .find_map(|(_, t)| find_any(&t.tokens, BOOKING_MADE).map(|p| (t, p)));
    if booked.is_none()
        && user_turns(turns)
            .filter(|(i, _)| *i >= start)
            .any(|(_, t)| find_any(&t.tokens, BOOKING_DEFERRED).is_some())
    {
        return none;
    }
    let detail = match booked {
        Some((t, p)) => format!("; the agent only said \"{}\"", quote(t, p)),
        None => "; no day and time were read back".to_string(),
    };
    BookingResult {
        finding: Some(Finding {
            flag: Flag::MissedAppointmentConfirmation,
            penalty: 30,
            reason: format!("missed appointment confirmation: {why}{detail}"),
        }),
        confirmed_quote: None,
    }
}

/// The one hallucination the rules can see: the final booking read-back names
/// a weekday that nobody mentioned before, while the caller had asked for a
/// different one. Invented prices, statuses or policies need the LLM.
fn detect_wrong_readback(turns: &[Turn]) -> Option<Finding> {
    let (ci, confirm) = agent_turns(turns)
        .filter(|(_, t)| {
            find_any(&t.tokens, BOOKING_MADE).is_some()
                && t.tokens.iter().any(|w| weekday(w).is_some())
        })
        .last()?;
    let earlier = &turns[..ci];
    let mentioned: BTreeSet<&str> = earlier
        .iter()
        .flat_map(|t| t.tokens.iter().filter_map(|w| weekday(w)))
        .collect();
    let asked: Vec<&str> = earlier
        .iter()
        .filter(|t| t.speaker == Speaker::User)
        .flat_map(|t| t.tokens.iter().filter_map(|w| weekday(w)))
        .collect();
    let booked_day = confirm
        .tokens
        .iter()
        .filter_map(|w| weekday(w))
        .find(|d| !mentioned.contains(d))?;
    let asked_day = asked.iter().copied().find(|d| *d != booked_day)?;
    Some(Finding {
        flag: Flag::HallucinatedInformation,
        penalty: 55,
        reason: format!(
            "hallucinated information: the caller asked for {asked_day} but the agent booked \"{}\"",
            quote(confirm, booked_day)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(transcript: &str) -> Analysis {
        analyze(&HeuristicInput {
            transcript,
            duration_sec: Some(120),
            ..Default::default()
        })
    }

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

    #[test]
    fn a_clean_booking_with_a_read_back_is_good() {
        let a = judge("Agent: How can I help?\nUser: I need an oil change.\nAgent: I have Thursday at 9 AM.\nUser: Great.\nAgent: You're booked for Thursday at 9 AM.\nUser: Thanks!");
        assert_eq!(a.verdict, Verdict::Good);
        assert!(a.flags.is_empty());
        assert!(a.validate().is_ok());
        assert!(a.reasons.iter().any(|r| r.contains("Thursday at 9 AM")));
    }

    #[test]
    fn a_booking_without_a_time_is_flagged_with_a_quote() {
        let a = judge("Agent: How can I help?\nUser: Can I book a brake inspection?\nAgent: Sure, I've put you down for Tuesday.\nUser: Thanks.");
        assert_eq!(a.flags, vec![Flag::MissedAppointmentConfirmation]);
        assert_eq!(a.verdict, Verdict::NeedsReview);
        assert!(
            a.reasons[0].contains("put you down for Tuesday"),
            "{:?}",
            a.reasons
        );
    }

    #[test]
    fn negated_feelings_do_not_count_as_upset() {
        let a = judge("Agent: How can I help?\nUser: I'm not upset, I just want to know when you close today.\nAgent: We close at 6 PM today.\nUser: Thanks.");
        assert!(!a.flags.contains(&Flag::CustomerUpset), "{:?}", a.reasons);
    }

    #[test]
    fn hello_is_not_hell() {
        let a = judge("Agent: How can I help?\nUser: Hello, what time does the parts counter open on Saturday?\nAgent: Parts opens at 8 AM on Saturday.\nUser: Thank you.");
        assert!(a.flags.is_empty(), "{:?}", a.reasons);
    }

    #[test]
    fn the_carriers_voicemail_signal_is_trusted() {
        let a = analyze(&HeuristicInput {
            transcript: "Agent: Hi, this is Kia of Norwood returning your call.",
            duration_sec: Some(20),
            disconnection_reason: Some("voicemail_reached"),
            in_voicemail: None,
        });
        assert_eq!(a.flags, vec![Flag::Voicemail]);
    }

    #[test]
    fn a_transfer_reported_by_retell_is_not_a_failed_handoff() {
        let a = analyze(&HeuristicInput {
            transcript: "Agent: How can I help?\nUser: Can I talk to someone in service?\nAgent: One moment.\nUser: Can you transfer me to the service desk?",
            duration_sec: Some(60),
            disconnection_reason: Some("call_transfer"),
            in_voicemail: None,
        });
        assert!(!a.flags.contains(&Flag::HandoffFailed), "{:?}", a.reasons);
    }

    #[test]
    fn scores_fall_in_the_band_of_their_verdict() {
        for score in 0..=100u8 {
            let v = verdict_for(score);
            let band = match v {
                Verdict::Good => 75..=100,
                Verdict::NeedsReview => 40..=74,
                Verdict::Bad => 0..=39,
            };
            assert!(band.contains(&score));
        }
    }

    #[test]
    fn the_same_input_always_gives_the_same_analysis() {
        let t = "Agent: Hi\nUser: This is ridiculous, I want a manager.\nAgent: Sorry.";
        assert_eq!(judge(t), judge(t));
    }
}
