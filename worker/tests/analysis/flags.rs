//! The database refuses flags that are not the contract's (migration
//! 20261209000100): every `domain::analysis::Flag` is accepted on an analysis, and
//! a flag the contract does not know is refused with a check violation, on the
//! analysis and on the call that copies it.

use domain::analysis::Flag;

use crate::helpers::*;

async fn insert_analysis(db: &TestDb, call_id: &str, flags: &[&str]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into public.call_analyses
           (dealership_id, call_id, analysis, verdict, score, flags, recommended_action,
            confidence, status, model, prompt_version)
         values ('flags-dealer', $1, '{}', 'needs_review', 50, $2, 'human_follow_up',
                 0.5, 'ok', 'test', 'test')",
    )
    .bind(call_id)
    .bind(flags)
    .execute(&db.pool)
    .await
    .map(|_| ())
}

fn is_check_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "23514")
}

#[tokio::test]
async fn every_contract_flag_is_accepted_and_no_other() {
    let db = TestDb::create().await;
    seed_call(
        &db.pool,
        "flags-dealer",
        "flags-call",
        Some("Agent: Hello."),
    )
    .await;
    let all: Vec<&str> = Flag::ALL.iter().map(|f| f.as_str()).collect();
    insert_analysis(&db, "flags-call", &all)
        .await
        .expect("the contract's flags are accepted");
    let copied: Vec<String> =
        sqlx::query_scalar("select flags from public.calls where call_id = 'flags-call'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(copied, all, "the call carries the newest analysis's flags");

    let err = insert_analysis(&db, "flags-call", &["customer_upset", "no_resolution"])
        .await
        .expect_err("an unknown flag is refused");
    assert!(is_check_violation(&err), "{err}");

    let err =
        sqlx::query("update public.calls set flags = '{made_up}' where call_id = 'flags-call'")
            .execute(&db.pool)
            .await
            .expect_err("an unknown flag on the call is refused");
    assert!(is_check_violation(&err), "{err}");
}
