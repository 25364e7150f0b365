//! Any bytes, as the body of an authenticated delivery: decoded exactly as the
//! webhook handler decodes them, then checked by `api::invariants::decoded`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = api::invariants::decoded(data, api::invariants::fuzz_received_at()) {
        panic!("{broken}");
    }
});
