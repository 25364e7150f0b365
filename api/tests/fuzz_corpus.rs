//! Replays the committed fuzzing corpus (`fuzz/corpus/`) through the same
//! invariants the fuzzers check, so every input a fuzzer ever kept stays a
//! regression test of `cargo test`.

use std::path::Path;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("a corpus file"))
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} is empty", dir.display());
    inputs
}

#[test]
fn every_body_in_the_corpus_keeps_the_decoding_invariants() {
    for (name, data) in corpus("body") {
        if let Err(broken) = api::invariants::decoded(&data, api::invariants::fuzz_received_at()) {
            panic!("fuzz/corpus/body/{name}: {broken}");
        }
    }
}

#[test]
fn every_header_in_the_corpus_keeps_the_signature_invariants() {
    for (name, data) in corpus("signature") {
        if let Err(broken) = api::invariants::signature_case(&data) {
            panic!("fuzz/corpus/signature/{name}: {broken}");
        }
    }
}
