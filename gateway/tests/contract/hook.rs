//! The custom access token hook: how it is called and what GoTrue does with its answer.

use crate::helpers::{assert_gotrue_error, spawn_app_with, Hook, Options};

/// Copies what the hook can observe into claims: the event's method and the role
/// it runs as.
const ECHO_HOOK: &str = r#"
create function public.gateway_test_echo_hook(event jsonb) returns jsonb
language plpgsql stable set search_path = '' as $$
begin
  return jsonb_build_object('claims', (event -> 'claims')
    || jsonb_build_object(
      'seen_method', event ->> 'authentication_method',
      'seen_user_id', event ->> 'user_id',
      'seen_role', current_user::text));
end $$;
grant usage on schema public to supabase_auth_admin;
grant execute on function public.gateway_test_echo_hook(jsonb) to supabase_auth_admin;
revoke execute on function public.gateway_test_echo_hook(jsonb) from public;
"#;

#[tokio::test]
async fn the_hook_runs_as_supabase_auth_admin_with_the_authentication_method() {
    let app = spawn_app_with(Options {
        hook: Hook::Custom {
            name: "gateway_test_echo_hook",
            sql: ECHO_HOOK,
        },
        ..Options::default()
    })
    .await;
    let user_id = app.create_user("tia@example.com").await;

    let session = app.sign_in("tia@example.com").await;
    let claims = session.claims();
    assert_eq!(claims["seen_method"], "password");
    assert_eq!(claims["seen_user_id"], user_id.to_string());
    assert_eq!(claims["seen_role"], "supabase_auth_admin");

    let response = app.refresh(&session.refresh_token).await;
    assert_eq!(response.status(), 200);
    let refreshed = crate::helpers::session_from(response.json().await.unwrap());
    assert_eq!(refreshed.claims()["seen_method"], "token_refresh");
}

const DROPS_CLAIMS_HOOK: &str = r#"
create function public.gateway_test_bad_hook(event jsonb) returns jsonb
language sql stable as $$ select jsonb_build_object('claims', (event -> 'claims') - 'session_id') $$;
grant usage on schema public to supabase_auth_admin;
grant execute on function public.gateway_test_bad_hook(jsonb) to supabase_auth_admin;
"#;

#[tokio::test]
async fn a_hook_that_drops_required_claims_fails_the_sign_in_and_leaves_no_session() {
    let app = spawn_app_with(Options {
        hook: Hook::Custom {
            name: "gateway_test_bad_hook",
            sql: DROPS_CLAIMS_HOOK,
        },
        ..Options::default()
    })
    .await;
    let user_id = app.create_user("uma@example.com").await;

    let response = app
        .password_grant("uma@example.com", crate::helpers::PASSWORD)
        .await;
    let body = assert_gotrue_error(response, 500, "unexpected_failure").await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("session_id is required"),
        "{body}"
    );
    assert_eq!(app.session_count(user_id).await, 0);
}

const REFUSING_HOOK: &str = r#"
create function public.gateway_test_refusing_hook(event jsonb) returns jsonb
language sql stable as $$
  select jsonb_build_object('error', jsonb_build_object('http_code', 403, 'message', 'Access denied by hook'))
$$;
grant usage on schema public to supabase_auth_admin;
grant execute on function public.gateway_test_refusing_hook(jsonb) to supabase_auth_admin;
"#;

#[tokio::test]
async fn a_hook_error_object_is_answered_with_its_http_code_and_message() {
    let app = spawn_app_with(Options {
        hook: Hook::Custom {
            name: "gateway_test_refusing_hook",
            sql: REFUSING_HOOK,
        },
        ..Options::default()
    })
    .await;
    app.create_user("vic@example.com").await;

    let response = app
        .password_grant("vic@example.com", crate::helpers::PASSWORD)
        .await;
    let body = assert_gotrue_error(response, 403, "unknown").await;
    assert_eq!(body["message"], "Access denied by hook");
}

#[tokio::test]
async fn a_hook_the_auth_admin_may_not_execute_fails_the_sign_in() {
    const UNGRANTED: &str = r#"
    create function public.gateway_test_ungranted_hook(event jsonb) returns jsonb
    language sql stable as $$ select event $$;
    revoke execute on function public.gateway_test_ungranted_hook(jsonb) from public, supabase_auth_admin;
    "#;
    let app = spawn_app_with(Options {
        hook: Hook::Custom {
            name: "gateway_test_ungranted_hook",
            sql: UNGRANTED,
        },
        ..Options::default()
    })
    .await;
    let user_id = app.create_user("wes@example.com").await;

    let response = app
        .password_grant("wes@example.com", crate::helpers::PASSWORD)
        .await;
    let body = assert_gotrue_error(response, 500, "unexpected_failure").await;
    assert_eq!(body["message"], "error generating jwt token");
    assert_eq!(app.session_count(user_id).await, 0);
}

#[tokio::test]
async fn with_the_hook_disabled_tokens_carry_no_user_role() {
    let app = spawn_app_with(Options {
        hook: Hook::Disabled,
        ..Options::default()
    })
    .await;
    app.create_user("xia@example.com").await;
    let claims = app.sign_in("xia@example.com").await.claims();
    assert!(claims.get("user_role").is_none(), "{claims}");
    assert_eq!(claims["role"], "authenticated");
}
