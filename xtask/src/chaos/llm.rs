//! The fake OpenAI misbehaving in each way a real API does, a few seconds each
//! under sustained ingest, then recovering: every call must end with a verdict,
//! or with a failed analysis and a `processing_errors` row, and the queue drains.

use anyhow::Result;
use serde_json::json;
use std::time::Duration;

use super::checks::{analysis_outcomes, check_analyses, check_stored};
use super::faults::pause;
use super::sender::Sender;
use super::Chaos;
use crate::fake_openai::Behaviour;

/// How long each misbehaviour lasts.
const EACH: Duration = Duration::from_secs(4);
/// Normal answers after the last misbehaviour, before the checks.
const RECOVERY: Duration = Duration::from_secs(3);

pub fn misbehaving_phase(chaos: &mut Chaos) -> Result<()> {
    let prefix = chaos.prefix("llm");
    let Chaos {
        stack,
        cluster,
        sup,
        llm,
        ..
    } = chaos;
    println!("xtask chaos: the fake OpenAI misbehaving, then recovering");
    let requests_before = llm.control.requests();
    let sender = Sender::start(stack, prefix.clone());
    let mut injected = Vec::new();
    for behaviour in Behaviour::MISBEHAVIOURS {
        println!("xtask chaos:   OpenAI answers with {}", behaviour.name());
        llm.control.set(behaviour);
        pause(sup, EACH)?;
        injected.push(behaviour.name());
    }
    llm.control.set(Behaviour::Answer);
    pause(sup, RECOVERY)?;
    let acked = sender.finish();
    let check = check_stored(cluster, &stack.db, &prefix, &acked)?;
    let (_, wrong) = check_analyses(cluster, &stack.db, sup)?;
    let outcomes = analysis_outcomes(cluster, &stack.db, &prefix)?;

    let mut failures = Vec::new();
    if check.missing > 0 || check.duplicates > 0 || check.found != check.sent {
        failures.push(format!(
            "misbehaving LLM: {} acknowledged, {} found, {} missing, {} duplicates",
            check.sent, check.found, check.missing, check.duplicates
        ));
    }
    if outcomes.ok + outcomes.failed != check.found {
        failures.push(format!(
            "misbehaving LLM: {} events but {} verdicts and {} failures",
            check.found, outcomes.ok, outcomes.failed
        ));
    }
    if wrong > 0 {
        failures.push(format!(
            "misbehaving LLM: {wrong} jobs do not have exactly one analysis"
        ));
    }
    if outcomes.failed_unrecorded > 0 {
        failures.push(format!(
            "misbehaving LLM: {} failed analyses have no processing_errors row",
            outcomes.failed_unrecorded
        ));
    }
    chaos.failures.extend(failures);
    chaos.phases.push(json!({
            "phase": "fake OpenAI misbehaving, then recovering",
            "faults_injected": injected,
            "seconds_each": EACH.as_secs(),
            "llm_requests": llm.control.requests() - requests_before,
            "events_acknowledged": check.sent,
            "events_found": check.found,
            "missing": check.missing,
            "duplicates": check.duplicates,
            "verdicts": outcomes.ok,
            "failed_analyses": outcomes.failed,
            "failed_without_processing_error": outcomes.failed_unrecorded,
    }));
    Ok(())
}
