//! Integration tests of the worker against a real Postgres (one database per
//! test, cloned from `TEST_TEMPLATE_DB`) and a fake OpenAI server.

mod binary;
mod flags;
mod helpers;
mod http;
mod openai;
mod queue;
mod reanalysis_limits;
mod signals;
