//! Issue 16, the queue and the unresolved list, in headless Chromium against the
//! running stack (all in `mod working_day`: `TEST_FILTER=working_day`):
//! - a queue row names the customer (number masked), the call's time with its
//!   zone and Retell's summary instead of the call id, with one line of actions,
//!   at 1280 px and as a card at 390 px;
//! - the queue's filters and sort live in the URL; bulk "Mark reviewed" goes row
//!   by row through `review_call` and reports the row the database refused;
//!   "Resolve and open next" saves and opens the following call;
//! - the unresolved list's period and status filters change its rows, and its
//!   heading names the selected CSM;
//! - a manager reassigns to a report who is not on the dealership: the picker
//!   offers to add the assignment, and both are saved.
//!
//! Each test works on a dealership of its own (registered by the webhook, given a
//! name and zone and assigned to the north CSM through the service role, removed
//! afterwards), so tests running beside it never move its rows.

mod working_day {
    use std::time::Duration;

    use e2e::browser::Browser;
    use e2e::{env, eventually, post_event, rest, rpc, service, sign_in};
    use reqwest::Method;
    use serde_json::{json, Value};
    use sqlx::{Connection, PgConnection};

    const NORTH_ID: &str = "a0000000-0000-4000-8000-000000000003";
    const SOUTH_ID: &str = "a0000000-0000-4000-8000-000000000004";
    const UPSET: &str = "Agent: Thanks for calling, how can I help?\nUser: This is the third time I call, I want to talk to a manager. This is ridiculous.\nAgent: Let me transfer you.\nAgent: I'm sorry, nobody is available right now.";

    fn run() -> String {
        format!(
            "{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_millis()
        )
    }

    /// A dealership of the test's own, named, in America/Chicago and assigned to
    /// the north CSM (so her manager sees it too).
    async fn own_dealership(tag: &str) -> String {
        let dealership = format!("e2e-q16-{tag}-{}", run());
        let (status, body) = post_event(&json!({
            "event_id": format!("evt_{dealership}_register"),
            "dealership_id": dealership,
            "call_id": format!("{dealership}-register"),
            "timestamp": chrono::Utc::now().to_rfc3339(),
        }))
        .await;
        assert_eq!(status, 200, "the webhook registers {dealership}: {body}");
        let status = service(
            Method::PATCH,
            &format!("dealerships?id=eq.{dealership}"),
            Some(&json!({"name": format!("Queue Motors {tag}"), "timezone": "America/Chicago"})),
        )
        .await;
        assert!(status < 300, "naming {dealership} answered {status}");
        let status = service(
            Method::POST,
            "user_dealerships",
            Some(&json!({"user_id": NORTH_ID, "dealership_id": dealership})),
        )
        .await;
        assert_eq!(status, 201, "assigning north to {dealership}");
        dealership
    }

    async fn forget(dealership: &str) {
        let status = service(
            Method::DELETE,
            &format!("user_dealerships?dealership_id=eq.{dealership}"),
            None,
        )
        .await;
        assert!(
            status < 300,
            "removing the test assignment answered {status}"
        );
    }

    /// Posts an upset call (a customer with a name and number) and waits until the
    /// worker flagged it: its review is open.
    async fn flagged_call(dealership: &str, call_id: &str) {
        let (status, body) = post_event(&json!({
            "event_id": format!("evt_{call_id}"),
            "dealership_id": dealership,
            "call_id": call_id,
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "transcript": UPSET,
            "customer": {"phone": "+1 (617) 555-0142", "name": "Dana Driver"}
        }))
        .await;
        assert_eq!(status, 200, "the webhook accepts {call_id}: {body}");
        let token = sign_in("csm.north@demo.test").await;
        let path = format!("calls?call_id=eq.{call_id}&select=verdict,review_status");
        let row = eventually(
            &format!("the verdict on {call_id}"),
            Duration::from_secs(90),
            || {
                let (token, path) = (token.clone(), path.clone());
                async move {
                    let rows = rest(&token, &path).await;
                    let row = rows.get(0)?.clone();
                    (!row["verdict"].is_null() && !row["review_status"].is_null()).then_some(row)
                }
            },
        )
        .await;
        assert_ne!(row["verdict"], "good", "precondition: {call_id} is flagged");
        assert_eq!(
            row["review_status"], "open",
            "precondition: its review is open"
        );
    }

    async fn signed_in(name: &str, email: &str, phone: bool) -> Browser {
        let browser = if phone {
            Browser::start_phone(name).await
        } else {
            Browser::start(name).await
        };
        browser.goto(&env("DASHBOARD_URL")).await;
        browser.sign_in(email, &env("DEMO_PASSWORD")).await;
        browser
    }

    fn row(call_id: &str) -> String {
        format!("tr.queue-row[data-call='{call_id}']")
    }

    /// The call ids of the list's rows, in order.
    async fn listed(browser: &Browser) -> Vec<String> {
        browser.attributes("tr.queue-row", "data-call").await
    }

    async fn url(browser: &Browser) -> String {
        browser.client.current_url().await.unwrap().to_string()
    }

    async fn review(call_id: &str) -> Value {
        let token = sign_in("csm.north@demo.test").await;
        rest(
            &token,
            &format!("call_reviews?call_id=eq.{call_id}&select=status,notes,assignee_id"),
        )
        .await[0]
            .clone()
    }

    /// Whether the list's table fits its box (no horizontal scroll bar).
    async fn no_sideways_scroll(browser: &Browser) -> Value {
        browser
            .eval("const w = document.getElementById('review-list'); return w.scrollWidth <= w.clientWidth;")
            .await
    }

    async fn page_fits_the_phone(browser: &Browser, screen: &str) {
        let width = browser
            .eval("return document.documentElement.scrollWidth")
            .await
            .as_f64()
            .unwrap();
        browser.screenshot(&format!("q16-phone-{screen}")).await;
        assert!(
            width <= 390.0,
            "{screen}: the page is {width} px wide at 390 px"
        );
    }

    #[tokio::test]
    async fn a_queue_row_shows_customer_time_and_summary_with_one_line_of_actions() {
        let dealership = own_dealership("row").await;
        let call_id = format!("{dealership}-call");
        flagged_call(&dealership, &call_id).await;
        // Retell's own analysis of the same call, with its summary.
        let summary = "The caller asked for a manager about a brake repair done twice.";
        let (status, body) = post_event(&json!({
            "event": "call_analyzed",
            "call": {
                "call_id": call_id,
                "metadata": {"dealership_id": dealership},
                "call_analysis": {"call_summary": summary, "user_sentiment": "Negative"}
            }
        }))
        .await;
        assert_eq!(
            status, 200,
            "the webhook accepts Retell's call_analyzed: {body}"
        );
        let token = sign_in("csm.north@demo.test").await;
        let path = format!("review_queue?call_id=eq.{call_id}&select=call_summary");
        eventually("the summary in the queue", Duration::from_secs(30), || {
            let (token, path) = (token.clone(), path.clone());
            async move {
                let rows = rest(&token, &path).await;
                (rows.get(0)?["call_summary"] == summary).then_some(())
            }
        })
        .await;

        let base = env("DASHBOARD_URL");
        for phone in [false, true] {
            let browser = signed_in(
                if phone { "q16-row-phone" } else { "q16-row" },
                "csm.north@demo.test",
                phone,
            )
            .await;
            browser.goto(&format!("{base}/queue?d={dealership}")).await;
            let r = row(&call_id);
            browser.wait_for(&format!("{r} .retell-summary")).await;
            let customer = browser.texts(&format!("{r} td.call .customer")).await;
            assert_eq!(customer, vec!["Dana Driver"], "the row names the customer");
            let number = browser.texts(&format!("{r} .phone")).await;
            assert_eq!(number, vec!["••• 0142"], "only the last 4 digits");
            let time = browser.texts(&format!("{r} .call-time")).await.join("");
            assert!(
                time.ends_with("CST") && (time.contains(" AM") || time.contains(" PM")),
                "the call's time in the dealership's zone, labelled: {time:?}"
            );
            let shown = browser.texts(&format!("{r} .retell-summary")).await;
            assert_eq!(shown, vec![summary], "Retell's summary");
            let text = browser.texts(&r).await.join(" ");
            assert!(
                !text.contains(&call_id) && !text.contains("555") && !text.contains("617"),
                "no raw call id and no full number in the row: {text}"
            );
            let tops = browser
                .eval(&format!(
                    "return [...document.querySelectorAll(\"{r} .action-bar button\")].map(b => Math.round(b.getBoundingClientRect().top));"
                ))
                .await;
            let tops: Vec<i64> = tops
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_i64)
                .collect();
            assert!(
                tops.len() >= 5,
                "four status actions and Claim on an open, unassigned review: {tops:?}"
            );
            if phone {
                page_fits_the_phone(&browser, "queue-row").await;
                let display = browser
                    .eval(&format!(
                        "return getComputedStyle(document.querySelector(\"{r}\")).display"
                    ))
                    .await;
                assert_eq!(display, "block", "the row is a card");
                let inside = browser
                    .eval(&format!("const b = document.querySelector(\"{r} .action-bar\").getBoundingClientRect(); return b.left >= 0 && b.right <= window.innerWidth;"))
                    .await;
                assert_eq!(inside, Value::Bool(true), "the actions are on-screen");
            } else {
                assert!(
                    tops.iter().all(|t| *t == tops[0]),
                    "one line of actions, not rows of buttons: {tops:?}"
                );
                let height = browser
                    .eval(&format!(
                        "return document.querySelector(\"{r}\").getBoundingClientRect().height"
                    ))
                    .await
                    .as_f64()
                    .unwrap();
                assert!(
                    height <= 900.0 / 8.0,
                    "at least 8 rows fit a 900 px window: a row is {height} px"
                );
                assert_eq!(
                    no_sideways_scroll(&browser).await,
                    Value::Bool(true),
                    "the whole row, action bar included, fits 1280 px"
                );
                browser.screenshot("q16-queue-row").await;
            }
            browser.close().await;
        }
        forget(&dealership).await;
    }

    #[tokio::test]
    async fn the_queue_filters_and_sort_are_in_the_url_and_bulk_reviewed_reports_the_refused_row() {
        let dealership = own_dealership("bulk").await;
        let calls: Vec<String> = (0..3).map(|i| format!("{dealership}-c{i}")).collect();
        for c in &calls {
            flagged_call(&dealership, c).await;
        }
        let north = sign_in("csm.north@demo.test").await;
        // One review escalated, so the status filter has something to leave out.
        let (status, body) = rpc(
            &north,
            "review_call",
            &json!({"p_dealership_id": dealership, "p_call_id": calls[0], "p_to_status": "escalated", "p_notes": "to the service manager"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");

        let base = env("DASHBOARD_URL");
        let browser = signed_in("q16-filters", "csm.north@demo.test", false).await;
        browser.goto(&format!("{base}/queue?d={dealership}")).await;
        browser.wait_for(&row(&calls[2])).await;

        // Status: open only.
        browser.wait_for("#qs-open").await.click().await.unwrap();
        browser
            .until("status=open in the URL and no escalated row", || async {
                let u = url(&browser).await;
                let statuses = browser.attributes("tr.queue-row", "data-status").await;
                (u.contains("status=open")
                    && statuses.len() == 2
                    && statuses.iter().all(|s| s == "open"))
                .then_some(())
            })
            .await;
        // Newest first: the order PostgREST gives for the same filters.
        browser
            .wait_for("#sort-newest")
            .await
            .click()
            .await
            .unwrap();
        let expected: Vec<String> = rest(
            &north,
            &format!("review_queue?dealership_id=eq.{dealership}&status=in.(open)&select=call_id&order=flagged_at.desc,dealership_id.desc,call_id.desc"),
        )
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["call_id"].as_str().unwrap().to_string())
        .collect();
        let order = browser
            .until("newest first", || async {
                let u = url(&browser).await;
                let ids = listed(&browser).await;
                (u.contains("sort=newest") && ids == expected).then_some(ids)
            })
            .await;
        assert_eq!(order, vec![calls[2].clone(), calls[1].clone()]);
        // Verdict and waiting filters are in the URL too, and survive a reload.
        browser
            .wait_for("#qa-under_24h")
            .await
            .click()
            .await
            .unwrap();
        browser
            .until("age=under_24h in the URL", || async {
                url(&browser).await.contains("age=under_24h").then_some(())
            })
            .await;
        browser.client.refresh().await.unwrap();
        browser.wait_for("#qs-open.active").await;
        browser.wait_for("#sort-newest.active").await;
        browser.wait_for("#qa-under_24h.active").await;
        browser
            .until("the same rows after a reload", || async {
                (listed(&browser).await == order).then_some(())
            })
            .await;
        browser.screenshot("q16-queue-filters").await;

        // Bulk: pick both rows; meanwhile another session resolves one of them.
        for c in &order {
            browser
                .wait_for(&format!("{} input.pick-box", row(c)))
                .await
                .click()
                .await
                .unwrap();
        }
        let count = browser.wait_for("#bulk-count").await.text().await.unwrap();
        assert_eq!(count, "2 selected");
        let refused_when = browser
            .texts(&format!("{} .call-time", row(&calls[1])))
            .await
            .join("");
        let (status, body) = rpc(
            &north,
            "review_call",
            &json!({"p_dealership_id": dealership, "p_call_id": calls[1], "p_to_status": "resolved", "p_notes": "done elsewhere"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        browser
            .wait_for("#bulk-reviewed")
            .await
            .click()
            .await
            .unwrap();
        let outcome = browser
            .until("the bulk outcome", || async {
                let text = browser.texts("#flash").await.join("");
                text.contains("Not saved").then_some(text)
            })
            .await;
        browser.screenshot("q16-bulk-outcome").await;
        assert!(
            outcome.starts_with("Marked 1 of 2 calls reviewed.")
                && outcome.contains(&format!(" at {refused_when} ("))
                && !outcome.contains(&calls[1])
                && outcome.contains("cannot move from resolved to reviewed"),
            "says which row the database refused and why: {outcome}"
        );
        assert_eq!(
            review(&calls[2]).await["status"],
            "reviewed",
            "the other was saved"
        );
        assert_eq!(
            review(&calls[1]).await["status"],
            "resolved",
            "the refused one is as it was"
        );
        let history = rest(
            &north,
            &format!(
                "review_history?call_id=eq.{}&to_status=eq.reviewed&select=actor_id",
                calls[2]
            ),
        )
        .await;
        assert_eq!(
            history,
            json!([{"actor_id": NORTH_ID}]),
            "the bulk change is in the history, as hers"
        );
        browser.close().await;
        forget(&dealership).await;
    }

    #[tokio::test]
    async fn resolve_and_open_next_saves_the_note_and_opens_the_following_call() {
        let dealership = own_dealership("next").await;
        let calls: Vec<String> = (0..2).map(|i| format!("{dealership}-n{i}")).collect();
        for c in &calls {
            flagged_call(&dealership, c).await;
        }
        let browser = signed_in("q16-next", "csm.north@demo.test", false).await;
        browser
            .goto(&format!(
                "{}/queue?d={dealership}&sort=oldest",
                env("DASHBOARD_URL")
            ))
            .await;
        browser.wait_for(&row(&calls[1])).await;
        let order = listed(&browser).await;
        let first = order[0].clone();
        let next = order[1].clone();
        browser
            .wait_for(&format!("{} button.act-resolved", row(&first)))
            .await
            .click()
            .await
            .unwrap();
        let note = "Called back, booked a loaner.";
        browser
            .wait_for(&format!("{} textarea.notes", row(&first)))
            .await
            .send_keys(note)
            .await
            .unwrap();
        browser
            .wait_for(&format!("{} button.confirm-next", row(&first)))
            .await
            .click()
            .await
            .unwrap();
        browser
            .until("the next call's page", || async {
                url(&browser)
                    .await
                    .contains(&format!("/calls/{dealership}/{next}"))
                    .then_some(())
            })
            .await;
        browser.wait_for("#call-title").await;
        let saved = review(&first).await;
        assert_eq!(saved["status"], "resolved");
        assert_eq!(saved["notes"], note);
        browser.close().await;
        forget(&dealership).await;
    }

    #[tokio::test]
    async fn the_unresolved_lists_period_and_status_filters_change_its_rows_and_the_heading_names_the_csm(
    ) {
        let dealership = own_dealership("unresolved").await;
        let (fresh, old) = (format!("{dealership}-fresh"), format!("{dealership}-old"));
        flagged_call(&dealership, &fresh).await;
        flagged_call(&dealership, &old).await;
        // The old one was flagged ten days ago.
        let mut db = PgConnection::connect(&env("DATABASE_URL")).await.unwrap();
        sqlx::query("update public.call_reviews set flagged_at = now() - interval '10 days' where dealership_id = $1 and call_id = $2")
            .bind(&dealership)
            .bind(&old)
            .execute(&mut db)
            .await
            .unwrap();
        let north = sign_in("csm.north@demo.test").await;
        let (status, body) = rpc(
            &north,
            "review_call",
            &json!({"p_dealership_id": dealership, "p_call_id": fresh, "p_to_status": "escalated", "p_notes": "needs the GM"}),
        )
        .await;
        assert_eq!(status, 200, "{body}");

        let base = env("DASHBOARD_URL");
        let manager = signed_in("q16-unresolved", "manager@demo.test", false).await;
        manager
            .goto(&format!("{base}/team/unresolved?d={dealership}"))
            .await;
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        manager
            .until("the last 7 days: only the fresh item", || async {
                (listed(&manager).await == vec![fresh.clone()]).then_some(())
            })
            .await;
        manager
            .wait_for("#team-range-all")
            .await
            .click()
            .await
            .unwrap();
        manager
            .until("any time: both", || async {
                let u = url(&manager).await;
                let ids = sorted(listed(&manager).await);
                (u.contains("range=all") && ids == sorted(vec![fresh.clone(), old.clone()]))
                    .then_some(())
            })
            .await;
        manager
            .wait_for("#team-range-24h")
            .await
            .click()
            .await
            .unwrap();
        manager
            .until("the last 24 h: the fresh one", || async {
                let u = url(&manager).await;
                (u.contains("range=24h") && listed(&manager).await == vec![fresh.clone()])
                    .then_some(())
            })
            .await;
        // Any time again, then escalated only.
        manager
            .wait_for("#team-range-all")
            .await
            .click()
            .await
            .unwrap();
        manager
            .until("both again", || async {
                (listed(&manager).await.len() == 2).then_some(())
            })
            .await;
        manager
            .wait_for("#status-escalated")
            .await
            .click()
            .await
            .unwrap();
        manager
            .until("escalated only", || async {
                let u = url(&manager).await;
                let statuses = manager.attributes("tr.queue-row", "data-status").await;
                (u.contains("status=escalated")
                    && listed(&manager).await == vec![fresh.clone()]
                    && statuses == vec!["escalated"])
                .then_some(())
            })
            .await;
        // The heading follows the CSM filter.
        manager
            .wait_for("#team-csm")
            .await
            .select_by_value(NORTH_ID)
            .await
            .unwrap();
        let heading = manager
            .until("the heading with Nora", || async {
                let h = manager.texts("#unresolved-heading").await.join("");
                h.contains("assigned to Nora North").then_some(h)
            })
            .await;
        assert!(
            heading.contains("Queue Motors unresolved")
                && heading.contains("escalated")
                && heading.contains("flagged at any time"),
            "{heading}"
        );
        assert_eq!(
            listed(&manager).await,
            vec![fresh.clone()],
            "escalated (by Nora, so hers)"
        );
        manager.screenshot("q16-unresolved").await;
        assert_eq!(
            no_sideways_scroll(&manager).await,
            Value::Bool(true),
            "a manager's row (with the assignee picker) fits 1280 px"
        );
        manager.close().await;

        let phone = signed_in("q16-unresolved-phone", "manager@demo.test", true).await;
        phone
            .goto(&format!("{base}/team/unresolved?d={dealership}&range=all"))
            .await;
        phone.wait_for(&row(&old)).await;
        page_fits_the_phone(&phone, "unresolved").await;
        phone.goto(&format!("{base}/queue?d={dealership}")).await;
        phone.wait_for(&row(&old)).await;
        page_fits_the_phone(&phone, "queue-filters").await;
        phone.close().await;
        forget(&dealership).await;
    }

    #[tokio::test]
    async fn a_manager_reassigns_to_a_report_not_on_the_dealership_by_adding_the_assignment() {
        let dealership = own_dealership("add").await;
        let call_id = format!("{dealership}-a");
        flagged_call(&dealership, &call_id).await;
        let south = sign_in("csm.south@demo.test").await;
        assert_eq!(
            rest(
                &south,
                &format!("calls?call_id=eq.{call_id}&select=call_id")
            )
            .await,
            json!([]),
            "precondition: Sam cannot see the dealership"
        );

        let manager = signed_in("q16-add", "manager@demo.test", false).await;
        manager
            .goto(&format!(
                "{}/team/unresolved?d={dealership}&range=all",
                env("DASHBOARD_URL")
            ))
            .await;
        let select = format!("{} select.assign-select", row(&call_id));
        manager.wait_for(&select).await;
        // The picker fills in once the manager's team has loaded.
        let values = manager
            .until("the team in the picker", || async {
                let v = manager
                    .attributes(&format!("{select} option"), "value")
                    .await;
                (v.len() > 1).then_some(v)
            })
            .await;
        assert!(
            values.contains(&format!("add:{SOUTH_ID}")),
            "Sam is offered, with adding the assignment: {values:?}"
        );
        assert!(
            values.contains(&NORTH_ID.to_string()) && !values.contains(&format!("add:{NORTH_ID}")),
            "Nora is on the dealership already: {values:?}"
        );
        let when = manager
            .texts(&format!("{} .call-time", row(&call_id)))
            .await
            .join("");
        manager
            .wait_for(&select)
            .await
            .select_by_value(&format!("add:{SOUTH_ID}"))
            .await
            .unwrap();
        let confirmation = manager
            .until("the confirmation", || async {
                let text = manager.texts("#flash .ok").await.join("");
                text.starts_with("Assigned").then_some(text)
            })
            .await;
        manager.screenshot("q16-add-assignment").await;
        assert!(
            confirmation.starts_with("Assigned the call ")
                && confirmation.ends_with(&format!(" at {when} to Sam South."))
                && !confirmation.contains(&call_id),
            "the confirmation names the call by who and when: {confirmation}"
        );
        assert_eq!(review(&call_id).await["assignee_id"], SOUTH_ID);
        assert_eq!(
            rest(
                &south,
                &format!("calls?call_id=eq.{call_id}&select=call_id")
            )
            .await,
            json!([{"call_id": call_id}]),
            "Sam is on the dealership now and sees the call"
        );
        manager.close().await;
        forget(&dealership).await;
    }
}
