//! The analysis object: exactly what an analyzer produces and what
//! `call_analyses.analysis` stores. The OpenAI structured-output schema is built
//! from the same definitions, so the contract cannot drift.

use serde::{Deserialize, Serialize};

/// The analyzer's judgement of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Good,
    NeedsReview,
    Bad,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::Good, Verdict::NeedsReview, Verdict::Bad];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Good => "good",
            Verdict::NeedsReview => "needs_review",
            Verdict::Bad => "bad",
        }
    }
}

/// Problems an analyzer can flag on a call. Documented in `docs/analysis.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Booking intent without an explicit date and time read back to the caller.
    MissedAppointmentConfirmation,
    /// Complaints, profanity, asking for a manager, threats to leave.
    CustomerUpset,
    /// A transfer was promised or requested and did not happen.
    HandoffFailed,
    /// The agent stated something it could not know or that contradicts the dealership.
    HallucinatedInformation,
    /// The call was very short or the caller hung up before being helped.
    AbandonedCall,
    /// The call reached voicemail.
    Voicemail,
}

impl Flag {
    pub const ALL: [Flag; 6] = [
        Flag::MissedAppointmentConfirmation,
        Flag::CustomerUpset,
        Flag::HandoffFailed,
        Flag::HallucinatedInformation,
        Flag::AbandonedCall,
        Flag::Voicemail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::MissedAppointmentConfirmation => "missed_appointment_confirmation",
            Flag::CustomerUpset => "customer_upset",
            Flag::HandoffFailed => "handoff_failed",
            Flag::HallucinatedInformation => "hallucinated_information",
            Flag::AbandonedCall => "abandoned_call",
            Flag::Voicemail => "voicemail",
        }
    }

    pub fn parse(s: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// What a human should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecommendedAction {
    None,
    HumanFollowUp,
}

impl RecommendedAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RecommendedAction::None => "none",
            RecommendedAction::HumanFollowUp => "human_follow_up",
        }
    }
}

/// The analysis object, field for field as stored in `call_analyses.analysis`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Analysis {
    /// Short verbatim quotes from the transcript that decide the verdict,
    /// written before it (the schema asks for them first). Absent in analyses
    /// stored before `analysis-v2`; the worker keeps only quotes that appear in
    /// the transcript ([`crate::evidence`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    pub verdict: Verdict,
    /// 0-100; `None` only for a failed analysis.
    pub score: Option<u8>,
    pub reasons: Vec<String>,
    pub flags: Vec<Flag>,
    pub recommended_action: RecommendedAction,
    /// 0.0-1.0
    pub confidence: f32,
}

/// Why an analysis object breaks the contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidAnalysis(pub String);

impl std::fmt::Display for InvalidAnalysis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid analysis: {}", self.0)
    }
}

impl std::error::Error for InvalidAnalysis {}

impl Analysis {
    /// The analysis recorded when every attempt failed: a human must look.
    pub fn failed() -> Analysis {
        Analysis {
            evidence: vec![],
            verdict: Verdict::NeedsReview,
            score: None,
            reasons: vec!["analysis_failed".to_string()],
            flags: vec![],
            recommended_action: RecommendedAction::HumanFollowUp,
            confidence: 0.0,
        }
    }

    /// Checks every field of a successful analysis. Nothing is clamped: an
    /// out-of-range value is an error, so a misbehaving model is noticed.
    pub fn validate(&self) -> Result<(), InvalidAnalysis> {
        match self.score {
            None => return Err(InvalidAnalysis("score is missing".into())),
            Some(s) if s > 100 => {
                return Err(InvalidAnalysis(format!("score {s} is outside 0-100")))
            }
            Some(_) => {}
        }
        if !(0.0..=1.0).contains(&self.confidence) || self.confidence.is_nan() {
            return Err(InvalidAnalysis(format!(
                "confidence {} is outside 0-1",
                self.confidence
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for flag in &self.flags {
            if !seen.insert(*flag) {
                return Err(InvalidAnalysis(format!(
                    "flag {} appears twice",
                    flag.as_str()
                )));
            }
        }
        if self.reasons.iter().any(|r| r.trim().is_empty()) {
            return Err(InvalidAnalysis("a reason is empty".into()));
        }
        Ok(())
    }
}

/// JSON Schema of a successful analysis object, in the subset OpenAI's Structured
/// Outputs accept with `strict: true`: every property required,
/// `additionalProperties: false`, no `uniqueItems` (flag uniqueness is checked by
/// [`Analysis::validate`] after parsing). Built from the enums above so the
/// schema and the Rust types cannot drift apart. `score` is a plain integer here:
/// only a failed analysis (never produced by a model) has no score.
pub fn analysis_json_schema() -> serde_json::Value {
    let verdicts: Vec<&str> = Verdict::ALL.iter().map(|v| v.as_str()).collect();
    let flags: Vec<&str> = Flag::ALL.iter().map(|f| f.as_str()).collect();
    let actions = [
        RecommendedAction::None.as_str(),
        RecommendedAction::HumanFollowUp.as_str(),
    ];
    serde_json::json!({
        "type": "object",
        "properties": {
            "evidence": {
                "type": "array",
                "items": { "type": "string" },
                "description": "First, before judging: 1-4 short quotes copied word for word from the transcript that decide the verdict."
            },
            "verdict": {
                "type": "string",
                "enum": verdicts,
                "description": "good (score 75-100), needs_review (40-74) or bad (0-39)."
            },
            "score": {
                "type": "integer",
                "minimum": 0,
                "maximum": 100,
                "description": "Overall quality of the call, 0-100."
            },
            "reasons": {
                "type": "array",
                "items": { "type": "string" },
                "description": "Short, concrete reasons; any words in double quotes must be copied exactly from the transcript."
            },
            "flags": {
                "type": "array",
                "items": { "type": "string", "enum": flags },
                "description": "Problems found; each flag at most once."
            },
            "recommended_action": {
                "type": "string",
                "enum": actions
            },
            "confidence": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "How sure the analyzer is of this verdict, 0-1."
            }
        },
        "required": ["evidence", "verdict", "score", "reasons", "flags", "recommended_action", "confidence"],
        "additionalProperties": false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Analysis {
        Analysis {
            evidence: vec![],
            verdict: Verdict::Good,
            score: Some(90),
            reasons: vec!["appointment booked and read back".into()],
            flags: vec![],
            recommended_action: RecommendedAction::None,
            confidence: 0.8,
        }
    }

    #[test]
    fn a_complete_analysis_is_valid() {
        assert_eq!(good().validate(), Ok(()));
    }

    #[test]
    fn out_of_range_values_are_rejected_not_clamped() {
        let mut a = good();
        a.score = Some(101);
        assert!(a.validate().is_err());
        let mut a = good();
        a.confidence = 1.5;
        assert!(a.validate().is_err());
        let mut a = good();
        a.flags = vec![Flag::CustomerUpset, Flag::CustomerUpset];
        assert!(a.validate().is_err());
    }

    #[test]
    fn the_failed_analysis_has_the_documented_shape() {
        let v = serde_json::to_value(Analysis::failed()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"verdict":"needs_review","score":null,"reasons":["analysis_failed"],
                "flags":[],"recommended_action":"human_follow_up","confidence":0.0})
        );
    }

    #[test]
    fn the_schema_asks_for_evidence_before_the_verdict() {
        // Models write properties in schema order: quotes first, then judge.
        let schema = analysis_json_schema();
        let order: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        assert_eq!(order[0], "evidence");
        assert_eq!(order[1], "verdict");
        assert_eq!(schema["required"][0], "evidence");
    }

    #[test]
    fn older_analyses_without_evidence_still_parse() {
        let a: Analysis = serde_json::from_value(serde_json::json!({"verdict":"good","score":80,
            "reasons":["ok"],"flags":[],"recommended_action":"none","confidence":0.7}))
        .unwrap();
        assert!(a.evidence.is_empty());
    }

    #[test]
    fn flags_round_trip_through_their_names() {
        for f in Flag::ALL {
            assert_eq!(Flag::parse(f.as_str()), Some(f));
        }
    }

    #[test]
    fn the_json_schema_lists_every_field_and_every_flag() {
        let schema = analysis_json_schema();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let props: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        assert_eq!(required.len(), props.len());
        for p in props {
            assert!(required.contains(&p.as_str()), "{p} is not required");
        }
        assert_eq!(schema["additionalProperties"], false);
        let flags = schema["properties"]["flags"]["items"]["enum"]
            .as_array()
            .unwrap();
        assert_eq!(flags.len(), Flag::ALL.len());
    }
}
