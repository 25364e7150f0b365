//! The producer side of the `reanalysis` jobs this worker runs: the daily cap of
//! `public.request_reanalysis` (migration 20261202000600) holds under concurrency.
//! Two sessions of the same CSM ask at the same time with one request left: the
//! second waits for the first's lock, then sees its request and is refused, instead
//! of both passing a count that neither has committed yet. (The limits themselves
//! are tested in supabase/tests/14-reanalysis-limits.test.sql.)

use std::time::Duration;

use sqlx::{Connection, PgConnection};

use crate::helpers::*;

const NORA: &str = "a0000000-0000-4000-8000-000000000003";

/// A transaction as Nora, through PostgREST's settings, that asks for a re-analysis
/// and stays open.
async fn ask_as_nora(conn: &mut PgConnection, call_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query("begin").execute(&mut *conn).await?;
    // A live session, as a signed-in token names one (RLS refuses tokens without).
    let session: uuid::Uuid = sqlx::query_scalar(
        "insert into auth.sessions (id, user_id, created_at, updated_at, aal)
         values (gen_random_uuid(), $1::uuid, now(), now(), 'aal1') returning id",
    )
    .bind(NORA)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("set local role authenticated")
        .execute(&mut *conn)
        .await?;
    sqlx::query("select set_config('request.jwt.claims', $1, true)")
        .bind(format!(
            r#"{{"sub": "{NORA}", "role": "authenticated", "session_id": "{session}"}}"#
        ))
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar("select public.request_reanalysis('honda-quincy', $1)")
        .bind(call_id)
        .fetch_one(&mut *conn)
        .await
}

#[tokio::test]
async fn two_parallel_requests_with_one_left_do_not_both_pass_the_daily_cap() {
    let db = TestDb::create().await;
    seed_call(&db.pool, "honda-quincy", "cap-a", Some("User: hello")).await;
    seed_call(&db.pool, "honda-quincy", "cap-b", Some("User: hello again")).await;
    sqlx::query("update public.app_settings set reanalysis_daily_limit = 1")
        .execute(&db.pool)
        .await
        .expect("lower the cap");

    let mut first = PgConnection::connect(&db.url).await.expect("connect");
    let mut second = PgConnection::connect(&db.url).await.expect("connect");
    let first_job = ask_as_nora(&mut first, "cap-a")
        .await
        .expect("the first request passes");

    // The second starts while the first is still uncommitted.
    let racing = tokio::spawn(async move {
        let result = ask_as_nora(&mut second, "cap-b").await;
        let _ = sqlx::query("commit").execute(&mut second).await;
        result
    });
    // Give it the time to pass or to block on the first's lock.
    let mut waited = 0;
    loop {
        let blocked: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock'",
        )
        .fetch_one(&db.pool)
        .await
        .expect("read pg_stat_activity");
        if blocked > 0 || racing.is_finished() || waited >= 50 {
            break;
        }
        waited += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sqlx::query("commit")
        .execute(&mut first)
        .await
        .expect("commit the first");

    let second = tokio::time::timeout(Duration::from_secs(10), racing)
        .await
        .expect("the second request ends once the first committed")
        .expect("the task did not panic");
    let error = second.expect_err("the second request is refused: the cap was used up meanwhile");
    let code = error
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.to_string());
    assert_eq!(code.as_deref(), Some("PT429"), "{error}");
    assert!(
        error
            .to_string()
            .contains("you have reached your limit of 1 re-analyses in 24 hours"),
        "{error}"
    );

    let jobs: Vec<(i64, String)> = sqlx::query_as(
        "select id, call_id from public.analysis_jobs where reason = 'reanalysis' order by id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("read the jobs");
    assert_eq!(
        jobs,
        vec![(first_job, "cap-a".to_string())],
        "only one job was queued"
    );
    let _ = first.close().await;
    db.cleanup().await;
}
