//! Secrets stay secret: the service role key, the JWT secret and the webhook secret
//! (and `OPENAI_API_KEY` when one is configured; `cargo xtask test` runs the worker
//! without one, so then only the `sk-` pattern is checked) appear neither in the
//! dashboard a browser downloads nor in the services' logs of this run.
//!
//! Named `zz_` on purpose: cargo runs a package's test binaries one after another in
//! name order, so this one runs after every other e2e binary and its logs hold all
//! their traffic, including the attack suite's forged tokens. The services keep
//! running (and logging) while it reads, and its two tests run side by side, so it
//! checks the logs as they are when it runs: a secret logged after that (say, at
//! shutdown) would go unseen, and under a narrow `TEST_FILTER` there is less traffic
//! in the logs to check.

use std::path::{Path, PathBuf};

use e2e::attack::Ledger;
use e2e::env;

/// (what, value) of every secret the stack has.
fn secrets() -> Vec<(&'static str, String)> {
    let service_key = env("SUPABASE_SERVICE_ROLE_KEY");
    let webhook = env("WEBHOOK_SECRET");
    let mut out = vec![
        ("the service role key", service_key.clone()),
        (
            "the service role key's signature",
            service_key.rsplit('.').next().unwrap().to_string(),
        ),
        ("the JWT secret", env("SUPABASE_JWT_SECRET")),
        ("the webhook secret", webhook.clone()),
    ];
    if let Some(bare) = webhook.strip_prefix("whsec_") {
        out.push(("the webhook secret without its prefix", bare.to_string()));
    }
    if let Some(key) = std::env::var("OPENAI_API_KEY")
        .ok()
        .filter(|k| !k.is_empty())
    {
        out.push(("OPENAI_API_KEY", key));
    }
    for (what, value) in &out {
        assert!(value.len() >= 16, "{what} is long enough to search for");
    }
    out
}

/// Offsets of anything that looks like an OpenAI or Supabase secret key: `sk-` (not
/// inside a word) followed by at least 20 key characters, or `sb_secret_`.
fn key_like(bytes: &[u8]) -> Vec<String> {
    let is_key = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    let mut found = Vec::new();
    for i in 0..bytes.len() {
        let rest = &bytes[i..];
        let word_start = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if word_start && rest.starts_with(b"sk-") {
            let tail = rest[3..].iter().take_while(|b| is_key(**b)).count();
            if tail >= 20 {
                found
                    .push(String::from_utf8_lossy(&rest[..(3 + tail).min(12)]).to_string() + "...");
            }
        }
        if rest.starts_with(b"sb_secret_") {
            found.push("sb_secret_...".to_string());
        }
    }
    found
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Fails with every secret or key-like string found in `bytes`.
fn assert_clean(place: &str, bytes: &[u8]) {
    for (what, value) in secrets() {
        assert!(!find(bytes, value.as_bytes()), "{what} appears in {place}");
    }
    let keys = key_like(bytes);
    assert!(keys.is_empty(), "key-like strings in {place}: {keys:?}");
}

#[tokio::test]
async fn no_secret_is_in_the_dashboard_files_on_disk_or_as_served_including_the_wasm_and_config_json(
) {
    let built = PathBuf::from(env("DASHBOARD_SITE_DIR"));
    // The copy the stack serves, with its config.json (xtask writes it beside the logs).
    let served_dir = PathBuf::from(env("STACK_LOGS_DIR"))
        .parent()
        .map(|p| p.join("site"))
        .filter(|p| p.join("config.json").exists());
    let mut scanned = Vec::new();
    for dir in std::iter::once(&built).chain(served_dir.as_ref()) {
        for path in files_under(dir) {
            let bytes = std::fs::read(&path).unwrap();
            assert_clean(&path.display().to_string(), &bytes);
            scanned.push((dir.clone(), path, bytes.len()));
        }
    }
    let built_files: Vec<&PathBuf> = scanned
        .iter()
        .filter(|(d, _, _)| d == &built)
        .map(|(_, p, _)| p)
        .collect();
    let wasm = scanned
        .iter()
        .find(|(d, p, _)| d == &built && p.extension().is_some_and(|e| e == "wasm"))
        .expect("the built dashboard has its wasm binary");
    assert!(
        wasm.2 > 100_000,
        "the wasm binary is the real one: {} bytes",
        wasm.2
    );
    assert!(
        built_files.iter().any(|p| p.ends_with("index.html")),
        "the built dashboard has index.html"
    );

    // What a browser downloads: each built file, and the runtime config.json.
    let base = env("DASHBOARD_URL");
    let client = reqwest::Client::new();
    let mut served = 0;
    for path in &built_files {
        let relative = path
            .strip_prefix(&built)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let response = client
            .get(format!("{base}/{relative}"))
            .send()
            .await
            .expect("the dashboard host answers");
        assert_eq!(response.status(), 200, "{relative} is served");
        let bytes = response.bytes().await.unwrap();
        assert_clean(&format!("the served {relative}"), &bytes);
        served += 1;
    }
    let config = client
        .get(format!("{base}/config.json"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_clean("the served config.json", &config);
    // The scan sees keys where they are: the public anon key is in config.json.
    assert!(
        find(&config, env("SUPABASE_ANON_KEY").as_bytes()),
        "config.json carries the anon key (the positive control of this scan)"
    );
    let config: serde_json::Value = serde_json::from_slice(&config).expect("config.json is JSON");
    let mut keys: Vec<&str> = config
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["supabase_anon_key", "supabase_url"],
        "config.json holds nothing else"
    );

    let mut ledger = Ledger::new(
        "90-secrets",
        "The secrets of the stack, searched byte for byte (and anything shaped like an \
         `sk-...` or `sb_secret_...` key) in the built dashboard on disk (with the wasm \
         binary), the copy the stack serves with its `config.json`, the same files as \
         the dashboard host serves them, and every service log of the run. The positive \
         control: the same scan finds the public anon key in `config.json`. The logs \
         are read as they are when the test runs, after the other e2e binaries.",
        &["secret", "dashboard on disk and served", "service logs"],
    );
    let logs = scan_logs();
    for (what, _) in secrets() {
        ledger.row(&[
            what.to_string(),
            format!(
                "not found ({} built files incl. `{}`, {} served, `config.json` with keys {})",
                built_files.len(),
                wasm.1.file_name().unwrap().to_string_lossy(),
                served,
                keys.join(", ")
            ),
            format!("not found ({})", logs.join(", ")),
        ]);
    }
    ledger.row(&[
        "`sk-` / `sb_secret_` shaped keys".to_string(),
        "none".to_string(),
        "none".to_string(),
    ]);
    ledger.row(&[
        "the anon key (public, positive control)".to_string(),
        "found in `config.json`".to_string(),
        "-".to_string(),
    ]);
    ledger.finish();
}

/// Scans every log of the run and returns their names.
fn scan_logs() -> Vec<String> {
    let dir = PathBuf::from(env("STACK_LOGS_DIR"));
    let files = files_under(&dir);
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    for service in ["postgres", "postgrest", "gateway", "api", "worker"] {
        assert!(
            names.contains(&format!("{service}.log")),
            "the {service} log is there: {names:?}"
        );
    }
    let mut total = 0;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        total += bytes.len();
        assert_clean(&path.display().to_string(), &bytes);
    }
    assert!(total > 0, "the logs are not empty");
    names
}

#[tokio::test]
async fn no_secret_is_in_any_service_log_of_the_run() {
    let names = scan_logs();
    // The gateway logs each request's method and path, never its query or headers:
    // the attack suite's requests are there, without the keys they carried.
    let gateway =
        std::fs::read_to_string(PathBuf::from(env("STACK_LOGS_DIR")).join("gateway.log")).unwrap();
    assert!(
        gateway.contains("/rest/v1/"),
        "the gateway log holds the API traffic (so the scan read real logs): {names:?}"
    );
}
