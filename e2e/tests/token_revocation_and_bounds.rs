//! Through the real gateway and PostgREST: an access token stops reading the moment
//! its session is signed out (not when it expires), and RPC arguments that size work
//! are refused with a 400 that names them.
//!
//! Sign-outs here are `scope=local`: a global one would end the sessions of other
//! tests that run in parallel as the same demo user.

use e2e::{env, post_event, rest, rpc, sign_in};
use serde_json::{json, Value};

async fn logout(token: &str, scope: &str) -> u16 {
    reqwest::Client::new()
        .post(format!(
            "{}/auth/v1/logout?scope={scope}",
            env("SUPABASE_URL")
        ))
        .header("apikey", env("SUPABASE_ANON_KEY"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the auth endpoint answers")
        .status()
        .as_u16()
}

fn rows(value: &Value) -> usize {
    value.as_array().map(Vec::len).unwrap_or_default()
}

#[tokio::test]
async fn a_signed_out_access_token_reads_nothing_although_it_has_not_expired() {
    let token = sign_in("csm.north@demo.test").await;
    assert!(
        rows(&rest(&token, "dealerships?select=id").await) > 0,
        "before signing out, the CSM reads her dealerships"
    );
    assert_eq!(logout(&token, "local").await, 204, "sign-out succeeds");

    assert_eq!(rows(&rest(&token, "dealerships?select=id").await), 0);
    assert_eq!(rows(&rest(&token, "calls?select=call_id&limit=5").await), 0);
    assert_eq!(rows(&rest(&token, "profiles?select=user_id").await), 0);
    let (status, body) = rpc(&token, "dealership_health", &json!({"p_hours": 24})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["current"]["calls"], 0, "health counts nothing: {body}");
}

#[tokio::test]
async fn signing_out_one_session_leaves_the_users_other_session_reading() {
    let phone = sign_in("csm.south@demo.test").await;
    let laptop = sign_in("csm.south@demo.test").await;
    assert_eq!(logout(&phone, "local").await, 204);
    assert_eq!(rows(&rest(&phone, "dealerships?select=id").await), 0);
    assert!(
        rows(&rest(&laptop, "dealerships?select=id").await) > 0,
        "the other session still reads"
    );
}

#[tokio::test]
async fn a_signed_out_token_cannot_review_a_call() {
    let call_id = format!("revoked_{}", std::process::id());
    let (status, body) = post_event(&json!({
        "event_id": format!("evt_{call_id}"),
        "dealership_id": "toyota-braintree",
        "call_id": call_id,
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "transcript": "Agent: Toyota of Braintree.\nUser: I need an oil change."
    }))
    .await;
    assert_eq!(status, 200, "{body}");
    let token = sign_in("csm.north@demo.test").await;
    let review = json!({
        "p_dealership_id": "toyota-braintree",
        "p_call_id": call_id,
        "p_to_status": "follow_up_needed",
        "p_notes": "checking"
    });
    assert_eq!(logout(&token, "local").await, 204);
    let (status, body) = rpc(&token, "review_call", &review).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["message"], "your session has ended", "{body}");

    let fresh = sign_in("csm.north@demo.test").await;
    let (status, body) = rpc(&fresh, "review_call", &review).await;
    assert_eq!(
        status, 200,
        "a new sign-in may review the same call: {body}"
    );
}

#[tokio::test]
async fn health_with_a_million_hours_is_a_400_that_names_the_argument() {
    let token = sign_in("csm.north@demo.test").await;
    let (status, body) = rpc(&token, "dealership_health", &json!({"p_hours": 1_000_000})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"], "p_hours must be between 1 and 2160 (got 1000000)",
        "{body}"
    );
    let (status, body) = rpc(&token, "dealership_health", &json!({"p_hours": 168})).await;
    assert_eq!(status, 200, "a week is fine: {body}");
}

#[tokio::test]
async fn team_stats_over_a_thousand_years_is_a_400_not_a_500() {
    let token = sign_in("manager@demo.test").await;
    for function in ["team_csm_stats", "team_dealership_stats", "team_daily_flow"] {
        let (status, body) = rpc(
            &token,
            function,
            &json!({"p_from": "1000-01-01T00:00:00Z", "p_to": "2026-01-01T00:00:00Z"}),
        )
        .await;
        assert_eq!(status, 400, "{function}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("p_from and p_to must be at most 366 days apart")),
            "{function}: {body}"
        );
        let (status, body) = rpc(
            &token,
            function,
            &json!({"p_from": "2026-01-01T00:00:00Z", "p_to": "2025-01-01T00:00:00Z"}),
        )
        .await;
        assert_eq!(status, 400, "{function} with p_to before p_from: {body}");
    }
}
