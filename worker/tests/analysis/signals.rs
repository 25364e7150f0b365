//! Retell's signals are stored as codes on the analysis they decided or changed
//! (`call_analyses.retell_signals`, migration 20261217000100), through the
//! real job path; and the column accepts exactly `domain::signals::RetellSignal`.

use domain::signals::RetellSignal;
use serde_json::{json, Value};
use worker::analyzer::HeuristicAnalyzer;
use worker::Analyzer;

use crate::helpers::*;

const DEALER: &str = TestWorker::DEALER;

/// Sets what Retell reported about the call, as ingest would have stored it.
async fn retell_reported(
    t: &TestWorker,
    call_id: &str,
    disconnection: Option<&str>,
    analysis: Option<Value>,
) {
    sqlx::query(
        "update public.calls set disconnection_reason = $3, retell_analysis = $4
          where dealership_id = $1 and call_id = $2",
    )
    .bind(DEALER)
    .bind(call_id)
    .bind(disconnection)
    .bind(analysis)
    .execute(t.pool())
    .await
    .expect("set Retell's signals");
}

async fn judged(t: &TestWorker, call_id: &str) -> Value {
    t.run_one(&Analyzer::Heuristic(HeuristicAnalyzer)).await;
    t.analysis(call_id).await
}

#[tokio::test]
async fn the_signal_that_decided_or_overrode_the_verdict_is_stored_as_a_code() {
    let t = TestWorker::start().await;

    t.call("sig_voicemail", GOOD_CALL).await;
    retell_reported(
        &t,
        "sig_voicemail",
        None,
        Some(json!({"in_voicemail": true})),
    )
    .await;
    let row = judged(&t, "sig_voicemail").await;
    assert_eq!(row["retell_signals"], json!(["in_voicemail"]));
    assert_eq!(row["analyzer"], "retell-signals");

    t.call("sig_transfer", GOOD_CALL).await;
    retell_reported(&t, "sig_transfer", Some("transfer_failed"), None).await;
    let row = judged(&t, "sig_transfer").await;
    assert_eq!(row["retell_signals"], json!(["transfer_failed"]));
    assert_eq!(row["verdict"], "bad");

    t.call("sig_negative", GOOD_CALL).await;
    retell_reported(
        &t,
        "sig_negative",
        None,
        Some(json!({"call_successful": false, "user_sentiment": "Negative"})),
    )
    .await;
    let row = judged(&t, "sig_negative").await;
    assert_eq!(
        row["retell_signals"],
        json!(["call_successful_false", "user_sentiment_negative"])
    );
    assert_eq!(row["verdict"], "needs_review");

    t.call("sig_none", GOOD_CALL).await;
    retell_reported(
        &t,
        "sig_none",
        Some("user_hangup"),
        Some(json!({"call_successful": true, "user_sentiment": "Positive"})),
    )
    .await;
    let row = judged(&t, "sig_none").await;
    assert_eq!(row["retell_signals"], json!([]));
    t.finish().await;
}

#[tokio::test]
async fn the_column_accepts_every_retell_signal_code_and_no_other() {
    let db = TestDb::create().await;
    seed_call(&db.pool, "sig-dealer", "sig-call", Some("Agent: Hello.")).await;
    let insert = |codes: Vec<String>| {
        let pool = db.pool.clone();
        async move {
            sqlx::query(
                "insert into public.call_analyses
                   (dealership_id, call_id, analysis, verdict, score, recommended_action,
                    confidence, status, model, prompt_version, retell_signals)
                 values ('sig-dealer', 'sig-call', '{}', 'needs_review', 50, 'human_follow_up',
                         0.5, 'ok', 'test', 'test', $1)",
            )
            .bind(codes)
            .execute(&pool)
            .await
        }
    };
    let all: Vec<String> = RetellSignal::ALL
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    insert(all).await.expect("every signal code is accepted");
    let err = insert(vec!["user_sentiment_positive".into()])
        .await
        .expect_err("a code that is not a signal is refused");
    assert_eq!(
        err.as_database_error().and_then(|d| d.code()).as_deref(),
        Some("23514"),
        "{err}"
    );
    db.cleanup().await;
}
