//! Secrets: required before any step, and masked everywhere, even split across pipe reads.

use crate::test::{Test, alive, kill, wait_for, wait_for_pid};

const SECRET: &str = "hunter2-very-secret-value";

fn runbook() -> &'static str {
    r#"[runbook]
name = "web"

[secrets]
env = ["DEPLOY_TOKEN"]

[[steps]]
id = "leak"
# The secret is printed in two halves with a pause between, so that the reader gets it in two
# separate reads of the pipe.
run = "printf 'token=%s' \"${DEPLOY_TOKEN:0:10}\"; sleep 0.3; printf '%s\\n' \"${DEPLOY_TOKEN:10}\"; echo \"again $DEPLOY_TOKEN\"; exit 1"
"#
}

#[test]
fn a_missing_secret_stops_before_any_step() {
    let mut test = Test::new()
        .runbook("web", runbook())
        .args(&["run", "runbooks/web.toml"]);
    test.run()
        .code(2)
        .stderr_has("secret not set: DEPLOY_TOKEN")
        .stderr_has("nothing was run");
    assert!(!test.join(".shipbook/logs").exists());
}

#[test]
fn a_secret_never_reaches_logs_records_terminal_json_or_note() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook().replace("[runbook]", "[runbook]\nshell = [\"bash\", \"-c\"]"),
        )
        .env("DEPLOY_TOKEN", SECRET)
        .args(&[
            "run",
            "runbooks/web.toml",
            "--json",
            "--reason",
            &format!("rotate {SECRET}"),
        ]);
    let run = test.run().code(1);
    assert!(!run.stderr.contains(SECRET), "terminal: {}", run.stderr);
    assert!(!run.stdout.contains(SECRET), "json: {}", run.stdout);
    assert!(
        run.stderr.contains("token=[masked:DEPLOY_TOKEN]"),
        "{}",
        run.stderr
    );

    let record = test.shipbook(&["show", "last", "--json"]).success();
    assert!(!record.stdout.contains(SECRET));
    let log_path = record.json()["steps"][0]["log"]
        .as_str()
        .unwrap()
        .to_string();
    let log = std::fs::read_to_string(log_path).unwrap();
    assert_eq!(
        log,
        "token=[masked:DEPLOY_TOKEN]\nagain [masked:DEPLOY_TOKEN]\n"
    );
    let note = test.shipbook(&["note", "last"]).success();
    assert!(!note.stdout.contains(SECRET));
    assert!(
        note.stdout.contains("rotate [masked:DEPLOY_TOKEN]"),
        "{}",
        note.stdout
    );
}

#[test]
fn a_metric_output_never_reaches_the_disk_unmasked_even_after_kill_9_and_resume() {
    let test = Test::new()
        .runbook(
            "web",
            r#"[runbook]
name = "web"
dir = ".."

[secrets]
env = ["DEPLOY_TOKEN"]

[[metrics]]
name = "p95"
# The first sampling says the secret, then hangs until the test kills it.
command = "echo \"$DEPLOY_TOKEN 42\"; if [ ! -e metric.pid ]; then echo $$ > metric.pid; sleep 300; fi"
better = "lower"

[[steps]]
id = "deploy"
run = "true"
"#,
        )
        .env("DEPLOY_TOKEN", SECRET);
    let mut shipbook = test.spawn(&["run", "runbooks/web.toml"]);
    let metric = wait_for_pid("the metric to start", &test.join("metric.pid"));
    kill(shipbook.id(), "KILL");
    shipbook.wait().unwrap();
    // The metric's process group outlives shipbook; end it as a person would before resuming.
    let status = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{metric}")])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for("the metric to end", || !alive(metric));
    let state = test.join(".shipbook");
    assert_eq!(
        crate::test::files_containing(&state, SECRET.as_bytes()),
        Vec::<std::path::PathBuf>::new(),
        "after kill -9"
    );

    test.shipbook(&["resume", "last"]).success();
    assert_eq!(
        crate::test::files_containing(&state, SECRET.as_bytes()),
        Vec::<std::path::PathBuf>::new(),
        "after the resume"
    );
    assert_eq!(test.last_run()["status"], "succeeded");
}

#[test]
fn a_var_without_equals_is_not_echoed() {
    let mut test = Test::new()
        .runbook(
            "web",
            &runbook().replace("[secrets]", "[vars]\ntok = \"none\"\n\n[secrets]"),
        )
        .args(&["plan", "runbooks/web.toml", "--var", SECRET]);
    let run = test
        .run()
        .code(2)
        .stderr_has("no `=`")
        .stderr_has("--var name=value");
    assert!(!run.stderr.contains(SECRET), "{}", run.stderr);
    let equals_first = format!("={SECRET}");
    test = test.args(&[
        "plan",
        "runbooks/web.toml",
        "--var",
        "tok=1",
        "--var",
        &equals_first,
    ]);
    let run = test.run().code(2).stderr_has("--var number 2");
    assert!(!run.stderr.contains(SECRET), "{}", run.stderr);
}
