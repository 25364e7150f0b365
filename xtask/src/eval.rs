//! `cargo xtask eval (--labels FILE | --from-db [--out FILE]) [--analyzer
//! heuristic|openai] [--prompt FILE] [--json]`: measures a judge on labelled
//! calls with the worker's own analyzer code (`worker::evaluation`), so a
//! prompt, model or rule change is measured before it ships (docs/analysis.md,
//! "Measuring a judge").
//!
//! `--from-db` reads the human labels from `reporting.eval_labels` at
//! `DATABASE_URL` (a reporting login sees its own dealerships), with each call's
//! current verdict, so the run is also a shadow run: it lists the verdicts the
//! judge would flip, per dealership, and the agreement before and after.
//! Nothing is written to the database.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use secrecy::SecretString;
use worker::analyzer::prompt::Prompt;
use worker::analyzer::{Analyzer, HeuristicAnalyzer, OpenAiAnalyzer};
use worker::evaluation::{judge_all, score, LabelledCall, Scorecard};
use worker::settings::OpenAiSettings;

/// Same default as the worker's `ANALYSIS_MAX_TRANSCRIPT_CHARS`.
const MAX_TRANSCRIPT_CHARS: usize = 20_000;

/// The labelled calls, in the labels-file format, with their current verdict.
const EVAL_LABELS_SQL: &str =
    "select coalesce(json_agg(e order by e.id), '[]') from reporting.eval_labels e";

/// Where the labelled calls come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    File(String),
    /// `reporting.eval_labels` at `DATABASE_URL`; `out` saves them as a file.
    Database {
        out: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub source: Source,
    pub openai: bool,
    /// A candidate system prompt for the OpenAI analyzer.
    pub prompt: Option<String>,
    pub json: bool,
}

impl Options {
    pub fn parse(flags: &[&str]) -> Result<Options> {
        let mut labels = None;
        let mut from_db = false;
        let mut out = None;
        let mut prompt = None;
        let mut openai = false;
        let mut json = false;
        let mut it = flags.iter();
        while let Some(flag) = it.next() {
            let mut value = |name: &str| {
                it.next()
                    .map(|s| s.to_string())
                    .with_context(|| format!("{name} needs a file"))
            };
            match *flag {
                "--labels" => labels = Some(value("--labels")?),
                "--from-db" => from_db = true,
                "--out" => out = Some(value("--out")?),
                "--prompt" => prompt = Some(value("--prompt")?),
                "--analyzer" => match it.next().copied() {
                    Some("heuristic") => openai = false,
                    Some("openai") => openai = true,
                    other => bail!("--analyzer takes heuristic or openai, not {other:?}"),
                },
                "--json" => json = true,
                other => bail!("unknown eval option {other}"),
            }
        }
        let source = match (labels, from_db) {
            (Some(_), true) => bail!("give --labels FILE or --from-db, not both"),
            (Some(file), false) if out.is_none() => Source::File(file),
            (Some(_), false) => bail!("--out saves the labels read by --from-db"),
            (None, true) => Source::Database { out },
            (None, false) => bail!(
                "eval needs --labels FILE (a JSON array of labelled calls) or --from-db (the human labels at DATABASE_URL)"
            ),
        };
        if prompt.is_some() && !openai {
            bail!("--prompt is the LLM's system prompt: use it with --analyzer openai");
        }
        Ok(Options {
            source,
            openai,
            prompt,
            json,
        })
    }
}

/// The labelled calls of `reporting.eval_labels`, through `psql`.
fn labels_from_db(lookup: &impl Fn(&str) -> Option<String>) -> Result<String> {
    let url = lookup("DATABASE_URL")
        .filter(|v| !v.trim().is_empty())
        .context("--from-db reads DATABASE_URL (locally: source .devstack/stack.env; or a manager's reporting login)")?;
    let out = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            EVAL_LABELS_SQL,
        ])
        .arg(&url)
        .output()
        .context("running psql (install the PostgreSQL client)")?;
    if !out.status.success() {
        bail!(
            "reading reporting.eval_labels failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout).context("psql printed invalid UTF-8")
}

/// The OpenAI analyzer from `OPENAI_API_KEY`, `OPENAI_BASE_URL` (any
/// OpenAI-compatible server), `OPENAI_MODEL` and `OPENAI_TIMEOUT_SECS`, with
/// the worker's defaults.
fn openai_from_env(
    lookup: &impl Fn(&str) -> Option<String>,
    prompt: Option<&str>,
) -> Result<Analyzer> {
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
    let analyzer =
        OpenAiAnalyzer::new(&settings, MAX_TRANSCRIPT_CHARS).context("building the HTTP client")?;
    Ok(Analyzer::OpenAi(match prompt {
        Some(file) => analyzer.with_prompt(
            Prompt::from_file(Path::new(file))
                .with_context(|| format!("reading the prompt {file}"))?,
        ),
        None => analyzer,
    }))
}

/// Reads the labels, judges every call and scores the verdicts.
pub fn measure(opts: &Options, lookup: impl Fn(&str) -> Option<String>) -> Result<Scorecard> {
    let (text, what) = match &opts.source {
        Source::File(file) => (
            std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?,
            file.clone(),
        ),
        Source::Database { out } => {
            let text = labels_from_db(&lookup)?;
            if let Some(out) = out {
                std::fs::write(out, &text).with_context(|| format!("writing {out}"))?;
            }
            (text, "reporting.eval_labels".to_string())
        }
    };
    let calls: Vec<LabelledCall> = serde_json::from_str(&text)
        .with_context(|| format!("{what} is not a JSON array of labelled calls"))?;
    if calls.is_empty() {
        bail!("{what} has no labelled calls");
    }
    let analyzer = if opts.openai {
        openai_from_env(&lookup, opts.prompt.as_deref())?
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
                source: Source::File("f.json".into()),
                openai: true,
                prompt: None,
                json: true
            }
        );
        let o = Options::parse(&[
            "--from-db",
            "--out",
            "l.json",
            "--analyzer",
            "openai",
            "--prompt",
            "p.md",
        ])
        .unwrap();
        assert_eq!(
            o.source,
            Source::Database {
                out: Some("l.json".into())
            }
        );
        assert_eq!(o.prompt.as_deref(), Some("p.md"));
        assert!(Options::parse(&[]).is_err());
        assert!(Options::parse(&["--labels", "f", "--analyzer", "gpt"]).is_err());
        assert!(Options::parse(&["--labels", "f", "--from-db"]).is_err());
        assert!(Options::parse(&["--labels", "f", "--out", "o"]).is_err());
        assert!(Options::parse(&["--labels", "f", "--prompt", "p.md"]).is_err());
        assert!(Options::parse(&["--labels"]).is_err());
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

    #[tokio::test]
    async fn from_db_reads_the_labels_and_lists_the_flips_of_a_shadow_run() {
        let db = testdb::TestDb::create().await;
        // Two labelled calls with a current verdict, one labelled call whose
        // only analysis failed, and one unlabelled call (not in the set).
        db.execute(
            "insert into public.dealerships (id, name, timezone) values ('eval-a', 'Eval A', 'UTC');
             insert into public.calls (dealership_id, call_id, transcript, first_event_at, last_event_at, duration_sec)
             values ('eval-a', 'price', 'Agent: How can I help?\nUser: How much are brakes?\nAgent: Brakes are $199 total.\nUser: Great, thanks.', now(), now(), 60),
                    ('eval-a', 'booked', 'Agent: How can I help?\nUser: I need an oil change.\nAgent: You''re booked for Thursday at 9 AM.\nUser: Perfect, thanks.', now(), now(), 60),
                    ('eval-a', 'failed', 'Agent: Hello?\nUser: Hi, is this service?', now(), now(), 60),
                    ('eval-a', 'unlabelled', 'Agent: Hello?', now(), now(), 60);
             insert into public.call_analyses (dealership_id, call_id, analysis, verdict, score, recommended_action, confidence, status, model, prompt_version)
             values ('eval-a', 'price', '{}', 'good', 90, 'none', 0.9, 'ok', 'gpt-old', 'analysis-v1'),
                    ('eval-a', 'booked', '{}', 'good', 90, 'none', 0.9, 'ok', 'gpt-old', 'analysis-v1'),
                    ('eval-a', 'failed', '{}', 'needs_review', null, 'human_follow_up', 0, 'failed', 'gpt-old', 'analysis-v1');
             update public.calls c set latest_analysis_id = a.id
               from public.call_analyses a where a.dealership_id = c.dealership_id and a.call_id = c.call_id;
             insert into public.review_events (dealership_id, call_id, to_status, kind, label_verdict, label_flags, notes)
             values ('eval-a', 'price', 'reviewed', 'label', 'bad', '{hallucinated_information}', 'invented price'),
                    ('eval-a', 'booked', 'reviewed', 'label', 'good', '{}', null),
                    ('eval-a', 'failed', 'reviewed', 'label', 'needs_review', '{}', null);",
        )
        .await;
        let out = std::env::temp_dir().join(format!("xtask-eval-db-{}.json", std::process::id()));
        let out_arg = out.to_string_lossy().into_owned();
        let url = db.url.clone();
        let card = tokio::task::spawn_blocking(move || {
            let opts = Options::parse(&["--from-db", "--out", &out_arg]).unwrap();
            measure(&opts, |k| (k == "DATABASE_URL").then(|| url.clone()))
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(card.total, 3, "the unlabelled call is not in the set");
        let shadow = card.shadow.expect("the calls carry their current verdict");
        // The failed analysis has no current verdict: two calls compared. The
        // rules call the quoted price bad: one flip, and it fixes a disagreement.
        assert_eq!(shadow.overall.compared, 2);
        assert_eq!(shadow.overall.agreed_before, 1);
        assert_eq!(shadow.overall.agreed_after, 2);
        assert_eq!(shadow.flips.len(), 1);
        assert_eq!(shadow.flips[0].id, "eval-a/price");
        assert_eq!(shadow.per_dealership["eval-a"].flips, 1);
        let saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(saved.as_array().unwrap().len(), 3);
        assert_eq!(saved[0]["current_verdict"], "good");
        let _ = std::fs::remove_file(&out);
        db.cleanup().await;
    }

    #[test]
    fn from_db_without_a_database_url_says_what_to_set() {
        let opts = Options::parse(&["--from-db"]).unwrap();
        let e = measure(&opts, |_| None).unwrap_err().to_string();
        assert!(e.contains("DATABASE_URL"), "{e}");
    }
}
