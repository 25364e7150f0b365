//! Part 1d: the dashboard in the browser. What it downloads: the release build of
//! the dashboard (`cargo xtask dashboard`), each file raw, gzip (level 9) and brotli
//! (quality 11) compressed, as a static host or CDN would serve them. And how long
//! it takes in headless Chromium (`browser.rs`): navigation start to the login
//! form, and login to the call list's rows, cold cache, median and spread of
//! `--browser-runs` runs, served by the gateway (release build) on the bench's
//! stack, signed in as a CSM of the seed (`queries::seed`, shared with part 1c).

use anyhow::Result;
use serde_json::json;
use std::io::Write;
use std::path::Path;

use super::{Bench, Part};
use crate::stack;

pub fn run(bench: &mut Bench) -> Result<Part> {
    let site = crate::dashboard::build()?;
    super::queries::seed(bench)?;
    stack::install_site(&bench.stack, &site)?;
    stack::start_gateway(&mut bench.sup, &bench.stack, &super::service_bin("gateway"))?;
    let (browser_json, browser_md) = super::browser::run(
        bench,
        &bench.stack.dashboard_url(),
        bench.options.browser_runs,
    )?;
    // Brotli 11 of the wasm takes minutes in xtask's debug build; the smoke run
    // only checks that numbers come out.
    let (gzip_level, brotli_quality) = if bench.options.smoke { (1, 1) } else { (9, 11) };
    let mut files = Vec::new();
    collect(&site, &site, &mut files)?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rows = Vec::new();
    let mut json_files = Vec::new();
    let (mut raw_total, mut gz_total, mut br_total) = (0usize, 0usize, 0usize);
    for (name, bytes) in &files {
        let (gz, br) = (gzip(bytes, gzip_level)?, brotli(bytes, brotli_quality)?);
        raw_total += bytes.len();
        gz_total += gz;
        br_total += br;
        rows.push(format!(
            "| {name} | {} | {} | {} |",
            kib(bytes.len()),
            kib(gz),
            kib(br)
        ));
        json_files.push(
            json!({"file": name, "raw_bytes": bytes.len(), "gzip_bytes": gz, "brotli_bytes": br}),
        );
    }
    let markdown = format!(
        "## Dashboard: download and browser timings\n\n\
         The release build (`cargo xtask dashboard`), per file: raw, gzip -9, brotli q11 (KiB).\n\n\
         | file | raw | gzip | brotli |\n| --- | ---: | ---: | ---: |\n{}\n| **total** | {} | {} | {} |\n\n{browser_md}",
        rows.join("\n"),
        kib(raw_total),
        kib(gz_total),
        kib(br_total)
    );
    Ok(Part {
        name: "dashboard".into(),
        json: json!({
            "files": json_files,
            "total": {"raw_bytes": raw_total, "gzip_bytes": gz_total, "brotli_bytes": br_total},
            "browser_timings": browser_json,
        }),
        markdown,
    })
}

fn kib(bytes: usize) -> String {
    format!("{:.1}", bytes as f64 / 1024.0)
}

/// Every file the browser may fetch (not the runtime config.json, written per stack).
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect(root, &path, out)?;
        } else if path.file_name().is_some_and(|n| n != "config.json") {
            let name = path.strip_prefix(root)?.display().to_string();
            out.push((name, std::fs::read(&path)?));
        }
    }
    Ok(())
}

fn gzip(bytes: &[u8], level: u32) -> Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    enc.write_all(bytes)?;
    Ok(enc.finish()?.len())
}

fn brotli(bytes: &[u8], quality: u32) -> Result<usize> {
    let mut out = Vec::new();
    {
        let mut enc = brotli::CompressorWriter::new(&mut out, 4096, quality, 22);
        enc.write_all(bytes)?;
    }
    Ok(out.len())
}
