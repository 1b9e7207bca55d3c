//! Killing and interrupting shipbook: no finished step is lost, no step process survives.

use crate::test::{Test, alive, kill, kill_group, read_pid, wait_for, wait_for_pid};

const SLOW: &str = r#"[runbook]
dir = ".."
name = "web"

[[steps]]
id = "quick"
run = "echo done > quick.txt"

[[steps]]
id = "slow"
run = "echo $$ > slow.pid; sleep 300"

[[steps]]
id = "after"
run = "touch after"
"#;

#[test]
fn kill_9_mid_step_loses_no_finished_step() {
    let test = Test::new().runbook("web", SLOW);
    let mut shipbook = test.spawn(&["run", "runbooks/web.toml"]);
    let pid_file = test.join("slow.pid");
    wait_for_pid("the slow step to start", &pid_file);
    kill(shipbook.id(), "KILL");
    shipbook.wait().unwrap();
    // The step's process group is on its own now; end it so the test leaves nothing behind.
    let slow = read_pid(&pid_file);
    kill_group(slow);

    let record = test.last_run();
    assert_eq!(record["status"], "interrupted");
    assert_eq!(record["steps"][0]["status"], "succeeded");
    assert_eq!(record["steps"][1]["status"], "interrupted");
    assert_eq!(record["steps"][2]["status"], "pending");
    let history = test.shipbook(&["history"]).success();
    assert!(history.stdout.contains("interrupted"), "{}", history.stdout);
}

#[test]
fn sigint_mid_step_stops_the_step_and_exits_130() {
    let test = Test::new().runbook("web", SLOW);
    let shipbook = test.spawn(&["run", "runbooks/web.toml"]);
    let pid_file = test.join("slow.pid");
    wait_for_pid("the slow step to start", &pid_file);
    let slow = read_pid(&pid_file);
    kill(shipbook.id(), "INT");
    let output = shipbook.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    wait_for("the step's process to be gone", || !alive(slow));
    assert!(!test.join("after").exists());
    let record = test.last_run();
    assert_eq!(record["status"], "interrupted");
    assert_eq!(record["steps"][1]["status"], "interrupted");
    assert!(
        record["note"].as_str().is_some(),
        "an interrupted run still gets its note"
    );
}

#[test]
fn a_second_run_of_the_same_runbook_and_environment_is_locked_out() {
    let test = Test::new().runbook("web", SLOW);
    let mut first = test.spawn(&["run", "runbooks/web.toml"]);
    let pid_file = test.join("slow.pid");
    wait_for_pid("the first run to start its slow step", &pid_file);
    let first_id = test.last_run()["run_id"].as_str().unwrap().to_string();

    test.shipbook(&["run", "runbooks/web.toml"])
        .code(4)
        .stderr_has(&format!("is locked by run {first_id}"))
        .stderr_has(&format!("pid {}", first.id()))
        .stderr_has("safe to retry once that run has finished");

    // The holder dies without releasing the lock: the next run takes it over.
    kill(first.id(), "KILL");
    first.wait().unwrap();
    kill_group(read_pid(&pid_file));
    std::fs::write(
        test.join("runbooks/web.toml"),
        SLOW.replace("sleep 300", "true"),
    )
    .unwrap();
    test.shipbook(&["run", "runbooks/web.toml"])
        .success()
        .stderr_has(&format!("took over the lock of run {first_id}"));
}

#[test]
fn sigterm_during_an_undo_finishes_the_undo_in_flight_then_stops() {
    let test = Test::new().runbook(
        "web",
        r#"[runbook]
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
undo = "touch undo-started; sleep 1; echo undo-two >> journal"

[[steps]]
id = "three"
run = "exit 1"
"#,
    );
    let shipbook = test.spawn(&["run", "runbooks/web.toml"]);
    let marker = test.join("undo-started");
    wait_for("the undo of two to start", || marker.exists());
    kill(shipbook.id(), "TERM");
    let output = shipbook.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert_eq!(
        test.read("journal"),
        "run-one\nrun-two\nundo-two\n",
        "the undo in flight finished, the next one did not start"
    );
    let record = test.last_run();
    assert_eq!(record["status"], "interrupted");
    assert_eq!(record["steps"][1]["status"], "undone");
    assert_eq!(record["steps"][0]["status"], "succeeded");
    assert!(
        record["status_reason"]
            .as_str()
            .unwrap()
            .contains("not undone: `one`"),
        "{record}"
    );
}

/// Starts a run whose step ignores TERM and INT; returns it once the step runs, with the
/// step's pid.
fn start_a_stubborn_step() -> (Test, std::process::Child, i32) {
    let test = Test::new().runbook(
        "web",
        r#"[runbook]
name = "web"
dir = ".."

[[steps]]
id = "stubborn"
run = "trap '' TERM INT; echo $$ > stubborn.pid; while true; do sleep 0.1; done"
"#,
    );
    let shipbook = test.spawn(&["run", "runbooks/web.toml"]);
    let pid_file = test.join("stubborn.pid");
    wait_for_pid("the step to start", &pid_file);
    let stubborn = read_pid(&pid_file);
    (test, shipbook, stubborn)
}

#[test]
fn a_second_sigint_kills_the_step_at_once() {
    let (_test, shipbook, stubborn) = start_a_stubborn_step();
    kill(shipbook.id(), "INT");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        alive(stubborn),
        "the step ignores TERM, so it lives through the grace period"
    );
    kill(shipbook.id(), "INT");
    let output = shipbook.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    wait_for("the stubborn step to be killed", || !alive(stubborn));
}

#[test]
fn one_sigint_kills_a_step_that_ignores_term_after_the_grace_period() {
    let (test, shipbook, stubborn) = start_a_stubborn_step();
    kill(shipbook.id(), "INT");
    // No second signal: the grace period runs out, and the group gets KILL.
    let output = shipbook.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    wait_for("the stubborn step to be killed", || !alive(stubborn));
    assert_eq!(test.last_run()["steps"][0]["status"], "interrupted");
}

#[test]
fn after_kill_9_nothing_else_of_the_runbook_starts_while_its_step_still_runs() {
    let runbook = r#"[runbook]
name = "web"
dir = ".."

[[steps]]
id = "deploy"
run = "echo $$ > deploy.pid; sleep 300; echo deployed >> trace"

[rollback]
run = "echo rolled-back >> trace"
"#;
    let test = Test::new().runbook("web", runbook);
    let mut shipbook = test.spawn(&["run", "runbooks/web.toml"]);
    let deploy = wait_for_pid("the deploy to start", &test.join("deploy.pid"));
    kill(shipbook.id(), "KILL");
    shipbook.wait().unwrap();
    // The deploy is still running in its group: a rollback now would be undone by it.
    test.shipbook(&["rollback", "runbooks/web.toml", "--yes"])
        .code(1)
        .stderr_has(&format!("still running (pid {deploy}"))
        .stderr_has("then try again");
    assert!(!test.join("trace").exists(), "the rollback did not run");
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("still running");
    kill_group(deploy);
    wait_for("the deploy to be gone", || !alive(deploy));
    test.shipbook(&["rollback", "runbooks/web.toml", "--yes"])
        .success();
    assert_eq!(test.read("trace"), "rolled-back\n");
}
