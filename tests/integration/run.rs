//! `shipbook run`: steps really run, in order, with retries, timeouts, env, dir and selection.

use crate::test::{Test, alive, read_pid, wait_for};

fn runbook(steps: &str) -> String {
    format!("[runbook]\nname = \"web\"\ndir = \"..\"\n\n{steps}")
}

#[test]
fn a_passing_run_records_every_step_and_writes_the_note() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook(
                r#"
[[steps]]
id = "first"
run = "echo one >> order.txt"

[[steps]]
id = "second"
run = ["sh", "-c", "echo two >> order.txt"]
"#,
            ),
        )
        .args(&["run", "runbooks/web.toml"]);
    let run = test.run().success();
    assert_eq!(test.read("order.txt"), "one\ntwo\n");
    assert!(run.stderr.contains("✓ first"), "{}", run.stderr);
    assert!(run.stderr.contains("change note: "), "{}", run.stderr);
    let record = test.last_run();
    assert_eq!(record["status"], "succeeded");
    assert_eq!(record["steps"][0]["status"], "succeeded");
    assert_eq!(record["steps"][1]["exit_code"], 0);
    let note = record["note"].as_str().unwrap();
    assert!(note.contains("/.shipbook/notes/"), "{note}");
    assert!(std::path::Path::new(note).exists());
}

#[test]
fn a_failing_step_stops_the_run_and_shows_its_log_tail() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook(
                r#"
[[steps]]
id = "build"
run = "for i in $(seq 1 40); do echo line-$i; done; echo 'boom' >&2; exit 3"

[[steps]]
id = "never"
run = "touch never-ran"
"#,
            ),
        )
        .args(&["run", "runbooks/web.toml"]);
    let run = test
        .run()
        .code(1)
        .stderr_has("✗ build failed")
        .stderr_has("exited with 3")
        .stderr_has("line-40")
        .stderr_has("boom")
        .stderr_has("/logs/");
    // The last 30 lines only: line-11 is the 31st line from the end.
    assert!(!run.stderr.contains("line-11\n"), "{}", run.stderr);
    assert!(run.stderr.contains("line-12\n"), "{}", run.stderr);
    assert!(!test.join("never-ran").exists());
    let record = test.last_run();
    assert_eq!(record["status"], "failed");
    assert_eq!(record["steps"][0]["status"], "failed");
    assert_eq!(record["steps"][0]["exit_code"], 3);
    assert_eq!(record["steps"][1]["status"], "pending");
    let log = std::fs::read_to_string(record["steps"][0]["log"].as_str().unwrap()).unwrap();
    assert!(log.starts_with("line-1\n") && log.contains("boom"), "{log}");
}

#[test]
fn a_retry_that_succeeds_on_the_second_attempt() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook(
                r#"
[[steps]]
id = "flaky"
run = "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo attempt $n; [ $n -ge 2 ]"
retries = 3
retry_delay = "10ms"
"#,
            ),
        )
        .args(&["run", "runbooks/web.toml"]);
    test.run().success().stderr_has("retrying in 10ms");
    assert_eq!(test.read("count"), "2\n");
    let record = test.last_run();
    assert_eq!(record["steps"][0]["attempts"], 2);
    assert_eq!(record["steps"][0]["status"], "succeeded");
    let log = std::fs::read_to_string(record["steps"][0]["log"].as_str().unwrap()).unwrap();
    assert!(
        log.contains("attempt 1 of 4") && log.contains("attempt 2"),
        "{log}"
    );
}

#[test]
fn retries_run_out() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook("[[steps]]\nid = \"bad\"\nrun = \"echo x >> tries; exit 1\"\nretries = 2\nretry_delay = \"1ms\"\n"),
        )
        .args(&["run", "runbooks/web.toml"]);
    test.run().code(1);
    assert_eq!(test.read("tries"), "x\nx\nx\n");
    assert_eq!(test.last_run()["steps"][0]["attempts"], 3);
}

#[test]
fn a_timeout_kills_the_whole_process_group() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook(
                r#"
[[steps]]
id = "hang"
run = "sleep 300 & echo $! > grandchild.pid; echo started; wait"
timeout = "1s"
"#,
            ),
        )
        .args(&["run", "runbooks/web.toml"]);
    test.run().code(1).stderr_has("timed out");
    let grandchild = read_pid(&test.join("grandchild.pid"));
    wait_for("the grandchild to be gone", || !alive(grandchild));
    let record = test.last_run();
    assert_eq!(record["steps"][0]["status"], "timed_out");
    assert_eq!(record["status"], "failed");
}

#[test]
fn a_background_process_left_by_a_step_does_not_outlive_it() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook("[[steps]]\nid = \"leak\"\nrun = \"sleep 300 & echo $! > leaked.pid\"\n"),
        )
        .args(&["run", "runbooks/web.toml"]);
    test.run().success();
    let leaked = read_pid(&test.join("leaked.pid"));
    wait_for("the background process to be gone", || !alive(leaked));
}

#[test]
fn a_command_that_does_not_exist_is_named_and_recorded_as_127() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook("[[steps]]\nid = \"missing\"\nrun = [\"no-such-program-xyz\", \"--flag\"]\n"),
        )
        .args(&["run", "runbooks/web.toml"]);
    test.run()
        .code(1)
        .stderr_has("command not found: `no-such-program-xyz`");
    let record = test.last_run();
    assert_eq!(record["steps"][0]["exit_code"], 127);
    assert_eq!(record["steps"][0]["status"], "failed");
}

#[test]
fn env_dir_and_variables_reach_the_command() {
    let mut test = Test::new()
        .runbook(
            "web",
            r#"[runbook]
name = "web"
dir = "work"

[vars]
greeting = "hello"

[environments.staging]
env = { DEPLOY_ENV = "staging" }

[[steps]]
id = "show"
dir = "sub"
env = { EXTRA = "{{ greeting }}-{{ env }}" }
run = "echo \"$DEPLOY_ENV $EXTRA {{ runbook.name }} $SHIPBOOK_STEP $(basename $PWD)\" > out.txt"
"#,
        )
        .args(&["run", "runbooks/web.toml", "--env", "staging"]);
    std::fs::create_dir_all(test.join("runbooks/work/sub")).unwrap();
    test.run().success();
    assert_eq!(
        test.read("runbooks/work/sub/out.txt"),
        "staging hello-staging web show sub\n"
    );
}

#[test]
fn continue_on_error_goes_on() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook(
                "[[steps]]\nid = \"optional\"\nrun = \"exit 4\"\ncontinue_on_error = true\n\n[[steps]]\nid = \"after\"\nrun = \"touch after\"\n",
            ),
        )
        .args(&["run", "runbooks/web.toml"]);
    test.run()
        .success()
        .stderr_has("failed but allowed to (continue_on_error): optional");
    assert!(test.join("after").exists());
    let record = test.last_run();
    assert_eq!(record["steps"][0]["status"], "failed");
    assert_eq!(record["status"], "succeeded");
}

#[test]
fn only_from_and_environment_selection() {
    let steps = r#"
[environments.staging]
[environments.production]

[[steps]]
id = "a"
run = "echo a >> ran"

[[steps]]
id = "b"
run = "echo b >> ran"

[[steps]]
id = "c"
run = "echo c >> ran"
only = ["production"]

[[steps]]
id = "d"
run = "echo d >> ran"
"#;
    let mut test = Test::new().runbook("web", &runbook(steps)).args(&[
        "run",
        "runbooks/web.toml",
        "--env",
        "staging",
    ]);
    test.run().success();
    assert_eq!(test.read("ran"), "a\nb\nd\n");
    let record = test.last_run();
    assert_eq!(record["steps"][2]["status"], "skipped");
    assert_eq!(record["steps"][2]["detail"], "only in production");

    std::fs::remove_file(test.join("ran")).unwrap();
    test = test.args(&[
        "run",
        "runbooks/web.toml",
        "--env",
        "production",
        "--from",
        "b",
    ]);
    test.run().success();
    assert_eq!(test.read("ran"), "b\nc\nd\n");

    std::fs::remove_file(test.join("ran")).unwrap();
    test = test.args(&["run", "runbooks/web.toml", "--only", "d", "--only", "a"]);
    test.run().success();
    assert_eq!(test.read("ran"), "a\nd\n");
}

#[test]
fn a_confirmation_with_yes_records_who_answered() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook("[[steps]]\nid = \"approve\"\nconfirm = \"Ship it?\"\n\n[[steps]]\nid = \"after\"\nrun = \"touch after\"\n"),
        )
        .args(&["run", "runbooks/web.toml", "--yes"]);
    test.run().success();
    assert!(test.join("after").exists());
    let detail = test.last_run()["steps"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.starts_with("answered yes by --yes, operator "),
        "{detail}"
    );
}

#[test]
fn verbose_streams_the_output() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook("[[steps]]\nid = \"talk\"\nrun = \"echo visible-output\"\n"),
        )
        .args(&["-v", "run", "runbooks/web.toml"]);
    test.run().success().stderr_has("\nvisible-output\n");
    test = test.args(&["run", "runbooks/web.toml"]);
    let quiet = test.run().success();
    assert!(
        !quiet.stderr.contains("\nvisible-output\n"),
        "{}",
        quiet.stderr
    );
}

#[test]
fn a_large_output_is_logged_whole() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook("[[steps]]\nid = \"loud\"\nrun = \"yes 0123456789 | head -c 20000000\"\n"),
        )
        .args(&["run", "runbooks/web.toml"]);
    test.run().success();
    let log = test.last_run()["steps"][0]["log"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(std::fs::metadata(log).unwrap().len(), 20_000_000);
}

#[test]
fn notes_dir_gets_a_copy_of_the_note() {
    let mut test = Test::new()
        .runbook(
            "web",
            "[runbook]\nname = \"web\"\nnotes_dir = \"../docs/releases\"\n\n[[steps]]\nid = \"a\"\nrun = \"true\"\n",
        )
        .args(&["run", "runbooks/web.toml"]);
    test.run().success();
    let run_id = test.last_run()["run_id"].as_str().unwrap().to_string();
    let copy = test.read(&format!("docs/releases/{run_id}.md"));
    assert!(
        crate::test::note_body(&copy).starts_with("# web: succeeded"),
        "{copy}"
    );
}
