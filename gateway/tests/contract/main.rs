//! Contract tests for the local Supabase stand-in: every request and response is
//! shaped as `@supabase/supabase-js` sends and expects it, against a real Postgres
//! (a database cloned from `TEST_TEMPLATE_DB`) and, for `/rest/v1`, the real
//! PostgREST binary. Run with `cargo xtask test` (it provides the database).

mod apikey_cors;
mod helpers;
mod hook;
mod logout;
mod password_grant;
mod refresh;
mod rest_proxy;
mod static_site;
mod supabase_js;
mod user;
