//! The optional dashboard listener (DASHBOARD_BIND + DASHBOARD_DIR).

use std::path::PathBuf;

use crate::helpers::{spawn_app_with, Options, TestApp};

/// A built-dashboard look-alike in a temporary directory, removed on drop.
struct SiteDir(PathBuf);

impl SiteDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("gateway-test-site-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(
            dir.join("index.html"),
            "<!doctype html><title>dash</title><div id=main></div>",
        )
        .unwrap();
        std::fs::write(
            dir.join("config.json"),
            r#"{"supabase_url":"http://127.0.0.1:54321"}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("assets/app.js"),
            "console.log('dashboard');\n".repeat(200),
        )
        .unwrap();
        std::fs::write(
            dir.join("assets/style.css"),
            "body { margin: 0 }\n".repeat(50),
        )
        .unwrap();
        // A precompressed sibling: served as-is with Content-Encoding when accepted.
        std::fs::write(dir.join("assets/style.css.gz"), b"pretend-gzip").unwrap();
        Self(dir)
    }
}

impl Drop for SiteDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn app_with_site() -> (TestApp, SiteDir, String) {
    let site = SiteDir::new();
    let app = spawn_app_with(Options {
        dashboard_dir: Some(site.0.clone()),
        ..Options::default()
    })
    .await;
    let base = app.dashboard_address.clone().expect("dashboard listener");
    (app, site, base)
}

#[tokio::test]
async fn assets_are_compressed_when_the_browser_accepts_it() {
    let (app, _site, base) = app_with_site().await;
    let response = app
        .client
        .get(format!("{base}/assets/app.js"))
        .header("Accept-Encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let encoding = response.headers()["content-encoding"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(encoding == "br" || encoding == "gzip", "{encoding}");
    assert!(response.headers().get("cache-control").is_none());
    let compressed = response.bytes().await.unwrap();
    assert!(compressed.len() < "console.log('dashboard');\n".len() * 200);
}

#[tokio::test]
async fn precompressed_files_are_preferred() {
    let (app, _site, base) = app_with_site().await;
    let response = app
        .client
        .get(format!("{base}/assets/style.css"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(&response.bytes().await.unwrap()[..], b"pretend-gzip");
}

#[tokio::test]
async fn app_routes_fall_back_to_index_html_without_caching() {
    let (app, _site, base) = app_with_site().await;
    for path in ["/", "/calls/toyota-braintree/abc", "/index.html"] {
        let response = app
            .client
            .get(format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-cache", "{path}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("<title>dash</title>"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn config_json_is_served_without_caching() {
    let (app, _site, base) = app_with_site().await;
    let response = app
        .client
        .get(format!("{base}/config.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-cache");
}

#[tokio::test]
async fn a_missing_asset_is_404_not_the_app_shell() {
    let (app, _site, base) = app_with_site().await;
    let response = app
        .client
        .get(format!("{base}/assets/missing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
