//! The real `@supabase/supabase-js` against the gateway (and PostgREST behind it):
//! `node contract.mjs` in tests/supabase-js must exit 0.

use std::path::Path;

use crate::helpers::{spawn_app_with, Options, ANON_KEY, NOTES_FIXTURE, PASSWORD};

#[tokio::test]
async fn supabase_js_signs_in_reads_through_rls_refreshes_and_signs_out() {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/supabase-js");
    assert!(
        project.join("node_modules/@supabase/supabase-js").is_dir(),
        "run `npm ci` in gateway/tests/supabase-js (cargo xtask test does this)"
    );

    let app = spawn_app_with(Options {
        postgrest: true,
        fixtures: NOTES_FIXTURE,
        ..Options::default()
    })
    .await;
    let me = app.create_user("js@example.com").await;
    let other = app.create_user("other@example.com").await;
    app.set_role(me, "manager").await;
    sqlx::query(
        "insert into public.gateway_test_notes (user_id, body) values ($1, 'mine'), ($2, 'theirs')",
    )
    .bind(me)
    .bind(other)
    .execute(&app.db.pool)
    .await
    .unwrap();

    let output = tokio::process::Command::new("node")
        .arg("contract.mjs")
        .current_dir(&project)
        .env("SUPABASE_URL", &app.address)
        .env("SUPABASE_ANON_KEY", ANON_KEY)
        .env("TEST_EMAIL", "js@example.com")
        .env("TEST_PASSWORD", PASSWORD)
        .env("EXPECTED_USER_ROLE", "manager")
        .output()
        .await
        .expect("run `node` (Node.js must be installed and on PATH)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "supabase-js contract failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    assert!(stdout.contains("supabase-js contract: ok"), "{stdout}");
}
