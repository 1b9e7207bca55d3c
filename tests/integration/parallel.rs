//! Steps beside each other (`needs`, `jobs`, `fail_fast`): they really overlap, and order,
//! records, undo, interruption, resume and containment hold as they do one after another.
//! No test measures time: overlap is proven by steps that can only finish together, and order
//! by the record's start and end times.

use crate::test::{Test, alive, assert_has, kill, kill_group, read_pid, wait_for, wait_for_pid};

/// A step that marks that it started, then waits until all three steps have: it can only
/// finish if the three run at the same time (else its timeout fails it).
fn meeting_step(id: &str) -> String {
    format!(
        r#"
[[steps]]
id = "{id}"
needs = []
timeout = "20s"
run = "touch started-{id}; while [ $(ls started-* | wc -l) -lt 3 ]; do sleep 0.05; done"
"#
    )
}

fn three_that_meet() -> String {
    let mut runbook = "[runbook]\nname = \"meet\"\ndir = \"..\"\n".to_string();
    for id in ["lint", "unit", "integration"] {
        runbook.push_str(&meeting_step(id));
    }
    runbook
}

/// Each step's (start, end) from the record, in record order.
fn intervals(record: &serde_json::Value) -> Vec<(String, String, String)> {
    record["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| {
            let started = step["started_at"].as_str().unwrap_or_default().to_string();
            let duration = step["duration_ms"].as_u64().unwrap_or(0);
            let start = chrono::DateTime::parse_from_rfc3339(&started).unwrap();
            let end = start + chrono::TimeDelta::milliseconds(duration as i64);
            (
                step["id"].as_str().unwrap().to_string(),
                started,
                end.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            )
        })
        .collect()
}

#[test]
fn steps_that_need_nothing_run_at_the_same_time() {
    let test = Test::new().runbook("meet", &three_that_meet());
    test.shipbook(&["run", "runbooks/meet.toml", "--jobs", "3", "--json"])
        .success();
    let record = test.last_run();
    for step in record["steps"].as_array().unwrap() {
        assert_eq!(step["status"], "succeeded", "{record:#}");
    }
    // The timeline draws them on one time axis.
    test.shipbook(&["show", "last"])
        .success()
        .stdout_has("steps beside each other");
}

#[test]
fn jobs_1_runs_them_one_after_another_in_file_order() {
    let runbook = r#"[runbook]
name = "one"
dir = ".."

[[steps]]
id = "c"
needs = ["b"]
run = "echo c >> order.txt"

[[steps]]
id = "a"
needs = []
run = "echo a >> order.txt"

[[steps]]
id = "b"
needs = []
run = "echo b >> order.txt"
"#;
    let test = Test::new().runbook("one", runbook);
    test.shipbook(&["run", "runbooks/one.toml", "--jobs", "1"])
        .success();
    // `c` waits for `b`; of what may start, the first in the file goes first.
    assert_eq!(test.read("order.txt"), "a\nb\nc\n");
    // The meeting steps cannot meet one at a time: the first times out, and nothing after it
    // starts.
    let test = Test::new().runbook("meet", &three_that_meet());
    test.shipbook(&[
        "run",
        "runbooks/meet.toml",
        "--jobs",
        "1",
        "--on-failure",
        "stop",
    ])
    .code(1)
    .stderr_has("timed out");
    let record = test.last_run();
    assert_eq!(record["steps"][0]["status"], "timed_out", "{record:#}");
    assert_eq!(record["steps"][1]["status"], "pending", "{record:#}");
}

#[test]
fn the_json_events_and_the_record_show_the_overlap() {
    let test = Test::new().runbook("meet", &three_that_meet());
    let run = test
        .shipbook(&["run", "runbooks/meet.toml", "--jobs", "3", "--json"])
        .success();
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let first_finish = events
        .iter()
        .position(|e| e["event"] == "step_finished")
        .unwrap();
    let starts_before = events[..first_finish]
        .iter()
        .filter(|e| e["event"] == "step_started")
        .count();
    assert_eq!(starts_before, 3, "all three start before one finishes");
    for event in &events {
        if event["event"] == "step_finished" {
            assert!(event["started_at"].is_string(), "{event}");
            assert!(event["finished_at"].is_string(), "{event}");
        }
    }
    let record = test.last_run();
    for step in record["steps"].as_array().unwrap() {
        assert!(step["finished_at"].is_string(), "{step}");
    }
    let spans = intervals(&record);
    let latest_start = spans.iter().map(|(_, start, _)| start).max().unwrap();
    let earliest_end = spans.iter().map(|(_, _, end)| end).min().unwrap();
    assert!(latest_start <= earliest_end, "{spans:?}");
}

#[test]
fn a_failure_lets_the_sibling_finish_and_starts_nothing_new() {
    let runbook = r#"[runbook]
name = "fail"
dir = ".."
on_failure = "stop"

[[steps]]
id = "slow"
needs = []
run = "while [ ! -f failed.txt ]; do sleep 0.05; done; sleep 0.3; touch slow.done"

[[steps]]
id = "broken"
needs = []
run = "touch failed.txt; exit 3"

[[steps]]
id = "later"
needs = []
run = "touch later.done"
"#;
    let test = Test::new().runbook("fail", runbook);
    test.shipbook(&["run", "runbooks/fail.toml", "--jobs", "2"])
        .code(1)
        .stderr_has("broken");
    let record = test.last_run();
    assert_eq!(record["steps"][0]["status"], "succeeded", "{record:#}");
    assert_eq!(record["steps"][1]["status"], "failed");
    assert_eq!(record["steps"][2]["status"], "pending");
    assert!(test.join("slow.done").exists());
    assert!(!test.join("later.done").exists());
}

#[test]
fn fail_fast_cancel_ends_the_siblings_and_records_them_interrupted() {
    let runbook = r#"[runbook]
name = "cancel"
dir = ".."
on_failure = "stop"
fail_fast = "cancel"

[[steps]]
id = "slow"
needs = []
run = "echo $$ > slow.pid; sleep 300; touch slow.done"

[[steps]]
id = "broken"
needs = []
run = "while [ ! -f slow.pid ]; do sleep 0.05; done; exit 3"
"#;
    let test = Test::new().runbook("cancel", runbook);
    test.shipbook(&["run", "runbooks/cancel.toml", "--jobs", "2"])
        .code(1);
    let slow = read_pid(&test.join("slow.pid"));
    assert!(!alive(slow), "the cancelled step's process is gone");
    let record = test.last_run();
    assert_eq!(record["steps"][0]["status"], "interrupted", "{record:#}");
    assert_has(
        record["steps"][0]["detail"].as_str().unwrap(),
        "cancelled: step `broken` failed",
    );
    assert_eq!(record["steps"][1]["status"], "failed");
    assert!(!test.join("slow.done").exists());
    // A resume runs the cancelled step again (it is quick now).
    test.write(
        "runbooks/cancel.toml",
        &runbook.replace("sleep 300; ", "").replace("exit 3", "true"),
    );
    test.shipbook(&["resume", "last", "--force"]).success();
    assert!(test.join("slow.done").exists());
}

#[test]
fn undo_goes_newest_finished_first_not_newest_in_the_file() {
    let runbook = r#"[runbook]
name = "undo"
dir = ".."
on_failure = "undo"

[[steps]]
id = "first-in-file"
needs = []
run = "while [ ! -f second.done ]; do sleep 0.05; done; sleep 0.5; touch first.done"
undo = "echo first-in-file >> undone.txt"

[[steps]]
id = "second-in-file"
needs = []
run = "touch second.done"
undo = "echo second-in-file >> undone.txt"

[[steps]]
id = "broken"
needs = ["first-in-file", "second-in-file"]
run = "exit 1"
"#;
    let test = Test::new().runbook("undo", runbook);
    test.shipbook(&["run", "runbooks/undo.toml", "--jobs", "2"])
        .code(1);
    // `second-in-file` finished first, so it is undone last.
    assert_eq!(test.read("undone.txt"), "first-in-file\nsecond-in-file\n");
}

#[test]
fn ctrl_c_with_three_steps_running_ends_them_all_and_exits_130() {
    let mut runbook = "[runbook]\nname = \"stuck\"\ndir = \"..\"\n".to_string();
    for id in ["a", "b", "c"] {
        runbook.push_str(&format!(
            "\n[[steps]]\nid = \"{id}\"\nneeds = []\nrun = \"echo $$ > {id}.pid; sleep 300\"\n"
        ));
    }
    let test = Test::new().runbook("stuck", &runbook);
    let shipbook = test.spawn(&["run", "runbooks/stuck.toml", "--jobs", "3"]);
    let pids: Vec<i32> = ["a", "b", "c"]
        .iter()
        .map(|id| wait_for_pid("a step to start", &test.join(&format!("{id}.pid"))))
        .collect();
    kill(shipbook.id(), "INT");
    let output = shipbook.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    for pid in pids {
        wait_for("every step's process to be gone", || !alive(pid));
    }
    let record = test.last_run();
    assert_eq!(record["status"], "interrupted");
    for step in record["steps"].as_array().unwrap() {
        assert_eq!(step["status"], "interrupted", "{record:#}");
    }
}

#[test]
fn kill_9_with_three_steps_running_then_resume_runs_them_again() {
    let mut runbook = "[runbook]\nname = \"crash\"\ndir = \"..\"\n".to_string();
    for id in ["a", "b", "c"] {
        runbook.push_str(&format!(
            "\n[[steps]]\nid = \"{id}\"\nneeds = []\nrun = \"echo run >> {id}.runs; if [ -f fixed ]; then exit 0; fi; echo $$ > {id}.pid; sleep 300\"\n"
        ));
    }
    runbook.push_str(
        "\n[[steps]]\nid = \"last\"\nneeds = [\"a\", \"b\", \"c\"]\nrun = \"touch last.done\"\n",
    );
    let test = Test::new().runbook("crash", &runbook);
    let mut shipbook = test.spawn(&["run", "runbooks/crash.toml", "--jobs", "3"]);
    let pids: Vec<i32> = ["a", "b", "c"]
        .iter()
        .map(|id| wait_for_pid("a step to start", &test.join(&format!("{id}.pid"))))
        .collect();
    kill(shipbook.id(), "KILL");
    shipbook.wait().unwrap();
    for pid in pids {
        // What a killed shipbook leaves: each step's group, ended here.
        kill_group(pid);
    }
    let record = test.last_run();
    assert_eq!(record["status"], "interrupted", "{record:#}");
    for index in 0..3 {
        assert_eq!(
            record["steps"][index]["status"], "interrupted",
            "{record:#}"
        );
    }
    assert_eq!(record["steps"][3]["status"], "pending");

    test.write("fixed", "");
    test.shipbook(&["resume", "last"]).success();
    for id in ["a", "b", "c"] {
        assert_eq!(
            test.read(&format!("{id}.runs")),
            "run\nrun\n",
            "{id} ran again"
        );
    }
    assert!(test.join("last.done").exists());
}

#[test]
fn a_resume_asks_before_running_again_each_interrupted_step_that_is_not_idempotent() {
    let runbook = r#"[runbook]
name = "careful"
dir = ".."

[[steps]]
id = "migrate"
needs = []
idempotent = false
run = "echo $$ > migrate.pid; sleep 300"

[[steps]]
id = "assets"
needs = []
run = "echo $$ > assets.pid; sleep 300"
"#;
    let test = Test::new().runbook("careful", runbook);
    let mut shipbook = test.spawn(&["run", "runbooks/careful.toml", "--jobs", "2"]);
    let pids: Vec<i32> = ["migrate", "assets"]
        .iter()
        .map(|id| wait_for_pid("a step to start", &test.join(&format!("{id}.pid"))))
        .collect();
    kill(shipbook.id(), "KILL");
    shipbook.wait().unwrap();
    for pid in pids {
        kill_group(pid);
    }
    // No terminal and no --yes: refused before anything runs again, naming the step.
    test.shipbook(&["resume", "last"])
        .code(3)
        .stderr_has("migrate");
}

#[test]
fn a_confirmation_never_runs_beside_another_step() {
    let runbook = r#"[runbook]
name = "ask"
dir = ".."

[[steps]]
id = "build"
needs = []
run = "sleep 0.3"

[[steps]]
id = "approve"
needs = []
confirm = "Go?"

[[steps]]
id = "check"
needs = []
run = "true"
"#;
    let test = Test::new().runbook("ask", runbook);
    test.shipbook(&["run", "runbooks/ask.toml", "--jobs", "3", "--yes"])
        .success();
    let spans = intervals(&test.last_run());
    let (_, approve_start, approve_end) = &spans[1];
    assert!(spans[0].2 <= *approve_start, "{spans:?}");
    assert!(*approve_end <= spans[2].1, "{spans:?}");
}

#[test]
fn a_step_that_ends_beside_another_ends_only_what_it_left() {
    let runbook = r#"[runbook]
name = "contain"
dir = ".."

[[steps]]
id = "long"
needs = []
run = "echo $$ > long.pid; while [ ! -f quick.done ]; do sleep 0.05; done; sleep 0.5; touch long.done"

[[steps]]
id = "quick"
needs = []
run = "set -m; sleep 300 & echo $! > orphan.pid; touch quick.done"
"#;
    let test = Test::new().runbook("contain", runbook);
    test.shipbook(&["run", "runbooks/contain.toml", "--jobs", "2"])
        .success();
    assert!(
        test.join("long.done").exists(),
        "the step beside it went on"
    );
    let orphan = read_pid(&test.join("orphan.pid"));
    assert!(
        !alive(orphan),
        "what the quick step left in a group of its own was ended"
    );
}

#[test]
fn verbose_output_says_whose_each_line_is() {
    let runbook = r#"[runbook]
name = "loud"
dir = ".."

[[steps]]
id = "one"
needs = []
run = "echo from one"

[[steps]]
id = "two"
needs = []
run = "echo from two"
"#;
    let test = Test::new().runbook("loud", runbook);
    test.shipbook(&["-v", "run", "runbooks/loud.toml"])
        .success()
        .stderr_has("[one] from one")
        .stderr_has("[two] from two");
    // Each step keeps its own log, unlabelled.
    let record = test.last_run();
    let log = std::fs::read_to_string(record["steps"][0]["log"].as_str().unwrap()).unwrap();
    assert_eq!(log, "from one\n");
}

#[test]
fn plan_shows_which_step_waits_for_which() {
    let runbook = r#"[runbook]
name = "graph"
jobs = 4

[[steps]]
id = "lint"
run = "true"

[[steps]]
id = "test"
needs = []
run = "true"

[[steps]]
id = "deploy"
needs = ["lint", "test"]
run = "true"
"#;
    let test = Test::new().runbook("graph", runbook);
    test.shipbook(&["plan", "runbooks/graph.toml"])
        .success()
        .stdout_has("up to 4 at once")
        .stdout_has("starts at once")
        .stdout_has("after lint, test")
        .stdout_has("1. lint, test")
        .stdout_has("2. deploy");
    let plan = test
        .shipbook(&["plan", "runbooks/graph.toml", "--json"])
        .success()
        .json();
    assert_eq!(plan["jobs"], 4);
    assert_eq!(
        plan["steps"][2]["needs"],
        serde_json::json!(["lint", "test"])
    );
}

#[test]
fn unknown_needs_and_circles_are_pointed_at() {
    let runbook = r#"[runbook]
name = "bad"

[[steps]]
id = "lint"
needs = ["tset"]
run = "true"

[[steps]]
id = "test"
needs = ["deploy"]
run = "true"

[[steps]]
id = "deploy"
needs = ["test"]
run = "true"

[[steps]]
id = "d"
needs = ["d2"]
run = "true"

[[steps]]
id = "d2"
needs = ["d"]
run = "true"

[rollback]
steps = [{ id = "back", run = "true", needs = [] }]
"#;
    let test = Test::new().runbook("bad", runbook);
    let check = test.shipbook(&["check", "runbooks/bad.toml"]).code(2);
    check
        .stderr_has("step `lint` needs an unknown step `tset`")
        .stderr_has("runbooks/bad.toml:6:10")
        .stderr_has("did you mean `test`?")
        .stderr_has("steps wait for each other in a circle: `test` needs `deploy` needs `test`")
        .stderr_has("runbooks/bad.toml:11:9")
        .stderr_has("a circle: `d` needs `d2` needs `d`")
        .stderr_has("`needs` on rollback step `back`");
    let test = Test::new().runbook(
        "jobs",
        "[runbook]\nname = \"jobs\"\njobs = 0\n\n[[steps]]\nid = \"a\"\nrun = \"true\"\n",
    );
    test.shipbook(&["check", "runbooks/jobs.toml"])
        .code(2)
        .stderr_has("jobs = 0 is out of range");
    test.shipbook(&["run", "runbooks/jobs.toml", "--jobs", "0"])
        .code(2);
}

#[test]
fn a_retry_cut_short_by_a_failure_beside_it_is_neither_made_nor_counted() {
    let runbook = r#"[runbook]
name = "retry"
dir = ".."
on_failure = "stop"

[[steps]]
id = "flaky"
needs = []
run = "echo attempt >> flaky.trace; exit 1"
retries = 3
retry_delay = "2s"

[[steps]]
id = "boom"
needs = []
run = "while [ ! -f flaky.trace ]; do sleep 0.05; done; exit 9"
"#;
    let test = Test::new().runbook("retry", runbook);
    let run = test
        .shipbook(&["run", "runbooks/retry.toml", "--jobs", "2", "--json"])
        .code(1);
    assert_eq!(test.read("flaky.trace"), "attempt\n", "one attempt ran");
    let record = test.last_run();
    let flaky = &record["steps"][0];
    assert_eq!(flaky["attempts"], 1, "{record:#}");
    assert_eq!(flaky["status"], "failed");
    assert_has(
        flaky["detail"].as_str().unwrap(),
        "not retried after the failure",
    );
    assert!(
        !run.stdout.contains(r#""attempt":2"#),
        "no second attempt is announced:\n{}",
        run.stdout
    );
    let log = std::fs::read_to_string(flaky["log"].as_str().unwrap()).unwrap();
    assert!(!log.contains("attempt 2 of 4"), "{log}");
}

#[test]
fn verbose_output_never_joins_two_steps_lines() {
    let runbook = r#"[runbook]
name = "joined"
dir = ".."

[[steps]]
id = "x"
needs = []
run = "printf 'migrating... '; touch x.begun; while [ ! -f y.done ]; do sleep 0.05; done; echo done; printf 'no end'"

[[steps]]
id = "y"
needs = []
run = "while [ ! -f x.begun ]; do sleep 0.05; done; echo hello from y; touch y.done"
"#;
    let test = Test::new().runbook("joined", runbook);
    let run = test
        .shipbook(&["-v", "run", "runbooks/joined.toml", "--jobs", "2"])
        .success();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(lines.contains(&"[x] migrating... done"), "{}", run.stderr);
    assert!(lines.contains(&"[y] hello from y"), "{}", run.stderr);
    assert!(lines.contains(&"[x] no end"), "{}", run.stderr);
    for line in lines {
        assert!(
            !(line.contains("[x]") && line.contains("[y]")),
            "a line of both steps: {line:?}"
        );
    }
}

#[test]
fn an_escape_sequence_in_an_id_does_not_reach_the_terminal() {
    let test = Test::new().runbook(
        "esc",
        "[runbook]\nname = \"esc\"\n\n[[steps]]\nid = \"x]\\u001b[31m\"\nrun = \"true\"\n\n[[steps]]\nid = \"y\"\nneeds = [\"x\\u001b[2J\"]\nrun = \"true\"\n",
    );
    let check = test.shipbook(&["check", "runbooks/esc.toml"]).code(2);
    assert!(!check.stderr.contains('\u{1b}'), "{:?}", check.stderr);
    assert_has(&check.stderr, "invalid step id `x]\\x1b[31m`");
}

#[test]
fn a_step_left_out_by_only_counts_as_skipped_for_what_needs_it() {
    let runbook = r#"[runbook]
name = "pick"
dir = ".."

[[steps]]
id = "lint"
needs = []
run = "touch lint.done"

[[steps]]
id = "test"
needs = []
run = "touch test.done"

[[steps]]
id = "deploy"
needs = ["lint", "test"]
run = "touch deploy.done"
"#;
    let test = Test::new().runbook("pick", runbook);
    test.shipbook(&[
        "run",
        "runbooks/pick.toml",
        "--only",
        "deploy",
        "--only",
        "test",
    ])
    .success();
    assert!(!test.join("lint.done").exists());
    assert!(test.join("test.done").exists());
    assert!(test.join("deploy.done").exists());
    let record = test.last_run();
    assert_eq!(record["steps"][0]["status"], "skipped", "{record:#}");
}

#[test]
fn a_need_naming_a_step_with_an_error_of_its_own_is_not_reported_unknown() {
    let test = Test::new().runbook(
        "typo",
        "[runbook]\nname = \"typo\"\n\n[[steps]]\nid = \"a\"\nrun = \"true\"\nretries = \"x\"\n\n[[steps]]\nid = \"b\"\nneeds = [\"a\"]\nrun = \"true\"\n",
    );
    let check = test.shipbook(&["check", "runbooks/typo.toml"]).code(2);
    assert_has(&check.stderr, "1 error");
    assert!(!check.stderr.contains("unknown step"), "{}", check.stderr);
}

#[test]
fn a_need_cannot_name_a_rollback_step() {
    let test = Test::new().runbook(
        "rb",
        "[runbook]\nname = \"rb\"\n\n[[steps]]\nid = \"build\"\nrun = \"true\"\n\n[[steps]]\nid = \"deploy\"\nneeds = [\"rb\"]\nrun = \"true\"\n\n[[rollback.steps]]\nid = \"rb\"\nrun = \"true\"\n",
    );
    test.shipbook(&["check", "runbooks/rb.toml"])
        .code(2)
        .stderr_has("step `deploy` needs an unknown step `rb`")
        .stderr_has("the id of a step in [[steps]]: build, deploy");
}

#[test]
fn kill_9_during_a_retry_keeps_no_exit_code_of_the_attempt_before() {
    let runbook = r#"[runbook]
name = "again"
dir = ".."

[[steps]]
id = "flaky"
needs = []
retries = 1
retry_delay = "100ms"
run = "echo x >> flaky.trace; if [ $(wc -l < flaky.trace) -ge 2 ]; then echo $$ > flaky.pid; sleep 300; fi; exit 1"

[[steps]]
id = "beside"
needs = []
run = "true"
"#;
    let test = Test::new().runbook("again", runbook);
    let mut shipbook = test.spawn(&["run", "runbooks/again.toml", "--jobs", "2"]);
    let pid = wait_for_pid("the second attempt", &test.join("flaky.pid"));
    kill(shipbook.id(), "KILL");
    shipbook.wait().unwrap();
    kill_group(pid);
    let record = test.last_run();
    let flaky = &record["steps"][0];
    assert_eq!(flaky["status"], "interrupted", "{record:#}");
    assert_eq!(flaky["attempts"], 2);
    assert!(flaky["exit_code"].is_null(), "{flaky:#}");
    assert!(
        !flaky["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("exited with 1"),
        "{flaky:#}"
    );
}

#[test]
fn an_orphan_that_does_not_say_whose_it_is_outlives_no_step_and_kills_no_sibling_early() {
    let runbook = r#"[runbook]
name = "anon"
dir = ".."

[[steps]]
id = "quick"
needs = []
run = "while [ ! -f orphan.pid ]; do sleep 0.05; done"

[[steps]]
id = "long"
needs = []
run = "(set -m; env -u SHIPBOOK_STEP sleep 300 & echo $! > orphan.pid); while [ ! -f release ]; do sleep 0.05; done"
"#;
    let test = Test::new().runbook("anon", runbook);
    let shipbook = test.spawn(&["run", "runbooks/anon.toml", "--jobs", "2"]);
    let orphan = wait_for_pid("the orphan", &test.join("orphan.pid"));
    wait_for("`quick` to be recorded", || {
        let run = test.shipbook(&["show", "last", "--json"]);
        run.code == 0 && run.json()["steps"][0]["status"] == "succeeded"
    });
    // `quick` ended while `long` runs: a process that cannot be told to be `quick`'s (its
    // environment was cleared) is not ended by `quick`'s end: it may be `long`'s.
    assert!(alive(orphan), "ended by a sibling's end");
    test.write("release", "");
    let output = shipbook.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    // The last step's end, with nothing else running, ends it.
    assert!(!alive(orphan), "it outlived the steps");
}
