//! `shipbook init`: a starter runbook that fits the project, passes `shipbook check`, never
//! overwrites a runbook unasked, and ignores the state directory in git.

use std::process::Command;

use crate::test::{Test, git};

/// A git repository holding `manifest`, after a successful `shipbook init`.
fn initialised(manifest: &str, content: &str) -> Test {
    let test = Test::new();
    test.write(manifest, content);
    test.shipbook(&["init"])
        .success()
        .stderr_has("wrote runbooks/release.toml")
        .stderr_has("shipbook check")
        .stderr_has("shipbook plan runbooks/release.toml");
    test.shipbook(&["check"])
        .success()
        .stderr_has("runbooks/release.toml");
    test
}

#[test]
fn a_rust_project_gets_cargo_checks() {
    let test = initialised(
        "Cargo.toml",
        "[package]\nname = \"Billing_API\"\nversion = \"1.4.3\"\n",
    );
    let runbook = test.read("runbooks/release.toml");
    for expected in [
        "#:schema ./schema.json\n",
        "name = \"billing_api\"",
        "dir = \"..\"",
        "version = \"1.4.3\"",
        r#"run = ["cargo", "fmt", "--all", "--check"]"#,
        r#"run = ["cargo", "clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]"#,
        r#"run = ["cargo", "test", "--workspace"]"#,
        "confirm = ",
        "tag = { name = \"v{{ version }}\"",
        "[rollback]",
        // The checks run beside each other; the approval waits for all of them.
        "needs = []",
        r#"needs = ["cargo-fmt", "cargo-clippy", "cargo-test"]"#,
    ] {
        assert!(runbook.contains(expected), "lacks {expected:?}:\n{runbook}");
    }
    assert!(runbook.starts_with("#:schema ./schema.json\n"));
    test.shipbook(&["plan", "runbooks/release.toml"])
        .success()
        .stdout_has("1. cargo-fmt, cargo-clippy, cargo-test");
}

#[test]
fn a_node_project_gets_the_scripts_it_has() {
    let test = initialised(
        "package.json",
        r#"{"name": "@team/web", "version": "2.0.0", "scripts": {"test": "jest", "build": "tsc"}}"#,
    );
    let runbook = test.read("runbooks/release.toml");
    assert!(runbook.contains(r#"run = ["npm", "test"]"#), "{runbook}");
    assert!(
        !runbook.contains("lint"),
        "no lint script, no lint step:\n{runbook}"
    );
    assert!(runbook.contains("name = \"web\""), "{runbook}");
    assert!(runbook.contains("version = \"2.0.0\""), "{runbook}");

    let test = initialised(
        "package.json",
        r#"{"name": "web", "scripts": {"lint": "eslint .", "test": "jest"}}"#,
    );
    let runbook = test.read("runbooks/release.toml");
    assert!(
        runbook.contains(r#"run = ["npm", "run", "lint"]"#),
        "{runbook}"
    );
    assert!(runbook.contains(r#"run = ["npm", "test"]"#), "{runbook}");
}

#[test]
fn a_node_project_without_scripts_gets_a_placeholder_check() {
    let test = initialised("package.json", r#"{"name": "web"}"#);
    let runbook = test.read("runbooks/release.toml");
    assert!(runbook.contains("no `lint` or `test` script"), "{runbook}");
    assert!(runbook.contains("edit the checks step"), "{runbook}");
}

#[test]
fn a_python_project_gets_ruff_and_pytest() {
    let test = initialised(
        "pyproject.toml",
        "[project]\nname = \"data-tool\"\nversion = \"0.3.0\"\n",
    );
    let runbook = test.read("runbooks/release.toml");
    assert!(
        runbook.contains(r#"run = ["ruff", "check", "."]"#),
        "{runbook}"
    );
    assert!(runbook.contains(r#"run = ["pytest"]"#), "{runbook}");
    assert!(runbook.contains("name = \"data-tool\""), "{runbook}");
}

#[test]
fn a_go_project_gets_vet_and_test() {
    let test = initialised("go.mod", "module example.com/team/svc/v2\n\ngo 1.22\n");
    let runbook = test.read("runbooks/release.toml");
    assert!(
        runbook.contains(r#"run = ["go", "vet", "./..."]"#),
        "{runbook}"
    );
    assert!(
        runbook.contains(r#"run = ["go", "test", "./..."]"#),
        "{runbook}"
    );
    assert!(runbook.contains("name = \"svc\""), "{runbook}");
}

#[test]
fn an_unknown_project_gets_the_generic_template() {
    let test = initialised("notes.txt", "nothing to detect\n");
    let runbook = test.read("runbooks/release.toml");
    assert!(runbook.contains("as a generic template"), "{runbook}");
    assert!(runbook.contains("id = \"checks\""), "{runbook}");
}

#[test]
fn a_broken_manifest_is_a_warning_not_a_failure() {
    let test = Test::new();
    test.write("package.json", "{ not json");
    test.shipbook(&["init"])
        .success()
        .stderr_has("warning: package.json is not valid JSON");
    test.shipbook(&["check"]).success();
}

#[test]
fn the_rollback_fails_until_it_is_edited() {
    let test = initialised("Cargo.toml", "[package]\nname = \"api\"\n");
    test.shipbook(&["rollback", "runbooks/release.toml", "--yes"])
        .code(1)
        .stderr_has("edit the [rollback] section of runbooks/release.toml");
}

#[test]
fn an_existing_runbook_is_kept_unless_forced() {
    let test = Test::new();
    test.write("runbooks/release.toml", "# mine\n");
    test.shipbook(&["init"])
        .code(2)
        .stderr_has("runbooks/release.toml already exists")
        .stderr_has("--force");
    assert_eq!(test.read("runbooks/release.toml"), "# mine\n");
    assert!(
        !test.join(".gitignore").exists(),
        "a refused init changes nothing"
    );

    test.shipbook(&["init", "--force"]).success();
    assert!(test.read("runbooks/release.toml").contains("[[steps]]"));
    test.shipbook(&["check"]).success();
}

#[test]
fn the_state_directory_is_ignored_once() {
    let test = Test::new();
    test.write(".gitignore", "target/");
    test.shipbook(&["init"])
        .success()
        .stderr_has("added .shipbook/ to .gitignore");
    test.shipbook(&["init", "--force"])
        .success()
        .stderr_has(".gitignore already ignores .shipbook/");
    assert_eq!(test.read(".gitignore"), "target/\n.shipbook/\n");

    let fresh = Test::new();
    fresh
        .shipbook(&["init"])
        .success()
        .stderr_has("created .gitignore");
    assert_eq!(fresh.read(".gitignore"), ".shipbook/\n");
}

/// The state directory is made at the root of the repository, so that is where it is ignored,
/// even when init runs in a project below the root.
#[test]
fn in_a_subdirectory_the_root_gitignore_gets_the_line() {
    let test = Test::new();
    test.write("services/api/Cargo.toml", "[package]\nname = \"api\"\n");
    let output = Command::new(env!("CARGO_BIN_EXE_shipbook"))
        .arg("init")
        .current_dir(test.join("services/api"))
        .env("NO_COLOR", "1")
        .output()
        .expect("shipbook runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(test.read(".gitignore"), ".shipbook/\n");
    assert!(!test.join("services/api/.gitignore").exists());
    assert!(test.join("services/api/runbooks/release.toml").exists());
    // The records of a run of this runbook would land in the ignored directory.
    let ignored = git(test.path(), &["check-ignore", ".shipbook/shipbook.db"]);
    assert_eq!(ignored, ".shipbook/shipbook.db");
}

#[test]
fn an_unwritable_path_is_a_clear_error() {
    let test = Test::new();
    // A file where the directory should be: even root cannot create the directory.
    test.write("runbooks", "not a directory\n");
    test.shipbook(&["init"])
        .code(1)
        .stderr_has("cannot create the directory runbooks/")
        .stderr_has("nothing was written");
}

#[test]
fn a_read_only_directory_is_a_clear_error() {
    // Root writes through permissions, so this can only be seen as another user.
    if unsafe { libc::geteuid() } == 0 {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let test = Test::new();
    let read_only = std::fs::Permissions::from_mode(0o555);
    std::fs::set_permissions(test.path(), read_only).unwrap();
    let run = test.shipbook(&["init"]);
    std::fs::set_permissions(test.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    run.code(1)
        .stderr_has("cannot create the directory runbooks/")
        .stderr_has("Permission denied");
}

#[test]
fn a_released_version_is_not_proposed_again() {
    let test = Test::new();
    test.write(
        "Cargo.toml",
        "[package]\nname = \"web\"\nversion = \"1.4.3\"\n",
    );
    test.commit("release 1.4.3");
    git(test.path(), &["tag", "v1.4.3"]);
    git(test.path(), &["tag", "v1.4.10"]);
    test.shipbook(&["init"])
        .success()
        .stderr_has("warning: tag v1.4.3 already exists")
        .stderr_has("the runbook proposes 1.4.11")
        .stderr_has("steps cargo-fmt, cargo-clippy, cargo-test, approve, tag v1.4.11");
    let runbook = test.read("runbooks/release.toml");
    assert!(runbook.contains("version = \"1.4.11\""), "{runbook}");

    // A version not yet tagged is kept as the manifest says.
    let fresh = Test::new();
    fresh.write(
        "Cargo.toml",
        "[package]\nname = \"web\"\nversion = \"1.4.4\"\n",
    );
    fresh.commit("bump");
    git(fresh.path(), &["tag", "v1.4.3"]);
    let run = fresh.shipbook(&["init"]).success();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert!(
        fresh
            .read("runbooks/release.toml")
            .contains("version = \"1.4.4\"")
    );
}

#[test]
fn init_says_to_commit_what_it_wrote_before_the_first_rehearsal() {
    let test = Test::new();
    test.write(
        "Cargo.toml",
        "[package]\nname = \"web\"\nversion = \"0.2.0\"\n",
    );
    test.commit("a project");
    let run = test.shipbook(&["init"]).success();
    run.stderr_has(
        "git add runbooks/release.toml runbooks/schema.json .gitignore && git commit -m \"Add the release runbook\"",
    )
    .stderr_has("commit them before the first rehearsal");
    // What it says is what stands between init and a rehearsal: the tree is dirty until then.
    let status = git(test.path(), &["status", "--porcelain"]);
    assert!(status.contains("runbooks/"), "{status}");
    git(
        test.path(),
        &[
            "add",
            "runbooks/release.toml",
            "runbooks/schema.json",
            ".gitignore",
        ],
    );
    git(
        test.path(),
        &["commit", "-q", "-m", "Add the release runbook"],
    );
    assert_eq!(git(test.path(), &["status", "--porcelain"]), "");

    // Once they are committed, a second init that changes nothing has nothing to say about it.
    let again = test.shipbook(&["init", "--force"]).success();
    assert!(!again.stderr.contains("git add"), "{}", again.stderr);
}
