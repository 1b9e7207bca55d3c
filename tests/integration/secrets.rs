//! Secrets: required before any step, and masked everywhere, even split across pipe reads.

use crate::test::{Test, alive, kill, kill_group, wait_for, wait_for_pid};

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

/// A runbook whose texts for people (description, owner, expected result, step name and
/// description, rollback note) use a variable that the run gives a secret's value.
const DISPLAY_TEXTS: &str = r#"[runbook]
name = "web"
description = "Ship with {{ tok }}"
owner = "owner {{ tok }}"
expected = "expected {{ tok }}"

[vars]
tok = "none"

[secrets]
env = ["DEPLOY_TOKEN"]

[[steps]]
id = "deploy"
name = "Deploy {{ tok }}"
description = "Uses {{ tok }}"
run = "exit 1"

[rollback]
note = "Revoke {{ tok }}"
run = "true"
"#;

#[test]
fn texts_for_people_are_rendered_and_masked_everywhere() {
    let test = Test::new().runbook("web", DISPLAY_TEXTS);
    let summary = test.join("summary.md");
    let var = format!("tok={SECRET}");
    let mut test = test
        .env("DEPLOY_TOKEN", SECRET)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())
        .args(&["run", "runbooks/web.toml", "--var", &var, "--json"]);
    let run = test.run().code(1);
    let plan = test.shipbook(&["plan", "runbooks/web.toml", "--var", &var]);
    let plan_json = test.shipbook(&["plan", "runbooks/web.toml", "--var", &var, "--json"]);
    let show = test.shipbook(&["show", "last", "--json"]).success();
    let history = test.shipbook(&["history", "--json"]).success();
    let note = test.shipbook(&["note", "last"]).success();
    let note_json = test
        .shipbook(&["note", "last", "--format", "json"])
        .success();
    let summary = test.read("summary.md");
    for (what, text) in [
        ("run stdout", &run.stdout),
        ("run stderr", &run.stderr),
        ("plan", &plan.stdout),
        ("plan --json", &plan_json.stdout),
        ("show --json", &show.stdout),
        ("history --json", &history.stdout),
        ("note", &note.stdout),
        ("note --format json", &note_json.stdout),
        ("step summary", &summary),
    ] {
        assert!(!text.contains(SECRET), "{what} shows the secret:\n{text}");
        assert!(
            !text.contains("{{ tok }}"),
            "{what} is not rendered:\n{text}"
        );
    }
    assert_eq!(
        crate::test::files_containing(&test.join(".shipbook"), SECRET.as_bytes()),
        Vec::<std::path::PathBuf>::new()
    );
    let record = show.json();
    assert_eq!(record["owner"], "owner [masked:DEPLOY_TOKEN]");
    assert_eq!(record["expected"], "expected [masked:DEPLOY_TOKEN]");
    assert_eq!(record["description"], "Ship with [masked:DEPLOY_TOKEN]");
    assert_eq!(record["rollback_note"], "Revoke [masked:DEPLOY_TOKEN]");
    assert_eq!(record["steps"][0]["name"], "Deploy [masked:DEPLOY_TOKEN]");
    let planned = plan_json.success().json();
    assert_eq!(
        planned["steps"][0]["description"],
        "Uses [masked:DEPLOY_TOKEN]"
    );
    assert!(
        plan.stdout.contains("Uses [masked:DEPLOY_TOKEN]"),
        "{}",
        plan.stdout
    );
    assert!(
        note.stdout.contains("owner [masked:DEPLOY_TOKEN]"),
        "{}",
        note.stdout
    );
}

#[test]
fn a_step_name_with_an_undefined_variable_is_located() {
    let mut test = Test::new()
        .runbook(
            "web",
            &DISPLAY_TEXTS.replace("Deploy {{ tok }}", "Deploy {{ nope }}"),
        )
        .args(&["check", "runbooks/web.toml"]);
    test.run()
        .code(2)
        .stderr_has("unknown variable `nope`")
        .stderr_has("runbooks/web.toml:15:16");
}

#[test]
fn a_var_without_equals_is_not_echoed() {
    let mut test = Test::new().runbook("web", DISPLAY_TEXTS).args(&[
        "plan",
        "runbooks/web.toml",
        "--var",
        SECRET,
    ]);
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

/// A secret holding the characters that JSON, XML and the shell escape.
const HOSTILE: &str = r#"x"y\z'w<&>v"#;

/// Pieces of `HOSTILE` that survive any of those escapings: neither may show anywhere.
const HOSTILE_PIECES: [&str; 2] = [r"y\z", "<&>"];

#[test]
fn a_secret_with_quotes_and_backslashes_is_masked_before_encoding() {
    let test = Test::new().runbook(
        "web",
        r#"[runbook]
name = "web"

[vars]
tok = "none"

[secrets]
env = ["DEPLOY_TOKEN"]

[[steps]]
id = "deploy"
run = ["sh", "-c", "exit 3", "sh", "{{ tok }}"]
env = { TOKEN = "{{ tok }}" }
"#,
    );
    let var = format!("tok={HOSTILE}");
    let mut test = test.env("DEPLOY_TOKEN", HOSTILE).args(&[
        "run",
        "runbooks/web.toml",
        "--var",
        &var,
        "--json",
        "--junit",
        "report.xml",
    ]);
    let run = test.run().code(1);
    let plan = test.shipbook(&["plan", "runbooks/web.toml", "--var", &var]);
    let plan_json = test.shipbook(&["plan", "runbooks/web.toml", "--var", &var, "--json"]);
    let show = test.shipbook(&["show", "last"]).success();
    let show_json = test.shipbook(&["show", "last", "--json"]).success();
    let junit = test.read("report.xml");
    for (what, text) in [
        ("run stdout", &run.stdout),
        ("run stderr", &run.stderr),
        ("plan", &plan.stdout),
        ("plan --json", &plan_json.stdout),
        ("show", &show.stdout),
        ("show --json", &show_json.stdout),
        ("JUnit", &junit),
    ] {
        for piece in HOSTILE_PIECES {
            assert!(!text.contains(piece), "{what} shows {piece:?}:\n{text}");
        }
    }
    let planned = plan_json.success().json();
    assert_eq!(
        planned["steps"][0]["command"]["argv"][4],
        "[masked:DEPLOY_TOKEN]"
    );
    assert_eq!(planned["steps"][0]["env"]["TOKEN"], "[masked:DEPLOY_TOKEN]");
    assert!(
        plan.stdout.contains("'[masked:DEPLOY_TOKEN]'")
            || plan.stdout.contains(" [masked:DEPLOY_TOKEN]"),
        "{}",
        plan.stdout
    );
}

#[test]
fn a_refused_url_does_not_show_the_secret_in_it() {
    let mut test = Test::new()
        .runbook(
            "web",
            r#"[runbook]
name = "web"

[vars]
base = "http://127.0.0.1:9"
tok = "none"

[secrets]
env = ["DEPLOY_TOKEN"]

[[steps]]
id = "health"
http = { url = "{{ base }}/health?token={{ tok }}", status = 200 }
"#,
        )
        .env("DEPLOY_TOKEN", SECRET);
    let var = format!("tok={SECRET}");
    for command in ["plan", "run"] {
        test = test.args(&[
            command,
            "runbooks/web.toml",
            "--var",
            "base=ftp://example.test",
            "--var",
            &var,
        ]);
        let run = test
            .run()
            .code(2)
            .stderr_has("cannot poll `ftp://example.test/health?token=[masked:DEPLOY_TOKEN]`");
        assert!(!run.stderr.contains(SECRET), "{command}: {}", run.stderr);
    }
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
    kill_group(metric);
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
fn a_one_character_secret_is_masked_once() {
    // The metric fails with the secret on stderr: its log holds it masked, and the problem
    // quotes the end of that log.
    let mut test = Test::new()
        .runbook(
            "web",
            r#"[runbook]
name = "web"
owner = "k team"

[secrets]
env = ["T"]

[[metrics]]
name = "p95"
command = "echo k >&2; exit 1"
better = "lower"
max_regression = "10%"

[[steps]]
id = "deploy"
run = "true"
"#,
        )
        .env("T", "k")
        .args(&["run", "runbooks/web.toml", "--reason", "k", "--json"]);
    let run = test.run().code(1);
    let show = test.shipbook(&["show", "last", "--json"]).success();
    let note = test.shipbook(&["note", "last"]).success();
    for (what, text) in [
        ("run stdout", &run.stdout),
        ("run stderr", &run.stderr),
        ("show --json", &show.stdout),
        ("note", &note.stdout),
    ] {
        let stripped = text.replace("[masked:T]", "");
        assert!(!stripped.contains("[mas"), "{what} masks twice:\n{text}");
    }
    assert!(
        show.json()["metrics"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("its errors: [masked:T]"),
        "{}",
        show.stdout
    );
}

#[test]
fn a_secret_given_as_the_version_is_masked_in_the_record_and_the_front_matter() {
    let mut test = Test::new()
        .runbook(
            "web",
            r#"[runbook]
name = "web"

[vars]
version = "1.0.0"

[secrets]
env = ["DEPLOY_TOKEN"]

[[steps]]
id = "build"
run = "true {{ version }}"
"#,
        )
        .env("DEPLOY_TOKEN", SECRET)
        .args(&[
            "run",
            "runbooks/web.toml",
            "--var",
            &format!("version={SECRET}"),
        ]);
    test.run().success();
    let record = test.shipbook(&["show", "last", "--json"]).success();
    assert!(!record.stdout.contains(SECRET), "{}", record.stdout);
    assert_eq!(record.json()["version"], "[masked:DEPLOY_TOKEN]");
    let note = test.shipbook(&["note", "last"]).success().stdout;
    assert!(!note.contains(SECRET), "{note}");
}
