//! The signing examples in docs/webhook.md (shell, Python, Node) run against the
//! stack with its URL and secret, so the reference cannot drift from the service.

use e2e::env;
use std::process::Command;

fn doc_block(lang: &str, needle: &str) -> String {
    e2e::doc_block("docs/webhook.md", lang, needle)
}

/// Points an example at this stack: its placeholder secret and local URL.
fn for_this_stack(block: &str) -> String {
    block
        .replace(
            "whsec_local_0123456789abcdef0123456789",
            &env("WEBHOOK_SECRET"),
        )
        .replace(
            "http://127.0.0.1:54380/webhooks/retell",
            &env("WEBHOOK_URL"),
        )
}

fn run(program: &str, args: &[&str], stdin_script: Option<&str>) -> String {
    let mut cmd = Command::new(program);
    cmd.args(args);
    let out = match stdin_script {
        Some(script) => {
            use std::io::Write;
            let mut child = cmd
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("{program} runs: {e}"));
            child
                .stdin
                .take()
                .unwrap()
                .write_all(script.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        }
        None => cmd
            .output()
            .unwrap_or_else(|e| panic!("{program} runs: {e}")),
    };
    assert!(
        out.status.success(),
        "{program} example failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn the_openssl_one_liner_reproduces_the_retell_test_vector() {
    let block = doc_block("sh", "1763640000000");
    let out = run("bash", &["-euo", "pipefail", "-c", &block], None);
    assert_eq!(
        out.trim(),
        "2c9d7e45b71264553a857b41481c15e4563fad79dd2fa696489bed53f285a587"
    );
}

#[test]
fn the_shell_example_is_accepted_and_then_answered_as_a_duplicate() {
    let script = for_this_stack(&doc_block("sh", "evt_shell_001"));
    let first = run("bash", &["-euo", "pipefail", "-c", &script], None);
    assert!(
        first.contains(r#""status":"accepted""#),
        "first delivery: {first}"
    );
    let second = run("bash", &["-euo", "pipefail", "-c", &script], None);
    assert!(
        second.contains(r#""status":"duplicate""#),
        "second delivery: {second}"
    );
}

#[test]
fn the_python_example_is_accepted() {
    let script = for_this_stack(&doc_block("python", "evt_py_001"));
    let out = run("python3", &["-"], Some(&script));
    assert!(out.starts_with("200 "), "python example: {out}");
    assert!(
        out.contains(r#""status":"accepted""#),
        "python example: {out}"
    );
}

#[test]
fn the_node_example_is_accepted() {
    let script = for_this_stack(&doc_block("js", "call_node_001"));
    let out = run("node", &["--input-type=module", "-"], Some(&script));
    assert!(out.starts_with("200 "), "node example: {out}");
    assert!(
        out.contains(r#""status":"accepted""#),
        "node example: {out}"
    );
}
