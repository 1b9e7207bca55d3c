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

#[test]
fn an_empty_steps_array_is_refused_where_it_is_written() {
    let mut test = Test::new()
        .runbook("empty", "[runbook]\nname = \"empty\"\nsteps = []\n")
        .runbook("top", "steps = []\n\n[runbook]\nname = \"top\"\n")
        .args(&["check", "runbooks/top.toml"]);
    test.run()
        .code(2)
        .stderr_has("`steps` is empty: the runbook has no steps")
        .stderr_has("--> runbooks/top.toml:1:1")
        .stderr_has("expected: at least one `[[steps]]` table");
    // Nothing runs and nothing is recorded: an empty runbook is not a release that succeeded.
    test.shipbook(&["run", "runbooks/top.toml", "--yes"])
        .code(2)
        .stderr_has("no steps");
    test.shipbook(&["history"])
        .success()
        .stderr_has("no runs recorded yet");
}

#[test]
fn an_unknown_key_in_the_header_hides_no_other_error() {
    let mut test = Test::new()
        .runbook(
            "web",
            r#"[runbook]
name = "Web"
bogus = 1
colour = "red"

[[steps]]
id = "build"
run = "true"
timeout = "5 min"

[[steps]]
id = "settings"
config = { file = "a.toml", against = "b.toml", requir = ["x"] }
retries = 500

[git]
brnch = "main"
"#,
        )
        .args(&["check", "runbooks/web.toml"]);
    let run = test.run().code(2);
    for (position, message) in [
        ("2:8", "invalid runbook name `Web`"),
        ("3:1", "unknown key `bogus`"),
        ("4:1", "unknown key `colour`"),
        ("9:11", "invalid duration"),
        ("13:49", "unknown key `requir`"),
        ("14:11", "retries = 500 is out of range"),
        ("17:1", "unknown key `brnch`"),
    ] {
        let at = run
            .stderr
            .find(&format!("error: {message}"))
            .unwrap_or_else(|| panic!("no {message:?} in:\n{}", run.stderr));
        let located = &run.stderr[at..];
        assert!(
            located.contains(&format!("runbooks/web.toml:{position}")),
            "{message} at {position}:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("7 errors in runbooks/web.toml"),
        "{}",
        run.stderr
    );

    // A header that does not deserialize at all (a value of the wrong type) does not hide the
    // rest of the file either, nor does a missing one.
    test.write(
        "runbooks/web.toml",
        "[runbook]\nname = 5\n\n[[steps]]\nid = \"Bad\"\nrun = \"true\"\n",
    );
    test.shipbook(&["check", "runbooks/web.toml"])
        .code(2)
        .stderr_has("invalid step id `Bad`")
        .stderr_has("2 errors in runbooks/web.toml");
    test.write(
        "runbooks/web.toml",
        "[[steps]]\nid = \"Bad\"\nrun = \"true\"\n",
    );
    test.shipbook(&["check", "runbooks/web.toml"])
        .code(2)
        .stderr_has("missing the `[runbook]` table")
        .stderr_has("invalid step id `Bad`");
}

#[test]
fn type_errors_are_named_in_the_words_of_a_runbook() {
    let mut test = Test::new()
        .runbook(
            "web",
            r#"[runbook]
name = "web"
on_failure = 5

[environments.staging]

[[steps]]
id = "tag"
tag = "v1"

[[steps]]
id = "build"
run = "true"
retries = "two"

[[steps]]
id = "deploy"
run = "true"
only = "staging"

[[steps]]
id = "health"
http = { url = "http://127.0.0.1:1/", status = "200" }
"#,
        )
        .args(&["check", "runbooks/web.toml"]);
    let run = test.run().code(2);
    let stderr = &run.stderr;
    for rust in [
        "i64",
        "u16",
        "struct",
        "TagSpec",
        "sequence",
        "wanted string",
    ] {
        assert!(!stderr.contains(rust), "{rust:?} in:\n{stderr}");
    }
    for (found, expected) in [
        ("integer `5`", "one of `ask`, `undo`, `stop`, `rollback`"),
        (
            "string \"v1\"",
            "a table with the keys `name`, `message`, `push`, `remote`",
        ),
        ("string \"two\"", "an integer"),
        ("string \"staging\"", "an array"),
        ("string \"200\"", "a whole number from 0 to 65535"),
    ] {
        let message = format!("wrong type: found {found}");
        let at = stderr
            .find(&message)
            .unwrap_or_else(|| panic!("no {message:?} in:\n{stderr}"));
        let rest = &stderr[at..];
        let expected_line = rest.lines().find(|l| l.contains("= expected:")).unwrap();
        assert!(expected_line.ends_with(expected), "{message}:\n{stderr}");
    }
}

#[test]
fn a_runbook_that_is_not_utf8_is_located_like_any_error() {
    let mut test = Test::new().args(&["check", "runbooks/latin1.toml"]);
    std::fs::create_dir_all(test.join("runbooks")).unwrap();
    std::fs::write(
        test.join("runbooks/latin1.toml"),
        b"[runbook]\nname = \"web\"\ndescription = \"caf\xe9\"\n",
    )
    .unwrap();
    let run = test
        .run()
        .code(2)
        .stderr_has("error: not UTF-8 text: byte 0xE9")
        .stderr_has("--> runbooks/latin1.toml:3:19")
        .stderr_has("expected: a runbook saved as UTF-8 text");
    assert!(!run.stderr.contains("right path"), "{}", run.stderr);
}

#[test]
fn errors_are_limited_per_line_and_per_file_and_long_lines_are_cut() {
    // One line holding 2,000 bad key characters, then 300 lines with one each: before, every
    // error quoted its whole line, so the output grew with the square of the line.
    let mut runbook = String::from("[runbook]\nname = \"web\"\n\n");
    runbook.push_str(&"a$".repeat(2000));
    runbook.push_str(" = 1\n");
    runbook.push_str(&"b$c = 1\n".repeat(300));
    let mut test = Test::new()
        .runbook("web", &runbook)
        .args(&["check", "runbooks/web.toml"]);
    let run = test.run().code(2);
    let stderr = &run.stderr;
    assert!(
        stderr.len() < 32 * 1024,
        "{} bytes:\n{stderr}",
        stderr.len()
    );
    assert_eq!(
        stderr.matches("--> runbooks/web.toml:4:").count(),
        3,
        "{stderr}"
    );
    assert!(
        stderr.contains("= and 1,997 more on this line, not shown"),
        "{stderr}"
    );
    // Every error is counted, and the file shows fifty of them.
    let summary = stderr
        .lines()
        .find(|line| line.contains(" errors in runbooks/web.toml"))
        .expect("a summary");
    let total: usize = summary["error: ".len()..summary.find(" errors").unwrap()]
        .replace(',', "")
        .parse()
        .unwrap();
    assert!(total > 2300, "{summary}");
    assert!(summary.contains("(50 shown above, and "), "{summary}");
    assert_eq!(
        stderr.matches("error: invalid TOML").count(),
        50,
        "{stderr}"
    );
    // The long line is shown as a window around the caret, cut where it was cut.
    let quoted = stderr
        .lines()
        .find(|line| line.starts_with("4 | "))
        .expect("the line is quoted");
    assert!(quoted.ends_with('…'), "{quoted}");
    assert!(quoted.chars().count() < 200, "{quoted}");
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

/// A step's `timeout` limits its commands; on an `http` step with no `undo` it would limit
/// nothing (the polling time is `http.timeout`), so `check` says so where it is written.
#[test]
fn a_timeout_that_would_limit_nothing_is_refused() {
    let mut test = Test::new()
        .runbook(
            "web",
            "[runbook]\nname = \"web\"\n\n[[steps]]\nid = \"health\"\nhttp = { url = \"http://127.0.0.1:1/health\" }\ntimeout = \"1s\"\n",
        )
        .args(&["check", "runbooks/web.toml"]);
    test.run()
        .code(2)
        .stderr_has("runbooks/web.toml:7:11")
        .stderr_has("`timeout` on an `http` step limits nothing")
        .stderr_has("timeout = \"60s\"");
}
