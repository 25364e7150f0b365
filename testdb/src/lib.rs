//! A database of its own for each test, cloned from the template database that
//! `cargo xtask test` migrates and seeds once, so tests run in parallel without
//! seeing each other's rows. Dropped (best effort) when the test ends.

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use std::time::Duration;

pub struct TestDb {
    /// The database's name (`t_<uuid>`).
    pub name: String,
    /// Superuser URL of this database.
    pub url: String,
    /// A superuser pool on it, for fixtures and assertions.
    pub pool: PgPool,
    maintenance_url: String,
}

fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!(
            "TEST_DATABASE_URL/TEST_TEMPLATE_DB not set: run the suite with `cargo xtask test` (missing {name})"
        ),
    }
}

/// A Postgres URL with its database (the path) replaced, query string kept.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    match query {
        Some(q) => format!("{}/{database}?{q}", &base[..host_end]),
        None => format!("{}/{database}", &base[..host_end]),
    }
}

impl TestDb {
    /// Clones `TEST_TEMPLATE_DB` on the cluster of `TEST_DATABASE_URL`.
    pub async fn create() -> TestDb {
        let maintenance_url = required_env("TEST_DATABASE_URL");
        let template = required_env("TEST_TEMPLATE_DB");
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&maintenance_url)
            .await
            .expect("connect to TEST_DATABASE_URL");
        // Postgres refuses to clone a template while another session is connected
        // to it; such a moment is brief, so retry rather than fail the test.
        let mut tries = 0;
        loop {
            let created = sqlx::query(&format!(
                r#"create database "{name}" template "{template}""#
            ))
            .execute(&mut admin)
            .await;
            match created {
                Ok(_) => break,
                Err(e) if tries < 40 && e.to_string().contains("being accessed by other users") => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!("create the test database from TEST_TEMPLATE_DB {template}: {e}"),
            }
        }
        let _ = admin.close().await;
        let url = with_database(&maintenance_url, &name);
        let pool = PgPoolOptions::new()
            .max_connections(20)
            .connect(&url)
            .await
            .expect("connect to the test database");
        TestDb {
            name,
            url,
            pool,
            maintenance_url,
        }
    }

    /// The cluster's maintenance database URL (`TEST_DATABASE_URL`).
    pub fn maintenance_url(&self) -> &str {
        &self.maintenance_url
    }

    /// Runs fixture SQL (several statements allowed) as the superuser.
    pub async fn execute(&self, sql: &str) {
        sqlx::raw_sql(sql)
            .execute(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("fixture SQL failed: {e}\n{sql}"));
    }

    /// Closes the pool and drops the database now (Drop does the same, best effort).
    pub async fn cleanup(self) {
        self.pool.close().await;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop cannot await and the test's runtime may be single-threaded, so the
        // drop runs on a thread with its own runtime. A failure leaves the database
        // behind for inspection; the throwaway cluster goes with the test run.
        let (url, name) = (self.maintenance_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a current-thread runtime");
            runtime.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&url).await {
                    let _ =
                        sqlx::query(&format!(r#"drop database if exists "{name}" with (force)"#))
                            .execute(&mut admin)
                            .await;
                }
            });
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced_and_options_kept() {
        assert_eq!(
            with_database(
                "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
                "t_1"
            ),
            "postgres://postgres@127.0.0.1:5432/t_1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u:p@h:1", "x"),
            "postgres://u:p@h:1/x"
        );
    }
}
