//! Any bytes, as a signature header over a body, or as a genuine signature at a
//! skewed time over a tampered body: checked by `api::invariants::signature_case`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = api::invariants::signature_case(data) {
        panic!("{broken}");
    }
});
