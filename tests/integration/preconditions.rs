//! The `[git]` preconditions: checked before any step, with the paths or branch named.

use crate::test::{Test, git};

const RUNBOOK: &str = r#"[runbook]
name = "web"
dir = ".."

[git]
require_clean = true
branch = "main"

[[steps]]
id = "a"
run = "touch ran"
"#;

fn committed() -> Test {
    let test = Test::new().runbook("web", RUNBOOK);
    test.write(".gitignore", "ran\nignored.log\n");
    test.commit("runbook");
    test
}

#[test]
fn a_clean_tree_on_the_right_branch_runs() {
    let test = committed();
    test.shipbook(&["run", "runbooks/web.toml"]).success();
    // The records shipbook keeps in the repository do not make it dirty.
    test.shipbook(&["run", "runbooks/web.toml"]).success();
}

#[test]
fn uncommitted_changes_are_listed_untracked_included_ignored_not() {
    let test = committed();
    test.write("README.md", "changed\n");
    test.write("new-file.txt", "untracked\n");
    test.write("ignored.log", "ignored\n");
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("the working tree has uncommitted changes: README.md, new-file.txt")
        .stderr_has("commit or stash them")
        .stderr_has("no step was run");
    assert!(!test.join("ran").exists());
}

#[test]
fn the_wrong_branch_is_named() {
    let test = committed();
    git(test.path(), &["switch", "-q", "-c", "feature"]);
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("on branch `feature`, but the runbook releases from `main`");
    assert!(!test.join("ran").exists());
}

#[test]
fn a_detached_head_says_so() {
    let test = committed();
    git(test.path(), &["checkout", "-q", "--detach"]);
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("HEAD is detached at ");
}

#[test]
fn outside_a_repository_the_rules_cannot_hold() {
    let test = Test::bare().runbook("web", RUNBOOK);
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("need a git repository");
}
