//! `cargo xtask prepare`: regenerates the committed sqlx offline metadata (`.sqlx/`)
//! from a throwaway database with every migration applied, so builds and CI never
//! need a database to type-check queries.

use anyhow::Result;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::install::{self, run_ok};
use crate::stack::Ports;
use crate::supervise::Supervisor;
use crate::{paths, pg, stack};

pub fn run() -> Result<()> {
    install::ensure(install::Purpose::Up)?;
    let tmp = std::env::temp_dir().join(format!("dcm-prepare-{}", std::process::id()));
    std::fs::create_dir_all(tmp.join("logs"))?;
    let result = (|| -> Result<()> {
        let mut sup = Supervisor::new(Arc::new(AtomicBool::new(false)));
        let cluster = pg::Cluster::at(tmp.join("pg"), Ports::free()?.pg, pg::Durability::Fast)?;
        stack::start_postgres(&mut sup, &cluster, &tmp.join("logs"))?;
        cluster.prepare_database("sqlx", false)?;
        let root = paths::root();
        let offline = root.join(".sqlx");
        for entry in std::fs::read_dir(&offline)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "json") {
                std::fs::remove_file(path)?;
            }
        }
        // The macros only write metadata when they expand, so force a re-expansion.
        run_ok(
            Command::new("cargo")
                .args(["clean", "-p", "api", "-p", "worker", "-p", "gateway"])
                .current_dir(&root),
            "cargo clean",
        )?;
        run_ok(
            Command::new("cargo")
                .args(["check", "--quiet", "--all-targets"])
                .env("SQLX_OFFLINE", "false")
                .env("DATABASE_URL", cluster.url("sqlx"))
                .current_dir(&root),
            "cargo check (online, writing .sqlx/)",
        )?;
        println!("xtask: .sqlx/ refreshed; commit it with the change");
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}
