//! Faults injected into the stack's real processes.

use anyhow::{Context, Result};
use std::time::{Duration, Instant};

use crate::pg::Cluster;
use crate::supervise::{wait_supervised, Supervisor};

/// How many times each process is killed.
pub const KILLS: usize = 3;
/// Time between two kills (the supervisor allows three restarts a minute).
const BETWEEN_KILLS: Duration = Duration::from_secs(6);

/// SIGKILLs `service` [`KILLS`] times, waiting for the supervisor to bring it back
/// (and for `healthy`) after each.
pub fn kill_repeatedly(
    sup: &mut Supervisor,
    service: &str,
    mut healthy: impl FnMut() -> bool,
) -> Result<usize> {
    for _ in 0..KILLS {
        pause(sup, BETWEEN_KILLS)?;
        let pid = sup.pid(service).context("the service runs")?;
        println!("xtask chaos: SIGKILL {service} (pid {pid})");
        // SAFETY: signalling a process this supervisor started.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        wait_supervised(
            sup,
            &format!("{service} restarted"),
            Duration::from_secs(90),
            |sup| sup.pid(service).is_some_and(|p| p != pid) && healthy(),
        )?;
    }
    Ok(KILLS)
}

/// Sleeps while keeping the supervisor's restarts going.
pub fn pause(sup: &mut Supervisor, how_long: Duration) -> Result<()> {
    let until = Instant::now() + how_long;
    while Instant::now() < until {
        sup.check()?;
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

pub fn http_ok(url: &str) -> bool {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .ok()
        .and_then(|c| c.get(url).send().ok())
        .is_some_and(|r| r.status().is_success())
}

/// Terminates the worker's LISTEN connection; returns how many were terminated.
pub fn drop_listen_connection(cluster: &Cluster, db: &str) -> Result<usize> {
    Ok(cluster
        .query_value(
            db,
            "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity \
             where query ilike 'listen%') t",
        )?
        .parse()?)
}
