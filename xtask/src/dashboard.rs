//! Builds the Dioxus dashboard for wasm32 in release mode: cargo (rustup's, or
//! Debian's rustc-web with `-Zbuild-std` where rustup has no wasm32 std), then
//! wasm-bindgen, then wasm-opt (skipped when the wasm did not change), into
//! `target/site/`. The runtime `config.json` is written per stack, not here, so one
//! build serves any environment.

use anyhow::Result;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::install::{self, run_ok, WasmRoute};
use crate::paths;

const TARGET: &str = "wasm32-unknown-unknown";

pub fn build() -> Result<PathBuf> {
    let route = install::wasm_route();
    let wasm_target_dir = paths::target_dir().join(match route {
        WasmRoute::Rustup => "wasm",
        WasmRoute::Debian { .. } => "wasm-debian",
    });
    let mut cargo = match &route {
        WasmRoute::Rustup => Command::new("cargo"),
        WasmRoute::Debian { llvm_major } => {
            let mut c = Command::new("/usr/bin/cargo");
            let path = std::env::var("PATH").unwrap_or_default();
            c.env("PATH", format!("/usr/bin:{path}"))
                .env("RUSTC", "/usr/bin/rustc")
                .env("RUSTDOC", "/usr/bin/rustdoc")
                .env("RUSTC_BOOTSTRAP", "1")
                .env_remove("RUSTUP_TOOLCHAIN")
                .args(["-Zbuild-std=std,panic_abort", "--config"])
                .arg(format!("target.{TARGET}.linker=\"wasm-ld-{llvm_major}\""));
            c
        }
    };
    cargo
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "dashboard",
            "--target",
            TARGET,
        ])
        .arg("--target-dir")
        .arg(&wasm_target_dir)
        .current_dir(paths::root());
    println!("xtask: building the dashboard (wasm32, release)");
    run_ok(&mut cargo, "the dashboard build (cargo, wasm32)")?;

    let wasm = wasm_target_dir
        .join(TARGET)
        .join("release")
        .join("dashboard.wasm");
    let bindgen_out = paths::target_dir().join("wasm-bindgen");
    let _ = std::fs::remove_dir_all(&bindgen_out);
    run_ok(
        Command::new(install::wasm_bindgen_bin())
            .args(["--target", "web", "--no-typescript", "--out-dir"])
            .arg(&bindgen_out)
            .arg(&wasm),
        "wasm-bindgen",
    )?;

    let site = paths::target_dir().join("site");
    let _ = std::fs::remove_dir_all(&site);
    std::fs::create_dir_all(site.join("pkg"))?;
    paths::copy_dir(&bindgen_out, &site.join("pkg"))?;
    let wasm_name = site.join("pkg").join("dashboard_bg.wasm");
    optimize(&bindgen_out.join("dashboard_bg.wasm"), &wasm_name)?;
    let static_dir = paths::root().join("dashboard").join("static");
    paths::copy_dir(&static_dir, &site)?;
    Ok(site)
}

/// wasm-opt -Oz, cached by the input's hash (it takes ~10 s and rarely has new input).
fn optimize(input: &Path, output: &Path) -> Result<()> {
    let bytes = std::fs::read(input)?;
    let hash = hex::encode(Sha256::digest(&bytes));
    let cache = paths::target_dir().join("wasm-opt-cache");
    std::fs::create_dir_all(&cache)?;
    let cached = cache.join(format!("{hash}.wasm"));
    if !cached.exists() {
        let tmp = cache.join("partial.wasm");
        run_ok(
            Command::new(paths::node_bin("wasm-opt"))
                .args([
                    "-Oz",
                    "--enable-bulk-memory",
                    "--enable-nontrapping-float-to-int",
                    "--enable-sign-ext",
                    "--enable-mutable-globals",
                    "--enable-reference-types",
                    "--enable-multivalue",
                ])
                .arg(input)
                .arg("-o")
                .arg(&tmp),
            "wasm-opt",
        )?;
        std::fs::rename(&tmp, &cached)?;
    }
    std::fs::copy(&cached, output)?;
    Ok(())
}
