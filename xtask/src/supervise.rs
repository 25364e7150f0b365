//! A small process supervisor: each service runs in its own process group with its
//! output in a log file; a service that exits is restarted a few times, and shutdown
//! stops everything in reverse start order, leaving no orphans. Children also get
//! SIGTERM if this process dies (PR_SET_PDEATHSIG), so even `kill -9` of xtask does
//! not leave the stack running.

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
    restartable: bool,
    child: Option<Child>,
    restarts: Vec<Instant>,
}

pub struct Supervisor {
    services: Vec<Service>,
    stopping: Arc<AtomicBool>,
}

pub struct Spec {
    pub name: String,
    pub log: PathBuf,
    pub stop_signal: i32,
    pub restartable: bool,
}

impl Spec {
    pub fn new(name: &str, logs: &Path) -> Spec {
        Spec {
            name: name.to_string(),
            log: logs.join(format!("{name}.log")),
            stop_signal: libc::SIGTERM,
            restartable: true,
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
            restartable: spec.restartable,
            child: None,
            restarts: Vec::new(),
        };
        start(&mut service)?;
        self.services.push(service);
        Ok(())
    }

    /// Restarts services that exited; fails when one keeps dying or cannot restart.
    pub fn check(&mut self) -> Result<()> {
        for service in &mut self.services {
            let Some(child) = service.child.as_mut() else {
                continue;
            };
            let Some(status) = child.try_wait()? else {
                continue;
            };
            if self.stopping.load(Ordering::SeqCst) {
                return Ok(());
            }
            let now = Instant::now();
            service
                .restarts
                .retain(|t| now.duration_since(*t) < Duration::from_secs(60));
            eprintln!(
                "xtask: {} exited ({status}); see {}",
                service.name,
                service.log.display()
            );
            if !service.restartable || service.restarts.len() >= 3 {
                bail!(
                    "{} stopped and was not restarted. Last lines of {}:\n{}",
                    service.name,
                    service.log.display(),
                    tail(&service.log, 15)
                );
            }
            service.restarts.push(now);
            std::thread::sleep(Duration::from_millis(500));
            eprintln!("xtask: restarting {}", service.name);
            start(service)?;
        }
        Ok(())
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
