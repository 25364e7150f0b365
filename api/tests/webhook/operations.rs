//! Operability: health, readiness, metrics, the OpenAPI document, graceful
//! shutdown, and start-up refusal of bad configuration.

use std::time::Duration;

use api::signature::sign;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn healthz_and_readyz_answer_200_when_the_database_is_reachable() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn metrics_count_requests_by_outcome_and_rejections_by_reason() {
    let app = spawn_app().await;
    app.deliver(NORMALIZED_GOOD).await;
    app.deliver(NORMALIZED_GOOD).await;
    let bad = app
        .post_webhook_raw(
            NORMALIZED_BAD,
            &[
                ("content-type", "application/json".into()),
                ("x-retell-signature", sign(b"other", now_ms(), SECRET)),
            ],
        )
        .await;
    assert_eq!(bad.status(), 401);

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    for line in [
        r#"webhook_requests_total{outcome="accepted"} 1"#,
        r#"webhook_requests_total{outcome="duplicate"} 1"#,
        r#"webhook_requests_total{outcome="rejected"} 1"#,
        r#"webhook_rejections_total{reason="invalid_signature"} 1"#,
        "webhook_duplicates_total 1",
        "webhook_analysis_jobs_enqueued_total 1",
        "webhook_request_duration_seconds_count 3",
        r#"webhook_request_duration_seconds_bucket{le="+Inf"} 3"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_webhook_response() {
    let app = spawn_app().await;
    let response = app.get("/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let responses = doc["paths"]["/webhooks/retell"]["post"]["responses"]
        .as_object()
        .expect("webhook responses");
    for code in [
        "200", "400", "401", "403", "408", "413", "415", "422", "500", "503",
    ] {
        assert!(
            responses.contains_key(code),
            "response {code} is not documented"
        );
    }
    assert!(responses["503"]["headers"]["Retry-After"].is_object());
    let error_codes = doc["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
        .as_array()
        .unwrap();
    for code in api::error::CLIENT_ERROR_CODES
        .iter()
        .chain(&["database_unavailable"])
    {
        assert!(error_codes.contains(&Value::from(*code)), "{code} missing");
    }
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish() {
    let app = spawn_app().await;

    // Hold a conflicting, uncommitted insert of the same event_id so the app's
    // request blocks inside its transaction until we let go.
    let mut blocker = app.pool.begin().await.unwrap();
    sqlx::query!(
        r#"insert into public.events (event_id, event_type, source, call_id, occurred_at, raw_body, raw_payload)
           values ('evt_0001', 'call_completed', 'normalized', 'call_0001', now(), '\x7b7d', '{}')"#
    )
    .execute(&mut *blocker)
    .await
    .unwrap();

    let request = tokio::spawn({
        let (client, url) = (app.client.clone(), app.url("/webhooks/retell"));
        async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .header(
                    "x-retell-signature",
                    sign(NORMALIZED_GOOD.as_bytes(), now_ms(), SECRET),
                )
                .body(NORMALIZED_GOOD)
                .send()
                .await
        }
    });

    // Wait (by polling, not by sleeping a fixed time) until the request is
    // blocked on our lock: it is then certainly in flight.
    let db_name = app.test_db.name.clone();
    loop {
        let waiting = sqlx::query_scalar!(
            r#"select count(*) as "n!" from pg_stat_activity
               where datname = $1 and wait_event_type = 'Lock'"#,
            db_name
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            !request.is_finished(),
            "the request finished before blocking"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    app.shutdown.cancel();
    blocker.rollback().await.unwrap();

    let response = request
        .await
        .unwrap()
        .expect("in-flight request was cut off");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["status"],
        "accepted"
    );
    assert_eq!(app.events_count().await, 1);
    app.server
        .await
        .unwrap()
        .expect("server stopped with an error");
}

#[test]
fn a_bad_configuration_fails_at_start_naming_the_variable() {
    let run = |vars: &[(&str, &str)]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_api"))
            .env_clear()
            .envs(vars.iter().copied())
            .output()
            .expect("run the api binary");
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let url = ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/postgres");
    assert!(run(&[]).contains("DATABASE_URL"));
    assert!(run(&[url]).contains("WEBHOOK_SECRETS"));
    let stderr = run(&[
        url,
        ("WEBHOOK_SECRETS", SECRET),
        ("WEBHOOK_MAX_BODY_BYTES", "lots"),
    ]);
    assert!(stderr.contains("WEBHOOK_MAX_BODY_BYTES"), "{stderr}");
    assert!(!stderr.contains(SECRET), "a secret leaked into: {stderr}");
}

#[test]
fn the_example_placeholder_or_a_short_secret_stops_the_service_at_start() {
    let run = |secrets: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_api"))
            .env_clear()
            .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/postgres")
            .env("WEBHOOK_SECRETS", secrets)
            .output()
            .expect("run the api binary");
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let placeholder = run("replace-me-with-a-long-random-secret");
    assert!(
        placeholder.contains("WEBHOOK_SECRETS") && placeholder.contains("placeholder"),
        "{placeholder}"
    );
    // 31 bytes: long enough before, too short now.
    let short = "whsec_0123456789abcdef012345678";
    assert_eq!(short.len(), 31);
    let stderr = run(short);
    assert!(
        stderr.contains("WEBHOOK_SECRETS") && stderr.contains("32 bytes"),
        "{stderr}"
    );
    assert!(!stderr.contains(short), "a secret leaked into: {stderr}");
}
