//! The LLM analyzer: OpenAI Chat Completions with Structured Outputs
//! (`response_format: json_schema, strict: true`), against any
//! OpenAI-compatible server at `OPENAI_BASE_URL`.
//!
//! One `analyze` call makes one HTTP request (two when the first answer breaks
//! the contract, see below). Retries of transient failures are not done here:
//! the job goes back to the queue with a backoff, which survives a crash.

use std::time::{Duration, Instant};

use domain::analysis::{analysis_json_schema, Analysis};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::prompt::{self, Prompt};
use super::provenance::{self, Provenance};
use super::{AnalyzeError, AnalyzerOutput, CallContext, FailureKind};
use crate::metrics::METRICS;
use crate::settings::OpenAiSettings;

/// Raw bodies kept for the audit are cut to this many characters when they are
/// not JSON (an HTML error page from a proxy, say).
const MAX_UNPARSED_BODY_CHARS: usize = 4_000;

/// Talks to `{base_url}/chat/completions`.
pub struct OpenAiAnalyzer {
    client: reqwest::Client,
    endpoint: String,
    api_key: SecretString,
    model: String,
    timeout: Duration,
    max_transcript_chars: usize,
    prompt: Prompt,
    /// SHA-256 of `prompt.text`, hashed once rather than per analysis.
    prompt_sha256: String,
}

impl std::fmt::Debug for OpenAiAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is deliberately absent.
        f.debug_struct("OpenAiAnalyzer")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("prompt_version", &self.prompt.version)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// How one HTTP exchange ended, before the job-level decision.
enum Attempt {
    Ok(Box<AnalyzerOutput>),
    /// The model answered but the answer breaks the contract (malformed JSON,
    /// out-of-range values). Sampling glitches rarely repeat, so one more
    /// request is made before giving up.
    InvalidOutput(AnalyzeError),
    Failed(AnalyzeError),
}

impl OpenAiAnalyzer {
    pub fn new(
        settings: &OpenAiSettings,
        max_transcript_chars: usize,
    ) -> Result<OpenAiAnalyzer, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            // The bearer key must only ever reach the configured base URL: a
            // redirect is treated as an error, never followed.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "dealership-call-worker/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(OpenAiAnalyzer {
            client,
            endpoint: format!("{}/chat/completions", settings.base_url),
            api_key: settings.api_key.clone(),
            model: settings.model.clone(),
            timeout: settings.timeout,
            max_transcript_chars,
            prompt_sha256: provenance::sha256_hex(prompt::SYSTEM_PROMPT),
            prompt: Prompt::current(),
        })
    }

    /// The same analyzer with another system prompt: how a candidate prompt is
    /// measured (`cargo xtask eval --prompt FILE`) before it replaces the current.
    pub fn with_prompt(mut self, prompt: Prompt) -> OpenAiAnalyzer {
        self.prompt_sha256 = provenance::sha256_hex(&prompt.text);
        self.prompt = prompt;
        self
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn prompt_version(&self) -> &str {
        &self.prompt.version
    }

    pub fn provenance(&self) -> Provenance {
        Provenance {
            analyzer: provenance::OPENAI,
            prompt_sha256: Some(self.prompt_sha256.clone()),
            schema_sha256: provenance::schema_sha256(),
        }
    }

    /// The request body: system prompt, the call, and the strict schema.
    pub fn request_body(&self, user_message: &str) -> Value {
        json!({
            "model": self.model,
            "temperature": 0,
            "messages": [
                { "role": "system", "content": self.prompt.text },
                { "role": "user", "content": user_message }
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "call_analysis",
                    "strict": true,
                    "schema": analysis_json_schema()
                }
            }
        })
    }

    pub async fn analyze(&self, call: &CallContext) -> Result<AnalyzerOutput, AnalyzeError> {
        let message = prompt::user_message(call, self.max_transcript_chars);
        let body = self.request_body(&message.content);
        let mut attempt = self.request(&body, message.transcript_truncated).await;
        if let Attempt::InvalidOutput(first) = attempt {
            tracing::warn!(
                call_id = %call.call_id,
                dealership_id = %call.dealership_id,
                error = %first.message,
                "the model's answer broke the contract; asking once more"
            );
            attempt = self.request(&body, message.transcript_truncated).await;
        }
        match attempt {
            Attempt::Ok(mut out) => {
                if message.transcript_truncated {
                    out.analysis.reasons.push(format!(
                        "transcript truncated for analysis: only the first and last {} of {} characters were judged",
                        self.max_transcript_chars, message.original_chars
                    ));
                }
                Ok(*out)
            }
            Attempt::InvalidOutput(mut e) => {
                e.kind = FailureKind::Fatal;
                Err(e)
            }
            Attempt::Failed(e) => Err(e),
        }
    }

    async fn request(&self, body: &Value, truncated: bool) -> Attempt {
        let started = Instant::now();
        let sent = self
            .client
            .post(&self.endpoint)
            .bearer_auth(self.api_key.expose_secret())
            .json(body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                let latency = elapsed_ms(started);
                METRICS.observe_llm_latency(latency as u64);
                return Attempt::Failed(transport_error(&e, self.timeout, latency, truncated));
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await;
        let latency = elapsed_ms(started);
        METRICS.observe_llm_latency(latency as u64);
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                return Attempt::Failed(transport_error(&e, self.timeout, latency, truncated))
            }
        };
        let raw: Option<Value> = serde_json::from_str(&text).ok();
        let raw_for_audit = raw.clone().unwrap_or_else(|| {
            json!({ "unparsed_body": text.chars().take(MAX_UNPARSED_BODY_CHARS).collect::<String>() })
        });

        if !status.is_success() {
            let mut raw_for_audit = raw_for_audit;
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                // OpenAI's 401 message echoes a masked part of the key: keep the
                // code, not the sentence.
                if let Some(err) = raw_for_audit
                    .get_mut("error")
                    .and_then(Value::as_object_mut)
                {
                    err.remove("message");
                }
            }
            return Attempt::Failed(http_error(
                status,
                &headers,
                raw.as_ref(),
                raw_for_audit,
                latency,
                truncated,
            ));
        }
        let Some(envelope) = raw else {
            // A 200 that is not JSON comes from something between us and the
            // model (a proxy, a captive portal): worth another try later.
            return Attempt::Failed(AnalyzeError {
                kind: FailureKind::Retryable,
                message: "http 200 with a body that is not JSON".into(),
                http_status: Some(200),
                retry_after: None,
                raw_response: Some(raw_for_audit),
                latency_ms: Some(latency),
                transcript_truncated: truncated,
            });
        };
        self.parse_completion(envelope, latency, truncated)
    }

    fn parse_completion(&self, envelope: Value, latency: i32, truncated: bool) -> Attempt {
        let fail = |kind: FailureKind, message: String, envelope: &Value| AnalyzeError {
            kind,
            message,
            http_status: Some(200),
            retry_after: None,
            raw_response: Some(envelope.clone()),
            latency_ms: Some(latency),
            transcript_truncated: truncated,
        };
        let message = &envelope["choices"][0]["message"];
        if let Some(refusal) = message["refusal"].as_str().filter(|r| !r.trim().is_empty()) {
            let short: String = refusal.chars().take(200).collect();
            return Attempt::Failed(fail(
                FailureKind::Fatal,
                format!("refusal: {short}"),
                &envelope,
            ));
        }
        let Some(content) = message["content"].as_str() else {
            return Attempt::InvalidOutput(fail(
                FailureKind::Fatal,
                "invalid_output: choices[0].message.content is missing".into(),
                &envelope,
            ));
        };
        let finish = envelope["choices"][0]["finish_reason"]
            .as_str()
            .unwrap_or("unknown");
        let analysis: Analysis = match serde_json::from_str(content) {
            Ok(a) => a,
            Err(e) => {
                return Attempt::InvalidOutput(fail(
                    FailureKind::Fatal,
                    format!("invalid_output: content is not a valid analysis object ({e}; finish_reason {finish})"),
                    &envelope,
                ))
            }
        };
        if let Err(e) = analysis.validate() {
            return Attempt::InvalidOutput(fail(
                FailureKind::Fatal,
                format!("invalid_output: {e}"),
                &envelope,
            ));
        }
        let usage = &envelope["usage"];
        let tokens = |k: &str| usage[k].as_i64().and_then(|v| i32::try_from(v).ok());
        Attempt::Ok(Box::new(AnalyzerOutput {
            analysis,
            model: self.model.clone(),
            prompt_version: self.prompt.version.clone(),
            latency_ms: Some(latency),
            prompt_tokens: tokens("prompt_tokens"),
            completion_tokens: tokens("completion_tokens"),
            transcript_truncated: truncated,
            raw_response: Some(envelope),
            provenance: self.provenance(),
            dropped_quotes: vec![],
            retell_signals: vec![],
        }))
    }
}

fn elapsed_ms(started: Instant) -> i32 {
    i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX)
}

/// No HTTP status: timeouts, refused connections, resets. All retryable.
fn transport_error(
    e: &reqwest::Error,
    timeout: Duration,
    latency: i32,
    truncated: bool,
) -> AnalyzeError {
    let message = if e.is_timeout() {
        format!(
            "timeout: no complete response within {}s",
            timeout.as_secs_f64()
        )
    } else if e.is_connect() {
        // The URL is the configured base URL, never a secret; the key is a header.
        format!("connect error: {e}")
    } else {
        format!("request error: {e}")
    };
    AnalyzeError {
        kind: FailureKind::Retryable,
        message,
        http_status: None,
        retry_after: None,
        raw_response: None,
        latency_ms: Some(latency),
        transcript_truncated: truncated,
    }
}

/// Classifies a non-2xx answer. The error's `message` text from the body is not
/// copied into our error: OpenAI's 401 message echoes part of the key.
fn http_error(
    status: StatusCode,
    headers: &HeaderMap,
    body: Option<&Value>,
    raw_for_audit: Value,
    latency: i32,
    truncated: bool,
) -> AnalyzeError {
    let code = body
        .and_then(|b| b["error"]["code"].as_str())
        .map(str::to_string);
    let typ = body
        .and_then(|b| b["error"]["type"].as_str())
        .map(str::to_string);
    let detail = code.clone().or(typ.clone());
    let insufficient_quota = code.as_deref() == Some("insufficient_quota")
        || typ.as_deref() == Some("insufficient_quota");
    let retryable = !insufficient_quota
        && (status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::CONFLICT
            || status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error());
    let message = match (insufficient_quota, detail) {
        (true, _) => format!(
            "insufficient_quota: http {} (the account has no credit; retrying will not help)",
            status.as_u16()
        ),
        (false, Some(d)) => format!("http {} ({d})", status.as_u16()),
        (false, None) => format!("http {}", status.as_u16()),
    };
    AnalyzeError {
        kind: if retryable {
            FailureKind::Retryable
        } else {
            FailureKind::Fatal
        },
        message,
        http_status: Some(status.as_u16()),
        retry_after: if retryable {
            retry_after(headers)
        } else {
            None
        },
        raw_response: Some(raw_for_audit),
        latency_ms: Some(latency),
        transcript_truncated: truncated,
    }
}

/// `retry-after-ms` (OpenAI's precise variant) or `Retry-After` in seconds or
/// as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    // `try_from_secs_f64`: a huge value (say `1e30`) is refused, not a panic in the job task.
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if let Ok(wait) = Duration::try_from_secs_f64(ms / 1000.0) {
            return Some(wait);
        }
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_milliseconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));

        let mut h = HeaderMap::new();
        let later = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        h.insert("retry-after", HeaderValue::from_str(&later).unwrap());
        let wait = retry_after(&h).unwrap();
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120));

        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn absurd_or_negative_retry_after_values_are_ignored_without_panicking() {
        for (name, value) in [
            ("retry-after", "1e30"),
            ("retry-after", "-5"),
            ("retry-after", "NaN"),
            ("retry-after-ms", "1e300"),
        ] {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_static(value));
            assert_eq!(retry_after(&h), None, "{name}: {value}");
        }
    }

    #[test]
    fn quota_errors_are_fatal_but_rate_limits_are_not() {
        let quota = json!({"error": {"code": "insufficient_quota", "type": "insufficient_quota"}});
        let e = http_error(
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new(),
            Some(&quota),
            quota.clone(),
            5,
            false,
        );
        assert_eq!(e.kind, FailureKind::Fatal);
        assert!(e.message.starts_with("insufficient_quota"));

        let limit = json!({"error": {"code": "rate_limit_exceeded"}});
        let e = http_error(
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new(),
            Some(&limit),
            limit.clone(),
            5,
            false,
        );
        assert_eq!(e.kind, FailureKind::Retryable);
    }

    #[test]
    fn client_errors_are_fatal_and_server_errors_retryable() {
        for (status, kind) in [
            (400, FailureKind::Fatal),
            (401, FailureKind::Fatal),
            (403, FailureKind::Fatal),
            (404, FailureKind::Fatal),
            (408, FailureKind::Retryable),
            (500, FailureKind::Retryable),
            (502, FailureKind::Retryable),
            (503, FailureKind::Retryable),
        ] {
            let e = http_error(
                StatusCode::from_u16(status).unwrap(),
                &HeaderMap::new(),
                None,
                Value::Null,
                1,
                false,
            );
            assert_eq!(e.kind, kind, "status {status}");
        }
    }

    #[test]
    fn the_error_message_of_a_401_is_not_copied() {
        let body = json!({"error": {"message": "Incorrect API key provided: sk-abc***xyz", "code": "invalid_api_key"}});
        let e = http_error(
            StatusCode::UNAUTHORIZED,
            &HeaderMap::new(),
            Some(&body),
            body.clone(),
            1,
            false,
        );
        assert_eq!(e.message, "http 401 (invalid_api_key)");
    }
}
