//! Integration tests of the webhook ingest service: the real application on a
//! random port, real HTTP, and a real Postgres database per test (cloned from
//! `TEST_TEMPLATE_DB`; run with `cargo xtask test`).

mod auth;
mod availability;
mod enqueue;
mod helpers;
mod ingest;
mod operations;
mod ordering;
mod rejections;
mod slow_clients;
mod trust;
