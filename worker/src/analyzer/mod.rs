//! Analyzers turn one call into an [`Analysis`]: the OpenAI analyzer (structured
//! output over HTTP) or the offline heuristic analyzer (deterministic rules, the
//! default when no API key is configured). Both honour the same contract, so the
//! job processor does not care which one runs.

pub mod heuristic;
pub mod openai;
pub mod prompt;
pub mod provenance;
pub mod quotes;
pub mod signals;

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::analysis::Analysis;

use crate::settings::OpenAiSettings;

pub use heuristic::HeuristicAnalyzer;
pub use openai::OpenAiAnalyzer;
pub use provenance::Provenance;

/// Everything an analyzer may look at, read from `calls` and `dealerships` when
/// the job runs (not when it was queued), so the newest transcript is judged.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub dealership_id: String,
    pub dealership_name: String,
    pub dealership_timezone: String,
    pub call_id: String,
    pub transcript: String,
    pub transcript_sha256: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub duration_sec: Option<i32>,
    pub direction: Option<String>,
    pub call_status: Option<String>,
    pub disconnection_reason: Option<String>,
    pub customer_name: Option<String>,
    pub agent_id: Option<String>,
    pub metadata: Option<serde_json::Value>,
    /// Retell's own `call_analysis` (summary, sentiment, in_voicemail...).
    pub retell_analysis: Option<serde_json::Value>,
}

/// A successful analysis plus what `call_analyses` stores about how it was made.
#[derive(Debug, Clone)]
pub struct AnalyzerOutput {
    pub analysis: Analysis,
    pub model: String,
    pub prompt_version: String,
    pub latency_ms: Option<i32>,
    pub prompt_tokens: Option<i32>,
    pub completion_tokens: Option<i32>,
    pub raw_response: Option<serde_json::Value>,
    pub transcript_truncated: bool,
    pub provenance: Provenance,
    /// The judge's quotes that are not in the transcript ([`quotes`]).
    pub dropped_quotes: Vec<String>,
    /// Retell's signals that decided or changed the verdict ([`signals`]).
    pub retell_signals: Vec<domain::signals::RetellSignal>,
}

/// Whether another attempt could succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Timeouts, connection errors, 408/409/429, 5xx: try again after a backoff.
    Retryable,
    /// 400/401/403/404, `insufficient_quota`, a refusal, output that breaks the
    /// contract twice: retrying would give the same answer.
    Fatal,
}

/// Why an analysis attempt failed, with what is worth keeping for the audit.
#[derive(Debug, Clone)]
pub struct AnalyzeError {
    pub kind: FailureKind,
    /// Short cause, e.g. `http 500 (server_error)`, `timeout after 30s`.
    /// Never contains the API key or the transcript.
    pub message: String,
    pub http_status: Option<u16>,
    /// From `Retry-After` / `retry-after-ms`, when the server sent one.
    pub retry_after: Option<Duration>,
    pub raw_response: Option<serde_json::Value>,
    pub latency_ms: Option<i32>,
    pub transcript_truncated: bool,
}

impl AnalyzeError {
    pub fn is_retryable(&self) -> bool {
        self.kind == FailureKind::Retryable
    }
}

/// The configured analyzer.
#[derive(Debug)]
pub enum Analyzer {
    OpenAi(OpenAiAnalyzer),
    Heuristic(HeuristicAnalyzer),
}

impl Analyzer {
    /// The LLM analyzer when OpenAI is configured (`OPENAI_API_KEY` is set), else
    /// the offline rules. `max_transcript_chars` bounds what is sent to the LLM.
    pub fn new(
        openai: Option<&OpenAiSettings>,
        max_transcript_chars: usize,
    ) -> Result<Analyzer, reqwest::Error> {
        Ok(match openai {
            Some(o) => Analyzer::OpenAi(OpenAiAnalyzer::new(o, max_transcript_chars)?),
            None => Analyzer::Heuristic(HeuristicAnalyzer),
        })
    }

    /// The value stored in `call_analyses.model`.
    pub fn model(&self) -> &str {
        match self {
            Analyzer::OpenAi(a) => a.model(),
            Analyzer::Heuristic(_) => heuristic::MODEL,
        }
    }

    /// The value stored in `call_analyses.prompt_version`.
    pub fn prompt_version(&self) -> &str {
        match self {
            Analyzer::OpenAi(a) => a.prompt_version(),
            Analyzer::Heuristic(_) => heuristic::RULES_VERSION,
        }
    }

    /// What this analyzer records about itself, also on a failed analysis.
    pub fn provenance(&self) -> Provenance {
        match self {
            Analyzer::OpenAi(a) => a.provenance(),
            Analyzer::Heuristic(_) => Provenance::new(provenance::HEURISTIC, None),
        }
    }

    /// Judges one call: Retell's voicemail signal decides alone (no LLM call),
    /// otherwise the judge runs, its quotes are checked against the transcript
    /// ([`quotes`]) and Retell's other signals may give a second opinion
    /// ([`signals`]).
    pub async fn analyze(&self, call: &CallContext) -> Result<AnalyzerOutput, AnalyzeError> {
        if let Some(out) = signals::voicemail(call, self.model()) {
            return Ok(out);
        }
        let mut out = match self {
            Analyzer::OpenAi(a) => a.analyze(call).await?,
            Analyzer::Heuristic(h) => h.analyze(call),
        };
        out.dropped_quotes = quotes::drop_unsupported_quotes(&mut out.analysis, &call.transcript);
        if !out.dropped_quotes.is_empty() {
            tracing::warn!(
                call_id = %call.call_id,
                dealership_id = %call.dealership_id,
                dropped = out.dropped_quotes.len(),
                "the judge quoted words that are not in the transcript; they were dropped"
            );
        }
        let (analysis, changed_by) = signals::second_opinion(call, out.analysis);
        out.analysis = analysis;
        out.retell_signals = changed_by;
        Ok(out)
    }
}
