//! Undo on failure, rollback, rehearsal, rehearsal evidence, and resume.

use crate::test::{Test, git, kill, kill_group, wait_for, wait_for_pid};

const UNDOABLE: &str = r#"[runbook]
name = "web"
dir = ".."
on_failure = "undo"

[[steps]]
id = "one"
run = "echo run-one >> journal"
undo = "echo undo-one >> journal"

[[steps]]
id = "two"
run = "echo run-two >> journal"

[[steps]]
id = "three"
run = "echo run-three >> journal"
undo = "echo undo-three >> journal"

[[steps]]
id = "four"
run = "echo run-four >> journal; exit 1"
undo = "echo undo-four >> journal"

[rollback]
note = "Put it all back."
run = "echo rollback >> journal"
"#;

#[test]
fn undo_runs_newest_first_after_a_failure() {
    let test = Test::new().runbook("web", UNDOABLE);
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("undoing, newest first")
        .stderr_has("undone: `four`, `three`, `one`");
    assert_eq!(
        test.read("journal"),
        "run-one\nrun-two\nrun-three\nrun-four\nundo-four\nundo-three\nundo-one\n"
    );
    let record = test.last_run();
    let statuses: Vec<&str> = record["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "undone",
            "succeeded",
            "undone",
            "undone",
            "succeeded",
            "succeeded",
            "succeeded"
        ]
    );
    assert_eq!(record["steps"][4]["id"], "undo-four");
    let note = test.shipbook(&["note", "last"]).success().stdout;
    assert!(note.contains("## Undo (newest first)"), "{note}");
    assert!(note.contains("## Undone"), "{note}");
}

#[test]
fn a_failing_undo_stops_the_undoing_and_says_what_is_left() {
    let test = Test::new().runbook(
        "web",
        &UNDOABLE.replace("undo = \"echo undo-three >> journal\"", "undo = \"exit 9\""),
    );
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("the undo of `three` failed, so undoing stopped; undone: `four`; not undone: `three`, `one`")
        .stderr_has("roll back by hand with: echo rollback >> journal");
    assert_eq!(
        test.read("journal"),
        "run-one\nrun-two\nrun-three\nrun-four\nundo-four\n"
    );
}

#[test]
fn on_failure_can_be_overridden_and_stop_leaves_everything() {
    let test = Test::new().runbook("web", UNDOABLE);
    test.shipbook(&["run", "runbooks/web.toml", "--on-failure", "stop"])
        .code(1);
    assert!(!test.read("journal").contains("undo"));
    // `ask` without a terminal is `stop`.
    std::fs::remove_file(test.join("journal")).unwrap();
    test.shipbook(&["run", "runbooks/web.toml", "--on-failure", "ask"])
        .code(1);
    assert!(!test.read("journal").contains("undo"));
}

#[test]
fn rollback_runs_the_procedure_as_a_run_of_its_own() {
    let test = Test::new().runbook("web", UNDOABLE);
    test.shipbook(&["rollback", "runbooks/web.toml"])
        .code(3)
        .stderr_has("no terminal to ask on and no --yes");
    assert!(!test.join("journal").exists());
    test.shipbook(&[
        "rollback",
        "runbooks/web.toml",
        "--yes",
        "--reason",
        "pages are down",
    ])
    .success();
    assert_eq!(test.read("journal"), "rollback\n");
    let record = test.last_run();
    assert_eq!(record["mode"], "rollback");
    assert_eq!(record["status"], "succeeded");
    let note = test.shipbook(&["note", "last"]).success().stdout;
    assert!(
        crate::test::note_body(&note).starts_with("# ROLLBACK: web: succeeded"),
        "{note}"
    );
    assert!(note.contains("pages are down"), "{note}");
}

#[test]
fn rollback_without_a_rollback_section_says_how_to_add_one() {
    let test = Test::new().runbook(
        "web",
        "[runbook]\nname = \"web\"\n[[steps]]\nid = \"a\"\nrun = \"true\"\n",
    );
    test.shipbook(&["rollback", "runbooks/web.toml", "--yes"])
        .code(2)
        .stderr_has("has no [rollback] section")
        .stderr_has("[rollback]\n");
}

#[test]
fn rollback_skips_git_checks_and_can_force_the_lock() {
    let test = Test::new().runbook(
        "web",
        &UNDOABLE
            .replacen("[[steps]]", "[git]\nrequire_clean = true\n\n[[steps]]", 1)
            .replace(
                "echo run-one >> journal",
                "test -f hold && { echo $$ > one.pid; sleep 300; }; echo run-one >> journal",
            ),
    );
    test.write("dirty.txt", "uncommitted\n");
    test.shipbook(&["rollback", "runbooks/web.toml", "--yes"])
        .success();

    // A release hangs holding the lock; the emergency rollback can take it anyway.
    test.commit("clean again");
    test.write(".gitignore", "journal\nhold\none.pid\n");
    test.commit("ignore");
    test.write("hold", "");
    let mut release = test.spawn(&["run", "runbooks/web.toml"]);
    let pid_file = test.join("one.pid");
    wait_for_pid("the release to hang", &pid_file);
    test.shipbook(&["rollback", "runbooks/web.toml", "--yes"])
        .code(4)
        .stderr_has("is locked by run");
    let hung_step = crate::test::read_pid(&pid_file);
    test.shipbook(&["rollback", "runbooks/web.toml", "--yes", "--force-lock"])
        .success()
        .stderr_has("--force-lock: stopping run");
    // The release was told to stop: it stopped its step and recorded itself interrupted.
    let status = release.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    crate::test::wait_for("the hung step to be gone", || {
        !crate::test::alive(hung_step)
    });
}

#[test]
fn a_rollback_that_cannot_be_recorded_prints_the_commands_to_run_by_hand() {
    let test = Test::new().runbook("web", UNDOABLE);
    test.write("blocker", "a file where the state directory should be\n");
    test.shipbook(&[
        "--state-dir",
        "blocker/state",
        "rollback",
        "runbooks/web.toml",
        "--yes",
    ])
    .code(1)
    .stderr_has("the rollback was not run, because it could not be recorded")
    .stderr_has("echo rollback >> journal");
}

#[test]
fn a_mistyped_var_is_refused_not_ignored() {
    let test = Test::new().runbook("web", UNDOABLE);
    test.shipbook(&[
        "rollback",
        "runbooks/web.toml",
        "--yes",
        "--var",
        "journl=x",
    ])
    .code(2)
    .stderr_has("neither defines nor uses a variable `journl`");
}

#[test]
fn a_failed_metric_guard_is_undone_like_a_failed_step() {
    let test = Test::new().runbook(
        "web",
        &UNDOABLE
            .replace("echo run-four >> journal; exit 1", "echo run-four >> journal")
            .replacen(
                "[[steps]]",
                "[[metrics]]\nname = \"errors\"\ncommand = \"test -f journal && echo 9 || echo 1\"\nbetter = \"lower\"\nmax_regression = \"50%\"\n\n[[steps]]",
                1,
            ),
    );
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("metric guard exceeded")
        .stderr_has("to go back: `shipbook rollback");
    assert_eq!(
        test.read("journal"),
        "run-one\nrun-two\nrun-three\nrun-four\nundo-four\nundo-three\nundo-one\n"
    );
}

#[test]
fn resume_after_an_undo_runs_the_undone_steps_again() {
    let test = Test::new().runbook(
        "web",
        &UNDOABLE.replace(
            "echo run-four >> journal; exit 1",
            "echo run-four >> journal; test -f fixed",
        ),
    );
    test.shipbook(&["run", "runbooks/web.toml"]).code(1);
    test.write("fixed", "");
    test.shipbook(&["resume", "last"]).success();
    assert_eq!(
        test.read("journal"),
        "run-one\nrun-two\nrun-three\nrun-four\nundo-four\nundo-three\nundo-one\nrun-one\nrun-three\nrun-four\n"
    );
    let record = test.last_run();
    assert_eq!(record["status"], "succeeded");
    let undo_history = record["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["phase"] == "undo")
        .count();
    assert_eq!(undo_history, 3, "the earlier undo is kept as history");
}

const REHEARSABLE: &str = r#"[runbook]
name = "web"
dir = ".."

[environments.staging]
[environments.production]
requires_rehearsal = "staging"

[[steps]]
id = "build"
run = "echo build-{{ env }} >> journal"

[[steps]]
id = "tag"
tag = { name = "v1.0.0" }

[[steps]]
id = "announce"
run = "echo announce >> journal"
rehearsal = "skip"

[rollback]
run = "echo rollback-{{ env }} >> journal"
"#;

fn rehearsable() -> Test {
    let test = Test::new().runbook("web", REHEARSABLE);
    test.write(".gitignore", "journal\n");
    test.commit("runbook");
    test
}

#[test]
fn a_rehearsal_creates_no_tag_skips_what_it_should_and_runs_the_rollback() {
    let test = rehearsable();
    let tags_before = git(test.path(), &["tag"]);
    test.shipbook(&["rehearse", "runbooks/web.toml", "--env", "staging"])
        .success()
        .stderr_has("REHEARSAL")
        .stderr_has("would tag v1.0.0");
    assert_eq!(git(test.path(), &["tag"]), tags_before, "no ref changed");
    assert_eq!(test.read("journal"), "build-staging\nrollback-staging\n");
    let record = test.last_run();
    assert_eq!(record["mode"], "rehearsal");
    let rollback = record["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(rollback["phase"], "rollback");
    assert_eq!(rollback["status"], "succeeded");
    let note = test.shipbook(&["note", "last"]).success().stdout;
    assert!(
        crate::test::note_body(&note).starts_with("# REHEARSAL: web to staging"),
        "{note}"
    );
    assert!(note.contains("## Rollback, rehearsed"), "{note}");
    assert!(note.contains("the rollback took"), "{note}");
}

#[test]
fn production_requires_a_rehearsal_of_the_same_commit() {
    let test = rehearsable();
    test.shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .code(1)
        .stderr_has("requires a succeeded rehearsal in `staging`")
        .stderr_has("shipbook rehearse ");
    assert!(!test.join("journal").exists(), "no step ran");

    test.shipbook(&["rehearse", "runbooks/web.toml", "--env", "staging"])
        .success();
    let rehearsal = test.last_run()["run_id"].as_str().unwrap().to_string();
    test.shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .success();
    let note = test.shipbook(&["note", "last"]).success().stdout;
    assert!(
        note.contains(&format!("Rehearsal `{rehearsal}` in staging")),
        "{note}"
    );

    // A new commit needs a new rehearsal.
    git(test.path(), &["tag", "-d", "v1.0.0"]);
    test.write("feature.txt", "new\n");
    test.commit("new work");
    test.shipbook(&["run", "runbooks/web.toml", "--env", "production"])
        .code(1)
        .stderr_has("requires a succeeded rehearsal");
    test.shipbook(&[
        "run",
        "runbooks/web.toml",
        "--env",
        "production",
        "--skip-rehearsal",
        "hotfix, staging is down",
    ])
    .success()
    .stderr_has("skipped: hotfix, staging is down");
    let note = test.shipbook(&["note", "last"]).success().stdout;
    assert!(note.contains("hotfix, staging is down"), "{note}");
    assert_eq!(test.last_run()["skip_rehearsal"], "hotfix, staging is down");
}

const RESUMABLE: &str = r#"[runbook]
name = "web"
dir = ".."

[[steps]]
id = "one"
run = "echo one >> journal"

[[steps]]
id = "two"
run = "echo two >> journal; test -f fixed"

[[steps]]
id = "three"
run = "echo three >> journal"
"#;

#[test]
fn resume_after_a_failure_runs_only_what_is_left() {
    let test = Test::new().runbook("web", RESUMABLE);
    test.shipbook(&["run", "runbooks/web.toml"]).code(1);
    let run_id = test.last_run()["run_id"].as_str().unwrap().to_string();
    test.write("fixed", "");
    test.shipbook(&["resume", &run_id]).success();
    assert_eq!(test.read("journal"), "one\ntwo\ntwo\nthree\n");
    let record = test.last_run();
    assert_eq!(record["run_id"], run_id.as_str(), "the run keeps its id");
    assert_eq!(record["status"], "succeeded");
    assert_eq!(record["steps"][1]["attempts"], 2, "each attempt shows");
    assert_eq!(record["resumed"].as_array().unwrap().len(), 1);
    test.shipbook(&["resume", &run_id])
        .success()
        .stderr_has("nothing to resume");
}

#[test]
fn resume_after_kill_9_continues_the_interrupted_step() {
    let test = Test::new().runbook(
        "web",
        &RESUMABLE.replace(
            "echo two >> journal; test -f fixed",
            "echo two >> journal; test -f fixed || { echo $$ > two.pid; sleep 300; }",
        ),
    );
    let mut shipbook = test.spawn(&["run", "runbooks/web.toml"]);
    let pid_file = test.join("two.pid");
    wait_for_pid("step two to start", &pid_file);
    kill(shipbook.id(), "KILL");
    shipbook.wait().unwrap();
    // The step outlived shipbook, in its own process group: resume refuses to run it twice.
    let orphan = crate::test::read_pid(&pid_file);
    test.shipbook(&["resume", "last"])
        .code(1)
        .stderr_has("are still running (pid ")
        .stderr_has(&orphan.to_string());
    // The step's shell leads its own process group: end the whole group, as the message says.
    kill_group(orphan);
    wait_for("the orphaned step to be gone", || {
        !crate::test::alive(orphan)
    });
    test.write("fixed", "");
    test.shipbook(&["resume", "last"]).success();
    assert_eq!(test.read("journal"), "one\ntwo\ntwo\nthree\n");
}

#[test]
fn resume_refuses_a_changed_runbook_unless_forced() {
    let test = Test::new().runbook("web", RESUMABLE);
    test.shipbook(&["run", "runbooks/web.toml"]).code(1);
    std::fs::write(
        test.join("runbooks/web.toml"),
        RESUMABLE.replace("echo three", "echo THREE"),
    )
    .unwrap();
    test.write("fixed", "");
    test.shipbook(&["resume", "last"])
        .code(1)
        .stderr_has("changed since run")
        .stderr_has("`three` was `echo three >> journal`, is now `echo THREE >> journal`");
    test.shipbook(&["resume", "last", "--force"]).success();
    assert_eq!(test.read("journal"), "one\ntwo\ntwo\nTHREE\n");
}

#[test]
fn resume_asks_before_rerunning_a_step_that_is_not_idempotent() {
    let test = Test::new().runbook(
        "web",
        &RESUMABLE.replace("id = \"two\"", "id = \"two\"\nidempotent = false"),
    );
    test.shipbook(&["run", "runbooks/web.toml"]).code(1);
    test.write("fixed", "");
    test.shipbook(&["resume", "last"])
        .code(3)
        .stderr_has("no terminal to ask on and no --yes");
    test.shipbook(&["resume", "last", "--yes"]).success();
}

#[test]
fn resume_of_another_runbook_is_refused() {
    let test = Test::new().runbook("web", RESUMABLE);
    test.shipbook(&["run", "runbooks/web.toml"]).code(1);
    std::fs::write(
        test.join("runbooks/web.toml"),
        RESUMABLE.replace("name = \"web\"", "name = \"api\""),
    )
    .unwrap();
    test.shipbook(&["resume", "last"])
        .code(2)
        .stderr_has("now holds runbook `api`, not `web`");
}
