//! What produced an analysis, stored beside it (`call_analyses.analyzer`,
//! `prompt_sha256`, `schema_sha256`; docs/analysis.md, "Provenance"): the
//! model and prompt version say what was meant to run, the hashes say exactly
//! which instructions and which output contract did.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// `call_analyses.analyzer` for the LLM judge.
pub const OPENAI: &str = "openai";
/// `call_analyses.analyzer` for the offline rules.
pub const HEURISTIC: &str = "heuristic";
/// `call_analyses.analyzer` when Retell's voicemail signal decided alone.
pub const RETELL_SIGNALS: &str = "retell-signals";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// [`OPENAI`], [`HEURISTIC`] or [`RETELL_SIGNALS`].
    pub analyzer: &'static str,
    /// SHA-256 (hex) of the system prompt's text; `None` when no prompt ran.
    pub prompt_sha256: Option<String>,
    /// SHA-256 (hex) of the analysis JSON schema (the output contract).
    pub schema_sha256: String,
}

impl Provenance {
    pub fn new(analyzer: &'static str, prompt_text: Option<&str>) -> Provenance {
        Provenance {
            analyzer,
            prompt_sha256: prompt_text.map(sha256_hex),
            schema_sha256: schema_sha256(),
        }
    }
}

/// The hash of the schema every analyzer's output is held to (computed once:
/// the schema is built from constants).
pub fn schema_sha256() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| sha256_hex(&domain::analysis::analysis_json_schema().to_string()))
        .clone()
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_of_the_exact_text() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let p = Provenance::new(OPENAI, Some("You are a reviewer."));
        assert_eq!(
            p.prompt_sha256.as_deref(),
            Some(sha256_hex("You are a reviewer.").as_str())
        );
        assert_ne!(
            p.prompt_sha256,
            Provenance::new(OPENAI, Some("You are a reviewer!")).prompt_sha256
        );
        assert_eq!(p.schema_sha256.len(), 64);
        assert_eq!(Provenance::new(HEURISTIC, None).prompt_sha256, None);
    }
}
