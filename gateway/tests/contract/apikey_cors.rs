//! The Kong part: `apikey` required on both prefixes, CORS, health, unknown routes.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, ANON_KEY, SERVICE_ROLE_KEY};

#[tokio::test]
async fn requests_without_an_apikey_get_401_no_api_key_on_both_prefixes() {
    let app = spawn_app().await;
    for path in [
        "/auth/v1/user",
        "/auth/v1/token?grant_type=password",
        "/rest/v1/anything",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 401, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"message": "No API key found in request"}),
            "{path}"
        );
    }
}

#[tokio::test]
async fn an_unknown_apikey_gets_401_invalid_credentials() {
    let app = spawn_app().await;
    for path in ["/auth/v1/user", "/rest/v1/anything"] {
        let response = app
            .client
            .get(app.url(path))
            .header("apikey", "not-a-key")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"message": "Invalid authentication credentials"})
        );
    }
}

#[tokio::test]
async fn health_answers_like_gotrue_with_or_without_a_key() {
    let app = spawn_app().await;
    let by_header = app
        .client
        .get(app.url("/auth/v1/health"))
        .header("apikey", SERVICE_ROLE_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200);
    let body: Value = by_header.json().await.unwrap();
    assert_eq!(body["name"], "GoTrue");
    assert!(body["version"].is_string());
    assert_eq!(
        body["description"],
        "GoTrue is a user registration and authentication API"
    );

    let by_query = app
        .client
        .get(app.url(&format!("/auth/v1/health?apikey={ANON_KEY}")))
        .send()
        .await
        .unwrap();
    assert_eq!(by_query.status(), 200);

    // Open to probes without a key (hosted Supabase's Kong would want one).
    let bare = app
        .client
        .get(app.url("/auth/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 200);
    let body: Value = bare.json().await.unwrap();
    assert_eq!(body["name"], "GoTrue");
}

#[tokio::test]
async fn cors_preflight_allows_what_supabase_js_sends_without_an_apikey() {
    let app = spawn_app().await;
    let requested = "apikey,authorization,content-type,x-client-info,x-retry-count,prefer,range,accept-profile,content-profile,x-supabase-api-version";
    for path in [
        "/auth/v1/token?grant_type=password",
        "/rest/v1/gateway_test_notes",
    ] {
        let response = app
            .client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("Origin", "http://localhost:54390")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", requested)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase()
        };
        assert_eq!(header("access-control-allow-origin"), "*");
        assert!(header("access-control-allow-methods").contains("post"));
        assert!(header("access-control-allow-methods").contains("patch"));
        let allowed = header("access-control-allow-headers");
        for name in requested.split(',') {
            assert!(allowed.contains(name), "{name} not allowed: {allowed}");
        }
    }
}

#[tokio::test]
async fn cors_headers_are_on_answers_and_errors_and_expose_paging_headers() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/rest/v1/anything"))
        .header("Origin", "http://localhost:54390")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in [
        "content-range",
        "x-total-count",
        "x-supabase-api-version",
        "location",
    ] {
        assert!(exposed.contains(name), "{name} not exposed: {exposed}");
    }
}

#[tokio::test]
async fn paths_outside_the_two_prefixes_get_kongs_404() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/storage/v1/object"))
        .header("apikey", ANON_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"message": "no Route matched with those values"})
    );
}

#[tokio::test]
async fn unknown_auth_endpoints_get_gotrues_404() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/auth/v1/settingz"))
        .header("apikey", ANON_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}
