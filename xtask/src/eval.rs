//! `cargo xtask eval --labels FILE [--analyzer heuristic|openai] [--json]`:
//! measures a judge on labelled calls with the worker's own analyzer code
//! (`worker::evaluation`), so a prompt, model or rule change is measured before
//! it ships (docs/analysis.md, "Measuring a judge").

use std::time::Duration;

use anyhow::{bail, Context, Result};
use secrecy::SecretString;
use worker::analyzer::{Analyzer, HeuristicAnalyzer, OpenAiAnalyzer};
use worker::evaluation::{judge_all, score, LabelledCall, Scorecard};
use worker::settings::OpenAiSettings;

/// Same default as the worker's `ANALYSIS_MAX_TRANSCRIPT_CHARS`.
const MAX_TRANSCRIPT_CHARS: usize = 20_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub labels: String,
    pub openai: bool,
    pub json: bool,
}

impl Options {
    pub fn parse(flags: &[&str]) -> Result<Options> {
        let mut labels = None;
        let mut openai = false;
        let mut json = false;
        let mut it = flags.iter();
        while let Some(flag) = it.next() {
            match *flag {
                "--labels" => labels = it.next().map(|s| s.to_string()),
                "--analyzer" => match it.next().copied() {
                    Some("heuristic") => openai = false,
                    Some("openai") => openai = true,
                    other => bail!("--analyzer takes heuristic or openai, not {other:?}"),
                },
                "--json" => json = true,
                "--from-db" => bail!(
                    "--from-db is not available yet: the human labels are not in the database \
                     (export them to a labels file instead)"
                ),
                other => bail!("unknown eval option {other}"),
            }
        }
        let labels = labels.context("eval needs --labels FILE (a JSON array of labelled calls)")?;
        Ok(Options {
            labels,
            openai,
            json,
        })
    }
}

/// The OpenAI analyzer from `OPENAI_API_KEY`, `OPENAI_BASE_URL` (any
/// OpenAI-compatible server), `OPENAI_MODEL` and `OPENAI_TIMEOUT_SECS`, with
/// the worker's defaults.
fn openai_from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Analyzer> {
    let get = |k: &str| {
        lookup(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let key = get("OPENAI_API_KEY").context("--analyzer openai needs OPENAI_API_KEY")?;
    let base_url = get("OPENAI_BASE_URL")
        .unwrap_or_else(|| "https://api.openai.com/v1".to_string())
        .trim_end_matches('/')
        .to_string();
    let timeout = match get("OPENAI_TIMEOUT_SECS") {
        None => 30,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|s| (1..=600).contains(s))
            .with_context(|| format!("OPENAI_TIMEOUT_SECS={v:?} is not 1-600"))?,
    };
    let settings = OpenAiSettings {
        api_key: SecretString::from(key),
        base_url,
        model: get("OPENAI_MODEL").unwrap_or_else(|| "gpt-4o-mini".to_string()),
        timeout: Duration::from_secs(timeout),
    };
    Ok(Analyzer::OpenAi(
        OpenAiAnalyzer::new(&settings, MAX_TRANSCRIPT_CHARS).context("building the HTTP client")?,
    ))
}

/// Reads the labels, judges every call and scores the verdicts.
pub fn measure(opts: &Options, lookup: impl Fn(&str) -> Option<String>) -> Result<Scorecard> {
    let text = std::fs::read_to_string(&opts.labels)
        .with_context(|| format!("reading {}", opts.labels))?;
    let calls: Vec<LabelledCall> = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a JSON array of labelled calls", opts.labels))?;
    if calls.is_empty() {
        bail!("{} has no calls", opts.labels);
    }
    let analyzer = if opts.openai {
        openai_from_env(lookup)?
    } else {
        Analyzer::Heuristic(HeuristicAnalyzer)
    };
    let name = format!("{} ({})", analyzer.model(), analyzer.prompt_version());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let judged = runtime.block_on(judge_all(&analyzer, &calls));
    Ok(score(&name, &judged))
}

pub fn run(opts: &Options) -> Result<()> {
    let card = measure(opts, |k| std::env::var(k).ok())?;
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&card.to_json())?);
    } else {
        print!("{}", card.to_text());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn labels_file(name: &str, calls: serde_json::Value) -> String {
        let dir = std::env::temp_dir().join(format!("xtask-eval-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("labels.json");
        std::fs::write(&file, calls.to_string()).unwrap();
        file.to_string_lossy().into_owned()
    }

    fn three_calls() -> serde_json::Value {
        json!([
            {"id": "booked", "transcript": "Agent: How can I help?\nUser: I need an oil change.\nAgent: You're booked for Thursday at 9 AM.\nUser: Perfect, thanks.", "duration_sec": 60, "expected_verdict": "good", "expected_flags": []},
            {"id": "price", "transcript": "Agent: How can I help?\nUser: How much are brakes?\nAgent: Brakes are $199 total.\nUser: Great, thanks.", "duration_sec": 60, "expected_verdict": "bad", "expected_flags": ["hallucinated_information"]},
            {"id": "transfer", "transcript": "Agent: How can I help?\nUser: Service, please.\nAgent: Transferring you now.", "duration_sec": 60, "expected_verdict": "needs_review", "expected_flags": ["handoff_failed"]}
        ])
    }

    #[test]
    fn options_parse_and_refuse_what_they_do_not_know() {
        let o = Options::parse(&["--labels", "f.json", "--analyzer", "openai", "--json"]).unwrap();
        assert_eq!(
            o,
            Options {
                labels: "f.json".into(),
                openai: true,
                json: true
            }
        );
        assert!(Options::parse(&[]).is_err());
        assert!(Options::parse(&["--labels", "f", "--analyzer", "gpt"]).is_err());
        assert!(Options::parse(&["--labels", "f", "--from-db"]).is_err());
    }

    #[test]
    fn the_heuristic_is_scored_on_a_small_file() {
        let file = labels_file("heuristic", three_calls());
        let opts = Options::parse(&["--labels", &file]).unwrap();
        let card = measure(&opts, |_| None).unwrap();
        assert_eq!(card.total, 3);
        // The transfer that never shows connecting is judged bad, labelled
        // needs_review: two of three agree.
        assert_eq!(card.agreed, 2);
        assert!(card.good_on_bad.is_empty());
        let j = card.to_json();
        assert_eq!(j["total"], 3);
        assert!((j["agreement"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(j["confusion"]["needs_review"]["bad"], 1);
        assert_eq!(j["flags"]["hallucinated_information"]["tp"], 1);
        assert!(j["kappa"].is_number());
        assert_eq!(j["good_on_bad"], 0);
    }

    #[tokio::test]
    async fn the_openai_analyzer_is_scored_against_a_fake_server() {
        let server = MockServer::start().await;
        let answer = json!({
            "verdict": "good", "score": 90, "reasons": ["fine"], "flags": [],
            "recommended_action": "none", "confidence": 0.9
        });
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(header("authorization", "Bearer sk-eval-test"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-test",
                "choices": [{"index": 0, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": answer.to_string()}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
            })))
            .expect(3)
            .mount(&server)
            .await;
        let file = labels_file("openai", three_calls());
        let base = format!("{}/v1", server.uri());
        let card = tokio::task::spawn_blocking(move || {
            let opts = Options::parse(&["--labels", &file, "--analyzer", "openai"]).unwrap();
            measure(&opts, |k| match k {
                "OPENAI_API_KEY" => Some("sk-eval-test".into()),
                "OPENAI_BASE_URL" => Some(base.clone()),
                "OPENAI_MODEL" => Some("gpt-test".into()),
                _ => None,
            })
        })
        .await
        .unwrap()
        .unwrap();
        // The fake judge says good to everything: one agreement, and the bad
        // call it calls good is counted.
        assert_eq!(card.total, 3);
        assert_eq!(card.agreed, 1);
        assert_eq!(card.good_on_bad, vec!["price".to_string()]);
        assert!(card.analyzer.starts_with("gpt-test"), "{}", card.analyzer);
        assert!(card.errors.is_empty(), "{:?}", card.errors);
    }

    #[tokio::test]
    async fn a_failing_server_counts_as_judge_errors_not_a_crash() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {"message": "bad key", "type": "invalid_request_error", "code": "invalid_api_key"}})))
            .mount(&server)
            .await;
        let file = labels_file("failing", three_calls());
        let base = format!("{}/v1", server.uri());
        let card = tokio::task::spawn_blocking(move || {
            let opts = Options::parse(&["--labels", &file, "--analyzer", "openai"]).unwrap();
            measure(&opts, |k| match k {
                "OPENAI_API_KEY" => Some("sk-wrong".into()),
                "OPENAI_BASE_URL" => Some(base.clone()),
                _ => None,
            })
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(card.errors.len(), 3);
        assert_eq!(card.confusion["needs_review"]["needs_review"], 1);
    }
}
