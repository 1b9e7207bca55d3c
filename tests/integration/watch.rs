//! The `watch` step kind through the binary: real commands, a real loopback HTTP server, a
//! metric against its value before the first step, and what a kill -9 in the middle leaves.

use crate::http_check::serve;
use crate::test::{Test, kill, wait_for};

fn project(runbook: &str) -> Test {
    let test = Test::new().runbook("web", runbook);
    test.write(".gitignore", "journal\nerror-rate\ncount\n");
    test.commit("runbook");
    test
}

#[test]
fn a_watch_of_a_healthy_service_passes_with_every_sample_recorded() {
    let (port, hits) = serve(|_| (200, "ok"));
    let test = project(
        r#"[runbook]
name = "web"

[vars]
port = "0"

[[steps]]
id = "bake"
watch = { for = "400ms", every = "100ms", failures = 1, http = { url = "http://127.0.0.1:{{ port }}/health", status = 200, contains = "ok" } }
"#,
    );
    let port = port.to_string();
    test.shipbook(&["run", "runbooks/web.toml", "--var", &format!("port={port}")])
        .success();
    let record = test.last_run();
    let bake = &record["steps"][0];
    assert_eq!(bake["kind"], "watch");
    assert_eq!(bake["status"], "succeeded");
    let samples = bake["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 5, "{samples:?}");
    assert!(samples.iter().all(|s| s["passed"] == true));
    assert!(hits.load(std::sync::atomic::Ordering::SeqCst) >= 5);
    // `show` draws the series; the note has the samples and the verdict.
    test.shipbook(&["show", "last"])
        .success()
        .stdout_has("✓✓✓✓✓");
    test.shipbook(&["note", "last"])
        .success()
        .stdout_has("bake")
        .stdout_has("5 samples");
}

#[test]
fn a_watch_of_a_failing_check_fails_at_its_count_and_rolls_back() {
    // The service answers 200 twice, then 503.
    let (port, _) = serve(|n| if n < 2 { (200, "ok") } else { (503, "down") });
    let test = project(
        r#"[runbook]
name = "web"
dir = ".."
on_failure = "rollback"

[vars]
port = "0"

[[steps]]
id = "deploy"
run = "echo deploy >> journal"

[[steps]]
id = "bake"
watch = { for = "10s", every = "50ms", failures = 2, http = { url = "http://127.0.0.1:{{ port }}/health", status = 200, timeout = "200ms", interval = "50ms" } }

[rollback]
run = "echo rollback >> journal"
"#,
    );
    let port = port.to_string();
    test.shipbook(&["run", "runbooks/web.toml", "--var", &format!("port={port}")])
        .code(1)
        .stderr_has("bake");
    assert_eq!(test.read("journal"), "deploy\nrollback\n");
    let record = test.last_run();
    assert_eq!(record["status"], "rolled_back");
    let samples = record["steps"][1]["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 4, "{samples:?}");
    assert_eq!(samples.iter().filter(|s| s["passed"] == false).count(), 2);
}

const METRIC_WATCH: &str = r#"[runbook]
name = "web"
dir = ".."

[[metrics]]
name = "error_rate"
command = "cat error-rate"
better = "lower"

[[steps]]
id = "deploy"
run = "echo 3.1 > error-rate"

[[steps]]
id = "bake"
watch = { for = "5s", every = "50ms", failures = 2, metric = "error_rate", max_regression = "20%" }
"#;

#[test]
fn a_metric_worse_than_before_the_deploy_fails_the_watch() {
    let test = project(METRIC_WATCH);
    test.write("error-rate", "1.0\n");
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("error_rate 3.1 against 1 before");
    let record = test.last_run();
    let bake = &record["steps"][1];
    assert_eq!(bake["status"], "failed");
    assert_eq!(bake["samples"][0]["value"], 3.1);
    let note = test.shipbook(&["note", "last"]).success();
    assert!(note.stdout.contains("3.1"), "{}", note.stdout);
}

#[test]
fn an_unknown_metric_and_odd_timings_are_located_errors() {
    let test = project(
        r#"[runbook]
name = "web"

[[metrics]]
name = "error_rate"
command = "echo 1"
better = "lower"

[[steps]]
id = "bake"
watch = { for = "10s", every = "1m", failures = 0, metric = "eror_rate", max_regression = "20%" }

[[steps]]
id = "both"
watch = { for = "10s", every = "1s", run = "true", http = { url = "http://127.0.0.1:1/" } }
"#,
    );
    let run = test.shipbook(&["check", "runbooks/web.toml"]).code(2);
    for needle in [
        "unknown metric `eror_rate`",
        "did you mean `error_rate`?",
        "longer than `for",
        "`failures = 0`",
        "more than one check",
        "runbooks/web.toml:11:32",
    ] {
        assert!(run.stderr.contains(needle), "{needle}:\n{}", run.stderr);
    }
}

#[test]
fn a_kill_9_during_a_watch_keeps_its_samples_and_resume_watches_again() {
    let test = project(
        r#"[runbook]
name = "web"
dir = ".."

[[steps]]
id = "bake"
watch = { for = "1h", every = "50ms", run = "echo x >> count" }
"#,
    );
    let mut child = test.spawn(&["run", "runbooks/web.toml"]);
    wait_for("a few samples", || {
        std::fs::read_to_string(test.join("count")).is_ok_and(|text| text.lines().count() >= 4)
    });
    // A committed sample is in the record before the next is taken.
    wait_for("samples in the record", || {
        let shown = test.shipbook(&["show", "last", "--json"]);
        serde_json::from_str::<serde_json::Value>(&shown.stdout).is_ok_and(|run| {
            run["steps"][0]["samples"]
                .as_array()
                .is_some_and(|s| s.len() >= 3)
        })
    });
    kill(child.id(), "KILL");
    child.wait().unwrap();
    let record = test.last_run();
    assert_eq!(record["status"], "interrupted");
    assert!(record["steps"][0]["samples"].as_array().unwrap().len() >= 3);

    // Resumed, the watch starts again (here: shortened by editing nothing but the clock).
    let test_runbook = test
        .read("runbooks/web.toml")
        .replace("for = \"1h\"", "for = \"200ms\"");
    test.write("runbooks/web.toml", &test_runbook);
    test.shipbook(&["resume", "last", "--force"]).success();
    let record = test.last_run();
    assert_eq!(record["status"], "succeeded");
    assert_eq!(record["steps"][0]["samples"].as_array().unwrap().len(), 5);
}
