//! A small process supervisor: each service runs in its own process group with its
//! output in a log file; a service that exits (crash, SIGKILL or a clean stop) is
//! restarted after a growing delay, up to a limit per minute, and the supervisor
//! says so; shutdown stops everything in reverse start order, leaving no orphans.
//! Children also get SIGTERM if this process dies (PR_SET_PDEATHSIG), so even
//! `kill -9` of xtask does not leave the stack running.

use anyhow::{bail, Context, Result};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

type MakeCommand = Box<dyn Fn() -> Command>;

struct Service {
    name: String,
    make: MakeCommand,
    log: PathBuf,
    /// The signal that asks this program for a quick, clean stop.
    stop_signal: i32,
    restart: Restart,
    child: Option<Child>,
    /// When each restart of the last minute happened.
    restarts: Vec<Instant>,
    /// Set while the service is down and waiting out its backoff.
    restart_due: Option<Instant>,
}

/// How a service that exited is restarted: after `first_delay`, doubling with each
/// restart of the last minute up to `max_delay`; after `per_minute` restarts within
/// one minute the supervisor gives up and the stack stops.
#[derive(Clone, Copy, Debug)]
pub struct Restart {
    pub per_minute: usize,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Restart {
    pub const DEFAULT: Restart = Restart {
        per_minute: 3,
        first_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(8),
    };

    /// The wait before the next restart, given how many happened in the last minute.
    pub fn delay(&self, recent: usize) -> Duration {
        let factor = 1u32 << recent.min(16);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

pub struct Supervisor {
    services: Vec<Service>,
    stopping: Arc<AtomicBool>,
}

pub struct Spec {
    pub name: String,
    pub log: PathBuf,
    pub stop_signal: i32,
    pub restart: Restart,
}

impl Spec {
    pub fn new(name: &str, logs: &Path) -> Spec {
        Spec {
            name: name.to_string(),
            log: logs.join(format!("{name}.log")),
            stop_signal: libc::SIGTERM,
            restart: Restart::DEFAULT,
        }
    }
}

impl Supervisor {
    pub fn new(stopping: Arc<AtomicBool>) -> Supervisor {
        Supervisor {
            services: Vec::new(),
            stopping,
        }
    }

    pub fn spawn(&mut self, spec: Spec, make: impl Fn() -> Command + 'static) -> Result<()> {
        let mut service = Service {
            name: spec.name,
            make: Box::new(make),
            log: spec.log,
            stop_signal: spec.stop_signal,
            restart: spec.restart,
            child: None,
            restarts: Vec::new(),
            restart_due: None,
        };
        start(&mut service)?;
        self.services.push(service);
        Ok(())
    }

    /// Restarts services that exited once their backoff has passed; fails when one
    /// keeps dying (more than its limit of restarts within a minute) or cannot start.
    pub fn check(&mut self) -> Result<()> {
        for service in &mut self.services {
            if self.stopping.load(Ordering::SeqCst) {
                return Ok(());
            }
            if let Some(due) = service.restart_due {
                if Instant::now() >= due {
                    service.restart_due = None;
                    eprintln!("xtask: restarting {}", service.name);
                    start(service)?;
                }
                continue;
            }
            let Some(child) = service.child.as_mut() else {
                continue;
            };
            let Some(status) = child.try_wait()? else {
                continue;
            };
            // What the service left in its group goes too (e.g. the backends of a
            // killed postmaster, which would keep the new one from starting).
            kill_group(child, libc::SIGKILL);
            service.child = None;
            let now = Instant::now();
            service
                .restarts
                .retain(|t| now.duration_since(*t) < Duration::from_secs(60));
            let limit = service.restart.per_minute;
            if service.restarts.len() >= limit {
                bail!(
                    "{} exited ({status}) and was not restarted ({} restarts within a minute is its limit). Last lines of {}:\n{}",
                    service.name,
                    limit,
                    service.log.display(),
                    tail(&service.log, 15)
                );
            }
            let delay = service.restart.delay(service.restarts.len());
            service.restarts.push(now);
            service.restart_due = Some(now + delay);
            eprintln!(
                "xtask: {} exited ({status}); restarting it in {:.1} s (restart {} of at most {limit} a minute); see {}",
                service.name,
                delay.as_secs_f64(),
                service.restarts.len(),
                service.log.display()
            );
        }
        Ok(())
    }

    /// Restarts of `name` within the last minute (for tests and status lines).
    pub fn recent_restarts(&self, name: &str) -> usize {
        let now = Instant::now();
        self.services
            .iter()
            .filter(|s| s.name == name)
            .map(|s| {
                s.restarts
                    .iter()
                    .filter(|t| now.duration_since(**t) < Duration::from_secs(60))
                    .count()
            })
            .sum()
    }

    /// The process id of a running service (its process group id too).
    pub fn pid(&self, name: &str) -> Option<u32> {
        self.services
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.child.as_ref())
            .map(Child::id)
    }

    /// Stops every service, newest first: the stop signal, then SIGKILL after a grace period.
    pub fn shutdown(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        while let Some(mut service) = self.services.pop() {
            let Some(mut child) = service.child.take() else {
                continue;
            };
            if child.try_wait().ok().flatten().is_some() {
                continue;
            }
            let pgid = child.id() as i32;
            // SAFETY: signalling our own child's process group.
            unsafe { libc::kill(-pgid, service.stop_signal) };
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() > deadline => {
                        eprintln!("xtask: {} did not stop in time; killing it", service.name);
                        // SAFETY: as above.
                        unsafe { libc::kill(-pgid, libc::SIGKILL) };
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
            // Anything the service left in its group goes too.
            // SAFETY: as above; ESRCH when the group is already empty is fine.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
    }
}

fn kill_group(child: &Child, signal: i32) {
    // SAFETY: signalling our own child's process group; ESRCH when it is empty is fine.
    unsafe { libc::kill(-(child.id() as i32), signal) };
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn start(service: &mut Service) -> Result<()> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&service.log)
        .with_context(|| format!("opening {}", service.log.display()))?;
    let mut cmd = (service.make)();
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0);
    // SAFETY: prctl is async-signal-safe; it only sets a flag on the new process.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("could not start {}", service.name))?;
    service.child = Some(child);
    Ok(())
}

/// The last `n` lines of a log file, for error messages.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Polls `check` until it succeeds, failing after `timeout` with `what` in the message.
pub fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("{what} was not ready after {} s", timeout.as_secs())
}

/// [`wait_until`] while keeping `sup`'s restarts going: a service that fails for
/// good ends the wait with the supervisor's error, not a timeout.
pub fn wait_supervised(
    sup: &mut Supervisor,
    what: &str,
    timeout: Duration,
    mut ready: impl FnMut(&Supervisor) -> bool,
) -> Result<()> {
    let mut last_check = Ok(());
    let result = wait_until(what, timeout, || {
        last_check = sup.check();
        last_check.is_err() || ready(sup)
    });
    last_check?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick(per_minute: usize) -> Restart {
        Restart {
            per_minute,
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(1),
        }
    }

    fn sleeper(sup: &mut Supervisor, logs: &Path, restart: Restart) {
        let mut spec = Spec::new("sleeper", logs);
        spec.restart = restart;
        sup.spawn(spec, || {
            let mut cmd = Command::new("sleep");
            cmd.arg("60");
            cmd
        })
        .expect("sleep starts");
    }

    fn kill(pid: u32, signal: i32) {
        // SAFETY: signalling a child this test started.
        assert_eq!(unsafe { libc::kill(pid as i32, signal) }, 0);
    }

    fn logs() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "xtask-supervise-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_backoff_doubles_up_to_its_cap() {
        let r = Restart::DEFAULT;
        assert_eq!(r.delay(0), Duration::from_millis(500));
        assert_eq!(r.delay(1), Duration::from_secs(1));
        assert_eq!(r.delay(2), Duration::from_secs(2));
        assert_eq!(r.delay(10), Duration::from_secs(8));
        assert_eq!(r.delay(usize::MAX), Duration::from_secs(8));
    }

    #[test]
    fn a_killed_service_is_restarted_until_its_limit_then_the_supervisor_gives_up() {
        let logs = logs();
        let mut sup = Supervisor::new(Arc::new(AtomicBool::new(false)));
        sleeper(&mut sup, &logs, quick(2));
        for round in 1..=2 {
            let pid = sup.pid("sleeper").expect("running");
            kill(pid, libc::SIGKILL);
            let killed_at = Instant::now();
            wait_until("the restarted sleeper", Duration::from_secs(10), || {
                sup.check().expect("within the limit");
                sup.pid("sleeper").is_some_and(|p| p != pid)
            })
            .unwrap();
            // The backoff was waited out: 200 ms, then 400 ms.
            assert!(killed_at.elapsed() >= Duration::from_millis(200 << (round - 1)));
            assert_eq!(sup.recent_restarts("sleeper"), round);
        }
        kill(sup.pid("sleeper").unwrap(), libc::SIGKILL);
        let mut failure = None;
        wait_until("the supervisor giving up", Duration::from_secs(10), || {
            failure = sup.check().err();
            failure.is_some()
        })
        .unwrap();
        let message = failure.unwrap().to_string();
        assert!(
            message.contains("sleeper") && message.contains("was not restarted"),
            "{message}"
        );
        sup.shutdown();
        let _ = std::fs::remove_dir_all(logs);
    }

    #[test]
    fn a_clean_exit_is_restarted_too() {
        let logs = logs();
        let mut sup = Supervisor::new(Arc::new(AtomicBool::new(false)));
        sleeper(&mut sup, &logs, quick(3));
        let pid = sup.pid("sleeper").unwrap();
        // SIGTERM ends `sleep` as a clean stop would end a server.
        kill(pid, libc::SIGTERM);
        wait_until("the restarted sleeper", Duration::from_secs(10), || {
            sup.check().unwrap();
            sup.pid("sleeper").is_some_and(|p| p != pid)
        })
        .unwrap();
        sup.shutdown();
        let _ = std::fs::remove_dir_all(logs);
    }

    #[test]
    fn nothing_is_restarted_once_stopping() {
        let logs = logs();
        let stopping = Arc::new(AtomicBool::new(false));
        let mut sup = Supervisor::new(stopping.clone());
        sleeper(&mut sup, &logs, quick(3));
        let pid = sup.pid("sleeper").unwrap();
        stopping.store(true, Ordering::SeqCst);
        kill(pid, libc::SIGKILL);
        std::thread::sleep(Duration::from_millis(500));
        sup.check().unwrap();
        assert_eq!(sup.recent_restarts("sleeper"), 0);
        sup.shutdown();
        let _ = std::fs::remove_dir_all(logs);
    }
}
