//! Just enough W3C WebDriver, over blocking HTTP, to drive the headless Chromium the
//! browser tests use (`e2e/src/browser.rs` does the same with fantoccini, which
//! xtask does not depend on): chromedriver on a free port, one session per
//! throwaway profile, navigation, scripts, typing and clicks, and chromedriver's
//! Chrome DevTools passthrough for a script that runs before the page's own.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::supervise::wait_until;

/// The key W3C WebDriver names an element reference with.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn tool(env_key: &str, default: &str) -> String {
    std::env::var(env_key).unwrap_or_else(|_| default.to_string())
}

/// A chromedriver process; stopped when dropped.
pub struct Driver {
    child: Child,
    url: String,
    http: reqwest::blocking::Client,
    dir: PathBuf,
}

impl Driver {
    /// chromedriver (`CHROMEDRIVER`, default `/usr/bin/chromedriver`, as the browser
    /// tests) on a free port, its files under `dir`.
    pub fn start(dir: &Path) -> Result<Driver> {
        std::fs::create_dir_all(dir.join("xdg-config"))?;
        std::fs::create_dir_all(dir.join("xdg-cache"))?;
        let port = super::services::free_port()?;
        let chromedriver = tool("CHROMEDRIVER", "/usr/bin/chromedriver");
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            // Chromium writes there even with --user-data-dir.
            .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
            .env("XDG_CACHE_HOME", dir.join("xdg-cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("could not start {chromedriver} (set CHROMEDRIVER)"))?;
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()?,
            dir: dir.to_path_buf(),
        };
        wait_until("chromedriver", Duration::from_secs(30), || {
            driver
                .http
                .get(format!("{}/status", driver.url))
                .send()
                .ok()
                .and_then(|r| r.json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == true)
        })?;
        Ok(driver)
    }

    /// A new headless Chromium (`CHROMIUM`, default `/usr/bin/chromium`) with an
    /// empty profile: nothing cached, nothing stored. `name` names its profile folder.
    pub fn session(&self, name: &str, width: u32, height: u32) -> Result<Session<'_>> {
        let profile = self.dir.join(format!("profile-{name}"));
        let _ = std::fs::remove_dir_all(&profile);
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": tool("CHROMIUM", "/usr/bin/chromium"),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let value = self.call(
            reqwest::Method::POST,
            "/session",
            Some(json!({"capabilities": {"alwaysMatch": capabilities}})),
        )?;
        let id = value["sessionId"]
            .as_str()
            .context("chromedriver answered a new session without a sessionId")?
            .to_string();
        Ok(Session {
            driver: self,
            id,
            profile,
        })
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .with_context(|| format!("chromedriver {path}"))?;
        let status = response.status();
        let body: Value = response
            .json()
            .with_context(|| format!("chromedriver {path}: not JSON"))?;
        if !status.is_success() {
            bail!(
                "chromedriver {path}: {status}: {} {}",
                body["value"]["error"].as_str().unwrap_or("?"),
                body["value"]["message"].as_str().unwrap_or("")
            );
        }
        Ok(body["value"].clone())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser; closed (and its profile removed) when dropped.
pub struct Session<'a> {
    driver: &'a Driver,
    id: String,
    profile: PathBuf,
}

impl Session<'_> {
    fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.driver.call(
            reqwest::Method::POST,
            &format!("/session/{}{path}", self.id),
            Some(body),
        )
    }

    /// Navigates and returns once the page has loaded (WebDriver's default
    /// page-load strategy).
    pub fn goto(&self, url: &str) -> Result<()> {
        self.post("/url", json!({ "url": url })).map(drop)
    }

    /// Runs `script` (a function body) in the page and returns what it returns.
    pub fn eval(&self, script: &str) -> Result<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
    }

    /// Chrome DevTools: `source` runs in every new document before its own scripts.
    pub fn on_new_document(&self, source: &str) -> Result<()> {
        self.post(
            "/goog/cdp/execute",
            json!({"cmd": "Page.addScriptToEvaluateOnNewDocument", "params": {"source": source}}),
        )
        .map(drop)
    }

    fn element(&self, css: &str) -> Result<String> {
        let value = self.post("/element", json!({"using": "css selector", "value": css}))?;
        Ok(value[ELEMENT]
            .as_str()
            .with_context(|| format!("no element reference for `{css}`"))?
            .to_string())
    }

    /// Types `text` into the element `css` matches, key by key as a user would.
    pub fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let element = self.element(css)?;
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .map(drop)
    }

    pub fn click(&self, css: &str) -> Result<()> {
        let element = self.element(css)?;
        self.post(&format!("/element/{element}/click"), json!({}))
            .map(drop)
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self.driver.call(
            reqwest::Method::DELETE,
            &format!("/session/{}", self.id),
            None,
        );
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
