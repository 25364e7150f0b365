//! Phases that kill or cut the stack's processes under sustained ingest.

use anyhow::Result;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::checks::check_stored;
use super::faults::{drop_listen_connection, http_ok, kill_repeatedly, pause};
use super::sender::Sender;
use super::Chaos;

/// Postgres, then the api, then the worker, each SIGKILLed three times while
/// the sender posts; every acknowledged event must be stored exactly once.
pub fn kill_phases(chaos: &mut Chaos) -> Result<()> {
    let api_ready = format!("{}/readyz", chaos.stack.api_url());
    let worker_health = format!("{}/healthz", chaos.stack.worker_url());
    for (name, service) in [
        ("postgres SIGKILLed during ingest", "postgres"),
        ("api SIGKILLed during ingest", "api"),
        ("worker SIGKILLed during analysis", "worker"),
    ] {
        let prefix = chaos.prefix(service);
        println!("xtask chaos: {name}");
        let sender = Sender::start(&chaos.stack, prefix.clone());
        let counts = sender.counts.clone();
        let health = if service == "worker" {
            &worker_health
        } else {
            &api_ready
        };
        let kills = kill_repeatedly(&mut chaos.sup, service, || http_ok(health))?;
        pause(&mut chaos.sup, Duration::from_secs(2))?;
        let acked = sender.finish();
        let check = check_stored(&chaos.cluster, &chaos.stack.db, &prefix, &acked)?;
        let refused = counts.refused.load(Ordering::Relaxed);
        let other_5xx = counts.other_5xx.load(Ordering::Relaxed);
        if other_5xx > 0 {
            chaos.failures.push(format!(
                "{name}: {other_5xx} answers were a 5xx other than 503"
            ));
        }
        if refused > 0 || check.missing > 0 || check.duplicates > 0 || check.found != check.sent {
            chaos.failures.push(format!(
                "{name}: {} acknowledged, {} found, {} missing, {} duplicates, {refused} refused",
                check.sent, check.found, check.missing, check.duplicates
            ));
        }
        chaos.phases.push(json!({
            "phase": name,
            "faults_injected": kills,
            "supervisor_restarts_last_minute": chaos.sup.recent_restarts(service),
            "events_acknowledged": check.sent,
            "events_found": check.found,
            "missing": check.missing,
            "duplicates": check.duplicates,
            "delivery_attempts": counts.attempts.load(Ordering::Relaxed),
            "answers_503_retry_after": counts.unavailable.load(Ordering::Relaxed),
            "answers_other_5xx": other_5xx,
            "good_events_refused": refused,
            "connection_errors": counts.connection_errors.load(Ordering::Relaxed),
            "retries_answered_duplicate": counts.duplicates_answered.load(Ordering::Relaxed),
        }));
    }
    Ok(())
}

/// The worker's LISTEN connection terminated while the sender posts: polling
/// covers the gap, and the worker listens again by itself.
pub fn listen_phase(chaos: &mut Chaos) -> Result<()> {
    println!("xtask chaos: the worker's LISTEN connection terminated");
    let terminated = drop_listen_connection(&chaos.cluster, &chaos.stack.db)?;
    let prefix = chaos.prefix("listen");
    let sender = Sender::start(&chaos.stack, prefix.clone());
    pause(&mut chaos.sup, Duration::from_secs(5))?;
    let acked = sender.finish();
    let check = check_stored(&chaos.cluster, &chaos.stack.db, &prefix, &acked)?;
    let listening: usize = chaos
        .cluster
        .query_value(
            &chaos.stack.db,
            "select count(*) from pg_stat_activity where query ilike 'listen%'",
        )?
        .parse()?;
    chaos.phases.push(json!({
        "phase": "worker LISTEN connection terminated",
        "faults_injected": terminated,
        "events_acknowledged": check.sent,
        "events_found": check.found,
        "missing": check.missing,
        "duplicates": check.duplicates,
        "listening_again": listening > 0,
    }));
    if terminated == 0 {
        chaos
            .failures
            .push("no LISTEN connection was found to terminate".into());
    }
    if listening == 0 {
        chaos
            .failures
            .push("the worker did not LISTEN again after its connection was cut".into());
    }
    if check.missing > 0 || check.duplicates > 0 {
        chaos.failures.push(format!(
            "after the LISTEN drop: {} missing, {} duplicates",
            check.missing, check.duplicates
        ));
    }
    Ok(())
}
