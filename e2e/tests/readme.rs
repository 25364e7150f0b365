//! The README's copy-paste commands run against the stack, so the docs cannot rot.

use e2e::env;

/// The first ```sh block in README.md that contains `needle`.
fn readme_block(needle: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    readme
        .split("```sh\n")
        .skip(1)
        .filter_map(|chunk| chunk.split("```").next())
        .find(|block| block.contains(needle))
        .unwrap_or_else(|| panic!("README.md has a ```sh block containing {needle}"))
        .to_string()
}

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
    let script = readme_block("X-Retell-Signature").replace(
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
