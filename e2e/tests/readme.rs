//! The README's copy-paste commands run against the stack, so the docs cannot rot.

use e2e::env;

#[test]
fn the_readme_curl_posts_a_signed_event_that_is_accepted() {
    let dir = std::env::temp_dir().join(format!("e2e-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let env_file = dir.join("stack.env");
    std::fs::write(
        &env_file,
        format!(
            "WEBHOOK_URL={}\nWEBHOOK_SECRET={}\n",
            env("WEBHOOK_URL"),
            env("WEBHOOK_SECRET")
        ),
    )
    .unwrap();
    let script = e2e::doc_block("README.md", "sh", "X-Retell-Signature").replace(
        "source .devstack/stack.env",
        &format!("source '{}'", env_file.display()),
    );
    let out = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README snippet runs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(r#""status":"accepted""#),
        "the webhook accepted it: {stdout}"
    );
}
