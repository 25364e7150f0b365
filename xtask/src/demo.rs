//! Demo data through the real ingest path: a few hundred calls over the last 7 days,
//! posted to the webhook as signed events (both payload shapes), judged by the
//! running worker, then a realistic spread of review states applied through the
//! review function as the demo CSMs. Deterministic, so every fresh stack looks alike.
//!
//! The transcripts are the worker's labelled evaluation set, re-voiced for each
//! dealership.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::pg::Cluster;
use crate::stack::Stack;
use crate::supervise::wait_until;

/// Demo users (fixed ids from supabase/seed.sql).
pub const CSM_NORTH: &str = "a0000000-0000-4000-8000-000000000003";
pub const CSM_SOUTH: &str = "a0000000-0000-4000-8000-000000000004";

const LABELLED: &str = include_str!("../../worker/tests/fixtures/labelled_calls.json");

#[derive(Deserialize)]
struct Template {
    transcript: String,
    #[serde(default)]
    duration_sec: Option<u32>,
    expected_verdict: String,
}

const DEALERSHIPS: [(&str, &str); 5] = [
    ("toyota-braintree", "Toyota of Braintree"),
    ("honda-quincy", "Honda of Quincy"),
    ("ford-weymouth", "Ford of Weymouth"),
    ("nissan-plymouth", "Nissan of Plymouth"),
    ("kia-hingham", "Kia of Hingham"),
];

const NAMES: [&str; 16] = [
    "Dana Whitfield",
    "Luis Ortega",
    "Priya Raman",
    "Tom Becker",
    "Grace Liu",
    "Marcus Hill",
    "Ana Souza",
    "Kevin O'Brien",
    "Fatima Noor",
    "Ben Carter",
    "Sofia Rossi",
    "James Park",
    "Olivia Grant",
    "Ray Thompson",
    "Mei Chen",
    "Carlos Diaz",
];

pub const DEMO_CALLS: usize = 320;

/// How many days ago the demo agents moved from version 6 to version 7.
const VERSION_7_DAYS: i64 = 3;

/// Generates the demo calls unless the database already has calls.
pub fn ensure(stack: &Stack, cluster: &Cluster, stopping: &AtomicBool) -> Result<()> {
    let existing: i64 = cluster
        .query_value(&stack.db, "select count(*) from public.calls")?
        .parse()?;
    if existing > 0 {
        println!("xtask: demo data present ({existing} calls); keeping it");
        return Ok(());
    }
    println!("xtask: generating {DEMO_CALLS} demo calls through the webhook");
    let templates: Vec<Template> =
        serde_json::from_str(LABELLED).context("worker/tests/fixtures/labelled_calls.json")?;
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut rng = StdRng::seed_from_u64(20261120);
    let now = Utc::now();
    for i in 0..DEMO_CALLS {
        if stopping.load(Ordering::SeqCst) {
            bail!("interrupted while generating demo data");
        }
        let template = &templates[rng.gen_range(0..templates.len())];
        let (dealership, name) = DEALERSHIPS[rng.gen_range(0..DEALERSHIPS.len())];
        // A quarter of the calls land in the last 24 hours, so "today" is busy.
        let age_minutes = if rng.gen_bool(0.25) {
            rng.gen_range(5..24 * 60)
        } else {
            rng.gen_range(24 * 60..7 * 24 * 60)
        };
        let started = now - ChronoDuration::minutes(age_minutes);
        let call = DemoCall {
            call_id: format!("demo_{i:04}"),
            dealership,
            transcript: revoice(&template.transcript, name),
            duration_sec: template.duration_sec.unwrap_or(rng.gen_range(40..420)),
            phone: format!("+1617555{:04}", rng.gen_range(0..10000)),
            customer: NAMES[rng.gen_range(0..NAMES.len())],
            started,
            retell_analysis: retell_call_analysis(&template.expected_verdict),
        };
        let bodies = if rng.gen_bool(0.5) {
            call.normalized_events()
        } else {
            call.retell_events()
        };
        for body in bodies {
            post(&client, stack, &body)?;
        }
    }
    println!("xtask: waiting for the worker to judge them");
    wait_until("the demo analyses", Duration::from_secs(300), || {
        cluster
            .query_value(
                &stack.db,
                "select count(*) from public.analysis_jobs where status in ('queued','running')",
            )
            .map(|v| v == "0")
            .unwrap_or(false)
    })?;
    apply_review_states(stack, cluster)
}

struct DemoCall {
    call_id: String,
    dealership: &'static str,
    transcript: String,
    duration_sec: u32,
    phone: String,
    customer: &'static str,
    started: DateTime<Utc>,
    retell_analysis: Value,
}

impl DemoCall {
    fn ended(&self) -> DateTime<Utc> {
        self.started + ChronoDuration::seconds(self.duration_sec as i64)
    }

    /// Retell's agent version: every agent got version 7 three days ago (6 before),
    /// so the health page's version comparison has two versions to compare.
    fn agent_version(&self) -> u32 {
        if Utc::now() - self.started < ChronoDuration::days(VERSION_7_DAYS) {
            7
        } else {
            6
        }
    }

    /// Our own contract: one event per call.
    fn normalized_events(&self) -> Vec<Vec<u8>> {
        vec![serde_json::to_vec(&json!({
            "event_id": format!("evt_{}", self.call_id),
            "dealership_id": self.dealership,
            "call_id": self.call_id,
            "timestamp": self.ended().to_rfc3339(),
            "transcript": self.transcript,
            "customer": {"phone": self.phone, "name": self.customer},
            "metadata": {"duration_sec": self.duration_sec, "channel": "phone", "ai_engine": "retell"},
        }))
        .expect("json serializes")]
    }

    /// Retell's native envelope: started, ended, analyzed.
    fn retell_events(&self) -> Vec<Vec<u8>> {
        let base = json!({
            "call_type": "phone_call",
            "from_number": self.phone,
            "to_number": "+17815550100",
            "direction": "inbound",
            "call_id": self.call_id,
            "agent_id": format!("agent_{}", self.dealership.replace('-', "_")),
            "agent_version": self.agent_version(),
            "metadata": {"dealership_id": self.dealership},
            "start_timestamp": self.started.timestamp_millis(),
        });
        let mut started = base.clone();
        started["call_status"] = json!("ongoing");
        let mut ended = base;
        ended["call_status"] = json!("ended");
        ended["end_timestamp"] = json!(self.ended().timestamp_millis());
        ended["duration_ms"] = json!(self.duration_sec as i64 * 1000);
        ended["disconnection_reason"] = json!("user_hangup");
        ended["transcript"] = json!(self.transcript);
        ended["transcript_object"] = Value::Array(turns(&self.transcript));
        let mut analyzed = ended.clone();
        analyzed["call_analysis"] = self.retell_analysis.clone();
        [
            ("call_started", started),
            ("call_ended", ended),
            ("call_analyzed", analyzed),
        ]
        .into_iter()
        .map(|(event, call)| {
            serde_json::to_vec(&json!({"event": event, "call": call})).expect("json serializes")
        })
        .collect()
    }
}

/// "Agent: ...\nUser: ..." lines as Retell's transcript_object.
fn turns(transcript: &str) -> Vec<Value> {
    transcript
        .lines()
        .filter_map(|line| {
            let (who, text) = line.split_once(": ")?;
            let role = if who.eq_ignore_ascii_case("agent") {
                "agent"
            } else {
                "user"
            };
            Some(json!({"role": role, "content": text}))
        })
        .collect()
}

/// Car brands that open a dealership name in the transcripts ("Chevrolet of Dedham").
const BRANDS: [&str; 12] = [
    "Toyota",
    "Honda",
    "Ford",
    "Nissan",
    "Kia",
    "Chevrolet",
    "Hyundai",
    "Subaru",
    "Mazda",
    "Jeep",
    "Volkswagen",
    "Lexus",
];

/// Puts the chosen dealership's name wherever the template names a dealership
/// ("<Brand> of <Town>"), so a Honda of Quincy call never greets as another store.
fn revoice(transcript: &str, name: &str) -> String {
    let mut out = String::with_capacity(transcript.len());
    let mut rest = transcript;
    'scan: while !rest.is_empty() {
        for brand in BRANDS {
            let prefix = format!("{brand} of ");
            if let Some(after) = rest.strip_prefix(prefix.as_str()) {
                let town_len = after
                    .char_indices()
                    .find(|(_, c)| !c.is_alphabetic())
                    .map(|(i, _)| i)
                    .unwrap_or(after.len());
                if after.starts_with(|c: char| c.is_uppercase()) {
                    out.push_str(name);
                    rest = &after[town_len..];
                    continue 'scan;
                }
            }
        }
        let c = rest.chars().next().expect("rest is not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Retell's own post-call analysis, in line with how the call went.
fn retell_call_analysis(expected_verdict: &str) -> Value {
    let (successful, sentiment, summary) = match expected_verdict {
        "good" => (true, "Positive", "The caller got what they called for."),
        "bad" => (
            false,
            "Negative",
            "The caller did not get help and was unhappy.",
        ),
        _ => (true, "Neutral", "The call ended without a clear outcome."),
    };
    json!({
        "call_summary": summary,
        "in_voicemail": false,
        "user_sentiment": sentiment,
        "call_successful": successful,
        "custom_analysis_data": {},
    })
}

fn post(client: &reqwest::blocking::Client, stack: &Stack, body: &[u8]) -> Result<()> {
    let ts = Utc::now().timestamp_millis();
    let response = client
        .post(stack.webhook_url())
        .header("content-type", "application/json")
        .header(
            "x-retell-signature",
            domain::signature::sign(body, ts, &stack.webhook_secret),
        )
        .body(body.to_vec())
        .send()
        .context("posting a demo event to the webhook")?;
    if !response.status().is_success() {
        bail!(
            "the webhook refused a demo event: {} {}",
            response.status(),
            response.text().unwrap_or_default()
        );
    }
    Ok(())
}

/// Works part of the review queue as the CSMs would, through the review function,
/// so the audit trail is real: some claimed, some reviewed, some resolved with notes.
fn apply_review_states(stack: &Stack, cluster: &Cluster) -> Result<()> {
    let sql = include_str!("demo_reviews.sql")
        .replace(":csm_north", CSM_NORTH)
        .replace(":csm_south", CSM_SOUTH);
    crate::pg::run_quiet(
        cluster.psql(&stack.db).args(["-c", &sql]),
        "applying demo review states",
    )
    .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dealership_name_in_a_transcript_becomes_the_chosen_one() {
        let text = "Agent: Chevrolet of Dedham service.\nUser: Is this Kia of Norwood?\nAgent: Honda of Quincy's sister store, yes.";
        assert_eq!(
            revoice(text, "Ford of Weymouth"),
            "Agent: Ford of Weymouth service.\nUser: Is this Ford of Weymouth?\nAgent: Ford of Weymouth's sister store, yes."
        );
    }

    #[test]
    fn words_that_only_look_like_a_brand_are_left_alone() {
        let text = "User: Honda of course, the one of mine.";
        assert_eq!(revoice(text, "Kia of Hingham"), text);
    }

    #[test]
    fn the_labelled_transcripts_keep_no_other_dealership_name() {
        let templates: Vec<Template> = serde_json::from_str(LABELLED).unwrap();
        for t in &templates {
            let text = revoice(&t.transcript, "Ford of Weymouth");
            for brand in BRANDS {
                if brand != "Ford" {
                    assert!(!text.contains(&format!("{brand} of ")), "{text}");
                }
            }
        }
    }
}
