//! Retell's own signals about a call that can decide or override a verdict
//! (docs/analysis.md, "Retell's signals"). The worker records which ones did in
//! `call_analyses.retell_signals` (migration 20261217000100, whose check
//! constraint lists the same codes), and the call page names them.

/// One signal that decided or changed an analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetellSignal {
    /// `call_analysis.in_voicemail = true`: decided alone, no judge ran.
    InVoicemail,
    /// `disconnection_reason = voicemail_reached`: decided alone, no judge ran.
    VoicemailReached,
    /// `call_analysis.call_successful = false` while the judge said good.
    CallUnsuccessful,
    /// `call_analysis.user_sentiment = Negative` while the judge said good.
    NegativeSentiment,
    /// `disconnection_reason = transfer_cancelled`: bad, handoff_failed.
    TransferCancelled,
    /// `disconnection_reason = transfer_failed`: bad, handoff_failed.
    TransferFailed,
}

/// What a signal did to the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalEffect {
    /// The signal decided the verdict; the judge did not run.
    Decided,
    /// The judge said good; the signal made it `needs_review`.
    SecondOpinion,
    /// The signal made the verdict `bad` with `handoff_failed`.
    FailedHandoff,
}

impl RetellSignal {
    pub const ALL: [RetellSignal; 6] = [
        RetellSignal::InVoicemail,
        RetellSignal::VoicemailReached,
        RetellSignal::CallUnsuccessful,
        RetellSignal::NegativeSentiment,
        RetellSignal::TransferCancelled,
        RetellSignal::TransferFailed,
    ];

    /// The code stored in `call_analyses.retell_signals`.
    pub fn as_str(self) -> &'static str {
        match self {
            RetellSignal::InVoicemail => "in_voicemail",
            RetellSignal::VoicemailReached => "voicemail_reached",
            RetellSignal::CallUnsuccessful => "call_successful_false",
            RetellSignal::NegativeSentiment => "user_sentiment_negative",
            RetellSignal::TransferCancelled => "transfer_cancelled",
            RetellSignal::TransferFailed => "transfer_failed",
        }
    }

    pub fn parse(code: &str) -> Option<RetellSignal> {
        RetellSignal::ALL.into_iter().find(|s| s.as_str() == code)
    }

    /// The Retell field and value, as Retell names them.
    pub fn field(self) -> &'static str {
        match self {
            RetellSignal::InVoicemail => "call_analysis.in_voicemail = true",
            RetellSignal::VoicemailReached => "disconnection_reason = voicemail_reached",
            RetellSignal::CallUnsuccessful => "call_successful = false",
            RetellSignal::NegativeSentiment => "user_sentiment = Negative",
            RetellSignal::TransferCancelled => "disconnection_reason = transfer_cancelled",
            RetellSignal::TransferFailed => "disconnection_reason = transfer_failed",
        }
    }

    pub fn effect(self) -> SignalEffect {
        match self {
            RetellSignal::InVoicemail | RetellSignal::VoicemailReached => SignalEffect::Decided,
            RetellSignal::CallUnsuccessful | RetellSignal::NegativeSentiment => {
                SignalEffect::SecondOpinion
            }
            RetellSignal::TransferCancelled | RetellSignal::TransferFailed => {
                SignalEffect::FailedHandoff
            }
        }
    }

    /// One line for people: the signal and what it did.
    pub fn describe(self) -> String {
        let what = match self.effect() {
            SignalEffect::Decided => "decided the verdict (voicemail); the judge did not run",
            SignalEffect::SecondOpinion => {
                "overrode the judge's good to needs review (second opinion)"
            }
            SignalEffect::FailedHandoff => "made the verdict bad: the transfer did not complete",
        };
        format!("Retell signal {}: {what}", self.field())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_its_signal_and_unknown_codes_do_not() {
        for s in RetellSignal::ALL {
            assert_eq!(RetellSignal::parse(s.as_str()), Some(s));
        }
        assert_eq!(RetellSignal::parse("user_sentiment"), None);
        assert_eq!(RetellSignal::parse(""), None);
    }

    #[test]
    fn a_description_names_the_field_and_what_it_did() {
        let d = RetellSignal::InVoicemail.describe();
        assert!(
            d.contains("in_voicemail = true") && d.contains("judge did not run"),
            "{d}"
        );
        let d = RetellSignal::NegativeSentiment.describe();
        assert!(
            d.contains("user_sentiment = Negative") && d.contains("second opinion"),
            "{d}"
        );
        let d = RetellSignal::TransferFailed.describe();
        assert!(d.contains("transfer_failed") && d.contains("bad"), "{d}");
    }
}
