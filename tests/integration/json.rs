//! `run --json`: one JSON object per line on stdout, and nothing else there.

use crate::test::Test;

#[test]
fn events_are_json_lines_in_order() {
    let mut test = Test::new()
        .runbook(
            "web",
            r#"[runbook]
name = "web"

[environments.staging]

[[steps]]
id = "lint"
run = "echo linting"

[[steps]]
id = "flaky"
run = "test -f once || { touch once; exit 1; }"
retries = 1
retry_delay = "1ms"

[[steps]]
id = "staging-only"
run = "true"
only = ["staging"]

[[steps]]
id = "done"
run = "true"
"#,
        )
        .args(&["run", "runbooks/web.toml", "--json"]);
    let run = test.run().success();
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "run_started",
            "step_started",
            "step_finished",
            "step_started",
            "step_retrying",
            "step_started",
            "step_finished",
            "step_finished",
            "step_started",
            "step_finished",
            "run_finished"
        ]
    );
    assert_eq!(events[0]["runbook"], "web");
    assert_eq!(events[0]["mode"], "run");
    let run_id = events[0]["run_id"].as_str().unwrap();
    assert_eq!(events[2]["step"], "lint");
    assert_eq!(events[2]["status"], "succeeded");
    assert_eq!(events[2]["exit_code"], 0);
    assert_eq!(events[2]["attempts"], 1);
    assert!(events[2]["duration_ms"].is_u64());
    assert_eq!(events[6]["attempts"], 2);
    assert_eq!(events[7]["status"], "skipped");
    assert_eq!(events[10]["run_id"], run_id);
    assert_eq!(events[10]["status"], "succeeded");
    assert!(
        std::path::Path::new(events[10]["note"].as_str().unwrap()).exists(),
        "the note named by run_finished exists"
    );
    assert!(run.stderr.contains("✓ lint"), "human output goes to stderr");
}

#[test]
fn a_failed_run_ends_with_a_failed_event() {
    let mut test = Test::new()
        .runbook(
            "web",
            "[runbook]\nname = \"web\"\n[[steps]]\nid = \"x\"\nrun = \"exit 7\"\n",
        )
        .args(&["run", "runbooks/web.toml", "--json"]);
    let run = test.run().code(1);
    let last: serde_json::Value = serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["status"], "failed");
    let finished: serde_json::Value =
        serde_json::from_str(run.stdout.lines().nth(2).unwrap()).unwrap();
    assert_eq!(finished["exit_code"], 7);
}

/// A reader that goes away (`shipbook run … --json | head -1`) must not stop a release: the
/// JSON output is reported once and dropped, and the steps, the record and the note go on.
#[test]
fn a_closed_json_pipe_does_not_stop_the_release() {
    use std::io::{BufRead, BufReader};

    let test = Test::new().runbook(
        "web",
        r#"[runbook]
name = "web"

[[steps]]
id = "first"
run = "true"

[[steps]]
id = "second"
run = "sleep 0.2"

[[steps]]
id = "third"
run = "touch third-ran"
"#,
    );
    let mut child = test.spawn(&["run", "runbooks/web.toml", "--json"]);
    let mut stdout = BufReader::new(child.stdout.take().expect("a stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a first event");
    assert!(first.contains("run_started"), "{first}");
    drop(stdout);
    let output = child.wait_with_output().expect("shipbook ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("JSON events on stdout stopped"), "{stderr}");
    assert_eq!(stderr.matches("stopped (").count(), 1, "{stderr}");
    assert!(test.join("runbooks/third-ran").exists());
    let run = test.last_run();
    assert_eq!(run["status"], "succeeded");
    assert!(run["note"].as_str().is_some_and(|note| !note.is_empty()));
}

/// The terminal going away (stderr closed) does not stop a release either.
#[test]
fn a_closed_stderr_does_not_stop_the_release() {
    let test = Test::new().runbook(
        "web",
        "[runbook]\nname = \"web\"\n\n[[steps]]\nid = \"first\"\nrun = \"echo one\"\n\n[[steps]]\nid = \"second\"\nrun = \"touch second-ran\"\n",
    );
    let mut child = test.spawn(&["-v", "run", "runbooks/web.toml"]);
    drop(child.stderr.take());
    let status = child.wait().expect("shipbook ends");
    assert_eq!(status.code(), Some(0));
    assert!(test.join("runbooks/second-ran").exists());
    assert_eq!(test.last_run()["status"], "succeeded");
}
