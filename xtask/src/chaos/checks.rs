//! What must hold after each phase, read from the database.

use anyhow::{Context, Result};
use std::collections::HashSet;
use std::time::Duration;

use crate::pg::Cluster;
use crate::supervise::{wait_supervised, Supervisor};

pub struct Check {
    /// Acknowledged (the sender retries until it is).
    pub sent: usize,
    pub found: usize,
    pub missing: usize,
    pub duplicates: usize,
}

/// Every acknowledged id is stored once, as one event and one call.
pub fn check_stored(cluster: &Cluster, db: &str, prefix: &str, acked: &[String]) -> Result<Check> {
    let stored = cluster.query_value(
        db,
        &format!(
            "select string_agg(event_id, ' ') from public.events where event_id like '{prefix}-%'"
        ),
    )?;
    let stored: HashSet<&str> = stored.split_whitespace().collect();
    let missing = acked
        .iter()
        .filter(|id| !stored.contains(id.as_str()))
        .count();
    let duplicates: usize = cluster
        .query_value(
            db,
            &format!(
                "select (select count(*) - count(distinct call_id) from public.calls where call_id like '{prefix}-%') \
                      + (select count(*) - count(distinct event_id) from public.analysis_jobs where event_id like '{prefix}-%')"
            ),
        )?
        .parse()?;
    Ok(Check {
        sent: acked.len(),
        found: stored.len(),
        missing,
        duplicates,
    })
}

/// Waits until no job is pending, then counts jobs whose analyses are not exactly one.
pub fn check_analyses(cluster: &Cluster, db: &str, sup: &mut Supervisor) -> Result<(usize, usize)> {
    let mut pending = String::new();
    wait_supervised(
        sup,
        "the analysis queue drained",
        Duration::from_secs(300),
        |_| {
            pending = cluster
                .query_value(
                    db,
                    "select count(*) from public.analysis_jobs where status in ('queued', 'running')",
                )
                .unwrap_or_default();
            pending == "0"
        },
    )
    .with_context(|| format!("{pending} jobs still pending"))?;
    let jobs: usize = cluster
        .query_value(db, "select count(*) from public.analysis_jobs")?
        .parse()?;
    let wrong: usize = cluster
        .query_value(
            db,
            "select count(*) from public.analysis_jobs j \
             where (select count(*) from public.call_analyses a where a.job_id = j.id) <> 1",
        )?
        .parse()?;
    Ok((jobs, wrong))
}

/// How the analyses of the jobs whose event ids start with `prefix` ended.
pub struct Outcomes {
    pub ok: usize,
    pub failed: usize,
    /// Failed analyses without a `processing_errors` row for their call.
    pub failed_unrecorded: usize,
}

pub fn analysis_outcomes(cluster: &Cluster, db: &str, prefix: &str) -> Result<Outcomes> {
    let row = cluster.query_value(
        db,
        &format!(
            "select count(*) filter (where a.status = 'ok') || ' ' || \
                    count(*) filter (where a.status = 'failed') || ' ' || \
                    count(*) filter (where a.status = 'failed' and not exists ( \
                        select 1 from public.processing_errors e \
                         where e.stage = 'analysis' and e.call_id = a.call_id \
                           and e.dealership_id = a.dealership_id)) \
               from public.call_analyses a \
               join public.analysis_jobs j on j.id = a.job_id \
              where j.event_id like '{prefix}-%'"
        ),
    )?;
    let n: Vec<usize> = row
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("unexpected outcome counts {row:?}"))?;
    let [ok, failed, failed_unrecorded] = n[..] else {
        anyhow::bail!("unexpected outcome counts {row:?}");
    };
    Ok(Outcomes {
        ok,
        failed,
        failed_unrecorded,
    })
}

/// Events with a call id whose call row is missing: a write that stopped half way.
pub fn partial_rows(cluster: &Cluster, db: &str) -> Result<usize> {
    Ok(cluster
        .query_value(
            db,
            "select count(*) from public.events e \
              where e.dealership_id is not null \
                and not exists (select 1 from public.calls c \
                                 where c.dealership_id = e.dealership_id and c.call_id = e.call_id)",
        )?
        .parse()?)
}
