//! `shipbook check`: valid runbooks pass, every error of a file is reported with its position.

use crate::test::Test;

const VALID: &str = r#"
[runbook]
name = "web"

[[steps]]
id = "build"
run = "true"
"#;

#[test]
fn valid_runbooks_pass() {
    let mut test = Test::new().runbook("web", VALID).arg("check");
    test.run()
        .success()
        .stderr_has("runbooks/web.toml (web, 1 step)");
}

#[test]
fn the_bundled_runbooks_pass() {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_shipbook"))
        .arg("check")
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_error_is_reported_with_its_position() {
    let mut test = Test::new()
        .runbook(
            "broken",
            r#"[runbook]
name = "Broken Name"
shell = []

[vars]
version = "1.0"

[environments.staging]

[[steps]]
id = "lint"
runn = "cargo clippy"

[[steps]]
id = "test"
run = "echo {{ verison }} {{ env }}"
timeout = "10 min"
retry_delay = "1.5s"
retries = 500
only = ["stagin"]

[[steps]]
id = "test"
run = "true"
confirm = "Sure?"

[[steps]]
id = "Bad Id"

[[stepz]]
id = "x"
"#,
        )
        .args(&["check", "runbooks/broken.toml"]);
    let run = test.run().code(2);
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn invalid_toml_points_at_the_syntax_error() {
    let mut test = Test::new()
        .runbook("bad", "[runbook]\nname = \"x\nmore = 1\n")
        .args(&["check", "runbooks/bad.toml"]);
    let run = test.run().code(2);
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn a_missing_runbook_is_named() {
    let mut test = Test::new().args(&["check", "runbooks/nope.toml"]);
    test.run()
        .code(2)
        .stderr_has("cannot read runbook runbooks/nope.toml")
        .stderr_has("safe to retry");
}

#[test]
fn no_runbooks_directory_says_what_was_looked_for() {
    let mut test = Test::new().arg("check");
    test.run()
        .code(2)
        .stderr_has("runbooks/*.toml matches no file")
        .stderr_has("shipbook init");
}

#[test]
fn several_broken_files_are_all_reported() {
    let mut test = Test::new()
        .runbook("a", "[runbook]\nname = \"a\"\n[[steps]]\nid = \"x\"\n")
        .runbook("b", "[runbook]\nname = \"b\"\n[[steps]]\nid = \"y\"\n")
        .arg("check");
    let run = test.run().code(2);
    assert!(run.stderr.contains("runbooks/a.toml:4:6"), "{}", run.stderr);
    assert!(run.stderr.contains("runbooks/b.toml:4:6"), "{}", run.stderr);
}

#[test]
fn a_missing_name_points_at_the_table() {
    let mut test = Test::new()
        .runbook(
            "a",
            "[runbook]\nowner = \"me\"\n[[steps]]\nid = \"x\"\nrun = \"true\"\n",
        )
        .args(&["check", "runbooks/a.toml"]);
    test.run()
        .code(2)
        .stderr_has("missing key `name`")
        .stderr_has("runbooks/a.toml:1:1");
}

#[test]
fn the_whole_format_of_the_design_is_accepted() {
    let mut test = Test::new()
        .runbook("full", include_str!("full_runbook.toml"))
        .args(&["check", "runbooks/full.toml"]);
    test.run().success();
}

#[test]
fn the_readme_starts_with_the_demo_and_the_test_command() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let top: String = readme.lines().take(15).collect::<Vec<_>>().join("\n");
    assert!(
        top.contains("cargo run --release -- run runbooks/demo.toml --yes"),
        "{top}"
    );
    assert!(top.contains("cargo test"), "{top}");
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    assert!(
        ci.contains("cargo test"),
        "CI runs the README's test command"
    );
    for command in [
        "check",
        "plan",
        "run",
        "rehearse",
        "rollback",
        "resume",
        "history",
        "show",
        "note",
        "init",
        "schema",
        "completions",
    ] {
        assert!(
            readme.contains(&format!("`shipbook {command}")),
            "the README documents `shipbook {command}`"
        );
    }
}

/// `undo-` names the undo steps shipbook adds; a step of the runbook may not take it, so that
/// an undo's record and log are never mixed with a step's.
#[test]
fn a_step_id_may_not_start_with_the_undo_prefix() {
    let mut test = Test::new()
        .runbook(
            "web",
            "[runbook]\nname = \"web\"\n\n[[steps]]\nid = \"a\"\nrun = \"true\"\nundo = \"true\"\n\n[[steps]]\nid = \"undo-a\"\nrun = \"true\"\n",
        )
        .args(&["check", "runbooks/web.toml"]);
    test.run()
        .code(2)
        .stderr_has("runbooks/web.toml:10:6")
        .stderr_has("step id `undo-a` starts with `undo-`");
}
