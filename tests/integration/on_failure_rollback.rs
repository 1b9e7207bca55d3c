//! `on_failure = "rollback"`: a failed step runs the `[rollback]` procedure in the same run, and
//! the run ends `rolled_back`.

use crate::test::Test;

const RELEASE: &str = r#"[runbook]
name = "web"
dir = ".."
on_failure = "rollback"

[environments.production]

[[steps]]
id = "deploy"
run = "echo deploy >> journal"

[[steps]]
id = "verify"
run = "test -f healthy"

[rollback]
note = "Redeploy the previous release"
run = "echo rollback-{{ env }} >> journal"
"#;

fn project(runbook: &str) -> Test {
    let test = Test::new().runbook("web", runbook);
    test.write(".gitignore", "journal\nhealthy\n");
    test.commit("runbook");
    test
}

#[test]
fn a_failed_step_rolls_back_in_the_same_run() {
    let test = project(RELEASE);
    let run = test
        .shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .code(1)
        .stderr_has("rolled_back");
    assert_eq!(test.read("journal"), "deploy\nrollback-production\n");
    let record = test.last_run();
    assert_eq!(record["status"], "rolled_back", "{}", run.stderr);
    let reason = record["status_reason"].as_str().unwrap();
    assert!(reason.contains("verify"), "{reason}");
    assert!(reason.contains("rolled back"), "{reason}");
    let steps = record["steps"].as_array().unwrap();
    let last = steps.last().unwrap();
    assert_eq!(last["phase"], "rollback");
    assert_eq!(last["status"], "succeeded");
    let note = test.shipbook(&["note", "last"]).success();
    assert!(note.stdout.contains("rolled_back"), "{}", note.stdout);
    // What the rollback undid is not resumed: that would deploy again.
    test.shipbook(&["resume", "last"])
        .code(2)
        .stderr_has("was rolled back");
}

#[test]
fn the_flag_chooses_the_rollback_for_one_run_and_needs_a_rollback_section() {
    let test = project(&RELEASE.replace("on_failure = \"rollback\"\n", ""));
    test.shipbook(&[
        "run",
        "runbooks/web.toml",
        "--env",
        "production",
        "--on-failure",
        "rollback",
    ])
    .code(1);
    assert_eq!(test.last_run()["status"], "rolled_back");

    let without = RELEASE.replace(
        "[rollback]\nnote = \"Redeploy the previous release\"\nrun = \"echo rollback-{{ env }} >> journal\"\n",
        "",
    );
    let test = project(&without.replace("on_failure = \"rollback\"\n", ""));
    test.shipbook(&["run", "runbooks/web.toml", "--on-failure", "rollback"])
        .code(2)
        .stderr_has("no [rollback]");
    let test = project(&without);
    test.shipbook(&["check", "runbooks/web.toml"])
        .code(2)
        .stderr_has("on_failure")
        .stderr_has("no [rollback]");
}

#[test]
fn a_rollback_that_fails_says_how_to_roll_back_by_hand() {
    let test = project(&RELEASE.replace(
        "run = \"echo rollback-{{ env }} >> journal\"",
        "run = \"exit 3\"",
    ));
    test.shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .code(1)
        .stderr_has("the rollback did not complete");
    assert_eq!(test.last_run()["status"], "failed");
}
