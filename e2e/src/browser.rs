//! Headless Chromium for the browser tests (and the benchmark's browser timings,
//! `xtask/src/bench/browser.rs`): starts its own chromedriver on a free port with a
//! throwaway profile, and offers waits that poll with a generous deadline instead
//! of sleeping, plus screenshots into `E2E_ARTIFACTS`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// How long a wait may take before the test fails (the stack may be busy judging).
pub const WAIT: Duration = Duration::from_secs(45);

pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tool(env_key: &str, default: &str) -> String {
    std::env::var(env_key).unwrap_or_else(|_| default.to_string())
}

impl Browser {
    /// Starts chromedriver and a 1280 px wide headless Chromium.
    pub async fn start(name: &str) -> Browser {
        Browser::start_sized(name, 1280, 900).await
    }

    /// A phone-sized viewport (390x844, an iPhone 12-15).
    pub async fn start_phone(name: &str) -> Browser {
        Browser::start_sized(name, 390, 844).await
    }

    /// Starts chromedriver and a headless Chromium whose viewport is `width`x`height`.
    pub async fn start_sized(name: &str, width: u32, height: u32) -> Browser {
        Browser::try_start_sized(name, width, height)
            .await
            .unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// [`Browser::start_sized`], with an error instead of a panic (for the benchmark,
    /// `cargo xtask bench`). The profile under the temporary folder is new and empty,
    /// so nothing is cached or stored.
    pub async fn try_start_sized(name: &str, width: u32, height: u32) -> anyhow::Result<Browser> {
        let profile =
            std::env::temp_dir().join(format!("e2e-chromium-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(profile.join("xdg-config"))
            .and_then(|()| std::fs::create_dir_all(profile.join("xdg-cache")))
            .with_context(|| format!("create the profile folder {}", profile.display()))?;
        let chromedriver = tool("CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            // Chromium writes there even with --user-data-dir.
            .env("XDG_CONFIG_HOME", profile.join("xdg-config"))
            .env("XDG_CACHE_HOME", profile.join("xdg-cache"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!("could not start {chromedriver} (set CHROMEDRIVER to its path)")
            })?;
        let browser_profile = profile.join("user-data");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": tool("CHROMIUM", "/usr/bin/chromium"),
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", browser_profile.display()),
                ]
            }
        });
        // A desktop window is at least 500 px wide, so a phone's viewport is
        // Chromium's device emulation (the same renderer, a 390 px layout viewport).
        let mut capabilities = capabilities;
        if width < 500 {
            capabilities["goog:chromeOptions"]["mobileEmulation"] = json!({
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 3.0}
            });
        }
        let capabilities = capabilities.as_object().unwrap().clone();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        let mut driver = driver;
        let client = loop {
            let attempt =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(capabilities.clone())
                    .connect(&url)
                    .await;
            match attempt {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => {
                    let _ = driver.kill();
                    let _ = driver.wait();
                    let _ = std::fs::remove_dir_all(&profile);
                    anyhow::bail!(
                        "chromedriver on port {port} did not start a Chromium session: {e}"
                    );
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        };
        Ok(Browser {
            client,
            driver,
            profile,
        })
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The first element matching `css`, once it exists.
    pub async fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                return element;
            }
            if Instant::now() > deadline {
                self.screenshot(&format!("timeout-{}", sanitize(css))).await;
                panic!("timed out waiting for `{css}` (screenshot saved)");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Polls `check` (which reads the page) until it returns Some.
    pub async fn until<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(value) = check().await {
                return value;
            }
            if Instant::now() > deadline {
                self.screenshot(&format!("timeout-{}", sanitize(what)))
                    .await;
                panic!("timed out waiting for {what} (screenshot saved)");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Text of every element matching `css` (empty when none).
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for element in self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
        {
            out.push(element.text().await.unwrap_or_default());
        }
        out
    }

    /// The values of `attribute` on every element matching `css`.
    pub async fn attributes(&self, css: &str, attribute: &str) -> Vec<String> {
        let mut out = Vec::new();
        for element in self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
        {
            out.push(
                element
                    .attr(attribute)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default(),
            );
        }
        out
    }

    pub async fn sign_in(&self, email: &str, password: &str) {
        self.wait_for("#email")
            .await
            .send_keys(email)
            .await
            .unwrap();
        self.wait_for("#password")
            .await
            .send_keys(password)
            .await
            .unwrap();
        self.wait_for("#sign-in").await.click().await.unwrap();
        self.wait_for("#sign-out").await;
    }

    /// Runs `script` (a function body that returns a value) in the page.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script `{script}`: {e}"))
    }

    /// Has Chromium run `source` (a script) in every new document of this session,
    /// before the page's own scripts: Chrome DevTools'
    /// `Page.addScriptToEvaluateOnNewDocument`, through chromedriver's DevTools
    /// passthrough (`POST /session/{id}/goog/cdp/execute`).
    pub async fn on_new_document(&self, source: &str) -> Result<(), CmdError> {
        self.client
            .issue_cmd(Cdp {
                cmd: "Page.addScriptToEvaluateOnNewDocument",
                params: json!({ "source": source }),
            })
            .await
            .map(drop)
    }

    /// Types `keys` into whatever has the keyboard focus, as a user would.
    pub async fn type_keys(&self, keys: &str) {
        self.client
            .active_element()
            .await
            .unwrap()
            .send_keys(keys)
            .await
            .unwrap();
    }

    /// Saves a PNG of the page as `<E2E_ARTIFACTS>/<name>.png` (best effort).
    pub async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(
            std::env::var("E2E_ARTIFACTS").unwrap_or_else(|_| "target/e2e-artifacts".into()),
        );
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    /// A failed test never reaches `close`: still stop chromedriver (Chromium exits with it).
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A Chrome DevTools command sent through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session.expect("a DevTools command needs a session");
        base.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}
