//! `[[metrics]]`: sampled before and after, compared, guarded.

use crate::test::Test;

fn runbook(metric: &str) -> String {
    format!(
        r#"[runbook]
name = "web"
dir = ".."

[[metrics]]
{metric}

[[steps]]
id = "deploy"
run = "echo 120 > latency"
"#
    )
}

#[test]
fn an_improved_metric_is_reported_in_the_note() {
    let test = Test::new().runbook(
        "web",
        &runbook(
            "name = \"p95_ms\"\ncommand = \"echo latency: $(cat latency 2>/dev/null || echo 200) ms\"\nbetter = \"lower\"\nmax_regression = \"10%\"",
        ),
    );
    test.shipbook(&["run", "runbooks/web.toml"])
        .success()
        .stderr_has("metric p95_ms before: 200")
        .stderr_has("metric p95_ms after: 120 (-40.0%, improved)");
    let record = test.last_run();
    assert_eq!(record["metrics"][0]["before"], 200.0);
    assert_eq!(record["metrics"][0]["after"], 120.0);
    let note = test.shipbook(&["note", "last"]).success().stdout;
    assert!(
        note.contains("| p95_ms | 200 | 120 | -40.0% | improved |"),
        "{note}"
    );
}

#[test]
fn a_regression_past_the_guard_fails_the_run_after_the_note_says_why() {
    let test = Test::new().runbook(
        "web",
        &runbook(
            "name = \"throughput\"\ncommand = \"test -f latency && echo 50 || echo 100\"\nbetter = \"higher\"\nmax_regression = \"10%\"",
        ),
    );
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has(
            "metric guard exceeded: `throughput` regressed 50.0% (more than the 10% allowed)",
        );
    let note = test.shipbook(&["note", "last"]).success().stdout;
    assert!(note.contains("regressed, beyond the 10% allowed"), "{note}");
    assert_eq!(test.last_run()["status"], "failed");
}

#[test]
fn an_unsampleable_metric_without_a_guard_is_a_warning() {
    let test = Test::new().runbook(
        "web",
        &runbook("name = \"broken\"\ncommand = \"echo no numbers here\"\nbetter = \"lower\""),
    );
    test.shipbook(&["run", "runbooks/web.toml"])
        .success()
        .stderr_has("not sampled: before: no number on stdout; it printed: no numbers here");
    let note = test.shipbook(&["note", "last"]).success().stdout;
    assert!(
        note.contains("Warning: `broken` could not be sampled"),
        "{note}"
    );
}

#[test]
fn an_unsampleable_guarded_metric_stops_before_any_step() {
    let test = Test::new().runbook(
        "web",
        &runbook(
            "name = \"broken\"\ncommand = \"exit 3\"\nbetter = \"lower\"\nmax_regression = \"5%\"",
        ),
    );
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("metric `broken` has a guard but could not be sampled before the steps");
    assert!(!test.join("latency").exists(), "no step ran");
}

#[test]
fn a_metric_that_hangs_obeys_its_timeout() {
    let test = Test::new().runbook(
        "web",
        &runbook("name = \"slow\"\ncommand = \"sleep 300\"\nbetter = \"lower\"\ntimeout = \"1s\""),
    );
    test.shipbook(&["run", "runbooks/web.toml"])
        .success()
        .stderr_has("not sampled: before: timed out after 1s");
}

#[test]
fn a_grouped_number_is_read_whole_and_values_are_shown_rounded() {
    // Before the step the command prints "1,234.5 ms" (once read as 1); after it, a value with
    // more digits than anyone reads.
    let test = Test::new().runbook(
        "web",
        &runbook(
            "name = \"p95_ms\"\ncommand = \"test -f latency && echo 'p95=182.533333ms' || echo 'p95=1,234.5 ms'\"\nbetter = \"lower\"\nmax_regression = \"10%\"",
        ),
    );
    test.shipbook(&["run", "runbooks/web.toml"])
        .success()
        .stderr_has("metric p95_ms before: 1234.5\n")
        .stderr_has("metric p95_ms after: 182.53 (-85.2%, improved)");
    let record = test.last_run();
    assert_eq!(record["metrics"][0]["before"], 1234.5);
    assert_eq!(
        record["metrics"][0]["after"], 182.533333,
        "records keep the value"
    );
    let note = test.shipbook(&["note", "last"]).success().stdout;
    assert!(
        note.contains("| p95_ms | 1234.5 | 182.53 | -85.2% |"),
        "{note}"
    );
}

#[test]
fn an_ambiguous_number_is_refused_not_guessed() {
    let test = Test::new().runbook(
        "web",
        &runbook(
            "name = \"requests\"\ncommand = \"echo 'requests: 1,234'\"\nbetter = \"higher\"\nmax_regression = \"10%\"",
        ),
    );
    test.shipbook(&["run", "runbooks/web.toml"])
        .code(1)
        .stderr_has("ambiguous number `1,234` on stdout")
        .stderr_has("metric `requests` has a guard but could not be sampled before the steps");
    assert!(!test.join("latency").exists(), "no step ran");
}
