//! The review transitions the dashboard offers are `domain::review`'s table
//! (`ReviewStatus::targets`, which the dashboard's `allowed_targets` returns). This
//! compares that table, pair by pair, with `private.review_transition_allowed` in
//! the running stack's database, the function `review_call` asks before it moves a
//! review: a button the database would refuse, or a transition it allows that the
//! dashboard hides, fails here.

use domain::review::ReviewStatus;
use e2e::env;
use sqlx::{Connection, PgConnection, Row};

async fn database() -> PgConnection {
    PgConnection::connect(&env("DATABASE_URL"))
        .await
        .expect("the stack's database accepts a connection")
}

#[tokio::test]
async fn review_transitions_offered_by_the_dashboard_are_exactly_the_databases() {
    let mut db = database().await;

    // The statuses are the same set, so the pairs below are all of them.
    let labels: Vec<String> =
        sqlx::query("select enum_range(null::public.review_status)::text[] as labels")
            .fetch_one(&mut db)
            .await
            .expect("the review_status enum")
            .get("labels");
    let ours: Vec<String> = ReviewStatus::ALL
        .iter()
        .map(|s| s.as_str().to_string())
        .collect();
    assert_eq!(
        labels, ours,
        "domain's ReviewStatus is the database's enum, in order"
    );

    let mut pairs = 0;
    let mut differences = Vec::new();
    let froms = std::iter::once(None).chain(ReviewStatus::ALL.into_iter().map(Some));
    for from in froms {
        for to in ReviewStatus::ALL {
            let allowed: bool = sqlx::query(
                "select private.review_transition_allowed($1::text::public.review_status, $2::text::public.review_status) as allowed",
            )
            .bind(from.map(ReviewStatus::as_str))
            .bind(to.as_str())
            .fetch_one(&mut db)
            .await
            .expect("private.review_transition_allowed answers")
            .get("allowed");
            let offered = ReviewStatus::targets(from).contains(&to);
            if offered != allowed {
                differences.push(format!(
                    "{} -> {}: dashboard {}, database {}",
                    from.map(ReviewStatus::as_str).unwrap_or("(no review)"),
                    to.as_str(),
                    if offered { "offers it" } else { "hides it" },
                    if allowed { "allows it" } else { "refuses it" },
                ));
            }
            pairs += 1;
        }
    }
    assert_eq!(pairs, 30, "every (from, to) pair, no review included");
    assert!(
        differences.is_empty(),
        "the dashboard's transitions differ from the database's:\n{}",
        differences.join("\n")
    );
}
